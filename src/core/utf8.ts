/**
 * UTF-8 without `TextEncoder`/`TextDecoder` (Espruino has neither).
 *
 * Strings are JavaScript strings (UTF-16 code units). Encoding rejects lone
 * surrogates, which cannot be represented in well-formed UTF-8; validation
 * applies the MQTT rules for UTF-8 encoded strings (MQTT 3.1.1 §1.5.3,
 * MQTT 5.0 §1.5.4): well-formed, no surrogate code points, no U+0000.
 */
import { Status } from './status';

/**
 * Bytes needed to encode `str` as UTF-8, or {@link Status.InvalidUtf8} if it
 * holds a lone surrogate. Allocation-free.
 */
export function utf8Length(str: string): number {
  let n = 0;
  const len = str.length;
  for (let i = 0; i < len; i++) {
    const c = str.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c <= 0xdbff) {
      const d = i + 1 < len ? str.charCodeAt(i + 1) : 0;
      if (d < 0xdc00 || d > 0xdfff) return Status.InvalidUtf8;
      n += 4;
      i++;
    } else if (c >= 0xdc00 && c <= 0xdfff) return Status.InvalidUtf8;
    else n += 3;
  }
  return n;
}

/**
 * Writes `str` as UTF-8 at `buf[off]` and returns the offset after it. The
 * caller has sized the space with {@link utf8Length} (which also rejected lone
 * surrogates); this function does no checks.
 */
export function utf8Encode(str: string, buf: Uint8Array, off: number): number {
  const len = str.length;
  for (let i = 0; i < len; i++) {
    let c = str.charCodeAt(i);
    if (c < 0x80) {
      buf[off++] = c;
    } else if (c < 0x800) {
      buf[off++] = 0xc0 | (c >> 6);
      buf[off++] = 0x80 | (c & 0x3f);
    } else if (c >= 0xd800 && c <= 0xdbff) {
      c = 0x10000 + ((c - 0xd800) << 10) + (str.charCodeAt(++i) - 0xdc00);
      buf[off++] = 0xf0 | (c >> 18);
      buf[off++] = 0x80 | ((c >> 12) & 0x3f);
      buf[off++] = 0x80 | ((c >> 6) & 0x3f);
      buf[off++] = 0x80 | (c & 0x3f);
    } else {
      buf[off++] = 0xe0 | (c >> 12);
      buf[off++] = 0x80 | ((c >> 6) & 0x3f);
      buf[off++] = 0x80 | (c & 0x3f);
    }
  }
  return off;
}

/**
 * Reads the multi-byte UTF-8 sequence starting with `b0 = buf[i]` (>= 0x80)
 * within `buf[i..end)`. Returns `codePoint * 4 + (length - 1)`, or -1 when it
 * is ill-formed: a bad lead or continuation byte, cut short, overlong, a
 * surrogate, or above U+10FFFF.
 */
function readSequence(buf: Uint8Array, i: number, end: number, b0: number): number {
  let need: number;
  let cp: number;
  let min: number;
  if (b0 >= 0xc2 && b0 <= 0xdf) {
    need = 1;
    cp = b0 & 0x1f;
    min = 0x80;
  } else if (b0 >= 0xe0 && b0 <= 0xef) {
    need = 2;
    cp = b0 & 0x0f;
    min = 0x800;
  } else if (b0 >= 0xf0 && b0 <= 0xf4) {
    need = 3;
    cp = b0 & 0x07;
    min = 0x10000;
  } else return -1;
  if (i + need >= end) return -1;
  for (let k = 1; k <= need; k++) {
    const b = buf[i + k];
    if ((b & 0xc0) !== 0x80) return -1;
    cp = (cp << 6) | (b & 0x3f);
  }
  if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return -1;
  return cp * 4 + need;
}

/**
 * Checks `buf[off..end)` against the MQTT UTF-8 string rules: well-formed
 * UTF-8 (no overlongs, no surrogates, nothing above U+10FFFF) and no U+0000.
 * Returns {@link Status.Ok} or {@link Status.InvalidUtf8}. Allocation-free.
 */
export function utf8Validate(buf: Uint8Array, off: number, end: number): number {
  for (let i = off; i < end; ) {
    const b0 = buf[i];
    if (b0 === 0) return Status.InvalidUtf8;
    if (b0 < 0x80) {
      i++;
      continue;
    }
    const r = readSequence(buf, i, end, b0);
    if (r < 0) return Status.InvalidUtf8;
    i += (r & 3) + 1;
  }
  return Status.Ok;
}

/**
 * Decodes `buf[off..end)` into a string. This allocates the string (it is the
 * convenience path, not the hot path); each ill-formed byte becomes U+FFFD.
 */
export function utf8Decode(buf: Uint8Array, off: number, end: number): string {
  let out = '';
  for (let i = off; i < end; ) {
    let cp = buf[i++];
    if (cp >= 0x80) {
      const r = readSequence(buf, i - 1, end, cp);
      cp = r < 0 ? 0xfffd : r >> 2;
      if (r > 0) i += r & 3;
    }
    if (cp >= 0x10000) {
      cp -= 0x10000;
      out += String.fromCharCode(0xd800 + (cp >> 10), 0xdc00 + (cp & 0x3ff));
    } else out += String.fromCharCode(cp);
  }
  return out;
}

/**
 * True when `buf[off..end)` is exactly the UTF-8 encoding of `str`. Used to
 * match topics against received bytes without decoding them. Allocation-free.
 */
export function utf8Equals(buf: Uint8Array, off: number, end: number, str: string): boolean {
  let j = off;
  const len = str.length;
  for (let i = 0; i < len; i++) {
    let c = str.charCodeAt(i);
    if (c < 0x80) {
      if (j >= end || buf[j++] !== c) return false;
      continue;
    }
    if (c >= 0xd800 && c <= 0xdfff) {
      // Only a high surrogate followed by a low one has a UTF-8 encoding.
      const d = i + 1 < len ? str.charCodeAt(i + 1) : 0;
      if (c > 0xdbff || d < 0xdc00 || d > 0xdfff) return false;
      c = 0x10000 + ((c - 0xd800) << 10) + (d - 0xdc00);
      i++;
    }
    let n: number;
    if (c < 0x800) {
      if (j + 2 > end || buf[j] !== (0xc0 | (c >> 6))) return false;
      n = 1;
    } else if (c < 0x10000) {
      if (j + 3 > end || buf[j] !== (0xe0 | (c >> 12))) return false;
      n = 2;
    } else {
      if (j + 4 > end || buf[j] !== (0xf0 | (c >> 18))) return false;
      n = 3;
    }
    j++;
    for (let k = n - 1; k >= 0; k--) {
      if (buf[j++] !== (0x80 | ((c >> (6 * k)) & 0x3f))) return false;
    }
  }
  return j === end;
}
