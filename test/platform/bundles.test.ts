/**
 * The device adapters stay device-ready: the Espruino and Moddable adapter
 * entries bundle with esbuild as the device build does (CJS, es2015, minified,
 * class fields as assignments) and the bundles pass the Espruino syntax and
 * built-in check (scripts/check-espruino.ts, DESIGN.md §4); the Moddable one
 * must too, since the same sources are shared. The portable-tree check
 * (scripts/check-portable.ts) covers src/platform/{espruino,moddable} as part
 * of src/ in test/build/portable.test.ts.
 */
import { join } from 'node:path';
import * as esbuild from 'esbuild';
import { describe, expect, it } from 'vitest';
import { checkEspruinoSource } from '../../scripts/check-espruino';
import { checkPortableTree } from '../../scripts/check-portable';

const ROOT = join(__dirname, '../..');

async function bundle(entry: string): Promise<string> {
  const r = await esbuild.build({
    entryPoints: [join(ROOT, entry)],
    bundle: true,
    write: false,
    format: 'cjs',
    target: 'es2015',
    minify: true,
    platform: 'neutral',
    logLevel: 'silent',
    tsconfigRaw: { compilerOptions: { useDefineForClassFields: false } },
  });
  return r.outputFiles[0].text;
}

describe('device adapter bundles', () => {
  for (const p of ['espruino', 'moddable']) {
    it(`src/platform/${p} › bundles to CJS/es2015 with no Espruino violations`, async () => {
      const code = await bundle(`src/platform/${p}/index.ts`);
      expect(code.length).toBeGreaterThan(1000);
      expect(checkEspruinoSource(code)).toEqual([]);
    });
  }

  it('src/platform/{espruino,moddable} and peers.ts › import no Node modules, timers, Date, Buffer or process', () => {
    const v = checkPortableTree(join(ROOT, 'src')).filter((x) => x.file.includes('platform'));
    expect(v).toEqual([]);
  });
});
