/**
 * Bundle size budgets (issue #3): every client bundle stays within the size it
 * is held to, the build says so, and the build fails when one does not.
 *
 * An entry with only a `budget` is held to it; an entry whose budget is not
 * met yet also has a `limit` (today's size plus a little room), which is what
 * is enforced until the budget is met; `--strict-budgets` enforces the budget
 * itself. See "Bundle sizes" in the README.
 */
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ENTRIES, SWITCH_PROFILES, flagDefines, formatTable, overBudget, type BuildResult } from '../../scripts/build';
import { buildToTemp, type TempBuild } from './helpers';

const ROOT = join(__dirname, '../..');
const TSX = join(ROOT, 'node_modules/.bin/tsx');

let b: TempBuild;
beforeAll(async () => {
  b = await buildToTemp();
});
afterAll(() => b?.dispose());

describe('client bundles › sizes', () => {
  it('every budgeted or limited bundle is within the size it is held to', () => {
    expect(overBudget(b.result)).toEqual([]);
  });

  it('issue #3: the MQTT 3.1.1, MQTT 5 and MQTT-SN client bundles carry the 6, 10 and 4 KB budgets', () => {
    const budget = (s: string) => ENTRIES.find((e) => e.specifier === s)!.budget;
    expect([budget('fieldmq/mqtt311-client'), budget('fieldmq/mqtt5-client'), budget('fieldmq/mqttsn-client')]).toEqual([6144, 10240, 4096]);
  });

  it('a limit is only ever a stopgap above a budget not met yet: never below the bundle, never below its budget', () => {
    for (const e of ENTRIES) {
      if (e.limit === undefined) continue;
      const x = b.result.bundles.find((y) => y.platform === 'espruino' && y.specifier === e.specifier)!;
      if (e.budget !== undefined) expect(e.limit, e.specifier).toBeGreaterThan(e.budget);
      // A limit far above the bundle would let it grow unnoticed: keep it within 5 %.
      expect(e.limit, `${e.specifier}: lower its limit to about ${Math.ceil((x.bytes * 1.02) / 256) * 256}`).toBeLessThanOrEqual(x.bytes * 1.05 + 256);
    }
  });

  it('the table shows each budget and limit and whether the bundle meets it', () => {
    const table = formatTable(b.result, b.dir);
    for (const e of ENTRIES) {
      if (e.budget === undefined) continue;
      const line = table.split('\n').find((l) => l.startsWith(`espruino/${e.espruino} `))!;
      expect(line, e.espruino).toMatch(new RegExp(`\\s${e.budget} (ok|OVER by \\d+)`));
      if (e.limit !== undefined) expect(line).toMatch(new RegExp(`\\s${e.limit} ok$`));
    }
  });

  it('the profiles switch off what they say, and only that', () => {
    // The shipped bundles all have every switch on: the 3.1.1 and MQTT-SN bundles are the lean
    // clients, which have no switches. The profiles with switches off are built by the tests.
    for (const e of ENTRIES) expect(Object.values(flagDefines(e)), e.specifier).toEqual(['true', 'true', 'true', 'true', 'true']);
    expect(flagDefines(SWITCH_PROFILES.find((e) => e.specifier === 'fieldmq/test-snclient-standard')!)).toEqual({
      'globalThis.FIELDMQ_MQTT5': 'true',
      'globalThis.FIELDMQ_SN_QOS2': 'false',
      'globalThis.FIELDMQ_SN_SLEEP': 'false',
      'globalThis.FIELDMQ_SN_DISCOVERY': 'false',
      'globalThis.FIELDMQ_SN_WILL': 'false',
    });
    expect(Object.values(flagDefines(SWITCH_PROFILES.find((e) => e.specifier === 'fieldmq/test-mqttclient-311')!))).toEqual(['false', 'true', 'true', 'true', 'true']);
  });
});

describe('overBudget', () => {
  const result = (bytes: number): BuildResult => ({
    bundles: [{ platform: 'espruino', specifier: 'x', file: '/x.js', bytes, gzip: 1, exports: [], violations: [], modules: [] }],
    skipped: [],
    manifest: '',
    ms: 0,
  });
  const entry = { specifier: 'x', source: 'x.ts', espruino: 'x.js', moddable: 'x' };

  it('holds a bundle to its budget when it has no limit', () => {
    const entries = [{ ...entry, budget: 100 }];
    expect(overBudget(result(100), false, entries)).toEqual([]);
    expect(overBudget(result(101), false, entries)).toEqual([{ specifier: 'x', file: '/x.js', bytes: 101, max: 100, kind: 'budget' }]);
  });

  it('holds it to its limit while it has one, and to its budget when strict', () => {
    const entries = [{ ...entry, budget: 100, limit: 150 }];
    expect(overBudget(result(120), false, entries)).toEqual([]);
    expect(overBudget(result(151), false, entries)).toEqual([{ specifier: 'x', file: '/x.js', bytes: 151, max: 150, kind: 'limit' }]);
    expect(overBudget(result(120), true, entries)).toEqual([{ specifier: 'x', file: '/x.js', bytes: 120, max: 100, kind: 'budget' }]);
  });
});

describe('build CLI › budgets', () => {
  let tmp: string | undefined;
  afterEach(() => {
    if (tmp) rmSync(tmp, { recursive: true, force: true });
    tmp = undefined;
  });

  /** A scratch repository whose MQTT-SN "client" is `bytes` of incompressible code. */
  function rootWithClientOf(bytes: number): string {
    tmp = mkdtempSync(join(tmpdir(), 'fieldmq-budget-'));
    cpSync(join(ROOT, 'src/core'), join(tmp, 'src/core'), { recursive: true });
    const files: Record<string, string> = {
      'index.ts': "export * from './core';\n",
      'mqttsn/lite.ts': `export const blob = ${JSON.stringify('x'.repeat(bytes))};\n`,
    };
    for (const [name, text] of Object.entries(files)) {
      const p = join(tmp, 'src', name);
      mkdirSync(dirname(p), { recursive: true });
      writeFileSync(p, text);
    }
    return tmp;
  }
  const cli = (...args: string[]) => spawnSync(TSX, [join(ROOT, 'scripts/build.ts'), ...args], { encoding: 'utf8' });
  const snLimit = ENTRIES.find((e) => e.specifier === 'fieldmq/mqttsn-client')!.limit!;

  it('exits 1 when a client bundle is over the size it is held to, naming it', () => {
    const r = cli('--root', rootWithClientOf(20_000));
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(new RegExp(`fieldmq-mqttsn-client\\.min\\.js is \\d+ bytes, over its limit of ${snLimit} by \\d+`));
  });

  it('exits 0 under the limit, and 1 with --strict-budgets when over the issue #3 budget', () => {
    const root = rootWithClientOf(6000);
    const r = cli('--root', root);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`fieldmq-mqttsn-client\\.min\\.js\\s+\\d+\\s+\\d+\\s+ok\\s+4096 OVER by \\d+\\s+${snLimit} ok`));
    const s = cli('--root', root, '--strict-budgets');
    expect(s.status).toBe(1);
    expect(s.stderr).toMatch(/fieldmq-mqttsn-client\.min\.js is \d+ bytes, over its budget of 4096 by \d+/);
  });
});
