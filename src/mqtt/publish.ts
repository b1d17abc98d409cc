/**
 * PUBLISH (MQTT 3.1.1 §3.3, MQTT 5.0 §3.3): the per-message hot path. Sizing,
 * encoding and decoding allocate nothing.
 */
import { Status } from '../core/status';
import { readU16, writeU16, copyBytes } from '../core/bytes';
import { utf8Encode, utf8Length } from '../core/utf8';
import { MAX_REMAINING_LENGTH, PacketType, ProtocolVersion } from './constants';
import type { PacketView } from './packet';
import type { MqttProperties } from './properties';
import { propertiesDataLength, readPacketProperties, writeProperties } from './properties';
import { checkTopicName, topicNameLength } from './topic';
import { varintSize, writeVarint } from './varint';
import type {} from '../flags';


/** What a PUBLISH carries. */
export interface PublishInfo {
  /** Topic Name; may be empty in MQTT 5 when `properties.topicAlias` is set. */
  topic: string;
  /** Application message: bytes, or a string sent as UTF-8. */
  payload?: Uint8Array | string | null;
  /** With a byte payload: where the message starts (default 0). */
  payloadOffset?: number;
  /** With a byte payload: how many bytes (default: to the end). */
  payloadLength?: number;
  qos: number;
  retain?: boolean;
  dup?: boolean;
  /** 1..65535, required for QoS 1 and 2. */
  packetId?: number;
  /** MQTT 5 PUBLISH properties. */
  properties?: MqttProperties;
}

function payloadLen(p: PublishInfo): number {
  const d = p.payload;
  if (d === undefined || d === null) return 0;
  if (typeof d === 'string') return utf8Length(d);
  const start = p.payloadOffset === undefined ? 0 : p.payloadOffset;
  const n = p.payloadLength === undefined ? d.length - start : p.payloadLength;
  return start < 0 || n < 0 || start + n > d.length ? Status.BadParameter : n;
}

/**
 * Remaining Length of the PUBLISH, or a negative status. `version` 4 or 5;
 * `tl` and `pl` are the topic and payload byte lengths (or statuses).
 */
function publishRemaining(p: PublishInfo, version: number, tl: number, pl: number): number {
  if (tl < 0) return tl;
  if (pl < 0) return pl;
  const qos = p.qos;
  if (qos !== 0 && qos !== 1 && qos !== 2) return Status.BadParameter;
  if (qos > 0) {
    const id = p.packetId;
    if (id === undefined || !(id >= 1 && id <= 0xffff)) return Status.BadParameter;
  } else if (p.dup) return Status.BadParameter; // §3.3.1.1: DUP is 0 for QoS 0
  let n = 2 + tl + pl + (qos > 0 ? 2 : 0);
  if (globalThis.FIELDMQ_MQTT5 !== false && version === ProtocolVersion.V5) {
    const pr = propertiesDataLength(p.properties, PacketType.PUBLISH);
    if (pr < 0) return pr;
    if (tl === 0 && !(p.properties && p.properties.topicAlias)) return Status.InvalidTopic;
    n += varintSize(pr) + pr;
  } else if (version === ProtocolVersion.V311) {
    if (tl === 0) return Status.InvalidTopic;
    if (p.properties) return Status.BadParameter; // properties are MQTT 5 only
  } else return Status.Unsupported;
  return n > MAX_REMAINING_LENGTH ? Status.TooLarge : n;
}

/**
 * Size of the PUBLISH for `p`, or a negative status:
 * {@link Status.InvalidTopic} (wildcard, empty without alias),
 * {@link Status.InvalidUtf8}, {@link Status.BadParameter} (QoS, packet id, DUP
 * with QoS 0, payload range, property), {@link Status.TooLarge}.
 */
export function publishSize(p: PublishInfo, version: number): number {
  const r = publishRemaining(p, version, topicNameLength(p.topic), payloadLen(p));
  return r < 0 ? r : 1 + varintSize(r) + r;
}

/**
 * Writes the PUBLISH for `p` at `buf[off]`. Returns the end offset, a negative
 * status as {@link publishSize}, or {@link Status.NoMemory} when it does not
 * fit in `buf` (nothing is written then). On other failures nothing is written
 * outside the span the packet would have occupied.
 *
 * An ASCII topic, the common case, is checked for wildcards while it is copied:
 * one pass over it instead of two.
 *
 * @example
 * ```ts
 * const end = encodePublish({ topic: 't/1', payload: reading, qos: 1, packetId: 7 }, 4, tx, 0);
 * ```
 */
