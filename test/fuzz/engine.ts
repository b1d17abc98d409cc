/**
 * A small deterministic fuzzing engine for fieldmq decoders.
 *
 * Each {@link FuzzTarget} gets random inputs and mutations of its valid seed
 * packets. The invariants checked for every input:
 * - the decoder never throws;
 * - it returns a number: `>= 0` (accepted) or a negative `Status`;
 * - `check` (the target's own invariant, e.g. "every view lies inside the
 *   input") holds when it accepted the input.
 * Inputs are built in one reused buffer, so memory stays flat however long it runs.
 */

export interface FuzzTarget {
  /** Shown in reports: `mqtt/v5/PUBLISH`, `mqttsn/REGISTER`, ... */
  name: string;
  /** Valid encodings to mutate. */
  seeds: Uint8Array[];
  /** Runs the decoder on `buf[0..len)`; returns its result. */
  run(buf: Uint8Array, len: number): number;
  /** Optional: extra invariant on an accepted input; return an error text or null. */
  check?(buf: Uint8Array, len: number, result: number): string | null;
}

export interface FuzzReport {
  name: string;
  inputs: number;
  accepted: number;
  rejected: number;
  failures: string[];
}

/** xorshift32: deterministic, fast, seedable. */
export class Rng {
  private s: number;
  constructor(seed: number) {
    this.s = seed >>> 0 || 0x9e3779b9;
  }
  next(): number {
    let x = this.s;
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    this.s = x;
    return x;
  }
  below(n: number): number {
    return this.next() % n;
  }
}

const INTERESTING = [0x00, 0x01, 0x02, 0x03, 0x7f, 0x80, 0xfe, 0xff, 0xc0, 0xe0, 0xf0, 0x3f];

function mutate(rng: Rng, seed: Uint8Array, buf: Uint8Array): number {
  let len = Math.min(seed.length, buf.length);
  buf.set(seed.subarray(0, len), 0);
  const rounds = 1 + rng.below(4);
  for (let r = 0; r < rounds; r++) {
    const op = rng.below(8);
    if (len === 0) {
      buf[0] = rng.below(256);
      len = 1;
      continue;
    }
    const at = rng.below(len);
    switch (op) {
      case 0: // flip a bit
        buf[at] ^= 1 << rng.below(8);
        break;
      case 1: // random byte
        buf[at] = rng.below(256);
        break;
      case 2: // interesting byte
        buf[at] = INTERESTING[rng.below(INTERESTING.length)];
        break;
      case 3: // truncate
        len = at;
        break;
      case 4: // extend with random bytes
        {
          const add = 1 + rng.below(16);
          for (let i = 0; i < add && len < buf.length; i++) buf[len++] = rng.below(256);
        }
        break;
      case 5: // duplicate a run
        {
          const runLen = 1 + rng.below(Math.min(8, len - at));
          for (let i = 0; i < runLen && len < buf.length; i++) buf[len++] = buf[at + i];
        }
        break;
      case 6: // delete a byte
        buf.copyWithin(at, at + 1, len);
        len--;
        break;
      default: // big-endian length-ish value
        buf[at] = 0xff;
        if (at + 1 < len) buf[at + 1] = rng.below(256);
        break;
    }
  }
  return len;
}

/**
 * Runs `inputs` fuzz inputs against `target`, half mutated seeds and half
 * random bytes (random lengths up to `maxLen`). Deterministic for a `seed`.
 */
export function fuzz(target: FuzzTarget, inputs: number, seed: number, maxLen = 300): FuzzReport {
  const rng = new Rng(seed);
  const buf = new Uint8Array(Math.max(maxLen, 70000));
  const report: FuzzReport = { name: target.name, inputs, accepted: 0, rejected: 0, failures: [] };
  for (let i = 0; i < inputs; i++) {
    let len: number;
    if (target.seeds.length > 0 && (i & 3) !== 0) {
      len = mutate(rng, target.seeds[rng.below(target.seeds.length)], buf);
    } else {
      len = rng.below(maxLen + 1);
      for (let k = 0; k < len; k++) buf[k] = rng.below(256);
    }
    let result: number;
    try {
      result = target.run(buf, len);
    } catch (e) {
      if (report.failures.length < 5) report.failures.push(`threw ${String(e)} on ${hex(buf, len)}`);
      continue;
    }
    if (typeof result !== 'number' || Number.isNaN(result)) {
      if (report.failures.length < 5) report.failures.push(`returned ${String(result)} on ${hex(buf, len)}`);
      continue;
    }
    if (result >= 0) {
      report.accepted++;
      const err = target.check ? target.check(buf, len, result) : null;
      if (err !== null && report.failures.length < 5) report.failures.push(`${err} on ${hex(buf, len)}`);
    } else report.rejected++;
  }
  return report;
}

/** Hex text of `buf[0..len)`, for failure messages. */
export function hex(buf: Uint8Array, len: number): string {
  let s = '';
  for (let i = 0; i < Math.min(len, 96); i++) s += (buf[i] < 16 ? '0' : '') + buf[i].toString(16);
  return len > 96 ? s + '…(' + len + ' bytes)' : s;
}
