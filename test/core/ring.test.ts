import { describe, expect, it } from 'vitest';
import { ByteRing, Status } from '../../src/core';

const bytes = (...xs: number[]) => Uint8Array.from(xs);
const seq = (n: number, from = 1) => Uint8Array.from({ length: n }, (_, i) => (from + i) & 0xff);
/** Everything stored, oldest first, read without consuming. */
const contents = (r: ByteRing) => {
  const out = new Uint8Array(r.length);
  expect(r.peekInto(out, 0, out.length)).toBe(out.length);
  return [...out];
};

describe('ByteRing › construction', () => {
  it('allocates the capacity it is given', () => {
    const r = new ByteRing(16);
    expect(r.capacity).toBe(16);
    expect(r.buf.length).toBe(16);
    expect(r.length).toBe(0);
    expect(r.free).toBe(16);
  });

  it('uses caller-supplied storage without copying', () => {
    const storage = new Uint8Array(5);
    const r = new ByteRing(storage);
    expect(r.buf).toBe(storage);
    expect(r.capacity).toBe(5);
    r.push(42);
    expect(storage[0]).toBe(42);
  });
});

describe('ByteRing › empty', () => {
  it('reports Empty from shift and peek, and 0 from the counting reads', () => {
    const r = new ByteRing(4);
    expect(r.shift()).toBe(Status.Empty);
    expect(r.peek(0)).toBe(Status.Empty);
    expect(r.read(new Uint8Array(4), 0, 4)).toBe(0);
    expect(r.peekInto(new Uint8Array(4), 0, 4)).toBe(0);
    expect(r.skip(3)).toBe(0);
    expect(r.length).toBe(0);
  });

  it('a zero-capacity ring is always full and empty', () => {
    const r = new ByteRing(0);
    expect(r.push(1)).toBe(Status.Full);
    expect(r.write(seq(3), 0, 3)).toBe(0);
    expect(r.writableLength()).toBe(0);
    expect(r.shift()).toBe(Status.Empty);
  });
});

