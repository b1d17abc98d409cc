/**
 * The Variable Byte Integer (MQTT 3.1.1 §2.2.3 "Remaining Length",
 * MQTT 5.0 §1.5.5): 7 bits a byte, least significant group first, 1–4 bytes.
 */
import { Status } from '../core/status';
import { MAX_REMAINING_LENGTH } from './constants';

/** Bytes needed to encode `v` (0..268,435,455), or {@link Status.TooLarge}. */
export function varintSize(v: number): number {
  if (v < 128) return v < 0 ? Status.BadParameter : 1;
  if (v < 16384) return 2;
  if (v < 2097152) return 3;
  if (v <= MAX_REMAINING_LENGTH) return 4;
  return Status.TooLarge;
}

/** Writes `v` at `buf[off]` (the caller checked the range); returns the end offset. */
export function writeVarint(buf: Uint8Array, off: number, v: number): number {
  do {
    let b = v & 0x7f;
    v >>>= 7;
    if (v > 0) b |= 0x80;
    buf[off++] = b;
  } while (v > 0);
  return off;
}

/**
 * Reads a Variable Byte Integer from `buf[off..end)`. Returns the value, or
 * {@link Status.NeedMoreBytes} when it is cut short, or {@link Status.Malformed}
 * when it runs past 4 bytes or is not in its shortest form (MQTT 5.0 §1.5.5:
 * "the minimum number of bytes necessary"). Its length is `varintSize(value)`.
 */
export function readVarint(buf: Uint8Array, off: number, end: number): number {
  let value = 0;
  let mult = 1;
  for (let i = 0; i < 4; i++) {
    if (off + i >= end) return Status.NeedMoreBytes;
    const b = buf[off + i];
    value += (b & 0x7f) * mult;
    if ((b & 0x80) === 0) {
      // A trailing 0x00 group (e.g. 80 00) is a non-minimal encoding.
      if (i > 0 && b === 0) return Status.Malformed;
      return value;
    }
    mult *= 128;
  }
  return Status.Malformed;
}
