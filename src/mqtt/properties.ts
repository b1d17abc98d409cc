/**
 * MQTT 5.0 properties (§2.2.2): a Variable Byte Integer length, then
 * identifier/value pairs. One table below gives every property its wire type,
 * the packets it may appear in (§2.2.2.2, table 2-4) and its name in
 * {@link MqttProperties}; sizing, writing, validation and decoding all use it.
 */
import { Status } from '../core/status';
import { readU16, readU32, writeU16, writeU32 } from '../core/bytes';
import { utf8Decode, utf8Validate } from '../core/utf8';
import { readVarint, varintSize, writeVarint } from './varint';
import { stringSize, writeString } from './wire';
import type { PacketView } from './packet';

/**
 * Properties of a packet, by the names MQTT.js / mqtt-packet use. Values that
 * the spec restricts to 0/1 are booleans. `userProperties` is a flat list of
 * name/value pairs (`['unit', 'C', 'site', 'north']`): order and repeats kept,
 * no object per pair.
 */
export interface MqttProperties {
  payloadFormatIndicator?: boolean;
  messageExpiryInterval?: number;
  contentType?: string;
  responseTopic?: string;
  correlationData?: Uint8Array;
  /** One id (SUBSCRIBE, or PUBLISH to a client), or several (PUBLISH). */
  subscriptionIdentifier?: number | number[];
  sessionExpiryInterval?: number;
  assignedClientIdentifier?: string;
  serverKeepAlive?: number;
  authenticationMethod?: string;
  authenticationData?: Uint8Array;
  requestProblemInformation?: boolean;
  willDelayInterval?: number;
  requestResponseInformation?: boolean;
  responseInformation?: string;
  serverReference?: string;
  reasonString?: string;
  receiveMaximum?: number;
  topicAliasMaximum?: number;
  topicAlias?: number;
  maximumQoS?: number;
  retainAvailable?: boolean;
  userProperties?: string[];
  maximumPacketSize?: number;
  wildcardSubscriptionAvailable?: boolean;
  subscriptionIdentifiersAvailable?: boolean;
  sharedSubscriptionAvailable?: boolean;
}

/** Pseudo packet type for the Will Properties of CONNECT (§3.1.3.2). */
export const WILL_PROPERTIES = 0;

const enum T {
  Flag = 0,
  Byte = 1,
  U16 = 2,
  U32 = 3,
  VarInt = 4,
  Str = 5,
  Bin = 6,
  Pair = 7,
}

// Packet masks: bit n = packet type n, bit 0 = Will Properties. A const enum,
// so the table below is made of literals only (a bundle drops it when unused).
const enum P {
  W = 1,
  CONNECT = 1 << 1,
  CONNACK = 1 << 2,
  PUBLISH = 1 << 3,
  ACKS = (1 << 4) | (1 << 5) | (1 << 6) | (1 << 7), // PUBACK PUBREC PUBREL PUBCOMP
  SUBSCRIBE = 1 << 8,
  SUBACK = 1 << 9,
  UNSUBACK = 1 << 11,
  DISCONNECT = 1 << 14,
  AUTH = 1 << 15,
  ALL = 0xffff & ~((1 << 12) | (1 << 13)), // everything but PINGREQ/PINGRESP
}

