/**
 * The decoded form of any MQTT control packet: one reusable object whose
 * fields are numbers and offsets into the caller's buffer, never copies
 * (DESIGN.md §3). A decoder fills the fields its packet type has and leaves
 * the others as {@link MqttPacket.reset} set them. Read strings or bytes with
 * `utf8Decode(buf, off, off + len)` / `buf.subarray(off, off + len)` only when
 * the application wants them.
 */
export class MqttPacket {
  /** Control packet type (1..15). */
  type = 0;
  /** The low 4 bits of the first byte. */
  flags = 0;
  /** Whole packet length in bytes (fixed header included). */
  length = 0;
  /** Offset where the variable header starts (after the fixed header). */
  bodyOffset = 0;

  /** Packet Identifier, or 0 where the packet has none. */
  packetId = 0;
  /** PUBLISH QoS; CONNECT will QoS. */
  qos = 0;
  /** PUBLISH DUP flag. */
  dup = false;
  /** PUBLISH RETAIN; CONNECT will retain. */
  retain = false;

  /** PUBLISH Topic Name (empty with an MQTT 5 Topic Alias). */
  topicOffset = 0;
  topicLength = 0;
  /**
   * PUBLISH payload; CONNECT/SUBSCRIBE/UNSUBSCRIBE/SUBACK/UNSUBACK payload
   * (topic filter list or reason-code list, walk it with the helpers in
   * `subscribe.ts`).
   */
  payloadOffset = 0;
  payloadLength = 0;

  /** MQTT 5 property data (after its length prefix); length 0 when none. */
  propertiesOffset = 0;
  propertiesLength = 0;
  /** MQTT 5 Topic Alias of a PUBLISH, 0 when absent. */
  topicAlias = 0;

  /**
   * CONNACK return code (3.1.1) or reason code (5.0); the reason code of
   * PUBACK/PUBREC/PUBREL/PUBCOMP/DISCONNECT/AUTH (0 when omitted).
   */
  reasonCode = 0;
  /** CONNACK Session Present. */
  sessionPresent = false;

  /** CONNECT Protocol Level (4 = 3.1.1, 5 = 5.0). */
  protocolVersion = 0;
  /** CONNECT Clean Session (3.1.1) / Clean Start (5.0). */
  cleanSession = false;
  /** CONNECT Keep Alive, seconds. */
  keepAlive = 0;
  clientIdOffset = 0;
  clientIdLength = 0;
  /** CONNECT Will Flag; the will QoS and retain are in `qos` and `retain`. */
  will = false;
  willPropertiesOffset = 0;
  willPropertiesLength = 0;
  willTopicOffset = 0;
  willTopicLength = 0;
  willPayloadOffset = 0;
  willPayloadLength = 0;
  hasUsername = false;
  usernameOffset = 0;
  usernameLength = 0;
  hasPassword = false;
  passwordOffset = 0;
  passwordLength = 0;

  /** Sets every field back to its initial value. */
  reset(): void {
    this.type = this.flags = this.length = this.bodyOffset = 0;
    this.packetId = this.qos = 0;
    this.dup = this.retain = false;
    this.topicOffset = this.topicLength = this.payloadOffset = this.payloadLength = 0;
    this.propertiesOffset = this.propertiesLength = this.topicAlias = 0;
    this.reasonCode = 0;
    this.sessionPresent = false;
    this.protocolVersion = this.keepAlive = 0;
    this.cleanSession = this.will = false;
    this.clientIdOffset = this.clientIdLength = 0;
    this.willPropertiesOffset = this.willPropertiesLength = 0;
    this.willTopicOffset = this.willTopicLength = this.willPayloadOffset = this.willPayloadLength = 0;
    this.hasUsername = this.hasPassword = false;
    this.usernameOffset = this.usernameLength = this.passwordOffset = this.passwordLength = 0;
  }
}
