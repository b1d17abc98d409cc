/**
 * From parsed arguments to what `startGateway` needs: load the `--config` file (or take the
 * defaults), then apply every command-line option over it, checking each value with the option's
 * name in the message. No I/O besides reading the config file and checking that TLS files exist.
 *
 * Without `--config`, UDP over IPv6 is on (port 1884) but optional: `main.ts` skips it with a
 * warning on a machine without IPv6. With a config file, the file says whether it is on.
 */
import { accessSync, constants } from 'node:fs';
import { resolve as resolvePath } from 'node:path';
import { ConfigError } from '../config/errors';
import { loadConfig, type LoadedConfig, type LoadOptions } from '../config/load';
import type { PahoSensorNetwork } from '../config/paho';
import {
  BAUD_RATES,
  DEFAULT_UDP,
  DEFAULT_UDP6,
  LOG_LEVELS,
  defaultConfig,
  makeBroker,
  validateConfig,
  type BrokerConfig,
  type GatewayConfig,
  type LogLevel,
} from '../config/schema';
import { UsageError } from './errors';
import { PASSWORD_ENV } from './options';
import type { ParsedArgs } from './parse';

/** The settings of `startGateway` that the command line decides besides the config. */
export interface CliStartSettings {
  /** `--embedded-port`; default 1883. */
  embeddedPort?: number;
  /** `--embedded-host`; default every interface. */
  embeddedHost?: string;
  /** `--metrics-host`; default 0.0.0.0. */
  metricsHost?: string;
  /** `--sys-prefix`; default `$SYS/fieldmq`. */
  sysPrefix?: string;
  /** True when UDP over IPv6 is on by default only (no config file, no `--udp6-port`). */
  udp6Optional: boolean;
}

/** Everything a run needs, resolved from the command line. */
export interface CliRun {
  /** The effective configuration (file + options). */
  config: GatewayConfig;
  /** Settings for `startGateway` outside the config. */
  start: CliStartSettings;
  /** `--log-format`. */
  logFormat: 'text' | 'json';
  /** Config-file warnings and command-line remarks, one message each. */
  warnings: string[];
  /** The `--config` file, or null. */
  configFile: string | null;
}

/** Reads a config file; `loadConfig` by default, replaceable in tests. */
export type ConfigLoader = (path: string, options: LoadOptions) => LoadedConfig;

const NETWORKS: readonly PahoSensorNetwork[] = ['udp', 'udp6', 'xbee'];

/** A value of an option, converted and checked; every failure is a {@link UsageError} naming the option. */
class Values {
  constructor(readonly args: ParsedArgs) {}

  has(name: string): boolean {
    return this.args.has(name);
  }

  str(name: string): string | undefined {
    const v = this.args.get(name);
    if (v === undefined || v === true) return undefined;
    if (v === '') throw new UsageError(`--${name}`, 'needs a non-empty value');
    return v;
  }

  int(name: string, min: number, max: number, what = 'an integer'): number | undefined {
    const v = this.str(name);
    if (v === undefined) return undefined;
    const n = /^-?\d+$/.test(v) ? Number(v) : NaN;
    if (!(n >= min && n <= max)) throw new UsageError(`--${name}`, `expected ${what} ${min}..${max}, got ${JSON.stringify(v)}`);
    return n;
  }

  port(name: string): number | undefined {
    return this.int(name, 0, 65535, 'a port number');
  }

  oneOf<T extends string>(name: string, options: readonly T[]): T | undefined {
    const v = this.str(name);
    if (v === undefined) return undefined;
    if (!options.includes(v as T)) throw new UsageError(`--${name}`, `expected one of ${options.join(', ')}, got ${JSON.stringify(v)}`);
    return v as T;
  }

  /** A file that must be readable; returned as an absolute path. */
  file(name: string): string | undefined {
    const v = this.str(name);
    if (v === undefined) return undefined;
    const abs = resolvePath(v);
    try {
      accessSync(abs, constants.R_OK);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      throw new UsageError(`--${name}`, `cannot read ${abs}: ${code === 'ENOENT' ? 'file not found' : code === 'EACCES' ? 'permission denied' : code}`);
    }
    return abs;
  }
}

/**
 * Builds the run from the arguments.
 * @param env - the environment (for {@link PASSWORD_ENV}).
 * @param load - reads `--config`; default {@link loadConfig}.
 * @throws {@link UsageError} for a bad option value or conflicting options;
 *   {@link ConfigError} for a bad config file (its message is `file:line: key: detail`).
 */
