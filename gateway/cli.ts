/**
 * `fieldmq-gateway`: the command line around {@link startGateway}. Parses the options
 * (`cli/parse.ts`, `cli/resolve.ts`), prints `--help` / `--version` / `--print-config`, starts the
 * gateway, logs one start-up summary, and stops it gracefully on SIGINT / SIGTERM.
 *
 * Exit codes ({@link EXIT}): 0 clean stop or help printed; 1 could not start or failed while
 * running; 2 bad command line or config file; 128 + signal number when a second signal forces
 * the exit during the graceful stop (130 for SIGINT, 143 for SIGTERM).
 *
 * Launched by `bin/fieldmq-gateway.mjs` (which calls {@link main}), or directly with
 * `npx tsx gateway/cli.ts [options]`.
 */
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { ConfigError } from './config/errors';
import type { GatewayConfig } from './config/schema';
import { EXIT, UsageError } from './cli/errors';
import { PROGRAM, helpText } from './cli/help';
import { parseArgs } from './cli/parse';
import { resolveRun, type CliRun } from './cli/resolve';
import { fieldmqVersion } from './cli/version';
import { createLogger, type Logger } from './log';
import type { RunningGateway } from './main';

export { EXIT, UsageError } from './cli/errors';

/** Where the CLI writes and what it reads; the process's by default (tests replace them). */
export interface CliIo {
  env: Record<string, string | undefined>;
  /** Help, version, `--print-config`. */
  stdout: (text: string) => void;
  /** Errors before the logger exists; the logger writes here too. */
  stderr: (text: string) => void;
  /** Registers a signal handler; returns a function that removes it. */
  onSignal: (signal: NodeJS.Signals, handler: () => void) => () => void;
  /** Ends the process at once (the forced exit on a second signal). */
  exit: (code: number) => never;
}

/** Longest graceful stop before the CLI gives up and exits with {@link EXIT.failure}, ms. */
export const STOP_DEADLINE_MS = 10_000;

const SIGNAL_NUMBERS: Partial<Record<NodeJS.Signals, number>> = { SIGINT: 2, SIGTERM: 15 };

function processIo(): CliIo {
  return {
    env: process.env,
    stdout: (t) => process.stdout.write(t),
    stderr: (t) => process.stderr.write(t),
    onSignal: (signal, handler) => {
      process.on(signal, handler);
      return () => process.off(signal, handler);
    },
    exit: (code) => process.exit(code),
  };
}

/** The configuration as `--print-config` shows it: the password hidden. */
export function printableConfig(config: GatewayConfig): GatewayConfig {
  const copy = structuredClone(config);
  if (copy.broker?.password) copy.broker.password = '(hidden)';
  return copy;
}

/**
 * Runs the command line. Resolves with the exit code once there is nothing more to do: at once
 * for `--help`, `--version`, `--print-config` and errors; after the graceful stop for a running
 * gateway.
 */
export async function runCli(argv: readonly string[], io: CliIo = processIo()): Promise<number> {
  const version = fieldmqVersion();
  let run: CliRun;
  try {
    const args = parseArgs(argv);
    if (args.has('help')) {
      io.stdout(helpText(version));
      return EXIT.ok;
    }
    if (args.has('version')) {
      io.stdout(`${PROGRAM} ${version}\n`);
      return EXIT.ok;
    }
    run = resolveRun(args, io.env);
    if (args.has('print-config')) {
      for (const w of run.warnings) io.stderr(`${PROGRAM}: warning: ${w}\n`);
      io.stdout(JSON.stringify(printableConfig(run.config), null, 2) + '\n');
      return EXIT.ok;
    }
  } catch (e) {
    if (e instanceof UsageError) {
      io.stderr(`${PROGRAM}: error: ${e.message}\nRun '${PROGRAM} --help' for the options.\n`);
      return EXIT.usage;
    }
    if (e instanceof ConfigError) {
      io.stderr(`${PROGRAM}: error: ${e.message}\n`);
      return EXIT.usage;
    }
    throw e;
  }

  const log = createLogger({ level: run.config.logLevel, format: run.logFormat, write: (line) => io.stderr(line + '\n') });
  for (const w of run.warnings) log.warn(w);
  let running: RunningGateway;
  try {
    // Loaded only to run: --help and config errors need neither Aedes nor serialport.
    const { startGateway } = await import('./main');
    running = await startGateway(run.config, {
      ...run.start,
      log,
      version,
      portHints: { udp: '--udp-port', udp6: '--udp6-port' },
    });
  } catch (e) {
    log.error(`cannot start: ${e instanceof Error ? e.message : String(e)}`);
    if (e instanceof Error && log.enabled('debug')) log.debug('start failure', { name: e.name, stack: e.stack ?? null });
    return EXIT.failure;
  }
  // Handlers first, then the summary: whoever waits for the summary may signal at once.
  const stopped = stopOnSignals(running, log, io);
  log.info(running.summary);
  return stopped;
}

/**
 * Waits for SIGINT or SIGTERM, then stops `running` gracefully and resolves with
 * {@link EXIT.ok}. A second signal during the stop calls `io.exit(128 + signal number)`; a stop
 * longer than `deadlineMs` resolves with {@link EXIT.failure}.
 */
export function stopOnSignals(
  running: Pick<RunningGateway, 'stop'>,
  log: Logger,
  io: Pick<CliIo, 'onSignal' | 'exit'>,
  deadlineMs: number = STOP_DEADLINE_MS,
): Promise<number> {
  return new Promise<number>((resolve) => {
    let stopping = false;
    const offs: (() => void)[] = [];
    const handler = (signal: NodeJS.Signals) => (): void => {
      if (stopping) {
        log.warn(`${signal} again: exiting without finishing the graceful stop`);
        io.exit(128 + (SIGNAL_NUMBERS[signal] ?? 0));
        return;
      }
      stopping = true;
      log.info(`${signal}: stopping (send it again to force)`);
      const deadline = setTimeout(() => {
        log.error(`graceful stop took longer than ${deadlineMs / 1000} s: exiting`);
        for (const off of offs) off();
        resolve(EXIT.failure);
      }, deadlineMs);
      void running.stop().then(() => {
        clearTimeout(deadline);
        for (const off of offs) off();
        log.info('stopped');
        resolve(EXIT.ok);
      });
    };
    for (const s of ['SIGINT', 'SIGTERM'] as const) offs.push(io.onSignal(s, handler(s)));
  });
}

/** Runs {@link runCli} on `process.argv` and exits with its code. */
export async function main(argv: readonly string[] = process.argv.slice(2)): Promise<never> {
  let code: number;
  try {
    code = await runCli(argv);
  } catch (e) {
    process.stderr.write(`${PROGRAM}: internal error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    code = EXIT.failure;
  }
  // Let piped output drain before exiting (a running gateway may leave timers behind).
  process.stdout.write('', () => process.stderr.write('', () => process.exit(code)));
  return new Promise<never>(() => {});
}

function isEntryPoint(): boolean {
  const entry = process.argv[1];
  if (!entry) return false;
  try {
    return realpathSync(entry) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}

if (isEntryPoint()) void main();
