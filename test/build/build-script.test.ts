import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { BuildError, build, formatTable, moddableManifest, ENTRIES } from '../../scripts/build';

const ROOT = join(__dirname, '../..');
const TSX = join(ROOT, 'node_modules/.bin/tsx');

let tmp: string | undefined;
afterEach(() => {
  if (tmp) rmSync(tmp, { recursive: true, force: true });
  tmp = undefined;
});

/** A scratch repository: the real src/core plus the given files under src/. */
function scratchRoot(files: Record<string, string>): string {
  tmp = mkdtempSync(join(tmpdir(), 'fieldmq-root-'));
  cpSync(join(ROOT, 'src/core'), join(tmp, 'src/core'), { recursive: true });
  for (const [name, text] of Object.entries(files)) {
    const p = join(tmp, 'src', name);
    mkdirSync(dirname(p), { recursive: true });
    writeFileSync(p, text);
  }
  return tmp;
}

const INDEX = "export * from './core';\nexport * from './mqtt';\nexport * from './mqttsn';\n";

/** The client bundles (issue #3), one per profile. */
const CLIENTS = ['fieldmq/mqtt311-client', 'fieldmq/mqtt5-client', 'fieldmq/mqttsn-client', 'fieldmq/mqttsn-client-full'];
/** The Espruino adapter bundles (no Moddable bundle), and MQTT-SN framing for a serial line. */
const ADAPTERS = ['fieldmq/espruino-tcp', 'fieldmq/espruino-udp', 'fieldmq/espruino-serial', 'fieldmq/mqttsn-serial'];

describe('build() › missing protocol entries', () => {
  it('skips them with a note and still builds src/index.ts without them', async () => {
    const root = scratchRoot({ 'index.ts': INDEX });
    const notes: string[] = [];
    const r = await build({ root, log: (l) => notes.push(l) });
    expect(r.skipped.map((s) => s.specifier)).toEqual(['fieldmq/mqtt', 'fieldmq/mqttsn', ...CLIENTS, ...ADAPTERS]);
    expect(notes).toEqual([
      'note: skipping fieldmq/mqtt: src/mqtt/index.ts does not exist yet',
      'note: skipping fieldmq/mqttsn: src/mqttsn/index.ts does not exist yet',
      'note: skipping fieldmq/mqtt311-client: src/mqtt/lite.ts does not exist yet',
      'note: skipping fieldmq/mqtt5-client: src/mqtt/client.ts does not exist yet',
      'note: skipping fieldmq/mqttsn-client: src/mqttsn/lite.ts does not exist yet',
      'note: skipping fieldmq/mqttsn-client-full: src/mqttsn/client.ts does not exist yet',
      'note: skipping fieldmq/espruino-tcp: src/platform/espruino/tcp.ts does not exist yet',
      'note: skipping fieldmq/espruino-udp: src/platform/espruino/udp.ts does not exist yet',
      'note: skipping fieldmq/espruino-serial: src/platform/espruino/serial.ts does not exist yet',
      'note: skipping fieldmq/mqttsn-serial: src/mqttsn/serial-datagram.ts does not exist yet',
    ]);
    expect(r.bundles.map((b) => `${b.platform}:${b.specifier}`)).toEqual(['espruino:fieldmq', 'moddable:fieldmq']);
    expect(r.bundles[0].exports).toContain('ByteRing');
    expect(JSON.parse(readFileSync(r.manifest, 'utf8'))).toEqual({ modules: { fieldmq: './fieldmq' }, preload: ['fieldmq'] });
  });

  it('builds a protocol entry as soon as it exists', async () => {
    const root = scratchRoot({ 'index.ts': INDEX, 'mqttsn/index.ts': "export const PROTOCOL = 'MQTT-SN';\n" });
    const r = await build({ root, log: () => {} });
    expect(r.skipped.map((s) => s.specifier)).toEqual(['fieldmq/mqtt', ...CLIENTS, ...ADAPTERS]);
    const sn = r.bundles.find((b) => b.platform === 'espruino' && b.specifier === 'fieldmq/mqttsn')!;
    expect(sn.exports).toEqual(['PROTOCOL']);
    expect(readFileSync(sn.file, 'utf8')).toContain('module.exports={PROTOCOL:');
    expect(r.bundles.find((b) => b.specifier === 'fieldmq')!.exports).toContain('PROTOCOL');
  });

  it('removes stale bundles of an entry that disappeared', async () => {
    const root = scratchRoot({ 'index.ts': INDEX, 'mqtt/index.ts': 'export const A = 1;\n' });
    const first = await build({ root, log: () => {} });
    const stale = first.bundles.filter((b) => b.specifier === 'fieldmq/mqtt').map((b) => b.file);
    expect(stale.every((f) => existsSync(f))).toBe(true);
    rmSync(join(root, 'src/mqtt'), { recursive: true });
    await build({ root, log: () => {} });
    expect(stale.some((f) => existsSync(f))).toBe(false);
  });
});

