/**
 * fast-check arbitraries for the MQTT cross-check: valid packets of all 15
 * control packet types in fieldmq's encoder input shape ({@link AnyPacketInfo}),
 * for MQTT 3.1.1 (protocol level 4) and MQTT 5.0 (level 5).
 *
 * Everything here is written from the OASIS specifications, not from
 * fieldmq's tables, so that the cross-check does not inherit fieldmq's
 * mistakes: reason-code lists, which properties each packet may carry, value
 * ranges, topic-name / topic-filter syntax.
 *
 * Runs are deterministic: {@link fcOptions} gives every property a fixed seed
 * derived from its name. `FC_SEED=<n>` changes the base seed and
 * `FC_RUNS=<n>` the number of runs (for longer local bug hunts).
 */
import fc from 'fast-check';
import { PacketType } from '../../../src/mqtt/constants';
import type { AnyPacketInfo } from '../../../src/mqtt/encode';
import type { ConnackInfo, ConnectInfo, WillInfo } from '../../../src/mqtt/connect';
import type { PublishInfo } from '../../../src/mqtt/publish';
import type { AckInfo } from '../../../src/mqtt/ack';
import type {
  SubackInfo,
  SubscribeInfo,
  Subscription,
  UnsubackInfo,
  UnsubscribeInfo,
} from '../../../src/mqtt/subscribe';
import type { ReasonInfo } from '../../../src/mqtt/control';
import type { MqttProperties } from '../../../src/mqtt/properties';

export type Version = 4 | 5;

// ---------------------------------------------------------------------------
// Run configuration
// ---------------------------------------------------------------------------

const BASE_SEED = process.env.FC_SEED !== undefined ? Number(process.env.FC_SEED) | 0 : 0x3a11_5eed;
/** Runs per property; 400 per packet type and direction keeps the folder well under 20 s. */
export const NUM_RUNS = process.env.FC_RUNS !== undefined ? Math.max(1, Number(process.env.FC_RUNS) | 0) : 400;

/** FNV-1a of the label: a stable per-property seed. */
function hashLabel(label: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < label.length; i++) {
    h ^= label.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h | 0;
}

/** fast-check parameters for the property named `label`: fixed seed, {@link NUM_RUNS} runs. */
export function fcOptions(label: string): { seed: number; numRuns: number } {
  return { seed: (BASE_SEED ^ hashLabel(label)) | 0, numRuns: NUM_RUNS };
}

// ---------------------------------------------------------------------------
// Reason codes, from the spec tables
// ---------------------------------------------------------------------------

/** MQTT 3.1.1 §3.2.2.3, table 3.1. */
export const CONNACK_V4_CODES = [0, 1, 2, 3, 4, 5];
/** MQTT 5.0 §3.2.2.2. */
export const CONNACK_V5_CODES = [
  0x00, 0x80, 0x81, 0x82, 0x83, 0x84, 0x85, 0x86, 0x87, 0x88, 0x89, 0x8a, 0x8c, 0x90, 0x95, 0x97, 0x99, 0x9a,
  0x9b, 0x9c, 0x9d, 0x9f,
];
/** MQTT 5.0 §3.4.2.1 (PUBACK) and §3.5.2.1 (PUBREC): the same list. */
export const PUBACK_PUBREC_CODES = [0x00, 0x10, 0x80, 0x83, 0x87, 0x90, 0x91, 0x97, 0x99];
/** MQTT 5.0 §3.6.2.1 (PUBREL) and §3.7.2.1 (PUBCOMP). */
export const PUBREL_PUBCOMP_CODES = [0x00, 0x92];
/** MQTT 3.1.1 §3.9.3. */
export const SUBACK_V4_CODES = [0x00, 0x01, 0x02, 0x80];
/** MQTT 5.0 §3.9.3. */
export const SUBACK_V5_CODES = [0x00, 0x01, 0x02, 0x80, 0x83, 0x87, 0x8f, 0x91, 0x97, 0x9e, 0xa1, 0xa2];
/** MQTT 5.0 §3.11.3. */
export const UNSUBACK_V5_CODES = [0x00, 0x11, 0x80, 0x83, 0x87, 0x8f, 0x91];
/** MQTT 5.0 §3.14.2.1. */
export const DISCONNECT_CODES = [
  0x00, 0x04, 0x80, 0x81, 0x82, 0x83, 0x87, 0x89, 0x8b, 0x8d, 0x8e, 0x8f, 0x90, 0x93, 0x94, 0x95, 0x96, 0x97,
  0x98, 0x99, 0x9a, 0x9b, 0x9c, 0x9d, 0x9e, 0x9f, 0xa0, 0xa1, 0xa2,
];
/** MQTT 5.0 §3.15.2.1. */
export const AUTH_CODES = [0x00, 0x18, 0x19];

