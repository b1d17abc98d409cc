/**
 * Request/response over the IPC channel of a forked child (`child_process.fork`): the bench
 * orchestrator drives the gateway process and the load-generator process with it. A handful
 * of messages per measurement window, so the channel costs nothing measurable.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

interface Request {
  id: number;
  cmd: string;
  args: unknown;
}
interface Response {
  id: number;
  ok: boolean;
  result?: unknown;
  error?: string;
}

/** A forked child answering {@link Request}s (see {@link serve}). */
export interface Child {
  readonly proc: ChildProcess;
  readonly pid: number;
  call<T = unknown>(cmd: string, args?: unknown, timeoutMs?: number): Promise<T>;
  /** Asks it to exit, then kills it (by its pid) if it has not within 3 s. */
  close(): Promise<void>;
}

/** Forks `module` (a path relative to this directory) under tsx with `--expose-gc` and extra Node flags. */
export function spawnChild(module: string, nodeFlags: string[] = [], env: Record<string, string> = {}): Child {
  const file = fileURLToPath(new URL(module, import.meta.url));
  const proc = fork(file, [], {
    execArgv: ['--expose-gc', ...nodeFlags, '--import', 'tsx'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    env: { ...process.env, ...env },
  });
  let next = 1;
  const waiting = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void; timer: NodeJS.Timeout }>();
  let exited: string | null = null;
  proc.on('message', (m: Response) => {
    const w = waiting.get(m.id);
    if (!w) return;
    waiting.delete(m.id);
    clearTimeout(w.timer);
    if (m.ok) w.resolve(m.result);
    else w.reject(new Error(`${module}: ${m.error}`));
  });
  proc.on('exit', (code, signal) => {
    exited = `${module} exited (code ${code}, signal ${signal})`;
    for (const w of waiting.values()) {
      clearTimeout(w.timer);
      w.reject(new Error(exited));
    }
    waiting.clear();
  });
  const child: Child = {
    proc,
    pid: proc.pid!,
    call<T>(cmd: string, args: unknown = {}, timeoutMs = 120_000): Promise<T> {
      if (exited) return Promise.reject(new Error(exited));
      const id = next++;
      return new Promise<T>((resolve, reject) => {
        const timer = setTimeout(() => {
          waiting.delete(id);
          reject(new Error(`${module}: ${cmd} timed out after ${timeoutMs} ms`));
        }, timeoutMs);
        waiting.set(id, { resolve: resolve as (v: unknown) => void, reject, timer });
        proc.send({ id, cmd, args } satisfies Request);
      });
    },
    async close() {
      if (exited) return;
      const gone = new Promise<void>((r) => proc.once('exit', () => r()));
      try {
        proc.send({ id: 0, cmd: 'exit', args: {} } satisfies Request);
      } catch {
        /* channel already closed */
      }
      const t = setTimeout(() => {
        if (!exited) process.kill(proc.pid!, 'SIGKILL');
      }, 3000);
      await gone;
      clearTimeout(t);
    },
  };
  return child;
}

/** In a child: answers requests with `handlers[cmd](args)`; `exit` ends the process. */
export function serve(handlers: Record<string, (args: never) => unknown>, onExit: () => Promise<void> = async () => {}): void {
  process.on('message', async (m: Request) => {
    if (m.cmd === 'exit') {
      await onExit().catch(() => {});
      process.exit(0);
    }
    const h = handlers[m.cmd];
    try {
      if (!h) throw new Error(`unknown command ${m.cmd}`);
      const result = await h(m.args as never);
      process.send!({ id: m.id, ok: true, result } satisfies Response);
    } catch (e) {
      process.send!({ id: m.id, ok: false, error: e instanceof Error ? e.stack ?? e.message : String(e) } satisfies Response);
    }
  });
  process.on('disconnect', () => {
    void onExit()
      .catch(() => {})
      .then(() => process.exit(0));
  });
}
