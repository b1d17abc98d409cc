/**
 * Glue for the fieldmq ⇄ mqtt-packet cross-check: running each library, and
 * translating between fieldmq's encoder input ({@link AnyPacketInfo}),
 * mqtt-packet's packet objects, and a neutral comparable form.
 *
 * Representation differences handled here (from mqtt-packet 9's parser.js /
 * writeToStream.js):
 * - packet type: `cmd` names; Packet Identifier: `messageId`; keep alive:
 *   `keepalive`; clean session: `clean`; SUBSCRIBE options `nl`/`rap`/`rh`;
 *   UNSUBSCRIBE `unsubscriptions`; SUBACK/UNSUBACK codes `granted`.
 * - CONNACK code: `returnCode` with 3.1.1, `reasonCode` with 5.0.
 * - every parsed packet carries the fixed-header fields `retain`, `qos`,
 *   `dup` (PUBREL/SUBSCRIBE/UNSUBSCRIBE report `qos: 1` from their 0b0010
 *   flags), `length` (the Remaining Length), and `topic`/`payload` (`null`
 *   unless PUBLISH).
 * - 5.0 acks: the parser sets `reasonCode: 0` when the code was omitted;
 *   DISCONNECT likewise; 3.1.1 packets have no `reasonCode`.
 * - properties: only when at least one is present; binary values and
 *   payloads are Buffers; a property seen twice becomes an array (so PUBLISH
 *   Subscription Identifiers are a number when one, an array when several);
 *   `userProperties` is a null-prototype object `{name: value | value[]}`.
 * - user properties are written by mqtt-packet grouped by name, in
 *   `Object.getOwnPropertyNames` order (integer-like names first), so a flat
 *   fieldmq list with interleaved names comes back regrouped.
 */
import { isDeepStrictEqual } from 'node:util';
import * as mqtt from 'mqtt-packet';
import { expect } from 'vitest';
import { PacketType } from '../../../src/mqtt/constants';
import type { AnyPacketInfo } from '../../../src/mqtt/encode';
import { encodePacket, packetSize } from '../../../src/mqtt/encode';
import { decodePacket } from '../../../src/mqtt/decode';
import { MqttPacket } from '../../../src/mqtt/packet';
import { decodeProperties, WILL_PROPERTIES, type MqttProperties } from '../../../src/mqtt/properties';
import { SubscriptionView, nextSubscription } from '../../../src/mqtt/subscribe';
import { utf8Decode } from '../../../src/core/utf8';
import { Status } from '../../../src/core/status';
import type { Version } from './arbitraries';

type Obj = Record<string, unknown>;

export const CMD = [
  'reserved',
  'connect',
  'connack',
  'publish',
  'puback',
  'pubrec',
  'pubrel',
  'pubcomp',
  'subscribe',
  'suback',
  'unsubscribe',
  'unsuback',
  'pingreq',
  'pingresp',
  'disconnect',
  'auth',
] as const;

/**
 * MQTT 5 property names (as both libraries spell them) in Property
 * Identifier order (5.0 §2.2.2.2, table 2-4).
 */
export const PROPERTY_ORDER: (keyof MqttProperties)[] = [
  'payloadFormatIndicator', // 0x01
  'messageExpiryInterval', // 0x02
  'contentType', // 0x03
  'responseTopic', // 0x08
  'correlationData', // 0x09
  'subscriptionIdentifier', // 0x0b
  'sessionExpiryInterval', // 0x11
  'assignedClientIdentifier', // 0x12
  'serverKeepAlive', // 0x13
  'authenticationMethod', // 0x15
  'authenticationData', // 0x16
  'requestProblemInformation', // 0x17
  'willDelayInterval', // 0x18
  'requestResponseInformation', // 0x19
  'responseInformation', // 0x1a
  'serverReference', // 0x1c
  'reasonString', // 0x1f
  'receiveMaximum', // 0x21
  'topicAliasMaximum', // 0x22
  'topicAlias', // 0x23
  'maximumQoS', // 0x24
  'retainAvailable', // 0x25
  'userProperties', // 0x26
  'maximumPacketSize', // 0x27
  'wildcardSubscriptionAvailable', // 0x28
  'subscriptionIdentifiersAvailable', // 0x29
  'sharedSubscriptionAvailable', // 0x2a
];

// ---------------------------------------------------------------------------
// Small utilities
// ---------------------------------------------------------------------------

export function hex(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.length).toString('hex');
}

/** Throws (with what and where) unless `actual === expected`; cheaper than expect() in hot loops. */
function same(actual: unknown, expected: unknown, what: string): void {
  if (actual !== expected) expect(actual, what).toBe(expected);
}

/** UTF-8 by Node's encoder: the reference, independent of fieldmq's utf8Encode. */
export function utf8Bytes(s: string): Uint8Array {
  return new Uint8Array(Buffer.from(s, 'utf8'));
}

/** Bytes of a payload given as bytes (optionally a slice) or a string. */
export function dataBytes(d: Uint8Array | string | null | undefined, off?: number, len?: number): Uint8Array {
  if (d === undefined || d === null) return new Uint8Array(0);
  if (typeof d === 'string') return utf8Bytes(d);
  const start = off === undefined ? 0 : off;
  const end = len === undefined ? d.length : start + len;
  return d.slice(start, end);
}