// ---------------------------------------------------------------------------
// Strings, topics, payloads
// ---------------------------------------------------------------------------

/**
 * One Unicode scalar value allowed in an MQTT UTF-8 string (3.1.1 §1.5.3,
 * 5.0 §1.5.4): anything but U+0000 and the surrogates. Control characters and
 * non-characters are only "SHOULD NOT", so they are included, rarely; U+FEFF
 * is included because it "MUST NOT be skipped over or stripped off" by a
 * receiver [MQTT-1.5.3-3]. ASCII dominates, then 2-, 3- and 4-byte UTF-8.
 */
function scalar(exclude: string): fc.Arbitrary<number> {
  const ex = Array.from(exclude, (c) => c.codePointAt(0) as number);
  const cp = fc.oneof(
    { weight: 10, arbitrary: fc.integer({ min: 0x20, max: 0x7e }) },
    { weight: 1, arbitrary: fc.integer({ min: 0x01, max: 0x1f }) },
    { weight: 3, arbitrary: fc.integer({ min: 0x7f, max: 0x7ff }) },
    { weight: 3, arbitrary: fc.integer({ min: 0x800, max: 0xffff }).filter((c) => c < 0xd800 || c > 0xdfff) },
    { weight: 3, arbitrary: fc.integer({ min: 0x10000, max: 0x10ffff }) },
    {
      weight: 2,
      // Encoding-length boundaries and the special ones.
      arbitrary: fc.constantFrom(0x7f, 0x80, 0x7ff, 0x800, 0xd7ff, 0xe000, 0xfeff, 0xfffd, 0xffff, 0x10000, 0x1f600, 0x10ffff),
    },
  );
  return ex.length === 0 ? cp : cp.filter((c) => ex.indexOf(c) < 0);
}

function fromScalars(cps: number[]): string {
  let s = '';
  for (let i = 0; i < cps.length; i++) s += String.fromCodePoint(cps[i]);
  return s;
}

/** A valid MQTT UTF-8 string of `min..max` code points (not bytes). */
export function utf8String(min: number, max: number, exclude = ''): fc.Arbitrary<string> {
  return fc.array(scalar(exclude), { minLength: min, maxLength: max }).map(fromScalars);
}

/** xorshift32 stream from `seed`, for bulk data that fast-check need not generate value by value. */
function xorshift(seed: number): () => number {
  let x = seed | 0 || 0x9e3779b9;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return x >>> 0;
  };
}

/**
 * A long valid string of `min..max` code points: a small random alphabet
 * (drawn by fast-check, so it covers 1- to 4-byte UTF-8) expanded by a seeded
 * PRNG. Much cheaper than `utf8String` for hundreds of characters.
 */
export function bulkString(min: number, max: number): fc.Arbitrary<string> {
  return fc
    .tuple(fc.array(scalar(''), { minLength: 1, maxLength: 8 }), fc.integer({ min, max }), fc.integer())
    .map(([alphabet, n, seed]) => {
      const next = xorshift(seed);
      const cps: number[] = [];
      for (let i = 0; i < n; i++) cps.push(alphabet[next() % alphabet.length]);
      return fromScalars(cps);
    });
}

