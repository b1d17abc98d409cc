/**
 * The few MQTT-SN 1.2 messages the load generator sends and reads, written out by hand from
 * the spec (§5.4) rather than through `src/mqttsn`: the generator is then an independent peer
 * of the gateway, and a codec bug cannot hide itself by being on both sides.
 *
 * Only 1-octet Length fields (every message here is < 256 octets).
 */

/** MsgType octets used here (MQTT-SN 1.2 §5.2.2, Table 3). */
export const SN = {
  CONNECT: 0x04,
  CONNACK: 0x05,
  REGISTER: 0x0a,
  REGACK: 0x0b,
  PUBLISH: 0x0c,
  PUBACK: 0x0d,
  DISCONNECT: 0x18,
} as const;

/** Flags octet bits (§5.3.4). */
export const FLAG_DUP = 0x80;
export const FLAG_QOS1 = 0x20;
export const FLAG_CLEAN = 0x04;
/** TopicIdType "normal" (registered) = 0b00, "pre-defined" = 0b01. */
export const TOPIC_NORMAL = 0;
export const TOPIC_PREDEFINED = 1;

function ascii(s: string, buf: Uint8Array, off: number): number {
  for (let i = 0; i < s.length; i++) buf[off + i] = s.charCodeAt(i) & 0x7f;
  return off + s.length;
}

/** CONNECT (§5.4.4): Flags (CleanSession), ProtocolId 0x01, Duration (s), ClientId. */
export function connect(clientId: string, durationS: number): Buffer {
  const len = 6 + clientId.length;
  const b = Buffer.alloc(len);
  b[0] = len;
  b[1] = SN.CONNECT;
  b[2] = FLAG_CLEAN;
  b[3] = 0x01;
  b[4] = durationS >> 8;
  b[5] = durationS & 0xff;
  ascii(clientId, b, 6);
  return b;
}

/** REGISTER (§5.4.10) from a client: TopicId 0x0000, MsgId, TopicName. */
export function register(msgId: number, topic: string): Buffer {
  const len = 6 + topic.length;
  const b = Buffer.alloc(len);
  b[0] = len;
  b[1] = SN.REGISTER;
  b[2] = 0;
  b[3] = 0;
  b[4] = msgId >> 8;
  b[5] = msgId & 0xff;
  ascii(topic, b, 6);
  return b;
}

/** DISCONNECT (§5.4.21) without Duration. */
export function disconnect(): Buffer {
  return Buffer.from([2, SN.DISCONNECT]);
}

/** Octets of a PUBLISH with a `payload`-octet Data field. */
export function publishSize(payload: number): number {
  return 7 + payload;
}

/**
 * PUBLISH (§5.4.12) into `b` (length {@link publishSize}): Flags (QoS, TopicIdType),
 * TopicId, MsgId (0 for QoS 0), Data left as it is (the caller fills offset 7 on).
 */
export function writePublishHeader(b: Uint8Array, qos: 0 | 1, topicIdType: number, topicId: number, msgId: number): void {
  b[0] = b.length;
  b[1] = SN.PUBLISH;
  b[2] = (qos === 1 ? FLAG_QOS1 : 0) | topicIdType;
  b[3] = topicId >> 8;
  b[4] = topicId & 0xff;
  b[5] = msgId >> 8;
  b[6] = msgId & 0xff;
}

/** Offset of the Data field in a PUBLISH with a 1-octet Length. */
export const PUBLISH_DATA = 7;

/** Sets MsgId and the DUP flag of a PUBLISH built by {@link writePublishHeader}. */
export function setPublishMsgId(b: Uint8Array, msgId: number, dup: boolean): void {
  b[2] = dup ? b[2]! | FLAG_DUP : b[2]! & ~FLAG_DUP;
  b[5] = msgId >> 8;
  b[6] = msgId & 0xff;
}