/** Length of the fixed header (type byte + Remaining Length varint) of `bytes`. */
export function fixedHeaderLength(bytes: Uint8Array): number {
  let i = 1;
  while (bytes[i] & 0x80) i++;
  return i + 1;
}

/**
 * A comparable copy: byte arrays (Buffer or Uint8Array) become `hex:` strings,
 * objects of any prototype (Packet instances, null-prototype maps) become
 * plain objects without `undefined` members. `Object.fromEntries` defines
 * keys, so a user property named `__proto__` stays an ordinary key.
 */
export function comparable(x: unknown): unknown {
  if (x instanceof Uint8Array) return 'hex:' + hex(x);
  if (Array.isArray(x)) return x.map(comparable);
  if (x !== null && typeof x === 'object') {
    const o = x as Obj;
    return Object.fromEntries(
      Object.keys(o)
        .filter((k) => o[k] !== undefined)
        .map((k) => [k, comparable(o[k])]),
    );
  }
  return x;
}

/**
 * Asserts `comparable(actual)` deep-equals `comparable(expected)`. The fast
 * check runs first; vitest's `toEqual` only on a mismatch, for its diff.
 */
export function expectSame(actual: unknown, expected: unknown): void {
  const a = comparable(actual);
  const e = comparable(expected);
  if (!isDeepStrictEqual(a, e)) expect(a).toEqual(e);
}

// ---------------------------------------------------------------------------
// User properties: fieldmq's flat list vs mqtt-packet's object
// ---------------------------------------------------------------------------

/** `[k1, v1, k2, v2, ...]` → `{k: v}` / `{k: [v, v']}` (null prototype), values kept in order per name. */
export function groupUserProperties(list: string[]): Record<string, string | string[]> {
  const o = Object.create(null) as Record<string, string | string[]>;
  for (let i = 0; i < list.length; i += 2) {
    const k = list[i];
    const v = list[i + 1];
    if (Object.prototype.hasOwnProperty.call(o, k)) {
      const cur = o[k];
      o[k] = Array.isArray(cur) ? cur.concat(v) : [cur, v];
    } else {
      o[k] = v;
    }
  }
  return o;
}

/** The flat list in the order mqtt-packet writes the object (getOwnPropertyNames order). */
export function flattenUserProperties(o: Record<string, string | string[]>): string[] {
  const out: string[] = [];
  for (const k of Object.getOwnPropertyNames(o)) {
    const v = o[k];
    if (Array.isArray(v)) for (const x of v) out.push(k, x);
    else out.push(k, v);
  }
  return out;
}

/** fieldmq's list reordered into the order mqtt-packet would put it on the wire. */
export function mqttPacketUserPropertyOrder(list: string[]): string[] {
  return flattenUserProperties(groupUserProperties(list));
}

/**
 * True when mqtt-packet 9's parser loses a user property of `list`: it merges
 * a repeated name with `if (result[name][key])`, a truthiness test, so when
 * the first value of a name is the empty string the second value overwrites
 * it instead of forming an array (parser.js `_parseProperties`). MQTT 5.0
 * §3.1.2.11.8 / §3.3.2.3.7: "The same name is allowed to appear more than
 * once", and an empty UTF-8 string is a valid value; this is an mqtt-packet
 * bug, excluded from the fieldmq → mqtt-packet direction.
 */
export function triggersEmptyValueMergeBug(list: string[] | undefined): boolean {
  if (!list) return false;
  const first = new Map<string, string>();
  for (let i = 0; i < list.length; i += 2) {
    const k = list[i];
    if (first.has(k)) {
      if (first.get(k) === '') return true;
    } else first.set(k, list[i + 1]);
  }
  return false;
}

/** The properties objects (packet and Will) of an info. */
export function propertyObjects(info: AnyPacketInfo): MqttProperties[] {
  const out: MqttProperties[] = [];
  const i = info as Obj;
  if (i.properties) out.push(i.properties as MqttProperties);
  const w = i.will as Obj | undefined;
  if (w && w.properties) out.push(w.properties as MqttProperties);
  return out;
}

/** A copy of `info` whose user property lists are in mqtt-packet's wire order. */
export function withMqttPacketUserPropertyOrder(info: AnyPacketInfo): AnyPacketInfo {
  const fix = (p: MqttProperties | undefined): MqttProperties | undefined =>
    p && p.userProperties ? { ...p, userProperties: mqttPacketUserPropertyOrder(p.userProperties) } : p;
  const i = { ...(info as Obj) };
  if (i.properties) i.properties = fix(i.properties as MqttProperties);
  if (i.will) {
    const w = { ...(i.will as Obj) };
    if (w.properties) w.properties = fix(w.properties as MqttProperties);
    i.will = w;
  }
  return i as unknown as AnyPacketInfo;
}

/** True when the properties put at least one property on the wire. */
export function hasWireProperties(p: MqttProperties | undefined): boolean {
  if (!p) return false;
  for (const name of PROPERTY_ORDER) {
    const v = p[name];
    if (v === undefined || v === null) continue;
    if (Array.isArray(v) && v.length === 0) continue;
    return true;
  }
  return false;
}

