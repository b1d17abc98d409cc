/**
 * Reading the Eclipse Paho MQTT-SN gateway's configuration files (gateway.conf,
 * predefinedTopic.conf, clients.conf) and mapping them to a fieldmq {@link GatewayConfig}.
 *
 * Everything here is pure: functions take the file text and the file's name (for messages) and
 * return values or throw {@link ConfigError}. Reading files and resolving the paths that
 * gateway.conf refers to is `load.ts`'s job.
 *
 * Format, as Paho reads it (MQTTSNGWProcess.cpp `getParam`, MQTTSNGateway.cpp `initialize`,
 * MQTTSNGWClientList.cpp `createList` / `readPredefinedList`):
 * - gateway.conf: one `Key=Value` per line; lines starting with `#` are comments; the value is
 *   everything after the first `=`, trimmed. No quoting, no inline comments (a `#` inside a
 *   password is part of it). Booleans are `YES`/`NO` compared case-insensitively.
 * - predefinedTopic.conf: `ClientId,TopicName,TopicId`; `*` as ClientId means every client.
 * - clients.conf: `ClientId,Address[,flag...]` with flags `forwarder`, `QoS-1`, `unstableLine`,
 *   `secureConnection`.
 * Where fieldmq is stricter than Paho (Paho silently takes `atoi` of garbage, ignores unknown keys
 * and flags) it says so with a ConfigError that names the file, line and key.
 */
import { ConfigError, makeWarning, quote, unknownKeyDetail, type ConfigWarning } from './errors';
import {
  BAUD_RATES,
  CLIENT_FLAGS,
  DEFAULT_UDP,
  DEFAULT_UDP6,
  checkClientAddress,
  checkTopicDuplicates,
  defaultConfig,
  isIPv4,
  isIPv6,
  makeBroker,
  type ClientEntry,
  type ClientFlag,
  type GatewayConfig,
  type PredefinedTopic,
  type TlsConfig,
} from './schema';

/** One `Key=Value` line of gateway.conf. */
export interface PahoEntry {
  value: string;
  /** 1-based line number. */
  line: number;
}

/** A parsed gateway.conf: recognised keys only, first occurrence wins (as in Paho). */
export interface PahoGatewayConf {
  file: string;
  entries: Map<string, PahoEntry>;
  warnings: ConfigWarning[];
}

type Kind = 'int' | 'bool' | 'string' | 'path';

/** Keys fieldmq reads, with the kind of value. Aliases map to their canonical key. */
const SUPPORTED: Record<string, Kind> = {
  GatewayID: 'int',
  GatewayName: 'string',
  MaxNumberOfClients: 'int',
  KeepAlive: 'int',
  LoginID: 'string',
  Password: 'string',
  BrokerName: 'string',
  BrokerPortNo: 'int',
  BrokerSecurePortNo: 'int',
  RootCAfile: 'path',
  RootCApath: 'path',
  CertKey: 'path',
  PrivateKey: 'path',
  MQTTVersion: 'int',
  AggregatingGateway: 'bool',
  'QoS-1': 'bool',
  Forwarder: 'bool',
  PredefinedTopic: 'bool',
  PredefinedTopicList: 'path',
  ClientAuthentication: 'bool',
  ClientsList: 'path',
  GatewayPortNo: 'int',
  MulticastIP: 'string',
  MulticastPortNo: 'int',
  MulticastTTL: 'int',
  GatewayIPv6PortNo: 'int',
  MulticastIPv6: 'string',
  MulticastIPv6PortNo: 'int',
  MulticastIPv6If: 'string',
  MulticastHops: 'int',
  SerialDevice: 'path',
  Baudrate: 'int',
  ApiMode: 'int',
};

/** Spellings used by older Paho releases or READMEs, read as the canonical key (with a warning). */
const ALIASES: Record<string, string> = {
  AggregateGateway: 'AggregatingGateway',
  CertsKey: 'CertKey',
  CertsFile: 'CertKey',
  TLSCertificate: 'CertKey',
  ClientAuthorization: 'ClientAuthentication',
  GatewayUDP6Port: 'GatewayIPv6PortNo',
  GatewayUDP6Broadcast: 'MulticastIPv6',
  GatewayUDP6If: 'MulticastIPv6If',
  GatewayUDP6Hops: 'MulticastHops',
};

