import * as esbuild from 'esbuild';
import { describe, expect, it } from 'vitest';
import { ESPRUINO_RULES, checkEspruinoSource, hasNamedGroup } from '../../scripts/check-espruino';

const rulesOf = (code: string, opts?: Parameters<typeof checkEspruinoSource>[1]) => checkEspruinoSource(code, opts).map((v) => v.rule);

/** Each forbidden construct, alone in a snippet, and the one rule it must raise. */
const FORBIDDEN: [string, string, string][] = [
  // [what, snippet, rule]
  ['default parameter', 'function f(a, b = 1) { return a + b; }', 'default-parameter'],
  ['default parameter in an arrow', 'var f = (a = 1) => a;', 'default-parameter'],
  ['default parameter in a method', 'class C { m(a = 1) { return a; } }', 'default-parameter'],
  ['rest parameter', 'function f(...args) { return args; }', 'rest'],
  ['spread in a call', 'f(...xs);', 'spread'],
  ['spread in an array', 'var a = [1, ...xs];', 'spread'],
  ['spread in an object', 'var o = { ...p };', 'spread'],
  ['object destructuring', 'var { a } = o;', 'destructuring'],
  ['array destructuring', 'var [a] = xs;', 'destructuring'],
  ['destructuring parameter', 'function f({ a }) { return a; }', 'destructuring'],
  ['destructuring assignment', '[a, b] = [b, a];', 'destructuring'],
  ['destructuring in for-of', 'for (const [k, v] of xs) f(k, v);', 'destructuring'],
  ['destructuring catch', 'try { f(); } catch ({ message }) { g(message); }', 'destructuring'],
  ['optional member', 'var x = a?.b;', 'optional-chaining'],
  ['optional call', 'a.b?.();', 'optional-chaining'],
  ['optional index', 'var x = a?.[0];', 'optional-chaining'],
  ['exponent', 'var x = 2 ** 8;', 'exponent'],
  ['exponent assignment', 'x **= 2;', 'exponent'],
  ['private field', 'class C { #x = 1; }', 'private-name'],
  ['private method', 'class C { #m() {} }', 'private-name'],
  ['private member access', 'class C { constructor() { this.#x = 1; } #x; }', 'private-name'],
  ['private brand check', 'class C { #x; static has(o) { return #x in o; } }', 'private-name'],
  ['class static block', 'class C { static { init(); } }', 'static-block'],
  ['generator function', 'function* g() {}', 'generator'],
  ['generator method', 'var o = { *g() {} };', 'generator'],
  ['async function', 'async function f() {}', 'async'],
  ['async arrow', 'var f = async () => 1;', 'async'],
  ['await', 'async function f() { await p; }', 'await'],
  ['for await', 'async function f() { for await (const x of xs) g(x); }', 'await'],
  ['yield', 'function* g() { yield 1; }', 'yield'],
  ['label', 'outer: for (;;) { break outer; }', 'label'],
  ['BigInt literal', 'var n = 10n;', 'bigint'],
  ['regex flag y', 'var r = /a/y;', 'regex-flag'],
  ['regex flag u', 'var r = /a/u;', 'regex-flag'],
  ['regex flag s', 'var r = /a.b/s;', 'regex-flag'],
  ['regex flag d', 'var r = /a/d;', 'regex-flag'],
  ['regex flag v', 'var r = /a/v;', 'regex-flag'],
  ['regex flag through RegExp()', 'var r = new RegExp("a", "u");', 'regex-flag'],
  ['regex named group', 'var r = /(?<year>\\d{4})/;', 'regex-named-group'],
  ['regex named backreference', 'var r = /(?<q>["])x\\k<q>/;', 'regex-named-group'],
  ['Map', 'var m = new Map();', 'missing-builtin'],
  ['Set', 'var s = new Set();', 'missing-builtin'],
  ['WeakMap', 'var w = new WeakMap();', 'missing-builtin'],
  ['WeakSet', 'var w = new WeakSet();', 'missing-builtin'],
  ['WeakRef', 'var w = new WeakRef(o);', 'missing-builtin'],
  ['Symbol', 'var s = Symbol("x");', 'missing-builtin'],
  ['Symbol.iterator', 'o[Symbol.iterator] = f;', 'missing-builtin'],
  ['Proxy', 'var p = new Proxy(o, {});', 'missing-builtin'],
  ['Reflect', 'Reflect.ownKeys(o);', 'missing-builtin'],
  ['TextEncoder', 'var b = new TextEncoder().encode(s);', 'missing-builtin'],
  ['TextDecoder', 'var s = new TextDecoder().decode(b);', 'missing-builtin'],
  ['BigInt()', 'var n = BigInt(1);', 'missing-builtin'],
  ['Object.freeze', 'Object.freeze(o);', 'missing-builtin'],
  ["Object['freeze']", "Object['freeze'](o);", 'missing-builtin'],
  ['Map passed as a value', 'f(Map);', 'missing-builtin'],
  ['Map in a shorthand property', 'var o = { Map };', 'missing-builtin'],
  ['globalThis.Map', 'var m = new globalThis.Map();', 'missing-builtin'],
  ['Buffer', 'var b = Buffer.from(s);', 'node-global'],
  ['process', 'if (process.env.X) f();', 'node-global'],
  ['setTimeout', 'setTimeout(f, 10);', 'timer'],
  ['setInterval', 'setInterval(f, 10);', 'timer'],
  ['setImmediate', 'setImmediate(f);', 'timer'],
  ['clearTimeout', 'clearTimeout(t);', 'timer'],
  ['Date.now', 'var t = Date.now();', 'wall-clock'],
  ['new Date', 'var d = new Date();', 'wall-clock'],
  ['require of a module', 'var net = require("net");', 'require'],
  ['require of a node: module', 'var fs = require("node:fs");', 'node-import'],
  ['require with a computed name', 'var m = require(name);', 'require'],
  ['require as a value', 'var r = typeof x === "function" ? require : null;', 'require'],
  ['syntax error', 'var = ;', 'parse-error'],
  ['ES module syntax', 'export const x = 1;', 'parse-error'],
];

