import { describe, expect, it } from 'vitest';
import { Status } from '../../../src/core/status';
import {
  XBeeFrame,
  XBeeFrameDecoder,
  encodeXBeeFrame,
  xbeeChecksum,
  xbeeFrameSize,
  xbeeNeedsEscape,
} from '../../../gateway/transports/xbee-frame';
import { concat, feed, fromHex, normHex, prng, toHex } from './helpers';
import { xbeeVectors } from './xbee-vectors';

const SPECIALS = [0x7e, 0x7d, 0x11, 0x13];

/** Frame data (between length and checksum) of a mode 1 wire frame. */
function frameDataOf(mode1Hex: string): Uint8Array {
  const b = fromHex(mode1Hex);
  return b.subarray(3, b.length - 1);
}

const view = (f: XBeeFrame) => toHex(f.data, f.offset, f.offset + f.length);

function decodeAll(input: Uint8Array, escaped: boolean, cuts: number[] = [], max?: number) {
  const dec = new XBeeFrameDecoder({ escaped, maxFrameLength: max });
  const got = feed(dec, new XBeeFrame(), input, cuts, view);
  return { got, stats: dec.stats };
}

describe('XBee frame › Digi example frames', () => {
  for (const v of xbeeVectors) {
    describe(v.name, () => {
      const data = frameDataOf(v.mode1);
      it('mode 1 › decodes the frame data and type', () => {
        const dec = new XBeeFrameDecoder({});
        const f = new XBeeFrame();
        const w = fromHex(v.mode1);
        expect(dec.push(w, 0, w.length)).toBe(w.length);
        expect(dec.next(f)).toBe(data.length);
        expect(f.type).toBe(v.type);
        expect(view(f)).toBe(toHex(data));
        expect(dec.next(f)).toBe(0);
        expect(dec.stats).toEqual({ frames: 1, garbageBytes: 0, badChecksum: 0, badLength: 0, truncated: 0 });
      });
      it('mode 2 › decodes the escaped frame to the same frame data', () => {
        expect(decodeAll(fromHex(v.mode2), true).got).toEqual([toHex(data)]);
      });
      for (const [mode, escaped] of [['mode 1', false], ['mode 2', true]] as const) {
        it(`${mode} › encodes the frame data to Digi's bytes`, () => {
          const want = escaped ? v.mode2 : v.mode1;
          const size = xbeeFrameSize(data, 0, data.length, escaped);
          expect(size).toBe(fromHex(want).length);
          const buf = new Uint8Array(size + 2);
          expect(encodeXBeeFrame(data, 0, data.length, escaped, buf, 1)).toBe(size + 1);
          expect(toHex(buf, 1, size + 1)).toBe(normHex(want));
        });
      }
      it('checksum › matches the printed one', () => {
        const w = fromHex(v.mode1);
        expect(xbeeChecksum(data, 0, data.length)).toBe(w[w.length - 1]);
      });
    });
  }
});

