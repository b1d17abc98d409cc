/**
 * SUBSCRIBE, SUBACK, UNSUBSCRIBE and UNSUBACK (MQTT 3.1.1 §3.8–§3.11,
 * MQTT 5.0 §3.8–§3.11). Decoding validates the whole topic-filter list once;
 * walk it afterwards with {@link nextSubscription}.
 */
import { Status } from '../core/status';
import { readU16, writeU16 } from '../core/bytes';
import { PacketType, ProtocolVersion } from './constants';
import type { MqttPacket, PacketView } from './packet';
import type { MqttProperties } from './properties';
import { propertiesDataLength, readPacketProperties, writeProperties } from './properties';
import { checkTopicFilter, topicFilterLength } from './topic';
import { varintSize } from './varint';
import { fieldEnd, packetIdOk, packetRoom, writeFixedHeader, writeString } from './wire';
import type {} from '../flags';


/** One topic filter of a SUBSCRIBE with its options (MQTT 5.0 §3.8.3.1). */
export interface Subscription {
  topic: string;
  /** Maximum QoS, 0..2. */
  qos: number;
  /** MQTT 5 No Local. */
  noLocal?: boolean;
  /** MQTT 5 Retain As Published. */
  retainAsPublished?: boolean;
  /** MQTT 5 Retain Handling, 0..2. */
  retainHandling?: number;
}

/** What a SUBSCRIBE carries. */
export interface SubscribeInfo {
  packetId: number;
  subscriptions: Subscription[];
  properties?: MqttProperties;
}

/** What a SUBACK carries: one granted QoS / reason code per filter. */
export interface SubackInfo {
  packetId: number;
  reasonCodes: number[];
  properties?: MqttProperties;
}

/** What an UNSUBSCRIBE carries. */
export interface UnsubscribeInfo {
  packetId: number;
  topics: string[];
  properties?: MqttProperties;
}

/** What an UNSUBACK carries (reason codes and properties: MQTT 5 only). */
export interface UnsubackInfo {
  packetId: number;
  reasonCodes?: number[];
  properties?: MqttProperties;
}

/** A decoded topic filter and its options, filled by {@link nextSubscription}. */
export class SubscriptionView {
  topicOffset = 0;
  topicLength = 0;
  qos = 0;
  noLocal = false;
  retainAsPublished = false;
  retainHandling = 0;
}

const SUBACK_V3 = [0x00, 0x01, 0x02, 0x80];
const SUBACK_V5 = [0x00, 0x01, 0x02, 0x80, 0x83, 0x87, 0x8f, 0x91, 0x97, 0x9e, 0xa1, 0xa2];
const UNSUBACK_V5 = [0x00, 0x11, 0x80, 0x83, 0x87, 0x8f, 0x91];

function optionsByte(s: Subscription, version: number): number {
  const rh = s.retainHandling === undefined ? 0 : s.retainHandling;
  if (!(s.qos >= 0 && s.qos <= 2 && (s.qos | 0) === s.qos)) return Status.BadParameter;
  if (globalThis.FIELDMQ_MQTT5 === false || version === ProtocolVersion.V311) {
    return s.noLocal || s.retainAsPublished || rh ? Status.BadParameter : s.qos;
  }
  if (!(rh >= 0 && rh <= 2)) return Status.BadParameter;
  return s.qos | (s.noLocal ? 4 : 0) | (s.retainAsPublished ? 8 : 0) | (rh << 4);
}

/** Remaining Length of a SUBSCRIBE (`unsub` false) or UNSUBSCRIBE (`unsub` true). */
function subRemaining(
  id: number,
  list: (Subscription | string)[],
  props: MqttProperties | undefined,
  unsub: boolean,
  version: number,
  lens: number[],
): number {
  if (!packetIdOk(id) || !list || list.length === 0) return Status.BadParameter;
  if (version !== ProtocolVersion.V311 && version !== ProtocolVersion.V5) return Status.Unsupported;
  if (version === ProtocolVersion.V311 && props) return Status.BadParameter;
  let n = 2;
  if (globalThis.FIELDMQ_MQTT5 !== false && version === ProtocolVersion.V5) {
    const p = propertiesDataLength(props, unsub ? PacketType.UNSUBSCRIBE : PacketType.SUBSCRIBE);
    if (p < 0) return p;
    lens[0] = p;
    n += varintSize(p) + p;
  }
  for (let i = 0; i < list.length; i++) {
    const item = list[i];
    const topic = unsub ? (item as string) : (item as Subscription).topic;
    if (typeof topic !== 'string') return Status.BadParameter;
    const tl = topicFilterLength(topic);
    if (tl < 0) return tl;
    if (!unsub) {
      const o = optionsByte(item as Subscription, version);
      if (o < 0) return o;
    }
    n += 2 + tl + (unsub ? 0 : 1);
  }
  return n;
}

