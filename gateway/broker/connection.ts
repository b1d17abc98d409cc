/**
 * One MQTT connection of the gateway to the broker: fieldmq's own {@link MqttClient} over a
 * Node TCP or TLS transport, driven by the event loop. The client's outbox keeps QoS 1/2
 * messages until the broker acknowledges them and re-sends them with DUP after a reconnect
 * (MQTT 3.1.1 §4.4), so a broker restart loses nothing the gateway took.
 *
 * Driving: a socket event or a publish marks the connection dirty; dirty connections are
 * polled once per event-loop turn (`setImmediate`), so a burst of publishes leaves in one
 * socket write. A shared {@link Ticker} polls every connection for keep-alive and reconnect.
 *
 * What this layer adds to the bare client:
 * - **SUBSCRIBE / UNSUBSCRIBE survive link drops.** The client sends a subscription only while
 *   connected and re-sends its table only after a reconnect *without* a session; an operation
 *   asked while the link is down, or lost in flight, would never reach a persistent session.
 *   Every operation is kept here until acknowledged and re-issued, in order, after a reconnect.
 *   Each has its own completion callback.
 * - **Graceful closes are ordered.** A graceful stop waits (bounded) for the outbox to drain and
 *   for a pending CONNACK, sends DISCONNECT, and keeps the socket until the broker closed it
 *   (bounded): a later connection with the same client id never reaches the broker before the
 *   DISCONNECT was handled, which would be a session takeover, and brokers publish the old
 *   Will on a takeover (MQTT 5.0 §3.1.4; Mosquitto and Aedes do it for 3.1.1 as well).
 * - **Every callback is answered once**: a publish, subscribe or unsubscribe still pending when
 *   the connection stops is answered with 0x80 (publish / subscribe) or completed (unsubscribe).
 * - **The outbox never drops silently**: `publish` answers {@link Status.Full} when the outbox
 *   is full, instead of letting the client drop its oldest queued QoS 0 message.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { MqttClient, ClientState, type MessageHandler, type MqttMessage, type MqttClientOptions } from '../../src/mqtt/client';
import type { MqttProperties } from '../../src/mqtt/properties';
import { topicFilterLength } from '../../src/mqtt/topic';
import { Status, statusName } from '../../src/core/status';
import { NodeTcpTransport } from '../../src/platform/node/tcp';
import { NodeTlsTransport } from '../../src/platform/node/tls';
import type { NodeSocketTransport } from '../../src/platform/node/socket';
import { TransportState, type Transport } from '../../src/transport';
import type { BrokerConfig } from '../config/schema';
import { LINK_FULL, LINK_REJECTED, type LinkWill } from './link';
import type { Logger } from '../log';
import type { GatewayMetrics } from '../metrics';

/** Sizes of one connection's fixed buffers. */
export interface ConnectionSizes {
  /** Largest MQTT packet either way, bytes. */
  maxPacketSize: number;
  /** Outbox slots (queued + in-flight messages). */
  queueSize: number;
  /** QoS 1/2 messages in flight at once. */
  maxInflight: number;
  /** Subscriptions the connection holds. */
  maxSubscriptions: number;
  /**
   * Inbound QoS 2 messages awaiting PUBREL: MQTT 5 announces it as the Receive Maximum; with
   * MQTT 3.1.1 it must cover the broker's in-flight window (Mosquitto `max_inflight_messages`).
   */
  maxInbound: number;
  /** Socket buffers: receive ring and write staging, bytes (default: the Node adapter's, 4 KB and 16 KB). */
  rxCapacity?: number;
  writeBatch?: number;
}

/** What a {@link BrokerConnection} is built from. */
export interface ConnectionOptions {
  broker: BrokerConfig;
  clientId: string;
  cleanSession: boolean;
  /**
   * With `cleanSession` false: start the persistent session afresh. The first connection
   * discards whatever session the broker kept for this client id (an earlier run's
   * subscriptions, which would keep sending messages nobody here holds, and its queued
   * messages): a clean CONNECT (CleanSession / Clean Start = 1), DISCONNECT, then the
   * persistent CONNECT; the reconnects after it resume the new session.
   */
  freshSession?: boolean;
  will: LinkWill | null;
  sizes: ConnectionSizes;
  now: () => number;
  log: Logger;
  ticker: Ticker;
  /** Longest wait for a CONNACK once the socket is open, ms (the client's own timeout). Default 10,000. */
  connectTimeout?: number;
  /** Longest wait, in a graceful stop, for the outbox to drain and a pending CONNACK, ms. Default {@link DRAIN_MS}. */
  drainMs?: number;
  /** Longest wait, after DISCONNECT, for the broker to close the socket, ms. Default {@link LINGER_MS}. */
  lingerMs?: number;
  /** CONNACK accepted (0) or refused (MQTT return / reason code). */
  onConnect(code: number, sessionPresent: boolean): void;
  /**
   * A socket error (e.g. `connect ECONNREFUSED`), at each attempt that fails; the client goes
   * on reconnecting unless stopped. See {@link isPermanentRefusal}.
   */
  onSocketError?(e: Error): void;
  /** The connection was lost (the client reconnects by itself unless stopped). */
  onLost(reason: number): void;
  /**
   * The CONNECT can never be written (a string not UTF-8, larger than the send buffer: see
   * {@link unwritableText}), so the client gave up and stays idle; logged (warn) already.
   * A new Will that cannot be written does not come here: the old one is kept (see `setWill`).
   */
  onGaveUp?(reason: number): void;
  onMessage(m: MqttMessage): void;
}

