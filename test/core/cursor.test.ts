import { describe, expect, it } from 'vitest';
import { ByteReader, ByteWriter } from '../../src/core/cursor';
import { Status } from '../../src/core/status';

describe('ByteWriter', () => {
  it('writes fields big-endian in order and advances', () => {
    const buf = new Uint8Array(16);
    const w = new ByteWriter(buf, 1, 16);
    w.u8(0x1ff);
    w.u16(0x1234);
    w.u32(0xdeadbeef);
    w.bytes(Uint8Array.of(9, 8, 7), 1, 2);
    w.utf8('é');
    expect(w.status).toBe(Status.Ok);
    expect(w.pos).toBe(1 + 1 + 2 + 4 + 2 + 2);
    expect(Array.from(buf.subarray(0, w.pos))).toEqual([0, 0xff, 0x12, 0x34, 0xde, 0xad, 0xbe, 0xef, 8, 7, 0xc3, 0xa9]);
  });

  it('a write past the end › NoMemory, nothing written, and later writes refused too', () => {
    const buf = new Uint8Array(4).fill(0xaa);
    const w = new ByteWriter(buf, 0, 3);
    w.u16(0x0102);
    w.u16(0x0304); // needs bytes 2..3, only 2 is inside end=3
    w.u8(5); // would fit, but the status is sticky
    expect(w.status).toBe(Status.NoMemory);
    expect(Array.from(buf)).toEqual([1, 2, 0xaa, 0xaa]);
  });

  it('end beyond the buffer is clamped to it', () => {
    const w = new ByteWriter(new Uint8Array(2), 0, 100);
    w.u32(1);
    expect(w.status).toBe(Status.NoMemory);
  });

  it('bytes with a range outside the source › BadParameter', () => {
    const w = new ByteWriter(new Uint8Array(8), 0, 8);
    w.bytes(new Uint8Array(2), 1, 2);
    expect(w.status).toBe(Status.BadParameter);
  });

  it('a lone surrogate › InvalidUtf8', () => {
    const w = new ByteWriter(new Uint8Array(8), 0, 8);
    w.utf8('a\udc00');
    expect(w.status).toBe(Status.InvalidUtf8);
    expect(w.pos).toBe(0);
  });
});

describe('ByteReader', () => {
  it('reads what ByteWriter wrote', () => {
    const buf = new Uint8Array(16);
    const w = new ByteWriter(buf, 0, 16);
    w.u8(7);
    w.u16(0xbeef);
    w.u32(0x80000001);
    const r = new ByteReader(buf, 0, w.pos);
    expect(r.u8()).toBe(7);
    expect(r.u16()).toBe(0xbeef);
    expect(r.u32()).toBe(0x80000001);
    expect(r.remaining).toBe(0);
    expect(r.status).toBe(Status.Ok);
  });

  it('a read past the end › NeedMoreBytes, returns 0, and stays failed', () => {
    const r = new ByteReader(Uint8Array.of(1, 2, 3), 0, 3);
    expect(r.u16()).toBe(0x0102);
    expect(r.u16()).toBe(0);
    expect(r.status).toBe(Status.NeedMoreBytes);
    expect(r.u8()).toBe(0); // byte 3 exists, but the failure is sticky
  });

  it('skip returns the offset of the skipped span for a zero-copy view', () => {
    const r = new ByteReader(Uint8Array.of(1, 2, 3, 4), 1, 4);
    expect(r.skip(2)).toBe(1);
    expect(r.u8()).toBe(4);
    expect(r.skip(-1)).toBe(-1);
    expect(r.status).toBe(Status.BadParameter);
  });

  it('reset reuses the reader and clears its status', () => {
    const r = new ByteReader(new Uint8Array(0), 0, 0);
    r.u8();
    expect(r.status).toBe(Status.NeedMoreBytes);
    r.reset(Uint8Array.of(5), 0, 1);
    expect(r.status).toBe(Status.Ok);
    expect(r.u8()).toBe(5);
  });
});
