/**
 * Field-level helpers shared by the MQTT packet codecs: the fixed header,
 * length-prefixed strings and binary data (MQTT 3.1.1 §1.5.3, MQTT 5.0 §1.5.4,
 * §1.5.6).
 */
import { Status } from '../core/status';
import { readU16, writeU16, copyBytes } from '../core/bytes';
import { utf8Encode, utf8Length } from '../core/utf8';
import { varintSize, writeVarint } from './varint';
import { MAX_REMAINING_LENGTH } from './constants';

/**
 * Total packet size for a Remaining Length, or {@link Status.TooLarge}; also
 * checks that it fits in `buf` from `off`, else {@link Status.NoMemory}.
 */
export function packetRoom(remaining: number, buf: Uint8Array, off: number): number {
  if (remaining > MAX_REMAINING_LENGTH) return Status.TooLarge;
  const total = 1 + varintSize(remaining) + remaining;
  return off + total > buf.length ? Status.NoMemory : total;
}

/** Writes the fixed header (type/flags byte and Remaining Length); returns the end offset. */
export function writeFixedHeader(buf: Uint8Array, off: number, byte0: number, remaining: number): number {
  buf[off] = byte0;
  return writeVarint(buf, off + 1, remaining);
}

/**
 * End of the length-prefixed field at `buf[pos]` (its data is
 * `[pos + 2, result)`), or {@link Status.Malformed} when it overruns `end`.
 */
export function fieldEnd(buf: Uint8Array, pos: number, end: number): number {
  if (pos + 2 > end) return Status.Malformed;
  const e = pos + 2 + readU16(buf, pos);
  return e > end ? Status.Malformed : e;
}

/** Size of a length-prefixed UTF-8 string, or a negative status (bad UTF-8, over 65,535 bytes, not a string). */
export function stringSize(s: unknown): number {
  if (typeof s !== 'string') return Status.BadParameter;
  const n = utf8Length(s);
  return n < 0 ? n : n > 65535 ? Status.TooLarge : n + 2;
}

/** Writes a length-prefixed UTF-8 string; returns the end offset. */
export function writeString(buf: Uint8Array, off: number, s: string): number {
  const end = utf8Encode(s, buf, off + 2);
  writeU16(buf, off, end - off - 2);
  return end;
}

/** Byte length of binary data given as bytes or a string (UTF-8), or a negative status. */
export function dataLength(d: Uint8Array | string | null | undefined): number {
  if (d === undefined || d === null) return 0;
  if (typeof d === 'string') return utf8Length(d);
  return d instanceof Uint8Array ? d.length : Status.BadParameter;
}

/** Writes binary data (bytes, or a string as UTF-8) without a prefix; returns the end offset. */
export function writeData(buf: Uint8Array, off: number, d: Uint8Array | string | null | undefined): number {
  if (d === undefined || d === null) return off;
  if (typeof d === 'string') return utf8Encode(d, buf, off);
  return copyBytes(d, 0, d.length, buf, off);
}

/** True for a valid non-zero Packet Identifier (MQTT 3.1.1 §2.3.1). */
export function packetIdOk(id: unknown): boolean {
  return typeof id === 'number' && id >= 1 && id <= 0xffff && (id | 0) === id;
}