describe('build() › failures', () => {
  it('rejects with a BuildError carrying esbuild messages on a syntax error', async () => {
    const root = scratchRoot({ 'index.ts': "export * from './core';\nexport const broken = ;\n" });
    const err = await build({ root, log: () => {} }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BuildError);
    expect((err as BuildError).errors.join('\n')).toMatch(/index\.ts/);
  });

  it('reports Espruino violations that esbuild leaves in the bundle', async () => {
    const root = scratchRoot({ 'index.ts': "export * from './core';\nexport function f(a = 1, ...rest: number[]) { return a + rest.length; }\n" });
    const r = await build({ root, log: () => {} });
    const rules = r.bundles.find((b) => b.platform === 'espruino')!.violations.map((v) => v.rule);
    expect(rules).toEqual(expect.arrayContaining(['default-parameter', 'rest']));
    expect(formatTable(r, root)).toMatch(/espruino\/fieldmq\.min\.js\s+\d+\s+\d+\s+2 violation\(s\)/);
  });
});

describe('build CLI', () => {
  const cli = (...args: string[]) => spawnSync(TSX, [join(ROOT, 'scripts/build.ts'), ...args], { encoding: 'utf8' });

  it('prints the size table and exits 0', () => {
    const root = scratchRoot({ 'index.ts': "export * from './core';\n" });
    const r = cli('--root', root);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/bundle\s+bytes\s+gzip/);
    expect(r.stdout).toMatch(/dist\/espruino\/fieldmq\.min\.js\s+\d+\s+\d+\s+ok/);
    expect(r.stdout).toMatch(/dist\/moddable\/fieldmq\.js\s+\d+\s+\d+/);
  });

  it('exits 1 on a build error', () => {
    const root = scratchRoot({ 'index.ts': 'export const broken = ;\n' });
    const r = cli('--root', root);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/build: esbuild failed/);
  });

  it('exits 1 when a bundle breaks an Espruino rule', () => {
    const root = scratchRoot({ 'index.ts': 'export const f = ({ a }: { a: number }) => a;\n' });
    const r = cli('--root', root);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/destructuring/);
  });
});

describe('moddableManifest', () => {
  it('maps specifiers to extension-less relative paths and preloads them', () => {
    expect(moddableManifest(ENTRIES)).toEqual({
      modules: {
        fieldmq: './fieldmq',
        'fieldmq/mqtt': './fieldmq-mqtt',
        'fieldmq/mqttsn': './fieldmq-mqttsn',
        'fieldmq/mqtt311-client': './fieldmq-mqtt311-client',
        'fieldmq/mqtt5-client': './fieldmq-mqtt5-client',
        'fieldmq/mqttsn-client': './fieldmq-mqttsn-client',
        'fieldmq/mqttsn-client-full': './fieldmq-mqttsn-client-full',
      },
      preload: ['fieldmq', 'fieldmq/mqtt', 'fieldmq/mqttsn', ...CLIENTS],
    });
  });
});