/** [id, type, packets, name] per property, in identifier order. */
const TABLE: (number | string)[] = [
  0x01, T.Flag, P.W | P.PUBLISH, 'payloadFormatIndicator',
  0x02, T.U32, P.W | P.PUBLISH, 'messageExpiryInterval',
  0x03, T.Str, P.W | P.PUBLISH, 'contentType',
  0x08, T.Str, P.W | P.PUBLISH, 'responseTopic',
  0x09, T.Bin, P.W | P.PUBLISH, 'correlationData',
  0x0b, T.VarInt, P.PUBLISH | P.SUBSCRIBE, 'subscriptionIdentifier',
  0x11, T.U32, P.CONNECT | P.CONNACK | P.DISCONNECT, 'sessionExpiryInterval',
  0x12, T.Str, P.CONNACK, 'assignedClientIdentifier',
  0x13, T.U16, P.CONNACK, 'serverKeepAlive',
  0x15, T.Str, P.CONNECT | P.CONNACK | P.AUTH, 'authenticationMethod',
  0x16, T.Bin, P.CONNECT | P.CONNACK | P.AUTH, 'authenticationData',
  0x17, T.Flag, P.CONNECT, 'requestProblemInformation',
  0x18, T.U32, P.W, 'willDelayInterval',
  0x19, T.Flag, P.CONNECT, 'requestResponseInformation',
  0x1a, T.Str, P.CONNACK, 'responseInformation',
  0x1c, T.Str, P.CONNACK | P.DISCONNECT, 'serverReference',
  0x1f, T.Str, P.CONNACK | P.ACKS | P.SUBACK | P.UNSUBACK | P.DISCONNECT | P.AUTH, 'reasonString',
  0x21, T.U16, P.CONNECT | P.CONNACK, 'receiveMaximum',
  0x22, T.U16, P.CONNECT | P.CONNACK, 'topicAliasMaximum',
  0x23, T.U16, P.PUBLISH, 'topicAlias',
  0x24, T.Byte, P.CONNACK, 'maximumQoS',
  0x25, T.Flag, P.CONNACK, 'retainAvailable',
  0x26, T.Pair, P.ALL | P.W, 'userProperties',
  0x27, T.U32, P.CONNECT | P.CONNACK, 'maximumPacketSize',
  0x28, T.Flag, P.CONNACK, 'wildcardSubscriptionAvailable',
  0x29, T.Flag, P.CONNACK, 'subscriptionIdentifiersAvailable',
  0x2a, T.Flag, P.CONNACK, 'sharedSubscriptionAvailable',
];

function find(id: number): number {
  for (let i = 0; i < TABLE.length; i += 4) if (TABLE[i] === id) return i;
  return -1;
}

/** Values that must not be 0 (§3.1.2.11.3, §3.1.2.11.4, §3.3.2.3.4) or above 1 (maximumQoS). */
function valueOk(id: number, v: number): boolean {
  if (id === 0x21 || id === 0x23 || id === 0x27 || id === 0x0b) return v !== 0;
  if (id === 0x24) return v <= 1;
  return true;
}

function maxOf(type: number): number {
  return type === T.U16 ? 0xffff : type === T.U32 ? 0xffffffff : type === T.VarInt ? 268435455 : 0xff;
}

function intOk(id: number, type: number, v: unknown): boolean {
  return typeof v === 'number' && v >= 0 && v <= maxOf(type) && Math.floor(v) === v && valueOk(id, v);
}

/** Size of one value of the given type (without its identifier byte). */
function valueSize(id: number, type: number, v: unknown): number {
  switch (type) {
    case T.Flag:
      return typeof v === 'boolean' ? 1 : Status.BadParameter;
    case T.Str:
      return stringSize(v);
    case T.Bin:
      return v instanceof Uint8Array && v.length <= 65535 ? v.length + 2 : Status.BadParameter;
    case T.VarInt:
      return intOk(id, type, v) ? varintSize(v as number) : Status.BadParameter;
    default: // Byte, U16, U32
      return intOk(id, type, v) ? (type === T.U32 ? 4 : type) : Status.BadParameter;
  }
}

/**
 * Bytes of property data (excluding the length prefix) that `props` needs in
 * a packet of `packetType` ({@link WILL_PROPERTIES} for Will Properties), or
 * {@link Status.BadParameter} for a property not allowed there or a value out
 * of range, {@link Status.InvalidUtf8} for a bad string.
 */
