/**
 * The aggregating broker link (MQTT-SN 1.2 §4.1, Fig. 3): one MQTT connection carries every
 * MQTT-SN client. Subscriptions are reference-counted per filter (the broker holds each filter
 * once); Wills are kept here and published by the gateway when a client is lost. The
 * connection is non-clean (a persistent session), so subscriptions and queued QoS 1/2 messages
 * survive a broker restart or a link drop. The session is started afresh when the link starts
 * (`freshSession`): an earlier run's filters would keep bringing messages nobody holds.
 *
 * Subscriptions:
 * - **Every filter at QoS 2.** A message matching several subscriptions of one connection
 *   should come at the highest of their QoS (MQTT 3.1.1 §3.3.5), but Aedes and Mosquitto
 *   (MQTT 3.1.1) send one copy at the QoS of *one* of them: `a/x` at QoS 0 next to `a/#` at
 *   QoS 1 would bring a QoS 1 message as QoS 0, for the `a/#` client too. With every filter at
 *   QoS 2 the broker delivers at the published QoS and the core downgrades per subscriber.
 *   Each client is answered min(QoS asked for, QoS the broker granted).
 * - **Every `subscribe` sends a SUBSCRIBE**, also for a filter other clients already hold: a
 *   repeated SUBSCRIBE replaces the subscription and the broker sends its retained messages
 *   again (MQTT 3.1.1 §3.8.4), which the core delivers to subscriptions made in the last few
 *   seconds only. The client is answered at that SUBSCRIBE's SUBACK.
 * - **UNSUBSCRIBE only for the last holder** of a filter.
 * - **MQTT 5: each filter has its own message handler**, so the core learns which subscription
 *   a copy is for (`onMessage`'s `filter`, from the copy's Subscription Identifiers). With
 *   overlapping filters of different clients (`a/#`, `a/+`) Mosquitto sends one copy per
 *   subscription; the core gives each client the copy of one of its own filters only, so
 *   nobody gets two. MQTT 3.1.1 has no Subscription Identifiers: one copy comes, for everyone.
 */
import type { BrokerConfig } from '../config/schema';
import type { Logger } from '../log';
import type { GatewayMetrics } from '../metrics';
import type { MessageHandler, MqttMessage } from '../../src/mqtt/client';
import { subscriptionIds } from '../../src/mqtt/properties';
import { BrokerConnection, Ticker, connackText, copyWill, isPermanentRefusal, later, lostText, publishOn, reasonText, startError, refusalError, unwritableError, type ConnectionSizes } from './connection';
import {
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
  /** Will of the shared connection (the gateway's own: e.g. `$SYS/…/state` = `offline`), or null. */
  will?: LinkWill | null;
  /** Published each time the shared connection is up again after a loss (e.g. `state` = `online`), or null. */
  birth?: LinkWill | null;
}

interface FilterRef {
  /** Client ids holding the filter (or waiting for their SUBACK), with the QoS each asked for. */
  holders: Map<string, number>;
  /** SUBSCRIBEs of this filter awaiting their SUBACK. */
  pending: number;
  /** MQTT 5: where the shared connection's messages for this filter go (the core, told the filter); 3.1.1: null. */
  handler: MessageHandler | null;
}

interface ClientRecord {
  will: LinkWill | null;
  cleanSession: boolean;
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
  /** MQTT 5 to the broker: copies are told apart by Subscription Identifier (see the module comment). */
  private readonly v5: boolean;
  /** Subscription Identifiers of one copy (only whether there is any is read). */
  private readonly ids = new Uint32Array(1);
  private starting: Promise<void> | null = null;
  /** The shared connection is up (CONNACK accepted, not lost since). */
  private up = false;
  /** Settles a pending `start`: CONNACK code; null for "stopped", or with the socket error that makes the broker unreachable. */
  private firstConnect: ((code: number | null, unreachable?: Error, gaveUp?: number) => void) | null = null;