// ---------------------------------------------------------------------------
// Running the libraries
// ---------------------------------------------------------------------------

/**
 * Encodes with fieldmq at offset `lead` of a guarded buffer. Asserts that
 * `encodePacket` returns `lead + packetSize(...)`, and writes nothing outside
 * its packet. Returns a copy of the packet's bytes.
 */
export function encodeWithFieldmq(info: AnyPacketInfo, v: Version, lead = 0): Uint8Array {
  const size = packetSize(info, v);
  if (!(size >= 2)) expect(size, 'packetSize').toBeGreaterThanOrEqual(2);
  const buf = new Uint8Array(lead + size + 3).fill(0xa5);
  const end = encodePacket(info, v, buf, lead);
  same(end, lead + size, 'encodePacket end offset (lead + packetSize)');
  for (let i = 0; i < lead; i++) same(buf[i], 0xa5, 'byte before the packet');
  for (let i = end; i < buf.length; i++) same(buf[i], 0xa5, 'byte after the packet');
  return buf.slice(lead, end);
}

/** Parses `bytes` with a fresh mqtt-packet parser; asserts exactly one packet, no error, nothing left over. */
export function parseWithMqttPacket(bytes: Uint8Array, v: Version): Obj {
  const parser = mqtt.parser({ protocolVersion: v });
  const packets: Obj[] = [];
  const errors: string[] = [];
  parser.on('packet', (p) => packets.push(p as unknown as Obj));
  parser.on('error', (e: Error) => errors.push(e.message));
  const left = parser.parse(Buffer.from(bytes));
  if (errors.length > 0) expect(errors, 'mqtt-packet parser errors').toEqual([]);
  same(packets.length, 1, 'packets emitted by mqtt-packet');
  same(left, 0, 'bytes left in the mqtt-packet parser');
  return packets[0];
}

/** Generates with mqtt-packet (which throws on anything it refuses). */
export function generateWithMqttPacket(obj: Obj, v: Version): Uint8Array {
  return new Uint8Array(mqtt.generate(obj as unknown as mqtt.Packet, { protocolVersion: v }));
}

// ---------------------------------------------------------------------------
// fieldmq info → mqtt-packet objects
// ---------------------------------------------------------------------------

/**
 * fieldmq properties → mqtt-packet's form, keys inserted in identifier order
 * (mqtt-packet writes in key order). `forGenerate`: binary values as Buffers
 * (its writer calls `.copy` on them). Undefined when nothing reaches the wire.
 */
export function propertiesToMqttPacket(
  p: MqttProperties | undefined,
  type: PacketType,
  forGenerate: boolean,
): Obj | undefined {
  if (!hasWireProperties(p)) return undefined;
  const src = p as MqttProperties;
  const out: Obj = {};
  for (const name of PROPERTY_ORDER) {
    const v = src[name];
    if (v === undefined || v === null) continue;
    if (name === 'userProperties') {
      const list = v as string[];
      if (list.length > 0) out[name] = groupUserProperties(list);
    } else if (name === 'subscriptionIdentifier') {
      const ids = Array.isArray(v) ? v : [v as number];
      if (ids.length === 0) continue;
      // One value parses back as a number, several as an array (parser.js).
      out[name] = ids.length === 1 && !(forGenerate && type === PacketType.PUBLISH) ? ids[0] : ids;
    } else if (v instanceof Uint8Array) {
      out[name] = forGenerate ? Buffer.from(v) : v;
    } else {
      out[name] = v;
    }
  }
  return out;
}

function ackCmd(info: AnyPacketInfo): string {
  return CMD[info.type];
}

