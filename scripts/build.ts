/**
 * Device build (`npm run build`): bundles the SDK in `src/` for Espruino and
 * Moddable XS with the esbuild JS API.
 *
 * - `dist/espruino/<name>.min.js`: minified CommonJS, `target: es2015`, for
 *   `Modules.addCached(name, function () { <bundle> })` or the Web IDE's
 *   module upload. Espruino evaluates the module text in a scope holding
 *   `module` and `exports` (`module.exports = ...` replaces the export), so
 *   the bundle ends with one plain `module.exports = { name: value, ... }`.
 *   esbuild's usual CJS wrapper (`__toCommonJS`) is avoided on purpose: it
 *   exports through getters created in a `for (let key of ...)` closure loop
 *   (Espruino shares one binding across iterations, espruino/Espruino#2206)
 *   and costs a variable per getter on boards with 1,600 of them. Every
 *   bundle is then run through `checkEspruinoSource` (scripts/check-espruino.ts).
 * - `dist/moddable/<name>.js`: ES module bundles, `target: es2022`, and
 *   `dist/moddable/manifest.json` mapping the specifiers `fieldmq`,
 *   `fieldmq/mqtt`, `fieldmq/mqttsn` to them (all preloaded).
 *
 * A protocol entry that does not exist yet (`src/mqtt/index.ts`, ...) is
 * skipped with a note, and `src/index.ts`'s re-export of it is replaced by an
 * empty module, so the build works while the tree is being written.
 *
 * CLI: `tsx scripts/build.ts [--root dir] [--out dir] [--no-check]`. Prints a size table;
 * exits 1 on a build error or an Espruino check violation.
 */
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { gzipSync } from 'node:zlib';
import * as esbuild from 'esbuild';
import { checkEspruinoSource, type Violation } from './check-espruino';

/** The repository root (this file lives in `scripts/`). */
export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

export interface EntrySpec {
  /** Moddable module specifier, also used as the name in the table. */
  specifier: string;
  /** Source entry, relative to the root. */
  source: string;
  /** File name of the bundle in `dist/espruino/`. */
  espruino: string;
  /** File name (without `.js`) of the bundle in `dist/moddable/`. */
  moddable: string;
  /** Size budget of the minified Espruino bundle in bytes (issue #3), shown beside its size. */
  budget?: number;
}

/** The bundles the SDK ships. */
export const ENTRIES: readonly EntrySpec[] = [
  { specifier: 'fieldmq', source: 'src/index.ts', espruino: 'fieldmq.min.js', moddable: 'fieldmq' },
  { specifier: 'fieldmq/mqtt', source: 'src/mqtt/index.ts', espruino: 'fieldmq-mqtt.min.js', moddable: 'fieldmq-mqtt' },
  { specifier: 'fieldmq/mqttsn', source: 'src/mqttsn/index.ts', espruino: 'fieldmq-mqttsn.min.js', moddable: 'fieldmq-mqttsn' },
  // One client per bundle, for devices that need only that: these carry the size budgets.
  // (The MQTT client is one bundle for 3.1.1 and 5.0 today; its budget is the 3.1.1 one, 6 KB; 5.0's is 10 KB.)
  {
    specifier: 'fieldmq/mqtt-client',
    source: 'src/mqtt/client.ts',
    espruino: 'fieldmq-mqtt-client.min.js',
    moddable: 'fieldmq-mqtt-client',
    budget: 6 * 1024,
  },
  {
    specifier: 'fieldmq/mqttsn-client',
    source: 'src/mqttsn/client.ts',
    espruino: 'fieldmq-mqttsn-client.min.js',
    moddable: 'fieldmq-mqttsn-client',
    budget: 4 * 1024,
  },
];

export interface BundleInfo {
  platform: 'espruino' | 'moddable';
  specifier: string;
  /** Absolute path of the written bundle. */
  file: string;
  bytes: number;
  gzip: number;
  /** Names the bundle exports. */
  exports: string[];
  /** Espruino check result (always empty for Moddable bundles). */
  violations: Violation[];
}

export interface BuildOptions {
  /** Repository root holding `src/`; default {@link ROOT}. */
  root?: string;
  /** Output directory; default `<root>/dist`. It is not emptied, only the bundles are overwritten. */
  outDir?: string;
  /** Run the Espruino check on the Espruino bundles (default true). */
  check?: boolean;
  /** Where notes (skipped entries) go; default console.log. */
  log?: (line: string) => void;
}

