/** The `--help` text: complete, with defaults, examples and exit codes. */
import { describe, expect, it } from 'vitest';
import { helpText } from '../../../gateway/cli/help';
import { OPTIONS } from '../../../gateway/cli/options';

describe('helpText', () => {
  const text = helpText('1.2.3');

  it('names the program, its version and the usage line', () => {
    expect(text.startsWith('fieldmq-gateway 1.2.3: ')).toBe(true);
    expect(text).toContain('Usage: fieldmq-gateway [options]');
  });

  it('lists every option, with its alias, value and default', () => {
    for (const o of OPTIONS) {
      const long = `--${o.name}${o.value ? ` ${o.value}` : ''}`;
      expect(text, o.name).toContain(o.short ? `-${o.short}, ${long}` : long);
      if (o.default) expect(text.replace(/\s+/g, ' '), o.name).toContain(`(default: ${o.default})`);
    }
  });

  it('documents the password variable, examples for no options, an external broker and a Paho config', () => {
    expect(text).toContain('FIELDMQ_BROKER_PASSWORD');
    expect(text).toMatch(/^ {2}fieldmq-gateway$/m);
    expect(text).toMatch(/^ {2}fieldmq-gateway --broker mqtts?:\/\//m);
    expect(text).toMatch(/^ {2}fieldmq-gateway --config \S+gateway\.conf/m);
    expect(text).toContain("mosquitto_sub -h localhost -p 1883 -t '#' -v");
  });

  it('documents the exit codes', () => {
    const codes = text.slice(text.indexOf('Exit codes:'));
    for (const c of ['0', '1', '2', '130']) expect(codes).toMatch(new RegExp(`^ {2}${c} +\\S`, 'm'));
  });

  it('fits a 100-column terminal', () => {
    for (const line of text.split('\n')) expect(line.length, line).toBeLessThanOrEqual(100);
  });
});
