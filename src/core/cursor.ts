/**
 * A cursor over a caller's `Uint8Array` for code that reads or writes many
 * fields in a row (configuration blobs, transport framings, tools): every
 * access is bounds-checked, and the first failure sticks in `status`, so a
 * whole sequence is checked once at the end instead of after each field.
 * Both classes are reusable (`reset`) and never allocate after construction.
 *
 * @example
 * ```ts
 * const w = new ByteWriter(buf, 0, buf.length);
 * w.u8(0x0c); w.u16(topicId); w.bytes(payload, 0, payload.length);
 * if (w.status < 0) return w.status; // NoMemory: the fields did not fit
 * ```
 */
import { Status } from './status';
import { utf8Encode, utf8Length } from './utf8';

/** Reads fields from `buf[pos..end)`; a read past `end` sets `status` to {@link Status.NeedMoreBytes} and returns 0. */
export class ByteReader {
  buf: Uint8Array;
  pos: number;
  end: number;
  /** {@link Status.Ok} until a read fails. */
  status: number;

  constructor(buf: Uint8Array, pos: number, end: number) {
    this.buf = buf;
    this.pos = 0;
    this.end = 0;
    this.status = Status.Ok;
    this.reset(buf, pos, end);
  }

  /** Points the reader at `buf[pos..end)` (clamped to the buffer) and clears `status`. */
  reset(buf: Uint8Array, pos: number, end: number): void {
    this.buf = buf;
    this.end = end > buf.length ? buf.length : end;
    this.pos = pos < 0 ? 0 : pos > this.end ? this.end : pos;
    this.status = Status.Ok;
  }

  /** Bytes left to read. */
  get remaining(): number {
    return this.end - this.pos;
  }

  private take(n: number): number {
    if (this.status < 0 || this.pos + n > this.end) {
      this.status = Status.NeedMoreBytes;
      return -1;
    }
    const p = this.pos;
    this.pos += n;
    return p;
  }

  /** One byte, or 0 on failure. */
  u8(): number {
    const p = this.take(1);
    return p < 0 ? 0 : this.buf[p];
  }

  /** A big-endian uint16, or 0 on failure. */
  u16(): number {
    const p = this.take(2);
    return p < 0 ? 0 : (this.buf[p] << 8) | this.buf[p + 1];
  }

  /** A big-endian uint32, or 0 on failure. */
  u32(): number {
    const p = this.take(4);
    const b = this.buf;
    return p < 0 ? 0 : ((b[p] << 24) | (b[p + 1] << 16) | (b[p + 2] << 8) | b[p + 3]) >>> 0;
  }

  /** Skips `n` bytes and returns the offset where they start (a view needs no copy), or -1 on failure. */
  skip(n: number): number {
    if (n >= 0) return this.take(n);
    if (this.status >= 0) this.status = Status.BadParameter;
    return -1;
  }
}

/** Writes fields into `buf[pos..end)`; a write past `end` sets `status` to {@link Status.NoMemory} and writes nothing. */
export class ByteWriter {
  buf: Uint8Array;
  pos: number;
  end: number;
  /** {@link Status.Ok} until a write fails. */
  status: number;

  constructor(buf: Uint8Array, pos: number, end: number) {
    this.buf = buf;
    this.pos = 0;
    this.end = 0;
    this.status = Status.Ok;
    this.reset(buf, pos, end);
  }

  /** Points the writer at `buf[pos..end)` (clamped to the buffer) and clears `status`. */
  reset(buf: Uint8Array, pos: number, end: number): void {
    this.buf = buf;
    this.end = end > buf.length ? buf.length : end;
    this.pos = pos < 0 ? 0 : pos > this.end ? this.end : pos;
    this.status = Status.Ok;
  }

  private room(n: number): number {
    if (this.status < 0 || this.pos + n > this.end) {
      this.status = Status.NoMemory;
      return -1;
    }
    const p = this.pos;
    this.pos += n;
    return p;
  }

  /** Writes the low 8 bits of `v`. */
  u8(v: number): void {
    const p = this.room(1);
    if (p >= 0) this.buf[p] = v & 0xff;
  }

  /** Writes `v` as a big-endian uint16. */
  u16(v: number): void {
    const p = this.room(2);
    if (p < 0) return;
    this.buf[p] = (v >>> 8) & 0xff;
    this.buf[p + 1] = v & 0xff;
  }

  /** Writes `v` as a big-endian uint32. */
  u32(v: number): void {
    const p = this.room(4);
    if (p < 0) return;
    const b = this.buf;
    b[p] = (v >>> 24) & 0xff;
    b[p + 1] = (v >>> 16) & 0xff;
    b[p + 2] = (v >>> 8) & 0xff;
    b[p + 3] = v & 0xff;
  }

  /** Copies `src[off..off+len)`. */
  bytes(src: Uint8Array, off: number, len: number): void {
    if (len < 0 || off < 0 || off + len > src.length) {
      if (this.status >= 0) this.status = Status.BadParameter;
      return;
    }
    const p = this.room(len);
    if (p < 0) return;
    for (let i = 0; i < len; i++) this.buf[p + i] = src[off + i];
  }

  /** Writes `s` as UTF-8 (no length prefix); a lone surrogate sets {@link Status.InvalidUtf8}. */
  utf8(s: string): void {
    const n = utf8Length(s);
    if (n < 0) {
      if (this.status >= 0) this.status = n;
      return;
    }
    const p = this.room(n);
    if (p >= 0) utf8Encode(s, this.buf, p);
  }
}
