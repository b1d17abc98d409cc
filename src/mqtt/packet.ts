/**
 * The decoded form of an MQTT control packet: one reusable object whose
 * fields are numbers and offsets into the caller's buffer, never copies
 * (DESIGN.md §3). A decoder fills the fields its packet type has and leaves
 * the others as `reset()` set them. Fields are `declare`d and set by `reset()`
 * alone (one list of names, whatever the class-field semantics). Read strings or bytes with
 * `utf8Decode(buf, off, off + len)` / `buf.subarray(off, off + len)` only when
 * the application wants them.
 */
export class PacketView {
  /** Control packet type (1..15). */
  declare type: number;
  /** The low 4 bits of the first byte. */
  declare flags: number;
  /** Whole packet length in bytes (fixed header included). */
  declare length: number;
  /** Offset where the variable header starts (after the fixed header). */
  declare bodyOffset: number;

  /** Packet Identifier, or 0 where the packet has none. */
  declare packetId: number;
  /** PUBLISH QoS; CONNECT will QoS. */
  declare qos: number;
  /** PUBLISH DUP flag. */
  declare dup: boolean;
  /** PUBLISH RETAIN; CONNECT will retain. */
  declare retain: boolean;

  /** PUBLISH Topic Name (empty with an MQTT 5 Topic Alias). */
  declare topicOffset: number;
  declare topicLength: number;
  /**
   * PUBLISH payload; CONNECT/SUBSCRIBE/UNSUBSCRIBE/SUBACK/UNSUBACK payload
   * (topic filter list or reason-code list, walk it with the helpers in
   * `subscribe.ts`).
   */
  declare payloadOffset: number;
  declare payloadLength: number;

  /** MQTT 5 property data (after its length prefix); length 0 when none. */
  declare propertiesOffset: number;
  declare propertiesLength: number;
  /** MQTT 5 Topic Alias of a PUBLISH, 0 when absent. */
  declare topicAlias: number;

  /**
   * CONNACK return code (3.1.1) or reason code (5.0); the reason code of
   * PUBACK/PUBREC/PUBREL/PUBCOMP/DISCONNECT/AUTH (0 when omitted).
   */
  declare reasonCode: number;
  /** CONNACK Session Present. */
  declare sessionPresent: boolean;

  constructor() {
    this.reset();
  }

  /** Sets every field back to its initial value (0 / false). */
  reset(): void {
    this.type = this.flags = this.length = this.bodyOffset = this.packetId = this.qos = 0;
    this.topicOffset = this.topicLength = this.payloadOffset = this.payloadLength = 0;
    this.propertiesOffset = this.propertiesLength = this.topicAlias = this.reasonCode = 0;
    this.dup = this.retain = this.sessionPresent = false;
  }
}

/**
 * A {@link PacketView} that also holds the fields of a CONNECT: what a server
 * (or a tool) decodes any packet into. A client, which never receives a
 * CONNECT, needs only the {@link PacketView}.
 */
export class MqttPacket extends PacketView {
  /** CONNECT Protocol Level (4 = 3.1.1, 5 = 5.0). */
  declare protocolVersion: number;
  /** CONNECT Clean Session (3.1.1) / Clean Start (5.0). */
  declare cleanSession: boolean;
  /** CONNECT Keep Alive, seconds. */
  declare keepAlive: number;
  declare clientIdOffset: number;
  declare clientIdLength: number;
  /** CONNECT Will Flag; the will QoS and retain are in `qos` and `retain`. */
  declare will: boolean;
  declare willPropertiesOffset: number;
  declare willPropertiesLength: number;
  declare willTopicOffset: number;
  declare willTopicLength: number;
  declare willPayloadOffset: number;
  declare willPayloadLength: number;
  declare hasUsername: boolean;
  declare usernameOffset: number;
  declare usernameLength: number;
  declare hasPassword: boolean;
  declare passwordOffset: number;
  declare passwordLength: number;

  /** Sets every field back to its initial value. */
  override reset(): void {
    super.reset();
    this.protocolVersion = this.keepAlive = 0;
    this.cleanSession = this.will = false;
    this.clientIdOffset = this.clientIdLength = 0;
    this.willPropertiesOffset = this.willPropertiesLength = 0;
    this.willTopicOffset = this.willTopicLength = this.willPayloadOffset = this.willPayloadLength = 0;
    this.hasUsername = this.hasPassword = false;
    this.usernameOffset = this.usernameLength = this.passwordOffset = this.passwordLength = 0;
  }
}