/** Paho keys fieldmq knows but does not use: a warning, not an error. */
const UNSUPPORTED: Record<string, string> = {
  ShearedMemory: "Paho's shared-memory log monitor; fieldmq logs to stderr (see logLevel), and serves counters over $SYS and Prometheus",
  MaxInflightMsgs: 'fieldmq sizes its queues from maxClients and maxBufferedPerSleeper',
  DtlsCertsKey: 'DTLS sensor links are not supported',
  DtlsPrivKey: 'DTLS sensor links are not supported',
  BaudrateLoRaLink: 'LoRaLink sensor links are not supported',
  DeviceRxLoRaLink: 'LoRaLink sensor links are not supported',
  DeviceTxLoRaLink: 'LoRaLink sensor links are not supported',
  RFCOMMAddress: 'Bluetooth RFCOMM sensor links are not supported',
  GatewayUDP6Bind: 'fieldmq binds UDP6 to all addresses',
  'QoS-1ProxyName': 'fieldmq needs no QoS-1 proxy client',
  'OoS-1ProxyName': 'fieldmq needs no QoS-1 proxy client',
  ForwardersList: 'forwarders are the clients flagged "forwarder" in clients.conf',
  SecureConnection: 'TLS is chosen by RootCAfile/RootCApath/CertKey/PrivateKey',
};

const ALL_KEYS = [...Object.keys(SUPPORTED), ...Object.keys(ALIASES), ...Object.keys(UNSUPPORTED)];

/**
 * Parse the text of a Paho gateway.conf.
 * @throws ConfigError for a line that is not `Key=Value` or an unknown key.
 */
export function parsePahoGatewayConf(text: string, file: string): PahoGatewayConf {
  const entries = new Map<string, PahoEntry>();
  const warnings: ConfigWarning[] = [];
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const lineNo = i + 1;
    const raw = lines[i]!.trim();
    if (raw === '' || raw.startsWith('#')) continue;
    const eq = raw.indexOf('=');
    if (eq <= 0) {
      throw new ConfigError(file, lineNo, eq === 0 ? '(empty key)' : raw, 'expected Key=Value');
    }
    const written = raw.slice(0, eq).trim();
    let value = raw.slice(eq + 1).trim();
    let key = written;
    if (ALIASES[written] !== undefined) {
      key = ALIASES[written]!;
      warnings.push(makeWarning(file, lineNo, written, `read as ${key}`));
    } else if (UNSUPPORTED[written] !== undefined) {
      warnings.push(makeWarning(file, lineNo, written, `ignored: ${UNSUPPORTED[written]}`));
      continue;
    } else if (SUPPORTED[written] === undefined) {
      throw new ConfigError(file, lineNo, written, unknownKeyDetail(written, ALL_KEYS));
    }
    const kind = SUPPORTED[key]!;
    if ((kind === 'int' || kind === 'bool') && value.endsWith(';')) {
      // Paho's own README writes `MaxNumberOfClients=30;`; atoi() ignores the ';'.
      value = value.slice(0, -1).trim();
      warnings.push(makeWarning(file, lineNo, written, 'trailing ";" ignored'));
    }
    if ((kind === 'string' || kind === 'path') && value.length >= 2 && /^(".*"|'.*')$/.test(value)) {
      warnings.push(makeWarning(file, lineNo, written, 'quotes are part of the value (Paho does not strip them)'));
    }
    if (entries.has(key)) {
      const first = entries.get(key)!;
      warnings.push(makeWarning(file, lineNo, written, `duplicate; the value on line ${first.line} is used (as in Paho)`));
      continue;
    }
    entries.set(key, { value, line: lineNo });
  }
  return { file, entries, warnings };
}

/**
 * Parse predefinedTopic.conf: `ClientId,TopicName,TopicId` per line, `*` = every client.
 * @throws ConfigError naming the line and the column (ClientId, TopicName, TopicId).
 */
