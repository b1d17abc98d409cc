/**
 * Spec rules the cross-check against mqtt-packet found fieldmq breaking (all
 * since fixed): each is a minimal test of what the spec requires.
 *
 * Byte strings are hex; statuses are src/core/status.ts values
 * (Malformed -3, ProtocolError -6, InvalidTopic -10, BadParameter -5).
 */
import { describe, expect, it } from 'vitest';
import { Status } from '../../../src/core/status';
import { PacketType } from '../../../src/mqtt/constants';
import { decodePacket } from '../../../src/mqtt/decode';
import { packetSize } from '../../../src/mqtt/encode';
import { MqttPacket } from '../../../src/mqtt/packet';

function decodeHex(hexBytes: string, v: number): number {
  const bytes = Uint8Array.from(Buffer.from(hexBytes.replace(/ /g, ''), 'hex'));
  return decodePacket(bytes, 0, bytes.length, v, new MqttPacket(), 0);
}

describe('MQTT spec rules found by the cross-check', () => {
  describe('wildcards in a Topic Name after a non-ASCII character are rejected', () => {
    // checkTopicName once stopped looking for '+' and '#' at the first byte
    // >= 0x80 (or 0x00), handing the rest to utf8Validate.
    // 3.1.1 [MQTT-4.7.1-1] / 5.0 [MQTT-4.7.0-1]: "The wildcard characters can
    // be used in Topic Filters, but MUST NOT be used within a Topic Name";
    // [MQTT-3.3.2-2]: "The Topic Name in the PUBLISH Packet MUST NOT contain
    // wildcard characters." The ASCII name 'a/+' (30 05 00 03 61 2f 2b) is
    // rejected with InvalidTopic, as it should be.

    it('v3.1.1 PUBLISH to "é/+" (30 06 00 04 c3 a9 2f 2b) is rejected with InvalidTopic', () => {
      expect(decodeHex('30 06 00 04 c3 a9 2f 2b', 4)).toBe(Status.InvalidTopic);
    });

    it('v5 PUBLISH to "é/#" (30 07 00 04 c3 a9 2f 23 00) is rejected with InvalidTopic', () => {
      expect(decodeHex('30 07 00 04 c3 a9 2f 23 00', 5)).toBe(Status.InvalidTopic);
    });

    it('v3.1.1 CONNECT with Will Topic "é/+" is rejected with InvalidTopic', () => {
      // Will Topic: 3.1.1 §3.1.3.3 / 5.0 §3.1.3.3 (a Topic Name, published to on the Client's behalf).
      expect(decodeHex('10 15 00 04 4d 51 54 54 04 06 00 00 00 01 63 00 04 c3 a9 2f 2b 00 00', 4)).toBe(Status.InvalidTopic);
    });
  });

  describe('v5: a property not valid for its packet type is a Malformed Packet, not a Protocol Error', () => {
    // MQTT 5.0 §2.2.2.2: "A Control Packet which contains an Identifier which
    // is not valid for its packet type, or contains a value not of the
    // specified data type, is a Malformed Packet. If received, use a CONNACK
    // or DISCONNECT packet with Reason Code 0x81 (Malformed Packet)".
    // scanProperties once returned ProtocolError (0x82's class) for unknown
    // and misplaced identifiers. (Duplicates and
    // out-of-range values are rightly Protocol Errors, stated per property.)

    it('PUBLISH with a Session Expiry Interval (30 09 00 01 74 05 11 00 00 00 00) is Malformed', () => {
      expect(decodeHex('30 09 00 01 74 05 11 00 00 00 00', 5)).toBe(Status.Malformed);
    });

    it('PUBLISH with unknown property identifier 0x04 (30 06 00 01 74 02 04 00) is Malformed', () => {
      expect(decodeHex('30 06 00 01 74 02 04 00', 5)).toBe(Status.Malformed);
    });
  });

  describe('v5 SUBSCRIBE: Retain Handling 3 and Maximum QoS 3 are Protocol Errors, not Malformed Packets', () => {
    // MQTT 5.0 §3.8.3.1: "It is a Protocol Error if the Maximum QoS field has
    // the value 3." and "It is a Protocol Error to send a Retain Handling
    // value of 3." (Only non-zero reserved bits 6-7 make it malformed,
    // [MQTT-3.8.3-5].) decodeSubscribeBody once returned Malformed for both.
    // In 3.1.1 QoS 3 is malformed [MQTT-3.8.3-4].

    it('Retain Handling 3 (82 07 00 01 00 00 01 74 30) is a ProtocolError', () => {
      expect(decodeHex('82 07 00 01 00 00 01 74 30', 5)).toBe(Status.ProtocolError);
    });

    it('Maximum QoS 3 (82 07 00 01 00 00 01 74 03) is a ProtocolError', () => {
      expect(decodeHex('82 07 00 01 00 00 01 74 03', 5)).toBe(Status.ProtocolError);
    });
  });

  describe('v3.1.1 CONNECT encoder: a zero-byte ClientId with CleanSession 0', () => {
    // 3.1.1 [MQTT-3.1.3-7]: "If the Client supplies a zero-byte ClientId, the
    // Client MUST also set CleanSession to 1." encodeConnect once wrote
    // 10 0c 00 04 4d 51 54 54 04 00 00 00 00 00 while refusing the other
    // client-side 3.1.1 CONNECT rule, a Password without a User Name
    // ([MQTT-3.1.2-22]), with BadParameter.
    it('is refused with BadParameter, like a 3.1.1 Password without a User Name', () => {
      expect(packetSize({ type: PacketType.CONNECT, clientId: 'c', cleanSession: true, keepAlive: 0, password: 'p' }, 4)).toBe(Status.BadParameter);
      expect(packetSize({ type: PacketType.CONNECT, clientId: '', cleanSession: false, keepAlive: 0 }, 4)).toBe(Status.BadParameter);
    });
  });
});
