import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Status, utf8Decode, utf8Encode, utf8Equals, utf8Length, utf8Validate } from '../../src/core';

// Node's TextEncoder/TextDecoder are the independent oracle.
const encoder = new TextEncoder();
const fatal = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
const FC = { seed: 0x5eed, numRuns: 2000 } as const;

const bytes = (...xs: number[]) => Uint8Array.from(xs);
const hex = (b: Uint8Array) => [...b].map((x) => x.toString(16).padStart(2, '0')).join(' ');

/** A code point from each UTF-8 length class, boundaries included, never a surrogate. */
const codePoint = fc.oneof(
  fc.integer({ min: 0, max: 0x7f }),
  fc.integer({ min: 0x80, max: 0x7ff }),
  fc.integer({ min: 0x800, max: 0xd7ff }),
  fc.integer({ min: 0xe000, max: 0xffff }),
  fc.integer({ min: 0x10000, max: 0x10ffff }),
  fc.constantFrom(0, 0x7f, 0x80, 0x7ff, 0x800, 0xd7ff, 0xe000, 0xfffd, 0xfeff, 0xffff, 0x10000, 0x1f600, 0x10ffff),
);
/** Well-formed strings (surrogate pairs included, lone surrogates never). */
const wellFormed = fc.oneof(
  fc.array(codePoint, { maxLength: 40 }).map((cps) => String.fromCodePoint(...cps)),
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.string({ unit: 'grapheme', maxLength: 20 }),
);

/** Encodes with the SDK into a fresh buffer with guard bytes around it. */
function sdkEncode(s: string, pad = 3): { buf: Uint8Array; end: number; len: number } {
  const len = utf8Length(s);
  const buf = new Uint8Array(len + 2 * pad).fill(0xaa);
  const end = utf8Encode(s, buf, pad);
  return { buf, end, len };
}

describe('utf8Length / utf8Encode', () => {
  it('agree with TextEncoder on generated well-formed strings', () => {
    fc.assert(
      fc.property(wellFormed, (s) => {
        const want = encoder.encode(s);
        const { buf, end, len } = sdkEncode(s);
        expect(len).toBe(want.length);
        expect(end).toBe(3 + want.length);
        expect(hex(buf.subarray(3, end))).toBe(hex(want));
        // nothing written outside [off, end)
        expect([...buf.subarray(0, 3), ...buf.subarray(end)]).toEqual([0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa]);
      }),
      FC,
    );
  });

  it.each([
    ['', []],
    ['\u0000', [0x00]],
    ['A', [0x41]],
    ['\u007f', [0x7f]],
    ['\u0080', [0xc2, 0x80]],
    ['\u07ff', [0xdf, 0xbf]],
    ['\u0800', [0xe0, 0xa0, 0x80]],
    ['\ud7ff', [0xed, 0x9f, 0xbf]],
    ['\ue000', [0xee, 0x80, 0x80]],
    ['\uffff', [0xef, 0xbf, 0xbf]],
    ['\u{10000}', [0xf0, 0x90, 0x80, 0x80]],
    ['\u{1F600}', [0xf0, 0x9f, 0x98, 0x80]],
    ['\u{10FFFF}', [0xf4, 0x8f, 0xbf, 0xbf]],
    ['€', [0xe2, 0x82, 0xac]],
  ])('encodes %j as the spec bytes', (s, want) => {
    const { buf, end, len } = sdkEncode(s, 0);
    expect(len).toBe(want.length);
    expect([...buf.subarray(0, end)]).toEqual(want);
  });

  it.each([
    ['a lone high surrogate', '\ud800'],
    ['a lone high surrogate at the end', 'abc\udbff'],
    ['a lone low surrogate', '\udc00'],
    ['a lone low surrogate in the middle', 'a\udfffb'],
    ['a high surrogate followed by a non-surrogate', '\ud83dA'],
    ['two high surrogates', '\ud83d\ud83d'],
    ['a reversed pair', '\ude00\ud83d'],
    ['a lone surrogate after a valid pair', '\ud83d\ude00\ud83d'],
  ])('utf8Length rejects %s with InvalidUtf8', (_what, s) => {
    expect(utf8Length(s)).toBe(Status.InvalidUtf8);
  });

  it('rejects every generated string that holds a lone surrogate', () => {
    const lone = fc.integer({ min: 0xd800, max: 0xdfff }).map((c) => String.fromCharCode(c));
    fc.assert(
      fc.property(fc.string({ maxLength: 10 }), lone, fc.string({ maxLength: 10 }), (a, s, b) => {
        const str = a + s + (s.charCodeAt(0) <= 0xdbff ? 'x' : '') + b; // keep a high surrogate unpaired
        expect(utf8Length(str)).toBe(Status.InvalidUtf8);
      }),
      FC,
    );
  });
});

