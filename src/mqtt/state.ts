/**
 * The MQTT client's protocol state in fixed memory (no I/O, no clock): the
 * outbox of outbound PUBLISHes, the inbound QoS 2 packet ids, and the MQTT 5
 * topic alias tables. Sizes are set at construction; nothing grows after.
 */
import { Status } from '../core/status';
import { MessageQueue } from '../core/queue';
import { copyBytes } from '../core/bytes';

/** Outbox entry states, kept in bits 18–19 of an entry's tag. */
export const enum OutState {
  /** Encoded, not sent on this connection yet (offline, or over the in-flight limit). */
  Queued = 0,
  /** Sent; waiting for PUBACK (QoS 1) or PUBREC (QoS 2). */
  Sent = 1,
  /** PUBREC received and PUBREL sent; waiting for PUBCOMP (QoS 2). */
  Released = 2,
  /** PUBREC received, PUBREL not sent yet (no room in the output, or a reconnect): `pump` sends it (QoS 2). */
  Release = 3,
}

/** Tag layout of an outbox entry: packet id (bits 0–15), QoS (16–17), {@link OutState} (18–19). */
export function outTag(packetId: number, qos: number, state: number): number {
  return packetId | (qos << 16) | (state << 18);
}

/** Packet id of an outbox tag. */
export function tagId(tag: number): number {
  return tag & 0xffff;
}

/** QoS of an outbox tag. */
export function tagQos(tag: number): number {
  return (tag >> 16) & 3;
}

/** {@link OutState} of an outbox tag. */
export function tagState(tag: number): number {
  return (tag >> 18) & 3;
}

/**
 * Outbound PUBLISHes from `publish()` until they are complete, in their
 * original order (MQTT 3.1.1 §4.6): QoS 0 messages waiting for a connection,
 * QoS 1/2 messages queued, in flight (kept encoded for resending with DUP on
 * reconnect, §4.4) or released. One {@link MessageQueue}, so order is kept and
 * nothing is allocated per message.
 */
export class Outbox {
  readonly q: MessageQueue;
  private nextId_: number;

  constructor(slots: number, slotSize: number) {
    this.q = new MessageQueue(slots, slotSize);
    this.nextId_ = 0;
  }

  /** A packet id not used by any outbox entry (1..65535), or {@link Status.Full}. */
  freeId(): number {
    for (let tries = 0; tries < 65535; tries++) {
      this.nextId_ = this.nextId_ >= 0xffff ? 1 : this.nextId_ + 1;
      if (this.q.findTag(0xffff, this.nextId_) < 0) return this.nextId_;
    }
    return Status.Full;
  }

  /** Position of the entry with `packetId`, or {@link Status.NotFound}. */
  find(packetId: number): number {
    return this.q.findTag(0xffff, packetId);
  }

  /** Entries in a given state. */
  count(state: number): number {
    let n = 0;
    for (let i = 0; i < this.q.length; i++) if (tagState(this.q.tagAt(i)) === state) n++;
    return n;
  }

  /**
   * Makes room for one more entry under the overflow policy: the oldest
   * queued QoS 0 message is dropped first (returns 1: one dropped). When only
   * QoS 1/2 messages are queued nothing is dropped and {@link Status.Full}
   * is returned: acknowledged-delivery messages are never discarded silently.
   */
  makeRoom(): number {
    if (!this.q.isFull()) return 0;
    const i = this.q.findTag(0xf0000, 0); // QoS 0 and Queued
    if (i < 0) return Status.Full;
    this.q.removeAt(i);
    return 1;
  }
}

/**
 * Packet ids of inbound QoS 2 PUBLISHes delivered to the application and not
 * yet released by PUBREL (MQTT 3.1.1 §4.3.3 method B): a redelivered PUBLISH
 * with one of these ids is acknowledged again but not delivered twice.
 */
export class InboundIds {
  private readonly ids_: Uint16Array;
  private n_: number;

  constructor(capacity: number) {
    this.ids_ = new Uint16Array(capacity);
    this.n_ = 0;
  }

