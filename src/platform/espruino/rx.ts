/**
 * Receive buffering for Espruino's string-delivering streams (sockets and
 * serial ports deliver `'data'` as 8-bit strings, DESIGN.md §4).
 *
 * Characters go straight into a fixed {@link ByteRing} (`charCodeAt`, no
 * conversion object per chunk). Espruino has no way to pause a socket or a
 * UART, so what does not fit in the ring is kept as the string chunk itself
 * (plus an offset) and moved in as `recv` drains the ring: bytes are never
 * dropped; the overflow costs the string's own variables only while the
 * reader lags behind.
 */
import { ByteRing } from '../../core/ring';

/** Copies `s[from..]` into `ring` until it is full; returns the index of the first char not taken. */
export function fillFromString(ring: ByteRing, s: string, from: number): number {
  const b = ring.buf;
  while (from < s.length) {
    const room = ring.writableLength();
    if (room === 0) break;
    const at = ring.writableStart();
    const n = room < s.length - from ? room : s.length - from;
    for (let k = 0; k < n; k++) b[at + k] = s.charCodeAt(from + k);
    ring.commitWrite(n);
    from += n;
  }
  return from;
}

/** A byte ring fed with strings, with an overflow list of string chunks. */
export class StringRx {
  readonly ring: ByteRing;
  private pending: string[];
  private pendingOff: number;

  /** @param capacity - ring size in bytes, allocated here once. */
  constructor(capacity: number) {
    this.ring = new ByteRing(capacity);
    this.pending = [];
    this.pendingOff = 0;
  }

  /** Takes a received chunk. */
  push(s: string): void {
    if (this.pending.length > 0) {
      this.pending.push(s);
      return;
    }
    const i = fillFromString(this.ring, s, 0);
    if (i < s.length) {
      this.pending.push(s);
      this.pendingOff = i;
    }
  }

  /** Moves up to `len` bytes into `dst[off..]`; returns the count. */
  read(dst: Uint8Array, off: number, len: number): number {
    const n = this.ring.read(dst, off, len);
    while (this.pending.length > 0 && this.ring.free > 0) {
      const s = this.pending[0];
      const i = fillFromString(this.ring, s, this.pendingOff);
      if (i < s.length) {
        this.pendingOff = i;
      } else {
        this.pending.shift();
        this.pendingOff = 0;
      }
    }
    return n;
  }

  /** Bytes received and not yet read (ring plus overflow). */
  get length(): number {
    let n = this.ring.length - this.pendingOff;
    for (let i = 0; i < this.pending.length; i++) n += this.pending[i].length;
    return n;
  }

  /** Bytes waiting outside the ring (the overflow the runtime could not be stopped from delivering). */
  get overflow(): number {
    return this.length - this.ring.length;
  }

  /** Drops everything. */
  clear(): void {
    this.ring.clear();
    this.pending = [];
    this.pendingOff = 0;
  }
}
