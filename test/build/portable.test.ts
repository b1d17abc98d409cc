import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { checkPortableSource, checkPortableTree } from '../../scripts/check-portable';

const ROOT = join(__dirname, '../..');

describe('check-portable › the real tree', () => {
  it('src/ (outside src/platform/node/) is portable', () => {
    expect(checkPortableTree(join(ROOT, 'src'))).toEqual([]);
  });
});

describe('check-portable › a temporary tree', () => {
  let dir: string | undefined;
  afterEach(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
    dir = undefined;
  });

  /** Writes `files` under a fresh `<tmp>/src` and checks it. */
  const check = (files: Record<string, string>) => {
    dir = mkdtempSync(join(tmpdir(), 'fieldmq-portable-'));
    for (const [name, text] of Object.entries(files)) {
      const p = join(dir, 'src', name);
      mkdirSync(dirname(p), { recursive: true });
      writeFileSync(p, text);
    }
    return checkPortableTree(join(dir, 'src'));
  };
  const rules = (files: Record<string, string>) => check(files).map((v) => v.rule);

  it('passes clean code', () => {
    expect(check({ 'core/a.ts': "import { b } from './b';\nexport const a = b + 1;\n", 'core/b.ts': 'export const b = 1;\n' })).toEqual([]);
  });

  it.each([
    ['a node: import', "import { readFileSync } from 'node:fs';\nexport const f = readFileSync;\n", 'node-import'],
    ['a bare Node built-in', "import { EventEmitter } from 'events';\nexport { EventEmitter };\n", 'node-import'],
    ['a type-only node: import', "import type { Socket } from 'node:net';\nexport type S = Socket;\n", 'node-import'],
    ['a re-export from node:', "export { createSocket } from 'node:dgram';\n", 'node-import'],
    ['an import() type', "export type S = import('node:net').Socket;\n", 'node-import'],
    ['import = require', "import fs = require('fs');\nexport const f = fs;\n", 'node-import'],
    ['a dynamic import of a node module', "export const load = () => import('node:fs');\n", 'node-import'],
    ['a dynamic import of a computed name', 'export const load = (n: string) => import(n);\n', 'dynamic-import'],
    ['a package import', "import fc from 'fast-check';\nexport default fc;\n", 'outside-src'],
    ['a relative import leaving src/', "import { x } from '../../gateway/x';\nexport { x };\n", 'outside-src'],
    ['an import of the Node platform', "import { udp } from '../platform/node/udp';\nexport { udp };\n", 'node-platform-import'],
    ['Buffer', 'export const b = Buffer.from([1]);\n', 'node-global'],
    ['Buffer as a type', 'export function f(b: Buffer): number { return b.length; }\n', 'node-global'],
    ['process', 'export const env = process.env;\n', 'node-global'],
    ['globalThis.process', 'export const env = globalThis.process;\n', 'node-global'],
    ['require()', "export const m = require('x');\n", 'node-global'],
    ['setTimeout', 'export function f(g: () => void) { setTimeout(g, 1); }\n', 'timer'],
    ['setInterval', 'export function f(g: () => void) { return setInterval(g, 1); }\n', 'timer'],
    ['setImmediate', 'export function f(g: () => void) { setImmediate(g); }\n', 'timer'],
    ['Date.now()', 'export const now = () => Date.now();\n', 'wall-clock'],
    ['new Date()', 'export const d = () => new Date();\n', 'wall-clock'],
    ['Date as a type', 'export function f(d: Date) { return d; }\n', 'wall-clock'],
  ])('rejects %s', (_what, code, rule) => {
    expect(rules({ 'core/x.ts': code })).toEqual([rule]);
  });

  it('reports file, line and column', () => {
    const [v] = check({ 'mqtt/x.ts': 'export const a = 1;\nexport const b = () =>   setTimeout(f, 1);\n' });
    expect(v).toMatchObject({ file: join('src', 'mqtt', 'x.ts'), rule: 'timer', line: 2, column: 26, snippet: 'setTimeout' });
  });

  it.each([
    ['a comment mentioning Buffer', '// uses no Buffer, no setTimeout(), no Date.now()\n/** process.env is not read */\nexport const a = 1;\n'],
    ['a string mentioning them', "export const s = 'Buffer process Date setTimeout node:fs';\n"],
    ['a template mentioning them', 'export const s = `Buffer ${1} setTimeout`;\n'],
    ['members and keys named like them', 'export const o = { Buffer: 1, process: 2, Date: 3, setTimeout() {} };\nexport const p = o.Buffer + o.process + o.Date;\n'],
    ['interface members named like them', 'export interface I { Buffer: number; process(): void; Date?: string }\n'],
    ['a parameter named process', 'export function run(process: (n: number) => number) { return process(1); }\n'],
    ['a local named Date', 'export function f() { const Date = 3; return Date + 1; }\n'],
    ['typeof feature detection', "export const hasTimers = typeof setTimeout === 'function';\n"],
    ['an import from a sibling directory', "export { a } from '../core/a';\n"],
  ])('accepts %s', (_what, code) => {
    expect(check({ 'core/a.ts': 'export const a = 1;\n', 'mqtt/x.ts': code })).toEqual([]);
  });

  it('does not check src/platform/node/', () => {
    expect(
      check({
        'platform/node/udp.ts': "import { createSocket } from 'node:dgram';\nexport const udp = createSocket;\nsetTimeout(() => {}, 1);\nexport const b = Buffer.alloc(1);\n",
      }),
    ).toEqual([]);
  });

  it('checks the other platforms', () => {
    expect(rules({ 'platform/espruino/net.ts': 'export const b = Buffer.alloc(1);\n' })).toEqual(['node-global']);
  });

  it('checkPortableSource judges one file against a root', () => {
    const v = checkPortableSource('/repo/src/core/x.ts', "import y from '../../test/y';\n", '/repo/src');
    expect(v.map((x) => x.rule)).toEqual(['outside-src']);
  });
});
