/**
 * Boundaries that random generation rarely hits exactly, run through all
 * three cross-checks (same bytes, fieldmq → mqtt-packet, mqtt-packet →
 * fieldmq):
 * - the Remaining Length on each side of every Variable Byte Integer length
 *   step: 127/128, 16,383/16,384, 2,097,151/2,097,152 (3.1.1 §2.2.3,
 *   5.0 §1.5.5 and §2.1.4), checked against the header bytes too;
 * - strings and binary fields of exactly 65,535 bytes, the most a two-byte
 *   length prefix holds (3.1.1 §1.5.3, 5.0 §1.5.4 and §1.5.6), built from
 *   1- to 4-byte UTF-8 characters.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { PacketType } from '../../../src/mqtt/constants';
import type { AnyPacketInfo } from '../../../src/mqtt/encode';
import { fcOptions, packetId, utf8String, type Version } from './arbitraries';
import { checkFieldmqToMqttPacket, checkMqttPacketToFieldmq, checkSameBytes, encodeWithFieldmq, utf8Bytes } from './helpers';

function checkAll(info: AnyPacketInfo, v: Version): void {
  checkSameBytes(info, v);
  checkFieldmqToMqttPacket(info, v);
  checkMqttPacketToFieldmq(info, v);
}

/** Remaining Length and its encoded size, read from the header independently of both libraries. */
function remainingLength(bytes: Uint8Array): { value: number; size: number } {
  let value = 0;
  let mult = 1;
  let i = 1;
  for (;;) {
    value += (bytes[i] & 0x7f) * mult;
    if ((bytes[i] & 0x80) === 0) return { value, size: i };
    mult *= 128;
    i++;
  }
}

/** §2.2.3 table 2.4: bytes of a Remaining Length. */
function varintBytes(n: number): number {
  return n < 128 ? 1 : n < 16384 ? 2 : n < 2097152 ? 3 : 4;
}

/** A valid string of exactly `n` UTF-8 bytes, from a random alphabet (`exclude` left out), padded with ASCII. */
function stringOfBytes(n: number, exclude = ''): fc.Arbitrary<string> {
  return fc.tuple(utf8String(1, 6, exclude), fc.integer()).map(([alphabet, seed]) => {
    const chars = Array.from(alphabet);
    let x = seed | 0 || 1;
    let out = '';
    let bytes = 0;
    while (n - bytes >= 4) {
      x ^= x << 13;
      x ^= x >>> 17;
      x ^= x << 5;
      const c = chars[(x >>> 0) % chars.length];
      out += c;
      bytes += utf8Bytes(c).length;
    }
    return out + 'a'.repeat(n - bytes);
  });
}

const versions = fc.constantFrom<Version>(4, 5);

describe('fieldmq ⇔ mqtt-packet › boundaries', () => {
  it('PUBLISH › Remaining Length on each side of every varint length step', () => {
    const targets = [127, 128, 16383, 16384, 2097151, 2097152];
    fc.assert(
      fc.property(
        fc.constantFrom(...targets),
        versions,
        utf8String(1, 12, '+#'),
        fc.constantFrom(0, 1, 2),
        packetId,
        fc.integer(),
        (target, v, topic, qos, id, fill) => {
          // Remaining Length = topic (2 + n) + packet id (QoS > 0) + v5 Property Length 0 + payload.
          const fixed = 2 + utf8Bytes(topic).length + (qos > 0 ? 2 : 0) + (v === 5 ? 1 : 0);
          const payload = new Uint8Array(target - fixed).fill(fill & 0xff);
          const info: AnyPacketInfo = { type: PacketType.PUBLISH, topic, qos, payload, ...(qos > 0 ? { packetId: id } : {}) };
          const bytes = encodeWithFieldmq(info, v);
          expect(remainingLength(bytes)).toEqual({ value: target, size: varintBytes(target) });
          expect(bytes.length).toBe(1 + varintBytes(target) + target);
          checkAll(info, v);
        },
      ),
      { ...fcOptions('boundaries › Remaining Length'), numRuns: 18 },
    );
  });

  it('CONNECT › Client Identifier, User Name, Will Topic, Will Payload and Password of 65,535 bytes', () => {
    fc.assert(
      fc.property(
        versions,
        fc.constantFrom('clientId', 'username', 'willTopic', 'willPayload', 'password'),
        stringOfBytes(65535, '+#'),
        (v, field, s) => {
          const info = {
            type: PacketType.CONNECT,
            clientId: field === 'clientId' ? s : 'c',
            cleanSession: true,
            keepAlive: 60,
            username: field === 'username' || field === 'password' ? (field === 'username' ? s : 'u') : undefined,
            password: field === 'password' ? utf8Bytes(s) : undefined,
            will:
              field === 'willTopic' || field === 'willPayload'
                ? { topic: field === 'willTopic' ? s : 't', payload: field === 'willPayload' ? utf8Bytes(s) : new Uint8Array(0), qos: 1, retain: false }
                : undefined,
          } as AnyPacketInfo;
          checkAll(info, v);
        },
      ),
      { ...fcOptions('boundaries › CONNECT 65535'), numRuns: 12 },
    );
  });

  it('v5 PUBLISH › Topic Name, string property, user property and Correlation Data of 65,535 bytes', () => {
    fc.assert(
      fc.property(fc.constantFrom('topic', 'contentType', 'userName', 'userValue', 'correlationData'), stringOfBytes(65535, '+#'), (field, s) => {
        const info: AnyPacketInfo = {
          type: PacketType.PUBLISH,
          topic: field === 'topic' ? s : 't',
          qos: 1,
          packetId: 1,
          payload: 'p',
          properties: {
            contentType: field === 'contentType' ? s : undefined,
            userProperties: field === 'userName' ? [s, 'v'] : field === 'userValue' ? ['k', s] : undefined,
            correlationData: field === 'correlationData' ? utf8Bytes(s) : undefined,
          },
        };
        checkAll(info, 5);
      }),
      { ...fcOptions('boundaries › PUBLISH 65535'), numRuns: 12 },
    );
  });
});