describe('XBee frame › mode 2 escaping', () => {
  const cases: Array<{ name: string; data: Uint8Array; max?: number }> = [];
  for (const s of SPECIALS) {
    const hex = s.toString(16);
    cases.push({ name: `0x${hex} in the frame data`, data: Uint8Array.of(0x10, s, 0x00, s) });
    // A frame of length 0x00ss: the length LSB is escaped.
    const lsb = new Uint8Array(s);
    lsb[0] = 0x8a;
    cases.push({ name: `0x${hex} as the length LSB`, data: lsb });
    // A frame of length 0xss01: the length MSB is escaped.
    const msb = new Uint8Array((s << 8) | 1);
    msb[0] = 0x90;
    cases.push({ name: `0x${hex} as the length MSB`, data: msb, max: 0xffff });
    // Frame data whose checksum is s: 0xFF - x = s.
    cases.push({ name: `0x${hex} as the checksum`, data: Uint8Array.of(0xff - s) });
  }
  for (const c of cases) {
    it(`${c.name} › is escaped and round-trips`, () => {
      const size = xbeeFrameSize(c.data, 0, c.data.length, true);
      const buf = new Uint8Array(size);
      expect(encodeXBeeFrame(c.data, 0, c.data.length, true, buf, 0)).toBe(size);
      expect(buf[0]).toBe(0x7e);
      let wrong = -1; // first octet after the start that breaks the escaping rule
      for (let i = 1; i < size && wrong < 0; i++) {
        if (buf[i] === 0x7d) {
          if (!xbeeNeedsEscape(buf[i + 1] ^ 0x20)) wrong = i;
          i++;
        } else if (xbeeNeedsEscape(buf[i])) wrong = i;
      }
      expect(wrong).toBe(-1);
      expect(size).toBeGreaterThan(c.data.length + 4);
      const dec = new XBeeFrameDecoder({ escaped: true, maxFrameLength: c.max ?? 256 });
      const f = new XBeeFrame();
      let off = 0;
      let r = 0;
      while (r === 0 && off < size) {
        off += dec.push(buf, off, size - off);
        r = dec.next(f);
      }
      expect(r).toBe(c.data.length);
      expect(f.data.subarray(0, f.length)).toEqual(c.data);
    });
  }
  it('mode 1 › leaves the same bytes unescaped', () => {
    const data = Uint8Array.of(0x10, 0x7e, 0x7d, 0x11, 0x13);
    const buf = new Uint8Array(9);
    expect(encodeXBeeFrame(data, 0, 5, false, buf, 0)).toBe(9);
    expect(toHex(buf)).toBe(toHex(concat(Uint8Array.of(0x7e, 0, 5), data, Uint8Array.of(xbeeChecksum(data, 0, 5)))));
    expect(decodeAll(buf, false).got).toEqual([toHex(data)]);
  });
  it('mode 2 › unescapes an escaped octet that did not need escaping', () => {
    // 7D 60 is 0x40; Digi devices only escape the four, but the rule is just "XOR 0x20".
    expect(decodeAll(fromHex('7E 00 02 8A 7D 60 35'), true).got).toEqual(['8a 40']);
  });
});

describe('XBee frame › encoding', () => {
  it('frames frame data written in place at off + 3', () => {
    const v = xbeeVectors[1];
    const data = frameDataOf(v.mode1);
    for (const escaped of [false, true]) {
      const buf = new Uint8Array(64);
      buf.set(data, 3);
      const end = encodeXBeeFrame(buf, 3, data.length, escaped, buf, 0);
      expect(toHex(buf, 0, end)).toBe(normHex(escaped ? v.mode2 : v.mode1));
    }
  });
  it('refuses a buffer too small with NoMemory', () => {
    const data = frameDataOf(xbeeVectors[1].mode1);
    const buf = new Uint8Array(27); // the AP=2 frame is 28 octets
    expect(encodeXBeeFrame(data, 0, data.length, true, buf, 0)).toBe(Status.NoMemory);
    expect(encodeXBeeFrame(data, 0, data.length, false, buf, 2)).toBe(Status.NoMemory);
  });
  it.each([
    ['empty frame data', 0, 0],
    ['range past the end', 1, 30],
    ['negative offset', -1, 2],
  ])('refuses %s with BadParameter', (_n, off, len) => {
    const data = new Uint8Array(22);
    expect(xbeeFrameSize(data, off, len, false)).toBe(Status.BadParameter);
    expect(encodeXBeeFrame(data, off, len, true, new Uint8Array(100), 0)).toBe(Status.BadParameter);
  });
  it('refuses frame data over 65535 octets', () => {
    expect(xbeeFrameSize(new Uint8Array(0x10000), 0, 0x10000, false)).toBe(Status.BadParameter);
  });
});

