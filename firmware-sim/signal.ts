/**
 * The simulated physics of one sensor node: a temperature random walk, a relative humidity that
 * follows it the other way, and a battery voltage that drops a little with every reading. All
 * values are integers in fixed point (tenths of a degree, tenths of a percent, millivolts), so
 * nothing here allocates and the same seed gives the same readings on every runtime.
 *
 * Portable: runs unchanged on Espruino (no `**`, no default parameters, no Math.imul needed).
 */

/** Quantities a node measures, in the order it publishes them. */
export const enum Quantity {
  /** Air temperature, tenths of a degree Celsius. */
  Temperature = 0,
  /** Relative humidity, tenths of a percent. */
  Humidity = 1,
  /** Battery voltage, millivolts. */
  Battery = 2,
}

/** How many {@link Quantity} values there are. */
export const QUANTITIES = 3;

/** Decimal places each quantity is published with (21.7 °C, 48.3 %, 3.297 V). */
export const DECIMALS: readonly number[] = [1, 1, 3];

/**
 * A 32-bit xorshift generator (Marsaglia, "Xorshift RNGs", 2003: shifts 13, 17, 5). Small,
 * allocation-free and identical on every engine, unlike `Math.random`.
 */
export class XorShift32 {
  private s: number;

  /** `seed` 0 is replaced by a fixed non-zero value (xorshift must not start at 0). */
  constructor(seed: number) {
    this.s = seed >>> 0 || 0x9e3779b9;
  }

  /** The next value as an unsigned 32-bit integer. */
  next(): number {
    let x = this.s;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.s = x >>> 0;
    return this.s;
  }

  /** An integer in `[lo, hi]`. */
  range(lo: number, hi: number): number {
    return lo + (this.next() % (hi - lo + 1));
  }
}

/** The three signals of one node; {@link Signal.step} advances them by one reading. */
export class Signal {
  /** Current values, indexed by {@link Quantity}. */
  readonly value: Int32Array;
  private readonly rng: XorShift32;
  /** The temperature the walk drifts back towards (tenths of °C). */
  private readonly mean: number;

  constructor(seed: number) {
    const r = new XorShift32(seed);
    this.rng = r;
    this.value = new Int32Array(QUANTITIES);
    this.mean = r.range(180, 240);
    this.value[Quantity.Temperature] = this.mean;
    this.value[Quantity.Battery] = r.range(3250, 3300);
    this.value[Quantity.Humidity] = this.humidityFor(this.mean);
  }

  /** Takes the next reading of every quantity. */
  step(): void {
    const v = this.value;
    const r = this.rng;
    // Random walk of up to ±0.3 °C, pulled back by a tenth of the distance to the mean.
    let t = v[Quantity.Temperature] + r.range(-3, 3) + (((this.mean - v[Quantity.Temperature]) / 10) | 0);
    if (t < -200) t = -200;
    if (t > 500) t = 500;
    v[Quantity.Temperature] = t;
    v[Quantity.Humidity] = this.humidityFor(t);
    // About 1 mV per reading, never below the brown-out level.
    const b = v[Quantity.Battery] - r.range(0, 2);
    v[Quantity.Battery] = b < 2700 ? 2700 : b;
  }

  /** Warmer air holds more water: relative humidity falls as temperature rises, with noise. */
  private humidityFor(t: number): number {
    let h = 550 - (t - 200) * 2 + this.rng.range(-10, 10);
    if (h < 50) h = 50;
    if (h > 990) h = 990;
    return h;
  }
}

/**
 * Writes `value / 10^decimals` as decimal ASCII into `buf[off..]` (`215, 1` → `21.5`,
 * `-5, 1` → `-0.5`, `3297, 3` → `3.297`). Returns the offset after the last digit, or -1 when
 * it does not fit. No allocation.
 */
export function writeFixed(buf: Uint8Array, off: number, value: number, decimals: number): number {
  let v = value | 0;
  let at = off;
  if (v < 0) {
    if (at >= buf.length) return -1;
    buf[at++] = 0x2d; // '-'
    v = -v;
  }
  // Count the digits: at least decimals + 1 (a leading 0 before the point).
  let digits = 1;
  for (let p = 10; p <= v; p *= 10) digits++;
  if (digits < decimals + 1) digits = decimals + 1;
  const end = at + digits + (decimals > 0 ? 1 : 0);
  if (end > buf.length) return -1;
  let i = end;
  for (let d = 0; d < digits; d++) {
    if (decimals > 0 && d === decimals) buf[--i] = 0x2e; // '.'
    buf[--i] = 0x30 + (v % 10);
    v = (v / 10) | 0;
  }
  return end;
}

/**
 * Reads a non-negative decimal integer from `buf[off..off+len)` (ASCII digits, surrounding
 * spaces allowed). Returns it, or -1 when the text is empty, not a number, or above 2^31.
 */
export function parseUint(buf: Uint8Array, off: number, len: number): number {
  let i = off;
  const end = off + len;
  while (i < end && buf[i] === 0x20) i++;
  let n = 0;
  let any = false;
  while (i < end && buf[i] >= 0x30 && buf[i] <= 0x39) {
    n = n * 10 + (buf[i] - 0x30);
    if (n > 0x7fffffff) return -1;
    any = true;
    i++;
  }
  while (i < end && buf[i] === 0x20) i++;
  return any && i === end ? n : -1;
}
