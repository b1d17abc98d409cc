/**
 * PUBACK, PUBREC, PUBREL and PUBCOMP (MQTT 3.1.1 §3.4–§3.7, MQTT 5.0
 * §3.4–§3.7): a Packet Identifier, and in MQTT 5 an optional reason code and
 * properties. PUBREL's fixed-header flags are 0b0010.
 */
import { Status } from '../core/status';
import { readU16, writeU16 } from '../core/bytes';
import { PacketType, ProtocolVersion } from './constants';
import type { PacketView } from './packet';
import type { MqttProperties } from './properties';
import { readReasonTail, reasonTailSize, writeProperties } from './properties';
import { varintSize } from './varint';
import { packetIdOk, packetRoom, writeFixedHeader } from './wire';
import type {} from '../flags';


/** What a PUBACK / PUBREC / PUBREL / PUBCOMP carries. */
export interface AckInfo {
  packetId: number;
  /** MQTT 5 reason code; 0 (Success) when omitted. */
  reasonCode?: number;
  /** MQTT 5 properties (Reason String, User Property). */
  properties?: MqttProperties;
}

const PUBACK_CODES = [0x00, 0x10, 0x80, 0x83, 0x87, 0x90, 0x91, 0x97, 0x99];
const PUBREL_CODES = [0x00, 0x92];

/** Reason codes allowed in an ack of `type` (MQTT 5.0 §3.4.2.1, §3.5.2.1, §3.6.2.1, §3.7.2.1). */
function ackCodes(type: number): number[] {
  return type === PacketType.PUBACK || type === PacketType.PUBREC ? PUBACK_CODES : PUBREL_CODES;
}

function codeOk(type: number, code: number): boolean {
  return ackCodes(type).indexOf(code) >= 0;
}

function isAckType(type: number): boolean {
  return type >= PacketType.PUBACK && type <= PacketType.PUBCOMP;
}

function ackRemaining(type: number, a: AckInfo, version: number, lens: number[]): number {
  if (!isAckType(type) || !packetIdOk(a.packetId)) return Status.BadParameter;
  const code = a.reasonCode === undefined ? 0 : a.reasonCode;
  if (globalThis.FIELDMQ_MQTT5 !== false && version === ProtocolVersion.V5) {
    return codeOk(type, code) ? reasonTailSize(code, a.properties, type, 2, lens) : Status.BadParameter;
  }
  if (version === ProtocolVersion.V311) return code === 0 && !a.properties ? 2 : Status.BadParameter;
  return Status.Unsupported;
}

/** Size of the ack of `type` for `a`, or a negative status. */
export function ackSize(type: number, a: AckInfo, version: number): number {
  const lens = [0];
  const r = ackRemaining(type, a, version, lens);
  return r < 0 ? r : 1 + varintSize(r) + r;
}

/**
 * Writes a PUBACK/PUBREC/PUBREL/PUBCOMP (`type` 4..7) at `buf[off]`; returns
 * the end offset or a negative status ({@link Status.BadParameter} for a bad
 * type, packet id or reason code, {@link Status.NoMemory}).
 */
export function encodeAck(type: number, a: AckInfo, version: number, buf: Uint8Array, off: number): number {
  const lens = [0];
  const r = ackRemaining(type, a, version, lens);
  if (r < 0) return r;
  const room = packetRoom(r, buf, off);
  if (room < 0) return room;
  let p = writeFixedHeader(buf, off, (type << 4) | (type === PacketType.PUBREL ? 2 : 0), r);
  p = writeU16(buf, p, a.packetId);
  if (r > 2) buf[p++] = a.reasonCode === undefined ? 0 : a.reasonCode;
  if (globalThis.FIELDMQ_MQTT5 !== false && r > 3) p = writeProperties(a.properties, lens[0], buf, p);
  return p;
}

/**
 * The allocation-free short form for the per-message path: a 4-byte
 * PUBACK/PUBREC/PUBREL/PUBCOMP with Success and no properties, valid in both
 * 3.1.1 and 5.0. Returns the end offset, {@link Status.BadParameter} or
 * {@link Status.NoMemory}.
 */
export function encodeShortAck(type: number, packetId: number, buf: Uint8Array, off: number): number {
  if (!isAckType(type) || !(packetId >= 1 && packetId <= 0xffff)) return Status.BadParameter;
  if (off + 4 > buf.length) return Status.NoMemory;
  buf[off] = (type << 4) | (type === PacketType.PUBREL ? 2 : 0);
  buf[off + 1] = 2;
  return writeU16(buf, off + 2, packetId);
}

/** Decodes the body `buf[pos..end)` of an ack of `out.type` into `out`. */
export function decodeAckBody(buf: Uint8Array, pos: number, end: number, version: number, out: PacketView): number {
  if (pos + 2 > end) return Status.Malformed;
  const id = readU16(buf, pos);
  if (id === 0) return Status.Malformed;
  out.packetId = id;
  pos += 2;
  if (globalThis.FIELDMQ_MQTT5 !== false && version === ProtocolVersion.V5) return readReasonTail(buf, pos, end, ackCodes(out.type), out);
  return pos === end ? Status.Ok : Status.Malformed;
}
