/**
 * Builds and starts a whole gateway from a {@link GatewayConfig}: the only place the gateway's
 * singletons are made (DESIGN.md §2). `cli.ts` calls it; tests call it directly.
 *
 * Start order, each step undone in reverse when a later one fails:
 *
 * 1. the embedded broker (Aedes), when `config.broker` is null;
 * 2. the broker link for `config.mode` (`broker/index.ts`), on the external or embedded broker;
 * 3. the sensor transports (`transports/index.ts`): udp, udp6, serial, xbee as configured;
 * 4. the {@link Gateway} core, whose `start()` connects the link and opens the transports;
 * 5. the Prometheus endpoint (`config.metricsPort`) and the `$SYS` publisher (`config.sysInterval`).
 *
 * `RunningGateway.stop()` goes the other way: `$SYS` state `offline`, metrics endpoint closed,
 * the core stopped (broker connections closed with DISCONNECT, transports closed), then the
 * embedded broker closed. A gateway that dies without `stop` (SIGKILL, crash) leaves `$SYS`
 * state `offline` too, with an external broker: the Will of its broker connection.
 *
 * @example
 * ```ts
 * const running = await startGateway(defaultConfig(), { log: createLogger() });
 * console.log(running.summary);
 * await running.stop();
 * ```
 */
import dgram from 'node:dgram';
import type { BrokerConfig, GatewayConfig } from './config/schema';
import { brokerAt, createBrokerLink } from './broker/index';
import type { BrokerLink } from './broker/link';
import { startEmbeddedBroker, type EmbeddedBroker } from './broker/embedded';
import { Gateway } from './gateway';
import { silentLogger, type Logger } from './log';
import { GatewayMetrics } from './metrics';
import type { GatewayTimers } from './options';
import { startMetricsServer, type MetricsServer } from './observability/prometheus';
import { DEFAULT_SYS_PREFIX, SysPublisher, sysBase, sysState } from './observability/sys';
import { createTransports, UdpSensorTransport } from './transports/index';
import type { SensorTransport } from './transports/transport';

/** Settings of {@link startGateway} that are not part of {@link GatewayConfig}. */
export interface StartOptions {
  /** Where everything logs. Default: nothing. */
  log?: Logger;
  /** fieldmq version, for the summary and `$SYS/…/version`. */
  version?: string;
  /** Port of the embedded broker; 0 = any free port. Default 1883. Ignored with `config.broker`. */
  embeddedPort?: number;
  /** Bind address of the embedded broker. Default every interface. */
  embeddedHost?: string;
  /** Bind address of the metrics endpoint. Default `0.0.0.0`. */
  metricsHost?: string;
  /** First topic levels of the `$SYS` publications. Default `$SYS/fieldmq`. */
  sysPrefix?: string;
  /**
   * True: UDP over IPv6 (`config.udp6`) is wanted only where the machine has IPv6; without it
   * the gateway warns and runs on IPv4. False (default): no IPv6 is a start failure.
   */
  udp6Optional?: boolean;
  /** How users change the UDP ports, quoted in "port in use" errors (the CLI: `--udp-port`). */
  portHints?: { udp?: string; udp6?: string };
  /** Monotonic milliseconds. Default `performance.now`. */
  now?: () => number;
  /** MQTT-SN procedure timings for the core. */
  timers?: Partial<GatewayTimers>;
  /** Whether this machine can open a UDP/IPv6 socket; default {@link ipv6Available} (tests replace it). */
  ipv6Probe?: () => Promise<boolean>;
}

/** Where one sensor link listens, for people and tests. */
export interface ListenInfo {
  /** Transport name: `udp`, `udp6`, `serial`, `xbee`. */
  name: string;
  /** `0.0.0.0:1884`, `[::]:1884`, or a device path. */
  address: string;
  /** The UDP port bound (the OS's choice for port 0); null for serial links. */
  port: number | null;
}