describe('utf8Decode', () => {
  it('inverts TextEncoder on generated well-formed strings', () => {
    fc.assert(
      fc.property(wellFormed, fc.nat(4), (s, pad) => {
        const enc = encoder.encode(s);
        const buf = new Uint8Array(enc.length + 2 * pad).fill(0x41);
        buf.set(enc, pad);
        expect(utf8Decode(buf, pad, pad + enc.length)).toBe(s);
      }),
      FC,
    );
  });

  it('agrees with TextDecoder on every valid input, and never throws on random bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 12 }), (b) => {
        const got = utf8Decode(b, 0, b.length);
        let want: string | null = null;
        try {
          want = fatal.decode(b);
        } catch {
          /* invalid: only the replacement behaviour is checked below */
        }
        if (want !== null) expect(got).toBe(want);
        else expect(got).toContain('\ufffd');
      }),
      FC,
    );
  });

  it.each([
    ['a stray continuation byte', [0x41, 0x80, 0x42], 'A\ufffdB'],
    ['an invalid lead byte', [0xff], '\ufffd'],
    ['an overlong NUL', [0xc0, 0x80], '\ufffd\ufffd'],
    ['an encoded surrogate', [0xed, 0xa0, 0x80], '\ufffd\ufffd\ufffd'],
    ['a code point above U+10FFFF', [0xf4, 0x90, 0x80, 0x80], '\ufffd\ufffd\ufffd\ufffd'],
  ])('replaces %s with U+FFFD', (_what, input, want) => {
    expect(utf8Decode(Uint8Array.from(input), 0, input.length)).toBe(want);
  });

  it('a truncated sequence at the end becomes U+FFFD and never reads past end', () => {
    const b = bytes(0x41, 0xe2, 0x82, 0xac); // "A€"
    const got = utf8Decode(b, 0, 3); // cut inside €
    expect(got.startsWith('A\ufffd')).toBe(true);
    expect(got).not.toContain('€');
  });

  it('decodes U+0000 (only validation forbids it)', () => {
    expect(utf8Decode(bytes(0x61, 0x00, 0x62), 0, 3)).toBe('a\u0000b');
  });
});

describe('utf8Validate', () => {
  const ok = (...b: number[]) => utf8Validate(Uint8Array.from(b), 0, b.length);

  it('accepts every well-formed encoding without U+0000', () => {
    fc.assert(
      fc.property(wellFormed, (s) => {
        const enc = encoder.encode(s);
        expect(utf8Validate(enc, 0, enc.length)).toBe(s.includes('\u0000') ? Status.InvalidUtf8 : Status.Ok);
      }),
      FC,
    );
  });

  it('is Ok exactly when a fatal TextDecoder accepts the bytes and they hold no U+0000', () => {
    // random bytes biased towards UTF-8 lead and continuation bytes
    const byte = fc.oneof(fc.integer({ min: 0, max: 0x7f }), fc.integer({ min: 0x80, max: 0xbf }), fc.integer({ min: 0xc0, max: 0xff }));
    const mutated = fc.tuple(wellFormed, fc.nat(), byte).map(([s, at, v]) => {
      const enc = encoder.encode(s);
      if (enc.length > 0) enc[at % enc.length] = v;
      return enc;
    });
    fc.assert(
      fc.property(fc.oneof(fc.uint8Array({ maxLength: 8 }).map((a) => a), fc.array(byte, { maxLength: 8 }).map((a) => Uint8Array.from(a)), mutated), (b) => {
        let oracle: boolean;
        try {
          oracle = !fatal.decode(b).includes('\u0000');
        } catch {
          oracle = false;
        }
        expect(utf8Validate(b, 0, b.length) === Status.Ok, hex(b)).toBe(oracle);
      }),
      { ...FC, numRuns: 5000 },
    );
  });

  it.each([
    ['the empty range', []],
    ['ASCII', [0x41, 0x7f]],
    ['the smallest 2-byte code point', [0xc2, 0x80]],
    ['the smallest 3-byte code point', [0xe0, 0xa0, 0x80]],
    ['U+D7FF, just below the surrogates', [0xed, 0x9f, 0xbf]],
    ['U+E000, just above the surrogates', [0xee, 0x80, 0x80]],
    ['U+FFFF', [0xef, 0xbf, 0xbf]],
    ['the smallest 4-byte code point', [0xf0, 0x90, 0x80, 0x80]],
    ['U+10FFFF', [0xf4, 0x8f, 0xbf, 0xbf]],
    ['a BOM', [0xef, 0xbb, 0xbf]],
  ])('accepts %s', (_what, b) => {
    expect(ok(...b)).toBe(Status.Ok);
  });

  it.each([
    ['U+0000', [0x00]],
    ['U+0000 after text', [0x61, 0x00]],
    ['overlong NUL (C0 80)', [0xc0, 0x80]],
    ['overlong 2-byte (C1 BF)', [0xc1, 0xbf]],
    ['overlong 3-byte (E0 80 80)', [0xe0, 0x80, 0x80]],
    ['overlong 3-byte (E0 9F BF)', [0xe0, 0x9f, 0xbf]],
    ['overlong 4-byte (F0 80 80 80)', [0xf0, 0x80, 0x80, 0x80]],
    ['overlong 4-byte (F0 8F BF BF)', [0xf0, 0x8f, 0xbf, 0xbf]],
    ['surrogate U+D800 (ED A0 80)', [0xed, 0xa0, 0x80]],
    ['surrogate U+DBFF (ED AF BF)', [0xed, 0xaf, 0xbf]],
    ['surrogate U+DC00 (ED B0 80)', [0xed, 0xb0, 0x80]],
    ['surrogate U+DFFF (ED BF BF)', [0xed, 0xbf, 0xbf]],
    ['an encoded surrogate pair (CESU-8)', [0xed, 0xa0, 0xbd, 0xed, 0xb8, 0x80]],
    ['U+110000 (F4 90 80 80)', [0xf4, 0x90, 0x80, 0x80]],
    ['lead byte F5', [0xf5, 0x80, 0x80, 0x80]],
    ['lead byte F8 (5-byte form)', [0xf8, 0x88, 0x80, 0x80, 0x80]],
    ['lead byte FF', [0xff]],
    ['a stray continuation byte', [0x80]],
    ['a continuation byte after ASCII', [0x41, 0xbf]],
    ['truncated 2-byte', [0xc2]],
    ['truncated 3-byte', [0xe2, 0x82]],
    ['truncated 4-byte', [0xf0, 0x9f, 0x98]],
    ['a lead byte followed by ASCII', [0xe2, 0x41, 0x41]],
    ['a 4-byte lead followed by too few continuations', [0xf0, 0x9f, 0x98, 0x41]],
  ])('rejects %s', (_what, b) => {
    expect(ok(...b)).toBe(Status.InvalidUtf8);
  });

  it('checks only [off, end)', () => {
    const b = bytes(0x00, 0x61, 0xe2, 0x82, 0xac, 0xff);
    expect(utf8Validate(b, 1, 5)).toBe(Status.Ok); // the NUL and the FF are outside
    expect(utf8Validate(b, 0, 5)).toBe(Status.InvalidUtf8);
    expect(utf8Validate(b, 1, 6)).toBe(Status.InvalidUtf8);
    expect(utf8Validate(b, 1, 4)).toBe(Status.InvalidUtf8); // € cut by end: truncated
    expect(utf8Validate(b, 3, 3)).toBe(Status.Ok);
  });
});

