import { describe, expect, it } from 'vitest';
import { statusName } from '../../src/core/status';
import { utf8Encode, utf8Length } from '../../src/core/utf8';
import { checkTopicFilter, checkTopicName, topicFilterLength, topicMatches, topicNameLength } from '../../src/mqtt/index';

function bytes(s: string): Uint8Array {
  const b = new Uint8Array(utf8Length(s));
  utf8Encode(s, b, 0);
  return b;
}

function matches(filter: string, topic: string): boolean {
  const b = bytes(topic);
  return topicMatches(filter, b, 0, b.length);
}

describe('topic names (MQTT 3.1.1 §4.7)', () => {
  it.each([
    ['a/b', 'Ok'],
    ['/', 'Ok'],
    ['a//b', 'Ok'],
    ['$SYS/x', 'Ok'],
    ['é/€/😀', 'Ok'],
    ['a/+', 'InvalidTopic'],
    ['#', 'InvalidTopic'],
    ['a\u0000b', 'InvalidTopic'],
  ])('%s › %s', (topic, want) => {
    const n = topicNameLength(topic);
    expect(statusName(n)).toBe(want);
    if (want === 'Ok') {
      expect(n).toBe(new TextEncoder().encode(topic).length);
      const b = bytes(topic);
      expect(statusName(checkTopicName(b, 0, b.length))).toBe('Ok');
    }
  });

  it('a name longer than 65,535 bytes is invalid', () => {
    expect(statusName(topicNameLength('a'.repeat(65536)))).toBe('InvalidTopic');
    expect(topicNameLength('a'.repeat(65535))).toBe(65535);
  });
});

describe('topic filters (MQTT 3.1.1 §4.7.1)', () => {
  it.each([
    ['#', 'Ok'],
    ['a/#', 'Ok'],
    ['+', 'Ok'],
    ['+/+/#', 'Ok'],
    ['a/+/b', 'Ok'],
    ['/+', 'Ok'],
    ['$share/g/a/#', 'Ok'],
    ['', 'InvalidTopic'],
    ['a#', 'InvalidTopic'],
    ['a/#/b', 'InvalidTopic'],
    ['#/', 'InvalidTopic'],
    ['a+', 'InvalidTopic'],
    ['+a', 'InvalidTopic'],
    ['a/b+/c', 'InvalidTopic'],
  ])('%s › %s', (filter, want) => {
    expect(statusName(topicFilterLength(filter))).toBe(want);
    const b = bytes(filter);
    expect(statusName(checkTopicFilter(b, 0, b.length))).toBe(want);
  });
});

describe('topicMatches (MQTT 3.1.1 §4.7.1, §4.7.2)', () => {
  it.each([
    ['sport/tennis/player1/#', 'sport/tennis/player1', true],
    ['sport/tennis/player1/#', 'sport/tennis/player1/ranking', true],
    ['sport/tennis/player1/#', 'sport/tennis/player1/score/wimbledon', true],
    ['sport/#', 'sport', true],
    ['#', 'a/b/c', true],
    ['sport/tennis/+', 'sport/tennis/player1', true],
    ['sport/tennis/+', 'sport/tennis/player1/ranking', false],
    ['sport/+', 'sport', false],
    ['sport/+', 'sport/', true],
    ['+/+', '/finance', true],
    ['/+', '/finance', true],
    ['+', '/finance', false],
    ['a/b', 'a/b', true],
    ['a/b', 'a/bc', false],
    ['a/b', 'a', false],
    ['a/+/c', 'a//c', true],
    ['#', '$SYS/x', false],
    ['+/monitor/Clients', '$SYS/monitor/Clients', false],
    ['$SYS/#', '$SYS/monitor/Clients', true],
    ['$SYS/monitor/+', '$SYS/monitor/Clients', true],
    ['é/+/€', 'é/x/€', true],
    ['é/+/€', 'e/x/€', false],
    ['😀/#', '😀/a', true],
    ['😀', '😁', false],
  ])('%s matches %s › %s', (filter, topic, want) => {
    expect(matches(filter, topic)).toBe(want);
  });
});