/** Default bound of the drain before a graceful DISCONNECT, ms. */
export const DRAIN_MS = 2000;
/** Default bound of the wait for the broker to close the socket after DISCONNECT, ms. */
export const LINGER_MS = 2000;

/** MQTT 5 "Unspecified error": the answer to an operation abandoned because its connection stopped. */
export const ABANDONED = 0x80;

/** Polls a set of connections every `interval` ms while any is registered. */
export class Ticker {
  private readonly conns = new Set<BrokerConnection>();
  private timer: NodeJS.Timeout | null = null;
  constructor(private readonly interval: number) {}

  add(c: BrokerConnection): void {
    this.conns.add(c);
    if (this.timer === null) {
      this.timer = setInterval(() => {
        for (const x of this.conns) x.poll();
      }, this.interval);
      this.timer.unref();
    }
  }

  delete(c: BrokerConnection): void {
    this.conns.delete(c);
    if (this.conns.size === 0 && this.timer !== null) {
      clearInterval(this.timer);
      this.timer = null;
    }
  }
}

/** Reads the TLS files of a broker config (PEM); a CA directory contributes every `.pem`/`.crt` in it. */
export function readTlsFiles(broker: BrokerConfig): { ca?: Buffer[]; cert?: Buffer; key?: Buffer } {
  const tls = broker.tls;
  if (!tls) return {};
  const read = (what: string, path: string): Buffer => {
    try {
      return readFileSync(path);
    } catch (e) {
      throw new Error(`cannot read the broker TLS ${what} "${path}": ${(e as Error).message}`);
    }
  };
  const ca: Buffer[] = [];
  if (tls.ca) ca.push(read('CA file', tls.ca));
  if (tls.caPath) {
    let names: string[];
    try {
      names = readdirSync(tls.caPath);
    } catch (e) {
      throw new Error(`cannot read the broker TLS CA directory "${tls.caPath}": ${(e as Error).message}`);
    }
    for (const n of names) if (/\.(pem|crt)$/i.test(n)) ca.push(read('CA file', join(tls.caPath, n)));
  }
  const out: { ca?: Buffer[]; cert?: Buffer; key?: Buffer } = {};
  if (ca.length > 0) out.ca = ca;
  if (tls.cert) out.cert = read('client certificate', tls.cert);
  if (tls.key) out.key = read('client key', tls.key);
  return out;
}

/*
 * The Node transports end a socket with `destroySoon()`, which waits for the connection to be
 * established before it closes: a socket still connecting to an unreachable host would stay
 * (and keep the process alive) until the SYN times out, minutes later. Closed while opening,
 * these destroy it at once.
 */
class LinkTcpTransport extends NodeTcpTransport {
  override close(): void {
    const s = this.state() === TransportState.Opening ? this.socket : null;
    super.close();
    s?.destroy();
  }
}

class LinkTlsTransport extends NodeTlsTransport {
  override close(): void {
    const s = this.state() === TransportState.Opening ? this.socket : null;
    super.close();
    s?.destroy();
  }
}

/** Builds the transport a broker config asks for (TCP, or TLS when `tls` is set), with the socket buffers of `sizes`. */
export function brokerTransport(broker: BrokerConfig, sizes?: Pick<ConnectionSizes, 'rxCapacity' | 'writeBatch'>): NodeSocketTransport {
  const o = { host: broker.host, port: broker.port, rxCapacity: sizes?.rxCapacity, writeBatch: sizes?.writeBatch };
  if (broker.tls || broker.url.startsWith('mqtts:')) return new LinkTlsTransport({ ...o, ...readTlsFiles(broker) });
  return new LinkTcpTransport(o);
}

/**
 * The connection's transport: one Node socket transport behind the {@link Transport} contract,
 * plus a lingering close. When {@link LingeringTransport.lingerNextClose} is set (a DISCONNECT was
 * just written), `close` keeps the socket, reading and discarding, until the broker closes it
 * or `lingerMs` pass; an `open` meanwhile reports Opening and really opens once the old socket
 * is gone. Any other close is immediate (no DISCONNECT: the broker publishes the Will).
 */
class LingeringTransport implements Transport {
  onReadable: (() => void) | null = null;
  onWritable: (() => void) | null = null;
  /** Set just before the client writes DISCONNECT and closes. */
  lingerNextClose = false;
  /** The last socket error seen (for "cannot connect" messages). */
  lastError: Error | null = null;
  /** Called with each new socket error of the current socket (not of a lingering one); may run inside a client call. */
  onError: ((e: Error) => void) | null = null;
  private lingering = false;
  private reopen = false;
  private timer: NodeJS.Timeout | null = null;
  private readonly sink = new Uint8Array(1024);
  private readonly closedWaiters: (() => void)[] = [];

