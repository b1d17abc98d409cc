/**
 * CONNECT (MQTT 3.1.1 §3.1, MQTT 5.0 §3.1) and CONNACK (§3.2): size, encode
 * into the caller's buffer, decode into an {@link MqttPacket} view.
 */
import { Status } from '../core/status';
import { readU16, writeU16 } from '../core/bytes';
import { utf8Validate } from '../core/utf8';
import { PacketType, ProtocolVersion } from './constants';
import type { MqttPacket, PacketView } from './packet';
import type { MqttProperties } from './properties';
import { WILL_PROPERTIES, propertiesDataLength, readPacketProperties, writeProperties } from './properties';
import { checkTopicName, topicNameLength } from './topic';
import { varintSize } from './varint';
import { dataLength, fieldEnd, packetRoom, stringSize, writeData, writeFixedHeader, writeString } from './wire';
import type {} from '../flags';


/** The Will of a CONNECT (MQTT 3.1.1 §3.1.2.5–§3.1.2.7, MQTT 5.0 §3.1.3.2). */
export interface WillInfo {
  topic: string;
  payload: Uint8Array | string;
  qos: number;
  retain: boolean;
  /** MQTT 5 Will Properties. */
  properties?: MqttProperties;
}

/** What a CONNECT carries. */
export interface ConnectInfo {
  /** 0..65535 bytes of UTF-8; empty asks the server to assign one (3.1.1 requires cleanSession then). */
  clientId: string;
  /** Clean Session (3.1.1) / Clean Start (5.0). */
  cleanSession: boolean;
  /** Keep Alive in seconds, 0..65535 (0 disables it). */
  keepAlive: number;
  username?: string;
  password?: Uint8Array | string;
  will?: WillInfo;
  /** MQTT 5 CONNECT properties. */
  properties?: MqttProperties;
}

/** What a CONNACK carries. */
export interface ConnackInfo {
  sessionPresent: boolean;
  /** 3.1.1 return code (0..5) or 5.0 reason code. */
  reasonCode: number;
  /** MQTT 5 CONNACK properties. */
  properties?: MqttProperties;
}

/** Reason codes a CONNACK may carry in MQTT 5.0 (§3.2.2.2). */
const CONNACK_CODES = [
  0x00, 0x80, 0x81, 0x82, 0x83, 0x84, 0x85, 0x86, 0x87, 0x88, 0x89, 0x8a, 0x8c, 0x90, 0x95, 0x97, 0x99, 0x9a,
  0x9b, 0x9c, 0x9d, 0x9f,
];

/**
 * The rules of a CONNECT that sizing does not check (MQTT 3.1.1 §3.1, MQTT
 * 5.0 §3.1): the version, the Keep Alive range, no properties in 3.1.1, an
 * empty 3.1.1 client id only with Clean Session [MQTT-3.1.3-7], no 3.1.1
 * password without a user name (§3.1.2.9), the Will's QoS and topic name.
 * Returns {@link Status.Ok} or the status. {@link encodeConnect} and
 * {@link connectSize} apply it; a client that builds its CONNECT from its own
 * options writes it with {@link writeConnect}.
 */
export function checkConnect(c: ConnectInfo, version: number): number {
  if (version !== ProtocolVersion.V311 && version !== ProtocolVersion.V5) return Status.Unsupported;
  if (!(c.keepAlive >= 0 && c.keepAlive <= 0xffff)) return Status.BadParameter;
  if (version === ProtocolVersion.V311) {
    if (c.properties || (c.will && c.will.properties)) return Status.BadParameter;
    if (c.clientId === '' && !c.cleanSession) return Status.BadParameter; // [MQTT-3.1.3-7]
    if (c.username === undefined && c.password !== undefined) return Status.BadParameter; // §3.1.2.9
  }
  const w = c.will;
  if (w) {
    if (!(w.qos >= 0 && w.qos <= 2)) return Status.BadParameter;
    const tl = topicNameLength(w.topic);
    if (tl <= 0) return tl === 0 ? Status.InvalidTopic : tl;
  }
  return Status.Ok;
}