/** Size of the SUBSCRIBE for `s`, or a negative status (bad filter, QoS, options, packet id). */
export function subscribeSize(s: SubscribeInfo, version: number): number {
  const lens = [0];
  const r = subRemaining(s.packetId, s.subscriptions, s.properties, false, version, lens);
  return r < 0 ? r : 1 + varintSize(r) + r;
}

/** Writes the SUBSCRIBE for `s` at `buf[off]`; returns the end offset or a negative status. */
export function encodeSubscribe(s: SubscribeInfo, version: number, buf: Uint8Array, off: number): number {
  const lens = [0];
  const r = subRemaining(s.packetId, s.subscriptions, s.properties, false, version, lens);
  if (r < 0) return r;
  const room = packetRoom(r, buf, off);
  if (room < 0) return room;
  let p = writeFixedHeader(buf, off, (PacketType.SUBSCRIBE << 4) | 2, r);
  p = writeU16(buf, p, s.packetId);
  if (globalThis.FIELDMQ_MQTT5 !== false && version === ProtocolVersion.V5) p = writeProperties(s.properties, lens[0], buf, p);
  for (let i = 0; i < s.subscriptions.length; i++) {
    const sub = s.subscriptions[i];
    p = writeString(buf, p, sub.topic);
    buf[p++] = optionsByte(sub, version);
  }
  return p;
}

/** Size of the UNSUBSCRIBE for `u`, or a negative status. */
export function unsubscribeSize(u: UnsubscribeInfo, version: number): number {
  const lens = [0];
  const r = subRemaining(u.packetId, u.topics, u.properties, true, version, lens);
  return r < 0 ? r : 1 + varintSize(r) + r;
}

/** Writes the UNSUBSCRIBE for `u` at `buf[off]`; returns the end offset or a negative status. */
export function encodeUnsubscribe(u: UnsubscribeInfo, version: number, buf: Uint8Array, off: number): number {
  const lens = [0];
  const r = subRemaining(u.packetId, u.topics, u.properties, true, version, lens);
  if (r < 0) return r;
  const room = packetRoom(r, buf, off);
  if (room < 0) return room;
  let p = writeFixedHeader(buf, off, (PacketType.UNSUBSCRIBE << 4) | 2, r);
  p = writeU16(buf, p, u.packetId);
  if (globalThis.FIELDMQ_MQTT5 !== false && version === ProtocolVersion.V5) p = writeProperties(u.properties, lens[0], buf, p);
  for (let i = 0; i < u.topics.length; i++) p = writeString(buf, p, u.topics[i]);
  return p;
}

/** Remaining Length of a SUBACK / UNSUBACK. */
function ackListRemaining(
  type: number,
  id: number,
  codes: number[] | undefined,
  props: MqttProperties | undefined,
  version: number,
  lens: number[],
): number {
  if (!packetIdOk(id)) return Status.BadParameter;
  const n = codes ? codes.length : 0;
  let allowed: number[];
  if (version === ProtocolVersion.V311) {
    if (props) return Status.BadParameter;
    if (type === PacketType.UNSUBACK) return n === 0 ? 2 : Status.BadParameter;
    allowed = SUBACK_V3;
  } else if (version === ProtocolVersion.V5) {
    allowed = type === PacketType.SUBACK ? SUBACK_V5 : UNSUBACK_V5;
  } else return Status.Unsupported;
  if (n === 0) return Status.BadParameter;
  for (let i = 0; i < n; i++) if (allowed.indexOf((codes as number[])[i]) < 0) return Status.BadParameter;
  let r = 2 + n;
  if (version === ProtocolVersion.V5) {
    const p = propertiesDataLength(props, type);
    if (p < 0) return p;
    lens[0] = p;
    r += varintSize(p) + p;
  }
  return r;
}

function encodeAckList(
  type: number,
  id: number,
  codes: number[] | undefined,
  props: MqttProperties | undefined,
  version: number,
  buf: Uint8Array,
  off: number,
): number {
  const lens = [0];
  const r = ackListRemaining(type, id, codes, props, version, lens);
  if (r < 0) return r;
  const room = packetRoom(r, buf, off);
  if (room < 0) return room;
  let p = writeFixedHeader(buf, off, type << 4, r);
  p = writeU16(buf, p, id);
  if (version === ProtocolVersion.V5) p = writeProperties(props, lens[0], buf, p);
  if (codes) for (let i = 0; i < codes.length; i++) buf[p++] = codes[i];
  return p;
}

/** Size of the SUBACK for `a`, or a negative status (no codes, a code not allowed). */
export function subackSize(a: SubackInfo, version: number): number {
  const lens = [0];
  const r = ackListRemaining(PacketType.SUBACK, a.packetId, a.reasonCodes, a.properties, version, lens);
  return r < 0 ? r : 1 + varintSize(r) + r;
}

/** Writes the SUBACK for `a` at `buf[off]`; returns the end offset or a negative status. */
export function encodeSuback(a: SubackInfo, version: number, buf: Uint8Array, off: number): number {
  return encodeAckList(PacketType.SUBACK, a.packetId, a.reasonCodes, a.properties, version, buf, off);
}