  constructor(
    private readonly inner: NodeSocketTransport,
    private readonly lingerMs: number,
  ) {
    inner.onReadable = () => {
      if (this.lingering) {
        this.sinkOld();
        return;
      }
      this.noteError();
      if (this.onReadable) this.onReadable();
    };
    inner.onWritable = () => {
      if (!this.lingering && this.onWritable) this.onWritable();
    };
  }

  open(): number {
    if (this.lingering) {
      if (this.reopen) return Status.IllegalState;
      this.reopen = true;
      return Status.Ok;
    }
    this.noteError(); // the previous attempt's, if the client closed it before its 'close' event
    const r = this.inner.open();
    if (r < 0) this.noteError();
    return r;
  }

  /** Records the inner transport's error, if new, and tells `onError`. */
  private noteError(): void {
    const e = this.inner.lastError;
    if (!e || e === this.lastError) return;
    this.lastError = e;
    if (this.onError) this.onError(e);
  }

  close(): void {
    this.reopen = false;
    if (this.lingering) return;
    const linger = this.lingerNextClose && this.inner.state() === TransportState.Open;
    this.lingerNextClose = false;
    this.noteError(); // a socket error the client saw as Closed before its 'close' event came
    if (!linger) {
      this.inner.close();
      this.settled();
      return;
    }
    this.lingering = true;
    this.timer = setTimeout(() => this.endLinger(), this.lingerMs);
    this.timer.unref();
    this.sinkOld();
  }

  state(): number {
    if (this.lingering) return this.reopen ? TransportState.Opening : TransportState.Closed;
    return this.inner.state();
  }

  recv(buf: Uint8Array, off: number, len: number): number {
    if (this.lingering) return this.reopen ? 0 : Status.Closed;
    return this.inner.recv(buf, off, len);
  }

  send(buf: Uint8Array, off: number, len: number): number {
    if (this.lingering) return this.reopen ? Status.IllegalState : Status.Closed;
    return this.inner.send(buf, off, len);
  }

  /** Calls `f` once no socket is lingering (at once when none is). */
  whenClosed(f: () => void): void {
    if (this.lingering) this.closedWaiters.push(f);
    else f();
  }

  /** Reads and discards what the lingering socket received; ends the linger once the broker closed it. */
  private sinkOld(): void {
    for (;;) {
      const n = this.inner.recv(this.sink, 0, this.sink.length);
      if (n > 0) continue;
      if (n < 0) this.endLinger();
      return;
    }
  }

  private endLinger(): void {
    if (!this.lingering) return;
    this.lingering = false;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.inner.close();
    if (this.reopen) {
      this.reopen = false;
      if (this.inner.open() < 0) this.noteError();
      // The client, in Opening, learns the outcome at its next poll.
      if (this.onReadable) this.onReadable();
    }
    this.settled();
  }

  private settled(): void {
    const w = this.closedWaiters.splice(0);
    for (const f of w) f();
  }
}

const SESSION_EXPIRY = 86_400; // MQTT 5: keep a non-clean session a day after the link drops

/** A SUBSCRIBE (`qos` 0..2) or UNSUBSCRIBE (`qos` -1) not acknowledged yet. */
interface SubOp {
  filter: string;
  qos: number;
  /** Where the subscription's messages go (null: `onMessage`). */
  handler: MessageHandler | null;
  /** Handed to the client while connected (else it is sent after the next CONNACK). */
  sent: boolean;
  done: (code: number) => void;
}

/**
 * `BrokerLink.publish` on `conn`, for both links: 0 (counted in `brokerOut`), {@link LINK_FULL}
 * (the outbox is full: try again), or {@link LINK_REJECTED} (MQTT cannot carry it; logged at debug).
 */
export function publishOn(
  conn: BrokerConnection,
  o: { metrics: GatewayMetrics; log: Logger },
  clientId: string | null,
  topic: string,
  payload: Uint8Array,
  qos: number,
  retain: boolean,
  done: ((reasonCode: number) => void) | null,
): number {
  const r = conn.publish(topic, payload, qos, retain, done);
  if (r === 0) {
    o.metrics.brokerOut++;
    return 0;
  }
  if (r === Status.Full) return LINK_FULL;
  if (o.log.enabled('debug')) o.log.debug('broker link cannot carry a message', { clientId, topic, status: reasonText(r) });
  return LINK_REJECTED;
}

/** Calls `f` in a later turn of the event loop (the links never call back synchronously). */
export function later(f: () => void): void {
  setImmediate(f);
}