export function propertiesDataLength(props: MqttProperties | undefined | null, packetType: number): number {
  if (!props) return 0;
  const p = props as unknown as Record<string, unknown>;
  const bit = 1 << packetType;
  let total = 0;
  for (let i = 0; i < TABLE.length; i += 4) {
    const v = p[TABLE[i + 3] as string];
    if (v === undefined || v === null) continue;
    const id = TABLE[i] as number;
    const type = TABLE[i + 1] as number;
    if (((TABLE[i + 2] as number) & bit) === 0) return Status.BadParameter;
    if (type === T.Pair) {
      const list = v as unknown[];
      if (!Array.isArray(list) || (list.length & 1) !== 0) return Status.BadParameter;
      for (let k = 0; k < list.length; k++) {
        const n = stringSize(list[k]);
        if (n < 0) return n;
        total += n;
      }
      total += list.length >> 1; // one identifier byte per pair
    } else if (id === 0x0b && Array.isArray(v)) {
      if (packetType !== 3 && v.length > 1) return Status.BadParameter;
      for (let k = 0; k < v.length; k++) {
        const n = valueSize(id, type, v[k]);
        if (n < 0) return n;
        total += 1 + n;
      }
    } else {
      const n = valueSize(id, type, v);
      if (n < 0) return n;
      total += 1 + n;
    }
  }
  return total;
}

/**
 * Bytes the whole Properties field takes (length prefix included), or a
 * negative status as {@link propertiesDataLength}.
 */
export function propertiesSize(props: MqttProperties | undefined | null, packetType: number): number {
  const n = propertiesDataLength(props, packetType);
  return n < 0 ? n : varintSize(n) + n;
}

function writeValue(buf: Uint8Array, off: number, id: number, type: number, v: unknown): number {
  buf[off++] = id;
  switch (type) {
    case T.Flag:
      buf[off] = v ? 1 : 0;
      return off + 1;
    case T.Byte:
      buf[off] = v as number;
      return off + 1;
    case T.U16:
      return writeU16(buf, off, v as number);
    case T.U32:
      return writeU32(buf, off, v as number);
    case T.VarInt:
      return writeVarint(buf, off, v as number);
    case T.Str:
      return writeString(buf, off, v as string);
    default: {
      const b = v as Uint8Array;
      writeU16(buf, off, b.length);
      buf.set(b, off + 2);
      return off + 2 + b.length;
    }
  }
}

/**
 * Writes the Properties field (length prefix, then the data) at `buf[off]`.
 * `dataLength` is what {@link propertiesDataLength} returned for the same
 * properties, which also validated them. Returns the end offset.
 */
export function writeProperties(
  props: MqttProperties | undefined | null,
  dataLength: number,
  buf: Uint8Array,
  off: number,
): number {
  off = writeVarint(buf, off, dataLength);
  if (!props || dataLength === 0) return off;
  const p = props as unknown as Record<string, unknown>;
  for (let i = 0; i < TABLE.length; i += 4) {
    const v = p[TABLE[i + 3] as string];
    if (v === undefined || v === null) continue;
    const id = TABLE[i] as number;
    const type = TABLE[i + 1] as number;
    if (type === T.Pair) {
      const list = v as string[];
      for (let k = 0; k < list.length; k += 2) {
        buf[off++] = id;
        off = writeString(buf, off, list[k]);
        off = writeString(buf, off, list[k + 1]);
      }
    } else if (Array.isArray(v)) {
      for (let k = 0; k < v.length; k++) off = writeValue(buf, off, id, type, v[k]);
    } else {
      off = writeValue(buf, off, id, type, v);
    }
  }
  return off;
}

/**
 * Remaining Length of a packet that ends in the optional MQTT 5 tail "reason
 * code, properties" (PUBACK ... PUBCOMP, DISCONNECT, AUTH): both may be
 * omitted for code 0 with no properties (§3.4.2.1, §3.14.2.1, §3.15.2.1).
 * `base` counts the bytes before the tail; the property data length goes to
 * `lens[0]`. Returns a negative status for bad properties.
 */
export function reasonTailSize(code: number, props: MqttProperties | undefined, packetType: number, base: number, lens: number[]): number {
  const p = propertiesDataLength(props, packetType);
  if (p < 0) return p;
  lens[0] = p;
  if (p === 0) return code === 0 ? base : base + 1;
  return base + 1 + varintSize(p) + p;
}

