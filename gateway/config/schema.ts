/**
 * The fieldmq gateway configuration: its type, its defaults, and validation of JSON configs.
 *
 * A JSON config is a partial {@link GatewayConfig}: every field may be left out and takes the
 * default documented on it. `validateConfig` rejects unknown keys (naming the key, with a
 * "did you mean" suggestion for near misses) and wrong types or ranges, as {@link ConfigError}s.
 */
import { ConfigError, quote, unknownKeyDetail } from './errors';

/** UDP (IPv4) sensor transport. */
export interface UdpConfig {
  /** Port the gateway listens on for MQTT-SN datagrams. Default 1884 (Paho's GatewayPortNo default is 10000). */
  port: number;
  /** Multicast group for ADVERTISE / SEARCHGW / GWINFO. Default `225.1.1.1` (as Paho). */
  multicastIp: string;
  /** Multicast port. Default 1883 (as Paho's MulticastPortNo). */
  multicastPort: number;
  /** Multicast TTL, 1..255. Default 1. */
  multicastTtl: number;
}

/** UDP over IPv6 sensor transport. Off (null) unless configured. */
export interface Udp6Config {
  /** Listening port. Default 1884. */
  port: number;
  /** Multicast group. Default `ff1e:feed:caca:dead::1` (Paho's sample). */
  multicastIp: string;
  /** Multicast port. Default 1883. */
  multicastPort: number;
  /** Network interface for multicast (e.g. `wlan0`); null = system default. */
  interface: string | null;
  /** Multicast hop limit, 1..255. Default 1. */
  multicastHops: number;
}

/** Raw serial link: bare MQTT-SN packets framed by their own length octet, 8N1. */
export interface SerialConfig {
  /** Device path, e.g. `/dev/ttyUSB0`. Required. */
  path: string;
  /** Baud rate, one of {@link BAUD_RATES}. Default 9600. */
  baud: number;
}

/** XBee (ZigBee) API-mode link. */
export interface XBeeConfig {
  /** Device path, e.g. `/dev/ttyUSB0`. Required. */
  path: string;
  /** Baud rate, one of {@link BAUD_RATES}. Default 9600. */
  baud: number;
  /** XBee API mode: 1 (unescaped) or 2 (escaped). Default 2 (as Paho). */
  apiMode: 1 | 2;
}

/** TLS material for the broker link. Paths are resolved relative to the config file by `loadConfig`. */
export interface TlsConfig {
  /** CA bundle file (Paho RootCAfile). */
  ca: string | null;
  /** Directory of CA certificates (Paho RootCApath). */
  caPath: string | null;
  /** Client certificate (Paho CertKey). */
  cert: string | null;
  /** Client private key (Paho PrivateKey). */
  key: string | null;
}

/** The link to an external MQTT broker. `broker: null` means "use the embedded broker". */
export interface BrokerConfig {
  /** `mqtt://host:port` or `mqtts://host:port`; derived from host/port/tls when not given. */
  url: string;
  /** Broker host name or address. */
  host: string;
  /** Broker port. Default 1883, or 8883 with TLS. */
  port: number;
  /** TLS settings; null = plain TCP. An `mqtts://` url implies TLS. */
  tls: TlsConfig | null;
  /** MQTT user name (Paho LoginID); null = none. */
  username: string | null;
  /** MQTT password; null = none. */
  password: string | null;
  /** MQTT protocol level: 4 (3.1.1) or 5. Default 4. */
  protocolVersion: 4 | 5;
  /** Keep-alive of the broker connection, seconds, 0..65535. Default 60 (as Paho's shipped gateway.conf). */
  keepAlive: number;
}

/** A predefined topic: the id `id` means `topic` for `clientId` (`'*'` = every client). */
export interface PredefinedTopic {
  clientId: string;
  topic: string;
  /** 1..65534; 0x0000 and 0xFFFF are reserved. */
  id: number;
}

/**
 * Per-client flags from clients.conf. `forwarder`, `QoS-1`, `unstableLine` and `secureConnection`
 * are Paho's; `sleep` is a fieldmq extension (the client is expected to use sleep mode).
 */