/** One MQTT connection to the broker; see the module comment. */
export class BrokerConnection {
  readonly client: MqttClient;
  readonly clientId: string;
  private readonly transport: LingeringTransport;
  private readonly opts: ConnectionOptions;
  /** The client reads `will` from here at every CONNECT, which is how `setWill` takes effect. */
  private readonly clientOptions: MqttClientOptions;
  /** QoS 1/2 completions by packet id. */
  private readonly done = new Map<number, (code: number) => void>();
  /** SUBSCRIBE / UNSUBSCRIBE not acknowledged yet, in call order. */
  private readonly ops: SubOp[] = [];
  /** Filters held from the caller's point of view (the client's table may lag while offline). */
  private readonly held = new Set<string>();
  /** Answers of `setWill` calls, given at the CONNACK of the connection carrying the new Will. */
  private willDones: ((code: number) => void)[] = [];
  /** True once the CONNECT that carries the latest Will can be the next one sent. */
  private willArmed = false;
  /** A reconnect for a new Will is waiting for the drain. */
  private willReconnect = false;
  /** The Will before `setWill`, until a CONNACK takes the new one: put back if the new one cannot be sent. */
  private prevWill: { will: MqttClientOptions['will'] } | null = null;
  /** Called from `poll` once nothing is left to drain (or at the deadline). */
  private drainWaiter: (() => void) | null = null;
  private drainTimer: NodeJS.Timeout | null = null;
  private dirty = false;
  private polling = false;
  private stopped = false;
  private stopping: Promise<void> | null = null;
  private accepted = 0;
  /** The old session is still to be discarded (see {@link ConnectionOptions.freshSession}). */
  private wipe: boolean;

  constructor(o: ConnectionOptions) {
    this.opts = o;
    this.clientId = o.clientId;
    this.transport = new LingeringTransport(brokerTransport(o.broker, o.sizes), o.lingerMs ?? LINGER_MS);
    const b = o.broker;
    const v5 = b.protocolVersion === 5;
    const properties: MqttProperties | undefined = v5 && !o.cleanSession ? { sessionExpiryInterval: SESSION_EXPIRY } : undefined;
    this.clientOptions = {
      transport: this.transport,
      clientId: o.clientId,
      version: b.protocolVersion,
      keepAlive: b.keepAlive,
      cleanSession: o.cleanSession,
      username: b.username ?? undefined,
      password: b.password ?? undefined,
      will: copyWill(o.will) ?? undefined,
      properties,
      maxPacketSize: o.sizes.maxPacketSize,
      queueSize: o.sizes.queueSize,
      maxInflight: o.sizes.maxInflight,
      maxSubscriptions: o.sizes.maxSubscriptions,
      maxInbound: o.sizes.maxInbound,
      connectTimeout: o.connectTimeout,
      reconnectMin: 500,
      reconnectMax: 30_000,
      onConnect: (code, sp) => this.connack(code, sp),
      onDisconnect: (reason) => {
        if (this.stopped) return;
        // Idle without a stop: the client gave up on a CONNECT it can never write.
        if (this.client.state === ClientState.Idle && !this.isStopped) return this.gaveUp(reason);
        // Completions of messages still in the outbox come after the reconnect.
        o.onLost(reason);
      },
      onMessage: (m) => o.onMessage(m),
      onPublished: (id, code) => {
        const d = this.done.get(id);
        if (d) {
          this.done.delete(id);
          d(code);
        }
      },
      onSubscribed: (f, code) => this.subAck(f, code),
      onUnsubscribed: (f, code) => this.unsubAck(f, code),
      onDropped: (total) => o.log.error('broker connection dropped queued QoS 0 messages (should not happen)', { clientId: o.clientId, total }),
      onWritable: () => this.schedule(),
    };
    this.wipe = o.freshSession === true && !o.cleanSession;
    if (this.wipe) this.clientOptions.cleanSession = true;
    this.client = new MqttClient(this.clientOptions);
    this.transport.onReadable = () => this.schedule();
    this.transport.onWritable = () => this.schedule();
    // Told in a later turn: the error may be noticed inside a client call (its transport close).
    this.transport.onError = (e) => {
      if (o.onSocketError) {
        later(() => {
          if (!this.isStopped) o.onSocketError!(e);
        });
      }
    };
  }

  /** True, in `onConnect`, when an earlier CONNACK had accepted this connection too (it is a reconnect). */
  get wasConnectedBefore(): boolean {
    return this.accepted > 1;
  }

  /** True while connected (CONNACK accepted). */
  get connected(): boolean {
    return this.client.state === ClientState.Connected;
  }

  /** True once `stop` was called. */
  get isStopped(): boolean {
    return this.stopped || this.stopping !== null;
  }

  /** The last socket error (e.g. `connect ECONNREFUSED`), for messages; null when none. */
  get lastError(): Error | null {
    return this.transport.lastError;
  }

  /** Starts connecting (and reconnecting after losses). */
  start(): void {
    if (this.isStopped) return;
    this.opts.ticker.add(this);
    this.client.start(this.opts.now() >>> 0);
    this.schedule();
  }

