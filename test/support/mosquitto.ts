/**
 * A private Eclipse Mosquitto broker per test suite: its own config, port and
 * persistence directory in a temp dir, started and stopped by the test.
 *
 * The generated `mosquitto.conf` (see mosquitto.conf(5) for every option):
 *
 * ```
 * listener <port> 127.0.0.1        # "Listeners": one TCP listener, loopback only
 * allow_anonymous true             # 2.0 defaults to false once a listener is set
 * persistence true                 # "General Options": keep sessions, subscriptions,
 * persistence_location <dir>/      #   queued QoS 1/2 messages in <dir>/mosquitto.db
 * autosave_on_changes true         # save after `autosave_interval` *changes* ...
 * autosave_interval 1              # ... i.e. after every change
 * set_tcp_nodelay true
 * log_dest stderr                  # captured for failure messages and waits
 * log_type error / warning / notice / information
 * user <current user>              # when run as root, do not drop to "mosquitto"
 * ```
 *
 * Why this persistence setup: Mosquitto writes its database only on
 * autosave and on a clean shutdown, never per message. With
 * `autosave_on_changes true` and `autosave_interval 1` it saves after every
 * subscription change, retained message and queued message, at the end of the
 * network-loop pass that made the change. It logs `Saving in-memory database
 * to <file>.` *before* writing, so a test that is about to `kill()` the broker
 * (SIGKILL: no shutdown save) must wait until the file really holds what it
 * needs: {@link MosquittoBroker.waitForPersisted} re-reads the database after
 * each save line and each change in the directory until it contains the
 * needle. The queued message's payload is stored raw in the file, so the
 * payload is a good needle.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, watch, writeFileSync, type FSWatcher } from 'node:fs';
import net from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { findExecutable, freePort, requirePeer, waitFor } from './peers';

export { requirePeer } from './peers';

/** Where the broker binary is looked for besides `PATH` (Debian installs it in /usr/sbin). */
const EXTRA_DIRS = ['/usr/sbin', '/usr/local/sbin'];

/** Keep at most this much of the broker's stderr (the tail is what explains failures). */
const MAX_LOG = 256 * 1024;

/** Absolute path of the `mosquitto` binary, or `null` when it is not installed. */
export function mosquittoPath(): string | null {
  return findExecutable('mosquitto', EXTRA_DIRS);
}

/**
 * `true` when suites needing Mosquitto should run; see
 * {@link requirePeer} for the missing-peer policy (fail on CI, skip loudly
 * elsewhere).
 */
export function requireMosquitto(): boolean {
  return requirePeer(
    'mosquitto',
    mosquittoPath() !== null,
    'no mosquitto binary on PATH or in /usr/sbin; install it (Debian/Ubuntu: apt-get install mosquitto)',
  );
}

export interface MosquittoOptions {
  /**
   * Extra `mosquitto.conf` lines, appended after the generated ones (e.g.
   * `max_queued_messages 10`, or a second `listener` with TLS options).
   */
  config?: string;
  /** Deadline for the broker to accept TCP connections after a (re)start; default 10 s. */
  readyTimeoutMs?: number;
}

/** A running (or killed, restartable) private Mosquitto. */
export interface MosquittoBroker {
  /** Always `127.0.0.1`. */
  readonly host: string;
  /** The listener port; the same across {@link MosquittoBroker.restart}. */
  readonly port: number;
  /** The temp directory holding the config and the persistence database. */
  readonly dir: string;
  /** `<dir>/mosquitto.db`. */
  readonly dbFile: string;
  /** `mqtt://127.0.0.1:<port>`. */
  readonly url: string;
  /** Graceful stop (SIGTERM: Mosquitto saves its database), then deletes {@link MosquittoBroker.dir}. Idempotent. */
  stop(): Promise<void>;
  /** SIGKILL: ungraceful, no shutdown save. Keeps the directory, so {@link MosquittoBroker.restart} can follow. */
  kill(): Promise<void>;
  /**
   * Starts the broker again on the same port with the same persistence (after
   * {@link MosquittoBroker.kill}, or gracefully stopping a running one first).
   */
  restart(): Promise<void>;
  /** All captured stderr so far (every run of this broker, tail-truncated at 256 KB). */
  log(): string;
  /**
   * Waits for a stderr line matching `pattern` that arrives after character
   * offset `from` of {@link MosquittoBroker.log} (default: anywhere).
   */
  waitForLog(pattern: RegExp, opts?: { from?: number; timeoutMs?: number }): Promise<string>;
  /** Waits until the persistence database contains `needle` (see the file header). */
  waitForPersisted(needle: string | Uint8Array, timeoutMs?: number): Promise<void>;
}