export type ClientFlag = 'forwarder' | 'QoS-1' | 'unstableLine' | 'secureConnection' | 'sleep';
export const CLIENT_FLAGS: readonly ClientFlag[] = ['forwarder', 'QoS-1', 'unstableLine', 'secureConnection', 'sleep'];

/** A known client (clients.conf line). */
export interface ClientEntry {
  clientId: string;
  /** Sensor-network address: `ip:port`, `[ipv6]:port`, or a 64-bit XBee address (16 hex digits). */
  address: string;
  flags: ClientFlag[];
}

export type LogLevel = 'error' | 'warn' | 'info' | 'debug' | 'trace';
export const LOG_LEVELS: readonly LogLevel[] = ['error', 'warn', 'info', 'debug', 'trace'];

/** Standard serial baud rates accepted for serial and XBee links. */
export const BAUD_RATES: readonly number[] = [
  1200, 2400, 4800, 9600, 19200, 38400, 57600, 115200, 230400, 460800, 921600,
];

export interface GatewayConfig {
  /** GWINFO/ADVERTISE gateway id, 1..255 (one octet on the wire). Default 1. */
  gatewayId: number;
  /** Human-readable name (logs, $SYS, broker client id prefix). Default `fieldmq-gateway`. */
  gatewayName: string;
  /** UDP transport; null = off. Default on, port 1884. */
  udp: UdpConfig | null;
  /** UDP6 transport; null = off (default). */
  udp6: Udp6Config | null;
  /** Raw serial transport; null = off (default). */
  serial: SerialConfig | null;
  /** XBee API transport; null = off (default). */
  xbee: XBeeConfig | null;
  /** External broker; null = embedded broker (default). */
  broker: BrokerConfig | null;
  /** `transparent` (one broker connection per client, default) or `aggregating` (one shared connection). */
  mode: 'transparent' | 'aggregating';
  /** Accept QoS -1 publishes from unconnected clients. Default true (a Paho complaint: it was hard to use). */
  qosMinus1: boolean;
  /** Accept forwarder-encapsulated packets. Default false. */
  forwarder: boolean;
  /** ADVERTISE interval, seconds, 1..65535 (16-bit duration on the wire). Default 900. */
  advertiseInterval: number;
  /** Longest keep-alive (seconds) a sensor client may request, 1..65535; 0 = no limit. Default 0. */
  keepAlive: number;
  /** Most sensor clients at once, 1..65535. Default 30 (Paho's MaxNumberOfClients sample). */
  maxClients: number;
  /** Most registered topics per client, 1..65535. Default 64. */
  maxTopicsPerClient: number;
  /** Most messages buffered for one sleeping client, 0..65535. Default 32. */
  maxBufferedPerSleeper: number;
  /** Predefined topics, global (`clientId: '*'`) and per client. Default none. */
  predefinedTopics: PredefinedTopic[];
  /** Known clients. Default none. */
  clients: ClientEntry[];
  /** Only clients in `clients` may connect. Default false. */
  authentication: boolean;
  /** Log level. Default `info`. */
  logLevel: LogLevel;
  /** Port of the HTTP metrics endpoint; null = off (default). */
  metricsPort: number | null;
  /** Interval of $SYS publications, seconds; 0 = off (default). */
  sysInterval: number;
}

export const DEFAULT_UDP: Readonly<UdpConfig> = { port: 1884, multicastIp: '225.1.1.1', multicastPort: 1883, multicastTtl: 1 };
export const DEFAULT_UDP6: Readonly<Udp6Config> = {
  port: 1884,
  multicastIp: 'ff1e:feed:caca:dead::1',
  multicastPort: 1883,
  interface: null,
  multicastHops: 1,
};

/** A fresh config with every default. */
export function defaultConfig(): GatewayConfig {
  return {
    gatewayId: 1,
    gatewayName: 'fieldmq-gateway',
    udp: { ...DEFAULT_UDP },
    udp6: null,
    serial: null,
    xbee: null,
    broker: null,
    mode: 'transparent',
    qosMinus1: true,
    forwarder: false,
    advertiseInterval: 900,
    keepAlive: 0,
    maxClients: 30,
    maxTopicsPerClient: 64,
    maxBufferedPerSleeper: 32,
    predefinedTopics: [],
    clients: [],
    authentication: false,
    logLevel: 'info',
    metricsPort: null,
    sysInterval: 0,
  };
}