/** `min..max` seeded pseudo-random bytes. */
function bulkBytes(min: number, max: number): fc.Arbitrary<Uint8Array> {
  return fc.tuple(fc.integer({ min, max }), fc.integer()).map(([n, seed]) => {
    const next = xorshift(seed);
    const b = new Uint8Array(n);
    for (let i = 0; i < n; i++) b[i] = next() & 0xff;
    return b;
  });
}

/** Usual short strings, with now and then an empty or a long one. */
export const anyString: fc.Arbitrary<string> = fc.oneof(
  { weight: 6, arbitrary: utf8String(0, 16) },
  { weight: 1, arbitrary: fc.constant('') },
  { weight: 1, arbitrary: bulkString(100, 400) },
);

/** One topic level: no `/`, `+`, `#` (may be empty, may start with `$`). */
const level: fc.Arbitrary<string> = fc.oneof(
  { weight: 8, arbitrary: utf8String(0, 8, '/+#') },
  { weight: 1, arbitrary: fc.constantFrom('$SYS', '$share', 'sensors', 'temp') },
);

/**
 * A topic name (§4.7): at least one character, no wildcards. Empty levels
 * (`a//b`, `/`, leading or trailing `/`) are legal.
 */
export const topicName: fc.Arbitrary<string> = fc
  .array(level, { minLength: 1, maxLength: 6 })
  .map((ls) => ls.join('/'))
  .filter((t) => t.length > 0);

/**
 * A topic filter (§4.7.1): levels that are either plain or exactly `+`,
 * optionally ending with a `#` level; or an MQTT 5 style shared subscription
 * `$share/{name}/{filter}` (§4.8.2), which is also a legal 3.1.1 filter.
 */
const plainFilter: fc.Arbitrary<string> = fc
  .tuple(
    fc.array(fc.oneof({ weight: 3, arbitrary: level }, { weight: 1, arbitrary: fc.constant('+') }), {
      minLength: 0,
      maxLength: 6,
    }),
    fc.boolean(),
  )
  .map(([ls, hash]) => (hash ? ls.concat('#') : ls).join('/'))
  .filter((f) => f.length > 0);

export const topicFilter: fc.Arbitrary<string> = fc.oneof(
  { weight: 8, arbitrary: plainFilter },
  {
    weight: 1,
    arbitrary: fc
      .tuple(utf8String(1, 6, '/+#'), plainFilter)
      .map(([share, f]) => '$share/' + share + '/' + f),
  },
);

export function isSharedFilter(f: string): boolean {
  return f.startsWith('$share/');
}

/** Bytes: mostly small, sometimes empty, a few KB, and rarely > 16 KB (3-byte Remaining Length). */
export const payloadBytes: fc.Arbitrary<Uint8Array> = fc.oneof(
  { weight: 2, arbitrary: fc.constant(new Uint8Array(0)) },
  { weight: 8, arbitrary: fc.uint8Array({ minLength: 1, maxLength: 40 }) },
  { weight: 3, arbitrary: bulkBytes(100, 4096) },
  { weight: 1, arbitrary: bulkBytes(16384, 20000) },
);

const smallBytes: fc.Arbitrary<Uint8Array> = fc.uint8Array({ minLength: 0, maxLength: 48 });

// ---------------------------------------------------------------------------
// Numbers
// ---------------------------------------------------------------------------

const qos = fc.constantFrom(0, 1, 2);
export const packetId = fc.integer({ min: 1, max: 0xffff });
const u16 = fc.integer({ min: 0, max: 0xffff });
const u16NonZero = fc.integer({ min: 1, max: 0xffff });
const u32 = fc.oneof(
  { weight: 1, arbitrary: fc.constantFrom(0, 1, 0x7fffffff, 0x80000000, 0xfffffffe, 0xffffffff) },
  { weight: 4, arbitrary: fc.tuple(u16, u16).map(([h, l]) => h * 0x10000 + l) },
);
const u32NonZero = u32.filter((v) => v !== 0);
/** Subscription Identifier: 1..268,435,455 (§3.3.2.3.8), with the varint length boundaries. */
const subscriptionId = fc.oneof(
  { weight: 1, arbitrary: fc.constantFrom(1, 127, 128, 16383, 16384, 2097151, 2097152, 268435455) },
  { weight: 3, arbitrary: fc.integer({ min: 1, max: 268435455 }) },
);

