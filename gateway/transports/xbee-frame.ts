/**
 * XBee API frame codec (Digi XBee/XBee-PRO S2C Zigbee User Guide, "API frame
 * format" and "Escaped characters in API frames"): no I/O, no Node APIs, no
 * allocation per frame.
 *
 * ```
 * 0x7E | length MSB | length LSB | frame data (length octets) | checksum
 * checksum = 0xFF - (sum of frame data octets & 0xFF)
 * ```
 *
 * API mode 1 (AP=1) sends every octet as is. API mode 2 (AP=2) escapes every
 * octet after the start delimiter (length, frame data and checksum) that is
 * 0x7E, 0x7D, 0x11 or 0x13 as `0x7D, octet ^ 0x20`; the length and the
 * checksum always describe the unescaped frame data.
 */
import { ByteRing } from '../../src/core/ring';
import { Status } from '../../src/core/status';

/** Start delimiter. */
export const XBEE_START = 0x7e;
/** Escape octet of API mode 2. */
export const XBEE_ESCAPE = 0x7d;
/** XON, escaped in API mode 2. */
export const XBEE_XON = 0x11;
/** XOFF, escaped in API mode 2. */
export const XBEE_XOFF = 0x13;
/** Default largest frame data length the decoder accepts (the length field value). */
export const XBEE_DEFAULT_MAX_FRAME = 256;

/** True for the four octets API mode 2 escapes. */
export function xbeeNeedsEscape(b: number): boolean {
  return b === XBEE_START || b === XBEE_ESCAPE || b === XBEE_XON || b === XBEE_XOFF;
}

/** The checksum of `data[off..off+len)`: 0xFF minus the low octet of the sum. */
export function xbeeChecksum(data: Uint8Array, off: number, len: number): number {
  let s = 0;
  for (let i = 0; i < len; i++) s += data[off + i];
  return 0xff - (s & 0xff);
}

/**
 * Octets on the wire of a frame carrying `frameData[off..off+len)`:
 * `len + 4` in API mode 1, plus one per escaped octet in mode 2.
 *
 * @returns the size, or {@link Status.BadParameter} when `len` is not 1..65535
 *   or the range lies outside `frameData`.
 */
export function xbeeFrameSize(frameData: Uint8Array, off: number, len: number, escaped: boolean): number {
  if (!(off >= 0 && len >= 1 && len <= 0xffff && off + len <= frameData.length)) return Status.BadParameter;
  if (!escaped) return len + 4;
  let n = len + 4;
  if (xbeeNeedsEscape(len >>> 8)) n++;
  if (xbeeNeedsEscape(len & 0xff)) n++;
  let s = 0;
  for (let i = 0; i < len; i++) {
    const b = frameData[off + i];
    s += b;
    if (xbeeNeedsEscape(b)) n++;
  }
  if (xbeeNeedsEscape(0xff - (s & 0xff))) n++;
  return n;
}

/**
 * Writes the API frame carrying `frameData[off..off+len)` at `buf[bufOff..]`,
 * escaped (API mode 2) or not (mode 1). Size it first with {@link xbeeFrameSize}.
 *
 * The frame data may already sit in `buf` at `bufOff + 3` (build the frame data
 * in place, then frame it): the writer runs from the end backwards, so that
 * overlap is safe. Other overlaps are not supported.
 *
 * @returns the offset after the frame, or {@link Status.BadParameter} (see
 *   {@link xbeeFrameSize}, or `bufOff` negative) or {@link Status.NoMemory}
 *   when `buf` is too small.
 *
 * @example
 * ```ts
 * const n = encodeTransmitRequest(req, tx, 3);          // frame data at tx[3..n)
 * const end = encodeXBeeFrame(tx, 3, n - 3, true, tx, 0); // frame it in place
 * ```
 */
export function encodeXBeeFrame(
  frameData: Uint8Array,
  off: number,
  len: number,
  escaped: boolean,
  buf: Uint8Array,
  bufOff: number,
): number {
  const size = xbeeFrameSize(frameData, off, len, escaped);
  if (size < 0) return size;
  if (!(bufOff >= 0)) return Status.BadParameter;
  if (bufOff + size > buf.length) return Status.NoMemory;
  const cs = xbeeChecksum(frameData, off, len);
  let w = bufOff + size; // one past the last octet still to write, moving backwards
  w = putBack(cs, escaped, buf, w);
  for (let i = len - 1; i >= 0; i--) w = putBack(frameData[off + i], escaped, buf, w);
  w = putBack(len & 0xff, escaped, buf, w);
  w = putBack(len >>> 8, escaped, buf, w);
  buf[w - 1] = XBEE_START;
  return bufOff + size;
}