// ---------------------------------------------------------------------------------------------
// Shared value checks (used by the JSON validator and the Paho parser)

/** Topic ids 0x0000 and 0xFFFF are reserved. */
export function isTopicId(n: number): boolean {
  return Number.isInteger(n) && n >= 1 && n <= 0xfffe;
}

const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;
export function isIPv4(s: string): boolean {
  return IPV4.test(s);
}
export function isIPv6(s: string): boolean {
  return /^[0-9a-fA-F:]+$/.test(s) && s.includes(':') && s.split('::').length <= 2;
}

/** Checks a clients.conf address; returns an error detail or null. */
export function checkClientAddress(addr: string): string | null {
  if (/^[0-9a-fA-F]{16}$/.test(addr)) return null; // XBee 64-bit
  const v6 = /^\[([^\]]+)\]:(\d+)$/.exec(addr);
  const v4 = /^([^:]+):(\d+)$/.exec(addr);
  const host = v6 ? v6[1]! : v4 ? v4[1]! : null;
  const port = v6 ? v6[2]! : v4 ? v4[2]! : null;
  if (host === null || port === null || !(v6 ? isIPv6(host) : isIPv4(host))) {
    return `expected ip:port, [ipv6]:port or a 16-hex-digit XBee address, got ${quote(addr)}`;
  }
  const p = Number(port);
  if (p < 1 || p > 65535) return `expected a port number 1..65535, got ${quote(port)}`;
  return null;
}

// ---------------------------------------------------------------------------------------------
// JSON validation

type Obj = Record<string, unknown>;

class Checker {
  constructor(readonly file: string) {}

  fail(key: string, detail: string): never {
    throw new ConfigError(this.file, 0, key, detail);
  }

  object(v: unknown, key: string): Obj {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) this.fail(key, `expected an object, got ${describe(v)}`);
    return v as Obj;
  }

  keys(o: Obj, known: readonly string[], prefix: string): void {
    for (const k of Object.keys(o)) {
      if (!known.includes(k)) this.fail(prefix + k, unknownKeyDetail(k, known));
    }
  }

  int(v: unknown, key: string, min: number, max: number, what = 'an integer'): number {
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
      this.fail(key, `expected ${what} ${min}..${max}, got ${describe(v)}`);
    }
    return v;
  }

  port(v: unknown, key: string): number {
    return this.int(v, key, 1, 65535, 'a port number');
  }

  str(v: unknown, key: string): string {
    if (typeof v !== 'string' || v.length === 0) this.fail(key, `expected a non-empty string, got ${describe(v)}`);
    return v;
  }

  strOrNull(v: unknown, key: string): string | null {
    return v === null ? null : this.str(v, key);
  }

  bool(v: unknown, key: string): boolean {
    if (typeof v !== 'boolean') this.fail(key, `expected true or false, got ${describe(v)}`);
    return v;
  }

  oneOf<T>(v: unknown, key: string, options: readonly T[]): T {
    if (!options.includes(v as T)) {
      this.fail(key, `expected one of ${options.map((o) => JSON.stringify(o)).join(', ')}, got ${describe(v)}`);
    }
    return v as T;
  }

  array(v: unknown, key: string): unknown[] {
    if (!Array.isArray(v)) this.fail(key, `expected an array, got ${describe(v)}`);
    return v;
  }
}

function describe(v: unknown): string {
  if (v === undefined) return 'nothing';
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'object') return 'an object';
  return quote(v);
}

const TOP_KEYS = [
  'gatewayId', 'gatewayName', 'udp', 'udp6', 'serial', 'xbee', 'broker', 'mode', 'qosMinus1', 'forwarder',
  'advertiseInterval', 'keepAlive', 'maxClients', 'maxTopicsPerClient', 'maxBufferedPerSleeper',
  'predefinedTopics', 'clients', 'authentication', 'logLevel', 'metricsPort', 'sysInterval',
] as const;