/** A started gateway. */
export interface RunningGateway {
  /** The configuration as started (`udp6` null when IPv6 was optional and missing). */
  readonly config: GatewayConfig;
  /** The broker the link connects to: `config.broker`, or the embedded broker's address. */
  readonly broker: BrokerConfig;
  /** The embedded broker, or null with an external one. */
  readonly embedded: EmbeddedBroker | null;
  /** The core. */
  readonly gateway: Gateway;
  /** The broker link. */
  readonly link: BrokerLink;
  /** The sensor links, started. */
  readonly transports: readonly SensorTransport[];
  /** Where each sensor link listens. */
  readonly listening: readonly ListenInfo[];
  /** The counters (also behind the metrics endpoint and `$SYS`). */
  readonly metrics: GatewayMetrics;
  /** The metrics endpoint, or null when `config.metricsPort` is null. */
  readonly metricsServer: MetricsServer | null;
  /** The `$SYS` publisher, or null when `config.sysInterval` is 0. */
  readonly sys: SysPublisher | null;
  /** One human sentence: what listens where, which broker, which mode (logged by the CLI). */
  readonly summary: string;
  /** Stops everything (see the module comment). Idempotent; never rejects (failures are logged). */
  stop(): Promise<void>;
}

/**
 * The gateway could not start (broker unreachable, sensor link not available, port in use).
 * `name` is `'GatewayStartError'`; the message says what failed and, where it can, how to fix it;
 * `cause` is the original error.
 */
export class GatewayStartError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'GatewayStartError';
  }
}

/**
 * True when a UDP/IPv6 socket can be bound here (`::`, any port, IPv6 only). False on a machine
 * or container without IPv6 (`EAFNOSUPPORT`, `EADDRNOTAVAIL`, `EPROTONOSUPPORT`).
 */
export function ipv6Available(): Promise<boolean> {
  return new Promise((resolve) => {
    let socket: dgram.Socket;
    try {
      socket = dgram.createSocket({ type: 'udp6', ipv6Only: true });
    } catch {
      resolve(false);
      return;
    }
    socket.once('error', () => {
      socket.close();
      resolve(false);
    });
    socket.bind({ address: '::', port: 0 }, () => {
      socket.close();
      resolve(true);
    });
  });
}

