/**
 * Measurement helpers for `npm run bench` (Node only; run with --expose-gc).
 * Throughput is the median of several timed rounds after a warm-up. Garbage
 * is measured two ways: GC events seen during a free-running loop, and bytes
 * allocated summed over short batches that each start right after a forced GC
 * (short enough that no collection interrupts them, which is checked).
 */
import v8 from 'node:v8';

export interface Rate {
  opsPerSec: number;
  nsPerOp: number;
}

/** Iterations of `fn` that take about `roundMs` milliseconds (after a warm-up). */
function calibrate(fn: (n: number) => void, roundMs: number): number {
  let n = 1000;
  for (;;) {
    const t0 = process.hrtime.bigint();
    fn(n);
    const ms = Number(process.hrtime.bigint() - t0) / 1e6;
    if (ms >= roundMs / 4) return Math.max(1000, Math.round((n * roundMs) / ms));
    n *= 4;
  }
}

function opsPerSec(fn: (n: number) => void, n: number): number {
  const t0 = process.hrtime.bigint();
  fn(n);
  return (n * 1e9) / Number(process.hrtime.bigint() - t0);
}

function median(xs: number[]): number {
  const s = xs.slice().sort((x, y) => x - y);
  return s.length % 2 ? s[s.length >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

/** Median ops/s of `rounds` timed runs of `fn(n)`, each about `roundMs` long. */
export function rate(fn: (n: number) => void, roundMs: number, rounds = 5): Rate {
  const n = calibrate(fn, roundMs);
  const samples: number[] = [];
  for (let r = 0; r < rounds; r++) samples.push(opsPerSec(fn, n));
  const ops = median(samples);
  return { opsPerSec: ops, nsPerOp: 1e9 / ops };
}

export interface Comparison {
  a: number;
  b: number;
  /** Median over rounds of (a's ops/s / b's ops/s) in the same round. */
  ratio: number;
}

/**
 * `a` against `b` in paired rounds: each round times `a` then `b` (order
 * alternating round by round) for about `roundMs` each, and the ratio is the
 * median of the per-round ratios. Drift in the machine's speed (a shared
 * virtual CPU, thermal limits) then moves both sides of a pair together.
 */
export function compare(a: (n: number) => void, b: (n: number) => void, roundMs: number, rounds = 7): Comparison {
  const na = calibrate(a, roundMs);
  const nb = calibrate(b, roundMs);
  const as: number[] = [];
  const bs: number[] = [];
  const ratios: number[] = [];
  for (let r = 0; r < rounds; r++) {
    let ra: number;
    let rb: number;
    if (r % 2 === 0) {
      ra = opsPerSec(a, na);
      rb = opsPerSec(b, nb);
    } else {
      rb = opsPerSec(b, nb);
      ra = opsPerSec(a, na);
    }
    as.push(ra);
    bs.push(rb);
    ratios.push(ra / rb);
  }
  return { a: median(as), b: median(bs), ratio: median(ratios) };
}

function forceGc(): void {
  const g = (globalThis as { gc?: () => void }).gc;
  if (!g) throw new Error('run the benchmark with node --expose-gc (npm run bench does)');
  g();
}

export interface Garbage {
  /** Garbage collections during `messages` free-running messages. */
  gcEvents: number;
  /** Bytes allocated per `messages` messages, the empty-loop baseline subtracted. */
  bytes: number;
  /** False when a collection ran inside a measuring batch, so `bytes` is a lower bound. */
  exact: boolean;
}

/** Collections that ran while `fn()` did (v8.GCProfiler reports synchronously). */
function collections(fn: () => void): number {
  const profiler = new v8.GCProfiler();
  profiler.start();
  fn();
  return profiler.stop().statistics.length;
}

function batchBytes(fn: (n: number) => void, batch: number, batches: number): { bytes: number; exact: boolean } {
  let bytes = 0;
  let exact = true;
  for (let i = 0; i < batches; i++) {
    forceGc();
    let before = 0;
    let after = 0;
    const gcs = collections(() => {
      before = process.memoryUsage().heapUsed;
      fn(batch);
      after = process.memoryUsage().heapUsed;
    });
    if (gcs > 0) exact = false;
    bytes += Math.max(0, after - before);
  }
  return { bytes, exact };
}

/**
 * Garbage produced by `fn(n)` (which processes n messages), per `messages`
 * messages: collections counted over one free-running run of `messages`, and
 * bytes summed over `batch`-message batches that each start after a forced
 * collection, less what the same measurement of an empty loop reports.
 */
export function garbage(fn: (n: number) => void, messages: number, batch: number): Garbage {
  fn(batch); // warm up
  forceGc();
  const gcEvents = collections(() => fn(messages));
  const sampled = 20;
  const base = batchBytes(() => {}, batch, sampled);
  const got = batchBytes(fn, batch, sampled);
  const perBatch = Math.max(0, got.bytes - base.bytes) / sampled;
  return { gcEvents, bytes: Math.round(perBatch * (messages / batch)), exact: got.exact };
}

/** Right-aligned number with thousands separators. */
export function num(n: number, width = 12): string {
  return Math.round(n).toLocaleString('en-US').padStart(width);
}

/** Prints a table: header row, then rows, columns padded. */
export function table(head: string[], rows: string[][]): void {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  console.log(line(head));
  console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const r of rows) console.log(line(r));
}