export interface BuildResult {
  bundles: BundleInfo[];
  /** Entries whose source does not exist (yet), with the reason. */
  skipped: { specifier: string; reason: string }[];
  /** Absolute path of the Moddable manifest. */
  manifest: string;
  /** Milliseconds the whole build took. */
  ms: number;
}

/** Thrown when esbuild reports errors; `errors` holds its formatted messages. */
export class BuildError extends Error {
  override name = 'BuildError';
  constructor(
    message: string,
    readonly errors: string[],
  ) {
    super(message);
  }
}

/**
 * Resolves `./mqtt`-style re-exports of entries that do not exist yet to an
 * empty module, so `src/index.ts` builds while the tree is incomplete.
 */
function missingEntryPlugin(root: string, missing: Set<string>): esbuild.Plugin {
  return {
    name: 'fieldmq-missing-entry',
    setup(b) {
      b.onResolve({ filter: /^\.\/[\w-]+$/ }, (args) => {
        if (args.importer !== join(root, 'src/index.ts')) return undefined;
        const target = relative(root, join(args.resolveDir, args.path, 'index.ts'));
        if (!missing.has(target)) return undefined;
        return { path: target, namespace: 'fieldmq-missing' };
      });
      b.onLoad({ filter: /.*/, namespace: 'fieldmq-missing' }, () => ({ contents: 'export {};', loader: 'js' }));
    },
  };
}

/** Builds every bundle and the manifest; throws {@link BuildError} on esbuild errors. */
export async function build(options: BuildOptions = {}): Promise<BuildResult> {
  const t0 = performance.now();
  const root = resolve(options.root ?? ROOT);
  const outDir = resolve(options.outDir ?? join(root, 'dist'));
  const check = options.check ?? true;
  const log = options.log ?? ((line: string) => console.log(line));

  const present: EntrySpec[] = [];
  const skipped: BuildResult['skipped'] = [];
  const missing = new Set<string>();
  for (const e of ENTRIES) {
    if (existsSync(join(root, e.source))) present.push(e);
    else {
      missing.add(e.source);
      skipped.push({ specifier: e.specifier, reason: `${e.source} does not exist` });
      log(`note: skipping ${e.specifier}: ${e.source} does not exist yet`);
    }
  }

  const espDir = join(outDir, 'espruino');
  const modDir = join(outDir, 'moddable');
  mkdirSync(espDir, { recursive: true });
  mkdirSync(modDir, { recursive: true });
  // Bundles of skipped entries from an earlier build would be stale.
  for (const e of ENTRIES) {
    if (present.includes(e)) continue;
    rmSync(join(espDir, e.espruino), { force: true });
    rmSync(join(modDir, e.moddable + '.js'), { force: true });
  }

  const common: esbuild.BuildOptions = {
    absWorkingDir: root,
    bundle: true,
    platform: 'neutral',
    write: false,
    metafile: true,
    logLevel: 'silent',
    legalComments: 'none',
    plugins: [missingEntryPlugin(root, missing)],
  };

  const bundles = await Promise.all(
    present.map(async (e): Promise<BundleInfo[]> => {
      // Moddable first: its metafile gives the export names the Espruino entry lists.
      const modFile = join(modDir, e.moddable + '.js');
      const mod = await run({ ...common, entryPoints: [join(root, e.source)], format: 'esm', target: 'es2022', outfile: modFile });
      const exports = Object.values(mod.metafile!.outputs)[0].exports.slice().sort();

      const espFile = join(espDir, e.espruino);
      const rel = './' + e.source;
      const entry =
        exports.length === 0
          ? `import ${JSON.stringify(rel)};\nmodule.exports = {};\n`
          : `import { ${exports.map((n, i) => `${JSON.stringify(n)} as _${i}`).join(', ')} } from ${JSON.stringify(rel)};\n` +
            `module.exports = { ${exports.map((n, i) => `${JSON.stringify(n)}: _${i}`).join(', ')} };\n`;
      const esp = await run({
        ...common,
        stdin: { contents: entry, resolveDir: root, sourcefile: `espruino-entry:${e.specifier}`, loader: 'js' },
        format: 'cjs',
        target: 'es2015',
        minify: true,
        outfile: espFile,
        // Class fields as constructor assignments, not Object.defineProperty
        // helpers: smaller and fewer variables on the device.
        tsconfigRaw: { compilerOptions: { useDefineForClassFields: false } },
      });

      const modText = mod.outputFiles![0].contents;
      const espText = esp.outputFiles![0].contents;
      writeFileSync(modFile, modText);
      writeFileSync(espFile, espText);
      const violations = check ? checkEspruinoSource(esp.outputFiles![0].text) : [];
      return [
        { platform: 'espruino', specifier: e.specifier, file: espFile, bytes: espText.length, gzip: gzipSize(espText), exports, violations },
        { platform: 'moddable', specifier: e.specifier, file: modFile, bytes: modText.length, gzip: gzipSize(modText), exports, violations: [] },
      ];
    }),
  );

  const manifest = join(modDir, 'manifest.json');
  writeFileSync(manifest, JSON.stringify(moddableManifest(present), null, 2) + '\n');

  return { bundles: bundles.flat(), skipped, manifest, ms: performance.now() - t0 };
}