describe('ByteRing › full', () => {
  it('push returns Ok until full, then Full without changing anything', () => {
    const r = new ByteRing(3);
    expect([r.push(1), r.push(2), r.push(3)]).toEqual([Status.Ok, Status.Ok, Status.Ok]);
    expect(r.free).toBe(0);
    expect(r.push(4)).toBe(Status.Full);
    expect(contents(r)).toEqual([1, 2, 3]);
  });

  it('write takes what fits and says how much (partial write)', () => {
    const r = new ByteRing(8);
    expect(r.write(seq(5), 0, 5)).toBe(5);
    expect(r.write(seq(10, 6), 0, 10)).toBe(3);
    expect(r.write(seq(2), 0, 2)).toBe(0);
    expect(contents(r)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(r.free).toBe(0);
  });

  it('write reads from the given source offset', () => {
    const r = new ByteRing(8);
    expect(r.write(seq(10), 7, 3)).toBe(3);
    expect(contents(r)).toEqual([8, 9, 10]);
  });
});

describe('ByteRing › wrap-around', () => {
  it('keeps byte order when the data wraps past the end of the buffer', () => {
    const r = new ByteRing(8);
    r.write(seq(6), 0, 6); // 1..6 at [0..6)
    const tmp = new Uint8Array(8);
    expect(r.read(tmp, 0, 4)).toBe(4);
    expect([...tmp.subarray(0, 4)]).toEqual([1, 2, 3, 4]);
    expect(r.write(seq(6, 7), 0, 6)).toBe(6); // 7..12: two at the end, four wrapped
    expect([...r.buf]).toEqual([9, 10, 11, 12, 5, 6, 7, 8]);
    expect(contents(r)).toEqual([5, 6, 7, 8, 9, 10, 11, 12]);
    expect(r.read(tmp, 0, 8)).toBe(8);
    expect([...tmp]).toEqual([5, 6, 7, 8, 9, 10, 11, 12]);
    expect(r.length).toBe(0);
  });

  it('push and shift wrap one byte at a time', () => {
    const r = new ByteRing(3);
    const out: number[] = [];
    for (let i = 0; i < 20; i++) {
      expect(r.push(i)).toBe(Status.Ok);
      if (r.length === 2) out.push(r.shift());
    }
    while (r.length > 0) out.push(r.shift());
    expect(out).toEqual(Array.from({ length: 20 }, (_, i) => i));
  });
});

describe('ByteRing › peek, peekInto, skip', () => {
  const wrapped = () => {
    const r = new ByteRing(5);
    r.write(seq(4), 0, 4);
    r.skip(3);
    r.write(seq(4, 5), 0, 4); // holds 4,5,6,7,8 with the head at 3
    return r;
  };

  it('peek(i) reads the i-th byte across the wrap without consuming', () => {
    const r = wrapped();
    expect([0, 1, 2, 3, 4].map((i) => r.peek(i))).toEqual([4, 5, 6, 7, 8]);
    expect(r.length).toBe(5);
  });

  it('peek outside [0, length) is Empty', () => {
    const r = wrapped();
    expect(r.peek(5)).toBe(Status.Empty);
    expect(r.peek(-1)).toBe(Status.Empty);
  });

  it('peekInto copies up to len to dst[off..] without consuming', () => {
    const r = wrapped();
    const dst = new Uint8Array(9);
    expect(r.peekInto(dst, 2, 3)).toBe(3);
    expect([...dst]).toEqual([0, 0, 4, 5, 6, 0, 0, 0, 0]);
    expect(r.peekInto(dst, 0, 100)).toBe(5);
    expect([...dst.subarray(0, 5)]).toEqual([4, 5, 6, 7, 8]);
    expect(r.length).toBe(5);
  });

  it('skip discards at most what is stored, and nothing for negative counts', () => {
    const r = wrapped();
    expect(r.skip(-2)).toBe(0);
    expect(r.length).toBe(5);
    expect(r.skip(2)).toBe(2);
    expect(r.peek(0)).toBe(6);
    expect(r.skip(99)).toBe(3);
    expect(r.length).toBe(0);
  });

  it('read moves bytes out', () => {
    const r = wrapped();
    const dst = new Uint8Array(3);
    expect(r.read(dst, 0, 3)).toBe(3);
    expect([...dst]).toEqual([4, 5, 6]);
    expect(contents(r)).toEqual([7, 8]);
  });

  it('clear empties the ring and restarts at offset 0', () => {
    const r = wrapped();
    r.clear();
    expect(r.length).toBe(0);
    expect(r.free).toBe(5);
    expect(r.writableStart()).toBe(0);
    expect(r.writableLength()).toBe(5);
  });
});

describe('ByteRing › zero-copy writes (writableStart / writableLength / commitWrite)', () => {
  it('offers the whole buffer when empty', () => {
    const r = new ByteRing(8);
    expect(r.writableStart()).toBe(0);
    expect(r.writableLength()).toBe(8);
  });

  it('commits bytes written straight into buf', () => {
    const r = new ByteRing(8);
    r.buf.set([1, 2, 3, 4, 5], r.writableStart());
    expect(r.commitWrite(5)).toBe(Status.Ok);
    expect(contents(r)).toEqual([1, 2, 3, 4, 5]);
    expect(r.writableStart()).toBe(5);
    expect(r.writableLength()).toBe(3);
  });

  it('offers only the contiguous part up to the end, then the wrapped part before the head', () => {
    const r = new ByteRing(8);
    r.write(seq(5), 0, 5);
    r.skip(4); // head 4, one byte (5) stored at [4]
    expect(r.writableStart()).toBe(5);
    expect(r.writableLength()).toBe(3); // [5..8), although 7 are free
    expect(r.free).toBe(7);
    r.buf.set([6, 7, 8], 5);
    expect(r.commitWrite(3)).toBe(Status.Ok);
    // Now wrapped: the free space is [0..4).
    expect(r.writableStart()).toBe(0);
    expect(r.writableLength()).toBe(4);
    r.buf.set([9, 10, 11, 12], 0);
    expect(r.commitWrite(4)).toBe(Status.Ok);
    expect(r.writableLength()).toBe(0);
    expect(r.free).toBe(0);
    expect(contents(r)).toEqual([5, 6, 7, 8, 9, 10, 11, 12]);
  });

  it('rejects commits larger than the contiguous window, even when they would fit in free', () => {
    const r = new ByteRing(8);
    r.write(seq(5), 0, 5);
    r.skip(4);
    expect(r.commitWrite(4)).toBe(Status.BadParameter);
    expect(r.commitWrite(-1)).toBe(Status.BadParameter);
    expect(r.length).toBe(1);
    expect(r.commitWrite(0)).toBe(Status.Ok);
    expect(r.length).toBe(1);
  });

  it('rejects any commit when full', () => {
    const r = new ByteRing(4);
    r.write(seq(4), 0, 4);
    expect(r.writableLength()).toBe(0);
    expect(r.commitWrite(1)).toBe(Status.BadParameter);
  });

  it('offers the whole buffer again after the ring is drained with read', () => {
    const r = new ByteRing(8);
    r.write(seq(6), 0, 6);
    r.read(new Uint8Array(6), 0, 6);
    expect(r.writableStart()).toBe(0);
    expect(r.writableLength()).toBe(8);
  });

  it('a recv loop through the zero-copy window delivers a stream in order', () => {
    const r = new ByteRing(13);
    const stream = seq(1000);
    const got: number[] = [];
    const tmp = new Uint8Array(13);
    let sent = 0;
    let step = 0;
    while (got.length < stream.length) {
      // "recv" as much as the window and a varying chunk size allow
      const n = Math.min(r.writableLength(), stream.length - sent, 1 + (step % 7));
      r.buf.set(stream.subarray(sent, sent + n), r.writableStart());
      expect(r.commitWrite(n)).toBe(Status.Ok);
      sent += n;
      // consume a varying amount
      const k = r.read(tmp, 0, 1 + ((step * 5) % 11));
      got.push(...tmp.subarray(0, k));
      step++;
    }
    expect(got).toEqual([...stream]);
  });
});

describe('ByteRing › against a model', () => {
  /** Asserts through expect only on a mismatch: expect() is slow in hot loops. */
  const eq = <T>(actual: T, expected: T, context: string) => {
    if (actual !== expected) expect(actual, context).toBe(expected);
  };
  const same = (actual: ArrayLike<number>, expected: number[], context: string) => {
    if (Array.from(actual).join() !== expected.join()) expect(Array.from(actual), context).toEqual(expected);
  };

  it('matches an array model over random operations', () => {
    let seed = 7;
    const rnd = (n: number) => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) % n);
    for (const cap of [1, 2, 3, 7, 8, 64]) {
      const r = new ByteRing(cap);
      const model: number[] = [];
      const tmp = new Uint8Array(cap + 4);
      for (let step = 0; step < 4000; step++) {
        const op = rnd(9);
        const at = `cap=${cap} step=${step} op=${op}`;
        if (op === 0) {
          const b = rnd(256);
          const res = r.push(b);
          if (model.length < cap) {
            eq(res, Status.Ok, at);
            model.push(b);
          } else eq(res, Status.Full, at);
        } else if (op === 1) {
          const len = rnd(cap + 3);
          const src = Uint8Array.from({ length: len }, () => rnd(256));
          const n = r.write(src, 0, len);
          eq(n, Math.min(len, cap - model.length), at);
          model.push(...src.subarray(0, n));
        } else if (op === 2) {
          const len = rnd(cap + 3);
          const n = r.read(tmp, 0, len);
          eq(n, Math.min(len, model.length), at);
          same(tmp.subarray(0, n), model.splice(0, n), at);
        } else if (op === 3) {
          eq(r.shift(), model.length ? model.shift() : Status.Empty, at);
        } else if (op === 4) {
          const i = rnd(cap + 1);
          eq(r.peek(i), i < model.length ? model[i] : Status.Empty, at);
        } else if (op === 5) {
          const n = rnd(cap + 2);
          eq(r.skip(n), Math.min(n, model.length), at);
          model.splice(0, n);
        } else if (op === 6) {
          const start = r.writableStart();
          const w = r.writableLength();
          eq(w <= cap - model.length && start + w <= cap, true, at);
          if (model.length < cap) eq(w > 0, true, at); // free space always offers a window
          const n = rnd(w + 1);
          for (let i = 0; i < n; i++) r.buf[start + i] = (start + i * 31) & 0xff;
          eq(r.commitWrite(n), Status.Ok, at);
          for (let i = 0; i < n; i++) model.push((start + i * 31) & 0xff);
        } else if (op === 7) {
          const n = rnd(cap + 2);
          eq(r.peekInto(tmp, 1, n), Math.min(n, model.length), at);
          same(tmp.subarray(1, 1 + Math.min(n, model.length)), model.slice(0, n), at);
        } else if (rnd(20) === 0) {
          r.clear();
          model.length = 0;
        }
        eq(r.length, model.length, at);
        eq(r.free, cap - model.length, at);
      }
    }
  });
});

