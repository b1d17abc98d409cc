/**
 * The aggregating broker link (MQTT-SN 1.2 §4.1, Fig. 3): one MQTT connection carries every
 * MQTT-SN client. Subscriptions are reference-counted per filter (the broker sees each filter
 * once, at the highest QoS any client asked for); Wills are kept here and published by the
 * gateway when a client is lost. The connection is non-clean (a persistent session), so
 * subscriptions and queued QoS 1/2 messages survive a broker restart or a link drop.
 */
import type { BrokerConfig } from '../config/schema';
import type { Logger } from '../log';
import type { GatewayMetrics } from '../metrics';
import { Status } from '../../src/core/status';
import { BrokerConnection, Ticker, connackText, copyWill, reasonText, startError, type ConnectionSizes } from './connection';
import {
  LINK_FULL,
  LINK_REJECTED,
  type BrokerLink,
  type BrokerLinkHandlers,
  type LinkClient,
  type LinkWill,
} from './link';

/** Options of {@link AggregatingLink}. */
export interface AggregatingOptions {
  broker: BrokerConfig;
  /** MQTT client id of the shared connection. */
  clientId: string;
  sizes: ConnectionSizes;
  now: () => number;
  log: Logger;
  metrics: GatewayMetrics;
  /** Longest wait for the first CONNACK in `start`, ms. */
  startTimeout: number;
}

interface FilterRef {
  /** Client ids holding the filter, with the QoS each asked for. */
  holders: Map<string, number>;
  /** QoS the broker was asked for (the highest requested). */
  requested: number;
  /** What the broker granted for `requested`; -1 while a SUBACK is awaited. */
  granted: number;
  /** Sequence number of the latest SUBSCRIBE sent for this filter (earlier answers are stale). */
  seq: number;
  /** Subscribers waiting for the SUBACK. */
  waiting: { clientId: string; qos: number; done: (granted: number) => void }[];
}

interface ClientRecord {
  will: LinkWill | null;
  cleanSession: boolean;
}

/** Calls `f` in a later turn of the event loop (the link never calls back synchronously). */
function later(f: () => void): void {
  setImmediate(f);
}

/** One shared broker connection for every MQTT-SN client; see the module comment. */
export class AggregatingLink implements BrokerLink {
  readonly mode = 'aggregating' as const;
  handlers: BrokerLinkHandlers | null = null;
  private readonly o: AggregatingOptions;
  private readonly ticker = new Ticker(200);
  private readonly conn: BrokerConnection;
  private readonly filters = new Map<string, FilterRef>();
  private readonly clients = new Map<string, ClientRecord>();
  private starting: Promise<void> | null = null;
  /** The shared connection is up (CONNACK accepted, not lost since). */
  private up = false;
  /** Settles a pending `start`: CONNACK code, or null for "stopped". */
  private firstConnect: ((code: number | null) => void) | null = null;

  constructor(o: AggregatingOptions) {
    this.o = o;
    this.conn = new BrokerConnection({
      broker: o.broker,
      clientId: o.clientId,
      cleanSession: false,
      will: null,
      sizes: o.sizes,
      now: o.now,
      log: o.log,
      ticker: this.ticker,
      onConnect: (code, sessionPresent) => {
        if (code === 0) {
          this.up = true;
          o.metrics.brokerConnections = 1;
          o.log.info('broker link up', { broker: o.broker.url, clientId: o.clientId, sessionPresent });
          this.handlers?.onConnection?.(null, true);
        } else o.log.error('broker refused the connection', { broker: o.broker.url, code, reason: connackText(code) });
        const f = this.firstConnect;
        if (f) {
          this.firstConnect = null;
          f(code);
        }
      },
      onLost: (reason) => {
        if (!this.up) return; // was not up (a refused CONNACK)
        this.up = false;
        o.metrics.brokerConnections = 0;
        o.log.warn('broker link down, reconnecting', { broker: o.broker.url, reason: reasonText(reason) });
        this.handlers?.onConnection?.(null, false);
      },
      onMessage: (m) => {
        o.metrics.brokerIn++;
        const h = this.handlers;
        if (!h) return;
        const payload = m.buf.subarray(m.payloadOffset, m.payloadOffset + m.payloadLength);
        h.onMessage(null, m.topic(), payload, m.qos, m.retain);
      },
    });
  }

