import { describe, expect, it } from 'vitest';
import { ByteRing } from '../../src/core/ring';
import { statusName } from '../../src/core/status';
import { MqttPacket, decodePacket, encodePacket, frameLength, packetLength, type AnyPacketInfo } from '../../src/mqtt/index';

const STREAM: AnyPacketInfo[] = [
  { type: 3, topic: 'a/b', payload: 'x'.repeat(300), qos: 1, packetId: 1 },
  { type: 13 },
  { type: 3, topic: 't', payload: 'hi', qos: 0 },
  { type: 4, packetId: 9 },
  { type: 3, topic: 'z', payload: 'y'.repeat(20000), qos: 0 },
];

function encodeAll(version: number): { bytes: Uint8Array; ends: number[] } {
  const buf = new Uint8Array(30000);
  const ends: number[] = [];
  let off = 0;
  for (const p of STREAM) {
    off = encodePacket(p, version, buf, off);
    expect(off).toBeGreaterThan(0);
    ends.push(off);
  }
  return { bytes: buf.slice(0, off), ends };
}

describe('frameLength › finds packet boundaries across partial reads', () => {
  for (const chunk of [1, 2, 3, 7, 64, 1000]) {
    it(`stream delivered in ${chunk}-byte reads › every packet framed and decoded once`, () => {
      const { bytes, ends } = encodeAll(4);
      const ring = new ByteRing(25000);
      const linear = new Uint8Array(25000);
      const view = new MqttPacket();
      const seen: number[] = [];
      let fed = 0;
      let consumed = 0;
      while (fed < bytes.length || ring.length > 0) {
        if (fed < bytes.length) {
          const n = Math.min(chunk, bytes.length - fed);
          expect(ring.write(bytes, fed, n)).toBe(n);
          fed += n;
        }
        for (;;) {
          const total = frameLength(ring, 25000);
          if (total === -1 || ring.length < total) break; // NeedMoreBytes
          expect(total).toBeGreaterThan(0);
          ring.read(linear, 0, total);
          expect(decodePacket(linear, 0, total, 4, view, 0)).toBe(total);
          consumed += total;
          seen.push(consumed);
          if (view.type === 3) expect(view.payloadLength).toBeGreaterThan(0);
        }
        if (fed >= bytes.length && ring.length === 0) break;
      }
      expect(seen).toEqual(ends);
    });
  }

  it('a packet over maxPacketSize › TooLarge as soon as its header is in', () => {
    const ring = new ByteRing(16);
    ring.write(Uint8Array.of(0x30, 0xff, 0x7f), 0, 3); // Remaining Length 16383
    expect(statusName(frameLength(ring, 1024))).toBe('TooLarge');
    expect(statusName(packetLength(Uint8Array.of(0x30, 0xff, 0x7f), 0, 3, 1024))).toBe('TooLarge');
  });

  it('a 5-byte Remaining Length › Malformed, not a wait for more bytes', () => {
    const ring = new ByteRing(16);
    ring.write(Uint8Array.of(0x30, 0xff, 0xff, 0xff, 0xff, 0x01), 0, 6);
    expect(statusName(frameLength(ring, 1 << 30))).toBe('Malformed');
  });

  it('packet type 0 › Malformed', () => {
    const ring = new ByteRing(4);
    ring.write(Uint8Array.of(0x00, 0x00), 0, 2);
    expect(statusName(frameLength(ring, 100))).toBe('Malformed');
  });

  it('header wrapped around the end of the ring › same length as linear', () => {
    const ring = new ByteRing(8);
    ring.write(new Uint8Array(6), 0, 6);
    ring.skip(6);
    ring.write(Uint8Array.of(0x30, 0xcb, 0x01, 0x00), 0, 4); // wraps after 2 bytes
    expect(frameLength(ring, 1000)).toBe(206);
  });
});