/** Size of the UNSUBACK for `a`, or a negative status. */
export function unsubackSize(a: UnsubackInfo, version: number): number {
  const lens = [0];
  const r = ackListRemaining(PacketType.UNSUBACK, a.packetId, a.reasonCodes, a.properties, version, lens);
  return r < 0 ? r : 1 + varintSize(r) + r;
}

/** Writes the UNSUBACK for `a` at `buf[off]`; returns the end offset or a negative status. */
export function encodeUnsuback(a: UnsubackInfo, version: number, buf: Uint8Array, off: number): number {
  return encodeAckList(PacketType.UNSUBACK, a.packetId, a.reasonCodes, a.properties, version, buf, off);
}

/** Reads packet id and (MQTT 5) properties at the start of a SUB/UNSUB/ack body; returns the new position. */
function readIdAndProps(buf: Uint8Array, pos: number, end: number, version: number, out: PacketView): number {
  if (pos + 2 > end) return Status.Malformed;
  const id = readU16(buf, pos);
  if (id === 0) return Status.Malformed;
  out.packetId = id;
  pos += 2;
  if (globalThis.FIELDMQ_MQTT5 !== false && version === ProtocolVersion.V5) {
    pos = readPacketProperties(buf, pos, end, out.type, out);
    if (pos < 0) return pos;
  }
  out.payloadOffset = pos;
  out.payloadLength = end - pos;
  return pos;
}

/**
 * Decodes a SUBSCRIBE (`out.type` 8) or UNSUBSCRIBE (10) body: packet id,
 * properties, and a non-empty list of valid topic filters (with valid options
 * for SUBSCRIBE). The list is `out.payloadOffset/payloadLength`.
 */
export function decodeSubscribeBody(buf: Uint8Array, pos: number, end: number, version: number, out: MqttPacket): number {
  pos = readIdAndProps(buf, pos, end, version, out);
  if (pos < 0) return pos;
  if (pos === end) return Status.ProtocolError; // §3.8.3 / §3.10.3: at least one filter
  const sub = out.type === PacketType.SUBSCRIBE;
  while (pos < end) {
    const e = fieldEnd(buf, pos, end);
    if (e < 0) return e;
    const st = checkTopicFilter(buf, pos + 2, e);
    if (st < 0) return st;
    pos = e;
    if (sub) {
      if (pos >= end) return Status.Malformed;
      const o = buf[pos++];
      if (version === ProtocolVersion.V311) {
        if (o & 0xfc || (o & 3) === 3) return Status.Malformed; // 3.1.1 §3.8.3.1 [MQTT-3.8.3-4]
      } else {
        if (o & 0xc0) return Status.Malformed; // reserved bits [MQTT-3.8.3-5]
        if ((o & 3) === 3 || (o & 0x30) === 0x30) return Status.ProtocolError; // 5.0 §3.8.3.1
      }
    }
  }
  return Status.Ok;
}

/** Decodes a SUBACK (9) or UNSUBACK (11) body; the reason codes are the payload bytes. */
export function decodeSubackBody(buf: Uint8Array, pos: number, end: number, version: number, out: PacketView): number {
  pos = readIdAndProps(buf, pos, end, version, out);
  if (pos < 0) return pos;
  const v5 = globalThis.FIELDMQ_MQTT5 !== false && version === ProtocolVersion.V5;
  if (out.type === PacketType.UNSUBACK && !v5) return pos === end ? Status.Ok : Status.Malformed;
  if (pos === end) return Status.ProtocolError;
  const allowed = globalThis.FIELDMQ_MQTT5 !== false && v5 ? (out.type === PacketType.SUBACK ? SUBACK_V5 : UNSUBACK_V5) : SUBACK_V3;
  for (; pos < end; pos++) if (allowed.indexOf(buf[pos]) < 0) return Status.ProtocolError;
  return Status.Ok;
}

/**
 * Reads the topic filter (and, for SUBSCRIBE, its options) at `pos` of an
 * already-decoded SUBSCRIBE/UNSUBSCRIBE payload into `out`. Returns the
 * position of the next entry, or {@link Status.Empty} at `end`.
 *
 * @example
 * ```ts
 * for (let p = pkt.payloadOffset, e = p + pkt.payloadLength; (p = nextSubscription(buf, p, e, true, sv)) >= 0; ) { ... }
 * ```
 */
export function nextSubscription(
  buf: Uint8Array,
  pos: number,
  end: number,
  withOptions: boolean,
  out: SubscriptionView,
): number {
  if (pos + 2 > end) return Status.Empty;
  const n = readU16(buf, pos);
  out.topicOffset = pos + 2;
  out.topicLength = n;
  pos += 2 + n;
  if (withOptions) {
    const o = buf[pos++];
    out.qos = o & 3;
    out.noLocal = (o & 4) !== 0;
    out.retainAsPublished = (o & 8) !== 0;
    out.retainHandling = (o >> 4) & 3;
  }
  return pos;
}
