/**
 * MQTT-SN 1.2 wire constants: message types, return codes, topic id types and
 * the bits of the Flags octet. All are `const enum`s, so a bundle holds the
 * numbers and no objects.
 */

/** The MsgType octet (MQTT-SN 1.2 §5.2.2, Table 3). Values not listed are reserved. */
export const enum MsgType {
  /** Gateway announces itself; GwId and Duration (§5.4.1). */
  ADVERTISE = 0x00,
  /** Client looks for a gateway; Radius (§5.4.2). */
  SEARCHGW = 0x01,
  /** Answer to SEARCHGW; GwId, plus GwAdd when a client sends it (§5.4.3). */
  GWINFO = 0x02,
  /** Client opens a session; Flags, ProtocolId, Duration, ClientId (§5.4.4). */
  CONNECT = 0x04,
  /** Answer to CONNECT; ReturnCode (§5.4.5). */
  CONNACK = 0x05,
  /** Gateway asks for the Will topic; header only (§5.4.6). */
  WILLTOPICREQ = 0x06,
  /** Client sends its Will topic; Flags and WillTopic, or nothing to clear the Will (§5.4.7). */
  WILLTOPIC = 0x07,
  /** Gateway asks for the Will message; header only (§5.4.8). */
  WILLMSGREQ = 0x08,
  /** Client sends its Will message; WillMsg (§5.4.9). */
  WILLMSG = 0x09,
  /** Topic name to topic id mapping; TopicId, MsgId, TopicName (§5.4.10). */
  REGISTER = 0x0a,
  /** Answer to REGISTER; TopicId, MsgId, ReturnCode (§5.4.11). */
  REGACK = 0x0b,
  /** Application data; Flags, TopicId, MsgId, Data (§5.4.12). */
  PUBLISH = 0x0c,
  /** Answer to a QoS 1 PUBLISH, or a rejection; TopicId, MsgId, ReturnCode (§5.4.13). */
  PUBACK = 0x0d,
  /** QoS 2, third step; MsgId (§5.4.14). */
  PUBCOMP = 0x0e,
  /** QoS 2, first step; MsgId (§5.4.14). */
  PUBREC = 0x0f,
  /** QoS 2, second step; MsgId (§5.4.14). */
  PUBREL = 0x10,
  /** Flags, MsgId, and a TopicName or a 2-octet TopicId (§5.4.15). */
  SUBSCRIBE = 0x12,
  /** Answer to SUBSCRIBE; Flags, TopicId, MsgId, ReturnCode (§5.4.16). */
  SUBACK = 0x13,
  /** Flags, MsgId, and a TopicName or a 2-octet TopicId (§5.4.17). */
  UNSUBSCRIBE = 0x14,
  /** Answer to UNSUBSCRIBE; MsgId (§5.4.18). */
  UNSUBACK = 0x15,
  /** Keep-alive, or a sleeping client waking up with its ClientId (§5.4.19). */
  PINGREQ = 0x16,
  /** Answer to PINGREQ; header only (§5.4.20). */
  PINGRESP = 0x17,
  /** Ends a session, or with a Duration sends the client to sleep (§5.4.21). */
  DISCONNECT = 0x18,
  /** Client replaces its Will topic; Flags and WillTopic, or nothing (§5.4.22). */
  WILLTOPICUPD = 0x1a,
  /** Answer to WILLTOPICUPD; ReturnCode (§5.4.24). */
  WILLTOPICRESP = 0x1b,
  /** Client replaces its Will message; WillMsg (§5.4.23). */
  WILLMSGUPD = 0x1c,
  /** Answer to WILLMSGUPD; ReturnCode (§5.4.25). */
  WILLMSGRESP = 0x1d,
  /** Forwarder encapsulation (§5.5); decoded by `decodeForwarder`, not `decodeMessage`. */
  ENCAPSULATED = 0xfe,
}

/** The ReturnCode octet (MQTT-SN 1.2 §5.3.10, Table 5). 0x04–0xFF are reserved. */
export const enum ReturnCode {
  /** Accepted. */
  Accepted = 0,
  /** Rejected: congestion; the client waits T_WAIT before retrying (§6.5, §6.9). */
  Congestion = 1,
  /** Rejected: invalid topic ID (§6.7). */
  InvalidTopicId = 2,
  /** Rejected: not supported. */
  NotSupported = 3,
}

/** The TopicIdType bits 1–0 of the Flags octet (MQTT-SN 1.2 §5.3.4, §6.7). 0b11 is reserved. */
export const enum TopicIdType {
  /** A topic id assigned by REGISTER / SUBACK, or a topic name in SUBSCRIBE. */
  Normal = 0,
  /** A topic id both sides know in advance. */
  Predefined = 1,
  /** A 2-octet topic name carried in the TopicId field. */
  Short = 2,
}

/** Bits of the Flags octet (MQTT-SN 1.2 §5.3.4, Table 4). */
export const enum Flag {
  /** Bit 7: retransmission of a PUBLISH or SUBSCRIBE. */
  DUP = 0x80,
  /** Bits 6–5: QoS 0b00, 0b01, 0b10, or 0b11 for QoS -1 (§6.8). */
  QOS_MASK = 0x60,
  /** Shift of the QoS bits. */
  QOS_SHIFT = 5,
  /** Bit 4: retain (PUBLISH, WILLTOPIC, WILLTOPICUPD). */
  RETAIN = 0x10,
  /** Bit 3: ask for Will prompting (CONNECT). */
  WILL = 0x08,
  /** Bit 2: clean session, including the Will data (CONNECT, §6.3). */
  CLEAN_SESSION = 0x04,
  /** Bits 1–0: {@link TopicIdType}. */
  TOPIC_ID_TYPE_MASK = 0x03,
}

/** The only defined ProtocolId of CONNECT (MQTT-SN 1.2 §5.3.8); all other values are reserved. */
export const PROTOCOL_ID = 0x01;

const NAMES = [
  'ADVERTISE', 'SEARCHGW', 'GWINFO', '', 'CONNECT', 'CONNACK', 'WILLTOPICREQ', 'WILLTOPIC',
  'WILLMSGREQ', 'WILLMSG', 'REGISTER', 'REGACK', 'PUBLISH', 'PUBACK', 'PUBCOMP', 'PUBREC',
  'PUBREL', '', 'SUBSCRIBE', 'SUBACK', 'UNSUBSCRIBE', 'UNSUBACK', 'PINGREQ', 'PINGRESP',
  'DISCONNECT', '', 'WILLTOPICUPD', 'WILLTOPICRESP', 'WILLMSGUPD', 'WILLMSGRESP',
];

/**
 * The spec name of a MsgType (MQTT-SN 1.2 §5.2.2, Table 3), for logs:
 * `msgTypeName(0x0c) === 'PUBLISH'`, `msgTypeName(0xfe) === 'ENCAPSULATED'`;
 * reserved values read `'reserved(0x19)'`.
 */
export function msgTypeName(type: number): string {
  if (type === MsgType.ENCAPSULATED) return 'ENCAPSULATED';
  const n = type >= 0 && type < NAMES.length ? NAMES[type] : '';
  return n !== '' && n !== undefined ? n : 'reserved(0x' + (type >>> 0).toString(16) + ')';
}