/**
 * The Moddable manifest for the bundles: `modules` maps each specifier to its
 * file (path relative to the manifest, without extension, as mcconfig wants)
 * and `preload` lists them all. Preloading is safe because the SDK allocates
 * its buffers in constructors, never at module scope (DESIGN.md §4).
 */
export function moddableManifest(entries: readonly EntrySpec[]): { modules: Record<string, string>; preload: string[] } {
  const modules: Record<string, string> = {};
  for (const e of entries) modules[e.specifier] = './' + e.moddable;
  return { modules, preload: entries.map((e) => e.specifier) };
}

async function run(opts: esbuild.BuildOptions): Promise<esbuild.BuildResult> {
  try {
    return await esbuild.build(opts);
  } catch (err) {
    const failure = err as esbuild.BuildFailure;
    if (Array.isArray(failure.errors)) {
      const text = await esbuild.formatMessages(failure.errors, { kind: 'error', color: false });
      throw new BuildError(`esbuild failed for ${String(opts.outfile)}`, text);
    }
    throw err;
  }
}

function gzipSize(data: Uint8Array): number {
  return gzipSync(data, { level: 9 }).length;
}

/** The size table printed by the CLI. */
export function formatTable(result: BuildResult, root: string = ROOT): string {
  const rows = result.bundles.map((b) => {
    const budget = b.platform === 'espruino' ? ENTRIES.find((e) => e.specifier === b.specifier)?.budget : undefined;
    return [
      relative(root, b.file),
      String(b.bytes),
      String(b.gzip),
      b.platform === 'espruino' ? (b.violations.length === 0 ? 'ok' : `${b.violations.length} violation(s)`) : '-',
      budget === undefined ? '' : b.bytes <= budget ? `${budget} ok` : `${budget} OVER by ${b.bytes - budget}`,
    ];
  });
  const head = ['bundle', 'bytes', 'gzip', 'espruino check', 'budget'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (r: string[]): string =>
    r.map((c, i) => (i === 1 || i === 2 ? c.padStart(widths[i]) : c.padEnd(widths[i]))).join('  ').trimEnd();
  return [line(head), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

async function main(argv: string[]): Promise<number> {
  let outDir: string | undefined;
  let root = ROOT;
  let check = true;
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--out' && i + 1 < argv.length) outDir = resolve(argv[++i]);
    else if (argv[i] === '--root' && i + 1 < argv.length) root = resolve(argv[++i]);
    else if (argv[i] === '--no-check') check = false;
    else {
      console.error(`build: unknown argument ${argv[i]} (usage: tsx scripts/build.ts [--root dir] [--out dir] [--no-check])`);
      return 2;
    }
  }
  let result: BuildResult;
  try {
    result = await build({ root, outDir, check });
  } catch (err) {
    if (err instanceof BuildError) {
      console.error(err.errors.join('\n'));
      console.error(`build: ${err.message}`);
      return 1;
    }
    throw err;
  }
  console.log(formatTable(result, root));
  console.log(`manifest: ${relative(root, result.manifest)}   (${result.ms.toFixed(0)} ms)`);
  let bad = 0;
  for (const b of result.bundles) {
    for (const v of b.violations) {
      console.error(`${relative(root, b.file)}:${v.line}:${v.column}  ${v.rule}  ${v.snippet}`);
      bad++;
    }
  }
  if (bad > 0) {
    console.error(`build: ${bad} Espruino violation(s) (see scripts/check-espruino.ts for the rules)`);
    return 1;
  }
  return 0;
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  main(process.argv.slice(2)).then(
    (code) => (process.exitCode = code),
    (err: unknown) => {
      console.error(err);
      process.exitCode = 1;
    },
  );
}
