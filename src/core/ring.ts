/**
 * A fixed-capacity byte ring buffer. It never grows: writes beyond the free
 * space are refused or shortened, and the counts say so. Storage is allocated
 * once, in the constructor (never at module scope, so Moddable preloading
 * cannot freeze it), or supplied by the caller.
 *
 * Stream transports read into it ({@link ByteRing.writableStart} /
 * {@link ByteRing.commitWrite} avoid a copy) and framers peek at it to find
 * packet boundaries across partial reads.
 */
import { Status } from './status';

export class ByteRing {
  /** The backing storage. */
  readonly buf: Uint8Array;
  /** Capacity in bytes. */
  readonly capacity: number;
  private head_: number;
  private count_: number;

  /**
   * @param storage - a caller-supplied buffer to use as storage, or the
   *   capacity in bytes to allocate once here.
   */
  constructor(storage: Uint8Array | number) {
    this.buf = typeof storage === 'number' ? new Uint8Array(storage) : storage;
    this.capacity = this.buf.length;
    this.head_ = 0;
    this.count_ = 0;
  }

  /** Bytes stored and not yet read. */
  get length(): number {
    return this.count_;
  }

  /** Bytes that can still be written. */
  get free(): number {
    return this.capacity - this.count_;
  }

  /** Drops everything. */
  clear(): void {
    this.head_ = 0;
    this.count_ = 0;
  }

  /** Appends one byte: {@link Status.Ok} or {@link Status.Full}. */
  push(byte: number): number {
    if (this.count_ === this.capacity) return Status.Full;
    let t = this.head_ + this.count_;
    if (t >= this.capacity) t -= this.capacity;
    this.buf[t] = byte;
    this.count_++;
    return Status.Ok;
  }

  /**
   * Appends up to `len` bytes from `src[off..]`. Returns how many were taken:
   * fewer than `len` (possibly 0) when the ring fills up; 0 for `len <= 0`.
   */
  write(src: Uint8Array, off: number, len: number): number {
    if (!(len > 0)) return 0; // a negative count (a transport's error status) writes nothing
    const n = len < this.capacity - this.count_ ? len : this.capacity - this.count_;
    let t = this.head_ + this.count_;
    if (t >= this.capacity) t -= this.capacity;
    for (let i = 0; i < n; i++) {
      this.buf[t++] = src[off + i];
      if (t === this.capacity) t = 0;
    }
    this.count_ += n;
    return n;
  }

  /** Offset in {@link ByteRing.buf} where the next contiguous write lands. */
  writableStart(): number {
    const t = this.head_ + this.count_;
    return t >= this.capacity ? t - this.capacity : t;
  }

  /** Bytes that can be written contiguously at {@link ByteRing.writableStart}. */
  writableLength(): number {
    const t = this.head_ + this.count_;
    if (t >= this.capacity) return this.head_ - (t - this.capacity);
    return this.capacity - t;
  }

  /**
   * Marks `n` bytes written directly into `buf` at {@link ByteRing.writableStart}
   * as stored. Returns {@link Status.Ok}, or {@link Status.BadParameter} when
   * `n` exceeds {@link ByteRing.writableLength}.
   */
  commitWrite(n: number): number {
    if (n < 0 || n > this.writableLength()) return Status.BadParameter;
    this.count_ += n;
    return Status.Ok;
  }

  /** Offset in {@link ByteRing.buf} of the oldest byte (the start of {@link ByteRing.readableLength}). */
  readableStart(): number {
    return this.head_;
  }

  /**
   * Bytes readable contiguously at {@link ByteRing.readableStart}: hand
   * `buf[readableStart() .. + readableLength())` to a transport, then
   * {@link ByteRing.skip} what it took. No copy.
   */
  readableLength(): number {
    const n = this.capacity - this.head_;
    return this.count_ < n ? this.count_ : n;
  }

  /** The byte `i` positions after the read point, or {@link Status.Empty}. */
  peek(i: number): number {
    if (i < 0 || i >= this.count_) return Status.Empty;
    let p = this.head_ + i;
    if (p >= this.capacity) p -= this.capacity;
    return this.buf[p];
  }

  /** Removes and returns the oldest byte, or {@link Status.Empty}. */
  shift(): number {
    if (this.count_ === 0) return Status.Empty;
    const b = this.buf[this.head_];
    this.head_++;
    if (this.head_ === this.capacity) this.head_ = 0;
    this.count_--;
    if (this.count_ === 0) this.head_ = 0; // widest contiguous write window
    return b;
  }

  /**
   * Copies up to `len` of the oldest bytes into `dst[off..]` without removing
   * them; returns how many were copied.
   */
  peekInto(dst: Uint8Array, off: number, len: number): number {
    if (!(len > 0)) return 0;
    const n = len < this.count_ ? len : this.count_;
    let p = this.head_;
    for (let i = 0; i < n; i++) {
      dst[off + i] = this.buf[p++];
      if (p === this.capacity) p = 0;
    }
    return n;
  }

  /** Moves up to `len` of the oldest bytes into `dst[off..]`; returns the count. */
  read(dst: Uint8Array, off: number, len: number): number {
    const n = this.peekInto(dst, off, len);
    this.skip(n);
    return n;
  }

  /** Discards up to `n` of the oldest bytes; returns how many were discarded. */
  skip(n: number): number {
    if (n > this.count_) n = this.count_;
    if (n < 0) n = 0;
    this.head_ += n;
    if (this.head_ >= this.capacity) this.head_ -= this.capacity;
    this.count_ -= n;
    if (this.count_ === 0) this.head_ = 0;
    return n;
  }
}