/** Writes `b` (escaped when asked and needed) so that it ends at `w`; returns its start. */
function putBack(b: number, escaped: boolean, buf: Uint8Array, w: number): number {
  if (escaped && xbeeNeedsEscape(b)) {
    buf[w - 1] = b ^ 0x20;
    buf[w - 2] = XBEE_ESCAPE;
    return w - 2;
  }
  buf[w - 1] = b;
  return w - 1;
}

/**
 * A decoded frame: a view of the decoder's frame buffer, valid until the next
 * call to {@link XBeeFrameDecoder.next}. Allocate one and reuse it.
 */
export class XBeeFrame {
  /** Buffer holding the unescaped frame data (the decoder's own). */
  data: Uint8Array = EMPTY;
  /** Offset of the frame data (the frame type octet) in {@link XBeeFrame.data}. */
  offset = 0;
  /** Octets of frame data (the length field). */
  length = 0;
  /** The frame type octet (API identifier), `data[offset]`. */
  type = 0;
}

const EMPTY = new Uint8Array(0);

/** Options of {@link XBeeFrameDecoder}. */
export interface XBeeFrameDecoderOptions {
  /** API mode 2 (escaped, AP=2); default false, API mode 1 (AP=1). */
  escaped?: boolean;
  /** Largest length field accepted, 1..65535; default {@link XBEE_DEFAULT_MAX_FRAME}. */
  maxFrameLength?: number;
  /**
   * Capacity of the input buffer in octets; default twice the largest raw frame.
   * Raised to one largest raw frame (escaped: `2 * (max + 3) + 1`) when smaller.
   */
  bufferSize?: number;
}

/** Counters of an {@link XBeeFrameDecoder}; they only grow (until `reset`). */
export interface XBeeDecoderStats {
  /** Frames delivered. */
  frames: number;
  /** Octets skipped while looking for a start delimiter. */
  garbageBytes: number;
  /** Frames dropped because the checksum did not match. */
  badChecksum: number;
  /** Frames dropped for a length field of 0 or above `maxFrameLength`. */
  badLength: number;
  /** Frames cut short by an unescaped start delimiter (API mode 2 only). */
  truncated: number;
}

const enum Phase {
  Hunt,
  LenHi,
  LenLo,
  Data,
  Check,
}

/**
 * A resumable XBee API frame parser. Feed it chunks as they arrive with
 * {@link XBeeFrameDecoder.push}, then call {@link XBeeFrameDecoder.next} until
 * it returns 0. Memory is fixed at construction: an input ring and one frame
 * buffer of `maxFrameLength` octets.
 *
 * Raw octets stay in the input ring until their frame is accepted or rejected,
 * so a rejected candidate (bad checksum, impossible length, cut short) is
 * dropped by skipping its start delimiter only, and the search for the next
 * 0x7E resumes right after it: a real frame whose 0x7E was swallowed by a
 * bogus one (API mode 1 has no escaping, so 0x7E can occur in data) is found.
 *
 * @example
 * ```ts
 * const dec = new XBeeFrameDecoder({ escaped: true });
 * const frame = new XBeeFrame();
 * function onBytes(chunk: Uint8Array, n: number) {
 *   let off = 0;
 *   while (off < n) {
 *     off += dec.push(chunk, off, n - off);
 *     for (let r = dec.next(frame); r !== 0; r = dec.next(frame)) {
 *       if (r > 0) handle(frame.data, frame.offset, frame.length);
 *       else log('xbee drop: ' + statusName(r));
 *     }
 *   }
 * }
 * ```
 */
export class XBeeFrameDecoder {
  /** API mode 2. */
  readonly escaped: boolean;
  /** Largest accepted length field. */
  readonly maxFrameLength: number;
  /** Drop and delivery counters. */
  readonly stats: XBeeDecoderStats;
  private readonly ring: ByteRing;
  private readonly frame: Uint8Array;
  private phase: Phase;
  /** Ring offset (from its read point) of the next raw octet to scan. */
  private pos: number;
  private esc: boolean;
  private len: number;
  private count: number;
  private sum: number;

