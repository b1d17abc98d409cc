/**
 * The Node.js {@link Clock} (DESIGN.md §3 "Clock"): monotonic milliseconds
 * from `performance.now()` (W3C High Resolution Time, `Performance.now()`:
 * monotonic, unaffected by wall-clock changes), truncated to uint32. It wraps
 * after 2^32 ms (≈ 49.7 days); fieldmq measures with `elapsed(now, start)`,
 * which is correct across the wrap.
 */
import { performance } from 'node:perf_hooks';
import type { Clock } from '../../core/clock';

/**
 * A monotonic uint32 millisecond clock.
 *
 * @example
 * ```ts
 * const clock = new NodeClock();
 * setInterval(() => client.poll(clock.now()), 50);
 * ```
 */
export class NodeClock implements Clock {
  private readonly offset: number;

  /**
   * @param offset - milliseconds added before truncation (default 0). Tests
   *   use it to start just below the uint32 wrap.
   */
  constructor(offset?: number) {
    this.offset = offset ?? 0;
  }

  /** Milliseconds as uint32 (`Math.floor(performance.now() + offset) mod 2^32`). */
  now(): number {
    return Math.floor(performance.now() + this.offset) >>> 0;
  }
}

/** A shared {@link NodeClock} with no offset. */
export const nodeClock: Clock = new NodeClock();
