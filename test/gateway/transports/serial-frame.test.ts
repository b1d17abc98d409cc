import { describe, expect, it } from 'vitest';
import { SerialPacket, SerialSnFramer } from '../../../gateway/transports/serial-frame';
import { concat, feed, fromHex, prng, toHex } from './helpers';

/**
 * MQTT-SN 1.2 messages, written by hand from §5.2 / §5.4 (Length, MsgType, fields).
 */
const packets: Array<{ name: string; hex: string; type: number }> = [
  { name: 'PINGREQ (§5.4.19), header only', hex: '02 16', type: 0x16 },
  { name: 'CONNACK accepted (§5.4.5)', hex: '03 05 00', type: 0x05 },
  { name: 'PUBLISH QoS 0 topic 1 "hi" (§5.4.12)', hex: '09 0C 00 00 01 00 00 68 69', type: 0x0c },
  { name: 'SEARCHGW radius 1 (§5.4.2)', hex: '03 01 01', type: 0x01 },
  { name: 'PINGREQ in the 3-octet Length form (§5.2.1)', hex: '01 00 04 16', type: 0x16 },
  { name: 'forwarder-encapsulated PINGREQ (§5.5)', hex: '05 FE 00 01 41 02 16', type: 0xfe },
];
const stream = concat(...packets.map((p) => fromHex(p.hex)));
const want = packets.map((p) => toHex(fromHex(p.hex)));
const view = (p: SerialPacket) => toHex(p.data, p.offset, p.offset + p.length);

function frameAll(input: Uint8Array, cuts: number[] = [], opts = {}) {
  const f = new SerialSnFramer(opts);
  return { got: feed(f, new SerialPacket(), input, cuts, view), stats: f.stats };
}

describe('SerialSnFramer › whole packets', () => {
  for (const p of packets) {
    it(`${p.name} › is yielded whole with its type`, () => {
      const f = new SerialSnFramer({});
      const out = new SerialPacket();
      const b = fromHex(p.hex);
      f.push(b, 0, b.length);
      expect(f.next(out)).toBe(b.length);
      expect(out.type).toBe(p.type);
      expect(view(out)).toBe(toHex(b));
      expect(f.next(out)).toBe(0);
    });
  }
  it('back to back › yields each in order', () => {
    expect(frameAll(stream)).toEqual({ got: want, stats: { packets: packets.length, skippedBytes: 0 } });
  });
  it('a long 3-octet-Length PUBLISH › is yielded when maxPacket allows it', () => {
    const pub = new Uint8Array(300);
    pub.set(fromHex('01 01 2C 0C 00 00 01 00 00'));
    pub.fill(0x7e, 9);
    expect(frameAll(concat(pub, fromHex('02 16')), [], { maxPacket: 300 }).got).toEqual([toHex(pub), '02 16']);
  });
  it('forwarder encapsulation › skipped when acceptEncapsulated is false', () => {
    const { got, stats } = frameAll(fromHex('05 FE 00 01 41 02 16'), [], { acceptEncapsulated: false, maxPacket: 32 });
    // 05 (type FE refused), FE (254 > 32), 00 (< 2), 01 41 02 (0x4102 > 32), 41 (65 > 32): all skipped.
    expect(got).toEqual(['02 16']);
    expect(stats.skippedBytes).toBe(5);
  });
});

describe('SerialSnFramer › resynchronisation', () => {
  it.each([
    ['zero octets (Length < 2)', '00 00 00', 3],
    ['Length 1 in the 1-octet form is the 3-octet marker; 01 00 01 is total 1 < 4', '01 00 01', 3],
    ['lengths above maxPacket', 'FF C8 81', 3],
    ['a 3-octet Length above maxPacket', '01 FF 02 FF', 4],
    ['reserved MsgType 0x03 then too long', '02 03 FF', 3],
    ['reserved MsgType 0x11, 0x19, 0xFF', '02 11 03 19 FF', 5],
  ])('skips and counts garbage: %s', (_n, garbage, skipped) => {
    const input = concat(fromHex(garbage), stream);
    const { got, stats } = frameAll(input, [], { maxPacket: 128 });
    expect(got).toEqual(want);
    expect(stats.skippedBytes).toBe(skipped);
  });
  it('skips garbage between packets', () => {
    const input = concat(fromHex('02 16'), fromHex('00 FF 00'), fromHex('03 05 00'));
    expect(frameAll(input, [], { maxPacket: 128 })).toEqual({
      got: ['02 16', '03 05 00'],
      stats: { packets: 2, skippedBytes: 3 },
    });
  });
  it('an over-long 3-octet Length (default maxPacket 256) › skipped, next packet found', () => {
    const big = fromHex('01 01 2C 0C 00');
    const { got, stats } = frameAll(concat(big, fromHex('02 16')));
    // 01 01 2C: 300 > 256 skip; 01 2C 0C: 3-octet total 0x2C0C skip; 2C: type 0x0C ok, 44 octets, not there yet.
    expect(stats.skippedBytes).toBe(2);
    expect(got).toEqual([]);
  });
  it('encapsulation › waits for the inner message, then yields header and message together', () => {
    const enc = fromHex('05 FE 01 AB CD 09 0C 00 00 01 00 00 68 69');
    for (let cut = 0; cut <= enc.length; cut++) {
      expect(frameAll(enc, [cut]).got).toEqual([toHex(enc)]);
    }
  });
  it.each([
    ['an inner reserved MsgType', '04 FE 00 01 02 03'],
    ['an inner Length below 2', '04 FE 00 01 00 16'],
    ['a nested encapsulation', '04 FE 00 01 04 FE 00 01'],
    ['an encapsulation header shorter than 3', '02 FE'],
  ])('encapsulation › skips %s', (_n, hex) => {
    const { got, stats } = frameAll(concat(fromHex(hex), fromHex('02 16')), [], { maxPacket: 32 });
    // What follows the skipped octet depends on the garbage; the bad packet is never yielded.
    expect(got.some((g) => typeof g === 'string' && g.startsWith(toHex(fromHex(hex))))).toBe(false);
    expect(stats.skippedBytes).toBeGreaterThan(0);
  });
  it('encapsulation › skips when header plus message exceed maxPacket', () => {
    const { got } = frameAll(fromHex('05 FE 00 AB CD 1E 0C'), [], { maxPacket: 32 });
    expect(got).toEqual([]);
  });
  it('waits for the rest of a packet whose header looks valid', () => {
    expect(frameAll(fromHex('09 0C 00 00')).got).toEqual([]);
  });
});

