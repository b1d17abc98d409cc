/**
 * The transparent broker link (MQTT-SN 1.2 §4.1, Fig. 2): every MQTT-SN client gets its own
 * MQTT connection, opened with the client's ClientId, CleanSession and Will, so the broker
 * sees each sensor as itself (its ACLs, its session, its Will). A lost client's connection is
 * closed without DISCONNECT and the broker publishes the Will. The gateway also keeps one
 * connection of its own for QoS -1 messages from unconnected senders and `$SYS` counters.
 *
 * Each connection keeps reconnecting after a broker restart; its outbox re-sends what the
 * broker had not acknowledged. Memory per connection is its fixed buffers (see `sizes`).
 *
 * Connections of one client id never overlap at the broker: a new connection for an id (the
 * client reconnected) is opened only once the previous one is closed, so the broker never sees
 * a session takeover, which would publish the previous connection's Will.
 */
import type { BrokerConfig } from '../config/schema';
import type { Logger } from '../log';
import type { GatewayMetrics } from '../metrics';
import { BrokerConnection, Ticker, connackText, isPermanentRefusal, later, lostText, publishOn, startError, refusalError, unwritableError, type ConnectionSizes } from './connection';
import {
  LINK_NO_CLIENT,
  type BrokerLink,
  type BrokerLinkHandlers,
  type LinkClient,
  type LinkWill,
} from './link';

/** Options of {@link TransparentLink}. */
export interface TransparentOptions {
  broker: BrokerConfig;
  /** MQTT client id of the gateway's own connection. */
  gatewayClientId: string;
  /** Buffers of each client's connection. */
  sizes: ConnectionSizes;
  /** Buffers of the gateway's own connection. */
  gatewaySizes: ConnectionSizes;
  now: () => number;
  log: Logger;
  metrics: GatewayMetrics;
  /** Longest wait for a client's CONNACK before answering the MQTT-SN CONNECT with congestion, ms. */
  connectTimeout: number;
  /** Longest wait for the gateway connection's first CONNACK in `start`, ms. */
  startTimeout: number;
  /** Will of the gateway's own connection (e.g. `$SYS/…/state` = `offline`), or null. */
  gatewayWill?: LinkWill | null;
  /** Published on the gateway's own connection each time it is up again after a loss (e.g. `state` = `online`), or null. */
  gatewayBirth?: LinkWill | null;
}

interface ClientConn {
  conn: BrokerConnection;
  /** Set when a connection opened with `failFast` ended on an unreachable broker (see `isPermanentRefusal`). */
  unreachable: Error | null;
  /** Set when its CONNECT could never be written (the client gave up: the status; see `unwritableText`). */
  gaveUp: number | null;
  /** Pending CONNECT answer, until the first CONNACK or the timeout. */
  connecting: ((returnCode: number, refusal: number | null) => void) | null;
  timer: NodeJS.Timeout | null;
  up: boolean;
  closed: boolean;
}

/** One broker connection per MQTT-SN client; see the module comment. */
export class TransparentLink implements BrokerLink {
  readonly mode = 'transparent' as const;
  handlers: BrokerLinkHandlers | null = null;
  private readonly o: TransparentOptions;
  private readonly ticker = new Ticker(200);
  private readonly conns = new Map<string, ClientConn>();
  /** Closes still in progress, by client id: a new connection for the id waits for them. */
  private readonly closing = new Map<string, Promise<void>>();
  private own: ClientConn | null = null;
  private starting: Promise<void> | null = null;
  private stopped = false;

  constructor(o: TransparentOptions) {
    this.o = o;
  }