const live = new Set<ChildProcess>();
let exitHookInstalled = false;

/** Kills brokers a crashed or interrupted test run leaves behind. */
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const c of live) c.kill('SIGKILL');
  });
}

function configText(port: number, dir: string, extra: string | undefined): string {
  const lines = [
    `listener ${port} 127.0.0.1`,
    'allow_anonymous true',
    'persistence true',
    `persistence_location ${dir}/`,
    'autosave_on_changes true',
    'autosave_interval 1',
    'set_tcp_nodelay true',
    'log_dest stderr',
    'log_type error',
    'log_type warning',
    'log_type notice',
    'log_type information',
    `user ${userInfo().username}`,
  ];
  if (extra) lines.push(extra);
  return lines.join('\n') + '\n';
}

function indexOfBytes(hay: Uint8Array, needle: Uint8Array): number {
  outer: for (let i = 0; i + needle.length <= hay.length; i++) {
    for (let j = 0; j < needle.length; j++) if (hay[i + j] !== needle[j]) continue outer;
    return i;
  }
  return -1;
}

/** Tries one TCP connection; resolves `true` on connect, `false` on error. */
function probe(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ host, port });
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => {
      s.destroy();
      resolve(false);
    });
  });
}

/**
 * Starts a private Mosquitto on a free loopback port; see the file header for
 * its configuration. Retries with a new port when the chosen one was taken in
 * the meantime (Mosquitto exits with "Address already in use").
 *
 * @throws when the binary is missing or the broker does not come up; the
 *   message holds its stderr.
 */
