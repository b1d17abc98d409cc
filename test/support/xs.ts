/**
 * Runs JavaScript inside the real Moddable XS engine (the `xsnap-worker`
 * binary built by @agoric/xsnap from Moddable's XS sources) with a bridged
 * TCP transport, so the SDK can be tested in the engine it ships to.
 *
 * Layout (three processes):
 *
 * ```
 * vitest (this file) ──fork/IPC──▶ node xs-runner.mjs ──pipes──▶ xsnap-worker (XS)
 *                                   @endo/init lockdown            test/xs/bridge.ts prelude
 *                                   net.Socket ◀── TCP ──▶ broker   + your bundle
 * ```
 *
 * - XS has no timers and no sockets; its only way out is the synchronous
 *   `issueCommand`. The prelude (test/xs/bridge.ts, bundled here by esbuild
 *   as an IIFE) defines `xsHost` (clock, log, done, wait), `BridgeTransport`
 *   (a fieldmq `Transport` whose I/O the runner performs on a real
 *   `net.Socket`), `BridgeTCP` (an ECMA-419 TCP socket class over the same
 *   bridge, for running the Moddable adapters in XS) and `runXsMain`.
 * - The runner is a separate Node process because xsnap needs
 *   `import '@endo/init'`, which locks down its realm.
 * - {@link runInXs} evaluates the prelude, then `bundleCode`, then calls
 *   `globalThis[entry](xsHost)` to get `{ poll(now) }` and calls `poll` with
 *   the host clock until the code calls `xsHost.done(result)` (or `poll`
 *   returns `true`). Between polls XS asks the host to wait up to 2 ms for
 *   socket activity, so the loop neither spins nor sleeps blindly.
 */
import { fork } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';
import { requirePeer } from './peers';

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = join(HERE, '../..');
const RUNNER = join(HERE, 'xs-runner.mjs');

/** Path of the `xsnap-worker` binary (release build), or `null` when @agoric/xsnap is not built. */
export function xsnapWorkerPath(): string | null {
  const p = join(ROOT, 'node_modules/@agoric/xsnap/xsnap-native/xsnap/build/bin/lin/release/xsnap-worker');
  return existsSync(p) ? p : null;
}

/** `true` when XS suites should run (the missing-peer policy of ./peers.ts: fail on CI, skip loudly elsewhere). */
export function requireXs(): boolean {
  return requirePeer(
    'xsnap (Moddable XS)',
    process.platform === 'linux' && xsnapWorkerPath() !== null,
    'the @agoric/xsnap worker binary is not built (npm ci builds it with cc/make; Linux only here)',
  );
}

let preludeCache: Promise<string> | null = null;

/** The XS-side prelude (test/xs/bridge.ts) as one IIFE. */
export function xsPrelude(): Promise<string> {
  preludeCache ??= esbuild
    .build({
      entryPoints: [join(ROOT, 'test/xs/bridge.ts')],
      bundle: true,
      write: false,
      format: 'iife',
      target: 'es2022',
      platform: 'neutral',
      logLevel: 'silent',
    })
    .then((r) => r.outputFiles[0].text);
  return preludeCache;
}

/**
 * Bundles a TypeScript/JavaScript entry for XS: ESM → IIFE, es2022, with its
 * exports on `globalThis[globalName]` (e.g. `bundleForXs('src/index.ts', 'fieldmq')`).
 */
export async function bundleForXs(entry: string, globalName: string): Promise<string> {
  const r = await esbuild.build({
    entryPoints: [join(ROOT, entry)],
    bundle: true,
    write: false,
    format: 'iife',
    globalName,
    target: 'es2022',
    platform: 'neutral',
    logLevel: 'silent',
  });
  // `var fieldmq = (() => ...)()` at the top of a script is a global in XS
  // too, but make it explicit.
  return `${r.outputFiles[0].text}\nglobalThis.${globalName} = ${globalName};\n`;
}

export interface RunInXsOptions {
  /** Where `BridgeTransport.open()` connects (the runner's real socket). */
  tcp?: { host: string; port: number };
  /** Stop the run after this long (XS's next `now()` throws; the runner is killed 5 s later); default 20 s. */
  timeoutMs?: number;
  /**
   * What XS's clock reads at its first `now()` (then it advances with the
   * host's monotonic clock, as uint32 ms); default: the runner's
   * `performance.now()`. Start near 2^32 to test the wrap.
   */
  clockStart?: number;
}

export interface RunInXsResult {
  /** `xsHost.log` / `print` lines, in order. */
  output: string[];
  /** What XS passed to `xsHost.done` (through JSON). */
  result: unknown;
  /** Commands XS issued, bytes it sent and received over the bridge. */
  stats: { commands: number; sent: number; received: number };
  /** Wall time of the whole run, ms. */
  ms: number;
}

/** Thrown when the XS code throws, never calls `done`, or runs past its deadline; `output` holds what it logged. */
export class XsRunError extends Error {
  override name = 'XsRunError';
  constructor(
    message: string,
    readonly output: string[],
  ) {
    super(message);
  }
}

/**
 * Evaluates `bundleCode` in a fresh XS worker, then drives
 * `globalThis[entry](xsHost).poll(now)` until `xsHost.done(result)`.
 *
 * @example
 * ```ts
 * const code = (await bundleForXs('src/index.ts', 'fieldmq')) + `
 *   globalThis.main = (host) => ({ poll(now) { host.log('at ' + now); host.done(42); } });`;
 * const { output, result } = await runInXs(code, 'main', {});
 * ```
 */
export async function runInXs(bundleCode: string, entry: string, opts: RunInXsOptions = {}): Promise<RunInXsResult> {
  const prelude = await xsPrelude();
  const timeoutMs = opts.timeoutMs ?? 20_000;
  const t0 = performance.now();
  const output: string[] = [];
  const child = fork(RUNNER, [], { execArgv: [], stdio: ['ignore', 'pipe', 'pipe', 'ipc'], cwd: ROOT });
  let stdio = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => (stdio += d));
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (stdio += d));
  return new Promise<RunInXsResult>((resolve, reject) => {
    let settled = false;
    const finish = (err: Error | null, value?: RunInXsResult): void => {
      if (settled) return;
      settled = true;
      clearTimeout(killer);
      if (child.connected) child.disconnect();
      if (err) {
        if (child.exitCode === null) child.kill('SIGKILL');
        reject(err);
      } else resolve(value!);
    };
    const killer = setTimeout(() => {
      finish(new XsRunError(`XS run did not finish ${timeoutMs + 5000} ms after start; killed\n${stdio}`, output));
    }, timeoutMs + 5000);
    child.on('message', (m: { type: string; text?: string; result?: unknown; message?: string; stats?: RunInXsResult['stats'] }) => {
      if (m.type === 'log') output.push(m.text ?? '');
      else if (m.type === 'done') finish(null, { output, result: m.result, stats: m.stats!, ms: performance.now() - t0 });
      else if (m.type === 'error') finish(new XsRunError(`${m.message}\n--- XS output ---\n${output.join('\n')}\n${stdio}`, output), undefined);
    });
    // 'close' (not 'exit'): it comes after the IPC channel and stdio are
    // drained, so a final 'done' message is never overtaken.
    child.on('close', (code, signal) => {
      finish(new XsRunError(`xs-runner exited (code ${code}, signal ${signal}) before reporting\n${stdio}`, output));
    });
    child.send({ prelude, code: bundleCode, entry, tcp: opts.tcp, deadlineMs: timeoutMs, clockStart: opts.clockStart ?? null });
  });
}