function describe(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/**
 * Starts a gateway for `config` (see the module comment for the order).
 * @throws {@link GatewayStartError}, or the embedded broker's and metrics endpoint's own errors
 *   (`BrokerPortInUseError`, `EmbeddedBrokerError`, `MetricsServerError`), after undoing what
 *   was already started.
 */
export async function startGateway(config: GatewayConfig, options: StartOptions = {}): Promise<RunningGateway> {
  const log = options.log ?? silentLogger();
  const now = options.now ?? (() => performance.now());
  const cleanups: (() => Promise<void>)[] = [];
  const undo = async (): Promise<void> => {
    for (const c of cleanups.splice(0).reverse()) {
      try {
        await c();
      } catch (e) {
        log.warn('error while stopping', { error: describe(e) });
      }
    }
  };

  try {
    // IPv6, if only wanted where available.
    let cfg = config;
    if (cfg.udp6 && options.udp6Optional && !(await (options.ipv6Probe ?? ipv6Available)())) {
      log.warn('this machine has no IPv6: MQTT-SN over UDP/IPv6 is off (IPv4 only)');
      cfg = { ...cfg, udp6: null };
      if (!cfg.udp && !cfg.serial && !cfg.xbee) throw new GatewayStartError('no sensor network left: IPv6 is not available and UDP/IPv4 is off');
    }

    // 1. Embedded broker.
    let embedded: EmbeddedBroker | null = null;
    let broker: BrokerConfig;
    if (cfg.broker === null) {
      const prefix = (options.sysPrefix ?? DEFAULT_SYS_PREFIX).replace(/\/+$/, '') + '/';
      embedded = await startEmbeddedBroker({
        port: options.embeddedPort,
        host: options.embeddedHost,
        sysPublishPrefixes: prefix.startsWith('$SYS/') ? [prefix] : [],
        log,
      });
      const e = embedded;
      cleanups.push(() => e.stop());
      broker = brokerAt(e.connectHost, e.port, 4);
      log.debug('embedded broker listening', { host: e.host, port: e.port });
    } else {
      broker = cfg.broker;
    }

    // 2-4. Link, transports, core. With `$SYS` on, the link's own connection carries the Will
    // `state` = `offline` (the gateway died without `stop`) and says `online` again after a loss.
    const metrics = new GatewayMetrics();
    const state = cfg.sysInterval > 0 ? sysState(sysBase(options.sysPrefix || DEFAULT_SYS_PREFIX, cfg.gatewayName)) : null;
    const link = createBrokerLink(cfg, { broker, log, metrics, now, will: state?.offline ?? null, birth: state?.online ?? null });
    let transports: SensorTransport[];
    try {
      transports = createTransports(cfg, {
        ...(options.portHints?.udp ? { udpPortHint: options.portHints.udp } : {}),
        ...(options.portHints?.udp6 ? { udp6PortHint: options.portHints.udp6 } : {}),
      });
    } catch (e) {
      throw new GatewayStartError(describe(e), { cause: e });
    }
    const gateway = new Gateway({ config: cfg, transports, link, now, log, metrics, ...(options.timers ? { timers: options.timers } : {}) });
    cleanups.push(async () => {
      await gateway.stop();
    });
    try {
      await gateway.start();
    } catch (e) {
      throw new GatewayStartError(startFailure(e, broker, embedded !== null), { cause: e });
    }

    // 5. Observability.
    let metricsServer: MetricsServer | null = null;
    if (cfg.metricsPort !== null) {
      metricsServer = await startMetricsServer({
        port: cfg.metricsPort,
        metrics,
        gatewayName: cfg.gatewayName,
        ...(options.metricsHost ? { host: options.metricsHost } : {}),
      });
      const m = metricsServer;
      cleanups.push(() => m.stop());
    }
    let sys: SysPublisher | null = null;
    if (cfg.sysInterval > 0) {
      sys = new SysPublisher({
        link,
        metrics,
        gatewayName: cfg.gatewayName,
        intervalMs: cfg.sysInterval * 1000,
        ...(options.sysPrefix ? { prefix: options.sysPrefix } : {}),
        ...(options.version ? { version: options.version } : {}),
        now,
        log,
      });
      const s = sys;
      s.start();
      cleanups.push(async () => s.stop());
    }

    const listening = transports.map((t) => listenInfo(t, cfg));
    const summary = summarize({ cfg, listening, embedded, broker, metricsServer, sys, version: options.version });
    let stopping: Promise<void> | null = null;
    return {
      config: cfg,
      broker,
      embedded,
      gateway,
      link,
      transports,
      listening,
      metrics,
      metricsServer,
      sys,
      summary,
      stop() {
        stopping ??= undo();
        return stopping;
      },
    };
  } catch (e) {
    await undo();
    throw e;
  }
}

/** A start failure of the core: the broker link's or a transport's message, with the broker named. */
function startFailure(e: unknown, broker: BrokerConfig, embedded: boolean): string {
  const msg = describe(e);
  if (/broker|mqtt|connack|connect/i.test(msg) && !msg.includes(broker.url) && !embedded) {
    return `cannot connect to the broker ${broker.url}: ${msg}`;
  }
  return msg;
}

function listenInfo(t: SensorTransport, cfg: GatewayConfig): ListenInfo {
  if (t instanceof UdpSensorTransport) {
    const v6 = t.name === 'udp6';
    return { name: t.name, address: v6 ? `[::]:${t.port}` : `0.0.0.0:${t.port}`, port: t.port };
  }
  const device = t.name === 'serial' ? cfg.serial?.path : t.name === 'xbee' ? cfg.xbee?.path : undefined;
  return { name: t.name, address: device ? `${device} (${t.name === 'serial' ? cfg.serial!.baud : cfg.xbee!.baud} baud)` : t.name, port: null };
}

function summarize(s: {
  cfg: GatewayConfig;
  listening: readonly ListenInfo[];
  embedded: EmbeddedBroker | null;
  broker: BrokerConfig;
  metricsServer: MetricsServer | null;
  sys: SysPublisher | null;
  version: string | undefined;
}): string {
  const links = s.listening.map((l) => `${l.name} ${l.address}`).join(', ');
  const broker = s.embedded
    ? `embedded broker at ${s.embedded.url} (anonymous, ${s.embedded.host === '::' || s.embedded.host === '0.0.0.0' ? 'every interface' : s.embedded.host}; ` +
      `watch with: mosquitto_sub -h localhost -p ${s.embedded.port} -t '#' -v)`
    : `broker ${s.broker.url} (MQTT ${s.broker.protocolVersion === 5 ? '5' : '3.1.1'}${s.broker.username ? `, user ${s.broker.username}` : ''})`;
  const parts = [
    `fieldmq-gateway${s.version ? ` ${s.version}` : ''} "${s.cfg.gatewayName}" (id ${s.cfg.gatewayId}) running: MQTT-SN on ${links}`,
    `${broker}`,
    `${s.cfg.mode} mode`,
  ];
  if (s.metricsServer) parts.push(`metrics at ${s.metricsServer.url}`);
  if (s.sys) parts.push(`counters every ${s.cfg.sysInterval} s under ${s.sys.base}/`);
  return parts.join('; ');
}
