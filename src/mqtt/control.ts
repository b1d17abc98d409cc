/**
 * PINGREQ, PINGRESP (MQTT 3.1.1 §3.12–§3.13), DISCONNECT (§3.14) and AUTH
 * (MQTT 5.0 §3.15): packets with at most a reason code and properties.
 */
import { Status } from '../core/status';
import { PacketType, ProtocolVersion } from './constants';
import type { PacketView } from './packet';
import type { MqttProperties } from './properties';
import { readReasonTail, reasonTailSize, writeProperties } from './properties';
import { varintSize } from './varint';
import { packetRoom, writeFixedHeader } from './wire';
import type {} from '../flags';


/** What a DISCONNECT or AUTH carries (MQTT 5; a 3.1.1 DISCONNECT carries nothing). */
export interface ReasonInfo {
  /** Reason code; 0 when omitted. */
  reasonCode?: number;
  properties?: MqttProperties;
}

const DISCONNECT_CODES = [
  0x00, 0x04, 0x80, 0x81, 0x82, 0x83, 0x87, 0x89, 0x8b, 0x8d, 0x8e, 0x8f, 0x90, 0x93, 0x94, 0x95, 0x96, 0x97, 0x98,
  0x99, 0x9a, 0x9b, 0x9c, 0x9d, 0x9e, 0x9f, 0xa0, 0xa1, 0xa2,
];
const AUTH_CODES = [0x00, 0x18, 0x19];

/** Writes a PINGREQ (2 bytes) at `buf[off]`; returns the end offset or {@link Status.NoMemory}. */
export function encodePingreq(buf: Uint8Array, off: number): number {
  if (off + 2 > buf.length) return Status.NoMemory;
  buf[off] = PacketType.PINGREQ << 4;
  buf[off + 1] = 0;
  return off + 2;
}

/** Writes a PINGRESP (2 bytes) at `buf[off]`; returns the end offset or {@link Status.NoMemory}. */
export function encodePingresp(buf: Uint8Array, off: number): number {
  if (off + 2 > buf.length) return Status.NoMemory;
  buf[off] = PacketType.PINGRESP << 4;
  buf[off + 1] = 0;
  return off + 2;
}

function reasonRemaining(type: number, a: ReasonInfo, version: number, lens: number[]): number {
  const code = a.reasonCode === undefined ? 0 : a.reasonCode;
  if (globalThis.FIELDMQ_MQTT5 !== false && version === ProtocolVersion.V5) {
    if ((type === PacketType.AUTH ? AUTH_CODES : DISCONNECT_CODES).indexOf(code) < 0) return Status.BadParameter;
    return reasonTailSize(code, a.properties, type, 0, lens);
  }
  if (version === ProtocolVersion.V311) {
    return type === PacketType.DISCONNECT && code === 0 && !a.properties ? 0 : Status.Unsupported;
  }
  return Status.Unsupported;
}

function encodeReason(type: number, a: ReasonInfo, version: number, buf: Uint8Array, off: number): number {
  const lens = [0];
  const r = reasonRemaining(type, a, version, lens);
  if (r < 0) return r;
  const room = packetRoom(r, buf, off);
  if (room < 0) return room;
  let p = writeFixedHeader(buf, off, type << 4, r);
  if (r > 0) buf[p++] = a.reasonCode === undefined ? 0 : a.reasonCode;
  if (globalThis.FIELDMQ_MQTT5 !== false && r > 1) p = writeProperties(a.properties, lens[0], buf, p);
  return p;
}

/** Size of the DISCONNECT for `a`, or a negative status. */
export function disconnectSize(a: ReasonInfo, version: number): number {
  const lens = [0];
  const r = reasonRemaining(PacketType.DISCONNECT, a, version, lens);
  return r < 0 ? r : 1 + varintSize(r) + r;
}

/** Writes a DISCONNECT at `buf[off]`; returns the end offset or a negative status. */
export function encodeDisconnect(a: ReasonInfo, version: number, buf: Uint8Array, off: number): number {
  return encodeReason(PacketType.DISCONNECT, a, version, buf, off);
}

/** Size of the AUTH for `a` (MQTT 5 only: {@link Status.Unsupported} for 3.1.1). */
export function authSize(a: ReasonInfo, version: number): number {
  const lens = [0];
  const r = reasonRemaining(PacketType.AUTH, a, version, lens);
  return r < 0 ? r : 1 + varintSize(r) + r;
}

/** Writes an AUTH at `buf[off]` (MQTT 5 only); returns the end offset or a negative status. */
export function encodeAuth(a: ReasonInfo, version: number, buf: Uint8Array, off: number): number {
  return encodeReason(PacketType.AUTH, a, version, buf, off);
}

/** Decodes a DISCONNECT or AUTH body (`out.type`); PINGREQ/PINGRESP need an empty body. */
export function decodeReasonBody(buf: Uint8Array, pos: number, end: number, version: number, out: PacketView): number {
  const type = out.type;
  if (type === PacketType.PINGREQ || type === PacketType.PINGRESP) return pos === end ? Status.Ok : Status.Malformed;
  if (globalThis.FIELDMQ_MQTT5 !== false && version === ProtocolVersion.V5) {
    return readReasonTail(buf, pos, end, type === PacketType.AUTH ? AUTH_CODES : DISCONNECT_CODES, out);
  }
  if (type === PacketType.AUTH) return Status.Malformed; // type 15 is reserved in 3.1.1
  return pos === end ? Status.Ok : Status.Malformed;
}
