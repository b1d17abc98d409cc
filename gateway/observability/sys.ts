/**
 * The gateway's counters as MQTT messages under `$SYS/fieldmq/<gatewayName>/…`, published every
 * `config.sysInterval` seconds on the gateway's own broker connection (`link.publish(null, …)`).
 *
 * Topic tree (prefix `$SYS/fieldmq` by default; `<gw>` is the gateway name with `/ + #` replaced
 * by `_`): one topic per sample of {@link metricFamilies}, the metric name without Prometheus's
 * `_total` suffix, then each label value as one more level; the payload is the number as decimal
 * text, as Mosquitto's own `$SYS/broker/…` topics carry it.
 *
 * | topic | payload |
 * | --- | --- |
 * | `$SYS/fieldmq/<gw>/state` | `online` at start, `offline` at a graceful stop or when the gateway dies (the Will) |
 * | `$SYS/fieldmq/<gw>/version` | fieldmq version, once at start |
 * | `$SYS/fieldmq/<gw>/uptime` | seconds since start |
 * | `$SYS/fieldmq/<gw>/packets_in` | `1234` |
 * | `$SYS/fieldmq/<gw>/messages_in/-1` … `/2` | per QoS |
 * | `$SYS/fieldmq/<gw>/drops/malformed` … | per reason |
 * | `$SYS/fieldmq/<gw>/clients/active` … | per state |
 *
 * Decisions:
 * - **QoS 0, retained**: a dashboard that subscribes late sees the latest values at once (as
 *   Mosquitto's `$SYS` topics). Counters are published every interval whether they changed or not,
 *   so a broker that lost its retained messages (restart without persistence) is refilled within
 *   one interval. `state` says whether the numbers are live: it is `offline` after a graceful
 *   stop, and after a crash (SIGKILL, power loss) or a lost network too: `main.ts` gives the
 *   gateway's broker connection {@link sysState}`.offline` as its Will, and the link publishes
 *   {@link sysState}`.online` again when that connection is back after a loss.
 * - **`$SYS/` needs the broker's consent**: the embedded broker allows `$SYS/fieldmq/`; Mosquitto 2
 *   refuses every client publish under `$SYS/` whatever its ACL says (QoS 0 dropped silently,
 *   MQTT 5 answers "not authorised"). Set another `prefix` there (`--sys-prefix fieldmq/sys`).
 *   The `state` message goes out at QoS 1 so that an MQTT 5 refusal is logged with that remedy.
 */
import type { BrokerLink, LinkWill } from '../broker/link';
import type { Logger } from '../log';
import { metricFamilies, type GatewayMetrics } from '../metrics';

/** Default first levels of the topic tree. */
export const DEFAULT_SYS_PREFIX = '$SYS/fieldmq';

/** Options of {@link SysPublisher}. */
export interface SysPublisherOptions {
  /** Where messages go: the gateway's own connection (`publish(null, …)`). */
  link: Pick<BrokerLink, 'publish'>;
  /** The registry to publish. */
  metrics: GatewayMetrics;
  /** Gateway name, one topic level (sanitised with {@link topicLevel}). */
  gatewayName: string;
  /** Interval between publications, milliseconds (> 0). */
  intervalMs: number;
  /** First levels of the tree, no trailing `/`. Default {@link DEFAULT_SYS_PREFIX}. */
  prefix?: string;
  /** Retain flag of every message. Default true. */
  retain?: boolean;
  /** fieldmq version, published once as `version`; left out when absent. */
  version?: string;
  /** Monotonic milliseconds, for `uptime`. Default `performance.now`. */
  now?: () => number;
  log?: Logger;
}

