import { describe, expect, it } from 'vitest';
import { statusName } from '../../src/core/status';
import { utf8Decode } from '../../src/core/utf8';
import {
  MqttPacket,
  decodePacket,
  decodeProperties,
  encodePacket,
  packetSize,
  type MqttProperties,
} from '../../src/mqtt/index';
import { MQTT_BAD_VECTORS, MQTT_VECTORS, hexBytes } from '../fixtures/mqtt-vectors';

const TEXT_FIELDS: Record<string, [keyof MqttPacket, keyof MqttPacket]> = {
  topic: ['topicOffset', 'topicLength'],
  payload: ['payloadOffset', 'payloadLength'],
  clientId: ['clientIdOffset', 'clientIdLength'],
  willTopic: ['willTopicOffset', 'willTopicLength'],
  willPayload: ['willPayloadOffset', 'willPayloadLength'],
  username: ['usernameOffset', 'usernameLength'],
  password: ['passwordOffset', 'passwordLength'],
};

function text(buf: Uint8Array, pkt: MqttPacket, name: string): string {
  const [o, l] = TEXT_FIELDS[name];
  const off = pkt[o] as number;
  return utf8Decode(buf, off, off + (pkt[l] as number));
}

function hexOf(b: Uint8Array): string {
  return Array.from(b, (v) => v.toString(16).padStart(2, '0')).join('');
}

describe('decodePacket › spec vectors', () => {
  for (const v of MQTT_VECTORS) {
    it(`${v.name} › decodes every field`, () => {
      // Place the packet at an offset inside a larger buffer, followed by junk:
      // offsets must be absolute and the length must stop at the packet.
      const bytes = hexBytes(v.hex);
      const buf = new Uint8Array(bytes.length + 20).fill(0xee);
      buf.set(bytes, 7);
      const pkt = new MqttPacket();
      const n = decodePacket(buf, 7, bytes.length + 13, v.version, pkt, 0);
      expect(statusName(n), `status ${n}`).toBe('Ok');
      expect(n).toBe(bytes.length);
      for (const [k, want] of Object.entries(v.fields)) expect(pkt[k as keyof MqttPacket], k).toBe(want);
      for (const [k, want] of Object.entries(v.text ?? {})) expect(text(buf, pkt, k), k).toBe(want);
      if (v.properties) {
        const props: MqttProperties = {};
        const st = decodeProperties(buf, pkt.propertiesOffset, pkt.propertiesOffset + pkt.propertiesLength, pkt.type, props);
        expect(statusName(st)).toBe('Ok');
        expect(props).toEqual(v.properties);
      }
    });
    if (v.info && !v.decodeOnly) {
      it(`${v.name} › encodes to exactly the spec bytes`, () => {
        const want = hexBytes(v.hex);
        expect(packetSize(v.info!, v.version)).toBe(want.length);
        const buf = new Uint8Array(want.length + 8).fill(0xaa);
        const end = encodePacket(v.info!, v.version, buf, 3);
        expect(statusName(end)).toBe('Ok');
        expect(end).toBe(3 + want.length);
        expect(hexOf(buf.subarray(3, end))).toBe(hexOf(want));
        expect(buf[2]).toBe(0xaa);
        expect(buf[end]).toBe(0xaa);
      });
    }
  }
});

describe('decodePacket › rejects malformed and hostile input', () => {
  for (const v of MQTT_BAD_VECTORS) {
    it(`${v.name} › ${v.status}`, () => {
      const bytes = hexBytes(v.hex);
      const pkt = new MqttPacket();
      const st = decodePacket(bytes, 0, bytes.length, v.version, pkt, v.maxPacketSize ?? 0);
      expect(statusName(st)).toBe(v.status);
    });
  }

  it('a length beyond the buffer is clamped to the buffer', () => {
    const bytes = hexBytes('30 07 0003 612f62 6869');
    const pkt = new MqttPacket();
    expect(decodePacket(bytes, 0, 1000, 4, pkt, 0)).toBe(bytes.length);
    expect(statusName(decodePacket(bytes.subarray(0, 5), 0, 1000, 4, pkt, 0))).toBe('NeedMoreBytes');
  });

  it('an unknown protocol version is Unsupported', () => {
    const bytes = hexBytes('c0 00');
    expect(statusName(decodePacket(bytes, 0, 2, 3, new MqttPacket(), 0))).toBe('Unsupported');
  });
});