/**
 * Reads the optional MQTT 5 tail "reason code, properties" at `buf[pos..end)`
 * into `out`: a code not in `allowed` is a {@link Status.ProtocolError}, bad
 * properties are what {@link readPacketProperties} says, anything left over is
 * {@link Status.Malformed}. Returns {@link Status.Ok} or the status.
 */
export function readReasonTail(buf: Uint8Array, pos: number, end: number, allowed: number[], out: PacketView): number {
  if (pos < end) {
    out.reasonCode = buf[pos++];
    if (allowed.indexOf(out.reasonCode) < 0) return Status.ProtocolError;
    if (pos < end) pos = readPacketProperties(buf, pos, end, out.type, out);
    if (pos < 0) return pos;
  }
  return pos === end ? Status.Ok : Status.Malformed;
}

/**
 * Reads the Properties length prefix at `buf[off..end)`. Returns the property
 * data length (the data starts at `off + varintSize(result)`), or
 * {@link Status.Malformed} when the prefix is bad or the data overruns `end`.
 */
export function readPropertiesLength(buf: Uint8Array, off: number, end: number): number {
  const n = readVarint(buf, off, end);
  if (n < 0) return Status.Malformed;
  return off + varintSize(n) + n > end ? Status.Malformed : n;
}

/**
 * Reads the Properties field at `buf[pos..end)` of a packet of `packetType`:
 * validates it ({@link scanProperties}) and records its data in
 * `out.propertiesOffset` / `out.propertiesLength` (and the Topic Alias in
 * `out.topicAlias`). Returns the position after the field, or a negative status.
 */
export function readPacketProperties(buf: Uint8Array, pos: number, end: number, packetType: number, out: PacketView): number {
  const pl = readPropertiesLength(buf, pos, end);
  if (pl < 0) return pl;
  pos += varintSize(pl);
  const alias = scanProperties(buf, pos, pos + pl, packetType);
  if (alias < 0) return alias;
  out.propertiesOffset = pos;
  out.propertiesLength = pl;
  out.topicAlias = alias;
  return pos + pl;
}

/**
 * Validates property data `buf[off..end)` for a packet of `packetType`: each
 * identifier known and allowed there (else {@link Status.Malformed}, §2.2.2.2),
 * single-valued properties present once and values in range (else
 * {@link Status.ProtocolError}), strings valid UTF-8 ({@link Status.InvalidUtf8}),
 * nothing overrunning `end` ({@link Status.Malformed}). Returns the Topic Alias
 * value when one is present (PUBLISH), else 0; or a negative status.
 * Allocation-free: this is what the packet decoders run.
 */
export function scanProperties(buf: Uint8Array, off: number, end: number, packetType: number): number {
  const bit = 1 << packetType;
  let seenLo = 0; // ids 0x00-0x1f
  let seenHi = 0; // ids 0x20-0x3f
  let alias = 0;
  while (off < end) {
    const id = buf[off++];
    const e = find(id);
    // §2.2.2.2: an identifier not valid for the packet type is a Malformed Packet.
    if (e < 0 || ((TABLE[e + 2] as number) & bit) === 0) return Status.Malformed;
    const type = TABLE[e + 1] as number;
    if (type !== T.Pair && !(id === 0x0b && packetType === 3)) {
      const m = 1 << (id & 31);
      if (id < 32) {
        if (seenLo & m) return Status.ProtocolError;
        seenLo |= m;
      } else {
        if (seenHi & m) return Status.ProtocolError;
        seenHi |= m;
      }
    }
    let v = 0;
    switch (type) {
      case T.Flag:
      case T.Byte:
        if (off + 1 > end) return Status.Malformed;
        v = buf[off++];
        if (type === T.Flag && v > 1) return Status.ProtocolError;
        break;
      case T.U16:
        if (off + 2 > end) return Status.Malformed;
        v = readU16(buf, off);
        off += 2;
        break;
      case T.U32:
        if (off + 4 > end) return Status.Malformed;
        v = readU32(buf, off);
        off += 4;
        break;
      case T.VarInt:
        v = readVarint(buf, off, end);
        if (v < 0) return Status.Malformed;
        off += varintSize(v);
        break;
      default: {
        // Str, Bin, Pair: one or two length-prefixed fields.
        const fields = type === T.Pair ? 2 : 1;
        for (let k = 0; k < fields; k++) {
          if (off + 2 > end) return Status.Malformed;
          const n = readU16(buf, off);
          off += 2;
          if (off + n > end) return Status.Malformed;
          if (type !== T.Bin && utf8Validate(buf, off, off + n) !== Status.Ok) return Status.InvalidUtf8;
          off += n;
        }
        v = 1;
      }
    }
    if (!valueOk(id, v)) return Status.ProtocolError;
    if (id === 0x23) alias = v;
  }
  return alias;
}

