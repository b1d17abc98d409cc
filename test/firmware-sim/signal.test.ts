/**
 * firmware-sim › the simulated signal and the allocation-free number text it is published as.
 */
import { describe, expect, it } from 'vitest';
import { Quantity, Signal, XorShift32, parseUint, writeFixed } from '../../firmware-sim/signal';
import { formatFixed } from '../../firmware-sim/node';

const text = (b: Uint8Array, end: number) => Buffer.from(b.subarray(0, end)).toString();

describe('firmware-sim › writeFixed', () => {
  it.each([
    [215, 1, '21.5'],
    [5, 1, '0.5'],
    [-5, 1, '-0.5'],
    [-200, 1, '-20.0'],
    [0, 1, '0.0'],
    [3297, 3, '3.297'],
    [42, 3, '0.042'],
    [7, 0, '7'],
    [1000, 1, '100.0'],
  ])('%i with %i decimals is "%s", as the Node side formats it', (v, d, want) => {
    const b = new Uint8Array(12);
    const end = writeFixed(b, 0, v, d);
    expect(text(b, end)).toBe(want);
    expect(formatFixed(v, d)).toBe(want);
  });

  it('writes nothing and returns -1 when the text does not fit', () => {
    const b = new Uint8Array(3);
    expect(writeFixed(b, 0, 3297, 3)).toBe(-1);
    expect([...b]).toEqual([0, 0, 0]);
  });
});

describe('firmware-sim › parseUint', () => {
  const p = (s: string) => parseUint(Buffer.from(s), 0, s.length);
  it.each([
    ['200', 200],
    [' 3000 ', 3000],
    ['0', 0],
    ['', -1],
    ['12a', -1],
    ['-5', -1],
    ['1.5', -1],
    ['99999999999', -1],
  ])('"%s" → %i', (s, n) => expect(p(s)).toBe(n));
});

describe('firmware-sim › Signal', () => {
  it('the same seed gives the same readings; another seed other ones', () => {
    const a = new Signal(7);
    const b = new Signal(7);
    const c = new Signal(8);
    const run = (s: Signal) => Array.from({ length: 20 }, () => (s.step(), [...s.value]));
    const ra = run(a);
    expect(run(b)).toEqual(ra);
    expect(run(c)).not.toEqual(ra);
  });

  it('stays plausible over a long run: temperature walks in small steps, humidity in 5..99 %, battery only falls', () => {
    const s = new Signal(12345);
    let t = s.value[Quantity.Temperature]!;
    let batt = s.value[Quantity.Battery]!;
    for (let i = 0; i < 10_000; i++) {
      s.step();
      const nt = s.value[Quantity.Temperature]!;
      expect(Math.abs(nt - t)).toBeLessThanOrEqual(3 + 10); // ±0.3 °C plus the pull to the mean
      t = nt;
      const h = s.value[Quantity.Humidity]!;
      expect(h).toBeGreaterThanOrEqual(50);
      expect(h).toBeLessThanOrEqual(990);
      expect(s.value[Quantity.Battery]!).toBeLessThanOrEqual(batt);
      batt = s.value[Quantity.Battery]!;
    }
    expect(batt).toBeGreaterThanOrEqual(2700);
    expect(batt).toBeLessThan(3250); // it did drop
  });

  it('XorShift32.range stays within its bounds', () => {
    const r = new XorShift32(1);
    for (let i = 0; i < 1000; i++) {
      const v = r.range(-3, 3);
      expect(v).toBeGreaterThanOrEqual(-3);
      expect(v).toBeLessThanOrEqual(3);
    }
  });
});
