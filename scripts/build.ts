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
 * - One bundle per client and profile (issue #3), {@link ENTRIES}:
 *   `fieldmq-mqtt311-client` (the lean `createMqttLite`, MQTT 3.1.1 only),
 *   `fieldmq-mqtt5-client` (`MqttClient`, 3.1.1 and 5.0),
 *   `fieldmq-mqttsn-client` (the lean `createSnLite`, MQTT-SN "standard": no
 *   QoS 2, sleep, discovery or Will) and `fieldmq-mqttsn-client-full`
 *   (`SnClient`). The full clients also have profiles built by the tests only
 *   ({@link SWITCH_PROFILES}): compile-time
 *   switches turned off ({@link FLAGS}, `src/flags.ts`): each is
 *   a `globalThis.FIELDMQ_*` property that esbuild `define` replaces with a
 *   constant, so the code behind it is folded away while parsing and what only
 *   that code used is tree-shaken. (A `const` holding the switch would not do:
 *   esbuild inlines constants across modules only after tree shaking.)
 * - Size: private members end in `_` and the Espruino bundles shorten them
 *   ({@link MANGLE_PROPS}); a client bundle also shortens the members of the
 *   classes it uses without exporting ({@link EntrySpec.internal}).
 *
 * A protocol entry that does not exist yet (`src/mqtt/index.ts`, ...) is
 * skipped with a note, and `src/index.ts`'s re-export of it is replaced by an
 * empty module, so the build works while the tree is being written.
 *
 * Budgets: a client bundle is held to its `limit` (a stopgap ceiling while its
 * issue #3 `budget` is not met) or else to its `budget`; `--strict-budgets`
 * holds every bundle to its budget. See "Bundle sizes" in the README.
 *
 * CLI: `tsx scripts/build.ts [--root dir] [--out dir] [--no-check] [--strict-budgets] [--modules]`;
 * `--modules` also prints, per Espruino bundle, the minified bytes each source module adds.
 * Prints a size table and what each client profile holds; exits 1 on a build
 * error, an Espruino check violation, or a bundle over the size it is held to.
 */
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { gzipSync } from 'node:zlib';
import * as esbuild from 'esbuild';
import { checkEspruinoSource, type Violation } from './check-espruino';

/** The repository root (this file lives in `scripts/`). */
export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/**
 * Compile-time feature switches of the device SDK (`src/flags.ts`). Each is a
 * property of `globalThis` that the build replaces with a constant (esbuild
 * `define`): code behind a switch that is off is folded away while parsing, so
 * whatever only it uses is tree-shaken. Where no build defines them (Node,
 * tests, TypeScript users), every switch is on.
 */
export const FLAGS = {
  /** MQTT 5.0 in `MqttClient` and the MQTT codec (off: MQTT 3.1.1 only). */
  FIELDMQ_MQTT5: 'MQTT 5.0',
  /** MQTT-SN QoS 2 both ways (PUBREC/PUBREL/PUBCOMP) and the inbound QoS 2 id table. */
  FIELDMQ_SN_QOS2: 'MQTT-SN QoS 2',
  /** MQTT-SN sleeping client: `sleep()`, the asleep/awake cycle (§6.14). */
  FIELDMQ_SN_SLEEP: 'MQTT-SN sleep',
  /** MQTT-SN gateway discovery and failover: SEARCHGW, GWINFO/ADVERTISE, the gateway list (§6.1). */
  FIELDMQ_SN_DISCOVERY: 'MQTT-SN discovery',
  /** MQTT-SN Will: the Will flow at CONNECT and WILLTOPICUPD/WILLMSGUPD (§6.2–§6.4). */
  FIELDMQ_SN_WILL: 'MQTT-SN will',
} as const;

export type FlagName = keyof typeof FLAGS;

export interface EntrySpec {
  /** Moddable module specifier, also used as the name in the table. */
  specifier: string;
  /** Source entry, relative to the root. */
  source: string;
  /** File name of the bundle in `dist/espruino/`. */
  espruino: string;
  /** File name (without `.js`) of the bundle in `dist/moddable/`. */
  moddable: string;
  /** An Espruino runtime adapter: no Moddable bundle, not in the manifest. */
  espruinoOnly?: boolean;
  /** Switches turned off for this bundle (all others are on). */
  off?: readonly FlagName[];
  /**
   * Size budget of the minified Espruino bundle in bytes (issue #3), printed
   * beside its size. Enforced (the build exits 1 when over it) unless `limit`
   * is set, and always with `--strict-budgets`.
   */
  budget?: number;
  /**
   * The ceiling enforced while `budget` is not met yet: today's size plus a
   * little room, so the bundle cannot grow unnoticed. Lower it as the bundle
   * shrinks; remove it once the bundle is within its budget.
   */
  limit?: number;
  /** What the bundle holds, one line (printed under the table, and in the README). */
  profile?: string;
  /**
   * Public member names of the codec and container classes this bundle uses
   * only inside, without exporting them: mangled like private names in this
   * bundle alone (see {@link MANGLE_PROPS}).
   */
  internal?: readonly string[];
}

/** The MQTT-SN switches: all off is `SnClient`'s "standard" profile. */
export const SN_OPTIONAL: readonly FlagName[] = ['FIELDMQ_SN_QOS2', 'FIELDMQ_SN_SLEEP', 'FIELDMQ_SN_DISCOVERY', 'FIELDMQ_SN_WILL'];

/**
 * Members of classes a client uses inside and its bundle does not export
 * (`MessageQueue`, `Outbox`, `PacketView`, the codecs' info objects,
 * `SnMessage`, `SnTopics`, `SnGateways`). None of these names may appear on
 * anything a user passes in or gets back (options, Will, transports,
 * `MqttMessage`, callbacks) nor be a built-in's: test/build/client-bundles.test.ts
 * runs every client bundle through its public API.
 */
const QUEUE_INTERNAL = ['reserve', 'commit', 'offsetAt', 'lengthAt', 'tagAt', 'setTagAt', 'findTag', 'removeAt', 'slotSize', 'slots', 'isFull'];
const MQTT_INTERNAL = [...QUEUE_INTERNAL, 'freeId', 'makeRoom', 'bodyOffset', 'packetId', 'reasonCode', 'sessionPresent', 'subscriptions', 'topics'];
const SN_INTERNAL = [
  ...QUEUE_INTERNAL,
  'topicId',
  'topicIdType',
  'dataOffset',
  'dataLength',
  'returnCode',
  'msgId',
  'hasDuration',
  'hasFlags',
  'protocolId',
  'gwId',
  'duration',
  'text',
  'byId',
  'heard',
  'relayed',
];

/** The bundles the SDK ships. */
export const ENTRIES: readonly EntrySpec[] = [
  { specifier: 'fieldmq', source: 'src/index.ts', espruino: 'fieldmq.min.js', moddable: 'fieldmq' },
  { specifier: 'fieldmq/mqtt', source: 'src/mqtt/index.ts', espruino: 'fieldmq-mqtt.min.js', moddable: 'fieldmq-mqtt' },
  { specifier: 'fieldmq/mqttsn', source: 'src/mqttsn/index.ts', espruino: 'fieldmq-mqttsn.min.js', moddable: 'fieldmq-mqttsn' },
  // One client per bundle, for devices that need only that one: these carry the budgets (issue #3).
  {
    specifier: 'fieldmq/mqtt311-client',
    source: 'src/mqtt/lite.ts',
    espruino: 'fieldmq-mqtt311-client.min.js',
    moddable: 'fieldmq-mqtt311-client',
    budget: 6 * 1024,
    // 8,830 bytes: +260 for sending a reconnect's SUBSCRIBEs, PUBRELs and resends as the output
    // has room (before, what did not fit at the CONNACK waited for the next reconnect).
    // 8,916: +86 for keeping 4 output bytes for an acknowledgement (see MqttClient's below);
    // 8,985: +69 for not reading again from a callback that polls (its ack took that room);
    // 9,021: +36 for declaring the link dead when not even a PINGREQ can be written; 9,039: +18
    // for giving up (and saying why) on a CONNECT that can never be written.
    limit: 9088,
    profile:
      'createMqttLite, the lean MQTT 3.1.1 client: QoS 0-2 both ways, outbox and resend, will, auth, subscriptions, keep-alive, reconnect, oversize skipping, onWritable',
  },
  {
    specifier: 'fieldmq/mqtt5-client',
    source: 'src/mqtt/client.ts',
    espruino: 'fieldmq-mqtt5-client.min.js',
    moddable: 'fieldmq-mqtt5-client',
    budget: 10 * 1024,
    // 28,592 bytes: +276 for the same in MqttClient, +157 for checking a filter given offline
    // (a bad one used to wait in the table) and giving up a SUBSCRIBE that can never be sent,
    // +102 for onWritable at the end of poll (not from inside a send) and no re-entrant pump.
    // 28,813: +221 for keeping 4 output bytes for an acknowledgement and reading a packet that
    // needs one only while they are free (an ack used to be lost under backpressure); 28,885:
    // +72 for not reading again from a callback that polls (its ack took that room); 28,935:
    // +50 for declaring the link dead when not even a PINGREQ can be written; 28,995: +60 for
    // giving up (and saying why) on a CONNECT that can never be written, instead of retrying;
    // 29,032: +37 for MQTT 5 maxInbound 0 (Receive Maximum 1) and a CONNECT flush losing the link;
    // 29,063: +31 for keeping that one inbound QoS 2 message (0 becomes 1 in MQTT 5).
    limit: 29120,
    profile: 'MqttClient, MQTT 3.1.1 and 5.0: everything',
    internal: MQTT_INTERNAL,
  },
  {
    specifier: 'fieldmq/mqttsn-client',
    source: 'src/mqttsn/lite.ts',
    espruino: 'fieldmq-mqttsn-client.min.js',
    moddable: 'fieldmq-mqttsn-client',
    budget: 4 * 1024,
    limit: 7936,
    profile:
      'createSnLite, the lean MQTT-SN client ("standard" + sleep): connect, REGISTER, predefined and short topics, QoS -1/0/1 both ways, (un)subscribe, keep-alive, retries, sleep; no QoS 2, discovery or Will',
  },
  {
    specifier: 'fieldmq/mqttsn-client-full',
    source: 'src/mqttsn/client.ts',
    espruino: 'fieldmq-mqttsn-client-full.min.js',
    moddable: 'fieldmq-mqttsn-client-full',
    // 16,782 bytes: +1,262 for answering other clients' SEARCHGW with GWINFO and taking a
    // gateway from their GWINFO (GwAdd), MQTT-SN §6.1, with first-hand / second-hand tracking
    // and each gateway's address kept in the list.
    limit: 16832,
    profile: 'SnClient "full": standard + QoS 2, sleep, gateway discovery and failover, Will',
    internal: SN_INTERNAL,
  },
  // The Espruino adapters, one per bundle, to go with a client bundle (`fieldmq.min.js` has them all).
  { specifier: 'fieldmq/espruino-tcp', source: 'src/platform/espruino/tcp.ts', espruino: 'fieldmq-espruino-tcp.min.js', moddable: '', espruinoOnly: true },
  { specifier: 'fieldmq/espruino-udp', source: 'src/platform/espruino/udp.ts', espruino: 'fieldmq-espruino-udp.min.js', moddable: '', espruinoOnly: true },
  { specifier: 'fieldmq/espruino-serial', source: 'src/platform/espruino/serial.ts', espruino: 'fieldmq-espruino-serial.min.js', moddable: '', espruinoOnly: true },
  { specifier: 'fieldmq/mqttsn-serial', source: 'src/mqttsn/serial-datagram.ts', espruino: 'fieldmq-mqttsn-serial.min.js', moddable: '', espruinoOnly: true },
];

/**
 * Profiles of the full clients with compile-time switches off. No bundle
 * ships them since the lean clients took the 3.1.1 and MQTT-SN bundles, but
 * the switches stay for custom builds (`src/flags.ts`), so the tests build
 * these and run them (test/build/client-bundles.test.ts).
 */
export const SWITCH_PROFILES: readonly EntrySpec[] = [
  {
    specifier: 'fieldmq/test-mqttclient-311',
    source: 'src/mqtt/client.ts',
    espruino: 'test-mqttclient-311.min.js',
    moddable: 'test-mqttclient-311',
    off: ['FIELDMQ_MQTT5'],
    profile: 'MqttClient with FIELDMQ_MQTT5 off (tests only)',
    internal: MQTT_INTERNAL,
  },
  {
    specifier: 'fieldmq/test-snclient-standard',
    source: 'src/mqttsn/client.ts',
    espruino: 'test-snclient-standard.min.js',
    moddable: 'test-snclient-standard',
    off: SN_OPTIONAL,
    profile: 'SnClient with the four MQTT-SN switches off (tests only)',
    internal: SN_INTERNAL,
  },
];

/** esbuild `define` for an entry: every switch, as a constant. */
export function flagDefines(e: EntrySpec): Record<string, string> {
  const d: Record<string, string> = {};
  for (const f of Object.keys(FLAGS) as FlagName[]) d['globalThis.' + f] = e.off && e.off.includes(f) ? 'false' : 'true';
  return d;
}

/**
 * Private members are named with a trailing underscore (`this.state_`); the
 * Espruino bundles rename them to short names (esbuild `mangleProps`). Quoted
 * names (`o['x_']`) are left alone. Nothing public ends in `_`.
 */
export const MANGLE_PROPS = /_$/;

/** {@link MANGLE_PROPS} plus the entry's {@link EntrySpec.internal} names. */
export function mangleProps(e: EntrySpec): RegExp {
  return e.internal && e.internal.length > 0 ? new RegExp(`_$|^(?:${e.internal.join('|')})$`) : MANGLE_PROPS;
}

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
  /** Minified bytes each source module contributes (esbuild's `bytesInOutput`), largest first. */
  modules: { path: string; bytes: number }[];
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
  /** The bundles to build; default {@link ENTRIES} (the tests add {@link SWITCH_PROFILES}). */
  entries?: readonly EntrySpec[];
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
  const entries = options.entries ?? ENTRIES;

  const present: EntrySpec[] = [];
  const skipped: BuildResult['skipped'] = [];
  const missing = new Set<string>();
  for (const e of entries) {
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
  for (const e of entries) {
    if (present.includes(e)) continue;
    rmSync(join(espDir, e.espruino), { force: true });
    if (!e.espruinoOnly) rmSync(join(modDir, e.moddable + '.js'), { force: true });
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
      const define = flagDefines(e);
      const mod = await run({ ...common, define, entryPoints: [join(root, e.source)], format: 'esm', target: 'es2022', outfile: modFile });
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
        define,
        format: 'cjs',
        target: 'es2015',
        // Espruino runs `??` (DESIGN.md §4): keep it rather than lowering it to temporaries.
        supported: { 'nullish-coalescing': true },
        minify: true,
        mangleProps: mangleProps(e),
        mangleQuoted: false,
        outfile: espFile,
        // Class fields as constructor assignments, not Object.defineProperty
        // helpers: smaller and fewer variables on the device.
        tsconfigRaw: { compilerOptions: { useDefineForClassFields: false } },
      });

      const modText = mod.outputFiles![0].contents;
      const espText = esp.outputFiles![0].contents;
      writeFileSync(espFile, espText);
      const violations = check ? checkEspruinoSource(esp.outputFiles![0].text) : [];
      const espInfo: BundleInfo = { platform: 'espruino', specifier: e.specifier, file: espFile, bytes: espText.length, gzip: gzipSize(espText), exports, violations, modules: moduleBytes(esp) };
      if (e.espruinoOnly) return [espInfo];
      writeFileSync(modFile, modText);
      return [espInfo, { platform: 'moddable', specifier: e.specifier, file: modFile, bytes: modText.length, gzip: gzipSize(modText), exports, violations: [], modules: moduleBytes(mod) }];
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
  const mod = entries.filter((e) => !e.espruinoOnly);
  for (const e of mod) modules[e.specifier] = './' + e.moddable;
  return { modules, preload: mod.map((e) => e.specifier) };
}

/** Bytes per source module of a one-output build, largest first (the generated entry left out). */
function moduleBytes(r: esbuild.BuildResult): { path: string; bytes: number }[] {
  const out = Object.values(r.metafile!.outputs)[0];
  return Object.entries(out.inputs)
    .filter(([path]) => !path.startsWith('espruino-entry:'))
    .map(([path, v]) => ({ path, bytes: v.bytesInOutput }))
    .sort((a, b) => b.bytes - a.bytes || (a.path < b.path ? -1 : 1));
}

/** Where each Espruino bundle's bytes come from: one block per bundle, a line per module (`--modules`). */
export function formatModules(result: BuildResult): string {
  const blocks: string[] = [];
  for (const b of result.bundles) {
    if (b.platform !== 'espruino' || b.modules.length === 0) continue;
    const w = Math.max(...b.modules.map((m) => m.path.length));
    const lines = b.modules.map((m) => `  ${m.path.padEnd(w)}  ${String(m.bytes).padStart(6)}  ${((100 * m.bytes) / b.bytes).toFixed(1).padStart(5)} %`);
    blocks.push([`${relative(dirname(dirname(b.file)), b.file)} (${b.bytes} bytes):`, ...lines].join('\n'));
  }
  return blocks.join('\n\n');
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

/** An Espruino bundle larger than the size it is held to. */
export interface OverBudget {
  specifier: string;
  file: string;
  bytes: number;
  /** The size it is held to: its `limit` (or, with `strict` or no limit, its `budget`). */
  max: number;
  /** Which of the two that is. */
  kind: 'budget' | 'limit';
}

/**
 * The Espruino bundles of `result` over the size they are held to: an entry's
 * `limit` when it has one, else its `budget`; with `strict`, its `budget`
 * whatever the limit. Empty when all fit.
 */
export function overBudget(result: BuildResult, strict = false, entries: readonly EntrySpec[] = ENTRIES): OverBudget[] {
  const out: OverBudget[] = [];
  for (const b of result.bundles) {
    if (b.platform !== 'espruino') continue;
    const e = entries.find((x) => x.specifier === b.specifier);
    if (!e) continue;
    const useLimit = e.limit !== undefined && !(strict && e.budget !== undefined);
    const max = useLimit ? e.limit : e.budget;
    if (max !== undefined && b.bytes > max) out.push({ specifier: b.specifier, file: b.file, bytes: b.bytes, max, kind: useLimit ? 'limit' : 'budget' });
  }
  return out;
}

/** One line per profiled entry: what its bundle contains. */
export function formatProfiles(result: BuildResult): string {
  const lines: string[] = [];
  for (const e of ENTRIES) {
    if (!e.profile || !result.bundles.some((b) => b.specifier === e.specifier)) continue;
    lines.push(`${e.espruino}: ${e.profile}`);
  }
  return lines.join('\n');
}

/** The size table printed by the CLI. */
export function formatTable(result: BuildResult, root: string = ROOT): string {
  const rows = result.bundles.map((b) => {
    const e = b.platform === 'espruino' ? ENTRIES.find((x) => x.specifier === b.specifier) : undefined;
    const budget = e ? e.budget : undefined;
    const limit = e ? e.limit : undefined;
    return [
      relative(root, b.file),
      String(b.bytes),
      String(b.gzip),
      b.platform === 'espruino' ? (b.violations.length === 0 ? 'ok' : `${b.violations.length} violation(s)`) : '-',
      budget === undefined ? '' : b.bytes <= budget ? `${budget} ok` : `${budget} OVER by ${b.bytes - budget}`,
      limit === undefined ? '' : b.bytes <= limit ? `${limit} ok` : `${limit} OVER by ${b.bytes - limit}`,
    ];
  });
  const head = ['bundle', 'bytes', 'gzip', 'espruino check', 'budget (issue #3)', 'limit (enforced)'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (r: string[]): string =>
    r.map((c, i) => (i === 1 || i === 2 ? c.padStart(widths[i]) : c.padEnd(widths[i]))).join('  ').trimEnd();
  return [line(head), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

async function main(argv: string[]): Promise<number> {
  let outDir: string | undefined;
  let root = ROOT;
  let check = true;
  let strict = false;
  let modules = false;
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--out' && i + 1 < argv.length) outDir = resolve(argv[++i]);
    else if (argv[i] === '--root' && i + 1 < argv.length) root = resolve(argv[++i]);
    else if (argv[i] === '--no-check') check = false;
    else if (argv[i] === '--strict-budgets') strict = true;
    else if (argv[i] === '--modules') modules = true;
    else {
      console.error(`build: unknown argument ${argv[i]} (usage: tsx scripts/build.ts [--root dir] [--out dir] [--no-check] [--strict-budgets] [--modules])`);
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
  const profiles = formatProfiles(result);
  if (profiles) console.log(profiles);
  if (modules) console.log(formatModules(result));
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
  const over = overBudget(result, strict);
  for (const o of over) console.error(`build: ${relative(root, o.file)} is ${o.bytes} bytes, over its ${o.kind} of ${o.max} by ${o.bytes - o.max}`);
  if (over.length > 0) return 1;
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