/**
 * Validate a parsed JSON config and fill in defaults.
 * @param obj  the value from `JSON.parse`
 * @param file the file name used in error messages
 * @returns a complete {@link GatewayConfig}
 * @throws ConfigError (line 0, key = dotted path such as `broker.port` or `clients[2].flags[0]`)
 */
export function validateConfig(obj: unknown, file: string): GatewayConfig {
  const c = new Checker(file);
  const o = c.object(obj, '(root)');
  c.keys(o, TOP_KEYS, '');
  const cfg = defaultConfig();

  if (o.gatewayId !== undefined) cfg.gatewayId = c.int(o.gatewayId, 'gatewayId', 1, 255);
  if (o.gatewayName !== undefined) cfg.gatewayName = c.str(o.gatewayName, 'gatewayName');
  if (o.udp !== undefined) cfg.udp = o.udp === null ? null : udp(c, o.udp);
  if (o.udp6 !== undefined) cfg.udp6 = o.udp6 === null ? null : udp6(c, o.udp6);
  if (o.serial !== undefined && o.serial !== null) {
    const s = c.object(o.serial, 'serial');
    c.keys(s, ['path', 'baud'], 'serial.');
    cfg.serial = { path: c.str(s.path, 'serial.path'), baud: s.baud === undefined ? 9600 : c.oneOf(s.baud, 'serial.baud', BAUD_RATES) };
  }
  if (o.xbee !== undefined && o.xbee !== null) {
    const s = c.object(o.xbee, 'xbee');
    c.keys(s, ['path', 'baud', 'apiMode'], 'xbee.');
    cfg.xbee = {
      path: c.str(s.path, 'xbee.path'),
      baud: s.baud === undefined ? 9600 : c.oneOf(s.baud, 'xbee.baud', BAUD_RATES),
      apiMode: s.apiMode === undefined ? 2 : c.oneOf(s.apiMode, 'xbee.apiMode', [1, 2] as const),
    };
  }
  if (o.broker !== undefined && o.broker !== null) cfg.broker = broker(c, o.broker);
  if (o.mode !== undefined) cfg.mode = c.oneOf(o.mode, 'mode', ['transparent', 'aggregating'] as const);
  if (o.qosMinus1 !== undefined) cfg.qosMinus1 = c.bool(o.qosMinus1, 'qosMinus1');
  if (o.forwarder !== undefined) cfg.forwarder = c.bool(o.forwarder, 'forwarder');
  if (o.advertiseInterval !== undefined) cfg.advertiseInterval = c.int(o.advertiseInterval, 'advertiseInterval', 1, 65535);
  if (o.keepAlive !== undefined) cfg.keepAlive = c.int(o.keepAlive, 'keepAlive', 0, 65535);
  if (o.maxClients !== undefined) cfg.maxClients = c.int(o.maxClients, 'maxClients', 1, 65535);
  if (o.maxTopicsPerClient !== undefined) cfg.maxTopicsPerClient = c.int(o.maxTopicsPerClient, 'maxTopicsPerClient', 1, 65535);
  if (o.maxBufferedPerSleeper !== undefined) {
    cfg.maxBufferedPerSleeper = c.int(o.maxBufferedPerSleeper, 'maxBufferedPerSleeper', 0, 65535);
  }
  if (o.predefinedTopics !== undefined) {
    cfg.predefinedTopics = c.array(o.predefinedTopics, 'predefinedTopics').map((t, i) => {
      const k = `predefinedTopics[${i}]`;
      const e = c.object(t, k);
      c.keys(e, ['clientId', 'topic', 'id'], k + '.');
      return {
        clientId: e.clientId === undefined ? '*' : c.str(e.clientId, k + '.clientId'),
        topic: c.str(e.topic, k + '.topic'),
        id: topicId(c, e.id, k + '.id'),
      };
    });
    checkTopicDuplicates(cfg.predefinedTopics, (i, d) => c.fail(`predefinedTopics[${i}]`, d));
  }
  if (o.clients !== undefined) {
    cfg.clients = c.array(o.clients, 'clients').map((t, i) => {
      const k = `clients[${i}]`;
      const e = c.object(t, k);
      c.keys(e, ['clientId', 'address', 'flags'], k + '.');
      const address = c.str(e.address, k + '.address');
      const bad = checkClientAddress(address);
      if (bad) c.fail(k + '.address', bad);
      const flags = e.flags === undefined ? [] : c.array(e.flags, k + '.flags');
      return {
        clientId: c.str(e.clientId, k + '.clientId'),
        address,
        flags: flags.map((f, j) => {
          if (typeof f === 'string' && !CLIENT_FLAGS.includes(f as ClientFlag)) {
            c.fail(`${k}.flags[${j}]`, unknownKeyDetail(f, CLIENT_FLAGS, `unknown flag ${quote(f)}`));
          }
          return c.oneOf(f, `${k}.flags[${j}]`, CLIENT_FLAGS);
        }),
      };
    });
  }
  if (o.authentication !== undefined) cfg.authentication = c.bool(o.authentication, 'authentication');
  if (o.logLevel !== undefined) cfg.logLevel = c.oneOf(o.logLevel, 'logLevel', LOG_LEVELS);
  if (o.metricsPort !== undefined) cfg.metricsPort = o.metricsPort === null ? null : c.port(o.metricsPort, 'metricsPort');
  if (o.sysInterval !== undefined) cfg.sysInterval = c.int(o.sysInterval, 'sysInterval', 0, 86400);
  return cfg;
}

