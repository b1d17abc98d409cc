/**
 * Compact UTF-8 for the lean clients (`src/mqtt/lite.ts`, `src/mqttsn/lite.ts`):
 * the smallest code that encodes strings correctly and decodes what a server
 * sends. Unlike `./utf8` it does not validate what it decodes (a malformed
 * sequence gives odd characters, never an exception) and reports a lone
 * surrogate only as a length of -1. Allocation-free except `utf8Get`.
 */

/** Bytes of `s` as UTF-8 (MQTT 3.1.1 §1.5.3), or -1 when it holds a lone surrogate (not encodable). */
export function utf8Size(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if ((c & 0xf800) === 0xd800) {
      if (c > 0xdbff || (s.charCodeAt(++i) & 0xfc00) !== 0xdc00) return -1;
      n++;
    }
    n += c < 0x80 ? 1 : c < 0x800 ? 2 : 3;
  }
  return n;
}

/** Writes `s` (checked by {@link utf8Size}) as UTF-8 at `b[o]`; returns the end. */
export function utf8Put(s: string, b: Uint8Array, o: number): number {
  for (let i = 0; i < s.length; i++) {
    let c = s.charCodeAt(i);
    if (c < 0x80) b[o++] = c;
    else {
      if (c < 0x800) b[o++] = 0xc0 | (c >> 6);
      else {
        if ((c & 0xf800) === 0xd800) {
          c = 0x10000 + ((c & 0x3ff) << 10) + (s.charCodeAt(++i) & 0x3ff);
          b[o++] = 0xf0 | (c >> 18);
          b[o++] = 0x80 | ((c >> 12) & 63);
        } else b[o++] = 0xe0 | (c >> 12);
        b[o++] = 0x80 | ((c >> 6) & 63);
      }
      b[o++] = 0x80 | (c & 63);
    }
  }
  return o;
}

/** Decodes UTF-8 `b[s..e)` into a string (allocates; no validation). */
export function utf8Get(b: Uint8Array, s: number, e: number): string {
  let r = '';
  while (s < e) {
    let c = b[s++];
    if (c > 0xbf) {
      const n = c > 0xef ? 3 : c > 0xdf ? 2 : 1;
      c &= 0x3f >> n;
      for (let k = 0; k < n; k++) c = (c << 6) | (b[s++] & 63);
    }
    r += c > 0xffff ? String.fromCharCode(0xd7c0 + (c >> 10), 0xdc00 | (c & 0x3ff)) : String.fromCharCode(c);
  }
  return r;
}