/**
 * Remaining Length of a CONNECT, or a negative status for a field that cannot
 * be encoded (a string that is not UTF-8 or too long, a bad property). Sizes
 * only: {@link checkConnect} has the rules. Fills `lens` [props, willProps].
 */
function connectRemaining(c: ConnectInfo, version: number, lens: number[]): number {
  let n = 10; // protocol name (6) + level + flags + keep alive
  let s = stringSize(c.clientId);
  if (s < 0) return s;
  n += s;
  if (globalThis.FIELDMQ_MQTT5 !== false && version === ProtocolVersion.V5) {
    const p = propertiesDataLength(c.properties, PacketType.CONNECT);
    if (p < 0) return p;
    lens[0] = p;
    n += varintSize(p) + p;
  }
  const w = c.will;
  if (w) {
    const tl = stringSize(w.topic);
    if (tl < 0) return tl;
    const pl = dataLength(w.payload);
    if (pl < 0) return pl;
    if (pl > 0xffff) return Status.TooLarge;
    n += tl + 2 + pl;
    if (globalThis.FIELDMQ_MQTT5 !== false && version === ProtocolVersion.V5) {
      const wp = propertiesDataLength(w.properties, WILL_PROPERTIES);
      if (wp < 0) return wp;
      lens[1] = wp;
      n += varintSize(wp) + wp;
    }
  }
  if (c.username !== undefined) {
    s = stringSize(c.username);
    if (s < 0) return s;
    n += s;
  }
  if (c.password !== undefined) {
    s = dataLength(c.password);
    if (s < 0) return s;
    if (s > 0xffff) return Status.TooLarge;
    n += 2 + s;
  }
  return n;
}

/**
 * Size in bytes of the CONNECT for `c` in protocol `version` (4 or 5), or a
 * negative status: {@link Status.BadParameter}, {@link Status.InvalidTopic},
 * {@link Status.InvalidUtf8}, {@link Status.TooLarge}, {@link Status.Unsupported}.
 */
export function connectSize(c: ConnectInfo, version: number): number {
  const st = checkConnect(c, version);
  if (st < 0) return st;
  const r = connectRemaining(c, version, [0, 0]);
  return r < 0 ? r : 1 + varintSize(r) + r;
}

/**
 * Writes the CONNECT for `c` at `buf[off]`. Returns the end offset, or a
 * negative status as {@link connectSize}, or {@link Status.NoMemory} when
 * `buf` is too small (nothing is written then).
 */
export function encodeConnect(c: ConnectInfo, version: number, buf: Uint8Array, off: number): number {
  const st = checkConnect(c, version);
  return st < 0 ? st : writeConnect(c, version, buf, off);
}

/**
 * {@link encodeConnect} without {@link checkConnect}: for a `c` known to keep
 * those rules (`version` 4 or 5). Returns the end offset or a negative status
 * for a field that cannot be encoded, or {@link Status.NoMemory}.
 */
export function writeConnect(c: ConnectInfo, version: number, buf: Uint8Array, off: number): number {
  const lens = [0, 0];
  const r = connectRemaining(c, version, lens);
  if (r < 0) return r;
  const room = packetRoom(r, buf, off);
  if (room < 0) return room;
  let p = writeFixedHeader(buf, off, PacketType.CONNECT << 4, r);
  p = writeString(buf, p, 'MQTT');
  buf[p++] = version;
  const w = c.will;
  let flags = c.cleanSession ? 0x02 : 0;
  if (w) flags |= 0x04 | (w.qos << 3) | (w.retain ? 0x20 : 0);
  if (c.password !== undefined) flags |= 0x40;
  if (c.username !== undefined) flags |= 0x80;
  buf[p++] = flags;
  p = writeU16(buf, p, c.keepAlive);
  if (globalThis.FIELDMQ_MQTT5 !== false && version === ProtocolVersion.V5) p = writeProperties(c.properties, lens[0], buf, p);
  p = writeString(buf, p, c.clientId);
  if (w) {
    if (globalThis.FIELDMQ_MQTT5 !== false && version === ProtocolVersion.V5) p = writeProperties(w.properties, lens[1], buf, p);
    p = writeString(buf, p, w.topic);
    p = writeBinary(buf, p, w.payload);
  }
  if (c.username !== undefined) p = writeString(buf, p, c.username);
  if (c.password !== undefined) p = writeBinary(buf, p, c.password);
  return p;
}

