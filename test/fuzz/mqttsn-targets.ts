/**
 * Fuzz targets for the MQTT-SN 1.2 codec: one per message type, seeded with
 * that type's spec vectors, plus one for the forwarder encapsulation.
 *
 * Invariants on accepted input (besides the engine's "never throws, returns a
 * number"): the consumed length lies inside the input, the variable-field
 * view lies inside the message, and the decoded message re-encodes and
 * decodes back to the same fields.
 */
import { decodeMessage } from '../../src/mqttsn/decode';
import { encodeMessage, messageSize } from '../../src/mqttsn/encode';
import { SnForwarderHeader, decodeForwarder } from '../../src/mqttsn/forwarder';
import { msgTypeName } from '../../src/mqttsn/constants';
import { SnMessage } from '../../src/mqttsn/message';
import { snForwarderVectors, snVectors } from '../fixtures/mqttsn-vectors';
import type { FuzzTarget } from './engine';

function bytes(hex: string): Uint8Array {
  const s = hex.replace(/\s+/g, '');
  const out = new Uint8Array(s.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(s.slice(2 * i, 2 * i + 2), 16);
  return out;
}

/** The first field (other than `length`) that differs between two decoded messages, or null. */
function firstDifference(a: SnMessage, b: SnMessage): string | null {
  if (a.type !== b.type) return 'type';
  if (a.dup !== b.dup) return 'dup';
  if (a.qos !== b.qos) return 'qos';
  if (a.retain !== b.retain) return 'retain';
  if (a.will !== b.will) return 'will';
  if (a.cleanSession !== b.cleanSession) return 'cleanSession';
  if (a.topicIdType !== b.topicIdType) return 'topicIdType';
  if (a.gwId !== b.gwId) return 'gwId';
  if (a.duration !== b.duration) return 'duration';
  if (a.radius !== b.radius) return 'radius';
  if (a.protocolId !== b.protocolId) return 'protocolId';
  if (a.returnCode !== b.returnCode) return 'returnCode';
  if (a.topicId !== b.topicId) return 'topicId';
  if (a.msgId !== b.msgId) return 'msgId';
  if (a.hasDuration !== b.hasDuration) return 'hasDuration';
  if (a.hasFlags !== b.hasFlags) return 'hasFlags';
  if (a.dataLength !== b.dataLength) return 'dataLength';
  if ((a.data === null) !== (b.data === null)) return 'data';
  return null;
}

/** Checks a message `decodeMessage` accepted from `buf[base..len)` with result `result`. */
function checkMessage(
  m: SnMessage,
  buf: Uint8Array,
  base: number,
  len: number,
  result: number,
  scratch: Uint8Array,
  again: SnMessage,
): string | null {
  if (result < 2 || base + result > len) return `consumed ${result} of ${len - base}`;
  if (m.length !== result) return `length ${m.length} != result ${result}`;
  if (m.data !== null) {
    if (m.data !== buf) return 'data is not the input buffer';
    if (m.dataOffset < base || m.dataLength < 0 || m.dataOffset + m.dataLength > base + result) {
      return `data view [${m.dataOffset}, +${m.dataLength}) outside [${base}, ${base + result})`;
    }
  } else if (m.dataLength !== 0) return 'dataLength without data';
  // Everything the decoder accepts, the encoder must write back, and that must decode the same.
  const size = messageSize(m);
  if (size < 0 || size > result) return `messageSize ${size} for a ${result}-octet message`;
  const end = encodeMessage(m, scratch, 0);
  if (end !== size) return `encodeMessage returned ${end}, expected ${size}`;
  if (decodeMessage(scratch, 0, end, again) !== end) return 're-encoded message does not decode';
  // `length` may differ: the canonical form can be shorter (1-octet Length).
  const diff = firstDifference(m, again);
  if (diff !== null) return `field ${diff} changed on re-encode`;
  for (let i = 0; i < m.dataLength; i++) {
    if (scratch[again.dataOffset + i] !== buf[m.dataOffset + i]) return 'variable field changed on re-encode';
  }
  return null;
}

function messageTarget(type: number): FuzzTarget {
  const out = new SnMessage();
  const again = new SnMessage();
  const scratch = new Uint8Array(70000);
  return {
    name: 'mqttsn/' + msgTypeName(type),
    seeds: snVectors.filter((v) => v.fields.type === type).map((v) => bytes(v.hex)),
    run(buf, len) {
      return decodeMessage(buf, 0, len, out);
    },
    check(buf, len, result) {
      return checkMessage(out, buf, 0, len, result, scratch, again);
    },
  };
}

function forwarderTarget(): FuzzTarget {
  const out = new SnForwarderHeader();
  const inner = new SnMessage();
  const again = new SnMessage();
  const scratch = new Uint8Array(70000);
  return {
    name: 'mqttsn/ENCAPSULATED',
    seeds: snForwarderVectors.map((v) => bytes(v.hex)),
    run(buf, len) {
      return decodeForwarder(buf, 0, len, out);
    },
    check(buf, len) {
      if (out.nodeIdOffset !== 3 || out.nodeIdLength < 1) return `node id at ${out.nodeIdOffset}, +${out.nodeIdLength}`;
      if (out.messageOffset !== out.nodeIdOffset + out.nodeIdLength) return 'message does not follow the node id';
      if (out.messageLength < 1 || out.messageOffset + out.messageLength !== len) {
        return `message [${out.messageOffset}, +${out.messageLength}) is not the rest of ${len}`;
      }
      if (out.radius < 0 || out.radius > 3) return `radius ${out.radius}`;
      const r = decodeMessage(buf, out.messageOffset, out.messageLength, inner);
      return r < 0 ? null : checkMessage(inner, buf, out.messageOffset, len, r, scratch, again);
    },
  };
}

const TYPES = [
  0x00, 0x01, 0x02, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f, 0x10, 0x12,
  0x13, 0x14, 0x15, 0x16, 0x17, 0x18, 0x1a, 0x1b, 0x1c, 0x1d,
];

/** Every MQTT-SN fuzz target: one per message type, then the forwarder encapsulation. */
export const mqttsnTargets: FuzzTarget[] = TYPES.map(messageTarget).concat([forwarderTarget()]);