export function resolveRun(args: ParsedArgs, env: Record<string, string | undefined>, load: ConfigLoader = loadConfig): CliRun {
  const v = new Values(args);
  const warnings: string[] = [];

  // 1. The base: the file, or the defaults (IPv6 on, but optional).
  const configFile = v.str('config') ?? null;
  const networks = parseNetworks(v.str('sensor-networks'));
  let config: GatewayConfig;
  let udp6Optional = false;
  if (configFile !== null) {
    const loaded = load(configFile, networks ? { sensorNetworks: networks } : {});
    config = loaded.config;
    for (const w of loaded.warnings) warnings.push(w.message);
    if (networks && configFile.toLowerCase().endsWith('.json')) {
      warnings.push('--sensor-networks: ignored: it selects the networks of a Paho gateway.conf; a JSON config names its own');
    }
  } else {
    if (networks) throw new UsageError('--sensor-networks', 'only applies to a Paho gateway.conf given with --config');
    config = defaultConfig();
    config.udp6 = { ...DEFAULT_UDP6 };
    udp6Optional = true;
  }

  // 2. General.
  const id = v.int('gateway-id', 1, 255, 'a gateway id');
  if (id !== undefined) config.gatewayId = id;
  const name = v.str('gateway-name');
  if (name !== undefined) config.gatewayName = name;
  const mode = v.oneOf('mode', ['transparent', 'aggregating'] as const);
  if (mode !== undefined) config.mode = mode;

  // 3. Broker.
  config.broker = resolveBroker(v, config.broker, env, warnings);
  const start: CliStartSettings = { udp6Optional };
  if (v.has('embedded-port') || v.has('embedded-host')) {
    if (config.broker !== null) {
      const opt = v.has('embedded-port') ? '--embedded-port' : '--embedded-host';
      throw new UsageError(opt, `there is no embedded broker: the ${v.has('broker') ? '--broker option' : 'config file'} names the broker ${config.broker.url}`);
    }
    const port = v.port('embedded-port');
    if (port !== undefined) start.embeddedPort = port;
    const host = v.str('embedded-host');
    if (host !== undefined) start.embeddedHost = host;
  }

  // 4. Sensor networks.
  resolveSensorNetworks(v, config, start);

  // 5. Observability.
  const metricsPort = v.port('metrics-port');
  if (metricsPort !== undefined) config.metricsPort = metricsPort;
  const metricsHost = v.str('metrics-host');
  if (metricsHost !== undefined) {
    if (config.metricsPort === null) throw new UsageError('--metrics-host', 'needs --metrics-port (or metricsPort in the config file)');
    start.metricsHost = metricsHost;
  }
  const sysInterval = v.int('sys-interval', 0, 86400, 'seconds');
  if (sysInterval !== undefined) config.sysInterval = sysInterval;
  const sysPrefix = v.str('sys-prefix');
  if (sysPrefix !== undefined) {
    const p = sysPrefix.replace(/\/+$/, '');
    if (p === '' || /[+#\u0000]/.test(p) || p.startsWith('/')) {
      throw new UsageError('--sys-prefix', `expected topic levels without wildcards, e.g. fieldmq/sys, got ${JSON.stringify(sysPrefix)}`);
    }
    start.sysPrefix = p;
  }
  const level = v.oneOf<LogLevel>('log-level', LOG_LEVELS);
  if (level !== undefined) config.logLevel = level;
  const logFormat = v.oneOf('log-format', ['text', 'json'] as const) ?? 'text';

  return { config, start, logFormat, warnings, configFile };
}

function parseNetworks(value: string | undefined): PahoSensorNetwork[] | undefined {
  if (value === undefined) return undefined;
  const list = value.split(',').map((s) => s.trim().toLowerCase()).filter((s) => s !== '');
  for (const n of list) {
    if (!NETWORKS.includes(n as PahoSensorNetwork)) {
      throw new UsageError('--sensor-networks', `unknown network ${JSON.stringify(n)} (expected a comma-separated list of ${NETWORKS.join(', ')})`);
    }
  }
  if (list.length === 0) throw new UsageError('--sensor-networks', `expected a comma-separated list of ${NETWORKS.join(', ')}`);
  return list as PahoSensorNetwork[];
}

/** `--broker`, credentials, TLS files and `--mqtt-version` over the file's broker (null = embedded). */
function resolveBroker(v: Values, base: BrokerConfig | null, env: Record<string, string | undefined>, warnings: string[]): BrokerConfig | null {
  let broker = base;
  const url = v.str('broker');
  if (url !== undefined) {
    let parsed: BrokerConfig;
    try {
      parsed = validateConfig({ broker: { url } }, '--broker').broker!;
    } catch (e) {
      if (e instanceof ConfigError) throw new UsageError('--broker', e.detail);
      throw e;
    }
    const tls = parsed.tls ? (base?.tls ?? parsed.tls) : null;
    broker = makeBroker({
      host: parsed.host,
      port: parsed.port,
      tls,
      username: base?.username ?? null,
      password: base?.password ?? null,
      protocolVersion: base?.protocolVersion ?? 4,
      keepAlive: base?.keepAlive ?? 60,
    });
  }
  const version = mqttVersion(v.str('mqtt-version'));
  if (broker === null) {
    for (const opt of ['username', 'password', 'ca', 'cert', 'key']) {
      if (v.has(opt)) {
        throw new UsageError(`--${opt}`, 'needs an external broker (--broker URL); the embedded broker is anonymous and plain TCP');
      }
    }
    if (version === 5) throw new UsageError('--mqtt-version', 'the embedded broker (Aedes) speaks MQTT 3.1.1 only; use 4, or an external broker for 5');
    return null;
  }
  broker = { ...broker };
  if (version !== undefined) broker.protocolVersion = version;
  const username = v.str('username');
  if (username !== undefined) broker.username = username;
  const password = v.has('password') ? v.str('password')! : env[PASSWORD_ENV];
  if (password !== undefined && password !== '') broker.password = password;
  if (broker.password !== null && broker.username === null) {
    warnings.push('a broker password is set without a user name (--username); MQTT 3.1.1 brokers refuse that');
  }
  const ca = v.file('ca');
  const cert = v.file('cert');
  const key = v.file('key');
  if (ca !== undefined || cert !== undefined || key !== undefined) {
    const opt = ca !== undefined ? '--ca' : cert !== undefined ? '--cert' : '--key';
    if (broker.tls === null) {
      throw new UsageError(opt, `needs a TLS broker: give --broker mqtts://${broker.host.includes(':') ? `[${broker.host}]` : broker.host}:8883`);
    }
    broker.tls = { ...broker.tls, ...(ca !== undefined ? { ca } : {}), ...(cert !== undefined ? { cert } : {}), ...(key !== undefined ? { key } : {}) };
  }
  if (broker.tls && (broker.tls.cert === null) !== (broker.tls.key === null)) {
    throw new UsageError(broker.tls.cert === null ? '--key' : '--cert', '--cert and --key must be given together');
  }
  return broker;
}

function mqttVersion(value: string | undefined): 4 | 5 | undefined {
  if (value === undefined) return undefined;
  if (value === '4' || value === '3.1.1' || value === '311') return 4;
  if (value === '5' || value === '5.0') return 5;
  const hint = value === '3' || value === '3.1' ? ' (MQTT 3.1 is not supported)' : '';
  throw new UsageError('--mqtt-version', `expected 4 (or 3.1.1) or 5 (or 5.0), got ${JSON.stringify(value)}${hint}`);
}

function resolveSensorNetworks(v: Values, config: GatewayConfig, start: CliStartSettings): void {
  if (v.has('no-udp') && v.has('udp-port')) throw new UsageError('--udp-port', 'conflicts with --no-udp');
  if (v.has('no-udp6') && v.has('udp6-port')) throw new UsageError('--udp6-port', 'conflicts with --no-udp6');
  if (v.has('no-udp')) config.udp = null;
  const udpPort = v.port('udp-port');
  if (udpPort !== undefined) config.udp = { ...(config.udp ?? DEFAULT_UDP), port: udpPort };
  if (v.has('no-udp6')) {
    config.udp6 = null;
    start.udp6Optional = false;
  }
  const udp6Port = v.port('udp6-port');
  if (udp6Port !== undefined) {
    config.udp6 = { ...(config.udp6 ?? DEFAULT_UDP6), port: udp6Port };
    start.udp6Optional = false;
  }
  const baud = v.str('baud');
  let baudRate: number | undefined;
  if (baud !== undefined) {
    baudRate = Number(baud);
    if (!/^\d+$/.test(baud) || !BAUD_RATES.includes(baudRate)) {
      throw new UsageError('--baud', `expected a baud rate (${BAUD_RATES.join(', ')}), got ${JSON.stringify(baud)}`);
    }
  }
  const serial = v.str('serial');
  if (serial !== undefined) config.serial = { path: serial, baud: baudRate ?? config.serial?.baud ?? 9600 };
  const xbee = v.str('xbee');
  if (xbee !== undefined) config.xbee = { path: xbee, baud: baudRate ?? config.xbee?.baud ?? 9600, apiMode: config.xbee?.apiMode ?? 2 };
  if (baudRate !== undefined && serial === undefined && xbee === undefined) {
    if (config.serial === null && config.xbee === null) throw new UsageError('--baud', 'needs --serial or --xbee (or a serial link in the config file)');
    if (config.serial) config.serial = { ...config.serial, baud: baudRate };
    if (config.xbee) config.xbee = { ...config.xbee, baud: baudRate };
  }
  if (config.udp === null && config.udp6 === null && config.serial === null && config.xbee === null) {
    throw new UsageError('', 'no sensor network left: enable at least one of UDP (--udp-port), UDP/IPv6 (--udp6-port), --serial or --xbee');
  }
}