  constructor(o: AggregatingOptions) {
    this.o = o;
    this.v5 = o.broker.protocolVersion === 5;
    this.conn = new BrokerConnection({
      broker: o.broker,
      clientId: o.clientId,
      cleanSession: false,
      // An earlier run's session holds filters no client here holds (nothing survives a restart).
      freshSession: true,
      will: o.will ?? null,
      sizes: o.sizes,
      now: o.now,
      log: o.log,
      ticker: this.ticker,
      onConnect: (code, sessionPresent) => {
        if (code === 0) {
          const again = this.conn.wasConnectedBefore;
          this.up = true;
          o.metrics.brokerConnections = 1;
          o.log.info('broker link up', { broker: o.broker.url, clientId: o.clientId, sessionPresent });
          if (again && o.birth) this.publishBirth(o.birth);
          this.handlers?.onConnection?.(null, true);
        } else o.log.error('broker refused the connection', { broker: o.broker.url, code, reason: connackText(code) });
        const f = this.firstConnect;
        if (f) {
          this.firstConnect = null;
          f(code);
        }
      },
      onSocketError: (e) => {
        const f = this.firstConnect;
        if (f && isPermanentRefusal(e)) {
          this.firstConnect = null;
          f(null, e);
        }
      },
      onGaveUp: (reason) => {
        // Its CONNECT can never be written (logged by the connection): `start` fails now, saying why.
        const f = this.firstConnect;
        if (f) {
          this.firstConnect = null;
          f(null, undefined, reason);
        }
      },
      onLost: (reason) => {
        if (!this.up) return; // was not up (a refused CONNACK)
        this.up = false;
        o.metrics.brokerConnections = 0;
        o.log.warn('broker link down, reconnecting', { broker: o.broker.url, reason: lostText(reason) });
        this.handlers?.onConnection?.(null, false);
      },
      // A copy no filter's handler took. MQTT 5: when it names subscriptions, they are ones no
      // client holds any more (unsubscribed while it was on its way, or left in the broker
      // session by an earlier run): the copies for the filters clients hold carry the message.
      onMessage: (m) => {
        if (this.v5 && m.propertiesLength > 0 && subscriptionIds(m.buf, m.propertiesOffset, m.propertiesOffset + m.propertiesLength, this.ids) > 0) {
          if (this.o.log.enabled('debug')) this.o.log.debug('broker link: a copy for a subscription no client holds, dropped', { topic: m.topic() });
          return;
        }
        this.message(m, null);
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
      this.firstConnect = (code, unreachable, gaveUp) => {
        clearTimeout(timer);
        if (code === 0) resolve();
        else if (gaveUp !== undefined) {
          void this.conn.stop(false);
          reject(unwritableError(this.o.broker.url, gaveUp, "the gateway's connection"));
        } else if (unreachable) {
          // Refused or unresolvable: a user should not wait for the timeout to learn it.
          void this.conn.stop(false);
          reject(refusalError(this.o.broker.url, unreachable));
        } else if (code === null) reject(new Error(`broker link to ${this.o.broker.url} stopped before it connected`));
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
    return publishOn(this.conn, this.o, clientId, topic, payload, qos, retain, done);
  }

  /**
   * A message from the shared connection, for `filter` (null: not known) → the core. Counted once
   * per call: one copy per subscription is what Mosquitto sends; a broker sending one copy with
   * several Subscription Identifiers is counted once per identifier.
   */
  private message(m: MqttMessage, filter: string | null): void {
    this.o.metrics.brokerIn++;
    const h = this.handlers;
    if (!h) return;
    const payload = m.buf.subarray(m.payloadOffset, m.payloadOffset + m.payloadLength);
    h.onMessage(null, m.topic(), payload, m.qos, m.retain, filter);
  }

  subscribe(clientId: string, filter: string, qos: number, done: (granted: number) => void): void {
    let f = this.filters.get(filter);
    if (!f) {
      f = { holders: new Map(), pending: 0, handler: this.v5 ? (m) => this.message(m, filter) : null };
      this.filters.set(filter, f);
    }
    const before = f.holders.get(clientId);
    f.holders.set(clientId, qos);
    f.pending++;
    const ref = f;
    // QoS 2 whatever the client asked for: see the module comment.
    const r = this.conn.subscribe(filter, 2, (code) => this.subAck(filter, ref, clientId, qos, before, code, done), ref.handler);
    if (r < 0) {
      this.o.log.warn('broker link cannot subscribe', { filter, status: reasonText(r) });
      later(() => this.subAck(filter, ref, clientId, qos, before, 0x80, done));
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

  forget(clientId: string): void {
    this.clients.delete(clientId); // the Will goes with it, unpublished
    this.dropFilters(clientId);
  }

  /** Publishes the birth message (after a reconnect: the broker may have published the Will). */
  private publishBirth(b: LinkWill): void {
    later(() => {
      const r = this.conn.publish(b.topic, b.payload, b.qos, b.retain, null);
      if (r === 0) this.o.metrics.brokerOut++;
      else this.o.log.warn('could not publish the birth message after a reconnect', { topic: b.topic, status: reasonText(r) });
    });
  }

  /** Unsubscribes the shared connection from `filter`, which nobody holds any more. */
  private release(filter: string, done: () => void): void {
    this.filters.delete(filter);
    // A SUBSCRIBE still awaiting its SUBACK is answered by the connection before the UNSUBACK.
    if (this.conn.unsubscribe(filter, () => done()) < 0) later(done); // not held by the connection: nothing to wait for
  }

  /**
   * The SUBACK of one client's SUBSCRIBE of `filter` (`before`: the QoS that client held it at
   * until then, if it did). Granted: answered min(`qos`, granted). Refused: the client holds
   * what it held before (the broker keeps an existing subscription when it refuses a
   * repeated SUBSCRIBE), or nothing; a filter nobody holds any more is unsubscribed.
   */
  private subAck(filter: string, f: FilterRef, clientId: string, qos: number, before: number | undefined, code: number, done: (granted: number) => void): void {
    f.pending--;
    if (code >= 0x80 && f.holders.get(clientId) === qos) {
      if (before === undefined) f.holders.delete(clientId);
      else f.holders.set(clientId, before);
    }
    if (f.holders.size === 0 && f.pending === 0 && this.filters.get(filter) === f) this.release(filter, () => {});
    done(code >= 0x80 ? 0x80 : Math.min(qos, code));
  }

  /** Removes `clientId` from every filter; filters nobody holds any more are unsubscribed. */
  private dropFilters(clientId: string): void {
    for (const [filter, f] of this.filters) {
      if (f.holders.delete(clientId) && f.holders.size === 0) this.release(filter, () => {});
    }
  }
}