  start(): Promise<void> {
    if (this.starting) return this.starting;
    if (this.stopped) return Promise.reject(new Error('broker link: start after stop (build a new link)'));
    this.starting = new Promise((resolve, reject) => {
      const c = this.open(
        this.o.gatewayClientId,
        true,
        this.o.gatewayWill ?? null,
        this.o.gatewaySizes,
        (rc, refusal) => {
          if (rc === 0) {
            resolve();
            return;
          }
          if (this.own === c) this.own = null;
          reject(
            this.stopped
              ? new Error(`broker link to ${this.o.broker.url} stopped before it connected`)
              : c.unreachable
                ? refusalError(this.o.broker.url, c.unreachable)
                : c.gaveUp !== null
                  ? unwritableError(this.o.broker.url, c.gaveUp, "the gateway's connection")
                  : startError(this.o.broker.url, this.o.startTimeout, refusal, c.conn.lastError, "the gateway's connection"),
          );
        },
        this.o.startTimeout,
        true,
      );
      this.own = c;
    });
    return this.starting;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    const all = [...this.conns.values()];
    this.conns.clear();
    const own = this.own;
    this.own = null;
    if (own) all.push(own);
    for (const c of all) {
      // A pending CONNECT answer (or `start`) is given now: congestion / "stopped".
      const f = c.connecting;
      c.connecting = null;
      this.close(c, true);
      if (f) later(() => f(1, null));
    }
    await Promise.all([...this.closing.values()]);
    this.o.metrics.brokerConnections = 0;
  }

  connect(c: LinkClient, done: (returnCode: number) => void): void {
    if (this.stopped) {
      later(() => done(1));
      return;
    }
    const prev = this.conns.get(c.clientId);
    if (prev) {
      // The client reconnected: its old broker connection goes (no Will: it is back). Its
      // pending CONNECT answer, if any, is not given: this connect supersedes it.
      this.conns.delete(c.clientId);
      this.close(prev, true);
    }
    const cc = this.open(c.clientId, c.cleanSession, c.will, this.o.sizes, (rc) => done(rc), this.o.connectTimeout);
    this.conns.set(c.clientId, cc);
  }

  disconnect(clientId: string, publishWill: boolean): void {
    const c = this.conns.get(clientId);
    if (!c) return;
    this.conns.delete(clientId);
    this.close(c, !publishWill);
    if (publishWill) this.o.log.info('closed the broker connection of a lost client: the broker publishes its Will', { clientId });
  }

  forget(clientId: string): void {
    // Nothing is kept for a client without a connection; one still open goes without its Will.
    const c = this.conns.get(clientId);
    if (!c) return;
    this.conns.delete(clientId);
    this.close(c, true);
  }

  setWill(clientId: string, will: LinkWill | null, done: (returnCode: number) => void): void {
    const c = this.conns.get(clientId);
    if (!c) {
      later(() => done(3));
      return;
    }
    let answered = false;
    const answer = (rc: number): void => {
      if (answered) return;
      answered = true;
      clearTimeout(timer);
      done(rc);
    };
    // 1 (congestion) when the broker does not take the new Will in time; the connection keeps trying.
    const timer = setTimeout(() => answer(1), this.o.connectTimeout);
    c.conn.setWill(will, (code) => answer(code === 0 ? 0 : c.closed ? 1 : 3));
  }

  publish(clientId: string | null, topic: string, payload: Uint8Array, qos: number, retain: boolean, done: ((reasonCode: number) => void) | null): number {
    const c = clientId === null ? this.own : this.conns.get(clientId);
    if (!c) return LINK_NO_CLIENT;
    return publishOn(c.conn, this.o, clientId, topic, payload, qos, retain, done);
  }

  subscribe(clientId: string, filter: string, qos: number, done: (granted: number) => void): void {
    const c = this.conns.get(clientId);
    if (!c || c.conn.subscribe(filter, qos, (code) => done(code >= 0x80 ? 0x80 : code)) < 0) later(() => done(0x80));
  }

  unsubscribe(clientId: string, filter: string, done: () => void): void {
    const c = this.conns.get(clientId);
    if (!c || c.conn.unsubscribe(filter, () => done()) < 0) later(done);
  }