/** Writes length-prefixed binary data (bytes, or a string as UTF-8); returns the end offset. */
function writeBinary(buf: Uint8Array, p: number, d: Uint8Array | string): number {
  const e = writeData(buf, p + 2, d);
  writeU16(buf, p, e - p - 2);
  return e;
}

/**
 * Decodes a CONNECT body `buf[pos..end)` into `out`. The protocol version is
 * read from the packet itself (`out.protocolVersion`). Returns
 * {@link Status.Ok}, {@link Status.Malformed}, {@link Status.Unsupported}
 * (protocol name or level other than MQTT 4/5), {@link Status.ProtocolError},
 * {@link Status.InvalidUtf8} or {@link Status.InvalidTopic}.
 */
export function decodeConnectBody(buf: Uint8Array, pos: number, end: number, out: MqttPacket): number {
  // Protocol Name "MQTT" (§3.1.2.1).
  if (pos + 10 > end) return Status.Malformed;
  if (readU16(buf, pos) !== 4 || buf[pos + 2] !== 0x4d || buf[pos + 3] !== 0x51 || buf[pos + 4] !== 0x54 || buf[pos + 5] !== 0x54)
    return Status.Unsupported;
  const version = buf[pos + 6];
  if (version !== ProtocolVersion.V311 && version !== ProtocolVersion.V5) return Status.Unsupported;
  out.protocolVersion = version;
  const flags = buf[pos + 7];
  if (flags & 0x01) return Status.Malformed; // reserved (§3.1.2.3)
  out.cleanSession = (flags & 0x02) !== 0;
  out.will = (flags & 0x04) !== 0;
  out.qos = (flags >> 3) & 3;
  out.retain = (flags & 0x20) !== 0;
  out.hasPassword = (flags & 0x40) !== 0;
  out.hasUsername = (flags & 0x80) !== 0;
  if (out.qos === 3) return Status.Malformed;
  if (!out.will && (out.qos !== 0 || out.retain)) return Status.Malformed; // §3.1.2.6, §3.1.2.7
  if (version === ProtocolVersion.V311 && out.hasPassword && !out.hasUsername) return Status.Malformed; // §3.1.2.9
  out.keepAlive = readU16(buf, pos + 8);
  pos += 10;
  let e: number;
  if (version === ProtocolVersion.V5) {
    pos = readPacketProperties(buf, pos, end, PacketType.CONNECT, out);
    if (pos < 0) return pos;
  }
  out.payloadOffset = pos;
  out.payloadLength = end - pos;
  e = fieldEnd(buf, pos, end);
  if (e < 0) return e;
  out.clientIdOffset = pos + 2;
  out.clientIdLength = e - pos - 2;
  if (utf8Validate(buf, pos + 2, e) !== Status.Ok) return Status.InvalidUtf8;
  pos = e;
  if (out.will) {
    if (version === ProtocolVersion.V5) {
      // Read into the packet's property fields, then move them to the will's.
      const po = out.propertiesOffset;
      const pn = out.propertiesLength;
      pos = readPacketProperties(buf, pos, end, WILL_PROPERTIES, out);
      if (pos < 0) return pos;
      out.willPropertiesOffset = out.propertiesOffset;
      out.willPropertiesLength = out.propertiesLength;
      out.propertiesOffset = po;
      out.propertiesLength = pn;
    }
    e = fieldEnd(buf, pos, end);
    if (e < 0) return e;
    if (e === pos + 2) return Status.InvalidTopic;
    const tst = checkTopicName(buf, pos + 2, e);
    if (tst < 0) return tst;
    out.willTopicOffset = pos + 2;
    out.willTopicLength = e - pos - 2;
    pos = e;
    e = fieldEnd(buf, pos, end);
    if (e < 0) return e;
    out.willPayloadOffset = pos + 2;
    out.willPayloadLength = e - pos - 2;
    pos = e;
  }
  if (out.hasUsername) {
    e = fieldEnd(buf, pos, end);
    if (e < 0) return e;
    if (utf8Validate(buf, pos + 2, e) !== Status.Ok) return Status.InvalidUtf8;
    out.usernameOffset = pos + 2;
    out.usernameLength = e - pos - 2;
    pos = e;
  }
  if (out.hasPassword) {
    e = fieldEnd(buf, pos, end);
    if (e < 0) return e;
    out.passwordOffset = pos + 2;
    out.passwordLength = e - pos - 2;
    pos = e;
  }
  return pos === end ? Status.Ok : Status.Malformed;
}

