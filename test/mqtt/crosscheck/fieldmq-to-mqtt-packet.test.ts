/**
 * fieldmq → mqtt-packet: every generated packet is encoded with fieldmq's
 * `encodePacket` (at a random offset of a guarded buffer: the returned end
 * must be `offset + packetSize`, nothing written outside) and parsed with
 * mqtt-packet 9's parser, which must emit exactly one packet, no error, and
 * report every field that was encoded (its packet-object conventions are
 * listed in helpers.ts).
 *
 * Excluded, because mqtt-packet's parser is the one that is wrong (helpers.ts
 * `mqttPacketParserBug`; pinned by the "known mqtt-packet deviations" tests
 * below, so the exclusions get revisited when mqtt-packet changes):
 * - the bare AUTH (Reason Code 0x00, no properties, Remaining Length 0) that
 *   MQTT 5.0 §3.15.2.1 allows: mqtt-packet fails "Invalid auth reason code";
 * - a user property name repeated after an empty first value: mqtt-packet
 *   keeps only the later value (§3.1.2.11.8 allows repeated names).
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import * as mqtt from 'mqtt-packet';
import { PacketType } from '../../../src/mqtt/constants';
import type { AnyPacketInfo } from '../../../src/mqtt/encode';
import { CASES, fcOptions, packetArb } from './arbitraries';
import {
  checkFieldmqToMqttPacket,
  comparable,
  decodeWithFieldmq,
  encodeWithFieldmq,
  mqttPacketParserBug,
  neutralFromInfo,
  parseWithMqttPacket,
} from './helpers';

describe('fieldmq → mqtt-packet', () => {
  for (const c of CASES) {
    describe(c.name, () => {
      it('every field and property survives', () => {
        fc.assert(
          fc.property(
            packetArb(c.type, c.version).filter((info) => !mqttPacketParserBug(info, c.version)),
            fc.integer({ min: 0, max: 7 }),
            (info, lead) => checkFieldmqToMqttPacket(info, c.version, lead),
          ),
          fcOptions('fieldmq → mqtt-packet › ' + c.name),
        );
      });
    });
  }
});

describe('fieldmq → mqtt-packet › known mqtt-packet deviations (excluded above)', () => {
  function parseOutcome(bytes: Uint8Array, v: number): { packets: number; errors: string[] } {
    const p = mqtt.parser({ protocolVersion: v });
    const errors: string[] = [];
    let packets = 0;
    p.on('packet', () => packets++);
    p.on('error', (e: Error) => errors.push(e.message));
    p.parse(Buffer.from(bytes));
    return { packets, errors };
  }

  it('v5 AUTH › mqtt-packet rejects the bare AUTH of Remaining Length 0 that §3.15.2.1 allows', () => {
    // "The Reason Code and Property Length can be omitted if the Reason Code
    // is 0x00 (Success) and there are no Properties. In this case the AUTH
    // has a Remaining Length of 0." (MQTT 5.0 §3.15.2.1)
    const bytes = encodeWithFieldmq({ type: PacketType.AUTH }, 5);
    expect(Array.from(bytes)).toEqual([0xf0, 0x00]);
    expect(decodeWithFieldmq(bytes, 0, bytes.length, 5, 2)).toEqual({ type: 15, flags: 0, reasonCode: 0, properties: undefined });
    expect(parseOutcome(bytes, 5)).toEqual({ packets: 0, errors: ['Invalid auth reason code'] });
  });

  it('v5 DISCONNECT › mqtt-packet drops a repeated user property whose first value is empty', () => {
    // §3.1.2.11.8 (and the User Property of every packet): "The User Property
    // is allowed to appear multiple times to represent multiple name, value
    // pairs. The same name is allowed to appear more than once." mqtt-packet
    // tests the value held for the name for truthiness, so '' is overwritten.
    const info: AnyPacketInfo = { type: PacketType.DISCONNECT, properties: { userProperties: ['k', '', 'k', 'x'] } };
    const bytes = encodeWithFieldmq(info, 5);
    expect(decodeWithFieldmq(bytes, 0, bytes.length, 5, bytes.length)).toEqual(neutralFromInfo(info, 5, false));
    const parsed = parseWithMqttPacket(bytes, 5);
    expect(comparable(parsed.properties)).toEqual({ userProperties: { k: 'x' } }); // should be { k: ['', 'x'] }
  });
});