// ---------------------------------------------------------------------------
// MQTT 5 properties, per packet (§2.2.2.2, table 2-4)
// ---------------------------------------------------------------------------

/**
 * User Property list (flat `[k1, v1, k2, v2]`): keys repeat often, because
 * "the same name is allowed to appear more than once" (§3.1.2.11.8); empty
 * names and values are legal strings.
 */
export const userProperties: fc.Arbitrary<string[]> = fc
  .array(
    fc.tuple(
      fc.oneof({ weight: 3, arbitrary: fc.constantFrom('k', 'unit', '', 'x', '1') }, { weight: 2, arbitrary: utf8String(0, 10) }),
      fc.oneof({ weight: 1, arbitrary: fc.constant('') }, { weight: 5, arbitrary: utf8String(0, 14) }),
    ),
    { minLength: 1, maxLength: 6 },
  )
  .map((pairs) => {
    const flat: string[] = [];
    for (const [k, v] of pairs) flat.push(k, v);
    return flat;
  });

/** `fc.record` with every key optional; the model's types carried through. */
function optionalRecord<T extends object>(model: { [K in keyof T]: fc.Arbitrary<T[K]> }): fc.Arbitrary<Partial<T>> {
  return fc.record(model, { requiredKeys: [] }) as unknown as fc.Arbitrary<Partial<T>>;
}

/** Authentication Data without an Authentication Method is a Protocol Error (§3.1.2.11.10, §3.2.2.3.18). */
function authDataNeedsMethod(p: MqttProperties): MqttProperties {
  if (p.authenticationData !== undefined && p.authenticationMethod === undefined) {
    const q = { ...p };
    delete q.authenticationData;
    return q;
  }
  return p;
}

/** §3.1.2.11: CONNECT properties. */
const connectProperties: fc.Arbitrary<MqttProperties> = optionalRecord<MqttProperties>({
  sessionExpiryInterval: u32,
  receiveMaximum: u16NonZero,
  maximumPacketSize: u32NonZero,
  topicAliasMaximum: u16,
  requestResponseInformation: fc.boolean(),
  requestProblemInformation: fc.boolean(),
  userProperties,
  authenticationMethod: anyString,
  authenticationData: smallBytes,
}).map(authDataNeedsMethod);

/** §3.1.3.2: Will Properties. */
const willProperties: fc.Arbitrary<MqttProperties> = optionalRecord<MqttProperties>({
  willDelayInterval: u32,
  payloadFormatIndicator: fc.boolean(),
  messageExpiryInterval: u32,
  contentType: anyString,
  responseTopic: topicName,
  correlationData: smallBytes,
  userProperties,
});

/** §3.2.2.3: CONNACK properties. */
const connackProperties: fc.Arbitrary<MqttProperties> = optionalRecord<MqttProperties>({
  sessionExpiryInterval: u32,
  receiveMaximum: u16NonZero,
  maximumQoS: fc.constantFrom(0, 1),
  retainAvailable: fc.boolean(),
  maximumPacketSize: u32NonZero,
  assignedClientIdentifier: anyString,
  topicAliasMaximum: u16,
  reasonString: anyString,
  userProperties,
  wildcardSubscriptionAvailable: fc.boolean(),
  subscriptionIdentifiersAvailable: fc.boolean(),
  sharedSubscriptionAvailable: fc.boolean(),
  serverKeepAlive: u16,
  responseInformation: anyString,
  serverReference: anyString,
  authenticationMethod: anyString,
  authenticationData: smallBytes,
}).map(authDataNeedsMethod);

