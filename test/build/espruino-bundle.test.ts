import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import vm from 'node:vm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ENTRIES } from '../../scripts/build';
import { checkEspruinoSource } from '../../scripts/check-espruino';
import { ABSENT_GLOBALS, REMOVED_GLOBALS, addCached, buildToTemp, espruinoContext, type TempBuild } from './helpers';

let b: TempBuild;
beforeAll(async () => {
  b = await buildToTemp();
});
afterAll(() => b?.dispose());

const espruinoBundles = () => b.result.bundles.filter((x) => x.platform === 'espruino');
const bundleFor = (specifier: string) => espruinoBundles().find((x) => x.specifier === specifier);

describe('device build', () => {
  it('builds every entry whose source exists and names the ones it skipped', () => {
    for (const e of ENTRIES) {
      const present = existsSync(join(__dirname, '../..', e.source));
      expect(bundleFor(e.specifier) !== undefined, e.specifier).toBe(present);
      expect(b.result.skipped.some((s) => s.specifier === e.specifier), e.specifier).toBe(!present);
      if (!present) expect(b.notes.join('\n')).toContain(e.source);
    }
  });

  it('always builds the all-in-one bundle', () => {
    expect(bundleFor('fieldmq')).toBeDefined();
  });

  it('is fast (< 5 s)', () => {
    expect(b.result.ms).toBeLessThan(5000);
  });

  it('writes the Espruino bundles under espruino/ with the documented names', () => {
    for (const x of espruinoBundles()) {
      const e = ENTRIES.find((en) => en.specifier === x.specifier)!;
      expect(x.file).toBe(join(b.dir, 'espruino', e.espruino));
      expect(existsSync(x.file)).toBe(true);
      expect(x.bytes).toBe(readFileSync(x.file).length);
      expect(x.gzip).toBeGreaterThan(0);
      expect(x.gzip).toBeLessThan(x.bytes);
    }
  });
});

describe('Espruino bundles', () => {
  it('pass the Espruino check', () => {
    for (const x of espruinoBundles()) {
      expect(checkEspruinoSource(readFileSync(x.file, 'utf8')), x.file).toEqual([]);
      expect(x.violations).toEqual([]);
    }
  });

  it('are pure ASCII (Espruino strings are 8-bit)', () => {
    for (const x of espruinoBundles()) {
      const bytes = readFileSync(x.file);
      const at = bytes.findIndex((c) => c > 0x7e || (c < 0x20 && c !== 0x0a));
      expect(at, `${x.file} has a non-ASCII byte at ${at}`).toBe(-1);
    }
  });

  it('are minified CommonJS ending in one plain module.exports object (no getters, no __toCommonJS)', () => {
    for (const x of espruinoBundles()) {
      const text = readFileSync(x.file, 'utf8');
      expect(text).toMatch(/module\.exports=\{[^}]*\};?\s*$/);
      expect(text).not.toContain('__toCommonJS');
      expect(text).not.toContain('__esModule');
      expect(text).not.toMatch(/^\s*(import|export)\b/m);
      expect(text.split('\n').length).toBeLessThan(5);
    }
  });
});

describe('simulated Espruino loader', () => {
  it('has none of what Espruino lacks', () => {
    const ctx = espruinoContext();
    for (const n of [...REMOVED_GLOBALS, ...ABSENT_GLOBALS]) {
      expect(vm.runInContext(`typeof ${n}`, ctx), n).toBe('undefined');
    }
    expect(vm.runInContext('typeof Object.freeze', ctx)).toBe('undefined');
  });

  it('fails to load a bundle that needs a missing built-in (the simulation can fail)', () => {
    const ctx = espruinoContext();
    expect(() => addCached(ctx, 'bad', 'var m = new Map(); module.exports = { m: m };')).toThrow(/Map is not defined/);
    expect(() => addCached(ctx, 'bad2', 'exports.x = Object.freeze({});')).toThrow(/not a function/);
  });

  it('supports both export styles Espruino supports', () => {
    const ctx = espruinoContext();
    addCached(ctx, 'a', 'module.exports = { v: 1 };');
    addCached(ctx, 'b', 'exports.v = 2;');
    addCached(ctx, 'c', 'this.v = 3;');
    expect(vm.runInContext('require("a").v + require("b").v + require("c").v', ctx)).toBe(6);
  });

  it('loads every Espruino bundle and every export is defined', () => {
    for (const x of espruinoBundles()) {
      const ctx = espruinoContext();
      addCached(ctx, x.specifier, readFileSync(x.file, 'utf8'));
      const keys = vm.runInContext(`Object.keys(require(${JSON.stringify(x.specifier)})).sort()`, ctx) as string[];
      expect([...keys]).toEqual(x.exports);
      const undefinedOnes = vm.runInContext(
        `(function (m) { return Object.keys(m).filter(function (k) { return m[k] === undefined; }); })(require(${JSON.stringify(x.specifier)}))`,
        ctx,
      ) as string[];
      expect([...undefinedOnes]).toEqual([]);
    }
  });

  it('runs the core API from the all-in-one bundle on the device', () => {
    const ctx = espruinoContext();
    addCached(ctx, 'fieldmq', readFileSync(bundleFor('fieldmq')!.file, 'utf8'));
    const r = vm.runInContext(
      `(function () {
        var fm = require('fieldmq');
        var out = {};
        out.malformed = fm.statusName(-3);
        out.statusEnum = fm.Status.Malformed;
        // ByteRing: fill, drain part, wrap around, read back in order.
        var ring = new fm.ByteRing(8);
        var src = new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
        var first = ring.write(src, 0, 6);
        var tmp = new Uint8Array(16);
        var got = ring.read(tmp, 0, 4);
        var second = ring.write(src, 6, 5);
        var last = ring.push(99);
        var full = ring.push(100);
        var n = ring.read(tmp, 0, 16);
        out.ring = [first, got, second, last, full, n, Array.prototype.slice.call(tmp, 0, n).join(',')];
        // MessageQueue: push, remove from the middle, shift.
        var q = new fm.MessageQueue(3, 4);
        q.push(new Uint8Array([1]), 0, 1, 10);
        q.push(new Uint8Array([2, 2]), 0, 2, 20);
        q.push(new Uint8Array([3, 3, 3]), 0, 3, 30);
        out.qFull = q.push(new Uint8Array([4]), 0, 1, 40);
        q.removeAt(1);
        out.q = [q.length, q.tagAt(0), q.tagAt(1), q.lengthAt(1), q.data[q.offsetAt(1)]];
        // UTF-8 without TextEncoder.
        var s = 'h\\u00e9llo \\u20ac\\ud834\\udd1e';
        var len = fm.utf8Length(s);
        var buf = new Uint8Array(len);
        var end = fm.utf8Encode(s, buf, 0);
        out.utf8 = [len, end, fm.utf8Validate(buf, 0, end), fm.utf8Decode(buf, 0, end) === s, fm.utf8Equals(buf, 0, end, s)];
        out.elapsed = fm.elapsed(5, 0xfffffffb);
        return JSON.stringify(out);
      })()`,
      ctx,
    ) as string;
    expect(JSON.parse(r)).toEqual({
      malformed: 'Malformed',
      statusEnum: -3,
      ring: [6, 4, 5, 0, -11, 8, '5,6,7,8,9,10,11,99'],
      qFull: -11,
      q: [2, 10, 30, 3, 3],
      utf8: [14, 14, 0, true, true],
      elapsed: 10,
    });
  });
});
