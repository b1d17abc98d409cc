import { describe, expect, it } from 'vitest';
import { parseClientsConf, parsePredefinedTopics } from '../../../gateway/config/paho';
import { configError, fixture } from './helpers';

describe('parsePredefinedTopics', () => {
  it('reads ClientId,TopicName,TopicId lines, * meaning every client, fields trimmed', () => {
    expect(parsePredefinedTopics(fixture('predefinedTopic.conf'), 'predefinedTopic.conf')).toEqual([
      { clientId: '*', topic: 'fieldmq/predefined/common', id: 1 },
      { clientId: '*', topic: 'fieldmq/predefined/alarm', id: 2 },
      { clientId: 'Sensor01', topic: 'fieldmq/sensor01/temp', id: 10 },
      { clientId: 'Sensor01', topic: 'fieldmq/sensor01/humidity', id: 11 },
      { clientId: 'Sensor02', topic: 'fieldmq/sensor02/temp', id: 10 },
    ]);
  });

  it('accepts the same id for different clients', () => {
    expect(parsePredefinedTopics('A,a/t,5\nB,b/t,5\n', 'p.conf')).toHaveLength(2);
  });

  const cases: Array<[string, string, string]> = [
    ['reserved id 0', '*,a/b,0', 'p.conf:1: TopicId: expected a topic id 1..65534 (0 and 65535 are reserved), got "0"'],
    ['reserved id 0xFFFF', '# x\n*,a/b,65535', 'p.conf:2: TopicId: expected a topic id 1..65534 (0 and 65535 are reserved), got "65535"'],
    ['id that is not a number', '*,a/b,one', 'p.conf:1: TopicId: expected a topic id 1..65534 (0 and 65535 are reserved), got "one"'],
    ['missing id', '*,a/b', 'p.conf:1: expected ClientId,TopicName,TopicId, got 2 fields'],
    ['empty client id', ',a/b,1', 'p.conf:1: ClientId: is empty (use * for every client)'],
    ['empty topic', 'A, ,1', 'p.conf:1: TopicName: is empty'],
    ['one id used for two topics of a client', 'A,a/b,1\n\nA,a/c,1', 'p.conf:3: TopicId: topic id 1 is already "a/b" for client "A"'],
    ['one topic under two ids for a client', '*,a/b,1\n*,a/b,2', 'p.conf:2: TopicId: topic "a/b" already has id 1 for client "*"'],
  ];
  for (const [what, text, message] of cases) {
    it(`rejects ${what}`, () => {
      expect(configError(() => parsePredefinedTopics(text, 'p.conf')).message).toBe(message);
    });
  }
});

describe('parseClientsConf', () => {
  it('reads ClientId,Address[,flags] with Paho flags and the fieldmq sleep flag', () => {
    expect(parseClientsConf(fixture('clients.conf'), 'clients.conf')).toEqual([
      { clientId: 'Sensor01', address: '172.16.1.6:12001', flags: [] },
      { clientId: 'Sensor02', address: '172.16.1.7:12002', flags: ['unstableLine'] },
      { clientId: 'Sensor03', address: '172.16.1.8:12003', flags: ['unstableLine', 'secureConnection'] },
      { clientId: 'QoS-1_Sensor04', address: '172.16.1.9:12004', flags: ['QoS-1'] },
      { clientId: 'Forwarder05', address: '172.16.1.10:12005', flags: ['forwarder'] },
      { clientId: 'XBeeNode06', address: '0013A20040A1B2C3', flags: ['sleep'] },
    ]);
  });

  it('accepts [ipv6]:port addresses', () => {
    expect(parseClientsConf('C,[fe80::1]:10000', 'c.conf')[0]?.address).toBe('[fe80::1]:10000');
  });

  const cases: Array<[string, string, string]> = [
    ['an unknown flag, suggesting the near miss', 'A,10.0.0.1:1,unstableline', 'c.conf:1: unstableline: unknown flag (did you mean "unstableLine"?)'],
    ['an address without a port', '#\nA,10.0.0.1', 'c.conf:2: Address: expected ip:port, [ipv6]:port or a 16-hex-digit XBee address, got "10.0.0.1"'],
    ['a port out of range', 'A,10.0.0.1:0', 'c.conf:1: Address: expected a port number 1..65535, got "0"'],
    ['a line with only a client id', 'A', 'c.conf:1: expected ClientId,Address[,flags]'],
    ['a duplicate client id', 'A,10.0.0.1:1\nA,10.0.0.2:1', 'c.conf:2: ClientId: "A" is already listed on line 1'],
  ];
  for (const [what, text, message] of cases) {
    it(`rejects ${what}`, () => {
      expect(configError(() => parseClientsConf(text, 'c.conf')).message).toBe(message);
    });
  }
});
