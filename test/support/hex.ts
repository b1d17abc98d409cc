/** Hex text ⇄ bytes for tests driven by spec hex tables. */

/** Spaced or unspaced hex to bytes. */
export function fromHex(hex: string): Uint8Array {
  const s = hex.replace(/\s+/g, '');
  const out = new Uint8Array(s.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(s.slice(2 * i, 2 * i + 2), 16);
  return out;
}

/** Bytes to spaced lowercase hex. */
export function toHex(buf: Uint8Array, off = 0, end = buf.length): string {
  const parts: string[] = [];
  for (let i = off; i < end; i++) parts.push(buf[i].toString(16).padStart(2, '0'));
  return parts.join(' ');
}

/** Normalises spaced hex for comparisons. */
export function normHex(hex: string): string {
  return toHex(fromHex(hex));
}
