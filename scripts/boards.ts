/**
 * Board profiles (hardware/boards.json): what each board loads and how much of its memory the
 * lean client takes with the profile's options.
 *
 * - **Code**: the minified Espruino bundles the board loads (client, adapter, framing), from a
 *   fresh build.
 * - **Client buffers**: the typed arrays the lean client allocates with the profile's options,
 *   counted by running the built bundle with counting typed-array constructors (measured).
 * - **Espruino** (an estimate from Espruino's storage rules; no board here to measure on): a
 *   typed array of n bytes takes 3 + ceil(n / varBytes) variables (the view, its ArrayBuffer,
 *   a flat string header and the data). Code uploaded to RAM is held as flat strings, once for
 *   the module's functions and once more for the closures each client instance creates
 *   (Espruino copies a function's text whenever it creates the function), so it takes
 *   2 × ceil(bytes / varBytes) variables; code saved to flash (Web IDE "Save on Send: Direct to
 *   flash") stays in flash. The profile fits when the estimate is at most half the board's
 *   variables: the other half is the application's, the network stack's and the objects this
 *   estimate leaves out.
 * - **Moddable** (measured in the real XS engine): the code is preloaded into flash; the
 *   client's objects and closures are slots (16 bytes each on a 32-bit MCU), counted by xsnap
 *   after a full GC; its buffers are chunk bytes. It fits when each is at most half the heap.
 *
 * `npx tsx scripts/boards.ts` prints the table; `--write` puts it into hardware/README.md
 * (between the `boards:begin` / `boards:end` markers); `--check` exits 1 when README's table is
 * not the current one.
 */
import { fork } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import vm from 'node:vm';
import * as esbuild from 'esbuild';
import { ROOT, build, type BundleInfo } from './build';

/** Options of the lean MQTT 3.1.1 client a profile sets (`createMqttLite`). */
export interface MqttProfile {
  maxPacketSize: number;
  queueSize: number;
  maxInflight: number;
  maxInbound: number;
  maxSubscriptions: number;
  keepAlive: number;
}

/** Options of the lean MQTT-SN client a profile sets (`createSnLite`). */
export interface SnProfile {
  packetSize: number;
  maxInflight: number;
  maxTopics: number;
  maxSubscriptions: number;
  keepAlive: number;
}

/** One board profile of hardware/boards.json. */
export interface Board {
  id: string;
  name: string;
  runtime: 'espruino' | 'moddable';
  /**
   * `lean` (`createMqttLite`, `createSnLite`): the smallest code, where code sits in RAM or its
   * size counts (Espruino). `full` (`MqttClient`, `SnClient`): where code is preloaded into flash
   * and only objects take RAM (Moddable): their instances hold about a quarter of the lean
   * clients' slots, since a lean client's methods are closures made per instance.
   */
  client: 'lean' | 'full';
  mcu: string;
  /** Espruino: JavaScript variables and bytes per variable; where the code is saved. */
  jsVars?: number;
  varBytes?: number;
  upload?: 'ram' | 'flash';
  /** Moddable: XS heap slots and chunk bytes, or one static block for both. */
  xsSlots?: number;
  xsChunkBytes?: number;
  xsStaticBytes?: number;
  link: { kind: 'serial' | 'wifi'; what: string; mtu: number };
  /** Espruino UDP adapter options (`EspruinoUdpTransport`: `maxDatagram` default 256) where the profile needs more. */
  udp?: { maxDatagram: number };
  mqtt?: MqttProfile;
  mqttsn?: SnProfile;
  sources: string[];
}

export const BOARDS_FILE = join(ROOT, 'hardware/boards.json');
export const README_FILE = join(ROOT, 'hardware/README.md');
const BEGIN = '<!-- boards:begin (npx tsx scripts/boards.ts --write) -->';
const END = '<!-- boards:end -->';

export function loadBoards(file = BOARDS_FILE): Board[] {
  return (JSON.parse(readFileSync(file, 'utf8')) as { boards: Board[] }).boards;
}

