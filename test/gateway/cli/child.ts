/**
 * `fieldmq-gateway` as a child process (the real launcher, `node bin/fieldmq-gateway.mjs`), with
 * its output captured and waits on it with deadlines. Children still running when the test
 * process exits are killed.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { waitFor } from '../../support/peers';

/** The repository root. */
export const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
/** The launcher users run through `npx fieldmq-gateway`. */
export const LAUNCHER = fileURLToPath(new URL('../../../bin/fieldmq-gateway.mjs', import.meta.url));

const live = new Set<ChildProcess>();
process.on('exit', () => {
  for (const c of live) c.kill('SIGKILL');
});

/** A running (or finished) CLI process. */
export interface CliProcess {
  readonly child: ChildProcess;
  stdout(): string;
  stderr(): string;
  /** Resolves with the exit code (128 + n for a signal) once the process ended. */
  readonly exited: Promise<number>;
  /** Waits for a stderr match after offset `from` (default: anywhere); returns the match. */
  waitForStderr(pattern: RegExp, timeoutMs?: number, from?: number): Promise<RegExpExecArray>;
  /** Waits for the exit, with a deadline; returns the exit code. */
  waitForExit(timeoutMs?: number): Promise<number>;
  /** Sends a signal. */
  signal(sig: NodeJS.Signals): void;
}

const SIGNALS: Partial<Record<string, number>> = { SIGINT: 2, SIGKILL: 9, SIGTERM: 15 };

/** Starts `command args` (default: `node <launcher> args`) in the repository root. */
export function runCli(args: string[], opts: { env?: Record<string, string>; command?: string[] } = {}): CliProcess {
  const [cmd, ...pre] = opts.command ?? [process.execPath, LAUNCHER];
  const child = spawn(cmd!, [...pre, ...args], {
    cwd: ROOT,
    env: { ...process.env, ...opts.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  live.add(child);
  let out = '';
  let err = '';
  let code: number | null = null;
  const changed = new Set<() => void>();
  const notify = (): void => {
    for (const f of changed) f();
  };
  child.stdout!.setEncoding('utf8');
  child.stderr!.setEncoding('utf8');
  child.stdout!.on('data', (d: string) => {
    out += d;
    notify();
  });
  child.stderr!.on('data', (d: string) => {
    err += d;
    notify();
  });
  const exited = new Promise<number>((resolve) => {
    child.once('close', (c, sig) => {
      live.delete(child);
      code = c ?? 128 + (SIGNALS[sig ?? ''] ?? 0);
      resolve(code);
      notify();
    });
  });
  const subscribe = (f: () => void): (() => void) => {
    changed.add(f);
    return () => changed.delete(f);
  };
  const diag = (): string => `exit code: ${code}\n--- stderr ---\n${err}\n--- stdout ---\n${out}`;
  return {
    child,
    stdout: () => out,
    stderr: () => err,
    exited,
    waitForStderr(pattern, timeoutMs = 20_000, from = 0) {
      return waitFor(
        `stderr matching ${pattern}`,
        () => {
          const m = pattern.exec(err.slice(from));
          if (m) return m;
          if (code !== null) throw new Error(`the process exited (${code}) before stderr matched ${pattern}\n${diag()}`);
          return undefined;
        },
        subscribe,
        timeoutMs,
        diag,
      );
    },
    waitForExit(timeoutMs = 20_000) {
      return waitFor('the process to exit', () => (code === null ? undefined : code), subscribe, timeoutMs, diag);
    },
    signal(sig) {
      child.kill(sig);
    },
  };
}