/** The object to hand to `mqtt.generate` for the same packet as `info`. */
export function toMqttPacketObject(info: AnyPacketInfo, v: Version): Obj {
  const props = (p: MqttProperties | undefined) => (v === 5 ? propertiesToMqttPacket(p, info.type, true) : undefined);
  switch (info.type) {
    case PacketType.CONNECT: {
      const w = info.will;
      return {
        cmd: 'connect',
        protocolId: 'MQTT',
        protocolVersion: v,
        clean: info.cleanSession,
        keepalive: info.keepAlive,
        clientId: info.clientId,
        username: info.username,
        password: info.password === undefined ? undefined : Buffer.from(dataBytes(info.password)),
        will: w
          ? {
              topic: w.topic,
              payload: Buffer.from(dataBytes(w.payload)),
              qos: w.qos,
              retain: w.retain,
              properties: props(w.properties),
            }
          : undefined,
        properties: props(info.properties),
      };
    }
    case PacketType.CONNACK:
      return {
        cmd: 'connack',
        sessionPresent: info.sessionPresent,
        [v === 5 ? 'reasonCode' : 'returnCode']: info.reasonCode,
        properties: props(info.properties),
      };
    case PacketType.PUBLISH:
      return {
        cmd: 'publish',
        topic: info.topic,
        payload: Buffer.from(dataBytes(info.payload, info.payloadOffset, info.payloadLength)),
        qos: info.qos,
        retain: !!info.retain,
        dup: !!info.dup,
        messageId: info.qos > 0 ? info.packetId : undefined,
        properties: props(info.properties),
      };
    case PacketType.PUBACK:
    case PacketType.PUBREC:
    case PacketType.PUBREL:
    case PacketType.PUBCOMP:
      return {
        cmd: ackCmd(info),
        messageId: info.packetId,
        reasonCode: info.reasonCode === undefined ? 0 : info.reasonCode,
        properties: props(info.properties),
      };
    case PacketType.SUBSCRIBE:
      return {
        cmd: 'subscribe',
        messageId: info.packetId,
        subscriptions: info.subscriptions.map((s) => ({
          topic: s.topic,
          qos: s.qos,
          nl: !!s.noLocal,
          rap: !!s.retainAsPublished,
          rh: s.retainHandling === undefined ? 0 : s.retainHandling,
        })),
        properties: props(info.properties),
      };
    case PacketType.SUBACK:
      return { cmd: 'suback', messageId: info.packetId, granted: info.reasonCodes.slice(), properties: props(info.properties) };
    case PacketType.UNSUBSCRIBE:
      return { cmd: 'unsubscribe', messageId: info.packetId, unsubscriptions: info.topics.slice(), properties: props(info.properties) };
    case PacketType.UNSUBACK:
      return {
        cmd: 'unsuback',
        messageId: info.packetId,
        granted: v === 5 ? (info.reasonCodes || []).slice() : undefined,
        properties: props(info.properties),
      };
    case PacketType.PINGREQ:
    case PacketType.PINGRESP:
      return { cmd: CMD[info.type] };
    case PacketType.DISCONNECT:
    case PacketType.AUTH:
      return {
        cmd: CMD[info.type],
        reasonCode: info.reasonCode === undefined ? 0 : info.reasonCode,
        properties: props(info.properties),
      };
    default:
      throw new Error('unknown packet type');
  }
}

/**
 * What mqtt-packet's parser must report for the bytes of `info`, whose
 * Remaining Length is `remaining` (see the file comment for the conventions).
 */
export function expectedMqttPacketParse(info: AnyPacketInfo, v: Version, remaining: number): Obj {
  const props = (p: MqttProperties | undefined) => (v === 5 ? propertiesToMqttPacket(p, info.type, false) : undefined);
  const base: Obj = { cmd: CMD[info.type], retain: false, qos: 0, dup: false, length: remaining, topic: null, payload: null };
  switch (info.type) {
    case PacketType.CONNECT: {
      const w = info.will;
      return {
        ...base,
        protocolId: 'MQTT',
        protocolVersion: v,
        clean: info.cleanSession,
        keepalive: info.keepAlive,
        clientId: info.clientId,
        username: info.username,
        password: info.password === undefined ? undefined : dataBytes(info.password),
        will: w
          ? { topic: w.topic, payload: dataBytes(w.payload), qos: w.qos, retain: w.retain, properties: props(w.properties) }
          : undefined,
        properties: props(info.properties),
      };
    }
    case PacketType.CONNACK:
      return {
        ...base,
        sessionPresent: info.sessionPresent,
        [v === 5 ? 'reasonCode' : 'returnCode']: info.reasonCode,
        properties: props(info.properties),
      };
    case PacketType.PUBLISH:
      return {
        ...base,
        topic: info.topic,
        payload: dataBytes(info.payload, info.payloadOffset, info.payloadLength),
        qos: info.qos,
        retain: !!info.retain,
        dup: !!info.dup,
        messageId: info.qos > 0 ? info.packetId : undefined,
        properties: props(info.properties),
      };
    case PacketType.PUBACK:
    case PacketType.PUBREC:
    case PacketType.PUBREL:
    case PacketType.PUBCOMP:
      return {
        ...base,
        qos: info.type === PacketType.PUBREL ? 1 : 0,
        messageId: info.packetId,
        reasonCode: v === 5 ? (info.reasonCode === undefined ? 0 : info.reasonCode) : undefined,
        properties: props(info.properties),
      };
    case PacketType.SUBSCRIBE:
      return {
        ...base,
        qos: 1,
        messageId: info.packetId,
        subscriptions: info.subscriptions.map((s) =>
          v === 5
            ? {
                topic: s.topic,
                qos: s.qos,
                nl: !!s.noLocal,
                rap: !!s.retainAsPublished,
                rh: s.retainHandling === undefined ? 0 : s.retainHandling,
              }
            : { topic: s.topic, qos: s.qos },
        ),
        properties: props(info.properties),
      };
    case PacketType.SUBACK:
      return { ...base, messageId: info.packetId, granted: info.reasonCodes.slice(), properties: props(info.properties) };
    case PacketType.UNSUBSCRIBE:
      return { ...base, qos: 1, messageId: info.packetId, unsubscriptions: info.topics.slice(), properties: props(info.properties) };
    case PacketType.UNSUBACK:
      return {
        ...base,
        messageId: info.packetId,
        granted: v === 5 ? (info.reasonCodes || []).slice() : undefined,
        properties: props(info.properties),
      };
    case PacketType.PINGREQ:
    case PacketType.PINGRESP:
      return base;
    case PacketType.DISCONNECT:
      return {
        ...base,
        reasonCode: v === 5 ? (info.reasonCode === undefined ? 0 : info.reasonCode) : undefined,
        properties: props(info.properties),
      };
    case PacketType.AUTH:
      return { ...base, reasonCode: info.reasonCode === undefined ? 0 : info.reasonCode, properties: props(info.properties) };
    default:
      throw new Error('unknown packet type');
  }
}