/** The bundles a board loads for `protocol`: the lean client, then its transport. */
export function boardBundles(b: Board, protocol: 'mqtt' | 'mqttsn'): string[] {
  if (b.client === 'full') return [protocol === 'mqtt' ? 'fieldmq/mqtt5-client' : 'fieldmq/mqttsn-client-full'];
  if (protocol === 'mqtt') return ['fieldmq/mqtt311-client', 'fieldmq/espruino-tcp'];
  return b.link.kind === 'serial' ? ['fieldmq/mqttsn-client', 'fieldmq/espruino-serial', 'fieldmq/mqttsn-serial'] : ['fieldmq/mqttsn-client', 'fieldmq/espruino-udp'];
}

const IDLE_TRANSPORT = `{ onReadable: null, onWritable: null, open: function () { return 0; }, close: function () {}, state: function () { return 0; },
  send: function () { return 0; }, recv: function () { return 0; }, sendTo: function () { return 0; }, from: function () { return 0; } }`;

/** The client-building expression for `protocol` with the profile's options, `T` the transport. */
function makeExpr(mod: string, client: 'lean' | 'full', protocol: 'mqtt' | 'mqttsn', o: object): string {
  const opts = JSON.stringify(o).slice(1, -1);
  const make = client === 'full' ? (protocol === 'mqtt' ? `new ${mod}.MqttClient` : `new ${mod}.SnClient`) : protocol === 'mqtt' ? `${mod}.createMqttLite` : `${mod}.createSnLite`;
  return protocol === 'mqtt' ? `${make}({ transport: T, clientId: 'board', ${opts} })` : `${make}({ transport: T, clientId: 'board', gateway: 0, ${opts} })`;
}

/**
 * Byte lengths of the typed arrays the lean client in `bundle` (an Espruino client bundle's
 * text) allocates when built with `options`: the bundle runs in a fresh context whose typed-array
 * constructors record every array made with a length.
 */
export function measureBuffers(bundle: string, client: 'lean' | 'full', protocol: 'mqtt' | 'mqttsn', options: object): number[] {
  const ctx = vm.createContext({});
  vm.runInContext(
    `var sizes = [];
    ['Uint8Array', 'Int16Array', 'Uint16Array', 'Int32Array', 'Uint32Array'].forEach(function (n) {
      var B = globalThis[n];
      globalThis[n] = class extends B {
        constructor(a, b, c) { super(a, b, c); if (typeof a === 'number') sizes.push(this.byteLength); }
      };
    });
    var module = { exports: {} };`,
    ctx,
  );
  // Only what building the client allocates: nothing the module makes while it loads.
  vm.runInContext(`(function (module, exports) {${bundle}\n})(module, module.exports); var T = ${IDLE_TRANSPORT}; sizes.length = 0;`, ctx);
  vm.runInContext(`var C = ${makeExpr('module.exports', client, protocol, options)};`, ctx);
  return (vm.runInContext('sizes', ctx) as number[]).slice();
}

/** The client module of `protocol` as an IIFE defining `globalThis.fq`, for XS. */
async function xsModule(client: 'lean' | 'full', protocol: 'mqtt' | 'mqttsn'): Promise<string> {
  const file = client === 'full' ? (protocol === 'mqtt' ? 'src/mqtt/client.ts' : 'src/mqttsn/client.ts') : protocol === 'mqtt' ? 'src/mqtt/lite.ts' : 'src/mqttsn/lite.ts';
  const r = await esbuild.build({
    entryPoints: [join(ROOT, file)],
    bundle: true,
    write: false,
    format: 'iife',
    globalName: 'fq',
    target: 'es2022',
    platform: 'neutral',
    logLevel: 'silent',
  });
  return r.outputFiles[0]!.text + '\nglobalThis.fq = fq;\n';
}