/**
 * §3.3.2.3: PUBLISH properties. Several Subscription Identifiers may be sent
 * to a client (§3.3.2.3.8); fieldmq takes one number or a list.
 */
const publishProperties: fc.Arbitrary<MqttProperties> = optionalRecord<MqttProperties>({
  payloadFormatIndicator: fc.boolean(),
  messageExpiryInterval: u32,
  topicAlias: u16NonZero,
  responseTopic: topicName,
  correlationData: smallBytes,
  userProperties,
  subscriptionIdentifier: fc.oneof(subscriptionId, fc.array(subscriptionId, { minLength: 1, maxLength: 4 })),
  contentType: anyString,
});

/** §3.4.2.2 / §3.5.2.2 / §3.6.2.2 / §3.7.2.2, SUBACK §3.9.2.1, UNSUBACK §3.11.2.1. */
const reasonStringProperties: fc.Arbitrary<MqttProperties> = optionalRecord<MqttProperties>({
  reasonString: anyString,
  userProperties,
});

/** §3.8.2.1: SUBSCRIBE properties (one Subscription Identifier at most). */
const subscribeProperties: fc.Arbitrary<MqttProperties> = optionalRecord<MqttProperties>({
  subscriptionIdentifier: fc.oneof(subscriptionId, subscriptionId.map((v) => [v])),
  userProperties,
});

/** §3.10.2.1: UNSUBSCRIBE properties. */
const unsubscribeProperties: fc.Arbitrary<MqttProperties> = optionalRecord<MqttProperties>({ userProperties });

/** §3.14.2.2: DISCONNECT properties. */
const disconnectProperties: fc.Arbitrary<MqttProperties> = optionalRecord<MqttProperties>({
  sessionExpiryInterval: u32,
  reasonString: anyString,
  userProperties,
  serverReference: anyString,
});

/**
 * §3.15.2.2: AUTH properties. "It is a Protocol Error to omit the
 * Authentication Method" (§3.15.2.2.2), so it is always there when the AUTH
 * has properties at all.
 */
const authProperties: fc.Arbitrary<MqttProperties> = fc
  .tuple(
    anyString,
    optionalRecord<MqttProperties>({ authenticationData: smallBytes, reasonString: anyString, userProperties }),
  )
  .map(([method, rest]) => ({ authenticationMethod: method, ...rest }));

/** `properties` present (possibly `{}`) or absent. */
function maybe<T>(arb: fc.Arbitrary<T>): fc.Arbitrary<T | undefined> {
  return fc.option(arb, { nil: undefined, freq: 3 });
}

/** Drops keys whose value is `undefined`, so infos look like hand-written ones. */
function compact<T extends object>(o: T): T {
  const r = {} as Record<string, unknown>;
  for (const k of Object.keys(o)) {
    const v = (o as Record<string, unknown>)[k];
    if (v !== undefined) r[k] = v;
  }
  return r as T;
}

// ---------------------------------------------------------------------------
// Packets
// ---------------------------------------------------------------------------

/**
 * A Will (§3.1.2.5 – §3.1.2.7, 5.0 §3.1.3.2 – §3.1.3.4). With Payload Format
 * Indicator 1 the payload must be UTF-8 (§3.1.3.2.3), so it is then a string.
 */
function will(v: Version): fc.Arbitrary<WillInfo> {
  return fc
    .record({
      topic: topicName,
      bytes: payloadBytes,
      text: anyString,
      asText: fc.boolean(),
      qos,
      retain: fc.boolean(),
      properties: v === 5 ? maybe(willProperties) : fc.constant(undefined),
    })
    .map((w) =>
      compact<WillInfo>({
        topic: w.topic,
        payload: w.asText || (w.properties && w.properties.payloadFormatIndicator) ? w.text : w.bytes,
        qos: w.qos,
        retain: w.retain,
        properties: w.properties,
      }),
    );
}

/**
 * CONNECT (§3.1). 3.1.1: a Password needs a User Name (§3.1.2.9) and a
 * zero-byte ClientId needs CleanSession 1 [MQTT-3.1.3-7]; 5.0 drops both rules.
 */
