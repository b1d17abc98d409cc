/**
 * Splits `process.argv` into options, driven by the table in `options.ts`. Syntax, as most
 * Unix tools take it:
 *
 * - `--name value` and `--name=value`; a value that starts with `-` needs the `=` form
 *   (`--sys-prefix=-x`), except negative numbers;
 * - `-c FILE`, `-b URL`, `-h`, `-v` (one-letter aliases; no bundling such as `-hv`);
 * - a repeated option: the last one wins;
 * - no positional arguments (a stray `gateway.conf` is answered with "did you mean --config").
 *
 * Values are kept as strings; `resolve.ts` checks and converts them with the option's name in
 * the message.
 */
import { suggest } from '../config/errors';
import { UsageError } from './errors';
import { OPTIONS, findOption, findShort } from './options';

/** The options given: long name → value (`true` for flags without a value). */
export type ParsedArgs = Map<string, string | true>;

/**
 * Parses the arguments after the program name.
 * @throws {@link UsageError} for an unknown option (with a "did you mean" hint), a missing value,
 *   a value given to a flag, or a positional argument.
 */
export function parseArgs(argv: readonly string[]): ParsedArgs {
  const out: ParsedArgs = new Map();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    let spec;
    let shown: string;
    let inline: string | undefined;
    if (arg.startsWith('--') && arg.length > 2) {
      const eq = arg.indexOf('=');
      const name = eq < 0 ? arg.slice(2) : arg.slice(2, eq);
      if (eq >= 0) inline = arg.slice(eq + 1);
      shown = `--${name}`;
      spec = findOption(name);
      if (!spec) throw new UsageError(shown, unknownOption(name));
    } else if (arg.startsWith('-') && arg.length === 2 && arg !== '--') {
      shown = arg;
      spec = findShort(arg[1]!);
      if (!spec) throw new UsageError(arg, `unknown option${arg === '-V' ? ' (did you mean -v, --version?)' : ''}`);
    } else if (arg === '--') {
      if (i + 1 < argv.length) throw new UsageError('', positional(argv[i + 1]!));
      break;
    } else if (arg.startsWith('-') && arg.length > 2) {
      // -config, -broker=...: a long option with one dash.
      const name = arg.slice(1).split('=')[0]!;
      const hint = findOption(name) ? ` (did you mean --${name}?)` : '';
      throw new UsageError(arg.split('=')[0]!, `unknown option${hint}`);
    } else {
      throw new UsageError('', positional(arg));
    }
    if (spec.value === undefined) {
      if (inline !== undefined) throw new UsageError(shown, 'takes no value');
      out.set(spec.name, true);
      continue;
    }
    if (inline === undefined) {
      const next = argv[i + 1];
      if (next === undefined || (next.startsWith('-') && next.length > 1 && !/^-\d/.test(next))) {
        throw new UsageError(shown, `needs a value (${spec.value})`);
      }
      inline = next;
      i++;
    }
    out.set(spec.name, inline);
  }
  return out;
}

/** "unknown option" with the closest known option, if one is close. */
function unknownOption(name: string): string {
  const names = OPTIONS.map((o) => o.name);
  // --no-xyz for an option that has no negation: suggest from the positive name too.
  const s = suggest(name, names) ?? (name.startsWith('no-') ? suggest(name.slice(3), names) : undefined);
  return s ? `unknown option (did you mean --${s}?)` : 'unknown option (see --help)';
}

function positional(arg: string): string {
  const hint = /\.(conf|json)$/i.test(arg) ? ` (did you mean --config ${arg}?)` : ' (options start with --; see --help)';
  return `unexpected argument ${JSON.stringify(arg)}${hint}`;
}