describe('checkEspruinoSource › forbidden constructs', () => {
  it.each(FORBIDDEN)('%s', (_what, code, rule) => {
    expect(rulesOf(code)).toContain(rule);
    expect(ESPRUINO_RULES[rule], `rule ${rule} is documented`).toBeTypeOf('string');
  });

  it('reports each construct once (no duplicate for the same node)', () => {
    expect(rulesOf('var m = new Map();')).toEqual(['missing-builtin']);
    expect(rulesOf('function f(a = 1) {}')).toEqual(['default-parameter']);
    expect(rulesOf('class C { #x = 1; }')).toEqual(['private-name']);
  });

  it('reports every violation of a bundle in source order', () => {
    const v = checkEspruinoSource('var a = new Map();\nvar b = 2 ** 3;\nvar { c } = o;\n');
    expect(v.map((x) => [x.rule, x.line])).toEqual([
      ['missing-builtin', 1],
      ['exponent', 2],
      ['destructuring', 3],
    ]);
  });

  it('gives 1-based line and column and the source as snippet', () => {
    const [v] = checkEspruinoSource('var ok = 1;\n  var x = a?.b;\n');
    expect(v).toEqual({ rule: 'optional-chaining', line: 2, column: 11, snippet: 'a?.b' });
  });

  it('shortens long snippets to one line of at most 80 characters', () => {
    const body = Array.from({ length: 40 }, (_, i) => `x${i} = ${i};`).join('\n');
    const [v] = checkEspruinoSource(`function* g() {\n${body}\n}`);
    expect(v.rule).toBe('generator');
    expect(v.snippet.length).toBeLessThanOrEqual(80);
    expect(v.snippet).not.toContain('\n');
  });

  it('reports a parse error with its position', () => {
    const [v] = checkEspruinoSource('var a = 1;\nvar = ;');
    expect(v.rule).toBe('parse-error');
    expect(v.line).toBe(2);
  });
});