  start(): Promise<void> {
    if (this.starting) return this.starting;
    if (this.conn.isStopped) return Promise.reject(new Error('broker link: start after stop (build a new link)'));
    this.starting = new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.firstConnect = null;
        const err = startError(this.o.broker.url, this.o.startTimeout, null, this.conn.lastError);
        void this.conn.stop(false);
        reject(err);
      }, this.o.startTimeout);
      this.firstConnect = (code) => {
        clearTimeout(timer);
        if (code === 0) resolve();
        else if (code === null) reject(new Error(`broker link to ${this.o.broker.url} stopped before it connected`));
        else {
          void this.conn.stop(false);
          reject(startError(this.o.broker.url, this.o.startTimeout, code, null));
        }
      };
      this.conn.start();
    });
    return this.starting;
  }

  async stop(): Promise<void> {
    const f = this.firstConnect;
    this.firstConnect = null;
    if (f) f(null);
    await this.conn.stop(true);
    this.up = false;
    this.o.metrics.brokerConnections = 0;
  }

  connect(c: LinkClient, done: (returnCode: number) => void): void {
    if (!this.conn.connected) {
      later(() => done(1)); // MQTT-SN "rejected: congestion": the shared link is down, try later
      return;
    }
    const prev = this.clients.get(c.clientId);
    if (prev && c.cleanSession) this.dropFilters(c.clientId);
    this.clients.set(c.clientId, { will: copyWill(c.will), cleanSession: c.cleanSession });
    later(() => done(0));
  }

  disconnect(clientId: string, publishWill: boolean): void {
    const rec = this.clients.get(clientId);
    if (!rec) return;
    if (publishWill && rec.will) {
      const w = rec.will;
      const r = this.publish(clientId, w.topic, w.payload, w.qos, w.retain, null);
      if (r !== 0) this.o.log.warn('could not publish the Will of a lost client', { clientId, topic: w.topic, code: r });
      else this.o.log.info('published the Will of a lost client', { clientId, topic: w.topic });
    }
    rec.will = null; // the Will belongs to the connection that ended
    if (rec.cleanSession) {
      this.dropFilters(clientId);
      this.clients.delete(clientId);
    }
  }

  setWill(clientId: string, will: LinkWill | null, done: (returnCode: number) => void): void {
    const rec = this.clients.get(clientId);
    if (rec) rec.will = copyWill(will);
    later(() => done(rec ? 0 : 3));
  }

  publish(clientId: string | null, topic: string, payload: Uint8Array, qos: number, retain: boolean, done: ((reasonCode: number) => void) | null): number {
    const r = this.conn.publish(topic, payload, qos, retain, done);
    if (r === 0) {
      this.o.metrics.brokerOut++;
      return 0;
    }
    if (r === Status.Full) return LINK_FULL;
    if (this.o.log.enabled('debug')) this.o.log.debug('broker link cannot carry a message', { clientId, topic, status: reasonText(r) });
    return LINK_REJECTED;
  }

  subscribe(clientId: string, filter: string, qos: number, done: (granted: number) => void): void {
    let f = this.filters.get(filter);
    if (!f) {
      f = { holders: new Map(), requested: -1, granted: -1, seq: 0, waiting: [] };
      this.filters.set(filter, f);
    }
    f.holders.set(clientId, qos);
    if (qos <= f.requested && f.granted >= 0) {
      const g = f.granted >= 0x80 ? 0x80 : Math.min(qos, f.granted);
      later(() => done(g));
      return;
    }
    f.waiting.push({ clientId, qos, done });
    if (qos <= f.requested) return; // the pending SUBACK answers it
    const ref = f;
    const prev = { requested: f.requested, granted: f.granted };
    const seq = ++f.seq;
    f.requested = qos;
    f.granted = -1;
    const r = this.conn.subscribe(filter, qos, (code) => {
      if (ref.seq === seq) this.subAck(filter, ref, code, prev);
    });
    if (r < 0) {
      this.o.log.warn('broker link cannot subscribe', { filter, status: reasonText(r) });
      later(() => {
        if (ref.seq === seq) this.subAck(filter, ref, 0x80, prev);
      });
    }
  }

  unsubscribe(clientId: string, filter: string, done: () => void): void {
    const f = this.filters.get(filter);
    if (!f || !f.holders.delete(clientId) || f.holders.size > 0) {
      later(done);
      return;
    }
    this.release(filter, done);
  }

  /** Unsubscribes the shared connection from `filter`, which nobody holds any more. */
  private release(filter: string, done: () => void): void {
    this.filters.delete(filter);
    // A SUBSCRIBE still awaiting its SUBACK is answered by the connection before the UNSUBACK.
    if (this.conn.unsubscribe(filter, () => done()) < 0) later(done); // not held by the connection: nothing to wait for
  }

  /**
   * SUBACK for `f`: answers every waiting subscriber with its own (downgraded) QoS. A refusal
   * removes the refused subscribers from the filter (they hold nothing), and the filter goes
   * when nobody else holds it; a refused upgrade keeps what the others had.
   */
  private subAck(filter: string, f: FilterRef, code: number, prev: { requested: number; granted: number }): void {
    const w = f.waiting;
    f.waiting = [];
    if (code < 0x80) {
      f.granted = code;
      for (const x of w) x.done(Math.min(x.qos, code));
      return;
    }
    for (const x of w) if (f.holders.get(x.clientId) === x.qos) f.holders.delete(x.clientId);
    // Back to what the broker holds for the others (nothing, when the earlier SUBACK never came).
    f.requested = prev.granted >= 0 ? prev.requested : -1;
    f.granted = prev.granted >= 0 ? prev.granted : -1;
    if (f.holders.size === 0 && this.filters.get(filter) === f) this.release(filter, () => {});
    for (const x of w) x.done(0x80);
  }

  /** Removes `clientId` from every filter; filters nobody holds any more are unsubscribed. */
  private dropFilters(clientId: string): void {
    for (const [filter, f] of this.filters) {
      if (f.holders.delete(clientId) && f.holders.size === 0) this.release(filter, () => {});
    }
  }
}
