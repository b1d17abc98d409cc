import { describe, expect, it } from 'vitest';
import { bytesEqual, copyBytes, readU16, readU32, writeU16, writeU32 } from '../../src/core';

describe('readU16 / writeU16', () => {
  it('is big-endian and returns the offset after the value', () => {
    const b = new Uint8Array(4);
    expect(writeU16(b, 1, 0x1234)).toBe(3);
    expect([...b]).toEqual([0, 0x12, 0x34, 0]);
    expect(readU16(b, 1)).toBe(0x1234);
  });

  it('round-trips every boundary value', () => {
    const b = new Uint8Array(2);
    for (const v of [0, 1, 0xff, 0x100, 0x7fff, 0x8000, 0xfffe, 0xffff]) {
      writeU16(b, 0, v);
      expect(readU16(b, 0)).toBe(v);
    }
  });

  it('keeps the low 16 bits of larger values', () => {
    const b = new Uint8Array(2);
    writeU16(b, 0, 0x12345);
    expect(readU16(b, 0)).toBe(0x2345);
  });

  it('agrees with DataView', () => {
    const b = new Uint8Array(64);
    const dv = new DataView(b.buffer);
    for (let i = 0; i < 63; i++) {
      const v = (i * 2654435761) & 0xffff;
      writeU16(b, i, v);
      expect(dv.getUint16(i, false)).toBe(v);
      expect(readU16(b, i)).toBe(v);
    }
  });
});

describe('readU32 / writeU32', () => {
  it('is big-endian and returns the offset after the value', () => {
    const b = new Uint8Array(6);
    expect(writeU32(b, 1, 0x12345678)).toBe(5);
    expect([...b]).toEqual([0, 0x12, 0x34, 0x56, 0x78, 0]);
    expect(readU32(b, 1)).toBe(0x12345678);
  });

  it('reads values with the top bit set as non-negative', () => {
    const b = new Uint8Array([0xff, 0xff, 0xff, 0xff, 0x80, 0, 0, 0]);
    expect(readU32(b, 0)).toBe(0xffffffff);
    expect(readU32(b, 4)).toBe(0x80000000);
  });

  it('round-trips and agrees with DataView', () => {
    const b = new Uint8Array(8);
    const dv = new DataView(b.buffer);
    for (const v of [0, 1, 0xff, 0x100, 0xffff, 0x10000, 0x7fffffff, 0x80000000, 0xfffffffe, 0xffffffff, 0xdeadbeef]) {
      writeU32(b, 2, v);
      expect(readU32(b, 2)).toBe(v);
      expect(dv.getUint32(2, false)).toBe(v);
    }
  });

  it('writes negative int32 values as their uint32 bit pattern', () => {
    const b = new Uint8Array(4);
    writeU32(b, 0, -1);
    expect(readU32(b, 0)).toBe(0xffffffff);
  });
});

describe('copyBytes', () => {
  const seq = (n: number, from = 1) => Uint8Array.from({ length: n }, (_, i) => (from + i) & 0xff);

  it('copies a range and returns the offset after it in dst', () => {
    const dst = new Uint8Array(8);
    expect(copyBytes(seq(6), 2, 3, dst, 4)).toBe(7);
    expect([...dst]).toEqual([0, 0, 0, 0, 3, 4, 5, 0]);
  });

  it('copies a whole large array (the native set path)', () => {
    const src = seq(100);
    const dst = new Uint8Array(110);
    expect(copyBytes(src, 0, 100, dst, 5)).toBe(105);
    expect([...dst.subarray(5, 105)]).toEqual([...src]);
    expect(dst[4]).toBe(0);
    expect(dst[105]).toBe(0);
  });

  it('copies whole small arrays and partial large ones (the loop path) the same way', () => {
    for (const [n, off, len] of [[10, 0, 10], [100, 1, 99], [100, 0, 99], [33, 0, 33], [32, 0, 32]]) {
      const src = seq(n);
      const dst = new Uint8Array(n + 2);
      expect(copyBytes(src, off, len, dst, 2)).toBe(2 + len);
      expect([...dst.subarray(2, 2 + len)]).toEqual([...src.subarray(off, off + len)]);
    }
  });

  it('copies nothing for len 0', () => {
    const dst = new Uint8Array(2);
    expect(copyBytes(seq(4), 1, 0, dst, 1)).toBe(1);
    expect([...dst]).toEqual([0, 0]);
  });

  it('copies forward within one buffer when dst is before src', () => {
    const b = seq(8);
    copyBytes(b, 2, 4, b, 0);
    expect([...b]).toEqual([3, 4, 5, 6, 5, 6, 7, 8]);
  });
});

describe('bytesEqual', () => {
  it('compares ranges at different offsets', () => {
    const a = new Uint8Array([9, 1, 2, 3]);
    const b = new Uint8Array([1, 2, 3, 7]);
    expect(bytesEqual(a, 1, b, 0, 3)).toBe(true);
    expect(bytesEqual(a, 1, b, 0, 4)).toBe(false);
    expect(bytesEqual(a, 0, b, 0, 3)).toBe(false);
  });

  it('is true for empty ranges', () => {
    expect(bytesEqual(new Uint8Array(0), 0, new Uint8Array(3), 2, 0)).toBe(true);
  });

  it('finds a difference in the last byte', () => {
    const a = Uint8Array.from({ length: 50 }, (_, i) => i);
    const b = a.slice();
    b[49] = 0;
    expect(bytesEqual(a, 0, b, 0, 49)).toBe(true);
    expect(bytesEqual(a, 0, b, 0, 50)).toBe(false);
  });
});
