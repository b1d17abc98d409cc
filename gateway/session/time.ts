/**
 * Deadlines on the injected clock (DESIGN.md §3). `now` is monotonic milliseconds; it may be
 * a uint32 clock that wraps: comparisons go through a signed 32-bit difference, correct for
 * deadlines up to 24 days ahead (the longest MQTT-SN timer, a 65,535 s Duration × grace, is
 * about 27 hours).
 */

/**
 * True once `now` has reached `due` (MQTT-SN 1.2 §6.11, §6.13, §6.14 timers).
 *
 * @example `reached(1000, 1000) === true`, `reached(999, 1000) === false`
 */
export function reached(now: number, due: number): boolean {
  return ((now - due) | 0) >= 0;
}
