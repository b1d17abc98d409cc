/** Shared helpers for the gateway transport codec tests. */

export { fromHex, toHex, normHex } from '../../support/hex';

/** Concatenates byte arrays. */
export function concat(...parts: Uint8Array[]): Uint8Array {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** A small seeded PRNG (xorshift32), so fuzz failures reproduce. */
export function prng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x;
  };
}

/** What a framer yields: a length (> 0), 0 for "nothing now", or a negative status. */
export interface Framer<F> {
  push(buf: Uint8Array, off: number, len: number): number;
  next(out: F): number;
}

/**
 * Feeds `input` to `framer` in chunks ending at `cuts` (absolute offsets),
 * draining with `next` after each push, and returns what it yielded: hex of
 * each delivered frame (via `view`) and the negative statuses, in order.
 */
export function feed<F>(
  framer: Framer<F>,
  out: F,
  input: Uint8Array,
  cuts: number[],
  view: (out: F) => string,
): Array<string | number> {
  const got: Array<string | number> = [];
  let off = 0;
  const ends = [...cuts.filter((c) => c > 0 && c < input.length), input.length];
  for (const end of ends) {
    while (off < end) {
      const n = framer.push(input, off, end - off);
      if (n < 0) throw new Error('push failed: ' + n);
      off += n;
      for (let r = framer.next(out); r !== 0; r = framer.next(out)) got.push(r > 0 ? view(out) : r);
    }
  }
  return got;
}
