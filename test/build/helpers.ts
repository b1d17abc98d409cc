/**
 * Shared by the build tests: one in-process build into a temporary directory
 * per test file, and a simulated Espruino module loader.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import vm from 'node:vm';
import { build, type BuildResult, type EntrySpec } from '../../scripts/build';

export interface TempBuild {
  dir: string;
  result: BuildResult;
  notes: string[];
  dispose(): void;
}

/** Runs the device build into a fresh temp directory. */
export async function buildToTemp(entries?: readonly EntrySpec[]): Promise<TempBuild> {
  const dir = mkdtempSync(join(tmpdir(), 'fieldmq-build-'));
  const notes: string[] = [];
  const result = await build({ outDir: dir, log: (l) => notes.push(l), entries });
  return { dir, result, notes, dispose: () => rmSync(dir, { recursive: true, force: true }) };
}

/**
 * Globals a fresh V8 context has and Espruino does not (DESIGN.md §4), plus
 * `Date`, which the SDK must not touch (it reads time through the Clock).
 */
export const REMOVED_GLOBALS = [
  'Map',
  'Set',
  'WeakMap',
  'WeakSet',
  'WeakRef',
  'FinalizationRegistry',
  'Symbol',
  'Proxy',
  'Reflect',
  'BigInt',
  'BigInt64Array',
  'BigUint64Array',
  'Intl',
  'SharedArrayBuffer',
  'Atomics',
  'Date',
] as const;

/**
 * Node globals a fresh context does not have either (checked, not removed).
 * `require` is absent too until {@link espruinoContext} installs Espruino's.
 */
export const ABSENT_GLOBALS = [
  'Buffer',
  'process',
  'module',
  'exports',
  'TextEncoder',
  'TextDecoder',
  'setTimeout',
  'setInterval',
  'setImmediate',
  'queueMicrotask',
] as const;

/**
 * A V8 context stripped down to what Espruino offers, with an Espruino-style
 * module system: `Modules.addCached(id, function () { <code> })` takes the
 * function's *body text* and evaluates it with `module`, `exports` and
 * `this === exports` in scope (as jspEvaluateModule does); `require(id)`
 * returns cached modules only.
 */
export function espruinoContext(): vm.Context {
  const ctx = vm.createContext({});
  vm.runInContext(
    `(function () {
      var g = globalThis;
      ${JSON.stringify(REMOVED_GLOBALS)}.forEach(function (n) { delete g[n]; });
      delete Object.freeze;
      var cache = {};
      g.Modules = {
        addCached: function (id, src) {
          var code = typeof src === 'function'
            ? (function (t) { return t.slice(t.indexOf('{') + 1, t.lastIndexOf('}')); })(src.toString())
            : src;
          var module = { exports: {} };
          (new Function('module', 'exports', code)).call(module.exports, module, module.exports);
          cache[id] = module.exports;
        },
        getCached: function () { return Object.keys(cache); }
      };
      g.require = function (id) {
        if (!Object.prototype.hasOwnProperty.call(cache, id)) throw new Error('Module ' + id + ' not found');
        return cache[id];
      };
    })();`,
    ctx,
  );
  return ctx;
}

/**
 * Uploads `bundle` as module `id` the way the Espruino Web IDE does:
 * `Modules.addCached(id, function () { <bundle> })`.
 */
export function addCached(ctx: vm.Context, id: string, bundle: string): void {
  vm.runInContext(`Modules.addCached(${JSON.stringify(id)}, function () {\n${bundle}\n});`, ctx, { filename: id });
}
