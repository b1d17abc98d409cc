import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MsgType, TopicIdType } from '../../src/mqttsn/constants';
import { decodeMessage } from '../../src/mqttsn/decode';
import { encodeMessage, messageSize } from '../../src/mqttsn/encode';
import { SnMessage } from '../../src/mqttsn/message';
import { snVectors } from '../fixtures/mqttsn-vectors';
import { fieldsOf, fromHex, msgTypeName, normHex, toHex } from './helpers';

/** Decodes `bytes`, re-encodes the decoded message as it stands, returns the hex. */
function reencode(bytes: Uint8Array): { out: SnMessage; hex: string } {
  const out = new SnMessage();
  expect(decodeMessage(bytes, 0, bytes.length, out)).toBe(bytes.length);
  const buf = new Uint8Array(messageSize(out));
  expect(encodeMessage(out, buf, 0)).toBe(buf.length);
  return { out, hex: toHex(buf) };
}

describe('round trip', () => {
  for (const v of snVectors) {
    describe(`${msgTypeName(v.fields.type)} › ${v.name}`, () => {
      if (v.canonical !== false) {
        it('decode then encode gives the same bytes', () => {
          expect(reencode(fromHex(v.hex)).hex).toBe(normHex(v.hex));
        });
      } else {
        it('decode then encode gives the canonical form with the same fields', () => {
          const first = reencode(fromHex(v.hex));
          const again = reencode(fromHex(first.hex));
          expect(again.hex).toBe(first.hex);
          expect(fieldsOf(again.out)).toEqual(fieldsOf(first.out));
          expect(fromHex(first.hex).length).toBeLessThanOrEqual(fromHex(v.hex).length);
        });
      }
    });
  }

  const TYPES = [
    MsgType.ADVERTISE, MsgType.SEARCHGW, MsgType.GWINFO, MsgType.CONNECT, MsgType.CONNACK,
    MsgType.WILLTOPICREQ, MsgType.WILLTOPIC, MsgType.WILLMSGREQ, MsgType.WILLMSG, MsgType.REGISTER,
    MsgType.REGACK, MsgType.PUBLISH, MsgType.PUBACK, MsgType.PUBCOMP, MsgType.PUBREC, MsgType.PUBREL,
    MsgType.SUBSCRIBE, MsgType.SUBACK, MsgType.UNSUBSCRIBE, MsgType.UNSUBACK, MsgType.PINGREQ,
    MsgType.PINGRESP, MsgType.DISCONNECT, MsgType.WILLTOPICUPD, MsgType.WILLTOPICRESP,
    MsgType.WILLMSGUPD, MsgType.WILLMSGRESP,
  ];

  const arbMessage = fc
    .record({
      type: fc.constantFrom(...TYPES),
      dup: fc.boolean(),
      qos: fc.integer({ min: 0, max: 2 }),
      minusOne: fc.boolean(),
      retain: fc.boolean(),
      will: fc.boolean(),
      cleanSession: fc.boolean(),
      topicIdType: fc.integer({ min: 0, max: 2 }),
      u8: fc.array(fc.integer({ min: 0, max: 255 }), { minLength: 4, maxLength: 4 }),
      u16: fc.array(fc.integer({ min: 0, max: 0xffff }), { minLength: 3, maxLength: 3 }),
      hasDuration: fc.boolean(),
      hasFlags: fc.boolean(),
      text: fc.option(fc.string({ unit: 'grapheme', minLength: 1, maxLength: 40 }).filter((s) => !s.includes('\u0000'))),
      bytes: fc.uint8Array({ maxLength: 300 }),
    })
    .map((r) => {
      const m = new SnMessage();
      m.type = r.type;
      m.dup = r.dup;
      // QoS -1 only where it is legal: PUBLISH with a predefined or short topic (§6.8).
      m.qos = r.type === MsgType.PUBLISH && r.minusOne && r.topicIdType !== TopicIdType.Normal ? -1 : r.qos;
      m.retain = r.retain;
      m.will = r.will;
      m.cleanSession = r.cleanSession;
      m.topicIdType = r.topicIdType;
      m.gwId = r.u8[0];
      m.radius = r.u8[1];
      m.returnCode = r.u8[2];
      m.topicId = r.u16[0];
      m.msgId = r.u16[1];
      m.duration = r.u16[2];
      m.hasDuration = r.hasDuration;
      m.hasFlags = r.hasFlags;
      if (r.text !== null) m.text = r.text;
      else {
        m.data = r.bytes;
        m.dataLength = r.bytes.length;
      }
      return m;
    });

  it('every encodable message decodes, and re-encodes to the same bytes', () => {
    fc.assert(
      fc.property(arbMessage, (m) => {
        const size = messageSize(m);
        if (size < 0) {
          // Only a UTF-8 field given random bytes may be refused.
          expect(m.text).toBeNull();
          return;
        }
        const buf = new Uint8Array(size);
        expect(encodeMessage(m, buf, 0)).toBe(size);
        const { out, hex } = reencode(buf);
        expect(hex).toBe(toHex(buf));
        expect(out.type).toBe(m.type);
      }),
      { numRuns: 3000 },
    );
  });
});