/** Same client with the same id for two topics, or the same topic under two ids, is an error. */
export function checkTopicDuplicates(list: readonly PredefinedTopic[], fail: (index: number, detail: string) => never): void {
  const byId = new Map<string, string>();
  const byTopic = new Map<string, number>();
  list.forEach((t, i) => {
    const idKey = `${t.clientId}\u0000${t.id}`;
    const prevTopic = byId.get(idKey);
    if (prevTopic !== undefined && prevTopic !== t.topic) {
      fail(i, `topic id ${t.id} is already ${quote(prevTopic)} for client ${quote(t.clientId)}`);
    }
    const topicKey = `${t.clientId}\u0000${t.topic}`;
    const prevId = byTopic.get(topicKey);
    if (prevId !== undefined && prevId !== t.id) {
      fail(i, `topic ${quote(t.topic)} already has id ${prevId} for client ${quote(t.clientId)}`);
    }
    byId.set(idKey, t.topic);
    byTopic.set(topicKey, t.id);
  });
}

function topicId(c: Checker, v: unknown, key: string): number {
  if (typeof v !== 'number' || !isTopicId(v)) {
    c.fail(key, `expected a topic id 1..65534 (0 and 65535 are reserved), got ${describe(v)}`);
  }
  return v;
}

function udp(c: Checker, v: unknown): UdpConfig {
  const o = c.object(v, 'udp');
  c.keys(o, ['port', 'multicastIp', 'multicastPort', 'multicastTtl'], 'udp.');
  const r: UdpConfig = { ...DEFAULT_UDP };
  if (o.port !== undefined) r.port = c.port(o.port, 'udp.port');
  if (o.multicastIp !== undefined) {
    r.multicastIp = c.str(o.multicastIp, 'udp.multicastIp');
    if (!isIPv4(r.multicastIp)) c.fail('udp.multicastIp', `expected an IPv4 address, got ${quote(r.multicastIp)}`);
  }
  if (o.multicastPort !== undefined) r.multicastPort = c.port(o.multicastPort, 'udp.multicastPort');
  if (o.multicastTtl !== undefined) r.multicastTtl = c.int(o.multicastTtl, 'udp.multicastTtl', 1, 255);
  return r;
}

function udp6(c: Checker, v: unknown): Udp6Config {
  const o = c.object(v, 'udp6');
  c.keys(o, ['port', 'multicastIp', 'multicastPort', 'interface', 'multicastHops'], 'udp6.');
  const r: Udp6Config = { ...DEFAULT_UDP6 };
  if (o.port !== undefined) r.port = c.port(o.port, 'udp6.port');
  if (o.multicastIp !== undefined) {
    r.multicastIp = c.str(o.multicastIp, 'udp6.multicastIp');
    if (!isIPv6(r.multicastIp)) c.fail('udp6.multicastIp', `expected an IPv6 address, got ${quote(r.multicastIp)}`);
  }
  if (o.multicastPort !== undefined) r.multicastPort = c.port(o.multicastPort, 'udp6.multicastPort');
  if (o.interface !== undefined) r.interface = c.strOrNull(o.interface, 'udp6.interface');
  if (o.multicastHops !== undefined) r.multicastHops = c.int(o.multicastHops, 'udp6.multicastHops', 1, 255);
  return r;
}

