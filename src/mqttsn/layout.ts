/**
 * The field layout of every MQTT-SN 1.2 message body (MQTT-SN 1.2 §5.4,
 * Tables 6–27), as one table both the encoder and the decoder walk. One
 * generic walker instead of 25 per-type functions keeps the bundle small.
 *
 * A layout is a string; each letter is one field after the MsgType octet:
 *
 * | letter | field (octets)                                   | SnMessage field |
 * |--------|--------------------------------------------------|-----------------|
 * | `F`    | Flags (1), masked by {@link flagMask}            | dup, qos, ...   |
 * | `P`    | ProtocolId (1), must be 0x01                      | protocolId      |
 * | `G`    | GwId (1)                                          | gwId            |
 * | `R`    | Radius (1)                                        | radius          |
 * | `C`    | ReturnCode (1)                                    | returnCode      |
 * | `T`    | TopicId (2)                                       | topicId         |
 * | `M`    | MsgId (2)                                         | msgId           |
 * | `D`    | Duration (2)                                      | duration        |
 * | `B`    | variable, opaque octets, may be empty             | data...         |
 * | `U`    | variable, UTF-8, may be empty                     | data...         |
 * | `N`    | variable, UTF-8, at least one octet               | data...         |
 * | `S`    | `N` when TopicIdType is Normal, else `T` (exactly 2 octets) | |
 * | `?`    | the message may end here (then the rest is absent) | hasFlags / hasDuration |
 *
 * A variable field is always last and runs to the end of the message.
 */
import { Flag, MsgType } from './constants';

const LAYOUT = [
  'GD', //    0x00 ADVERTISE     §5.4.1
  'R', //     0x01 SEARCHGW      §5.4.2
  'GB', //    0x02 GWINFO        §5.4.3  (GwAdd only when sent by a client)
  '!', //     0x03 reserved
  'FPDU', //  0x04 CONNECT       §5.4.4
  'C', //     0x05 CONNACK       §5.4.5
  '', //      0x06 WILLTOPICREQ  §5.4.6
  '?FU', //   0x07 WILLTOPIC     §5.4.7  (empty: exactly 2 octets)
  '', //      0x08 WILLMSGREQ    §5.4.8
  'B', //     0x09 WILLMSG       §5.4.9
  'TMN', //   0x0A REGISTER      §5.4.10
  'TMC', //   0x0B REGACK        §5.4.11
  'FTMB', //  0x0C PUBLISH       §5.4.12
  'TMC', //   0x0D PUBACK        §5.4.13
  'M', //     0x0E PUBCOMP       §5.4.14
  'M', //     0x0F PUBREC        §5.4.14
  'M', //     0x10 PUBREL        §5.4.14
  '!', //     0x11 reserved
  'FMS', //   0x12 SUBSCRIBE     §5.4.15
  'FTMC', //  0x13 SUBACK        §5.4.16
  'FMS', //   0x14 UNSUBSCRIBE   §5.4.17
  'M', //     0x15 UNSUBACK      §5.4.18
  'U', //     0x16 PINGREQ       §5.4.19 (ClientId optional)
  '', //      0x17 PINGRESP      §5.4.20
  '?D', //    0x18 DISCONNECT    §5.4.21 (Duration optional)
  '!', //     0x19 reserved
  '?FU', //   0x1A WILLTOPICUPD  §5.4.22 (empty: exactly 2 octets)
  'C', //     0x1B WILLTOPICRESP §5.4.24
  'B', //     0x1C WILLMSGUPD    §5.4.23
  'C', //     0x1D WILLMSGRESP   §5.4.25
];

/**
 * The layout string of message type `type` (see the table above), or null
 * for reserved types and ENCAPSULATED, which has its own codec (§5.5).
 */
export function layoutOf(type: number): string | null {
  const l = type >= 0 && type < LAYOUT.length ? LAYOUT[type] : '!';
  return l === '!' || l === undefined ? null : l;
}

/**
 * The Flags bits message type `type` uses (MQTT-SN 1.2 §5.4): the others are
 * "not used", written as 0 and ignored on read. Only meaningful for types
 * whose layout has an `F`.
 */
export function flagMask(type: number): number {
  return type === MsgType.PUBLISH
    ? Flag.DUP | Flag.QOS_MASK | Flag.RETAIN | Flag.TOPIC_ID_TYPE_MASK
    : type === MsgType.SUBSCRIBE
      ? Flag.DUP | Flag.QOS_MASK | Flag.TOPIC_ID_TYPE_MASK
      : type === MsgType.UNSUBSCRIBE
        ? Flag.TOPIC_ID_TYPE_MASK
        : type === MsgType.SUBACK
          ? Flag.QOS_MASK
          : type === MsgType.CONNECT
            ? Flag.WILL | Flag.CLEAN_SESSION
            : Flag.QOS_MASK | Flag.RETAIN; // WILLTOPIC, WILLTOPICUPD
}