export function parsePredefinedTopics(text: string, file: string): PredefinedTopic[] {
  const out: PredefinedTopic[] = [];
  const lineOf: number[] = [];
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const lineNo = i + 1;
    const raw = lines[i]!.trim();
    if (raw === '' || raw.startsWith('#')) continue;
    const f = raw.split(',').map((s) => s.trim());
    if (f.length !== 3) {
      throw new ConfigError(file, lineNo, '', `expected ClientId,TopicName,TopicId, got ${f.length} field${f.length === 1 ? '' : 's'}`);
    }
    const [clientId, topic, idText] = f as [string, string, string];
    if (clientId === '') throw new ConfigError(file, lineNo, 'ClientId', 'is empty (use * for every client)');
    if (topic === '') throw new ConfigError(file, lineNo, 'TopicName', 'is empty');
    const id = /^\d+$/.test(idText) ? Number(idText) : NaN;
    if (!(id >= 1 && id <= 0xfffe)) {
      throw new ConfigError(file, lineNo, 'TopicId', `expected a topic id 1..65534 (0 and 65535 are reserved), got ${quote(idText)}`);
    }
    out.push({ clientId, topic, id });
    lineOf.push(lineNo);
  }
  checkTopicDuplicates(out, (index, detail) => {
    throw new ConfigError(file, lineOf[index]!, 'TopicId', detail);
  });
  return out;
}

/**
 * Parse clients.conf: `ClientId,Address[,flag...]`.
 * @throws ConfigError for a bad address, an unknown flag or a duplicate ClientId.
 */
export function parseClientsConf(text: string, file: string): ClientEntry[] {
  const out: ClientEntry[] = [];
  const seen = new Map<string, number>();
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const lineNo = i + 1;
    const raw = lines[i]!.trim();
    if (raw === '' || raw.startsWith('#')) continue;
    const f = raw.split(',').map((s) => s.trim());
    if (f.length < 2) throw new ConfigError(file, lineNo, '', 'expected ClientId,Address[,flags]');
    const clientId = f[0]!;
    const address = f[1]!;
    if (clientId === '') throw new ConfigError(file, lineNo, 'ClientId', 'is empty');
    if (seen.has(clientId)) {
      throw new ConfigError(file, lineNo, 'ClientId', `${quote(clientId)} is already listed on line ${seen.get(clientId)}`);
    }
    const bad = checkClientAddress(address);
    if (bad) throw new ConfigError(file, lineNo, 'Address', bad);
    const flags: ClientFlag[] = [];
    for (const flag of f.slice(2)) {
      if (flag === '') continue;
      if (!CLIENT_FLAGS.includes(flag as ClientFlag)) {
        throw new ConfigError(file, lineNo, flag, unknownKeyDetail(flag, CLIENT_FLAGS, 'unknown flag'));
      }
      if (!flags.includes(flag as ClientFlag)) flags.push(flag as ClientFlag);
    }
    seen.set(clientId, lineNo);
    out.push({ clientId, address, flags });
  }
  return out;
}

/** Which sensor networks to enable from a Paho file (Paho picks one per build; default build is UDP). */
export type PahoSensorNetwork = 'udp' | 'udp6' | 'xbee';

/** A file gateway.conf refers to, as written, with the line (0 = Paho's default name). */
export interface PahoFileRef {
  path: string;
  line: number;
  /** true: a missing file is an error; false: read it if it exists. */
  required: boolean;
}

/**
 * Files gateway.conf asks to read, following Paho: the predefined-topic list only when
 * `PredefinedTopic=YES` (default name `predefinedTopic.conf`), the client list when
 * `ClientAuthentication=YES` (required; default name `clients.conf`) or, optionally, when
 * AggregatingGateway, Forwarder or QoS-1 is YES (those read client flags).
 * Paths are returned as written; the loader resolves them relative to gateway.conf.
 */
export function pahoReferencedFiles(conf: PahoGatewayConf): { clientsList: PahoFileRef | null; predefinedTopicList: PahoFileRef | null } {
  const r = new Reader(conf);
  let predefinedTopicList: PahoFileRef | null = null;
  if (r.bool('PredefinedTopic') === true) {
    const e = conf.entries.get('PredefinedTopicList');
    predefinedTopicList = e ? { path: r.str('PredefinedTopicList')!, line: e.line, required: true } : { path: 'predefinedTopic.conf', line: 0, required: true };
  }
  let clientsList: PahoFileRef | null = null;
  const auth = r.bool('ClientAuthentication') === true;
  if (auth || r.bool('AggregatingGateway') === true || r.bool('Forwarder') === true || r.bool('QoS-1') === true) {
    const e = conf.entries.get('ClientsList');
    clientsList = e ? { path: r.str('ClientsList')!, line: e.line, required: auth } : { path: 'clients.conf', line: 0, required: auth };
  }
  return { clientsList, predefinedTopicList };
}