describe('checkEspruinoSource › look-alikes that Espruino runs', () => {
  const CLEAN: [string, string][] = [
    ['a property named size', 'var n = ring.size; ring.size = 3;'],
    ['a member named like a built-in', 'var a = obj.Map; obj.Set = 1; obj.Date(); x.process.env; y.Buffer;'],
    ['keys named like built-ins', 'var o = { Set: 1, Map: 2, Symbol: 3, Date: 4, "Proxy": 5, require: 6 };'],
    ['methods named like built-ins', 'class C { Map() {} get Set() { return 1; } static Date() {} }'],
    ['an object literal method', 'var o = { freeze: function () {}, setTimeout() {} }; o.freeze(); o.setTimeout();'],
    ['a member freeze on something else', 'Foo.freeze(x); obj.Object.freeze;'],
    ['Object.assign and friends', 'Object.assign({}, o); Object.keys(o); Object.defineProperty(o, "x", { value: 1 });'],
    ['for-of over an array', 'for (const x of [1, 2, 3]) f(x);'],
    ['for-in', 'for (var k in o) f(k);'],
    ['classes with getters and setters', 'class R { constructor(n) { this.n = n; } get length() { return this.n; } set length(v) { this.n = v; } }'],
    ['class inheritance', 'class A { f() { return 1; } } class B extends A { f() { return super.f() + 1; } }'],
    ['arrow functions', 'var f = (a, b) => a + b; var g = x => ({ x: x });'],
    ['template literals', 'var s = `a${b}c${d + 1}`;'],
    ['nullish coalescing', 'var x = a ?? b;'],
    ['let and const', 'let a = 1; const b = 2; { let a = 3; }'],
    ['typed arrays and DataView', 'var u = new Uint8Array(4); u.set([1], 0); u.subarray(1).fill(0); new DataView(u.buffer).getUint16(0);'],
    ['Promise', 'Promise.resolve(1).then(function (v) { return v; });'],
    ['typeof feature detection', 'var hasMap = typeof Map !== "undefined"; var t = typeof setTimeout;'],
    ['a local that shadows a built-in', 'function f(process) { return process.x; } var Map = function () {}; new Map();'],
    ['a local function named like a built-in', 'function Symbol() { return 1; } Symbol();'],
    ['a catch parameter named like a built-in', 'try { f(); } catch (Buffer) { Buffer.x; }'],
    ['assignment to a global', 'Date = undefined;'],
    ['labels only as property keys', 'var o = { outer: 1 }; o.outer;'],
    ['a regex with supported flags and look-alike syntax', 'var r = /\\(?<x>[(?<]/gim; var q = /(?:a)(?=b)(?!c)/g;'],
    ['a string mentioning forbidden things', 'var s = "new Map() ?. ** async function* Buffer setTimeout";'],
    ['comments mentioning forbidden things', '// new Map(); a?.b; 2 ** 3\n/* setTimeout(Date.now()) */ var x = 1;'],
    ['RegExp without bad flags', 'var r = new RegExp("a+", "gi");'],
    ['an allowed require', 'var net = require("net");'],
  ];

  it.each(CLEAN)('%s', (what, code) => {
    const opts = what === 'an allowed require' ? { allowRequire: ['net'] } : undefined;
    expect(checkEspruinoSource(code, opts)).toEqual([]);
  });

  it('allowRequire never admits node: specifiers', () => {
    expect(rulesOf('require("node:fs");', { allowRequire: ['node:fs'] })).toEqual(['node-import']);
  });
});

describe('hasNamedGroup', () => {
  it.each([
    ['(?<year>\\d+)', true],
    ['(?<a>x)\\k<a>', true],
    ['(?<=a)b', false],
    ['(?<!a)b', false],
    ['\\(?<x>', false],
    ['[(?<x>]', false],
    ['[\\]](?<x>y)', true],
    ['(?:a)', false],
  ])('%s → %s', (pattern, expected) => {
    expect(hasNamedGroup(pattern)).toBe(expected);
  });
});

describe('why the bundle check exists: esbuild --target=es2015 output', () => {
  const lower = (code: string) =>
    esbuild.transformSync(code, { loader: 'ts', target: 'es2015', format: 'cjs', minify: true }).code;

  it('keeps default parameters, rest, spread and destructuring', () => {
    const out = lower('export function f(a = 1, ...r: number[]) { const { x } = o; return [...r, a, x]; }');
    expect(rulesOf(out)).toEqual(expect.arrayContaining(['default-parameter', 'rest', 'spread', 'destructuring']));
  });

  it('lowers #private to WeakMap, which Espruino lacks', () => {
    const out = lower('export class C { #x = 1; get x() { return this.#x; } }');
    expect(rulesOf(out)).toContain('missing-builtin');
  });

  it('lowers async to generators', () => {
    const out = lower('export async function f(p: Promise<number>) { return await p; }');
    expect(rulesOf(out)).toContain('generator');
  });

  it('lowers ?. ?? and ** to something Espruino runs', () => {
    const out = lower('export const f = (a: any) => (a?.b ?? 2) ** 2;');
    expect(rulesOf(out)).toEqual([]);
  });
});