// ---------------------------------------------------------------------------
// fieldmq decode → neutral form, and info → the same neutral form
// ---------------------------------------------------------------------------

/**
 * The neutral form of a packet: fieldmq's info shape with every default
 * filled in (reason code 0, subscription options false/0, Session Present),
 * payloads as bytes, PUBLISH Subscription Identifiers as a list, SUBSCRIBE's
 * as a number, empty property sets absent, and the fixed-header `flags`.
 */
export type Neutral = Obj;

function neutralProperties(p: MqttProperties | undefined, type: number, reorderUserProperties: boolean): Obj | undefined {
  if (!hasWireProperties(p)) return undefined;
  const src = p as MqttProperties;
  const out: Obj = {};
  for (const name of PROPERTY_ORDER) {
    const v = src[name];
    if (v === undefined || v === null) continue;
    if (name === 'userProperties') {
      const list = v as string[];
      if (list.length > 0) out[name] = reorderUserProperties ? mqttPacketUserPropertyOrder(list) : list.slice();
    } else if (name === 'subscriptionIdentifier') {
      const ids = Array.isArray(v) ? v : [v as number];
      if (ids.length === 0) continue;
      out[name] = type === PacketType.PUBLISH ? ids.slice() : ids[0];
    } else {
      out[name] = v;
    }
  }
  return out;
}

function publishFlags(info: { qos: number; dup?: boolean; retain?: boolean }): number {
  return (info.dup ? 8 : 0) | (info.qos << 1) | (info.retain ? 1 : 0);
}

/**
 * `info` in the neutral form. `reorderUserProperties`: put user property
 * lists in mqtt-packet's wire order (for bytes that mqtt-packet generated).
 */
export function neutralFromInfo(info: AnyPacketInfo, v: Version, reorderUserProperties: boolean): Neutral {
  const props = (p: MqttProperties | undefined, type: number) =>
    v === 5 ? neutralProperties(p, type, reorderUserProperties) : undefined;
  const t = info.type;
  switch (info.type) {
    case PacketType.CONNECT: {
      const w = info.will;
      return {
        type: t,
        flags: 0,
        protocolVersion: v,
        clientId: info.clientId,
        cleanSession: info.cleanSession,
        keepAlive: info.keepAlive,
        username: info.username,
        password: info.password === undefined ? undefined : dataBytes(info.password),
        will: w
          ? { topic: w.topic, payload: dataBytes(w.payload), qos: w.qos, retain: w.retain, properties: props(w.properties, WILL_PROPERTIES) }
          : undefined,
        properties: props(info.properties, t),
      };
    }
    case PacketType.CONNACK:
      return { type: t, flags: 0, sessionPresent: info.sessionPresent, reasonCode: info.reasonCode, properties: props(info.properties, t) };
    case PacketType.PUBLISH:
      return {
        type: t,
        flags: publishFlags(info),
        topic: info.topic,
        payload: dataBytes(info.payload, info.payloadOffset, info.payloadLength),
        qos: info.qos,
        retain: !!info.retain,
        dup: !!info.dup,
        packetId: info.qos > 0 ? info.packetId : undefined,
        properties: props(info.properties, t),
      };
    case PacketType.PUBACK:
    case PacketType.PUBREC:
    case PacketType.PUBREL:
    case PacketType.PUBCOMP:
      return {
        type: t,
        flags: t === PacketType.PUBREL ? 2 : 0,
        packetId: info.packetId,
        reasonCode: info.reasonCode === undefined ? 0 : info.reasonCode,
        properties: props(info.properties, t),
      };
    case PacketType.SUBSCRIBE:
      return {
        type: t,
        flags: 2,
        packetId: info.packetId,
        subscriptions: info.subscriptions.map((s) => ({
          topic: s.topic,
          qos: s.qos,
          noLocal: !!s.noLocal,
          retainAsPublished: !!s.retainAsPublished,
          retainHandling: s.retainHandling === undefined ? 0 : s.retainHandling,
        })),
        properties: props(info.properties, t),
      };
    case PacketType.SUBACK:
      return { type: t, flags: 0, packetId: info.packetId, reasonCodes: info.reasonCodes.slice(), properties: props(info.properties, t) };
    case PacketType.UNSUBSCRIBE:
      return { type: t, flags: 2, packetId: info.packetId, topics: info.topics.slice(), properties: props(info.properties, t) };
    case PacketType.UNSUBACK:
      return {
        type: t,
        flags: 0,
        packetId: info.packetId,
        reasonCodes: v === 5 ? (info.reasonCodes || []).slice() : [],
        properties: props(info.properties, t),
      };
    case PacketType.PINGREQ:
    case PacketType.PINGRESP:
      return { type: t, flags: 0 };
    case PacketType.DISCONNECT:
    case PacketType.AUTH:
      return {
        type: t,
        flags: 0,
        reasonCode: info.reasonCode === undefined ? 0 : info.reasonCode,
        properties: props(info.properties, t),
      };
    default:
      throw new Error('unknown packet type');
  }
}