function connackRemaining(a: ConnackInfo, version: number, lens: number[]): number {
  if (version === ProtocolVersion.V311) {
    if (!(a.reasonCode >= 0 && a.reasonCode <= 5)) return Status.BadParameter;
    if (a.properties) return Status.BadParameter;
    return 2;
  }
  if (version !== ProtocolVersion.V5) return Status.Unsupported;
  if (CONNACK_CODES.indexOf(a.reasonCode) < 0) return Status.BadParameter;
  const p = propertiesDataLength(a.properties, PacketType.CONNACK);
  if (p < 0) return p;
  lens[0] = p;
  return 2 + varintSize(p) + p;
}

/** Size of the CONNACK for `a`, or a negative status (bad code, bad property). */
export function connackSize(a: ConnackInfo, version: number): number {
  const lens = [0];
  const r = connackRemaining(a, version, lens);
  return r < 0 ? r : 1 + varintSize(r) + r;
}

/**
 * Writes the CONNACK for `a` at `buf[off]`; returns the end offset or a
 * negative status ({@link Status.NoMemory} when it does not fit). A Session
 * Present flag with a non-zero code is written as 0 (3.1.1 §3.2.2.2, 5.0 §3.2.2.1.1).
 */
export function encodeConnack(a: ConnackInfo, version: number, buf: Uint8Array, off: number): number {
  const lens = [0];
  const r = connackRemaining(a, version, lens);
  if (r < 0) return r;
  const room = packetRoom(r, buf, off);
  if (room < 0) return room;
  let p = writeFixedHeader(buf, off, PacketType.CONNACK << 4, r);
  buf[p++] = a.sessionPresent && a.reasonCode === 0 ? 1 : 0;
  buf[p++] = a.reasonCode;
  if (version === ProtocolVersion.V5) p = writeProperties(a.properties, lens[0], buf, p);
  return p;
}

/** Decodes a CONNACK body `buf[pos..end)` into `out`. */
export function decodeConnackBody(buf: Uint8Array, pos: number, end: number, version: number, out: PacketView): number {
  if (pos + 2 > end) return Status.Malformed;
  const ack = buf[pos];
  if (ack & 0xfe) return Status.Malformed; // reserved bits (§3.2.2.1)
  out.sessionPresent = ack === 1;
  out.reasonCode = buf[pos + 1];
  pos += 2;
  if (globalThis.FIELDMQ_MQTT5 === false || version === ProtocolVersion.V311) {
    if (pos !== end || out.reasonCode > 5) return Status.Malformed;
  } else {
    if (CONNACK_CODES.indexOf(out.reasonCode) < 0) return Status.ProtocolError;
    pos = readPacketProperties(buf, pos, end, PacketType.CONNACK, out);
    if (pos < 0) return pos;
    if (pos !== end) return Status.Malformed;
  }
  if (out.sessionPresent && out.reasonCode !== 0) return Status.ProtocolError;
  return Status.Ok;
}