describe('XBee frame decoder › resynchronisation', () => {
  const a = xbeeVectors[6]; // modem status, no escapes
  const b = xbeeVectors[4]; // receive packet, escapes in mode 2
  const da = toHex(frameDataOf(a.mode1));
  const db = toHex(frameDataOf(b.mode1));

  for (const [mode, escaped] of [['mode 1', false], ['mode 2', true]] as const) {
    const A = fromHex(escaped ? a.mode2 : a.mode1);
    const B = fromHex(escaped ? b.mode2 : b.mode1);
    it(`${mode} › skips and counts garbage before and between frames`, () => {
      const input = concat(fromHex('00 FF 13 11'), A, fromHex('55 AA'), B, fromHex('01'));
      const { got, stats } = decodeAll(input, escaped);
      expect(got).toEqual([da, db]);
      expect(stats.garbageBytes).toBe(7);
      expect(stats.frames).toBe(2);
    });
    it(`${mode} › drops a frame with a bad checksum and keeps the next`, () => {
      const bad = A.slice();
      bad[bad.length - 1] ^= 0x01;
      const { got, stats } = decodeAll(concat(bad, B), escaped);
      expect(got).toEqual([Status.Malformed, db]);
      expect(stats.badChecksum).toBe(1);
      expect(stats.frames).toBe(1);
    });
    it(`${mode} › drops a frame with a corrupted data octet`, () => {
      const bad = B.slice();
      bad[B.length - 3] ^= 0x40;
      const { got, stats } = decodeAll(concat(bad, A), escaped);
      expect(got).toEqual([Status.Malformed, da]);
      expect(stats.badChecksum).toBe(1);
    });
    it(`${mode} › drops an over-long length with TooLarge and keeps the next`, () => {
      const { got, stats } = decodeAll(concat(fromHex('7E 00 11'), A), escaped, [], 16);
      expect(got).toEqual([Status.TooLarge, da]);
      expect(stats.badLength).toBe(1);
    });
    it(`${mode} › drops a zero length with Malformed`, () => {
      const { got, stats } = decodeAll(concat(fromHex('7E 00 00 FF'), A), escaped);
      expect(got).toEqual([Status.Malformed, da]);
      expect(stats.badLength).toBe(1);
    });
    it(`${mode} › accepts a frame of exactly maxFrameLength`, () => {
      const data = new Uint8Array(16).fill(0x20);
      const buf = new Uint8Array(40);
      const end = encodeXBeeFrame(data, 0, 16, escaped, buf, 0);
      expect(decodeAll(buf.subarray(0, end), escaped, [], 16).got).toEqual([toHex(data)]);
    });
  }

  it('mode 1 › finds a frame whose start was swallowed by a bogus 0x7E', () => {
    // 7E 00 03 | 7E 00 02 | 8A: a "frame" of 3 octets with a wrong checksum, that
    // holds the real frame's start; after dropping it the real frame is found.
    const input = concat(fromHex('7E 00 03'), fromHex(a.mode1));
    const { got, stats } = decodeAll(input, false);
    expect(got).toEqual([Status.Malformed, da]);
    expect(stats.badChecksum).toBe(1);
    expect(stats.garbageBytes).toBe(2);
  });
  it('mode 2 › drops a frame cut short by a new start delimiter', () => {
    const input = concat(fromHex('7E 00 16 10 01 00'), fromHex(b.mode2));
    const { got, stats } = decodeAll(input, true);
    expect(got).toEqual([Status.Malformed, db]);
    expect(stats.truncated).toBe(1);
    expect(stats.garbageBytes).toBe(0);
  });
  it('mode 2 › a start delimiter after an escape starts a new frame', () => {
    const input = concat(fromHex('7E 00 05 10 7D'), fromHex(a.mode2));
    expect(decodeAll(input, true).got).toEqual([Status.Malformed, da]);
  });
});