function connect(v: Version): fc.Arbitrary<AnyPacketInfo> {
  return fc
    .record({
      clientId: fc.oneof(
        { weight: 6, arbitrary: utf8String(1, 23) },
        { weight: 2, arbitrary: fc.constant('') },
        { weight: 1, arbitrary: bulkString(24, 300) },
      ),
      cleanSession: fc.boolean(),
      keepAlive: u16,
      username: maybe(anyString),
      password: maybe(fc.oneof(smallBytes, anyString)),
      will: maybe(will(v)),
      properties: v === 5 ? maybe(connectProperties) : fc.constant(undefined),
    })
    .map((c) => {
      const info: ConnectInfo = compact(c);
      if (v === 4) {
        if (info.password !== undefined && info.username === undefined) delete info.password;
        if (info.clientId === '') info.cleanSession = true;
      }
      return { type: PacketType.CONNECT, ...info } as AnyPacketInfo;
    });
}

/** CONNACK (§3.2). Session Present is 0 with a non-zero code (3.1.1 §3.2.2.2, [MQTT-3.2.2-6]). */
function connack(v: Version): fc.Arbitrary<AnyPacketInfo> {
  return fc
    .record({
      sessionPresent: fc.boolean(),
      reasonCode: fc.constantFrom(...(v === 4 ? CONNACK_V4_CODES : CONNACK_V5_CODES)),
      properties: v === 5 ? maybe(connackProperties) : fc.constant(undefined),
    })
    .map((a) => {
      const info: ConnackInfo = compact(a);
      if (info.reasonCode !== 0) info.sessionPresent = false;
      return { type: PacketType.CONNACK, ...info } as AnyPacketInfo;
    });
}

/**
 * PUBLISH (§3.3): DUP only with QoS > 0 [MQTT-3.3.1-2], Packet Identifier
 * only with QoS > 0. In 5.0 the topic may be empty when a Topic Alias is set
 * (§3.3.2.3.4). The payload is bytes (sometimes a slice of a larger buffer,
 * via payloadOffset/payloadLength) or a string; a string whenever the
 * Payload Format Indicator says UTF-8.
 */
function publish(v: Version): fc.Arbitrary<AnyPacketInfo> {
  const slicedPayload = payloadBytes.chain((b) =>
    fc.oneof(
      { weight: 3, arbitrary: fc.constant({ payload: b as Uint8Array | string, payloadOffset: undefined as number | undefined, payloadLength: undefined as number | undefined }) },
      {
        weight: 1,
        arbitrary: fc
          .integer({ min: 0, max: b.length })
          .chain((off) =>
            fc.record({
              payload: fc.constant(b as Uint8Array | string),
              payloadOffset: fc.constant(off as number | undefined),
              payloadLength: fc.option(fc.integer({ min: 0, max: b.length - off }), { nil: undefined }),
            }),
          ),
      },
    ),
  );
  const payload = fc.oneof(
    { weight: 4, arbitrary: slicedPayload },
    {
      weight: 1,
      arbitrary: fc.oneof(anyString, bulkString(500, 1500)).map((s) => ({
        payload: s as Uint8Array | string,
        payloadOffset: undefined as number | undefined,
        payloadLength: undefined as number | undefined,
      })),
    },
  );
  return fc
    .record({
      topic: topicName,
      payload,
      text: anyString,
      qos,
      retain: fc.boolean(),
      dup: fc.boolean(),
      packetId,
      properties: v === 5 ? maybe(publishProperties) : fc.constant(undefined),
      dropTopic: fc.boolean(),
    })
    .map((p) => {
      const info: PublishInfo = {
        topic: p.topic,
        qos: p.qos,
        retain: p.retain,
        ...compact(p.payload),
      };
      if (p.qos > 0) {
        info.packetId = p.packetId;
        info.dup = p.dup;
      }
      if (p.properties !== undefined) {
        info.properties = p.properties;
        if (p.properties.topicAlias !== undefined && p.dropTopic) info.topic = '';
        if (p.properties.payloadFormatIndicator) {
          info.payload = p.text;
          delete info.payloadOffset;
          delete info.payloadLength;
        }
      }
      return { type: PacketType.PUBLISH, ...info } as AnyPacketInfo;
    });
}