export function encodePublish(p: PublishInfo, version: number, buf: Uint8Array, off: number): number {
  const topic = p.topic;
  const n = topic.length;
  const pl = payloadLen(p);
  // Sized as if the topic were ASCII (UTF-8 length == string length); any
  // other topic takes the checked path below.
  const r = n <= 65535 ? publishRemaining(p, version, n, pl) : Status.InvalidTopic;
  if (r >= 0) {
    const end = off + 1 + varintSize(r) + r;
    if (end <= buf.length) {
      const t = end - r + 2;
      let i = 0;
      for (; i < n; i++) {
        const c = topic.charCodeAt(i);
        if (c >= 0x80 || c === 0x2b || c === 0x23 || c === 0) break;
        buf[t + i] = c;
      }
      if (i === n) return writePublishRest(p, version, r, n, pl, buf, off, t + n);
    }
  }
  return encodePublishChecked(p, version, buf, off);
}

/** The general path: validates the topic first (any UTF-8), then writes. */
function encodePublishChecked(p: PublishInfo, version: number, buf: Uint8Array, off: number): number {
  const tl = topicNameLength(p.topic);
  const pl = payloadLen(p);
  const r = publishRemaining(p, version, tl, pl);
  if (r < 0) return r;
  const end = off + 1 + varintSize(r) + r;
  if (end > buf.length) return Status.NoMemory;
  const t = end - r + 2;
  return writePublishRest(p, version, r, tl, pl, buf, off, utf8Encode(p.topic, buf, t));
}

/**
 * Writes everything but the topic bytes (already at `end - r + 2`): the fixed
 * header, topic length, packet id, properties and payload. Returns the end.
 */
function writePublishRest(
  p: PublishInfo,
  version: number,
  r: number,
  tl: number,
  pl: number,
  buf: Uint8Array,
  off: number,
  q: number,
): number {
  buf[off] = 0x30 | (p.dup ? 8 : 0) | (p.qos << 1) | (p.retain ? 1 : 0);
  writeU16(buf, writeVarint(buf, off + 1, r), tl);
  if (p.qos > 0) q = writeU16(buf, q, p.packetId as number);
  if (globalThis.FIELDMQ_MQTT5 !== false && version === ProtocolVersion.V5) q = writeProperties(p.properties, propertiesDataLength(p.properties, 3), buf, q);
  const d = p.payload;
  if (typeof d === 'string') q = utf8Encode(d, buf, q);
  else if (d) q = copyBytes(d, p.payloadOffset === undefined ? 0 : p.payloadOffset, pl, buf, q);
  return q;
}

/**
 * Decodes a PUBLISH body `buf[pos..end)` with first-byte `flags` into `out`:
 * QoS, DUP, RETAIN, packet id, topic and payload offsets, MQTT 5 property
 * offsets and Topic Alias. Returns {@link Status.Ok}, {@link Status.Malformed}
 * (QoS 3, DUP on QoS 0, zero packet id, overrun), {@link Status.InvalidTopic},
 * {@link Status.InvalidUtf8} or {@link Status.ProtocolError} (properties,
 * empty topic without alias).
 */
export function decodePublishBody(
  buf: Uint8Array,
  pos: number,
  end: number,
  flags: number,
  version: number,
  out: PacketView,
): number {
  const qos = (flags >> 1) & 3;
  if (qos === 3) return Status.Malformed;
  out.qos = qos;
  out.dup = (flags & 8) !== 0;
  out.retain = (flags & 1) !== 0;
  if (qos === 0 && out.dup) return Status.Malformed;
  if (pos + 2 > end) return Status.Malformed;
  const tl = readU16(buf, pos);
  pos += 2;
  if (pos + tl > end) return Status.Malformed;
  const st = checkTopicName(buf, pos, pos + tl);
  if (st < 0) return st;
  out.topicOffset = pos;
  out.topicLength = tl;
  pos += tl;
  if (qos > 0) {
    if (pos + 2 > end) return Status.Malformed;
    const id = readU16(buf, pos);
    if (id === 0) return Status.Malformed;
    out.packetId = id;
    pos += 2;
  }
  if (globalThis.FIELDMQ_MQTT5 !== false && version === ProtocolVersion.V5) {
    pos = readPacketProperties(buf, pos, end, PacketType.PUBLISH, out);
    if (pos < 0) return pos;
    if (tl === 0 && out.topicAlias === 0) return Status.ProtocolError; // §3.3.2.1
  } else if (tl === 0) return Status.InvalidTopic; // §4.7.3
  out.payloadOffset = pos;
  out.payloadLength = end - pos;
  return Status.Ok;
}