describe('XBee frame decoder › chunking', () => {
  for (const [mode, escaped] of [['mode 1', false], ['mode 2', true]] as const) {
    const stream = concat(
      fromHex('42'),
      ...xbeeVectors.map((v) => fromHex(escaped ? v.mode2 : v.mode1)),
      fromHex('7E 00'),
    );
    const want = xbeeVectors.map((v) => toHex(frameDataOf(v.mode1)));
    it(`${mode} › yields the same frames split at every position`, () => {
      for (let cut = 0; cut <= stream.length; cut++) {
        expect(decodeAll(stream, escaped, [cut]).got).toEqual(want);
      }
    });
    it(`${mode} › yields the same frames fed one octet at a time`, () => {
      const cuts = Array.from({ length: stream.length }, (_x, i) => i);
      expect(decodeAll(stream, escaped, cuts).got).toEqual(want);
    });
    it(`${mode} › yields the same frames split at random pairs of positions`, () => {
      const r = prng(7);
      for (let k = 0; k < 300; k++) {
        const c1 = r() % stream.length;
        const c2 = r() % stream.length;
        expect(decodeAll(stream, escaped, [Math.min(c1, c2), Math.max(c1, c2)]).got).toEqual(want);
      }
    });
  }
  it('takes only what fits and the rest after draining', () => {
    const dec = new XBeeFrameDecoder({ maxFrameLength: 8, bufferSize: 12 });
    const f = new XBeeFrame();
    const two = concat(fromHex(xbeeVectors[6].mode1), fromHex(xbeeVectors[7].mode1), fromHex(xbeeVectors[6].mode1));
    expect(dec.push(two, 0, two.length)).toBe(12);
    expect(dec.free).toBe(0);
    expect(dec.next(f)).toBe(2);
    expect(dec.next(f)).toBe(2);
    expect(dec.next(f)).toBe(0);
    expect(dec.push(two, 12, 6)).toBe(6);
    expect(dec.next(f)).toBe(2);
    expect(f.data[f.offset + 1]).toBe(0x06);
  });
  it('refuses a range outside the chunk with BadParameter', () => {
    const dec = new XBeeFrameDecoder({});
    expect(dec.push(new Uint8Array(4), 2, 3)).toBe(Status.BadParameter);
    expect(dec.push(new Uint8Array(4), 0, 0)).toBe(0);
    expect(dec.push(new Uint8Array(4), 0, -3)).toBe(0);
  });
  it('reset › forgets a partial frame and the counters', () => {
    const dec = new XBeeFrameDecoder({});
    const f = new XBeeFrame();
    const w = fromHex('00 7E 00 02 8A');
    dec.push(w, 0, w.length);
    expect(dec.next(f)).toBe(0);
    dec.reset();
    expect(dec.stats.garbageBytes).toBe(0);
    const m = fromHex(xbeeVectors[7].mode1);
    dec.push(m, 0, m.length);
    expect(dec.next(f)).toBe(2);
  });
});

describe('XBee frame decoder › fuzz', () => {
  for (const [mode, escaped] of [['mode 1', false], ['mode 2', true]] as const) {
    it(`${mode} › 100k random and mutated inputs: never throws, statuses only, bounded`, () => {
      const r = prng(escaped ? 0xbee2 : 0xbee1);
      const max = 64;
      const dec = new XBeeFrameDecoder({ escaped, maxFrameLength: max, bufferSize: 200 });
      const f = new XBeeFrame();
      const seeds = xbeeVectors.map((v) => fromHex(escaped ? v.mode2 : v.mode1));
      const input = new Uint8Array(96);
      const allowed = new Set([Status.Malformed, Status.TooLarge]);
      let frames = 0;
      for (let iter = 0; iter < 100_000; iter++) {
        let n: number;
        if (r() % 3 === 0) {
          n = r() % input.length;
          for (let i = 0; i < n; i++) input[i] = r() % 5 === 0 ? SPECIALS[r() % 4] : r() & 0xff;
        } else {
          const s = seeds[r() % seeds.length];
          n = s.length;
          input.set(s);
          const flips = r() % 4;
          for (let k = 0; k < flips; k++) {
            const p = r() % n;
            input[p] = r() % 2 === 0 ? SPECIALS[r() % 4] : r() & 0xff;
          }
          if (r() % 4 === 0) n = r() % (n + 1);
        }
        let off = 0;
        while (off < n) {
          const step = 1 + (r() % (n - off));
          const took = dec.push(input, off, step);
          if (took < 0) throw new Error('push ' + took);
          off += took;
          for (let res = dec.next(f); res !== 0; res = dec.next(f)) {
            if (res > 0) {
              frames++;
              if (res > max || f.length !== res || f.data.length !== max) throw new Error('unbounded frame ' + res);
              if (f.type !== f.data[f.offset]) throw new Error('type not the first octet');
            } else if (!allowed.has(res)) throw new Error('unexpected status ' + res);
          }
          if (dec.free < 0 || dec.free > 200) throw new Error('ring out of bounds');
        }
      }
      expect(frames).toBeGreaterThan(1000);
      const s = dec.stats;
      expect(s.frames).toBe(frames);
      expect(s.garbageBytes + s.badChecksum + s.badLength).toBeGreaterThan(0);
    });
  }
});