  constructor(options: XBeeFrameDecoderOptions) {
    this.escaped = options.escaped === true;
    let max = options.maxFrameLength ?? XBEE_DEFAULT_MAX_FRAME;
    max = max >= 1 && max <= 0xffff ? Math.floor(max) : XBEE_DEFAULT_MAX_FRAME;
    this.maxFrameLength = max;
    const raw = this.escaped ? 2 * (max + 3) + 1 : max + 4;
    let size = options.bufferSize ?? 2 * raw;
    if (!(size >= raw)) size = raw;
    this.ring = new ByteRing(Math.floor(size));
    this.frame = new Uint8Array(max);
    this.stats = { frames: 0, garbageBytes: 0, badChecksum: 0, badLength: 0, truncated: 0 };
    this.phase = Phase.Hunt;
    this.pos = 0;
    this.esc = false;
    this.len = 0;
    this.count = 0;
    this.sum = 0;
  }

  /** Octets the input buffer can still take. */
  get free(): number {
    return this.ring.free;
  }

  /** Forgets buffered input and any partial frame; counters are zeroed. */
  reset(): void {
    this.ring.clear();
    this.phase = Phase.Hunt;
    this.pos = 0;
    this.esc = false;
    const s = this.stats;
    s.frames = s.garbageBytes = s.badChecksum = s.badLength = s.truncated = 0;
  }

  /**
   * Copies up to `len` octets of `buf[off..]` into the input buffer.
   *
   * @returns how many were taken: fewer than `len` when the buffer is full
   *   (call {@link XBeeFrameDecoder.next} until 0, then push the rest);
   *   0 for `len <= 0`; {@link Status.BadParameter} when the range is outside `buf`.
   */
  push(buf: Uint8Array, off: number, len: number): number {
    if (!(len > 0)) return 0;
    if (!(off >= 0 && off + len <= buf.length)) return Status.BadParameter;
    return this.ring.write(buf, off, len);
  }

  /**
   * Advances the parser over the buffered input.
   *
   * @returns the frame data length (> 0) with `out` describing the frame; 0
   *   when no whole frame is buffered yet; or, for each candidate dropped,
   *   {@link Status.Malformed} (bad checksum, zero length, cut short) or
   *   {@link Status.TooLarge} (length above `maxFrameLength`): keep calling.
   *   Octets skipped before a start delimiter are only counted.
   */
  next(out: XBeeFrame): number {
    const ring = this.ring;
    const frame = this.frame;
    const escaped = this.escaped;
    for (;;) {
      if (this.phase === Phase.Hunt) {
        let n = 0;
        while (n < ring.length && ring.peek(n) !== XBEE_START) n++;
        if (n > 0) {
          ring.skip(n);
          this.stats.garbageBytes += n;
        }
        if (ring.length === 0) return 0;
        this.phase = Phase.LenHi;
        this.pos = 1;
        this.esc = false;
        this.len = 0;
        this.count = 0;
        this.sum = 0;
      }
      if (this.pos >= ring.length) return 0;
      let b = ring.peek(this.pos++);
      if (escaped) {
        if (b === XBEE_START) {
          // A new frame starts inside this one: drop what was scanned, keep the new 0x7E.
          this.stats.truncated++;
          this.drop(this.pos - 1);
          return Status.Malformed;
        }
        if (this.esc) {
          b ^= 0x20;
          this.esc = false;
        } else if (b === XBEE_ESCAPE) {
          this.esc = true;
          continue;
        }
      }
      switch (this.phase) {
        case Phase.LenHi:
          this.len = b << 8;
          this.phase = Phase.LenLo;
          break;
        case Phase.LenLo:
          this.len |= b;
          if (this.len === 0 || this.len > this.maxFrameLength) {
            this.stats.badLength++;
            const r = this.len === 0 ? Status.Malformed : Status.TooLarge;
            this.drop(1);
            return r;
          }
          this.phase = Phase.Data;
          break;
        case Phase.Data:
          frame[this.count++] = b;
          this.sum += b;
          if (this.count === this.len) this.phase = Phase.Check;
          break;
        default: {
          // Phase.Check
          if (((this.sum + b) & 0xff) !== 0xff) {
            this.stats.badChecksum++;
            this.drop(1);
            return Status.Malformed;
          }
          ring.skip(this.pos);
          this.phase = Phase.Hunt;
          this.stats.frames++;
          out.data = frame;
          out.offset = 0;
          out.length = this.len;
          out.type = frame[0];
          return this.len;
        }
      }
    }
  }

  /** Rejects the candidate frame: skips `n` raw octets and hunts again. */
  private drop(n: number): void {
    this.ring.skip(n);
    this.phase = Phase.Hunt;
  }
}