/** Live XS slots one client built with `options` holds, measured in xsnap (scripts/xs-slots.mjs). */
export async function xsSlots(client: 'lean' | 'full', protocol: 'mqtt' | 'mqttsn', options: object): Promise<number> {
  const code = await xsModule(client, protocol);
  const child = fork(join(ROOT, 'scripts/xs-slots.mjs'), [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const reply = await new Promise<{ slots?: number; error?: string }>((res, rej) => {
    child.once('message', (m) => res(m as { slots?: number; error?: string }));
    child.once('error', rej);
    child.once('exit', (code) => res({ error: `xs-slots exited with ${code} before answering` }));
    child.send({ code, make: makeExpr('fq', client, protocol, options) });
  });
  if (reply.error !== undefined || reply.slots === undefined) throw new Error(`XS slot count failed: ${reply.error}`);
  return reply.slots;
}

/** How much of a board one lean client takes. */
export interface Footprint {
  board: Board;
  protocol: 'mqtt' | 'mqttsn';
  /** The Espruino bundles the board loads, and their total size. */
  bundles: string[];
  codeBytes: number;
  /** Client buffers (typed arrays), bytes each and in all. */
  buffers: number[];
  bufferBytes: number;
  /** Espruino: estimated variables (code, buffers), and the half of the board's that is the limit. */
  codeVars?: number;
  bufferVars?: number;
  vars?: number;
  varLimit?: number;
  /** Moddable: measured slots; limits (half the heap) of slots and of chunk bytes, or of the static block. */
  slots?: number;
  slotLimit?: number;
  chunkLimit?: number;
  staticLimit?: number;
  fits: boolean;
}

/** Computes the footprint of `protocol` on `b` from a build's bundles (`slots`: measured XS slots for a Moddable board). */
export function footprint(b: Board, protocol: 'mqtt' | 'mqttsn', bundles: BundleInfo[], slots?: number): Footprint {
  const options = (protocol === 'mqtt' ? b.mqtt : b.mqttsn)!;
  const names = boardBundles(b, protocol);
  const files = names.map((s) => {
    const x = bundles.find((y) => y.platform === 'espruino' && y.specifier === s);
    if (!x) throw new Error(`${s} is not in the build`);
    return x;
  });
  const codeBytes = files.reduce((n, x) => n + x.bytes, 0);
  const buffers = measureBuffers(readFileSync(files[0]!.file, 'utf8'), b.client, protocol, options);
  const bufferBytes = buffers.reduce((n, x) => n + x, 0);
  const f: Footprint = { board: b, protocol, bundles: names, codeBytes, buffers, bufferBytes, fits: false };
  if (b.runtime === 'espruino') {
    const vb = b.varBytes!;
    f.codeVars = b.upload === 'flash' ? 0 : files.reduce((n, x) => n + 2 * Math.ceil(x.bytes / vb), 0);
    f.bufferVars = buffers.reduce((n, x) => n + 3 + Math.ceil(x / vb), 0);
    f.vars = f.codeVars + f.bufferVars;
    f.varLimit = Math.floor(b.jsVars! / 2);
    f.fits = f.vars <= f.varLimit;
  } else {
    f.slots = slots;
    if (slots === undefined) throw new Error(`${b.id}: a Moddable board needs its measured XS slots`);
    if (b.xsStaticBytes !== undefined) {
      f.staticLimit = Math.floor(b.xsStaticBytes / 2);
      f.fits = slots * 16 + bufferBytes <= f.staticLimit;
    } else {
      f.slotLimit = Math.floor(b.xsSlots! / 2);
      f.chunkLimit = Math.floor(b.xsChunkBytes! / 2);
      f.fits = slots <= f.slotLimit && bufferBytes <= f.chunkLimit;
    }
  }
  return f;
}

/** Every profile's footprint, from a fresh build into a temporary directory (and xsnap for Moddable boards). */
export async function allFootprints(boards = loadBoards()): Promise<Footprint[]> {
  const dir = mkdtempSync(join(tmpdir(), 'fieldmq-boards-'));
  try {
    const r = await build({ outDir: dir, log: () => {} });
    const out: Footprint[] = [];
    for (const b of boards) {
      for (const p of ['mqtt', 'mqttsn'] as const) {
        const o = p === 'mqtt' ? b.mqtt : b.mqttsn;
        if (!o) continue;
        out.push(footprint(b, p, r.bundles, b.runtime === 'moddable' ? await xsSlots(b.client, p, o) : undefined));
      }
    }
    return out;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function kb(n: number): string {
  return (n / 1024).toFixed(1) + ' KB';
}

/** The profile table for hardware/README.md. */
export function boardsTable(fs: Footprint[]): string {
  const rows = fs.map((f) => {
    const b = f.board;
    const o = (f.protocol === 'mqtt' ? b.mqtt : b.mqttsn)! as unknown as Record<string, number>;
    const opts =
      Object.keys(o)
        .map((k) => `${k} ${o[k]}`)
        .join(', ') + (f.protocol === 'mqttsn' && b.udp ? `; UDP adapter maxDatagram ${b.udp.maxDatagram}` : '');
    const client = (f.protocol === 'mqtt' ? 'MQTT 3.1.1' : 'MQTT-SN') + (b.client === 'full' ? (f.protocol === 'mqtt' ? ' (`MqttClient`)' : ' (`SnClient`)') : f.protocol === 'mqtt' ? ' (`createMqttLite`)' : ' (`createSnLite`)');
    const code = b.runtime === 'espruino' ? `${kb(f.codeBytes)}, ${b.upload === 'flash' ? 'saved to flash' : 'uploaded to RAM'}` : 'preloaded into flash';
    const mtu = f.protocol === 'mqttsn' ? String(b.link.mtu) : 'TCP';
    const mem =
      b.runtime === 'espruino'
        ? `about ${f.vars} of ${b.jsVars} variables (code ${f.codeVars}, buffers ${f.bufferVars}); limit ${f.varLimit}`
        : f.staticLimit !== undefined
          ? `${f.slots} slots (${kb(f.slots! * 16)}) + ${kb(f.bufferBytes)} buffers of the ${kb(b.xsStaticBytes!)} static heap; limit ${kb(f.staticLimit)}`
          : `${f.slots} of ${b.xsSlots} slots, ${kb(f.bufferBytes)} of ${kb(b.xsChunkBytes!)} chunks; limits ${f.slotLimit} slots, ${kb(f.chunkLimit!)}`;
    return `| ${b.name} | ${client} | ${mtu} | ${opts} | ${code} | ${f.bufferBytes} | ${mem} | ${f.fits ? 'yes' : '**no**'} |`;
  });
  return [
    '| board | client | link MTU | options | code | client buffers (bytes) | memory | fits |',
    '| --- | --- | ---: | --- | --- | ---: | --- | --- |',
    ...rows,
  ].join('\n');
}

/** hardware/README.md with `table` between the markers. */
export function withTable(readme: string, table: string): string {
  const a = readme.indexOf(BEGIN);
  const z = readme.indexOf(END);
  if (a < 0 || z < a) throw new Error(`hardware/README.md has no ${BEGIN} ... ${END} section`);
  return readme.slice(0, a + BEGIN.length) + '\n' + table + '\n' + readme.slice(z);
}

async function main(args: string[]): Promise<number> {
  const table = boardsTable(await allFootprints());
  if (!args.includes('--write') && !args.includes('--check')) {
    console.log(table);
    return 0;
  }
  const readme = readFileSync(README_FILE, 'utf8');
  const next = withTable(readme, table);
  if (args.includes('--write')) {
    writeFileSync(README_FILE, next);
    console.log('hardware/README.md: board table written');
  } else if (args.includes('--check')) {
    if (next !== readme) {
      console.error('hardware/README.md: the board table is not current; run npx tsx scripts/boards.ts --write');
      return 1;
    }
    console.log('hardware/README.md: the board table is current');
  }
  return 0;
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (e: unknown) => {
      console.error(e instanceof Error ? e.message : e);
      process.exit(1);
    },
  );
}
