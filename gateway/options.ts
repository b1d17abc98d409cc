/**
 * What a {@link Gateway} is built from: one options object (DESIGN.md §3). `main.ts` builds the
 * real ones from a {@link GatewayConfig}; tests build them with short timers.
 */
import type { GatewayConfig } from './config/schema';
import type { SensorTransport } from './transports/transport';
import type { BrokerLink } from './broker/link';
import type { Logger } from './log';
import type { GatewayMetrics } from './metrics';

/** Timings of the MQTT-SN procedures (MQTT-SN 1.2 §6.13, §7.2); every field in milliseconds unless said. */
export interface GatewayTimers {
  /** T_RETRY for gateway→client PUBLISH / REGISTER / PUBREL (§6.13). Default 10,000. */
  tRetry: number;
  /** N_RETRY (§6.13). Default 3. */
  nRetry: number;
  /**
   * A client is lost when nothing arrived for keep-alive × this factor (§6.11 leaves the
   * margin to the gateway; MQTT uses 1.5). Also applied to a sleeping client's sleep duration.
   */
  graceFactor: number;
  /** How often the gateway checks timers, ms. Default 100. */
  tick: number;
  /** Wait for the Will topic / Will message during CONNECT before giving up, ms. Default 10,000. */
  willTimeout: number;
}

export const DEFAULT_TIMERS: Readonly<GatewayTimers> = {
  tRetry: 10_000,
  nRetry: 3,
  graceFactor: 1.5,
  tick: 100,
  willTimeout: 10_000,
};

/** Options of the gateway core. */
export interface GatewayOptions {
  /** The validated configuration (ids, limits, predefined topics, clients, QoS -1, forwarder). */
  config: GatewayConfig;
  /** Started sensor links, or links the gateway starts in `start()` (it calls `start()` on each). */
  transports: SensorTransport[];
  /** The broker link for `config.mode`. */
  link: BrokerLink;
  /** Monotonic milliseconds. Default `performance.now`. */
  now?: () => number;
  log?: Logger;
  metrics?: GatewayMetrics;
  /** Random numbers in [0, 1) (jitter). Default Math.random. */
  random?: () => number;
  /** Procedure timings; fields left out take {@link DEFAULT_TIMERS}. */
  timers?: Partial<GatewayTimers>;
}