  /**
   * Publishes; returns 0, or a negative {@link Status} (`Full`: outbox full; `Closed`: stopped;
   * others: the message can never be carried — bad topic, too large). For QoS 1/2, `done` runs
   * once: at PUBACK / PUBCOMP, or with {@link ABANDONED} when the connection stops first.
   */
  publish(topic: string, payload: Uint8Array, qos: number, retain: boolean, done: ((code: number) => void) | null): number {
    if (this.isStopped) return Status.Closed;
    // The client would make room by dropping its oldest queued QoS 0 message: refuse instead.
    if (this.client.pending >= this.opts.sizes.queueSize) return Status.Full;
    const r = this.client.publish(topic, payload, qos, retain);
    if (r < 0) return r;
    if (qos > 0 && done) {
      if (r > 0) this.done.set(r, done);
      else later(() => done(0)); // downgraded to QoS 0 by the server's Maximum QoS (MQTT 5 §3.2.2.3.4)
    }
    this.schedule();
    return 0;
  }

  /**
   * Subscribes; `done(code)` runs once with the granted QoS (at most `qos`) or a code >= 0x80.
   * Messages for the subscription go to `handler` (MQTT 5: by Subscription Identifier, so a copy
   * reaches exactly the handlers of the subscriptions it is for; 3.1.1: by filter match), or to
   * `onMessage` when it is null. Returns {@link Status.Ok}, or a negative status (bad filter,
   * table full, stopped) and then `done` is not called.
   */
  subscribe(filter: string, qos: number, done: (code: number) => void, handler: MessageHandler | null = null): number {
    if (this.isStopped) return Status.Closed;
    if (qos < 0 || qos > 2) return Status.BadParameter;
    const fl = topicFilterLength(filter);
    if (fl < 0) return fl;
    const r = this.client.subscribe(filter, qos, handler);
    if (r < 0) return r;
    this.held.add(filter);
    this.ops.push({ filter, qos, handler, sent: this.connected, done });
    this.schedule();
    return Status.Ok;
  }

  /**
   * Unsubscribes; `done(code)` runs once (the UNSUBACK's code, 0 in MQTT 3.1.1). Returns
   * {@link Status.Ok}, or {@link Status.NotFound} when the filter is not held (then `done` is
   * not called).
   */
  unsubscribe(filter: string, done: (code: number) => void): number {
    if (this.isStopped) return Status.Closed;
    if (!this.held.has(filter)) return Status.NotFound;
    this.held.delete(filter);
    const op: SubOp = { filter, qos: -1, handler: null, sent: false, done };
    if (this.connected) {
      if (this.client.unsubscribe(filter) < 0) {
        later(() => done(0)); // not in the client's table after all: nothing to wait for
        return Status.Ok;
      }
      op.sent = true;
    }
    this.ops.push(op);
    this.schedule();
    return Status.Ok;
  }

  /**
   * Replaces the Will (MQTT has no Will update on a live connection): the connection is
   * drained, closed with DISCONNECT (the old Will is not published) and opened again with the
   * new Will. `done(code)` at the CONNACK of that connection: 0 accepted, else the refusal code.
   */
  setWill(will: LinkWill | null, done: (code: number) => void): void {
    if (this.prevWill === null) this.prevWill = { will: this.clientOptions.will };
    this.clientOptions.will = copyWill(will) ?? undefined;
    if (this.isStopped) {
      later(() => done(ABANDONED));
      return;
    }
    this.willDones.push(done);
    const s = this.client.state;
    if (s === ClientState.Connecting || s === ClientState.Connected) {
      // The broker has (or is reading) a CONNECT with the old Will: reconnect once drained.
      this.willArmed = false;
      if (this.willReconnect) return;
      this.willReconnect = true;
      this.afterDrain(() => {
        this.willReconnect = false;
        if (this.stopped || this.stopping !== null) return; // stopping: answered by `halt`
        if (this.connected) this.transport.lingerNextClose = true;
        this.client.disconnect();
        this.willArmed = true;
        this.client.start(this.opts.now() >>> 0);
        this.schedule();
      });
    } else if (!this.willReconnect) this.willArmed = true; // the next CONNECT carries it
  }

  /**
   * Stops for good. `graceful`: the outbox drains and a pending CONNACK is awaited (both
   * bounded), then DISCONNECT (no Will) and the promise resolves once the broker closed the
   * socket (bounded). Otherwise the socket is closed at once without DISCONNECT, so the broker
   * publishes the Will (MQTT 3.1.1 §3.1.2.5). Whatever is still pending is answered (see the
   * module comment).
   */
  stop(graceful: boolean): Promise<void> {
    if (this.stopping) return this.stopping;
    if (!graceful) {
      this.halt(false);
      this.stopping = Promise.resolve();
      return this.stopping;
    }
    this.stopping = new Promise<void>((resolve) => {
      this.afterDrain(() => {
        this.halt(true);
        this.transport.whenClosed(resolve);
      });
    });
    return this.stopping;
  }