export interface PahoToConfigOptions {
  /** Predefined topics read from PredefinedTopicList. */
  predefinedTopics?: PredefinedTopic[];
  /** Clients read from ClientsList. */
  clients?: ClientEntry[];
  /** Sensor networks to enable. Default `['udp']`, like Paho's default build. */
  sensorNetworks?: readonly PahoSensorNetwork[];
}

/**
 * Map a parsed gateway.conf (plus the lists it refers to) to a {@link GatewayConfig}.
 * Keys left out take fieldmq's defaults, except the Paho booleans, which default to NO as in Paho.
 * @returns the config and the warnings (from parsing and from the mapping)
 * @throws ConfigError with the line and key of a bad value
 */
export function pahoToConfig(conf: PahoGatewayConf, options: PahoToConfigOptions = {}): { config: GatewayConfig; warnings: ConfigWarning[] } {
  const r = new Reader(conf);
  const warnings = [...conf.warnings];
  const nets = options.sensorNetworks ?? ['udp'];
  const cfg = defaultConfig();

  cfg.gatewayId = r.int('GatewayID', 1, 255, 'a gateway id') ?? cfg.gatewayId;
  cfg.gatewayName = r.str('GatewayName') ?? cfg.gatewayName;
  cfg.maxClients = r.int('MaxNumberOfClients', 1, 65535) ?? cfg.maxClients;
  cfg.mode = r.bool('AggregatingGateway') === true ? 'aggregating' : 'transparent';
  cfg.qosMinus1 = r.bool('QoS-1') ?? false;
  cfg.forwarder = r.bool('Forwarder') ?? false;
  cfg.authentication = r.bool('ClientAuthentication') ?? false;
  r.bool('PredefinedTopic');

  // Broker link.
  const keepAlive = r.int('KeepAlive', 0, 65535, 'seconds');
  const port = r.int('BrokerPortNo', 1, 65535, 'a port number');
  const securePort = r.int('BrokerSecurePortNo', 1, 65535, 'a port number');
  const version = r.int('MQTTVersion', 3, 5, 'an MQTT protocol level');
  const host = r.str('BrokerName');
  const tlsFiles: TlsConfig = { ca: r.str('RootCAfile'), caPath: r.str('RootCApath'), cert: r.str('CertKey'), key: r.str('PrivateKey') };
  const hasTls = tlsFiles.ca !== null || tlsFiles.caPath !== null || tlsFiles.cert !== null || tlsFiles.key !== null;
  if ((tlsFiles.cert === null) !== (tlsFiles.key === null)) {
    const present = conf.entries.get(tlsFiles.cert === null ? 'PrivateKey' : 'CertKey')!;
    throw new ConfigError(conf.file, present.line, tlsFiles.cert === null ? 'PrivateKey' : 'CertKey', 'CertKey and PrivateKey must be given together');
  }
  if (host === null) {
    for (const k of ['BrokerPortNo', 'BrokerSecurePortNo', 'LoginID', 'Password', 'RootCAfile', 'RootCApath', 'CertKey', 'PrivateKey']) {
      const e = conf.entries.get(k);
      if (e) warnings.push(makeWarning(conf.file, e.line, k, 'ignored: no BrokerName, so the embedded broker is used'));
    }
  } else {
    let protocolVersion: 4 | 5 = 4;
    if (version === 5) protocolVersion = 5;
    else if (version === 3) {
      warnings.push(makeWarning(conf.file, conf.entries.get('MQTTVersion')!.line, 'MQTTVersion', 'MQTT 3.1 is not supported; using 3.1.1 (4)'));
    }
    if (hasTls && port !== null) {
      warnings.push(
        makeWarning(conf.file, conf.entries.get('BrokerPortNo')!.line, 'BrokerPortNo',
          `ignored: fieldmq keeps one broker link and uses TLS on BrokerSecurePortNo (${securePort ?? 8883}) because TLS files are set`),
      );
    }
    cfg.broker = makeBroker({
      host,
      port: hasTls ? securePort ?? 8883 : port ?? 1883,
      tls: hasTls ? tlsFiles : null,
      username: r.str('LoginID'),
      password: r.str('Password'),
      protocolVersion,
      keepAlive: keepAlive ?? 60,
    });
  }

  // Sensor networks. Every value is validated; only the selected networks are enabled.
  const udp = {
    port: r.int('GatewayPortNo', 1, 65535, 'a port number') ?? DEFAULT_UDP.port,
    multicastIp: r.ip('MulticastIP', 4) ?? DEFAULT_UDP.multicastIp,
    multicastPort: r.int('MulticastPortNo', 1, 65535, 'a port number') ?? DEFAULT_UDP.multicastPort,
    multicastTtl: r.int('MulticastTTL', 1, 255) ?? DEFAULT_UDP.multicastTtl,
  };
  const udp6 = {
    port: r.int('GatewayIPv6PortNo', 1, 65535, 'a port number') ?? DEFAULT_UDP6.port,
    multicastIp: r.ip('MulticastIPv6', 6) ?? DEFAULT_UDP6.multicastIp,
    multicastPort: r.int('MulticastIPv6PortNo', 1, 65535, 'a port number') ?? DEFAULT_UDP6.multicastPort,
    interface: r.str('MulticastIPv6If'),
    multicastHops: r.int('MulticastHops', 1, 255) ?? DEFAULT_UDP6.multicastHops,
  };
  const serialPath = r.str('SerialDevice');
  const baud = r.baud('Baudrate');
  const apiMode = r.int('ApiMode', 1, 2, 'an XBee API mode');
  cfg.udp = nets.includes('udp') ? udp : null;
  cfg.udp6 = nets.includes('udp6') ? udp6 : null;
  if (nets.includes('xbee')) {
    if (serialPath === null) throw new ConfigError(conf.file, 0, 'SerialDevice', 'is required for the XBee sensor network');
    cfg.xbee = { path: serialPath, baud: baud ?? 9600, apiMode: (apiMode ?? 2) as 1 | 2 };
  }

  cfg.predefinedTopics = options.predefinedTopics ? [...options.predefinedTopics] : [];
  cfg.clients = options.clients ? [...options.clients] : [];
  return { config: cfg, warnings };
}