/**
 * Copies the Subscription Identifiers (§3.3.2.3.8) found in validated PUBLISH
 * property data `buf[off..end)` into `out`, as many as fit; returns how many
 * were found. Allocation-free: the client routes each message copy with it.
 */
export function subscriptionIds(buf: Uint8Array, off: number, end: number, out: Uint32Array): number {
  let n = 0;
  while (off < end) {
    const id = buf[off++];
    const type = TABLE[find(id) + 1] as number;
    if (type === T.VarInt) {
      const v = readVarint(buf, off, end);
      if (v < 0) return n;
      if (id === 0x0b && n < out.length) out[n++] = v;
      off += varintSize(v);
    } else if (type === T.Str || type === T.Bin) off += 2 + readU16(buf, off);
    else if (type === T.Pair) {
      off += 2 + readU16(buf, off);
      off += 2 + readU16(buf, off);
    } else off += type === T.U32 ? 4 : type === T.U16 ? 2 : 1;
  }
  return n;
}

/**
 * Decodes validated property data `buf[off..end)` into `out` (strings are
 * created, binary values are `subarray` views of `buf`). This allocates: it is
 * for CONNECT/CONNACK/DISCONNECT handling and applications, not the per-message
 * path. Returns {@link Status.Ok} or a negative status as {@link scanProperties}.
 */
export function decodeProperties(
  buf: Uint8Array,
  off: number,
  end: number,
  packetType: number,
  out: MqttProperties,
): number {
  const st = scanProperties(buf, off, end, packetType);
  if (st < 0) return st;
  const o = out as unknown as Record<string, unknown>;
  while (off < end) {
    const id = buf[off++];
    const e = find(id);
    const type = TABLE[e + 1] as number;
    const name = TABLE[e + 3] as string;
    let v: unknown;
    switch (type) {
      case T.Flag:
        v = buf[off++] === 1;
        break;
      case T.Byte:
        v = buf[off++];
        break;
      case T.U16:
        v = readU16(buf, off);
        off += 2;
        break;
      case T.U32:
        v = readU32(buf, off);
        off += 4;
        break;
      case T.VarInt: {
        const n = readVarint(buf, off, end);
        off += varintSize(n);
        if (packetType === 3) {
          const list = (o[name] as number[] | undefined) || [];
          list.push(n);
          o[name] = list;
          continue;
        }
        v = n;
        break;
      }
      case T.Pair: {
        const list = (o[name] as string[] | undefined) || [];
        for (let k = 0; k < 2; k++) {
          const n = readU16(buf, off);
          list.push(utf8Decode(buf, off + 2, off + 2 + n));
          off += 2 + n;
        }
        o[name] = list;
        continue;
      }
      default: {
        const n = readU16(buf, off);
        v = type === T.Str ? utf8Decode(buf, off + 2, off + 2 + n) : buf.subarray(off + 2, off + 2 + n);
        off += 2 + n;
      }
    }
    o[name] = v;
  }
  return Status.Ok;
}
