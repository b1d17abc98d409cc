/**
 * The injected time source (DESIGN.md §3). `src/` never reads a wall clock:
 * the runtime adapter (or a test) supplies one.
 */
export interface Clock {
  /** Milliseconds as an unsigned 32-bit value; it may wrap. */
  now(): number;
}

/**
 * Milliseconds from `start` to `now`, correct across the uint32 wrap.
 *
 * @example `elapsed(5, 0xfffffffb) === 10`
 */
export function elapsed(now: number, start: number): number {
  return (now - start) >>> 0;
}