/** PUBACK / PUBREC / PUBREL / PUBCOMP (§3.4 – §3.7). */
function ack(type: PacketType.PUBACK | PacketType.PUBREC | PacketType.PUBREL | PacketType.PUBCOMP, v: Version): fc.Arbitrary<AnyPacketInfo> {
  const codes = type === PacketType.PUBACK || type === PacketType.PUBREC ? PUBACK_PUBREC_CODES : PUBREL_PUBCOMP_CODES;
  return fc
    .record({
      packetId,
      reasonCode: v === 5 ? maybe(fc.constantFrom(...codes)) : fc.constant(undefined),
      properties: v === 5 ? maybe(reasonStringProperties) : fc.constant(undefined),
    })
    .map((a) => ({ type, ...compact<AckInfo>(a) }) as AnyPacketInfo);
}

/**
 * SUBSCRIBE (§3.8): one or more filters. 5.0 options: No Local must not be
 * set on a Shared Subscription [MQTT-3.8.3-4]; Retain Handling 0..2.
 */
function subscribe(v: Version): fc.Arbitrary<AnyPacketInfo> {
  const sub: fc.Arbitrary<Subscription> =
    v === 4
      ? fc.record({ topic: topicFilter, qos })
      : fc
          .record(
            {
              topic: topicFilter,
              qos,
              noLocal: fc.boolean(),
              retainAsPublished: fc.boolean(),
              retainHandling: fc.constantFrom(0, 1, 2),
            },
            { requiredKeys: ['topic', 'qos'] },
          )
          .map((s) => (s.noLocal && isSharedFilter(s.topic) ? { ...s, noLocal: false } : s));
  return fc
    .record({
      packetId,
      subscriptions: fc.array(sub, { minLength: 1, maxLength: 12 }),
      properties: v === 5 ? maybe(subscribeProperties) : fc.constant(undefined),
    })
    .map((s) => ({ type: PacketType.SUBSCRIBE, ...compact<SubscribeInfo>(s) }) as AnyPacketInfo);
}

/** SUBACK (§3.9): one code per filter. */
function suback(v: Version): fc.Arbitrary<AnyPacketInfo> {
  return fc
    .record({
      packetId,
      reasonCodes: fc.array(fc.constantFrom(...(v === 4 ? SUBACK_V4_CODES : SUBACK_V5_CODES)), { minLength: 1, maxLength: 12 }),
      properties: v === 5 ? maybe(reasonStringProperties) : fc.constant(undefined),
    })
    .map((a) => ({ type: PacketType.SUBACK, ...compact<SubackInfo>(a) }) as AnyPacketInfo);
}

/** UNSUBSCRIBE (§3.10): one or more filters. */
function unsubscribe(v: Version): fc.Arbitrary<AnyPacketInfo> {
  return fc
    .record({
      packetId,
      topics: fc.array(topicFilter, { minLength: 1, maxLength: 12 }),
      properties: v === 5 ? maybe(unsubscribeProperties) : fc.constant(undefined),
    })
    .map((u) => ({ type: PacketType.UNSUBSCRIBE, ...compact<UnsubscribeInfo>(u) }) as AnyPacketInfo);
}

/** UNSUBACK (§3.11): 3.1.1 has only the Packet Identifier; 5.0 one code per filter. */
function unsuback(v: Version): fc.Arbitrary<AnyPacketInfo> {
  if (v === 4) return packetId.map((id) => ({ type: PacketType.UNSUBACK, packetId: id }) as AnyPacketInfo);
  return fc
    .record({
      packetId,
      reasonCodes: fc.array(fc.constantFrom(...UNSUBACK_V5_CODES), { minLength: 1, maxLength: 12 }),
      properties: maybe(reasonStringProperties),
    })
    .map((a) => ({ type: PacketType.UNSUBACK, ...compact<UnsubackInfo>(a) }) as AnyPacketInfo);
}