  /** Does the client's pending work now. */
  poll(): void {
    this.dirty = false;
    if (this.stopped || this.polling) return;
    this.polling = true;
    try {
      this.client.poll(this.opts.now() >>> 0);
    } finally {
      this.polling = false;
    }
    if (this.drainWaiter && !this.mustDrain()) this.endDrain();
  }

  /** Polls once in this turn of the event loop (coalesced). */
  schedule(): void {
    if (this.dirty || this.stopped) return;
    this.dirty = true;
    setImmediate(() => this.poll());
  }

  // ── internals ───────────────────────────────────────────────────────────

  /** True while a graceful close should wait: a CONNACK is pending, or accepted messages are not acknowledged yet. */
  private mustDrain(): boolean {
    const s = this.client.state;
    return s === ClientState.Connecting || (s === ClientState.Connected && this.client.pending > 0);
  }

  /** Runs `f` once `mustDrain()` is false (polled), or after the drain deadline. */
  private afterDrain(f: () => void): void {
    if (this.drainWaiter) {
      const g = this.drainWaiter;
      this.drainWaiter = () => {
        g();
        f();
      };
      return;
    }
    if (!this.mustDrain()) {
      f();
      return;
    }
    this.drainWaiter = f;
    this.drainTimer = setTimeout(() => this.endDrain(), this.opts.drainMs ?? DRAIN_MS);
    this.drainTimer.unref();
    this.schedule();
  }

  private endDrain(): void {
    const f = this.drainWaiter;
    this.drainWaiter = null;
    if (this.drainTimer) clearTimeout(this.drainTimer);
    this.drainTimer = null;
    if (f) f();
  }

  /** Stops polling and closes (with DISCONNECT when `graceful`); answers everything pending. */
  private halt(graceful: boolean): void {
    if (this.stopped) return;
    this.stopped = true;
    this.opts.ticker.delete(this);
    if (this.drainTimer) clearTimeout(this.drainTimer);
    this.drainTimer = null;
    this.drainWaiter = null;
    if (graceful) {
      if (!this.polling) this.client.poll(this.opts.now() >>> 0); // flush what is queued
      if (this.connected) this.transport.lingerNextClose = true;
      this.client.disconnect();
    } else this.transport.close();
    const dones = [...this.done.values()];
    this.done.clear();
    const ops = this.ops.splice(0);
    const wills = this.willDones.splice(0);
    if (dones.length + ops.length + wills.length > 0) {
      later(() => {
        for (const d of dones) d(ABANDONED);
        for (const op of ops) op.done(op.qos >= 0 ? ABANDONED : 0);
        for (const d of wills) d(ABANDONED);
      });
    }
  }

  /** The client's CONNACK callback (the client is already Connected when `code` is 0). */
  private connack(code: number, sessionPresent: boolean): void {
    if (code === 0 && this.wipe) {
      this.wipe = false;
      this.clientOptions.cleanSession = false; // every later CONNECT resumes the new session
      if (this.client.pending === 0) {
        // This clean session ends with this connection; the persistent one starts now. (MQTT 5
        // could do both at once, Clean Start with a Session Expiry, but Mosquitto 2.0 does not
        // save a session begun with Clean Start across its own restart.) With messages already
        // waiting to go out, they go out on this connection instead, and the session stays
        // clean until the next reconnect (what the broker would queue for a drop before then
        // is not kept). The links publish nothing before `start` resolves, so in the gateway
        // this does not happen.
        later(() => {
          if (this.isStopped || !this.connected) return;
          this.transport.lingerNextClose = true;
          this.client.disconnect();
          this.client.start(this.opts.now() >>> 0);
          this.schedule();
        });
        return;
      }
    }
    if (code === 0) {
      this.accepted++;
      this.replay(sessionPresent);
    }
    if (this.willArmed) {
      this.willArmed = false;
      const prev = this.prevWill;
      this.prevWill = null;
      // Refused with the new Will: the old one back, which the client's own reconnect carries
      // (else it would offer the refused one for ever).
      if (code !== 0 && prev !== null) this.clientOptions.will = prev.will;
      const w = this.willDones.splice(0);
      for (const d of w) d(code);
    }
    this.opts.onConnect(code, sessionPresent);
  }

  /** The client gave up: its CONNECT can never be written (`reason`, see {@link unwritableText}). */
  private gaveUp(reason: number): void {
    const o = this.opts;
    const prev = this.prevWill;
    if (prev !== null && this.willDones.length > 0) {
      // A new Will no CONNECT can carry: the old one back, the connection on, the update refused.
      o.log.warn('broker connection: the new Will cannot be sent, the old one stays', { clientId: this.clientId, reason: unwritableText(reason) });
      this.clientOptions.will = prev.will;
      this.prevWill = null;
      this.willArmed = false;
      const w = this.willDones.splice(0);
      later(() => {
        for (const d of w) d(ABANDONED);
      });
      this.client.start(o.now() >>> 0);
      this.schedule();
      return;
    }
    // warn, as a refused CONNECT is: a sensor that keeps offering such a Will must not flood the error log.
    o.log.warn('broker connection: its CONNECT cannot be written, so it is never sent', { clientId: this.clientId, reason: unwritableText(reason) });
    if (o.onGaveUp) o.onGaveUp(reason);
  }

