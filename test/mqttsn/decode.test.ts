import { describe, expect, it } from 'vitest';
import { Status, statusName } from '../../src/core/status';
import { MsgType, TopicIdType } from '../../src/mqttsn/constants';
import { decodeMessage } from '../../src/mqttsn/decode';
import { SnMessage } from '../../src/mqttsn/message';
import { snBadVectors, snVectors, type SnVector } from '../fixtures/mqttsn-vectors';
import { expectedFields, fieldsOf, fromHex, msgTypeName, normHex, toHex } from './helpers';

/** Vectors grouped by message type, in table order. */
function byType(vectors: SnVector[]): Array<[string, SnVector[]]> {
  const groups: Array<[string, SnVector[]]> = [];
  for (const v of vectors) {
    const name = msgTypeName(v.fields.type);
    const g = groups.find((x) => x[0] === name);
    if (g) g[1].push(v);
    else groups.push([name, [v]]);
  }
  return groups;
}

/** A message with every field set to junk, to prove the decoder resets it. */
function dirty(): SnMessage {
  const m = new SnMessage();
  Object.assign(m, {
    type: MsgType.CONNECT, length: 99, dup: true, qos: 2, retain: true, will: true, cleanSession: true,
    topicIdType: TopicIdType.Short, gwId: 9, duration: 9, radius: 9, protocolId: 9, returnCode: 9,
    topicId: 9, msgId: 9, hasDuration: true, hasFlags: false, dataOffset: 9, dataLength: 9, text: 'x',
  });
  m.data = new Uint8Array(4);
  return m;
}

describe('decodeMessage', () => {
  for (const [typeName, vectors] of byType(snVectors)) {
    describe(typeName, () => {
      for (const v of vectors) {
        describe(v.name, () => {
          it('reads every field the spec table lays out', () => {
            const buf = fromHex(v.hex);
            const out = dirty();
            expect(decodeMessage(buf, 0, buf.length, out)).toBe(buf.length);
            expect(out.length).toBe(buf.length);
            expect(fieldsOf(out)).toEqual(expectedFields(v));
            expect(out.text).toBeNull();
          });

          if (v.data !== undefined) {
            it('points at the variable field inside the input buffer, without a copy', () => {
              const buf = fromHex(v.hex);
              const out = new SnMessage();
              decodeMessage(buf, 0, buf.length, out);
              expect(out.data).toBe(buf);
              expect(out.dataOffset + out.dataLength).toBe(buf.length);
              expect(toHex(buf, out.dataOffset, out.dataOffset + out.dataLength)).toBe(normHex(v.data!));
            });
          } else {
            it('has no variable field (data is null)', () => {
              const buf = fromHex(v.hex);
              const out = dirty();
              decodeMessage(buf, 0, buf.length, out);
              expect(out.data).toBeNull();
              expect(out.dataLength).toBe(0);
            });
          }

          it('asks for more bytes for every truncation', () => {
            const buf = fromHex(v.hex);
            const out = new SnMessage();
            for (let n = 0; n < buf.length; n++) expect(decodeMessage(buf, 0, n, out)).toBe(Status.NeedMoreBytes);
          });
        });
      }
    });
  }

  describe('PUBLISH', () => {
    describe('QoS -1 with short topic', () => {
      it('reads topic bytes as topicId', () => {
        const buf = fromHex('09 0c 62 74 31 00 00 34 32');
        const out = new SnMessage();
        expect(decodeMessage(buf, 0, buf.length, out)).toBe(9);
        expect(out.qos).toBe(-1);
        expect(out.topicIdType).toBe(TopicIdType.Short);
        expect(out.topicId).toBe(('t'.charCodeAt(0) << 8) | '1'.charCodeAt(0));
      });
    });
  });

  describe('SUBSCRIBE', () => {
    describe('short topic name', () => {
      it('reads the two octets as topicId and leaves data null', () => {
        const buf = fromHex('07 12 42 00 05 74 31');
        const out = new SnMessage();
        expect(decodeMessage(buf, 0, buf.length, out)).toBe(7);
        expect(out.topicId).toBe(0x7431);
        expect(out.data).toBeNull();
      });
    });
  });

  describe('framing', () => {
    it('returns the declared Length and ignores octets after it', () => {
      const buf = fromHex('04 18 0e 10 02 17 ff');
      const out = new SnMessage();
      expect(decodeMessage(buf, 0, buf.length, out)).toBe(4);
      expect(out.type).toBe(MsgType.DISCONNECT);
      expect(decodeMessage(buf, 4, 2, out)).toBe(2);
      expect(out.type).toBe(MsgType.PINGRESP);
    });

    it('reads at a non-zero offset and reports an absolute dataOffset', () => {
      const buf = fromHex('aa bb cc 0b 0c 20 00 05 00 02 32 31 2e 35 dd');
      const out = new SnMessage();
      expect(decodeMessage(buf, 3, 11, out)).toBe(11);
      expect(out.dataOffset).toBe(10);
      expect(out.dataLength).toBe(4);
    });

    it('clears the fields of the previous message', () => {
      const out = new SnMessage();
      const a = fromHex('08 0c c2 61 62 12 34 ff');
      const b = fromHex('04 15 00 06');
      decodeMessage(a, 0, a.length, out);
      decodeMessage(b, 0, b.length, out);
      expect(out.dup).toBe(false);
      expect(out.qos).toBe(0);
      expect(out.topicId).toBe(0);
      expect(out.data).toBeNull();
    });

    it('refuses off/len outside the buffer with BadParameter', () => {
      const buf = fromHex('02 17');
      const out = new SnMessage();
      expect(decodeMessage(buf, 0, 3, out)).toBe(Status.BadParameter);
      expect(decodeMessage(buf, -1, 2, out)).toBe(Status.BadParameter);
      expect(decodeMessage(buf, 2, 1, out)).toBe(Status.BadParameter);
    });
  });

  describe('rejects', () => {
    for (const v of snBadVectors) {
      it(`${v.name} → ${statusName(v.status)}`, () => {
        const buf = fromHex(v.hex);
        expect(decodeMessage(buf, 0, buf.length, new SnMessage())).toBe(v.status);
      });
    }
  });
});
