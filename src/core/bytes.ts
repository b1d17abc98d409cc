/**
 * Big-endian integer access over a caller's `Uint8Array` (network byte order,
 * as both MQTT and MQTT-SN use). These helpers do no bounds checks: decoders
 * check the remaining length once, up front, then read.
 */

/** Reads a big-endian uint16 at `off`. */
export function readU16(buf: Uint8Array, off: number): number {
  return (buf[off] << 8) | buf[off + 1];
}

/** Reads a big-endian uint32 at `off` as a non-negative number. */
export function readU32(buf: Uint8Array, off: number): number {
  return ((buf[off] << 24) | (buf[off + 1] << 16) | (buf[off + 2] << 8) | buf[off + 3]) >>> 0;
}

/** Writes `v` as a big-endian uint16 at `off`; returns the offset after it. */
export function writeU16(buf: Uint8Array, off: number, v: number): number {
  buf[off] = (v >>> 8) & 0xff;
  buf[off + 1] = v & 0xff;
  return off + 2;
}

/** Writes `v` as a big-endian uint32 at `off`; returns the offset after it. */
export function writeU32(buf: Uint8Array, off: number, v: number): number {
  buf[off] = (v >>> 24) & 0xff;
  buf[off + 1] = (v >>> 16) & 0xff;
  buf[off + 2] = (v >>> 8) & 0xff;
  buf[off + 3] = v & 0xff;
  return off + 4;
}

/**
 * Copies `len` bytes from `src[srcOff..]` to `dst[dstOff..]`; returns the
 * offset after the copy in `dst`. Never allocates: a whole-array copy uses the
 * native `set`, anything else a byte loop (a `subarray` view would be garbage).
 */
export function copyBytes(
  src: Uint8Array,
  srcOff: number,
  len: number,
  dst: Uint8Array,
  dstOff: number,
): number {
  if (srcOff === 0 && len === src.length && len > 32) {
    dst.set(src, dstOff);
  } else {
    for (let i = 0; i < len; i++) dst[dstOff + i] = src[srcOff + i];
  }
  return dstOff + len;
}

/** True when `a[aOff..aOff+len)` and `b[bOff..bOff+len)` hold the same bytes. */
export function bytesEqual(
  a: Uint8Array,
  aOff: number,
  b: Uint8Array,
  bOff: number,
  len: number,
): boolean {
  for (let i = 0; i < len; i++) if (a[aOff + i] !== b[bOff + i]) return false;
  return true;
}
