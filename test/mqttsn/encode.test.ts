import { describe, expect, it } from 'vitest';
import { Status, statusName } from '../../src/core/status';
import { MsgType, TopicIdType } from '../../src/mqttsn/constants';
import { encodeMessage, messageSize } from '../../src/mqttsn/encode';
import { SnMessage } from '../../src/mqttsn/message';
import { snVectors } from '../fixtures/mqttsn-vectors';
import { fromHex, messageFor, msgTypeName, normHex, toHex } from './helpers';

function encodeHex(m: SnMessage): string {
  const size = messageSize(m);
  expect(size).toBeGreaterThan(0);
  const buf = new Uint8Array(size);
  expect(encodeMessage(m, buf, 0)).toBe(size);
  return toHex(buf);
}

function msg(fields: Partial<SnMessage>): SnMessage {
  return Object.assign(new SnMessage(), fields);
}

describe('encodeMessage', () => {
  for (const v of snVectors) {
    if (v.canonical === false) continue;
    describe(msgTypeName(v.fields.type), () => {
      describe(v.name, () => {
        it('writes the spec bytes from data', () => {
          expect(encodeHex(messageFor(v))).toBe(normHex(v.hex));
        });
        if (v.text !== undefined) {
          it('writes the spec bytes from text', () => {
            expect(encodeHex(messageFor(v, true))).toBe(normHex(v.hex));
          });
        }
        it('messageSize is the vector length', () => {
          expect(messageSize(messageFor(v))).toBe(fromHex(v.hex).length);
        });
      });
    });
  }

  describe('Length field', () => {
    it('uses the 1-octet form up to 255 octets and the 3-octet form from 256', () => {
      const m = msg({ type: MsgType.WILLMSG, data: new Uint8Array(300) });
      m.dataLength = 253;
      expect(messageSize(m)).toBe(255);
      m.dataLength = 254;
      expect(messageSize(m)).toBe(258);
      const buf = new Uint8Array(258);
      expect(encodeMessage(m, buf, 0)).toBe(258);
      expect(toHex(buf, 0, 4)).toBe('01 01 02 09');
    });

    it('encodes a 65535-octet message', () => {
      const m = msg({ type: MsgType.PUBLISH, topicId: 1, data: new Uint8Array(65535 - 9) });
      m.dataLength = 65535 - 9;
      expect(messageSize(m)).toBe(65535);
      const buf = new Uint8Array(65535);
      expect(encodeMessage(m, buf, 0)).toBe(65535);
      expect(toHex(buf, 0, 4)).toBe('01 ff ff 0c');
    });

    it('refuses a 65536-octet message with TooLarge', () => {
      const m = msg({ type: MsgType.PUBLISH, topicId: 1, data: new Uint8Array(65536 - 9) });
      m.dataLength = 65536 - 9;
      expect(messageSize(m)).toBe(Status.TooLarge);
      expect(encodeMessage(m, new Uint8Array(70000), 0)).toBe(Status.TooLarge);
    });
  });

  describe('buffer too small', () => {
    it('returns NoMemory and writes nothing', () => {
      const m = msg({ type: MsgType.PUBLISH, qos: 1, topicId: 5, msgId: 2, text: '21.5' });
      const size = messageSize(m);
      const buf = new Uint8Array(size + 4).fill(0xee);
      expect(encodeMessage(m, buf, 5)).toBe(Status.NoMemory);
      expect(buf.every((b) => b === 0xee)).toBe(true);
      expect(encodeMessage(m, buf.subarray(0, size - 1), 0)).toBe(Status.NoMemory);
      expect(buf.every((b) => b === 0xee)).toBe(true);
      expect(encodeMessage(m, buf, 4)).toBe(size + 4);
    });

    it('returns NoMemory for a negative offset', () => {
      expect(encodeMessage(msg({ type: MsgType.PINGRESP }), new Uint8Array(8), -1)).toBe(Status.NoMemory);
    });
  });

  describe('optional fields', () => {
    it('writes an empty WILLTOPIC when hasFlags is false', () => {
      expect(encodeHex(msg({ type: MsgType.WILLTOPIC, hasFlags: false, qos: 1, text: 'ignored' }))).toBe('02 07');
    });
    it('writes DISCONNECT without Duration unless hasDuration', () => {
      expect(encodeHex(msg({ type: MsgType.DISCONNECT, duration: 60 }))).toBe('02 18');
      expect(encodeHex(msg({ type: MsgType.DISCONNECT, duration: 60, hasDuration: true }))).toBe('04 18 00 3c');
    });
    it('writes 0 for Flags bits the type does not use', () => {
      const m = msg({ type: MsgType.CONNECT, dup: true, qos: 2, retain: true, will: true, topicIdType: TopicIdType.Short, text: 'c' });
      expect(encodeHex(m)).toBe('07 04 08 01 00 00 63');
      const u = msg({ type: MsgType.UNSUBSCRIBE, dup: true, qos: -1, retain: true, topicIdType: TopicIdType.Predefined, topicId: 7 });
      expect(encodeHex(u)).toBe('07 14 01 00 00 00 07');
    });
    it('prefers text over data', () => {
      const m = msg({ type: MsgType.WILLMSG, text: 'hi', data: new Uint8Array(5) });
      m.dataLength = 5;
      expect(encodeHex(m)).toBe('04 09 68 69');
    });
    it('allows U+0000 in opaque data given as text', () => {
      expect(encodeHex(msg({ type: MsgType.PUBLISH, topicId: 1, text: 'a\u0000' }))).toBe('09 0c 00 00 01 00 00 61 00');
    });
  });

  describe('rejects', () => {
    const cases: Array<[string, Partial<SnMessage>, number]> = [
      ['reserved type 0x03', { type: 0x03 as MsgType }, Status.BadParameter],
      ['reserved type 0x1e', { type: 0x1e as MsgType }, Status.BadParameter],
      ['ENCAPSULATED (use encodeForwarderHeader)', { type: MsgType.ENCAPSULATED }, Status.BadParameter],
      ['QoS -1 in SUBSCRIBE', { type: MsgType.SUBSCRIBE, qos: -1, topicIdType: TopicIdType.Predefined, topicId: 1 }, Status.BadParameter],
      ['QoS -1 in WILLTOPIC', { type: MsgType.WILLTOPIC, qos: -1, text: 'w' }, Status.BadParameter],
      ['QoS -1 in SUBACK', { type: MsgType.SUBACK, qos: -1 }, Status.BadParameter],
      ['QoS -1 PUBLISH with a normal topic id', { type: MsgType.PUBLISH, qos: -1, topicId: 5 }, Status.BadParameter],
      ['QoS 3', { type: MsgType.PUBLISH, qos: 3, topicId: 5 }, Status.BadParameter],
      ['QoS -2', { type: MsgType.PUBLISH, qos: -2, topicId: 5 }, Status.BadParameter],
      ['QoS 0.5', { type: MsgType.PUBLISH, qos: 0.5, topicId: 5 }, Status.BadParameter],
      ['TopicIdType 3 in PUBLISH', { type: MsgType.PUBLISH, topicIdType: 3 as TopicIdType, topicId: 5 }, Status.BadParameter],
      ['TopicIdType 3 in SUBSCRIBE', { type: MsgType.SUBSCRIBE, topicIdType: 3 as TopicIdType, topicId: 5 }, Status.BadParameter],
      ['msgId 0x10000', { type: MsgType.PUBACK, msgId: 0x10000 }, Status.BadParameter],
      ['msgId -1', { type: MsgType.PUBREL, msgId: -1 }, Status.BadParameter],
      ['msgId 1.5', { type: MsgType.PUBREL, msgId: 1.5 }, Status.BadParameter],
      ['msgId NaN', { type: MsgType.PUBREL, msgId: NaN }, Status.BadParameter],
      ['topicId 0x10000', { type: MsgType.REGACK, topicId: 0x10000 }, Status.BadParameter],
      ['duration 0x10000', { type: MsgType.ADVERTISE, duration: 0x10000 }, Status.BadParameter],
      ['gwId 256', { type: MsgType.GWINFO, gwId: 256 }, Status.BadParameter],
      ['radius -1', { type: MsgType.SEARCHGW, radius: -1 }, Status.BadParameter],
      ['returnCode 256', { type: MsgType.CONNACK, returnCode: 256 }, Status.BadParameter],
      ['protocolId 256', { type: MsgType.CONNECT, protocolId: 256, text: 'c' }, Status.BadParameter],
      ['empty REGISTER topic name', { type: MsgType.REGISTER, text: '' }, Status.BadParameter],
      ['REGISTER without topic name', { type: MsgType.REGISTER }, Status.BadParameter],
      ['empty SUBSCRIBE topic name', { type: MsgType.SUBSCRIBE, text: '' }, Status.BadParameter],
      ['empty UNSUBSCRIBE topic name', { type: MsgType.UNSUBSCRIBE }, Status.BadParameter],
      ['dataLength without data', { type: MsgType.WILLMSG, dataLength: 3 }, Status.BadParameter],
      ['data view past the end', { type: MsgType.WILLMSG, data: new Uint8Array(4), dataOffset: 2, dataLength: 3 }, Status.BadParameter],
      ['negative dataOffset', { type: MsgType.WILLMSG, data: new Uint8Array(4), dataOffset: -1, dataLength: 1 }, Status.BadParameter],
      ['text with a lone high surrogate', { type: MsgType.CONNECT, text: 'a\ud800' }, Status.InvalidUtf8],
      ['text with a lone low surrogate', { type: MsgType.PUBLISH, topicId: 1, text: '\udc00' }, Status.InvalidUtf8],
      ['topic text with U+0000', { type: MsgType.REGISTER, text: 'a\u0000b' }, Status.InvalidUtf8],
      ['ClientId text with U+0000', { type: MsgType.PINGREQ, text: '\u0000' }, Status.InvalidUtf8],
      ['topic data that is not UTF-8', { type: MsgType.SUBSCRIBE, data: fromHex('c3 28'), dataLength: 2 }, Status.InvalidUtf8],
      ['WillTopic data that is not UTF-8', { type: MsgType.WILLTOPICUPD, data: fromHex('ff'), dataLength: 1 }, Status.InvalidUtf8],
    ];
    for (const [name, fields, status] of cases) {
      it(`${name} → ${statusName(status)}`, () => {
        const m = msg(fields);
        expect(messageSize(m)).toBe(status);
        const buf = new Uint8Array(64).fill(0xee);
        expect(encodeMessage(m, buf, 0)).toBe(status);
        expect(buf.every((b) => b === 0xee)).toBe(true);
      });
    }
  });
});
