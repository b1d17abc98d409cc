import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../../gateway/config/load';
import { configError, fixture, fixturePath } from './helpers';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'fieldmq-config-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

function write(rel: string, text: string): string {
  const p = join(dir, rel);
  mkdirSync(join(p, '..'), { recursive: true });
  writeFileSync(p, text);
  return p;
}

describe('loadConfig › Paho gateway.conf', () => {
  it('reads the fixture with its client and topic lists resolved next to it', () => {
    const { config, warnings } = loadConfig(fixturePath('gateway.conf'));
    expect(config.gatewayId).toBe(7);
    expect(config.clients.map((c) => c.clientId)).toEqual(['Sensor01', 'Sensor02', 'Sensor03', 'QoS-1_Sensor04', 'Forwarder05', 'XBeeNode06']);
    expect(config.predefinedTopics).toHaveLength(5);
    expect(warnings.some((w) => w.key === 'ShearedMemory')).toBe(true);
  });

  it('resolves relative list paths against the config file, not the working directory', () => {
    const gw = write('etc/fieldmq/gateway.conf', 'ClientAuthentication=YES\nClientsList=lists/clients.conf\nPredefinedTopic=YES\nPredefinedTopicList=../shared/topics.conf\n');
    write('etc/fieldmq/lists/clients.conf', fixture('clients.conf'));
    write('etc/shared/topics.conf', '*,site/alarm,1\n');
    const { config } = loadConfig(gw);
    expect(config.clients).toHaveLength(6);
    expect(config.predefinedTopics).toEqual([{ clientId: '*', topic: 'site/alarm', id: 1 }]);
  });

  it('uses Paho\'s default list names in the config directory', () => {
    const gw = write('gateway.conf', 'ClientAuthentication=YES\nPredefinedTopic=YES\n');
    write('clients.conf', 'A,10.0.0.1:2000\n');
    write('predefinedTopic.conf', 'A,a/t,4\n');
    const { config } = loadConfig(gw);
    expect(config.clients).toEqual([{ clientId: 'A', address: '10.0.0.1:2000', flags: [] }]);
    expect(config.predefinedTopics).toEqual([{ clientId: 'A', topic: 'a/t', id: 4 }]);
  });

  it('keeps absolute paths and resolves relative TLS files', () => {
    const gw = write('gw/gateway.conf', 'BrokerName=b\nRootCAfile=certs/ca.pem\nCertKey=/abs/cert.pem\nPrivateKey=key.pem\n');
    const tls = loadConfig(gw).config.broker?.tls;
    expect(tls).toEqual({ ca: join(dir, 'gw/certs/ca.pem'), caPath: null, cert: '/abs/cert.pem', key: join(dir, 'gw/key.pem') });
  });

  it('does not read lists the file switches off (stock file with placeholder paths)', () => {
    const { config } = loadConfig(fixturePath('stock-gateway.conf'));
    expect(config.clients).toEqual([]);
    expect(config.broker?.url).toBe('mqtt://mqtt.eclipseprojects.io:1883');
  });

  it('reports a missing required list at the line that names it', () => {
    const gw = write('gateway.conf', '# auth\nClientAuthentication=YES\nClientsList=missing.conf\n');
    const e = configError(() => loadConfig(gw));
    expect(e.message).toBe(`${gw}:3: ClientsList: cannot read ${join(dir, 'missing.conf')}: file not found`);
  });

  it('warns, rather than fails, when an optional client list is missing', () => {
    const gw = write('gateway.conf', 'Forwarder=YES\n');
    const { warnings } = loadConfig(gw);
    expect(warnings.map((w) => w.message)).toEqual([`${gw}: ClientsList: ${join(dir, 'clients.conf')} not found; no client list loaded`]);
  });

  it('reports errors inside a list with the list file and its line', () => {
    const gw = write('gateway.conf', 'PredefinedTopic=YES\nPredefinedTopicList=t.conf\n');
    const t = write('t.conf', '# topics\n*,a/b,0\n');
    expect(configError(() => loadConfig(gw)).message).toBe(
      `${t}:2: TopicId: expected a topic id 1..65534 (0 and 65535 are reserved), got "0"`,
    );
  });

  it('passes the sensor-network choice through', () => {
    expect(loadConfig(fixturePath('gateway.conf'), { sensorNetworks: ['xbee'] }).config.xbee?.path).toBe('/dev/ttyUSB0');
  });
});

describe('loadConfig › JSON', () => {
  it('reads a .json file, validating it and resolving TLS paths against it', () => {
    const src = fixturePath('gateway.json');
    const { config, warnings } = loadConfig(src);
    expect(warnings).toEqual([]);
    expect(config.gatewayName).toBe('field-pi');
    expect(config.mode).toBe('aggregating');
    expect(config.broker?.url).toBe('mqtts://broker.example.net:8883');
    expect(config.broker?.tls?.ca).toBe(fixturePath('certs/ca.pem'));
    expect(config.clients[0]?.flags).toEqual(['sleep']);
  });

  it('treats text that parses as JSON as JSON whatever the file name', () => {
    const p = write('gateway.conf', '{ "gatewayId": 9 }');
    expect(loadConfig(p).config.gatewayId).toBe(9);
  });

  it('reports JSON validation errors with the file name and the line of the key', () => {
    const p = write('gw.json', '{ "brokr": {} }');
    expect(configError(() => loadConfig(p)).message).toBe(`${p}:1: brokr: unknown key (did you mean "broker"?)`);
  });

  it('names the line of a nested key, of an array element, and of the parent of a missing key', () => {
    const cases: [string, number, RegExp][] = [
      ['{\n  "gatewayId": 1,\n  "broker": {\n    "url": "mqtt://h",\n    "keepAlive": -4\n  }\n}\n', 5, /broker\.keepAlive: expected/],
      ['{\n  "broker": { "url": "mqtt://h" },\n  "predefinedTopics": [\n    { "id": 1, "topic": "a" },\n    { "id": 2 }\n  ]\n}\n', 5, /predefinedTopics\[1\]\.topic: expected/],
      ['{ "gatewayName": "a \\"keepAlive\\": 1, { [",\n  "gatewayId": 2,\n  "keepAlive": true }\n', 3, /keepAlive: expected/],
    ];
    for (const [text, line, message] of cases) {
      const e = configError(() => loadConfig(write('gw.json', text)));
      expect(e.message, text).toMatch(message);
      expect(e.line, text).toBe(line);
    }
  });

  it('reports a JSON syntax error in a .json file with its line', () => {
    const p = write('gw.json', '{\n  "gatewayId": 1,\n}\n');
    const e = configError(() => loadConfig(p));
    expect(e.message).toMatch(/invalid JSON/);
    expect(e.line).toBe(3);
  });

  it('reports an unreadable config file', () => {
    const p = join(dir, 'nope.conf');
    expect(configError(() => loadConfig(p)).message).toBe(`${p}: cannot read ${p}: file not found`);
  });
});
