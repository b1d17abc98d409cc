import { describe, expect, it } from 'vitest';
import { elapsed, type Clock } from '../../src/core';

const U32 = 0x1_0000_0000;

describe('elapsed', () => {
  it('is now - start without a wrap', () => {
    expect(elapsed(1000, 400)).toBe(600);
    expect(elapsed(7, 7)).toBe(0);
    expect(elapsed(0xffffffff, 0)).toBe(0xffffffff);
  });

  it('stays correct across the uint32 wrap', () => {
    expect(elapsed(5, 0xfffffffb)).toBe(10); // the documented example
    expect(elapsed(0, 0xffffffff)).toBe(1);
    expect(elapsed(0, 1)).toBe(0xffffffff); // "now" just before "start": almost a full cycle
  });

  it('matches modular arithmetic for many start/duration pairs', () => {
    let seed = 12345;
    const rnd = () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / U32);
    for (let i = 0; i < 5000; i++) {
      const start = Math.floor(rnd() * U32);
      const d = Math.floor(rnd() * U32);
      const now = (start + d) % U32;
      expect(elapsed(now, start)).toBe(d);
    }
  });

  it('always returns a uint32', () => {
    for (const [a, b] of [[0, 0xffffffff], [-1, 0], [0x80000000, 0x7fffffff], [3, 5]]) {
      const e = elapsed(a, b);
      expect(Number.isInteger(e) && e >= 0 && e < U32).toBe(true);
    }
  });

  it('measures time from an injected clock that wraps', () => {
    let t = 0xffffff00;
    const clock: Clock = { now: () => t };
    const start = clock.now();
    t = (t + 0x200) >>> 0;
    expect(clock.now()).toBe(0x100);
    expect(elapsed(clock.now(), start)).toBe(0x200);
  });
});