/** Typed access to gateway.conf values, throwing ConfigErrors that point at the line. */
class Reader {
  constructor(readonly conf: PahoGatewayConf) {}

  private fail(key: string, detail: string): never {
    throw new ConfigError(this.conf.file, this.conf.entries.get(key)?.line ?? 0, key, detail);
  }

  /** A string value; empty (`LoginID=`) counts as not set. */
  str(key: string): string | null {
    const e = this.conf.entries.get(key);
    return e && e.value !== '' ? e.value : null;
  }

  int(key: string, min: number, max: number, what = 'an integer'): number | null {
    const e = this.conf.entries.get(key);
    if (!e) return null;
    const n = /^\d+$/.test(e.value) ? Number(e.value) : NaN;
    if (!(n >= min && n <= max)) this.fail(key, `expected ${what} ${min}..${max}, got ${quote(e.value)}`);
    return n;
  }

  bool(key: string): boolean | null {
    const e = this.conf.entries.get(key);
    if (!e) return null;
    const v = e.value.toUpperCase();
    if (v === 'YES') return true;
    if (v === 'NO') return false;
    this.fail(key, `expected YES or NO, got ${quote(e.value)}`);
  }

  ip(key: string, family: 4 | 6): string | null {
    const v = this.str(key);
    if (v !== null && !(family === 4 ? isIPv4(v) : isIPv6(v))) this.fail(key, `expected an IPv${family} address, got ${quote(v)}`);
    return v;
  }

  baud(key: string): number | null {
    const e = this.conf.entries.get(key);
    if (!e) return null;
    const n = /^\d+$/.test(e.value) ? Number(e.value) : NaN;
    if (!BAUD_RATES.includes(n)) this.fail(key, `expected a baud rate (${BAUD_RATES.join(', ')}), got ${quote(e.value)}`);
    return n;
  }
}