const BROKER_KEYS = ['url', 'host', 'port', 'tls', 'username', 'password', 'protocolVersion', 'keepAlive'] as const;

function broker(c: Checker, v: unknown): BrokerConfig {
  const o = c.object(v, 'broker');
  c.keys(o, BROKER_KEYS, 'broker.');
  let host: string | undefined;
  let port: number | undefined;
  let secure = false;
  if (o.url !== undefined) {
    const url = c.str(o.url, 'broker.url');
    const m = /^(mqtts?):\/\/(\[[^\]]+\]|[^:/]+)(?::(\d+))?\/?$/.exec(url);
    if (!m) c.fail('broker.url', `expected mqtt://host[:port] or mqtts://host[:port], got ${quote(url)}`);
    secure = m[1] === 'mqtts';
    host = m[2]!;
    if (m[3] !== undefined) port = c.port(Number(m[3]), 'broker.url');
  }
  if (o.host !== undefined) {
    const h = c.str(o.host, 'broker.host');
    if (host !== undefined && h !== host) c.fail('broker.host', `conflicts with broker.url host ${quote(host)}`);
    host = h;
  }
  if (o.port !== undefined) {
    const p = c.port(o.port, 'broker.port');
    if (port !== undefined && p !== port) c.fail('broker.port', `conflicts with broker.url port ${port}`);
    port = p;
  }
  if (host === undefined) c.fail('broker', 'needs "url" or "host" (leave "broker" out to use the embedded broker)');
  let tls: TlsConfig | null = null;
  if (o.tls !== undefined && o.tls !== null && o.tls !== false) {
    tls = { ca: null, caPath: null, cert: null, key: null };
    if (o.tls !== true) {
      const t = c.object(o.tls, 'broker.tls');
      c.keys(t, ['ca', 'caPath', 'cert', 'key'], 'broker.tls.');
      if (t.ca !== undefined) tls.ca = c.strOrNull(t.ca, 'broker.tls.ca');
      if (t.caPath !== undefined) tls.caPath = c.strOrNull(t.caPath, 'broker.tls.caPath');
      if (t.cert !== undefined) tls.cert = c.strOrNull(t.cert, 'broker.tls.cert');
      if (t.key !== undefined) tls.key = c.strOrNull(t.key, 'broker.tls.key');
      if ((tls.cert === null) !== (tls.key === null)) c.fail('broker.tls', 'cert and key must be given together');
    }
  } else if (o.tls === false && secure) {
    c.fail('broker.tls', 'is false but broker.url is mqtts://');
  }
  if (secure && tls === null) tls = { ca: null, caPath: null, cert: null, key: null };
  return makeBroker({
    host,
    port,
    tls,
    username: o.username === undefined ? null : c.strOrNull(o.username, 'broker.username'),
    password: o.password === undefined ? null : c.strOrNull(o.password, 'broker.password'),
    protocolVersion: o.protocolVersion === undefined ? 4 : c.oneOf(o.protocolVersion, 'broker.protocolVersion', [4, 5] as const),
    keepAlive: o.keepAlive === undefined ? 60 : c.int(o.keepAlive, 'broker.keepAlive', 0, 65535),
  });
}

/** Build a BrokerConfig, deriving `url` and the default port from host/tls. */
export function makeBroker(b: Omit<BrokerConfig, 'url' | 'port'> & { port?: number | undefined }): BrokerConfig {
  const port = b.port ?? (b.tls ? 8883 : 1883);
  const host = b.host.includes(':') && !b.host.startsWith('[') ? `[${b.host}]` : b.host;
  return { ...b, port, url: `${b.tls ? 'mqtts' : 'mqtt'}://${host}:${port}` };
}