  /**
   * Opens one broker connection (once any earlier connection of the same id is closed);
   * `answer(rc, refusal)` once: at the first CONNACK (0, or 3 with the broker's code) or at the
   * timeout (1). `failFast`: also 1 at the first unreachable-broker socket error
   * (`isPermanentRefusal`; `unreachable` then holds it), instead of at the timeout.
   */
  private open(
    clientId: string,
    cleanSession: boolean,
    will: LinkWill | null,
    sizes: ConnectionSizes,
    answer: (returnCode: number, refusal: number | null) => void,
    timeout: number,
    failFast = false,
  ): ClientConn {
    const o = this.o;
    const isOwn = sizes === o.gatewaySizes && clientId === o.gatewayClientId;
    const cc: ClientConn = {
      conn: null as unknown as BrokerConnection,
      unreachable: null,
      gaveUp: null,
      connecting: null,
      timer: null,
      up: false,
      closed: false,
    };
    const finish = (rc: number, refusal: number | null): void => {
      const f = cc.connecting;
      if (!f) return;
      cc.connecting = null;
      if (cc.timer) clearTimeout(cc.timer);
      cc.timer = null;
      if (rc !== 0) {
        if (this.conns.get(clientId) === cc) this.conns.delete(clientId);
        if (this.own === cc) this.own = null;
        // Refused, or no broker there: nothing to close gracefully. A client's connection that
        // timed out: a CONNACK may still come, so the close waits for it and sends DISCONNECT (no
        // stray Will). The gateway's own at `start`: closed at once (a failed start must leave
        // nothing running; its Will, if the broker did accept it, says the truth: offline).
        this.close(cc, refusal === null && cc.unreachable === null && cc.gaveUp === null && !failFast);
      }
      f(rc, refusal);
    };
    cc.connecting = answer;
    cc.conn = new BrokerConnection({
      broker: o.broker,
      clientId,
      cleanSession,
      will,
      sizes,
      now: o.now,
      log: o.log,
      ticker: this.ticker,
      onConnect: (code, sessionPresent) => {
        if (code === 0) {
          if (o.log.enabled('debug')) o.log.debug('broker connection up', { clientId, sessionPresent });
          if (!cc.up) {
            cc.up = true;
            o.metrics.brokerConnections++;
            const birth = o.gatewayBirth;
            if (isOwn && birth && cc.conn.wasConnectedBefore) {
              // Back after a loss: the broker may have published the Will meanwhile.
              later(() => {
                if (cc.conn.publish(birth.topic, birth.payload, birth.qos, birth.retain, null) === 0) o.metrics.brokerOut++;
                else o.log.warn('could not publish the birth message after a reconnect', { topic: birth.topic });
              });
            }
            this.handlers?.onConnection?.(isOwn ? null : clientId, true);
          }
          finish(0, null);
        } else {
          o.log.warn('broker refused a client connection', { clientId, code, reason: connackText(code) });
          finish(3, code); // MQTT-SN "rejected: not supported" (§5.3.10)
        }
      },
      onSocketError: (e) => {
        if (failFast && cc.connecting && isPermanentRefusal(e)) {
          cc.unreachable = e;
          finish(1, null);
        }
      },
      onGaveUp: (reason) => {
        // Its CONNECT can never be written (logged by the connection): "rejected: not supported" at once.
        cc.gaveUp = reason;
        finish(3, null);
      },
      onLost: (reason) => {
        if (cc.up) {
          cc.up = false;
          o.metrics.brokerConnections--;
          o.log.warn('broker connection lost, reconnecting', { clientId, reason: lostText(reason) });
          this.handlers?.onConnection?.(isOwn ? null : clientId, false);
        }
      },
      onMessage: (m) => {
        o.metrics.brokerIn++;
        const h = this.handlers;
        if (!h) return;
        const payload = m.buf.subarray(m.payloadOffset, m.payloadOffset + m.payloadLength);
        h.onMessage(isOwn ? null : clientId, m.topic(), payload, m.qos, m.retain);
      },
    });
    cc.timer = setTimeout(() => finish(1, null), timeout); // MQTT-SN "rejected: congestion": try later
    const prior = this.closing.get(clientId);
    if (prior) {
      void prior.then(() => {
        if (!cc.closed) cc.conn.start();
      });
    } else cc.conn.start();
    return cc;
  }

  /** Closes one connection (gracefully: DISCONNECT, no Will); later connections of the id wait for it. */
  private close(c: ClientConn, graceful: boolean): void {
    if (c.closed) return;
    c.closed = true;
    if (c.timer) clearTimeout(c.timer);
    c.timer = null;
    c.connecting = null;
    if (c.up) {
      c.up = false;
      this.o.metrics.brokerConnections--;
    }
    const id = c.conn.clientId;
    const before = this.closing.get(id);
    // Chained: a close never finishes before an earlier close of the same id (`c` cannot
    // have started before that one ended, see `open`).
    const p = before ? before.then(() => c.conn.stop(graceful)) : c.conn.stop(graceful);
    this.closing.set(id, p);
    void p.then(() => {
      if (this.closing.get(id) === p) this.closing.delete(id);
    });
  }
}
