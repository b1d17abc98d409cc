/** The compact UTF-8 of the lean clients, checked against Node's TextEncoder / TextDecoder. */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { utf8Get, utf8Put, utf8Size } from '../../src/core/utf8-compact';

describe('utf8Size / utf8Put', () => {
  it('encode every well-formed string exactly as TextEncoder does (1-4 byte sequences, U+0000 included)', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', maxLength: 40 }), (s) => {
        const want = new TextEncoder().encode(s);
        expect(utf8Size(s)).toBe(want.length);
        const b = new Uint8Array(want.length + 4).fill(0xaa);
        expect(utf8Put(s, b, 2)).toBe(2 + want.length);
        expect([...b.subarray(2, 2 + want.length)]).toEqual([...want]);
        expect([b[0], b[1], b[b.length - 2], b[b.length - 1]]).toEqual([0xaa, 0xaa, 0xaa, 0xaa]);
      }),
    );
  });

  it('give -1 for a lone surrogate, high or low, anywhere', () => {
    for (const s of ['\ud800', 'a\udbff', '\udc00b', 'x\ud83dy', '\ude00\ud83d']) expect(utf8Size(s), JSON.stringify(s)).toBe(-1);
    expect(utf8Size('\ud83d\ude00')).toBe(4);
  });
});

describe('utf8Get', () => {
  it('decodes what TextEncoder wrote back to the same string', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', maxLength: 40 }), (s) => {
        const b = new TextEncoder().encode(s);
        expect(utf8Get(b, 0, b.length)).toBe(s);
      }),
    );
  });

  it('never throws on arbitrary bytes (a cut or malformed sequence gives odd characters)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 30 }), (bytes) => {
        expect(typeof utf8Get(bytes, 0, bytes.length)).toBe('string');
      }),
    );
  });
});