/** Makes `s` a single topic level: `/`, `+`, `#` and NUL become `_`; an empty string becomes `_`. */
export function topicLevel(s: string): string {
  const r = s.replace(/[/+#\u0000]/g, '_');
  return r === '' ? '_' : r;
}

/** Topic level of a metric name: the name without a trailing `_total`. */
export function sysMetricName(name: string): string {
  return name.endsWith('_total') ? name.slice(0, -'_total'.length) : name;
}

/** The topic base `<prefix>/<gatewayName>` (the gateway name sanitised). */
export function sysBase(prefix: string, gatewayName: string): string {
  return `${prefix.replace(/\/+$/, '')}/${topicLevel(gatewayName)}`;
}

/**
 * Every counter as `[topic, payload]`, in {@link metricFamilies} order: `<base>/<metric>` then one
 * level per label value.
 */
export function sysMessages(metrics: GatewayMetrics, base: string): [string, string][] {
  const out: [string, string][] = [];
  for (const f of metricFamilies(metrics)) {
    const name = `${base}/${sysMetricName(f.name)}`;
    for (const s of f.samples) {
      let topic = name;
      for (const k of Object.keys(s.labels)) topic += `/${topicLevel(s.labels[k]!)}`;
      out.push([topic, String(s.value)]);
    }
  }
  return out;
}

const encoder = new TextEncoder();

/**
 * The `<base>/state` messages as the broker link takes them (QoS 1, retained): `offline` as the
 * Will of the gateway's own connection, `online` as its birth message after a reconnect
 * (`createBrokerLink` options `will` and `birth`).
 */
export function sysState(base: string): { online: LinkWill; offline: LinkWill } {
  const topic = `${base}/state`;
  return {
    online: { topic, payload: encoder.encode('online'), qos: 1, retain: true },
    offline: { topic, payload: encoder.encode('offline'), qos: 1, retain: true },
  };
}

/** Publishes the counters periodically; see the module comment for the topics. */
export class SysPublisher {
  /** `<prefix>/<gatewayName>`. */
  readonly base: string;
  /** Messages the link would not take (link full), since start. */
  skipped = 0;
  private readonly opts: SysPublisherOptions;
  private readonly now: () => number;
  private readonly retain: boolean;
  private timer: ReturnType<typeof setInterval> | null = null;
  private startedAt = 0;

  constructor(options: SysPublisherOptions) {
    if (!(options.intervalMs > 0)) throw new RangeError(`SysPublisher: intervalMs must be > 0, got ${options.intervalMs}`);
    this.opts = options;
    this.now = options.now ?? (() => performance.now());
    this.retain = options.retain ?? true;
    this.base = sysBase(options.prefix ?? DEFAULT_SYS_PREFIX, options.gatewayName);
  }

  /** Publishes `state` = `online`, `version` and every counter, then again every interval. */
  start(): void {
    if (this.timer) return;
    this.startedAt = this.now();
    this.send('state', 'online', 1, (code) => {
      if (code >= 0x80) {
        this.opts.log?.warn(
          `the broker refused the gateway's counters under ${this.base}/ (reason code 0x${code.toString(16)}); ` +
            `some brokers (Mosquitto 2) refuse every client publish under $SYS/: choose another prefix with --sys-prefix, e.g. fieldmq/sys`,
        );
      }
    });
    if (this.opts.version !== undefined) this.send('version', this.opts.version);
    this.publishNow();
    this.timer = setInterval(() => this.publishNow(), this.opts.intervalMs);
    this.timer.unref?.();
  }

  /** Publishes `uptime` and every counter once. */
  publishNow(): void {
    const before = this.skipped;
    this.send('uptime', String(Math.floor((this.now() - this.startedAt) / 1000)));
    for (const [topic, payload] of sysMessages(this.opts.metrics, this.base)) this.publish(topic, payload, 0, null);
    if (this.skipped !== before) this.opts.log?.debug('$SYS: broker link full, counters skipped', { skipped: this.skipped - before });
  }

  /** Stops the timer and publishes `state` = `offline` (call before the link stops). Idempotent. */
  stop(): void {
    if (!this.timer) return;
    clearInterval(this.timer);
    this.timer = null;
    this.send('state', 'offline');
  }

  private send(level: string, payload: string, qos = 0, done: ((code: number) => void) | null = null): void {
    this.publish(`${this.base}/${level}`, payload, qos, done);
  }

  private publish(topic: string, payload: string, qos: number, done: ((code: number) => void) | null): void {
    const r = this.opts.link.publish(null, topic, encoder.encode(payload), qos, this.retain, done);
    if (r !== 0) this.skipped++;
  }
}
