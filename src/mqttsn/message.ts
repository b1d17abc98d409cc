/**
 * The one reusable MQTT-SN message object: the decoder fills it, the encoder
 * reads it. Allocate one (or two: one in, one out) at start and reuse it for
 * every packet.
 */
import { MsgType, TopicIdType, PROTOCOL_ID } from './constants';

/**
 * Every field any MQTT-SN 1.2 message carries (MQTT-SN 1.2 §5.3), flattened.
 * A message type uses the fields its table in §5.4 lists; the others keep
 * their {@link SnMessage.reset} values on decode and are ignored on encode.
 *
 * The variable-length field (ClientId, GwAdd, TopicName, WillTopic, WillMsg,
 * PUBLISH Data, PINGREQ ClientId) is a view `data[dataOffset..+dataLength)`.
 * On decode `data` is the caller's input buffer itself (no copy), so the view
 * is valid only until that buffer is reused. On encode `text`, when not null,
 * is written as UTF-8 instead of `data`.
 *
 * @example
 * ```ts
 * const m = new SnMessage();
 * m.type = MsgType.PUBLISH; m.qos = -1; m.topicIdType = TopicIdType.Short;
 * m.topicId = 0x7431; // "t1"
 * m.text = '21.5';
 * const end = encodeMessage(m, buf, 0);
 * ```
 */
export class SnMessage {
  /** MsgType (§5.2.2). */
  type!: MsgType;
  /** Total octets including the Length field (§5.2.1). Set by the decoder; the encoder computes it. */
  length!: number;
  /** Flags DUP (§5.3.4): PUBLISH, SUBSCRIBE. */
  dup!: boolean;
  /** Flags QoS (§5.3.4): 0, 1, 2, or -1 (flags 0b11, PUBLISH only, §6.8). */
  qos!: number;
  /** Flags Retain (§5.3.4): PUBLISH, WILLTOPIC, WILLTOPICUPD. */
  retain!: boolean;
  /** Flags Will (§5.3.4): CONNECT. */
  will!: boolean;
  /** Flags CleanSession (§5.3.4): CONNECT. */
  cleanSession!: boolean;
  /** Flags TopicIdType (§5.3.4): PUBLISH, SUBSCRIBE, UNSUBSCRIBE. */
  topicIdType!: TopicIdType;
  /** GwId (§5.3.6): ADVERTISE, GWINFO. */
  gwId!: number;
  /** Duration in seconds (§5.3.3): ADVERTISE, CONNECT (keep-alive), DISCONNECT (sleep). */
  duration!: number;
  /** Radius (§5.3.9): SEARCHGW. */
  radius!: number;
  /** ProtocolId (§5.3.8): CONNECT; always {@link PROTOCOL_ID} on a decoded message. */
  protocolId!: number;
  /** ReturnCode (§5.3.10): any octet; 0x04–0xFF are reserved and passed through. */
  returnCode!: number;
  /**
   * TopicId (§5.3.11): REGISTER, REGACK, PUBLISH, PUBACK, SUBACK, and SUBSCRIBE /
   * UNSUBSCRIBE with a predefined or short topic. A short topic name is its
   * two octets as a big-endian number (`"t1"` is `0x7431`).
   */
  topicId!: number;
  /** MsgId (§5.3.7). */
  msgId!: number;
  /** DISCONNECT only: true when the optional Duration (sleep time) is present (§5.4.21). */
  hasDuration!: boolean;
  /**
   * WILLTOPIC / WILLTOPICUPD only: false for the "empty" message that has
   * neither Flags nor WillTopic (exactly 2 octets) and clears the Will (§5.4.7, §5.4.22).
   */
  hasFlags!: boolean;
  /** Bytes holding the variable-length field, or null when the message has none. */
  data!: Uint8Array | null;
  /** Start of the variable-length field in {@link SnMessage.data}. */
  dataOffset!: number;
  /** Length in octets of the variable-length field. */
  dataLength!: number;
  /** Encode only: when not null, written as UTF-8 in place of `data`. The decoder leaves it null. */
  text!: string | null;

  constructor() {
    this.reset();
  }

  /**
   * Back to the defaults: every number 0 except `protocolId` (0x01), every
   * boolean false except `hasFlags` (true), `data` and `text` null.
   */
  reset(): void {
    this.type = MsgType.ADVERTISE;
    this.length = 0;
    this.dup = false;
    this.qos = 0;
    this.retain = false;
    this.will = false;
    this.cleanSession = false;
    this.topicIdType = TopicIdType.Normal;
    this.gwId = 0;
    this.duration = 0;
    this.radius = 0;
    this.protocolId = PROTOCOL_ID;
    this.returnCode = 0;
    this.topicId = 0;
    this.msgId = 0;
    this.hasDuration = false;
    this.hasFlags = true;
    this.data = null;
    this.dataOffset = 0;
    this.dataLength = 0;
    this.text = null;
  }
}
