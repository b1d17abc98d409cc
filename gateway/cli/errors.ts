/**
 * Errors of the `fieldmq-gateway` command line, each with a stable `name` and the process exit
 * code it maps to (see {@link EXIT}).
 */

/** Process exit codes of `fieldmq-gateway`. */
export const EXIT = {
  /** Ran and stopped cleanly (signal), or printed help / version / config. */
  ok: 0,
  /** Could not start (port in use, broker unreachable, device missing) or failed while running. */
  failure: 1,
  /** Bad command line or bad configuration file: nothing was started. */
  usage: 2,
} as const;

/**
 * A bad command line: unknown option, missing or invalid value, conflicting options. `name` is
 * `'UsageError'`; the message names the option (`--udp-port: expected a port number 0..65535, got "x"`).
 * Exit code {@link EXIT.usage}.
 */
export class UsageError extends Error {
  /** The option concerned (`--udp-port`), or '' when the problem is not one option's. */
  readonly option: string;

  constructor(option: string, detail: string) {
    super(option ? `${option}: ${detail}` : detail);
    this.name = 'UsageError';
    this.option = option;
  }
}