  /** True when `id` is awaiting its PUBREL. */
  has(id: number): boolean {
    for (let i = 0; i < this.n_; i++) if (this.ids_[i] === id) return true;
    return false;
  }

  /** Records `id`: {@link Status.Ok}, or {@link Status.Full}. */
  add(id: number): number {
    if (this.n_ === this.ids_.length) return Status.Full;
    this.ids_[this.n_++] = id;
    return Status.Ok;
  }

  /** Forgets `id` (on PUBREL). */
  remove(id: number): void {
    for (let i = 0; i < this.n_; i++) {
      if (this.ids_[i] === id) {
        this.ids_[i] = this.ids_[--this.n_];
        return;
      }
    }
  }

  /** Forgets everything (a new session). */
  clear(): void {
    this.n_ = 0;
  }
}

/**
 * Outbound Topic Aliases of one MQTT 5 connection (§3.3.2.3.4): the first
 * `limit` distinct topics published get aliases 1..limit; later PUBLISHes to
 * them carry the alias and an empty topic. Topics are compared as strings
 * (the application's own string objects: no copies).
 */
export class OutAliases {
  private readonly topics_: (string | null)[];
  private limit_: number;

  constructor(capacity: number) {
    this.topics_ = [];
    for (let i = 0; i < capacity; i++) this.topics_.push(null);
    this.limit_ = 0;
  }

  /** Starts a connection whose server accepts `serverMax` aliases. */
  reset(serverMax: number): void {
    for (let i = 0; i < this.topics_.length; i++) this.topics_[i] = null;
    this.limit_ = serverMax < this.topics_.length ? serverMax : this.topics_.length;
  }

  /**
   * The alias for `topic`: positive when the server already knows it (send an
   * empty topic), negative (-alias) for a free alias to set with this publish
   * ({@link OutAliases.assign} once it is sent), 0 when none is available.
   */
  lookup(topic: string): number {
    for (let i = 0; i < this.limit_; i++) {
      const t = this.topics_[i];
      if (t === topic) return i + 1;
      if (t === null) return -(i + 1);
    }
    return 0;
  }

  /** Records that the server now maps `alias` to `topic`. */
  assign(alias: number, topic: string): void {
    if (alias >= 1 && alias <= this.limit_) this.topics_[alias - 1] = topic;
  }
}

/**
 * Inbound Topic Aliases of one MQTT 5 connection (§3.3.2.3.4): alias → topic
 * bytes, in one buffer of `capacity` slots of `maxTopic` bytes each.
 */
export class InAliases {
  readonly buf: Uint8Array;
  private readonly lens_: Uint16Array;
  readonly maxTopic: number;

  constructor(capacity: number, maxTopic: number) {
    this.buf = new Uint8Array(capacity * maxTopic);
    this.lens_ = new Uint16Array(capacity + 1);
    this.maxTopic = maxTopic;
  }

  /** Number of aliases accepted (the Topic Alias Maximum to announce). */
  get capacity(): number {
    return this.lens_.length - 1;
  }

  /** Forgets every alias (a new connection). */
  clear(): void {
    for (let i = 0; i < this.lens_.length; i++) this.lens_[i] = 0;
  }

  /** Records `alias` → `src[off..off+len)`: {@link Status.Ok}, {@link Status.BadParameter} (alias out of range), {@link Status.TooLarge}. */
  set(alias: number, src: Uint8Array, off: number, len: number): number {
    if (alias < 1 || alias > this.capacity) return Status.BadParameter;
    if (len > this.maxTopic) return Status.TooLarge;
    copyBytes(src, off, len, this.buf, (alias - 1) * this.maxTopic);
    this.lens_[alias] = len;
    return Status.Ok;
  }

  /** Length of the topic of `alias` (its bytes start at `(alias - 1) * maxTopic`), or {@link Status.NotFound}. */
  length(alias: number): number {
    if (alias < 1 || alias > this.capacity || this.lens_[alias] === 0) return Status.NotFound;
    return this.lens_[alias];
  }
}
