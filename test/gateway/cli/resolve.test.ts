/**
 * From options to configuration (`gateway/cli/resolve.ts`): defaults, options over the config
 * file, and the errors a user sees. Config files are real files in a temp directory.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../../../gateway/config/errors';
import { DEFAULT_UDP6, validateConfig } from '../../../gateway/config/schema';
import { UsageError } from '../../../gateway/cli/errors';
import { parseArgs } from '../../../gateway/cli/parse';
import { resolveRun, type CliRun } from '../../../gateway/cli/resolve';

const dir = mkdtempSync(join(tmpdir(), 'fieldmq-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function file(name: string, text: string): string {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
}

function run(argv: string[], env: Record<string, string> = {}): CliRun {
  return resolveRun(parseArgs(argv), env);
}

function usage(argv: string[], env: Record<string, string> = {}): string {
  try {
    run(argv, env);
  } catch (e) {
    expect(e).toBeInstanceOf(UsageError);
    return (e as Error).message;
  }
  throw new Error(`expected a UsageError for ${argv.join(' ')}`);
}

const CA = file('ca.pem', '-----BEGIN CERTIFICATE-----\n');
const CERT = file('cert.pem', '-----BEGIN CERTIFICATE-----\n');
const KEY = file('key.pem', '-----BEGIN PRIVATE KEY-----\n');

describe('resolveRun › no options', () => {
  it('UDP 1884 on IPv4 and (optionally) IPv6, the embedded broker, transparent mode, no metrics', () => {
    const r = run([]);
    expect(r.config.udp?.port).toBe(1884);
    expect(r.config.udp6).toEqual(DEFAULT_UDP6);
    expect(r.start.udp6Optional).toBe(true);
    expect(r.config.broker).toBeNull();
    expect(r.config.mode).toBe('transparent');
    expect(r.config.metricsPort).toBeNull();
    expect(r.config.sysInterval).toBe(0);
    expect(r.logFormat).toBe('text');
    expect(r.configFile).toBeNull();
    expect(r.warnings).toEqual([]);
  });
});

describe('resolveRun › broker options', () => {
  it('--broker mqtt://host:port names an external broker without TLS', () => {
    const b = run(['--broker', 'mqtt://10.0.0.2:1885']).config.broker!;
    expect(b).toMatchObject({ host: '10.0.0.2', port: 1885, tls: null, url: 'mqtt://10.0.0.2:1885', protocolVersion: 4 });
  });

  it('--broker mqtts://host defaults to port 8883 with TLS and the system CAs', () => {
    const b = run(['--broker', 'mqtts://broker.example.net']).config.broker!;
    expect(b).toMatchObject({ host: 'broker.example.net', port: 8883, url: 'mqtts://broker.example.net:8883' });
    expect(b.tls).toEqual({ ca: null, caPath: null, cert: null, key: null });
  });

  it('a bad URL is an error on --broker', () => {
    expect(usage(['--broker', 'http://x'])).toBe('--broker: expected mqtt://host[:port] or mqtts://host[:port], got "http://x"');
  });

  it('--ca, --cert, --key set the TLS files (absolute paths)', () => {
    const b = run(['--broker', 'mqtts://h', '--ca', CA, '--cert', CERT, '--key', KEY]).config.broker!;
    expect(b.tls).toEqual({ ca: CA, caPath: null, cert: CERT, key: KEY });
  });

  it('TLS files need an mqtts:// broker, must exist, and cert goes with key', () => {
    expect(usage(['--broker', 'mqtt://h', '--ca', CA])).toBe('--ca: needs a TLS broker: give --broker mqtts://h:8883');
    expect(usage(['--broker', 'mqtts://h', '--ca', join(dir, 'nope.pem')])).toBe(`--ca: cannot read ${join(dir, 'nope.pem')}: file not found`);
    expect(usage(['--broker', 'mqtts://h', '--cert', CERT])).toBe('--cert: --cert and --key must be given together');
  });

  it('credentials: --password over FIELDMQ_BROKER_PASSWORD over the file', () => {
    const cfg = file('cred.json', JSON.stringify({ broker: { url: 'mqtt://h', username: 'u', password: 'from-file' } }));
    expect(run(['-c', cfg]).config.broker!.password).toBe('from-file');
    expect(run(['-c', cfg], { FIELDMQ_BROKER_PASSWORD: 'from-env' }).config.broker!.password).toBe('from-env');
    expect(run(['-c', cfg, '--password', 'from-flag'], { FIELDMQ_BROKER_PASSWORD: 'from-env' }).config.broker!.password).toBe('from-flag');
    const b = run(['--broker', 'mqtt://h', '--username', 'pi'], { FIELDMQ_BROKER_PASSWORD: 's3cret' }).config.broker!;
    expect([b.username, b.password]).toEqual(['pi', 's3cret']);
  });

  it('a password without a user name is a warning', () => {
    expect(run(['--broker', 'mqtt://h', '--password', 'x']).warnings.join('\n')).toContain('without a user name');
  });

  it('credentials and TLS files without an external broker are errors; the password variable is ignored', () => {
    expect(usage(['--username', 'pi'])).toBe('--username: needs an external broker (--broker URL); the embedded broker is anonymous and plain TCP');
    expect(usage(['--ca', CA])).toContain('--ca: needs an external broker');
    expect(run([], { FIELDMQ_BROKER_PASSWORD: 'x' }).config.broker).toBeNull();
  });

  it('--mqtt-version takes 4, 3.1.1, 5, 5.0; the embedded broker takes 3.1.1 only', () => {
    expect(run(['--broker', 'mqtt://h', '--mqtt-version', '5']).config.broker!.protocolVersion).toBe(5);
    expect(run(['--broker', 'mqtt://h', '--mqtt-version', '5.0']).config.broker!.protocolVersion).toBe(5);
    expect(run(['--broker', 'mqtt://h', '--mqtt-version', '3.1.1']).config.broker!.protocolVersion).toBe(4);
    expect(run(['--mqtt-version', '4']).config.broker).toBeNull();
    expect(usage(['--mqtt-version', '5'])).toContain('the embedded broker (Aedes) speaks MQTT 3.1.1 only');
    expect(usage(['--broker', 'mqtt://h', '--mqtt-version', '3'])).toContain('(MQTT 3.1 is not supported)');
  });

  it('--embedded-port and --embedded-host set the embedded broker; with an external broker they are errors', () => {
    expect(run(['--embedded-port', '0', '--embedded-host', '127.0.0.1']).start).toMatchObject({ embeddedPort: 0, embeddedHost: '127.0.0.1' });
    expect(usage(['--broker', 'mqtt://h', '--embedded-port', '1885'])).toBe(
      '--embedded-port: there is no embedded broker: the --broker option names the broker mqtt://h:1883',
    );
  });
});

describe('resolveRun › options over a config file', () => {
  const json = file(
    'gw.json',
    JSON.stringify({
      gatewayName: 'from-file',
      udp: { port: 2000, multicastPort: 2001 },
      broker: { url: 'mqtts://file-broker:8884', username: 'file-user', tls: { ca: 'ca.pem' }, protocolVersion: 5 },
      metricsPort: 9100,
      logLevel: 'debug',
    }),
  );

  it('keeps what the file says when no option overrides it; IPv6 follows the file', () => {
    const r = run(['--config', json]);
    expect(r.configFile).toBe(json);
    expect(r.config).toMatchObject({ gatewayName: 'from-file', metricsPort: 9100, logLevel: 'debug', udp6: null });
    expect(r.config.udp).toMatchObject({ port: 2000, multicastPort: 2001 });
    expect(r.start.udp6Optional).toBe(false);
  });

  it('options override the file, field by field', () => {
    const r = run(['-c', json, '--udp-port', '3000', '--gateway-name', 'cli', '--metrics-port', '0', '--log-level', 'warn', '--mode', 'aggregating']);
    expect(r.config.udp).toMatchObject({ port: 3000, multicastPort: 2001 });
    expect(r.config).toMatchObject({ gatewayName: 'cli', metricsPort: 0, logLevel: 'warn', mode: 'aggregating' });
  });

  it('--broker replaces the address and keeps the file\'s credentials, TLS files and MQTT version', () => {
    const b = run(['-c', json, '--broker', 'mqtts://other:8885']).config.broker!;
    expect(b).toMatchObject({ host: 'other', port: 8885, username: 'file-user', protocolVersion: 5 });
    expect(b.tls?.ca).toBe(join(dir, 'ca.pem'));
    expect(run(['-c', json, '--broker', 'mqtt://plain']).config.broker!.tls).toBeNull();
  });

  it('--udp6-port turns IPv6 on over a file that left it off (not optional then)', () => {
    const r = run(['-c', json, '--udp6-port', '2002']);
    expect(r.config.udp6).toEqual({ ...DEFAULT_UDP6, port: 2002 });
    expect(r.start.udp6Optional).toBe(false);
  });

  it('a bad file is a ConfigError with file, line and key', () => {
    const conf = file('bad.conf', '# Paho\nGatewayID=7\nBrokerPortNo=abc\n');
    try {
      run(['-c', conf]);
      throw new Error('no error');
    } catch (e) {
      expect(e).toBeInstanceOf(ConfigError);
      expect((e as Error).message).toBe(`${conf}:3: BrokerPortNo: expected a port number 1..65535, got "abc"`);
    }
  });

  it('a Paho file: --sensor-networks selects the networks; the file\'s warnings are passed on', () => {
    const conf = file('gateway.conf', 'GatewayID=3\nMaxNumberOfClients=10;\nGatewayPortNo=10000\nGatewayIPv6PortNo=10001\n');
    const r = run(['-c', conf, '--sensor-networks', 'udp,udp6']);
    expect(r.config.udp?.port).toBe(10000);
    expect(r.config.udp6?.port).toBe(10001);
    expect(r.warnings.join('\n')).toContain('MaxNumberOfClients: trailing ";" ignored');
    expect(run(['-c', conf]).config.udp6).toBeNull();
    expect(usage(['-c', conf, '--sensor-networks', 'udp,lora'])).toContain('unknown network "lora"');
  });

  it('--sensor-networks without a Paho file: an error without --config, a warning with JSON', () => {
    expect(usage(['--sensor-networks', 'udp'])).toBe('--sensor-networks: only applies to a Paho gateway.conf given with --config');
    expect(run(['-c', json, '--sensor-networks', 'udp']).warnings.join('\n')).toContain('--sensor-networks: ignored');
  });
});

describe('resolveRun › sensor networks and observability', () => {
  it('--no-udp6 and --no-udp turn links off; with none left it is an error', () => {
    const r = run(['--no-udp6']);
    expect(r.config.udp6).toBeNull();
    expect(r.start.udp6Optional).toBe(false);
    expect(run(['--no-udp']).config.udp).toBeNull();
    expect(usage(['--no-udp', '--no-udp6'])).toContain('no sensor network left');
  });

  it('--no-udp with --udp-port conflicts', () => {
    expect(usage(['--no-udp', '--udp-port', '1'])).toBe('--udp-port: conflicts with --no-udp');
  });

  it('--serial and --xbee add links at --baud; --baud alone needs one', () => {
    const r = run(['--serial', '/dev/ttyUSB0', '--xbee', '/dev/ttyAMA0', '--baud', '115200']);
    expect(r.config.serial).toEqual({ path: '/dev/ttyUSB0', baud: 115200 });
    expect(r.config.xbee).toEqual({ path: '/dev/ttyAMA0', baud: 115200, apiMode: 2 });
    expect(usage(['--baud', '9600'])).toContain('--baud: needs --serial or --xbee');
    expect(usage(['--serial', '/dev/x', '--baud', '1234'])).toContain('--baud: expected a baud rate');
  });

  it('numbers are checked with the option named', () => {
    expect(usage(['--udp-port', '70000'])).toBe('--udp-port: expected a port number 0..65535, got "70000"');
    expect(usage(['--gateway-id', '0'])).toBe('--gateway-id: expected a gateway id 1..255, got "0"');
    expect(usage(['--gateway-id', '-1'])).toBe('--gateway-id: expected a gateway id 1..255, got "-1"');
    expect(usage(['--sys-interval', '1.5'])).toBe('--sys-interval: expected seconds 0..86400, got "1.5"');
  });

  it('choices are listed when a value is not one of them', () => {
    expect(usage(['--log-level', 'verbose'])).toBe('--log-level: expected one of error, warn, info, debug, trace, got "verbose"');
    expect(usage(['--log-format', 'xml'])).toBe('--log-format: expected one of text, json, got "xml"');
    expect(usage(['--mode', 'bridge'])).toBe('--mode: expected one of transparent, aggregating, got "bridge"');
  });

  it('--sys-interval, --sys-prefix (trailing / dropped, no wildcards), --log-format json', () => {
    const r = run(['--sys-interval', '30', '--sys-prefix', 'fieldmq/sys/', '--log-format', 'json']);
    expect(r.config.sysInterval).toBe(30);
    expect(r.start.sysPrefix).toBe('fieldmq/sys');
    expect(r.logFormat).toBe('json');
    expect(usage(['--sys-prefix', 'a/#'])).toContain('--sys-prefix: expected topic levels without wildcards');
  });

  it('--metrics-host needs a metrics port', () => {
    expect(usage(['--metrics-host', '127.0.0.1'])).toBe('--metrics-host: needs --metrics-port (or metricsPort in the config file)');
    expect(run(['--metrics-port', '9100', '--metrics-host', '127.0.0.1']).start.metricsHost).toBe('127.0.0.1');
  });

  it('the resolved configuration is a valid JSON config again', () => {
    const r = run(['--broker', 'mqtts://h', '--ca', CA, '--username', 'u', '--password', 'p', '--serial', '/dev/ttyS0', '--metrics-port', '9100']);
    expect(validateConfig(JSON.parse(JSON.stringify(r.config)), 'round-trip')).toEqual(r.config);
  });
});
