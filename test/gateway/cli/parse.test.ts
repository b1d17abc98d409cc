/** Command-line syntax of fieldmq-gateway (`gateway/cli/parse.ts`). */
import { describe, expect, it } from 'vitest';
import { UsageError } from '../../../gateway/cli/errors';
import { parseArgs } from '../../../gateway/cli/parse';

function usage(argv: string[]): UsageError {
  try {
    parseArgs(argv);
  } catch (e) {
    expect(e).toBeInstanceOf(UsageError);
    expect((e as Error).name).toBe('UsageError');
    return e as UsageError;
  }
  throw new Error(`expected a UsageError for ${argv.join(' ')}`);
}

describe('parseArgs', () => {
  it('takes --name value and --name=value', () => {
    const a = parseArgs(['--broker', 'mqtt://h:1', '--udp-port=2000']);
    expect(a.get('broker')).toBe('mqtt://h:1');
    expect(a.get('udp-port')).toBe('2000');
  });

  it('takes the one-letter aliases -c, -b, -h, -v', () => {
    const a = parseArgs(['-c', 'gw.json', '-b', 'mqtt://h', '-h', '-v']);
    expect([...a.entries()]).toEqual([
      ['config', 'gw.json'],
      ['broker', 'mqtt://h'],
      ['help', true],
      ['version', true],
    ]);
  });

  it('keeps the last of a repeated option', () => {
    expect(parseArgs(['--udp-port', '1', '--udp-port', '2']).get('udp-port')).toBe('2');
  });

  it('takes a value starting with - in the = form, and negative numbers either way', () => {
    expect(parseArgs(['--sys-prefix=-x']).get('sys-prefix')).toBe('-x');
    expect(parseArgs(['--gateway-id', '-1']).get('gateway-id')).toBe('-1');
  });

  it('an unknown option is an error with the closest known one', () => {
    expect(usage(['--brokr', 'x']).message).toBe('--brokr: unknown option (did you mean --broker?)');
    expect(usage(['--udp-prot=1']).message).toBe('--udp-prot: unknown option (did you mean --udp-port?)');
    expect(usage(['--metric-port', '9']).message).toContain('did you mean --metrics-port?');
    expect(usage(['--no-udp-6']).message).toContain('did you mean --no-udp6?');
  });

  it('an unknown option with nothing close points at --help', () => {
    expect(usage(['--frobnicate']).message).toBe('--frobnicate: unknown option (see --help)');
    expect(usage(['-x']).message).toBe('-x: unknown option');
  });

  it('a long option written with one dash suggests the two-dash spelling', () => {
    expect(usage(['-config', 'x']).message).toBe('-config: unknown option (did you mean --config?)');
  });

  it('an option without its value is an error naming the value', () => {
    expect(usage(['--broker']).message).toBe('--broker: needs a value (URL)');
    expect(usage(['--config', '--udp-port', '1']).message).toBe('--config: needs a value (FILE)');
    expect(usage(['-c']).message).toBe('-c: needs a value (FILE)');
  });

  it('a flag given a value is an error', () => {
    expect(usage(['--no-udp6=yes']).message).toBe('--no-udp6: takes no value');
  });

  it('a positional argument is an error; a file name suggests --config', () => {
    expect(usage(['gateway.conf']).message).toBe('unexpected argument "gateway.conf" (did you mean --config gateway.conf?)');
    expect(usage(['start']).message).toContain('unexpected argument "start"');
    expect(usage(['--', 'x']).message).toContain('unexpected argument "x"');
  });

  it('nothing is nothing', () => {
    expect(parseArgs([]).size).toBe(0);
  });
});