  /**
   * After a CONNACK: re-issues every SUBSCRIBE / UNSUBSCRIBE not acknowledged, in order. The
   * client already re-sent its whole table when there was no session; a second SUBSCRIBE for
   * the same filter is harmless (the broker replaces it) and only its SUBACK is reported.
   */
  private replay(sessionPresent: boolean): void {
    if (this.ops.length === 0) return;
    const ops = this.ops.splice(0);
    for (const op of ops) {
      if (op.qos >= 0) {
        const r = this.client.subscribe(op.filter, op.qos, op.handler);
        if (r < 0) {
          later(() => op.done(0x80));
          continue;
        }
        op.sent = true;
        this.ops.push(op);
        continue;
      }
      // UNSUBSCRIBE. Not sent yet: the filter is still in the client's table.
      if (!op.sent) {
        if (this.client.unsubscribe(op.filter) < 0) later(() => op.done(0));
        else {
          op.sent = true;
          this.ops.push(op);
        }
        continue;
      }
      // Sent, and lost with the connection.
      if (!sessionPresent) {
        later(() => op.done(0)); // a new session holds no subscription
        continue;
      }
      // The session may still hold it: the client has sent it again (it keeps an UNSUBSCRIBE
      // until its UNSUBACK), and that UNSUBACK answers it. Subscribing the filter again here to
      // unsubscribe it once more let messages in between.
      this.ops.push(op);
    }
  }

  /**
   * SUBACK for `filter`: answers the pending SUBSCRIBEs of that filter issued before any
   * pending UNSUBSCRIBE of it (the client reports only the latest one; each gets at most its
   * own QoS).
   */
  private subAck(filter: string, code: number): void {
    const answered: SubOp[] = [];
    for (let i = 0; i < this.ops.length; ) {
      const op = this.ops[i];
      if (op.filter !== filter) {
        i++;
        continue;
      }
      if (op.qos < 0) break;
      this.ops.splice(i, 1);
      answered.push(op);
    }
    for (const op of answered) op.done(code >= 0x80 ? code : Math.min(op.qos, code));
  }

  /**
   * UNSUBACK for `filter`. SUBSCRIBEs of the filter still pending before it lost their SUBACK
   * (the client does not report a SUBACK for a filter no longer in its table): they are
   * answered first, with the QoS they asked for.
   */
  private unsubAck(filter: string, code: number): void {
    const answered: SubOp[] = [];
    for (let i = 0; i < this.ops.length; ) {
      const op = this.ops[i];
      if (op.filter !== filter) {
        i++;
        continue;
      }
      this.ops.splice(i, 1);
      answered.push(op);
      if (op.qos < 0) break;
    }
    for (const op of answered) op.done(op.qos >= 0 ? op.qos : code);
  }
}

/** A copy of `w` (the link keeps Wills; payloads passed in are the caller's). */
export function copyWill(w: LinkWill | null): LinkWill | null {
  return w ? { topic: w.topic, payload: w.payload.slice(), qos: w.qos, retain: w.retain } : null;
}

/** A human description of a client status, for logs. */
export function reasonText(code: number): string {
  return code < 0 ? statusName(code) : `code ${code}`;
}

/** Why a CONNECT cannot be written (the client gave up with this status), for messages. */
export function unwritableText(reason: number): string {
  if (reason === Status.InvalidUtf8) return 'InvalidUtf8 (a string in it, client id, user name, password or Will topic, is not valid UTF-8)';
  if (reason === Status.TooLarge) return 'TooLarge (it is larger than the send buffer: a Will, user name or password too large for the connection)';
  return statusName(reason);
}

/** The error of a link `start` whose CONNECT cannot be written. */
export function unwritableError(url: string, reason: number, who = 'the connection'): Error {
  return new Error(`broker ${url}: ${who}'s CONNECT cannot be written, so it is never sent: ${unwritableText(reason)}`);
}

/** Why a broker connection was lost (`onDisconnect`'s reason), for logs. */
export function lostText(code: number): string {
  // The one way MqttClient ends a connection with Full: more inbound QoS 2 messages than maxInbound.
  if (code === Status.Full) return 'Full (the broker sent more QoS 2 messages awaiting PUBREL than the connection holds; it sends the rest after the reconnect: nothing is lost. Frequent? A smaller backlog per session, e.g. Mosquitto max_queued_messages, keeps it under the limit)';
  return reasonText(code);
}

/** The meaning of a refusing CONNACK code (MQTT 3.1.1 §3.2.2.3, MQTT 5.0 §3.2.2.2), for messages. */
export function connackText(code: number): string {
  switch (code) {
    case 1:
    case 0x84:
      return 'unacceptable protocol version';
    case 2:
    case 0x85:
      return 'client identifier not valid';
    case 3:
    case 0x88:
      return 'server unavailable';
    case 4:
    case 0x86:
      return 'bad user name or password';
    case 5:
    case 0x87:
      return 'not authorized';
    case 0x8a:
      return 'banned';
    case 0x89:
      return 'server busy';
    default:
      return `code ${code}`;
  }
}