function str(buf: Uint8Array, off: number, len: number): string {
  return utf8Decode(buf, off, off + len);
}

function bytesAt(buf: Uint8Array, off: number, len: number): Uint8Array {
  return buf.slice(off, off + len);
}

/** decodeProperties over a view; asserts Ok; undefined when the view is empty. */
function propsAt(buf: Uint8Array, off: number, len: number, type: number): MqttProperties | undefined {
  if (len === 0) return undefined;
  const out: MqttProperties = {};
  const st = decodeProperties(buf, off, off + len, type, out);
  same(st, 0, 'decodeProperties status');
  return out;
}

/** The MqttPacket fields each packet type fills (besides type/flags/length/bodyOffset). */
const FIELDS_USED: Record<number, string[]> = (() => {
  const props = ['propertiesOffset', 'propertiesLength'];
  const payload = ['payloadOffset', 'payloadLength'];
  const connect = [
    'protocolVersion', 'cleanSession', 'keepAlive', 'clientIdOffset', 'clientIdLength', 'will', 'qos', 'retain',
    'willPropertiesOffset', 'willPropertiesLength', 'willTopicOffset', 'willTopicLength', 'willPayloadOffset',
    'willPayloadLength', 'hasUsername', 'usernameOffset', 'usernameLength', 'hasPassword', 'passwordOffset',
    'passwordLength', ...props, ...payload,
  ];
  const ack = ['packetId', 'reasonCode', ...props];
  const list = ['packetId', ...props, ...payload];
  return {
    1: connect,
    2: ['sessionPresent', 'reasonCode', ...props],
    3: ['qos', 'dup', 'retain', 'packetId', 'topicOffset', 'topicLength', 'topicAlias', ...props, ...payload],
    4: ack, 5: ack, 6: ack, 7: ack,
    8: list, 9: list, 10: list, 11: list,
    12: [], 13: [],
    14: ['reasonCode', ...props],
    15: ['reasonCode', ...props],
  };
})();

const FRESH = new MqttPacket();
/**
 * One view reused for every decode, as device code does: a field a decoder
 * forgets to reset shows up as a stale value from an earlier packet.
 */
const SHARED = new MqttPacket();

/**
 * Decodes `buf[off..off+len)` with fieldmq (asserting it consumes exactly
 * `expectLength` bytes) and reads every field back through the offsets of
 * the {@link MqttPacket} view into the neutral form. Also asserts the
 * fields the packet type does not use are left at their reset values, and
 * that `length`/`bodyOffset` are right.
 */