describe('ByteRing › negative counts', () => {
  // A transport's recv returns < 0 on a fatal error (DESIGN.md §3); passing
  // that count on to write/read must not corrupt the ring.
  it('write with a negative len stores nothing and leaves the counts intact', () => {
    const r = new ByteRing(4);
    r.write(bytes(1, 2), 0, 2);
    expect(r.write(bytes(9), 0, -1)).toBe(0);
    expect(r.length).toBe(2);
    expect(r.free).toBe(2);
  });

  it('read with a negative len returns 0, not a negative count that looks like a Status', () => {
    const r = new ByteRing(4);
    r.write(bytes(1, 2), 0, 2);
    expect(r.read(new Uint8Array(4), 0, -1)).toBe(0);
  });
});

describe('ByteRing › shift that empties the ring', () => {
  it('rewinds to the start so the next zero-copy write window is the whole ring', () => {
    const r = new ByteRing(8);
    r.write(bytes(1, 2, 3), 0, 3);
    r.shift();
    r.shift();
    expect(r.writableLength()).toBe(5);
    r.shift();
    expect(r.writableStart()).toBe(0);
    expect(r.writableLength()).toBe(8);
  });
});

describe('ByteRing › zero-copy reads (readableStart / readableLength)', () => {
  it('offers the oldest bytes up to the end of storage, then the wrapped rest', () => {
    const r = new ByteRing(8);
    r.write(bytes(1, 2, 3, 4, 5, 6), 0, 6);
    r.skip(5); // head 5, holds [6]
    r.write(bytes(7, 8, 9, 10), 0, 4); // 6,7,8 at [5..8), 9,10 wrapped to [0..2)
    expect(r.readableStart()).toBe(5);
    expect(r.readableLength()).toBe(3);
    expect(Array.from(r.buf.subarray(5, 8))).toEqual([6, 7, 8]);
    r.skip(3);
    expect(r.readableStart()).toBe(0);
    expect(r.readableLength()).toBe(2);
    expect(Array.from(r.buf.subarray(0, 2))).toEqual([9, 10]);
    r.skip(2);
    expect(r.readableLength()).toBe(0);
  });
});
