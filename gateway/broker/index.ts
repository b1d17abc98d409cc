/**
 * Builds the broker link a configuration asks for (`config.mode`): {@link AggregatingLink} or
 * {@link TransparentLink}, both on fieldmq's own MQTT client. `main.ts` passes the embedded
 * broker's address as `broker` when `config.broker` is null.
 */
import type { BrokerConfig, GatewayConfig } from '../config/schema';
import { silentLogger, type Logger } from '../log';
import { GatewayMetrics } from '../metrics';
import { AggregatingLink } from './aggregating';
import { TransparentLink } from './transparent';
import { copyWill, type ConnectionSizes } from './connection';
import type { BrokerLink, LinkWill } from './link';

export { AggregatingLink } from './aggregating';
export { TransparentLink } from './transparent';
export * from './link';

/** Options of {@link createBrokerLink}. */
export interface BrokerLinkOptions {
  /** The broker to use instead of `config.broker` (the embedded broker's address). */
  broker?: BrokerConfig;
  log?: Logger;
  metrics?: GatewayMetrics;
  /** Monotonic milliseconds. Default `performance.now`. */
  now?: () => number;
  /** Buffers of the aggregating (shared) connection. */
  sharedSizes?: Partial<ConnectionSizes>;
  /** Buffers of each client's connection in transparent mode. */
  clientSizes?: Partial<ConnectionSizes>;
  /** Longest wait for a broker CONNACK, ms. Default 10,000. */
  connectTimeout?: number;
  /**
   * Will of the gateway's own connection (aggregating: the shared one): the broker publishes it
   * when that connection ends without DISCONNECT — the gateway process died (SIGKILL, crash,
   * power loss) or the network between them failed. `stop` sends DISCONNECT: no Will. `main.ts`
   * sets `$SYS/…/state` = `offline` here. Default none.
   */
  will?: LinkWill | null;
  /**
   * Published on that connection each time it is up again after a loss (never at `start`,
   * whose caller publishes what it wants then): the broker may have published `will`
   * meanwhile. `main.ts` sets `$SYS/…/state` = `online` here. Default none.
   */
  birth?: LinkWill | null;
}

/**
 * Default buffers of the shared connection: 2,048 outbox slots of 1 KB (2 MB) so a broker
 * restart of a few seconds at thousands of QoS 1 messages per second loses nothing, 256 QoS 1/2
 * in flight (MQTT 5: capped by the broker's Receive Maximum), 1,024 distinct filters, 1,024
 * inbound QoS 2 messages awaiting PUBREL (with MQTT 3.1.1 the broker's in-flight window must not
 * be larger: Mosquitto's `max_inflight_messages` is 20 by default).
 */
export const SHARED_SIZES: Readonly<ConnectionSizes> = { maxPacketSize: 1024, queueSize: 2048, maxInflight: 256, maxSubscriptions: 1024, maxInbound: 1024 };

/**
 * Default buffers of one client's connection (transparent mode): one sensor's traffic, so small
 * socket buffers (2 KB receive ring, 2 KB write staging; a larger packet is written on its own)
 * next to 8 outbox slots of 1 KB; up to 256 inbound QoS 2 messages awaiting PUBREL.
 */
export const CLIENT_SIZES: Readonly<ConnectionSizes> = {
  maxPacketSize: 1024,
  queueSize: 8,
  maxInflight: 4,
  maxSubscriptions: 16,
  maxInbound: 256,
  rxCapacity: 2048,
  writeBatch: 2048,
};

/** A broker config for `mqtt://host:port` with the defaults of {@link GatewayConfig.broker}. */
export function brokerAt(host: string, port: number, protocolVersion: 4 | 5 = 4): BrokerConfig {
  return {
    url: `mqtt://${host.includes(':') ? `[${host}]` : host}:${port}`,
    host,
    port,
    tls: null,
    username: null,
    password: null,
    protocolVersion,
    keepAlive: 60,
  };
}

/** The MQTT client id of the gateway's own (or shared) broker connection. */
export function gatewayClientId(config: GatewayConfig): string {
  return `${config.gatewayName}-${config.gatewayId}`;
}

/** Builds the link for `config.mode`; see the module comment. Throws when no broker is given at all. */
export function createBrokerLink(config: GatewayConfig, options: BrokerLinkOptions = {}): BrokerLink {
  const broker = options.broker ?? config.broker;
  if (!broker) throw new Error('createBrokerLink: no broker (config.broker is null and no embedded broker address was passed)');
  const log = options.log ?? silentLogger();
  const metrics = options.metrics ?? new GatewayMetrics();
  const now = options.now ?? (() => performance.now());
  const timeout = options.connectTimeout ?? 10_000;
  const shared = { ...SHARED_SIZES, ...options.sharedSizes };
  const will = copyWill(options.will ?? null);
  const birth = copyWill(options.birth ?? null);
  if (config.mode === 'aggregating') {
    return new AggregatingLink({ broker, clientId: gatewayClientId(config), sizes: shared, now, log, metrics, startTimeout: timeout, will, birth });
  }
  return new TransparentLink({
    broker,
    gatewayClientId: gatewayClientId(config),
    sizes: { ...CLIENT_SIZES, ...options.clientSizes },
    gatewaySizes: shared,
    now,
    log,
    metrics,
    connectTimeout: timeout,
    startTimeout: timeout,
    gatewayWill: will,
    gatewayBirth: birth,
  });
}