export function decodeWithFieldmq(buf: Uint8Array, off: number, len: number, v: Version, expectLength: number): Neutral {
  const pkt = SHARED;
  const n = decodePacket(buf, off, len, v, pkt, 0);
  same(n, expectLength, 'decodePacket result');
  same(pkt.length, expectLength, 'MqttPacket.length');
  same(pkt.bodyOffset, off + fixedHeaderLength(buf.subarray(off)), 'MqttPacket.bodyOffset');
  const used = FIELDS_USED[pkt.type];
  if (used === undefined) throw new Error('unknown packet type ' + pkt.type);
  const rec = pkt as unknown as Obj;
  const fresh = FRESH as unknown as Obj;
  for (const k of Object.keys(fresh)) {
    if (k === 'type' || k === 'flags' || k === 'length' || k === 'bodyOffset' || used.indexOf(k) >= 0) continue;
    same(rec[k], fresh[k], `MqttPacket.${k} (unused by ${CMD[pkt.type]}, must keep its reset value)`);
  }
  const props = () => propsAt(buf, pkt.propertiesOffset, pkt.propertiesLength, pkt.type);
  const t = pkt.type;
  switch (t) {
    case PacketType.CONNECT:
      return {
        type: t,
        flags: pkt.flags,
        protocolVersion: pkt.protocolVersion,
        clientId: str(buf, pkt.clientIdOffset, pkt.clientIdLength),
        cleanSession: pkt.cleanSession,
        keepAlive: pkt.keepAlive,
        username: pkt.hasUsername ? str(buf, pkt.usernameOffset, pkt.usernameLength) : undefined,
        password: pkt.hasPassword ? bytesAt(buf, pkt.passwordOffset, pkt.passwordLength) : undefined,
        will: pkt.will
          ? {
              topic: str(buf, pkt.willTopicOffset, pkt.willTopicLength),
              payload: bytesAt(buf, pkt.willPayloadOffset, pkt.willPayloadLength),
              qos: pkt.qos,
              retain: pkt.retain,
              properties: propsAt(buf, pkt.willPropertiesOffset, pkt.willPropertiesLength, WILL_PROPERTIES),
            }
          : undefined,
        properties: props(),
      };
    case PacketType.CONNACK:
      return { type: t, flags: pkt.flags, sessionPresent: pkt.sessionPresent, reasonCode: pkt.reasonCode, properties: props() };
    case PacketType.PUBLISH: {
      const p = props();
      // The Topic Alias is also reported on its own.
      same(pkt.topicAlias, p && p.topicAlias !== undefined ? p.topicAlias : 0, 'MqttPacket.topicAlias');
      if (pkt.qos === 0) same(pkt.packetId, 0, 'packetId of a QoS 0 PUBLISH');
      return {
        type: t,
        flags: pkt.flags,
        topic: str(buf, pkt.topicOffset, pkt.topicLength),
        payload: bytesAt(buf, pkt.payloadOffset, pkt.payloadLength),
        qos: pkt.qos,
        retain: pkt.retain,
        dup: pkt.dup,
        packetId: pkt.qos > 0 ? pkt.packetId : undefined,
        properties: p,
      };
    }
    case PacketType.PUBACK:
    case PacketType.PUBREC:
    case PacketType.PUBREL:
    case PacketType.PUBCOMP:
      return { type: t, flags: pkt.flags, packetId: pkt.packetId, reasonCode: pkt.reasonCode, properties: props() };
    case PacketType.SUBSCRIBE:
    case PacketType.UNSUBSCRIBE: {
      const sv = new SubscriptionView();
      const end = pkt.payloadOffset + pkt.payloadLength;
      const subs: Obj[] = [];
      const withOptions = t === PacketType.SUBSCRIBE;
      for (let p = pkt.payloadOffset; (p = nextSubscription(buf, p, end, withOptions, sv)) >= 0; ) {
        if (p > end) expect(p, 'nextSubscription position').toBeLessThanOrEqual(end);
        const topic = str(buf, sv.topicOffset, sv.topicLength);
        subs.push(
          withOptions
            ? { topic, qos: sv.qos, noLocal: sv.noLocal, retainAsPublished: sv.retainAsPublished, retainHandling: sv.retainHandling }
            : { topic },
        );
        if (subs.length > 70000) throw new Error('nextSubscription does not terminate');
      }
      return withOptions
        ? { type: t, flags: pkt.flags, packetId: pkt.packetId, subscriptions: subs, properties: props() }
        : { type: t, flags: pkt.flags, packetId: pkt.packetId, topics: subs.map((s) => s.topic), properties: props() };
    }
    case PacketType.SUBACK:
    case PacketType.UNSUBACK:
      return {
        type: t,
        flags: pkt.flags,
        packetId: pkt.packetId,
        reasonCodes: Array.from(buf.subarray(pkt.payloadOffset, pkt.payloadOffset + pkt.payloadLength)),
        properties: props(),
      };
    case PacketType.PINGREQ:
    case PacketType.PINGRESP:
      return { type: t, flags: pkt.flags };
    default:
      // DISCONNECT, AUTH
      return { type: t, flags: pkt.flags, reasonCode: pkt.reasonCode, properties: props() };
  }
}

// ---------------------------------------------------------------------------
// Cases where mqtt-packet, not fieldmq, is wrong (excluded from the properties)
// ---------------------------------------------------------------------------

/**
 * Valid packets mqtt-packet 9's parser mishandles:
 * - the bare AUTH (Reason Code 0x00, no properties, Remaining Length 0) that
 *   MQTT 5.0 §3.15.2.1 allows: `_parseAuth` reads a reason code that is not
 *   there and fails with "Invalid auth reason code";
 * - a user property name repeated after an empty first value
 *   ({@link triggersEmptyValueMergeBug}).
 */
export function mqttPacketParserBug(info: AnyPacketInfo, v: Version): boolean {
  if (v === 5 && info.type === PacketType.AUTH && !info.reasonCode && !hasWireProperties(info.properties)) return true;
  return propertyObjects(info).some((p) => triggersEmptyValueMergeBug(p.userProperties));
}

/**
 * Valid MQTT 5 CONNECTs mqtt-packet 9's generator refuses (writeToStream.js
 * `connect`, which applies 3.1.1 rules whatever the version):
 * - a Password without a User Name: "This version of the protocol allows
 *   the sending of a Password with no User Name, where MQTT v3.1.1 did not"
 *   (MQTT 5.0 §3.1.2.9); mqtt-packet throws "Username is required to use
 *   password";
 * - a zero-length ClientID with Clean Start 0: 3.1.1's [MQTT-3.1.3-7] has no
 *   counterpart in MQTT 5.0 §3.1.3.1; mqtt-packet throws "clientId must be
 *   given if cleanSession set to 0".
 */
export function mqttPacketGeneratorBug(info: AnyPacketInfo, v: Version): boolean {
  if (info.type !== PacketType.CONNECT || v !== 5) return false;
  return (info.password !== undefined && info.username === undefined) || (info.clientId === '' && !info.cleanSession);
}

// ---------------------------------------------------------------------------
// The three checks, shared by the property tests and the boundary cases
// ---------------------------------------------------------------------------

/**
 * fieldmq → mqtt-packet: encode `info` with fieldmq (at offset `lead`),
 * parse with mqtt-packet, which must report exactly what was encoded.
 */
