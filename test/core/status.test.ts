import { describe, expect, it } from 'vitest';
import { Status, statusName } from '../../src/core';

// Status is a const enum, so its members are listed here by hand: this table
// is also the check that NAMES in status.ts stays in step with the enum.
const MEMBERS: [string, number][] = [
  ['Ok', Status.Ok],
  ['NeedMoreBytes', Status.NeedMoreBytes],
  ['NoMemory', Status.NoMemory],
  ['Malformed', Status.Malformed],
  ['IllegalState', Status.IllegalState],
  ['BadParameter', Status.BadParameter],
  ['ProtocolError', Status.ProtocolError],
  ['Unsupported', Status.Unsupported],
  ['TooLarge', Status.TooLarge],
  ['InvalidUtf8', Status.InvalidUtf8],
  ['InvalidTopic', Status.InvalidTopic],
  ['Full', Status.Full],
  ['Empty', Status.Empty],
  ['Timeout', Status.Timeout],
  ['NotFound', Status.NotFound],
  ['Closed', Status.Closed],
];

describe('Status', () => {
  it('has Ok = 0 and distinct consecutive negative failures', () => {
    expect(Status.Ok).toBe(0);
    const failures = MEMBERS.slice(1).map(([, v]) => v);
    expect(failures).toEqual(failures.map((_, i) => -(i + 1)));
  });
});

describe('statusName', () => {
  it.each(MEMBERS)('names %s', (name, code) => {
    expect(statusName(code)).toBe(name);
  });

  it('names the documented example', () => {
    expect(statusName(-3)).toBe('Malformed');
  });

  it('names every non-negative result Ok (results are not errors)', () => {
    for (const n of [0, 1, 2, 255, 65535, 2 ** 31, Number.MAX_SAFE_INTEGER]) expect(statusName(n)).toBe('Ok');
  });

  it('names unknown negative codes Unknown(code)', () => {
    expect(statusName(-16)).toBe('Unknown(-16)');
    expect(statusName(-1000)).toBe('Unknown(-1000)');
    expect(statusName(-1.5)).toBe('Unknown(-1.5)');
  });
});
