import { describe, expect, it } from 'vitest';
import { ConfigError, makeWarning, suggest } from '../../../gateway/config/errors';

describe('ConfigError', () => {
  it('formats file:line: key: detail and keeps the parts', () => {
    const e = new ConfigError('gateway.conf', 12, 'BrokerPortNo', 'expected a port number 1..65535, got "abc"');
    expect(e.message).toBe('gateway.conf:12: BrokerPortNo: expected a port number 1..65535, got "abc"');
    expect(e.name).toBe('ConfigError');
    expect([e.file, e.line, e.key]).toEqual(['gateway.conf', 12, 'BrokerPortNo']);
    expect(e).toBeInstanceOf(Error);
  });

  it('leaves the line out when it is 0 (not line-specific)', () => {
    expect(new ConfigError('gw.json', 0, 'broker.port', 'bad').message).toBe('gw.json: broker.port: bad');
  });

  it('leaves the key out when there is none', () => {
    expect(new ConfigError('clients.conf', 3, '', 'expected ClientId,Address[,flags]').message).toBe(
      'clients.conf:3: expected ClientId,Address[,flags]',
    );
  });
});

describe('makeWarning', () => {
  it('uses the same location prefix as errors', () => {
    expect(makeWarning('gateway.conf', 82, 'ShearedMemory', 'ignored').message).toBe('gateway.conf:82: ShearedMemory: ignored');
  });
});

describe('suggest', () => {
  it('finds near misses, case-insensitively', () => {
    expect(suggest('BrokerPort', ['BrokerPortNo', 'BrokerName'])).toBe('BrokerPortNo');
    expect(suggest('gatewayid', ['GatewayID', 'GatewayName'])).toBe('GatewayID');
  });

  it('suggests nothing for names that are far from every known one', () => {
    expect(suggest('Colour', ['BrokerPortNo', 'GatewayID'])).toBeUndefined();
  });
});