export function checkFieldmqToMqttPacket(info: AnyPacketInfo, v: Version, lead = 0): void {
  const bytes = encodeWithFieldmq(info, v, lead);
  const parsed = parseWithMqttPacket(bytes, v);
  const remaining = bytes.length - fixedHeaderLength(bytes);
  expectSame(parsed, expectedMqttPacketParse(info, v, remaining));
}

/**
 * mqtt-packet → fieldmq: generate the same packet with mqtt-packet, decode
 * it with fieldmq after `lead` bytes and followed by `trail` (so offsets are
 * absolute and the decoder must stop at the packet's end), read every field
 * back through the view. Also: a maximum packet size of exactly the packet's
 * size accepts it and one less refuses it (5.0 §3.1.2.11.4 bounds the whole
 * packet); a CONNECT decodes by the protocol level it declares, whatever
 * level the caller passes.
 */
export function checkMqttPacketToFieldmq(info: AnyPacketInfo, v: Version, lead = 0, trail: Uint8Array = new Uint8Array(0)): void {
  const bytes = generateWithMqttPacket(toMqttPacketObject(info, v), v);
  const buf = new Uint8Array(lead + bytes.length + trail.length).fill(0xff);
  buf.set(bytes, lead);
  buf.set(trail, lead + bytes.length);
  const len = bytes.length + trail.length;
  const expected = neutralFromInfo(info, v, true);
  expectSame(decodeWithFieldmq(buf, lead, len, v, bytes.length), expected);
  if (info.type === PacketType.CONNECT) {
    const other: Version = v === 4 ? 5 : 4;
    expectSame(decodeWithFieldmq(buf, lead, len, other, bytes.length), expected);
  }
  same(decodePacket(buf, lead, len, v, new MqttPacket(), bytes.length), bytes.length, 'decodePacket with maxPacketSize = packet size');
  same(decodePacket(buf, lead, len, v, new MqttPacket(), bytes.length - 1), Status.TooLarge, 'decodePacket with maxPacketSize = packet size - 1');
}

/**
 * mqtt-packet's encoding of `info` rewritten into fieldmq's, for the cases
 * where both are valid but differ (MQTT 5 only):
 * - PUBACK/PUBREC/PUBREL/PUBCOMP with a non-zero reason code and no
 *   properties: mqtt-packet writes a Property Length 0 (Remaining Length 4),
 *   fieldmq omits it (Remaining Length 3): "If the Remaining Length is less
 *   than 4 there is no Property Length and the value of 0 is used"
 *   (§3.4.2.2.1, §3.5.2.2.1, §3.6.2.2.1, §3.7.2.2.1).
 * - DISCONNECT and AUTH without properties: mqtt-packet always writes the
 *   reason code and a Property Length 0 (Remaining Length 2). fieldmq omits
 *   both for reason code 0 (Remaining Length 0: §3.14.2.1, §3.15.2.1) and the
 *   Property Length otherwise (Remaining Length 1: "If the Remaining Length
 *   is less than 2, a value of 0 is used", §3.14.2.2.1, §3.15.2.2.1).
 * Everything else must be identical.
 */
export function fieldmqFormOf(theirs: Uint8Array, info: AnyPacketInfo, v: Version): Uint8Array {
  if (v !== 5) return theirs;
  switch (info.type) {
    case PacketType.PUBACK:
    case PacketType.PUBREC:
    case PacketType.PUBREL:
    case PacketType.PUBCOMP: {
      const code = info.reasonCode === undefined ? 0 : info.reasonCode;
      if (code === 0 || hasWireProperties(info.properties)) return theirs;
      expect(Array.from(theirs)).toEqual([theirs[0], 4, theirs[2], theirs[3], code, 0]);
      return Uint8Array.of(theirs[0], 3, theirs[2], theirs[3], code);
    }
    case PacketType.DISCONNECT:
    case PacketType.AUTH: {
      if (hasWireProperties(info.properties)) return theirs;
      const code = info.reasonCode === undefined ? 0 : info.reasonCode;
      expect(Array.from(theirs)).toEqual([info.type << 4, 2, code, 0]);
      return code === 0 ? Uint8Array.of(info.type << 4, 0) : Uint8Array.of(info.type << 4, 1, code);
    }
    default:
      return theirs;
  }
}

/**
 * Byte for byte: fieldmq's encoding of `info` equals mqtt-packet's (or its
 * documented equivalent, {@link fieldmqFormOf}). User property lists are
 * first put in the only order mqtt-packet can write; properties are handed
 * to mqtt-packet in identifier order, the order fieldmq writes them in.
 */
export function checkSameBytes(info: AnyPacketInfo, v: Version): void {
  const same_ = withMqttPacketUserPropertyOrder(info);
  const ours = encodeWithFieldmq(same_, v);
  const theirs = generateWithMqttPacket(toMqttPacketObject(same_, v), v);
  const want = fieldmqFormOf(theirs, same_, v);
  if (Buffer.compare(Buffer.from(ours), Buffer.from(want)) !== 0) expect(hex(ours)).toBe(hex(want));
}
