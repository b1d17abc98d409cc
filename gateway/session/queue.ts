/**
 * A client's outbound messages (MQTT-SN 1.2 §6.10, §6.14): the bounded queue of messages
 * waiting for the client, and the one exchange in flight with its retransmission state
 * (§6.13).
 */
import type { GatewayMetrics } from '../metrics';

/** A message from the broker waiting for one client (its own copy of the payload). */
export class OutMessage {
  constructor(
    /** Topic name. */
    readonly topic: string,
    /** Payload (a copy: the broker link's view is only valid during its callback). */
    readonly payload: Uint8Array,
    /** QoS to deliver with (already downgraded to the subscription's granted QoS, §6.10). */
    readonly qos: number,
    /** Retain flag as delivered by the broker. */
    readonly retain: boolean,
    /** TopicIdType to use (§6.7): of the matching subscription; Normal resolves at send time. */
    readonly topicIdType: number,
    /** Topic id for a Predefined or Short subscription; 0 for Normal. */
    readonly topicId: number,
  ) {}
}

/** Why {@link OutQueue.push} dropped a message: it returns the dropped one, or null. */
export type Dropped = OutMessage | null;

/**
 * A bounded FIFO of {@link OutMessage}s. When full, the oldest QoS 0 message is dropped
 * first, else the oldest message (the newest data is usually what a sensor network wants).
 * While `counted` (the client sleeps, §6.14) its length is part of `metrics.buffered`.
 */
export class OutQueue {
  private items: OutMessage[] = [];
  private head = 0;
  private counted = false;

  constructor(
    /** Most messages held; 0 holds none. */
    public limit: number,
    private readonly metrics: GatewayMetrics,
  ) {}

  /** Messages waiting. */
  get length(): number {
    return this.items.length - this.head;
  }

  /** The next message without taking it, or undefined. */
  peek(): OutMessage | undefined {
    return this.items[this.head];
  }

  /** Takes the next message, or undefined. */
  shift(): OutMessage | undefined {
    if (this.head >= this.items.length) return undefined;
    const m = this.items[this.head]!;
    this.items[this.head] = undefined as unknown as OutMessage;
    this.head++;
    if (this.head > 32 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    if (this.counted) this.metrics.buffered--;
    return m;
  }

  /** Puts a message back at the front (a REGISTER for it failed and will be retried, §6.10). */
  unshift(m: OutMessage): void {
    if (this.head > 0) this.items[--this.head] = m;
    else this.items.unshift(m);
    if (this.counted) this.metrics.buffered++;
  }

  /**
   * Appends `m`; when the queue is full first drops the oldest QoS 0 message, else the
   * oldest. Returns the dropped message (`m` itself when `limit` is 0), or null.
   */
  push(m: OutMessage): Dropped {
    if (this.limit <= 0) return m;
    let dropped: Dropped = null;
    if (this.length >= this.limit) {
      let i = this.head;
      while (i < this.items.length && this.items[i]!.qos !== 0) i++;
      if (i === this.items.length) i = this.head;
      dropped = this.items[i]!;
      this.items.splice(i, 1);
      if (this.counted) this.metrics.buffered--;
    }
    this.items.push(m);
    if (this.counted) this.metrics.buffered++;
    return dropped;
  }

  /**
   * Changes the limit (a client going to sleep gets `maxBufferedPerSleeper`, §6.14) and drops
   * the oldest messages beyond it, QoS 0 first. Returns how many were dropped.
   */
  setLimit(limit: number): number {
    this.limit = limit;
    let n = 0;
    while (this.length > Math.max(limit, 0)) {
      let i = this.head;
      while (i < this.items.length && this.items[i]!.qos !== 0) i++;
      if (i === this.items.length) i = this.head;
      this.items.splice(i, 1);
      if (this.counted) this.metrics.buffered--;
      n++;
    }
    return n;
  }

  /** Drops every message; returns how many. */
  clear(): number {
    const n = this.length;
    if (this.counted) this.metrics.buffered -= n;
    this.items = [];
    this.head = 0;
    return n;
  }

  /** Drops QoS 0 messages (a client that went away keeps only QoS 1/2, as MQTT does); returns how many. */
  dropQos0(): number {
    const keep: OutMessage[] = [];
    for (let i = this.head; i < this.items.length; i++) if (this.items[i]!.qos > 0) keep.push(this.items[i]!);
    const n = this.length - keep.length;
    if (this.counted) this.metrics.buffered -= n;
    this.items = keep;
    this.head = 0;
    return n;
  }

  /** Switches counting in `metrics.buffered` on (the client sleeps) or off. */
  setCounted(on: boolean): void {
    if (on === this.counted) return;
    this.counted = on;
    this.metrics.buffered += on ? this.length : -this.length;
  }
}

/** Kinds of gateway→client exchange in flight (§6.10, §6.13). */
export const enum FlightKind {
  /** Nothing in flight. */
  None = 0,
  /** REGISTER sent, waiting for REGACK before the PUBLISH (§6.10). */
  Register = 1,
  /** QoS 1/2 PUBLISH sent, waiting for PUBACK / PUBREC. */
  Publish = 2,
  /** PUBREL sent, waiting for PUBCOMP (QoS 2). */
  Release = 3,
}

/**
 * The one gateway→client exchange in flight for a client (one at a time keeps the order of
 * §6.10 and matches the client's one-transaction-at-a-time rule of §6.5/§6.6), with T_RETRY /
 * N_RETRY supervision (§6.13).
 */
export class InFlight {
  kind: FlightKind = FlightKind.None;
  /** The message being delivered. */
  msg: OutMessage | null = null;
  /** MsgId of the REGISTER / PUBLISH / PUBREL. */
  msgId = 0;
  /** TopicId (and its type) the PUBLISH uses, or the REGISTER announces. */
  topicId = 0;
  topicIdType = 0;
  /** QoS the PUBLISH is sent with. */
  qos = 0;
  /** Retransmissions so far. */
  retries = 0;
  /** When the next retransmission is due. */
  due = 0;
  /** True after one "invalid topic ID" answer led to a fresh REGISTER (only once, §6.10). */
  reregistered = false;

  /** Ends the exchange. */
  clear(): void {
    this.kind = FlightKind.None;
    this.msg = null;
    this.msgId = this.topicId = this.topicIdType = this.qos = this.retries = this.due = 0;
    this.reregistered = false;
  }
}

/**
 * The {@link InFlight} of every session that never had a gateway→client exchange: always
 * `FlightKind.None`, never written (writers take {@link Session.ownFlight}). Saves an
 * `InFlight` (about 96 bytes) per idle client.
 */
export const IDLE_FLIGHT: InFlight = new InFlight();
