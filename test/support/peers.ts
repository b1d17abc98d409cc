/**
 * Shared helpers for tests that need a real peer (a broker binary, `openssl`,
 * the XS engine): the policy for a missing peer, free ports, and event waits
 * with deadlines.
 *
 * Policy (one place, so every suite behaves the same): when a peer is
 * missing, a CI run (`process.env.CI === 'true'`) fails — a green CI must
 * mean the interop tests ran — and a local run skips the suite with a loud
 * warning saying what is missing and how to get it.
 */
import { accessSync, constants } from 'node:fs';
import net from 'node:net';
import { delimiter, join } from 'node:path';

/** Thrown (at suite collection) when a required peer is missing on CI. */
export class MissingPeerError extends Error {
  override name = 'MissingPeerError';
}

/**
 * Decides whether a suite that needs peer `name` runs.
 *
 * @param name - what the suite needs, e.g. `'mosquitto'`.
 * @param available - whether it was found.
 * @param reason - why it is missing and how to install it (printed / thrown).
 * @returns `true` when the peer is there; `false` (after a console warning)
 *   when it is missing on a local run.
 * @throws {@link MissingPeerError} when it is missing and `CI=true`.
 *
 * @example
 * ```ts
 * const run = requirePeer('mosquitto', mosquittoPath() !== null, 'install mosquitto (apt-get install mosquitto)');
 * describe.skipIf(!run)('against mosquitto', () => { ... });
 * ```
 */
export function requirePeer(name: string, available: boolean, reason: string): boolean {
  if (available) return true;
  const text = `peer "${name}" is not available: ${reason}`;
  if (process.env.CI === 'true') throw new MissingPeerError(`${text} (CI=true: interop suites may not be skipped)`);
  const bar = '!'.repeat(Math.min(100, text.length + 12));
  console.warn(`\n${bar}\n!!! SKIPPED: ${text}\n${bar}\n`);
  return false;
}

/**
 * Finds an executable by name on `PATH`, then in `extraDirs` (e.g.
 * `/usr/sbin`, which is often not on a user's `PATH`). Returns the absolute
 * path or `null`.
 */
export function findExecutable(name: string, extraDirs: readonly string[] = []): string | null {
  const dirs = (process.env.PATH ?? '').split(delimiter).filter((d) => d.length > 0).concat(extraDirs);
  for (const d of dirs) {
    const p = join(d, name);
    try {
      accessSync(p, constants.X_OK);
      return p;
    } catch {
      // not here
    }
  }
  return null;
}

/**
 * A TCP port that was free a moment ago on `host`: binds a server to port 0,
 * reads the port the OS chose and closes the server. Another process may take
 * it before the caller binds it, so callers retry with a new port on
 * `EADDRINUSE`.
 */
export function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.once('error', reject);
    srv.listen(0, host, () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr !== null ? addr.port : 0;
      srv.close(() => (port > 0 ? resolve(port) : reject(new Error('could not read the bound port'))));
    });
  });
}

/**
 * Waits until `check()` returns a value other than `undefined`, re-checking
 * whenever `subscribe`'s callback fires (an event: a log line, a socket
 * message, a file change). Rejects after `timeoutMs` with `what` and, when
 * given, `diagnostics()` in the message. Nothing here sleeps: the deadline is
 * the only timer.
 *
 * @param subscribe - registers a "something changed" callback; returns an
 *   unsubscribe function.
 */
export function waitFor<T>(
  what: string,
  check: () => T | undefined,
  subscribe: (changed: () => void) => () => void,
  timeoutMs: number,
  diagnostics?: () => string,
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    let done = false;
    let unsubscribe: () => void = () => {};
    const finish = (err: Error | null, value?: T): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      unsubscribe();
      if (err) reject(err);
      else resolve(value as T);
    };
    const test = (): void => {
      if (done) return;
      try {
        const v = check();
        if (v !== undefined) finish(null, v);
      } catch (e) {
        finish(e as Error);
      }
    };
    const timer = setTimeout(() => {
      const extra = diagnostics ? '\n' + diagnostics() : '';
      finish(new Error(`timed out after ${timeoutMs} ms waiting for ${what}${extra}`));
    }, timeoutMs);
    unsubscribe = subscribe(test);
    test();
  });
}

/**
 * Resolves with the first of `emitter`'s `event` (its first argument), or
 * rejects on `error` or after `timeoutMs`.
 */
export function once<T = unknown>(
  emitter: NodeJS.EventEmitter,
  event: string,
  timeoutMs: number,
  what = `"${event}"`,
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const onEvent = (v: T): void => {
      cleanup();
      resolve(v);
    };
    const onError = (e: Error): void => {
      cleanup();
      reject(e);
    };
    const timer = setTimeout(() => {
      cleanup();
      reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`));
    }, timeoutMs);
    const cleanup = (): void => {
      clearTimeout(timer);
      emitter.off(event, onEvent);
      if (event !== 'error') emitter.off('error', onError);
    };
    emitter.on(event, onEvent);
    if (event !== 'error') emitter.on('error', onError);
  });
}
