/**
 * fieldmq ⇔ mqtt-packet, byte for byte: for the same packet both encoders
 * must write the same bytes, except where MQTT allows two encodings and the
 * libraries pick different ones. Those exceptions (with their spec sections)
 * are in helpers.ts `fieldmqFormOf`, which turns mqtt-packet's encoding into
 * the exact bytes fieldmq must produce instead of loosening the comparison;
 * the two other test files check that each library reads the other's form.
 *
 * Two orderings the spec leaves free are made to agree first:
 * - properties: fieldmq writes them in Property Identifier order,
 *   mqtt-packet in the key order of its properties object, which is built in
 *   identifier order (helpers.ts `PROPERTY_ORDER`). If fieldmq ever changes
 *   its property order, this file needs a semantic comparison instead;
 * - user properties: mqtt-packet can only write them grouped by name (they
 *   are an object), so fieldmq is given its list in that grouped order.
 * Excluded: the MQTT 5 CONNECTs mqtt-packet's generator wrongly refuses
 * (helpers.ts `mqttPacketGeneratorBug`).
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { PacketType } from '../../../src/mqtt/constants';
import type { AnyPacketInfo } from '../../../src/mqtt/encode';
import { CASES, fcOptions, packetArb } from './arbitraries';
import { checkSameBytes, encodeWithFieldmq, generateWithMqttPacket, hex, mqttPacketGeneratorBug, toMqttPacketObject } from './helpers';

describe('fieldmq ⇔ mqtt-packet bytes', () => {
  for (const c of CASES) {
    describe(c.name, () => {
      it('fieldmq writes the bytes mqtt-packet writes, or the documented equivalent form', () => {
        fc.assert(
          fc.property(
            packetArb(c.type, c.version).filter((info) => !mqttPacketGeneratorBug(info, c.version)),
            (info) => checkSameBytes(info, c.version),
          ),
          fcOptions('fieldmq ⇔ mqtt-packet bytes › ' + c.name),
        );
      });
    });
  }

  describe('documented differences', () => {
    it('v5 PUBACK › a reason code without properties: fieldmq omits the Property Length, mqtt-packet writes 0 (§3.4.2.2.1)', () => {
      const info: AnyPacketInfo = { type: PacketType.PUBACK, packetId: 0x1234, reasonCode: 0x10 };
      expect(hex(encodeWithFieldmq(info, 5))).toBe('4003123410');
      expect(hex(generateWithMqttPacket(toMqttPacketObject(info, 5), 5))).toBe('400412341000');
    });

    it('v5 DISCONNECT › no properties: fieldmq omits what §3.14.2.1 / §3.14.2.2.1 let it omit, mqtt-packet does not', () => {
      expect(hex(encodeWithFieldmq({ type: PacketType.DISCONNECT }, 5))).toBe('e000');
      expect(hex(generateWithMqttPacket({ cmd: 'disconnect', reasonCode: 0 }, 5))).toBe('e0020000');
      expect(hex(encodeWithFieldmq({ type: PacketType.DISCONNECT, reasonCode: 0x04 }, 5))).toBe('e00104');
      expect(hex(generateWithMqttPacket({ cmd: 'disconnect', reasonCode: 0x04 }, 5))).toBe('e0020400');
    });
  });
});
