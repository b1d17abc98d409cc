/**
 * A fixed-slot message queue: `slots` messages of at most `slotSize` bytes
 * each, in one buffer allocated at construction. It never grows; a push onto a
 * full queue returns {@link Status.Full} and the caller applies its overflow
 * policy (for example {@link MessageQueue.findTag} to drop the oldest QoS 0
 * message first).
 *
 * Each message carries a numeric `tag` (for example QoS and packet id) and
 * keeps its slot while it is queued, so removing from the middle moves only a
 * small index array, never message bytes. Encoders can write straight into a
 * slot ({@link MessageQueue.reserve} then {@link MessageQueue.commit}).
 */
import { Status } from './status';

export class MessageQueue {
  /** Backing storage: slot `s` starts at `s * slotSize`. */
  readonly data: Uint8Array;
  /** Largest message a slot holds. */
  readonly slotSize: number;
  /** Number of slots. */
  readonly slots: number;
  private readonly lengths_: Uint32Array;
  private readonly tags_: Int32Array;
  /** Slot numbers in queue order, oldest first; `count` are in use. */
  private readonly order_: Uint16Array;
  /** Free slot numbers (a stack); `slots - count` are valid. */
  private readonly freeList_: Uint16Array;
  private count_: number;

  /**
   * @param slots - how many messages fit (1..65535).
   * @param slotSize - bytes per message (>= 1).
   */
  constructor(slots: number, slotSize: number) {
    if (!(slots >= 1 && slots <= 65535 && slotSize >= 1)) throw new RangeError('MessageQueue: bad size');
    this.slots = slots;
    this.slotSize = slotSize;
    this.data = new Uint8Array(slots * slotSize);
    this.lengths_ = new Uint32Array(slots);
    this.tags_ = new Int32Array(slots);
    this.order_ = new Uint16Array(slots);
    this.freeList_ = new Uint16Array(slots);
    this.count_ = 0;
    this.clear();
  }

  /** Messages queued. */
  get length(): number {
    return this.count_;
  }

  /** True when no slot is free. */
  isFull(): boolean {
    return this.count_ === this.slots;
  }

  /** True when nothing is queued. */
  isEmpty(): boolean {
    return this.count_ === 0;
  }

  /** Drops every message. */
  clear(): void {
    this.count_ = 0;
    for (let i = 0; i < this.slots; i++) this.freeList_[i] = this.slots - 1 - i;
  }

  /**
   * Offset in {@link MessageQueue.data} of the slot the next push will use
   * (write the message there, then {@link MessageQueue.commit}), or
   * {@link Status.Full}.
   */
  reserve(): number {
    if (this.count_ === this.slots) return Status.Full;
    return this.freeList_[this.slots - this.count_ - 1] * this.slotSize;
  }

  /**
   * Appends the message already written at {@link MessageQueue.reserve}'s
   * offset. Returns {@link Status.Ok}, {@link Status.Full}, or
   * {@link Status.TooLarge} when `len` exceeds the slot size.
   */
  commit(len: number, tag: number): number {
    if (this.count_ === this.slots) return Status.Full;
    if (len < 0 || len > this.slotSize) return Status.TooLarge;
    const slot = this.freeList_[this.slots - this.count_ - 1];
    this.lengths_[slot] = len;
    this.tags_[slot] = tag;
    this.order_[this.count_++] = slot;
    return Status.Ok;
  }

  /**
   * Copies `src[off..off+len)` into a free slot and appends it with `tag`.
   * Returns {@link Status.Ok}, {@link Status.Full} or {@link Status.TooLarge}.
   */
  push(src: Uint8Array, off: number, len: number, tag: number): number {
    if (len > this.slotSize) return Status.TooLarge;
    const at = this.reserve();
    if (at < 0) return at;
    for (let i = 0; i < len; i++) this.data[at + i] = src[off + i];
    return this.commit(len, tag);
  }

  /** Offset in {@link MessageQueue.data} of the `i`-th oldest message, or {@link Status.NotFound}. */
  offsetAt(i: number): number {
    if (i < 0 || i >= this.count_) return Status.NotFound;
    return this.order_[i] * this.slotSize;
  }

  /** Length of the `i`-th oldest message, or {@link Status.NotFound}. */
  lengthAt(i: number): number {
    if (i < 0 || i >= this.count_) return Status.NotFound;
    return this.lengths_[this.order_[i]];
  }

  /** Tag of the `i`-th oldest message (any int32), or 0 when there is none. */
  tagAt(i: number): number {
    if (i < 0 || i >= this.count_) return 0;
    return this.tags_[this.order_[i]];
  }

  /** Replaces the tag of the `i`-th oldest message: {@link Status.Ok} or {@link Status.NotFound}. */
  setTagAt(i: number, tag: number): number {
    if (i < 0 || i >= this.count_) return Status.NotFound;
    this.tags_[this.order_[i]] = tag;
    return Status.Ok;
  }

  /**
   * Position of the oldest message whose `(tag & mask) === value`, or
   * {@link Status.NotFound}.
   */
  findTag(mask: number, value: number): number {
    for (let i = 0; i < this.count_; i++) if ((this.tags_[this.order_[i]] & mask) === value) return i;
    return Status.NotFound;
  }

  /** Removes the `i`-th oldest message: {@link Status.Ok} or {@link Status.NotFound}. */
  removeAt(i: number): number {
    if (i < 0 || i >= this.count_) return Status.NotFound;
    const slot = this.order_[i];
    for (let k = i + 1; k < this.count_; k++) this.order_[k - 1] = this.order_[k];
    this.count_--;
    this.freeList_[this.slots - this.count_ - 1] = slot;
    return Status.Ok;
  }

  /** Removes the oldest message: {@link Status.Ok} or {@link Status.Empty}. */
  shift(): number {
    return this.count_ === 0 ? Status.Empty : this.removeAt(0);
  }
}