export async function startMosquitto(opts: MosquittoOptions = {}): Promise<MosquittoBroker> {
  const bin = mosquittoPath();
  if (bin === null) throw new Error('mosquitto binary not found (PATH, /usr/sbin)');
  installExitHook();
  const host = '127.0.0.1';
  const readyTimeoutMs = opts.readyTimeoutMs ?? 10_000;
  const dir = mkdtempSync(join(tmpdir(), 'fieldmq-mosquitto-'));
  const confFile = join(dir, 'mosquitto.conf');
  const dbFile = join(dir, 'mosquitto.db');
  let logText = '';
  const logListeners = new Set<() => void>();
  let child: ChildProcess | null = null;
  let port = 0;
  let removed = false;

  const appendLog = (chunk: string): void => {
    logText += chunk;
    if (logText.length > MAX_LOG) logText = logText.slice(logText.length - MAX_LOG);
    for (const l of logListeners) l();
  };
  const onLog = (cb: () => void): (() => void) => {
    logListeners.add(cb);
    return () => logListeners.delete(cb);
  };

  /** Spawns on `port` and resolves once a TCP probe connects; rejects (flagging address-in-use) if it exits first. */
  const spawnOnce = async (): Promise<void> => {
    writeFileSync(confFile, configText(port, dir, opts.config));
    const from = logText.length;
    const c = spawn(bin, ['-c', confFile], { stdio: ['ignore', 'ignore', 'pipe'] });
    child = c;
    live.add(c);
    let exited: string | null = null;
    c.stderr!.setEncoding('utf8');
    c.stderr!.on('data', (d: string) => appendLog(d));
    c.once('exit', (code, signal) => {
      live.delete(c);
      if (child === c) child = null;
      exited = `mosquitto exited (code ${code}, signal ${signal})`;
      appendLog('');
    });
    c.once('error', (e) => {
      exited = `mosquitto failed to spawn: ${e.message}`;
      appendLog('');
    });

    // Readiness: probe the port whenever the broker logs something (it logs
    // "Opening ipv4 listen socket" and "running" as it comes up) and, as a
    // fallback, on a short backoff after a refused probe.
    let ready = false;
    let probing = false;
    let retry: NodeJS.Timeout | undefined;
    let backoff = 5;
    const changed = new Set<() => void>();
    const kick = (): void => {
      if (ready || probing || exited !== null) return;
      probing = true;
      void probe(host, port).then((ok) => {
        probing = false;
        if (ok) ready = true;
        else if (exited === null) {
          clearTimeout(retry);
          retry = setTimeout(kick, backoff);
          backoff = Math.min(backoff * 2, 100);
        }
        for (const f of changed) f();
      });
    };
    try {
      await waitFor(
        `mosquitto to accept connections on ${host}:${port}`,
        () => {
          if (exited !== null) {
            const err = new Error(`${exited} before accepting connections on port ${port}:\n${logText.slice(from)}`);
            (err as Error & { addrInUse?: boolean }).addrInUse = /Address already in use/i.test(logText.slice(from));
            throw err;
          }
          kick();
          return ready ? true : undefined;
        },
        (f) => {
          changed.add(f);
          const off = onLog(f);
          return () => {
            changed.delete(f);
            off();
          };
        },
        readyTimeoutMs,
        () => `broker log:\n${logText.slice(from)}`,
      );
    } catch (e) {
      if (exited === null) {
        c.kill('SIGKILL');
      }
      throw e;
    } finally {
      clearTimeout(retry);
    }
  };

  const spawnWithRetries = async (newPortEachTry: boolean): Promise<void> => {
    for (let attempt = 1; ; attempt++) {
      if (newPortEachTry) port = await freePort(host);
      try {
        await spawnOnce();
        return;
      } catch (e) {
        if (!(e as { addrInUse?: boolean }).addrInUse || attempt >= 5) throw e;
      }
    }
  };

  const terminate = async (signal: NodeJS.Signals): Promise<void> => {
    const c = child;
    if (c === null || c.exitCode !== null || c.signalCode !== null) return;
    const gone = new Promise<void>((resolve) => c.once('exit', () => resolve()));
    c.kill(signal);
    const deadline = new Promise<'late'>((resolve) => {
      const t = setTimeout(() => resolve('late'), 5_000);
      void gone.then(() => clearTimeout(t));
    });
    if ((await Promise.race([gone, deadline])) === 'late') {
      c.kill('SIGKILL');
      await gone;
    }
  };

  try {
    await spawnWithRetries(true);
  } catch (e) {
    rmSync(dir, { recursive: true, force: true });
    throw e;
  }

  const broker: MosquittoBroker = {
    host,
    get port() {
      return port;
    },
    dir,
    dbFile,
    get url() {
      return `mqtt://${host}:${port}`;
    },
    async stop() {
      await terminate('SIGTERM');
      if (!removed) {
        removed = true;
        rmSync(dir, { recursive: true, force: true });
      }
    },
    async kill() {
      await terminate('SIGKILL');
    },
    async restart() {
      if (removed) throw new Error('mosquitto harness: restart() after stop() (the persistence directory is gone)');
      await terminate('SIGTERM');
      // Same port: Mosquitto sets SO_REUSEADDR, so TIME_WAIT does not block
      // it; a stranger grabbing the port in between is retried a few times.
      await spawnWithRetries(false);
    },
    log: () => logText,
    waitForLog(pattern, o = {}) {
      const from = o.from ?? 0;
      return waitFor(
        `mosquitto log line matching ${pattern}`,
        () => {
          const m = pattern.exec(logText.slice(from));
          return m ? m[0] : undefined;
        },
        onLog,
        o.timeoutMs ?? 10_000,
        () => `broker log:\n${logText.slice(from)}`,
      );
    },
    async waitForPersisted(needle, timeoutMs = 10_000) {
      const bytes = typeof needle === 'string' ? new TextEncoder().encode(needle) : needle;
      let watcher: FSWatcher | null = null;
      await waitFor(
        `mosquitto to save ${JSON.stringify(typeof needle === 'string' ? needle : `${bytes.length} bytes`)} to ${dbFile}`,
        () => {
          let data: Uint8Array;
          try {
            data = readFileSync(dbFile);
          } catch {
            return undefined; // not written yet
          }
          return indexOfBytes(data, bytes) >= 0 ? true : undefined;
        },
        (f) => {
          const off = onLog(f);
          try {
            watcher = watch(dir, () => f());
          } catch {
            watcher = null;
          }
          return () => {
            off();
            watcher?.close();
          };
        },
        timeoutMs,
        () => `broker log:\n${logText}`,
      );
    },
  };
  return broker;
}