describe('encoders › refuse what the spec forbids', () => {
  const cases: [string, Parameters<typeof encodePacket>[0], number, string][] = [
    ['PUBLISH topic with +', { type: 3, topic: 'a/+', qos: 0 }, 4, 'InvalidTopic'],
    ['PUBLISH topic with #', { type: 3, topic: '#', qos: 0 }, 5, 'InvalidTopic'],
    ['PUBLISH empty topic in 3.1.1', { type: 3, topic: '', qos: 0 }, 4, 'InvalidTopic'],
    ['PUBLISH empty topic in 5.0 without alias', { type: 3, topic: '', qos: 0 }, 5, 'InvalidTopic'],
    ['PUBLISH lone surrogate in topic', { type: 3, topic: 'a\ud800', qos: 0 }, 4, 'InvalidUtf8'],
    ['PUBLISH QoS 1 without packet id', { type: 3, topic: 't', qos: 1 }, 4, 'BadParameter'],
    ['PUBLISH QoS 3', { type: 3, topic: 't', qos: 3, packetId: 1 }, 4, 'BadParameter'],
    ['PUBLISH DUP on QoS 0', { type: 3, topic: 't', qos: 0, dup: true }, 4, 'BadParameter'],
    ['PUBLISH packet id 65536', { type: 3, topic: 't', qos: 1, packetId: 65536 }, 4, 'BadParameter'],
    ['PUBLISH properties in 3.1.1', { type: 3, topic: 't', qos: 0, properties: { topicAlias: 1 } }, 4, 'BadParameter'],
    ['PUBLISH Topic Alias 0', { type: 3, topic: 't', qos: 0, properties: { topicAlias: 0 } }, 5, 'BadParameter'],
    ['PUBLISH property not allowed in PUBLISH', { type: 3, topic: 't', qos: 0, properties: { sessionExpiryInterval: 1 } }, 5, 'BadParameter'],
    ['PUBLISH payload range outside the array', { type: 3, topic: 't', qos: 0, payload: new Uint8Array(4), payloadOffset: 2, payloadLength: 3 }, 4, 'BadParameter'],
    ['CONNECT keep alive 65536', { type: 1, clientId: 'a', cleanSession: true, keepAlive: 65536 }, 4, 'BadParameter'],
    ['CONNECT 3.1.1 password without user name', { type: 1, clientId: 'a', cleanSession: true, keepAlive: 1, password: 'p' }, 4, 'BadParameter'],
    ['CONNECT will topic with wildcard', { type: 1, clientId: 'a', cleanSession: true, keepAlive: 1, will: { topic: 'a/#', payload: '', qos: 0, retain: false } }, 4, 'InvalidTopic'],
    ['CONNECT protocol level 3', { type: 1, clientId: 'a', cleanSession: true, keepAlive: 1 }, 3, 'Unsupported'],
    ['CONNACK 3.1.1 return code 6', { type: 2, sessionPresent: false, reasonCode: 6 }, 4, 'BadParameter'],
    ['CONNACK 5.0 reason code 0x10', { type: 2, sessionPresent: false, reasonCode: 0x10 }, 5, 'BadParameter'],
    ['PUBACK packet id 0', { type: 4, packetId: 0 }, 4, 'BadParameter'],
    ['PUBACK reason code in 3.1.1', { type: 4, packetId: 1, reasonCode: 0x10 }, 4, 'BadParameter'],
    ['PUBREL reason code of PUBACK', { type: 6, packetId: 1, reasonCode: 0x10 }, 5, 'BadParameter'],
    ['SUBSCRIBE without filters', { type: 8, packetId: 1, subscriptions: [] }, 4, 'BadParameter'],
    ['SUBSCRIBE filter a/#/b', { type: 8, packetId: 1, subscriptions: [{ topic: 'a/#/b', qos: 0 }] }, 4, 'InvalidTopic'],
    ['SUBSCRIBE filter a+', { type: 8, packetId: 1, subscriptions: [{ topic: 'a+', qos: 0 }] }, 4, 'InvalidTopic'],
    ['SUBSCRIBE No Local in 3.1.1', { type: 8, packetId: 1, subscriptions: [{ topic: 't', qos: 0, noLocal: true }] }, 4, 'BadParameter'],
    ['SUBSCRIBE Retain Handling 3', { type: 8, packetId: 1, subscriptions: [{ topic: 't', qos: 0, retainHandling: 3 }] }, 5, 'BadParameter'],
    ['SUBACK code 3', { type: 9, packetId: 1, reasonCodes: [3] }, 4, 'BadParameter'],
    ['UNSUBACK codes in 3.1.1', { type: 11, packetId: 1, reasonCodes: [0] }, 4, 'BadParameter'],
    ['DISCONNECT reason code in 3.1.1', { type: 14, reasonCode: 4 }, 4, 'Unsupported'],
    ['AUTH in 3.1.1', { type: 15 }, 4, 'Unsupported'],
    ['AUTH reason code 0x87', { type: 15, reasonCode: 0x87 }, 5, 'BadParameter'],
  ];
  for (const [name, info, version, status] of cases) {
    it(`${name} › ${status}`, () => {
      const buf = new Uint8Array(96).fill(0x55);
      expect(statusName(packetSize(info, version))).toBe(status);
      expect(statusName(encodePacket(info, version, buf, 16))).toBe(status);
      // Nothing before the packet's offset is ever touched; only the one-pass
      // PUBLISH topic copy may have started writing when it meets a bad topic.
      expect(buf.subarray(0, 16).every((b) => b === 0x55)).toBe(true);
      const topicCopy = info.type === 3 && (status === 'InvalidTopic' || status === 'InvalidUtf8');
      if (!topicCopy) expect(buf.every((b) => b === 0x55)).toBe(true);
    });
  }

  it('a buffer one byte too small › NoMemory and nothing written past it', () => {
    for (const v of MQTT_VECTORS) {
      if (!v.info || v.decodeOnly) continue;
      const size = packetSize(v.info, v.version);
      const backing = new Uint8Array(size + 4).fill(0x55);
      const buf = backing.subarray(0, size - 1);
      expect(statusName(encodePacket(v.info, v.version, buf, 0)), v.name).toBe('NoMemory');
      expect(backing[size - 1], v.name).toBe(0x55);
    }
  });

  it('a Remaining Length over 268,435,455 › TooLarge', () => {
    const huge = new Uint8Array(268435456); // zero pages: sized, never written
    expect(statusName(packetSize({ type: 3, topic: 't', qos: 0, payload: huge }, 4))).toBe('TooLarge');
    expect(statusName(encodePacket({ type: 3, topic: 't', qos: 0, payload: huge }, 4, new Uint8Array(16), 0))).toBe('TooLarge');
  });
});