describe('SerialSnFramer › chunking', () => {
  const garbled = concat(fromHex('00 FF'), stream, fromHex('00'));
  it('yields the same packets split at every position', () => {
    for (let cut = 0; cut <= garbled.length; cut++) {
      expect(frameAll(garbled, [cut], { maxPacket: 128 }).got).toEqual(want);
    }
  });
  it('yields the same packets fed one octet at a time', () => {
    const cuts = Array.from({ length: garbled.length }, (_x, i) => i);
    expect(frameAll(garbled, cuts, { maxPacket: 128 }).got).toEqual(want);
  });
  it('yields the same packets split at random pairs of positions', () => {
    const r = prng(3);
    for (let k = 0; k < 300; k++) {
      const c1 = r() % garbled.length;
      const c2 = r() % garbled.length;
      expect(frameAll(garbled, [Math.min(c1, c2), Math.max(c1, c2)], { maxPacket: 128 }).got).toEqual(want);
    }
  });
  it('takes only what fits, the rest after draining', () => {
    const f = new SerialSnFramer({ maxPacket: 8, bufferSize: 8 });
    const out = new SerialPacket();
    const b = fromHex('02 16 03 05 00 02 16 03 05 00');
    expect(f.push(b, 0, b.length)).toBe(8);
    expect(f.free).toBe(0);
    expect([f.next(out), f.next(out), f.next(out), f.next(out)]).toEqual([2, 3, 2, 0]);
    expect(f.push(b, 8, 2)).toBe(2);
    expect(f.next(out)).toBe(3);
  });
  it('raises a buffer smaller than maxPacket to maxPacket', () => {
    const f = new SerialSnFramer({ maxPacket: 16, bufferSize: 4 });
    expect(f.free).toBe(16);
  });
  it('reset › forgets buffered input and counters', () => {
    const f = new SerialSnFramer({});
    const out = new SerialPacket();
    const b = fromHex('00 09 0C 00');
    f.push(b, 0, b.length);
    expect(f.next(out)).toBe(0);
    f.reset();
    expect(f.stats).toEqual({ packets: 0, skippedBytes: 0 });
    f.push(fromHex('02 16'), 0, 2);
    expect(f.next(out)).toBe(2);
  });
});

describe('SerialSnFramer › fuzz', () => {
  it('100k random and mutated inputs: never throws, never a status, bounded', () => {
    const r = prng(0x5e1a1);
    const max = 64;
    const f = new SerialSnFramer({ maxPacket: max, bufferSize: 150 });
    const out = new SerialPacket();
    const input = new Uint8Array(80);
    let got = 0;
    for (let iter = 0; iter < 100_000; iter++) {
      let n: number;
      if (r() % 3 === 0) {
        n = r() % input.length;
        for (let i = 0; i < n; i++) input[i] = r() % 4 === 0 ? r() % 8 : r() & 0xff;
      } else {
        const p = fromHex(packets[r() % packets.length].hex);
        n = p.length;
        input.set(p);
        const flips = r() % 3;
        for (let k = 0; k < flips; k++) input[r() % n] = r() & 0xff;
        if (r() % 4 === 0) n = r() % (n + 1);
      }
      let off = 0;
      while (off < n) {
        const took = f.push(input, off, 1 + (r() % (n - off)));
        if (took < 0) throw new Error('push ' + took);
        off += took;
        for (let res = f.next(out); res !== 0; res = f.next(out)) {
          if (res < 0) throw new Error('status ' + res);
          if (res < 2 || res > max || out.length !== res || out.data.length !== max) throw new Error('len ' + res);
          got++;
        }
        if (f.free < 0 || f.free > 150) throw new Error('ring out of bounds');
      }
    }
    expect(got).toBe(f.stats.packets);
    expect(got).toBeGreaterThan(1000);
    expect(f.stats.skippedBytes).toBeGreaterThan(0);
  });
});
