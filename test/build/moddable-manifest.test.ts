import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import * as acorn from 'acorn';
import * as walk from 'acorn-walk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ENTRIES } from '../../scripts/build';
import { buildToTemp, type TempBuild } from './helpers';

let b: TempBuild;
let manifestText: string;
beforeAll(async () => {
  b = await buildToTemp();
  manifestText = readFileSync(b.result.manifest, 'utf8');
});
afterAll(() => b?.dispose());

const TYPED_ARRAYS = new Set([
  'ArrayBuffer',
  'DataView',
  'Uint8Array',
  'Uint8ClampedArray',
  'Int8Array',
  'Uint16Array',
  'Int16Array',
  'Uint32Array',
  'Int32Array',
  'Float32Array',
  'Float64Array',
]);

/**
 * Typed arrays created while a module is evaluated (module scope, IIFEs,
 * static fields). XS preloading freezes them into flash (DESIGN.md §4), so a
 * preloaded SDK must allocate its buffers in constructors instead.
 */
function moduleScopeAllocations(code: string): string[] {
  const ast = acorn.parse(code, { ecmaVersion: 'latest', sourceType: 'module' });
  const found: string[] = [];
  walk.recursive(ast, null, {
    Function() {
      // Bodies run later, when called; IIFEs are handled by CallExpression.
    },
    PropertyDefinition(node, st, c) {
      if (node.static && node.value) c(node.value, st);
    },
    CallExpression(node, st, c) {
      const callee = node.callee;
      if (callee.type === 'FunctionExpression' || callee.type === 'ArrowFunctionExpression') {
        c(callee.body, st);
      } else c(callee, st);
      for (const a of node.arguments) c(a, st);
    },
    NewExpression(node, st, c) {
      if (node.callee.type === 'Identifier' && TYPED_ARRAYS.has(node.callee.name)) found.push(code.slice(node.start, node.end));
      c(node.callee, st);
      for (const a of node.arguments) c(a, st);
    },
  });
  return found;
}

describe('Moddable manifest', () => {
  it('is valid JSON in the manifest format', () => {
    const m = JSON.parse(manifestText) as unknown;
    expect(m).toEqual({ modules: expect.any(Object), preload: expect.any(Array) });
  });

  it('maps every built entry, and only those, to a bundle that exists', () => {
    const m = JSON.parse(manifestText) as { modules: Record<string, string>; preload: string[] };
    const built = b.result.bundles.filter((x) => x.platform === 'moddable').map((x) => x.specifier);
    expect(Object.keys(m.modules).sort()).toEqual([...built].sort());
    expect(built).toContain('fieldmq');
    for (const [spec, path] of Object.entries(m.modules)) {
      expect(path, spec).toMatch(/^\.\/[\w-]+$/); // relative, no extension (mcconfig adds .js)
      const file = resolve(dirname(b.result.manifest), path + '.js');
      expect(existsSync(file), `${spec} → ${file}`).toBe(true);
      const entry = ENTRIES.find((e) => e.specifier === spec)!;
      expect(file).toBe(join(b.dir, 'moddable', entry.moddable + '.js'));
    }
  });

  it('preloads only modules it lists', () => {
    const m = JSON.parse(manifestText) as { modules: Record<string, string>; preload: string[] };
    for (const p of m.preload) expect(Object.keys(m.modules)).toContain(p);
  });
});

describe('Moddable bundles', () => {
  const moddable = () => b.result.bundles.filter((x) => x.platform === 'moddable');

  it('are ES modules that parse as ES2022', () => {
    for (const x of moddable()) {
      const code = readFileSync(x.file, 'utf8');
      expect(() => acorn.parse(code, { ecmaVersion: 2022, sourceType: 'module' }), x.file).not.toThrow();
      expect(code).toMatch(/^export \{/m);
    }
  });

  it('are preload-safe: no typed arrays allocated at module scope', () => {
    for (const x of moddable()) expect(moduleScopeAllocations(readFileSync(x.file, 'utf8')), x.file).toEqual([]);
  });

  it('the preload-safety check itself finds module-scope allocations', () => {
    expect(moduleScopeAllocations('const scratch = new Uint8Array(4); export { scratch };')).toEqual(['new Uint8Array(4)']);
    expect(moduleScopeAllocations('var T = (() => { return new DataView(new ArrayBuffer(2)); })();')).toHaveLength(2);
    expect(moduleScopeAllocations('class R { static s = new Uint16Array(1); b = new Uint8Array(1); }')).toEqual(['new Uint16Array(1)']);
    expect(moduleScopeAllocations('export class R { constructor(n) { this.b = new Uint8Array(n); } }')).toEqual([]);
  });

  it('export what the Espruino bundles export, and work when imported', async () => {
    for (const x of moddable()) {
      const esp = b.result.bundles.find((y) => y.platform === 'espruino' && y.specifier === x.specifier)!;
      expect(x.exports).toEqual(esp.exports);
      const mod = (await import(pathToFileURL(x.file).href)) as Record<string, unknown>;
      expect(Object.keys(mod).sort()).toEqual(x.exports);
    }
    const all = (await import(pathToFileURL(join(b.dir, 'moddable', 'fieldmq.js')).href)) as { statusName(n: number): string };
    expect(all.statusName(-3)).toBe('Malformed');
  });
});