describe('utf8Equals', () => {
  it('is true for a string and its own encoding, at any offset', () => {
    fc.assert(
      fc.property(wellFormed, fc.nat(3), (s, pad) => {
        const enc = encoder.encode(s);
        const buf = new Uint8Array(enc.length + 2 * pad).fill(0x41);
        buf.set(enc, pad);
        expect(utf8Equals(buf, pad, pad + enc.length, s)).toBe(true);
      }),
      FC,
    );
  });

  it('agrees with comparing TextEncoder bytes for pairs of generated strings', () => {
    fc.assert(
      fc.property(wellFormed, wellFormed, (a, b) => {
        const enc = encoder.encode(a);
        const same = hex(enc) === hex(encoder.encode(b));
        expect(utf8Equals(enc, 0, enc.length, b)).toBe(same);
      }),
      FC,
    );
  });

  it.each([
    ['a proper prefix of the bytes', 'sensor/temp', 'sensor/te'],
    ['a longer string', 'sensor', 'sensor/temp'],
    ['a different last character', 'a/b', 'a/c'],
    ['a different multi-byte character', 'caf\u00e9', 'caf\u00e8'],
    ['a different astral character', 'x\u{1F600}', 'x\u{1F601}'],
    ['an empty string against bytes', 'x', ''],
    ['a string against empty bytes', '', 'x'],
  ])('is false for %s', (_what, encoded, str) => {
    const enc = encoder.encode(encoded);
    expect(utf8Equals(enc, 0, enc.length, str)).toBe(false);
  });

  it('does not read past end', () => {
    const enc = encoder.encode('abc€');
    expect(utf8Equals(enc, 0, 4, 'abc€')).toBe(false); // € is cut by end
    expect(utf8Equals(enc, 0, 3, 'abc')).toBe(true);
  });

  // A high surrogate followed by a non-surrogate once combined arithmetically,
  // so '\ud800A' compared equal to the bytes of U+2441. No string with a lone
  // surrogate has a UTF-8 encoding, so none may match.
  it('is false for a string holding a lone surrogate', () => {
    const cases: [Uint8Array, string][] = [
      [encoder.encode('\u2441'), '\ud800A'],
      [bytes(0xed, 0xa0, 0x80), '\ud800'],
      [bytes(0xed, 0xb0, 0x80), '\udc00'],
    ];
    for (const [b, s] of cases) expect(utf8Equals(b, 0, b.length, s), JSON.stringify(s)).toBe(false);
  });
});