/** True for CONNACK codes worth a "check the user name and password" hint. */
export function isAuthRefusal(code: number): boolean {
  return code === 4 || code === 5 || code === 0x86 || code === 0x87 || code === 0x8c;
}

/**
 * Socket errors that end a `start` at once instead of at its timeout, because trying again will
 * not help: nothing listens at the broker's address (`ECONNREFUSED`), its host name does not
 * resolve (`ENOTFOUND`), or TLS failed: the broker's certificate is not trusted or does not match
 * ({@link TLS_CERT_CODES}, `ERR_TLS_CERT_ALTNAME_INVALID`), or the broker sent a TLS alert
 * (`ERR_SSL_…`, e.g. it requires a client certificate). Anything else (no route, a reset, a
 * timeout, a temporary DNS failure `EAI_AGAIN`) may pass, and `start` keeps trying until its
 * timeout, as it does for a broker that accepts TCP but never answers.
 */
export const REFUSAL_CODES: readonly string[] = ['ECONNREFUSED', 'ENOTFOUND'];

/** Node's codes for a server certificate that does not verify (`tls.TLSSocket.authorizationError`). */
export const TLS_CERT_CODES: readonly string[] = [
  'UNABLE_TO_GET_ISSUER_CERT', 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY', 'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'CERT_SIGNATURE_FAILURE', 'CERT_NOT_YET_VALID', 'CERT_HAS_EXPIRED', 'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN', 'CERT_CHAIN_TOO_LONG', 'CERT_REVOKED', 'INVALID_CA', 'CERT_UNTRUSTED',
  'CERT_REJECTED', 'HOSTNAME_MISMATCH', 'ERR_TLS_CERT_ALTNAME_INVALID',
];

/** True for a socket error in {@link REFUSAL_CODES} or a TLS failure (see there). */
export function isPermanentRefusal(e: Error): boolean {
  const code = (e as NodeJS.ErrnoException).code;
  return typeof code === 'string' && (REFUSAL_CODES.includes(code) || isTlsFailure(code));
}

function isTlsFailure(code: string): boolean {
  return TLS_CERT_CODES.includes(code) || code.startsWith('ERR_SSL_');
}

/** A socket error as text (an `AggregateError` of several addresses has an empty message of its own). */
export function socketErrorText(e: Error): string {
  if (e.message) return e.message;
  const inner = (e as Partial<AggregateError>).errors;
  if (Array.isArray(inner) && inner.length > 0) return inner.map((x) => (x instanceof Error ? x.message : String(x))).join('; ');
  return (e as NodeJS.ErrnoException).code ?? String(e);
}

/** The error of a `start` that failed at once on an {@link isPermanentRefusal} socket error. */
export function refusalError(url: string, e: Error): Error {
  const code = (e as NodeJS.ErrnoException).code ?? '';
  if (TLS_CERT_CODES.includes(code)) {
    return new Error(`broker ${url}: its TLS certificate is not trusted (${socketErrorText(e)}; check --ca, or the host name in --broker)`);
  }
  if (code.startsWith('ERR_SSL_')) {
    const cert = /CERTIFICATE_REQUIRED|HANDSHAKE_FAILURE|BAD_CERTIFICATE|UNKNOWN_CA/.test(code) ? '; does it require a client certificate? check --cert and --key' : '';
    const reason = (e as { reason?: unknown }).reason; // OpenSSL's short text, e.g. "tlsv13 alert certificate required"
    return new Error(`broker ${url} ended the TLS handshake (${typeof reason === 'string' ? reason : socketErrorText(e)}${cert})`);
  }
  const why = code === 'ENOTFOUND' ? 'its host name does not resolve' : 'nothing accepts connections there';
  return new Error(`broker ${url} cannot be reached: ${why} (${socketErrorText(e)}; is it running? check --broker)`);
}

/** "did not accept a connection" / "refused the connection" errors of `start`, shared by both links. */
export function startError(url: string, timeoutMs: number, code: number | null, lastError: Error | null, who = 'the connection'): Error {
  if (code !== null) {
    return new Error(`broker ${url} refused ${who} (CONNACK: ${connackText(code)}${isAuthRefusal(code) ? '; check the user name and password' : ''})`);
  }
  const why = lastError ? `; last error: ${socketErrorText(lastError)}` : '';
  // A TLS 1.3 server that wants a client certificate may just reset the connection after the handshake.
  const reset = lastError !== null && (lastError as NodeJS.ErrnoException).code === 'ECONNRESET' && url.startsWith('mqtts:');
  const hint = reset ? 'does it require a client certificate? check --cert and --key' : 'is it running? check --broker';
  return new Error(`broker ${url} did not accept a connection within ${timeoutMs} ms${why} (${hint})`);
}

export { Status };