/** DISCONNECT (§3.14): nothing in 3.1.1; reason code and properties in 5.0. */
function disconnect(v: Version): fc.Arbitrary<AnyPacketInfo> {
  if (v === 4) return fc.constant({ type: PacketType.DISCONNECT } as AnyPacketInfo);
  return fc
    .record({ reasonCode: maybe(fc.constantFrom(...DISCONNECT_CODES)), properties: maybe(disconnectProperties) })
    .map((d) => ({ type: PacketType.DISCONNECT, ...compact<ReasonInfo>(d) }) as AnyPacketInfo);
}

/**
 * AUTH (5.0 §3.15): with properties (always an Authentication Method), or
 * the bare form "Reason Code 0x00 and no Properties" that §3.15.2.1 allows
 * (Remaining Length 0).
 */
function auth(): fc.Arbitrary<AnyPacketInfo> {
  return fc.oneof(
    { weight: 1, arbitrary: fc.constantFrom({ type: PacketType.AUTH } as AnyPacketInfo, { type: PacketType.AUTH, reasonCode: 0 } as AnyPacketInfo) },
    {
      weight: 5,
      arbitrary: fc
        .record({ reasonCode: maybe(fc.constantFrom(...AUTH_CODES)), properties: authProperties })
        .map((a) => ({ type: PacketType.AUTH, ...compact<ReasonInfo>(a) }) as AnyPacketInfo),
    },
  );
}

/** Valid packets of `type` for protocol `v` in fieldmq's encoder input shape. */
export function packetArb(type: PacketType, v: Version): fc.Arbitrary<AnyPacketInfo> {
  switch (type) {
    case PacketType.CONNECT:
      return connect(v);
    case PacketType.CONNACK:
      return connack(v);
    case PacketType.PUBLISH:
      return publish(v);
    case PacketType.PUBACK:
    case PacketType.PUBREC:
    case PacketType.PUBREL:
    case PacketType.PUBCOMP:
      return ack(type, v);
    case PacketType.SUBSCRIBE:
      return subscribe(v);
    case PacketType.SUBACK:
      return suback(v);
    case PacketType.UNSUBSCRIBE:
      return unsubscribe(v);
    case PacketType.UNSUBACK:
      return unsuback(v);
    case PacketType.PINGREQ:
    case PacketType.PINGRESP:
      return fc.constant({ type } as AnyPacketInfo);
    case PacketType.DISCONNECT:
      return disconnect(v);
    case PacketType.AUTH:
      if (v === 4) throw new Error('AUTH does not exist in MQTT 3.1.1');
      return auth();
    default:
      throw new Error('unknown packet type ' + type);
  }
}

/** Names for test titles (`v5 PUBLISH`). */
export const TYPE_NAMES = [
  '',
  'CONNECT',
  'CONNACK',
  'PUBLISH',
  'PUBACK',
  'PUBREC',
  'PUBREL',
  'PUBCOMP',
  'SUBSCRIBE',
  'SUBACK',
  'UNSUBSCRIBE',
  'UNSUBACK',
  'PINGREQ',
  'PINGRESP',
  'DISCONNECT',
  'AUTH',
];

export interface Case {
  /** `v3.1.1 PUBLISH`, `v5 AUTH`. */
  name: string;
  type: PacketType;
  version: Version;
}

/** Every packet type of each protocol version: 14 for 3.1.1, 15 for 5.0. */
export const CASES: Case[] = (() => {
  const out: Case[] = [];
  for (const version of [4, 5] as Version[]) {
    for (let t = 1; t <= 15; t++) {
      if (t === PacketType.AUTH && version === 4) continue;
      out.push({ name: (version === 4 ? 'v3.1.1 ' : 'v5 ') + TYPE_NAMES[t], type: t as PacketType, version });
    }
  }
  return out;
})();
