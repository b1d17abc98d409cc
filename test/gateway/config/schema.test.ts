import { describe, expect, it } from 'vitest';
import { defaultConfig, validateConfig } from '../../../gateway/config/schema';
import { configError } from './helpers';

const v = (obj: unknown) => validateConfig(obj, 'gw.json');
const err = (obj: unknown) => configError(() => v(obj));

describe('validateConfig › defaults', () => {
  it('turns an empty object into the default config', () => {
    expect(v({})).toEqual(defaultConfig());
  });

  it('listens on UDP 1884 and uses the embedded broker by default', () => {
    const c = v({});
    expect(c.udp?.port).toBe(1884);
    expect(c.broker).toBeNull();
    expect([c.udp6, c.serial, c.xbee, c.metricsPort]).toEqual([null, null, null, null]);
  });

  it('fills nested defaults: broker port from the scheme, XBee API mode 2, serial 9600 baud', () => {
    const c = v({ broker: { host: 'b.example' }, xbee: { path: '/dev/ttyUSB0' }, serial: { path: '/dev/ttyS0' } });
    expect(c.broker).toEqual({
      url: 'mqtt://b.example:1883', host: 'b.example', port: 1883, tls: null,
      username: null, password: null, protocolVersion: 4, keepAlive: 60,
    });
    expect(c.xbee).toEqual({ path: '/dev/ttyUSB0', baud: 9600, apiMode: 2 });
    expect(c.serial).toEqual({ path: '/dev/ttyS0', baud: 9600 });
  });

  it('derives host, port and TLS from an mqtts:// url', () => {
    const b = v({ broker: { url: 'mqtts://b.example' } }).broker;
    expect([b?.host, b?.port, b?.url]).toEqual(['b.example', 8883, 'mqtts://b.example:8883']);
    expect(b?.tls).toEqual({ ca: null, caPath: null, cert: null, key: null });
  });

  it('lets udp be switched off with null', () => {
    expect(v({ udp: null }).udp).toBeNull();
  });
});

describe('validateConfig › unknown keys', () => {
  it('names an unknown top-level key and suggests the near miss', () => {
    const e = err({ maxClient: 5 });
    expect(e.message).toBe('gw.json: maxClient: unknown key (did you mean "maxClients"?)');
    expect([e.line, e.key]).toEqual([0, 'maxClient']);
  });

  it('names unknown nested keys by their dotted path', () => {
    expect(err({ broker: { host: 'b', usrname: 'x' } }).message).toBe(
      'gw.json: broker.usrname: unknown key (did you mean "username"?)',
    );
    expect(err({ udp: { prot: 1 } }).message).toBe('gw.json: udp.prot: unknown key (did you mean "port"?)');
  });

  it('gives no suggestion when nothing is close', () => {
    expect(err({ colour: 'red' }).message).toBe('gw.json: colour: unknown key');
  });

  it('rejects an unknown client flag with a suggestion', () => {
    expect(err({ clients: [{ clientId: 'a', address: '10.0.0.1:1', flags: ['qos-1'] }] }).message).toBe(
      'gw.json: clients[0].flags[0]: unknown flag "qos-1" (did you mean "QoS-1"?)',
    );
  });
});

describe('validateConfig › types and ranges', () => {
  const cases: Array<[string, unknown, string]> = [
    ['a non-object root', [], 'gw.json: (root): expected an object, got an array'],
    ['a port as a string', { udp: { port: '1884' } }, 'gw.json: udp.port: expected a port number 1..65535, got "1884"'],
    ['port 0', { metricsPort: 0 }, 'gw.json: metricsPort: expected a port number 1..65535, got 0'],
    ['gateway id 256', { gatewayId: 256 }, 'gw.json: gatewayId: expected an integer 1..255, got 256'],
    ['a fractional keep-alive', { keepAlive: 1.5 }, 'gw.json: keepAlive: expected an integer 0..65535, got 1.5'],
    ['a boolean as a string', { qosMinus1: 'YES' }, 'gw.json: qosMinus1: expected true or false, got "YES"'],
    ['an unknown mode', { mode: 'bridge' }, 'gw.json: mode: expected one of "transparent", "aggregating", got "bridge"'],
    ['an unknown log level', { logLevel: 'verbose' }, 'gw.json: logLevel: expected one of "error", "warn", "info", "debug", "trace", got "verbose"'],
    ['MQTT protocol level 3', { broker: { host: 'b', protocolVersion: 3 } }, 'gw.json: broker.protocolVersion: expected one of 4, 5, got 3'],
    ['a ws:// broker url', { broker: { url: 'ws://b' } }, 'gw.json: broker.url: expected mqtt://host[:port] or mqtts://host[:port], got "ws://b"'],
    ['a broker without url or host', { broker: { port: 1883 } }, 'gw.json: broker: needs "url" or "host" (leave "broker" out to use the embedded broker)'],
    ['a url and host that disagree', { broker: { url: 'mqtt://a', host: 'b' } }, 'gw.json: broker.host: conflicts with broker.url host "a"'],
    ['a TLS cert without its key', { broker: { host: 'b', tls: { cert: 'c.pem' } } }, 'gw.json: broker.tls: cert and key must be given together'],
    ['an odd baud rate', { xbee: { path: '/dev/x', baud: 1000 } }, 'gw.json: xbee.baud: expected one of 1200, 2400, 4800, 9600, 19200, 38400, 57600, 115200, 230400, 460800, 921600, got 1000'],
    ['XBee API mode 0', { xbee: { path: '/dev/x', apiMode: 0 } }, 'gw.json: xbee.apiMode: expected one of 1, 2, got 0'],
    ['a serial link without a path', { serial: {} }, 'gw.json: serial.path: expected a non-empty string, got nothing'],
    ['a multicast address that is not IPv4', { udp: { multicastIp: 'ff02::1' } }, 'gw.json: udp.multicastIp: expected an IPv4 address, got "ff02::1"'],
    ['reserved topic id 0', { predefinedTopics: [{ topic: 'a', id: 0 }] }, 'gw.json: predefinedTopics[0].id: expected a topic id 1..65534 (0 and 65535 are reserved), got 0'],
    ['reserved topic id 0xFFFF', { predefinedTopics: [{ topic: 'a', id: 65535 }] }, 'gw.json: predefinedTopics[0].id: expected a topic id 1..65534 (0 and 65535 are reserved), got 65535'],
    ['a duplicate topic id', { predefinedTopics: [{ topic: 'a', id: 1 }, { topic: 'b', id: 1 }] }, 'gw.json: predefinedTopics[1]: topic id 1 is already "a" for client "*"'],
    ['a bad client address', { clients: [{ clientId: 'a', address: 'nowhere' }] }, 'gw.json: clients[0].address: expected ip:port, [ipv6]:port or a 16-hex-digit XBee address, got "nowhere"'],
    ['clients that is not an array', { clients: {} }, 'gw.json: clients: expected an array, got an object'],
  ];
  for (const [what, obj, message] of cases) {
    it(`rejects ${what}`, () => {
      expect(err(obj).message).toBe(message);
    });
  }

  it('defaults a predefined topic to every client ("*")', () => {
    expect(v({ predefinedTopics: [{ topic: 'a/b', id: 3 }] }).predefinedTopics).toEqual([{ clientId: '*', topic: 'a/b', id: 3 }]);
  });
});
