/**
 * Decoding any MQTT control packet (MQTT 3.1.1 §2, MQTT 5.0 §2): the fixed
 * header, the reserved flag bits of each type (3.1.1 §2.2.2, 5.0 §2.1.3), then
 * the per-type body decoder.
 */
import { Status } from '../core/status';
import { MAX_PACKET_SIZE, PacketType, ProtocolVersion } from './constants';
import { packetLength } from './frame';
import type { MqttPacket, PacketView } from './packet';
import { decodeConnackBody, decodeConnectBody } from './connect';
import { decodePublishBody } from './publish';
import { decodeAckBody } from './ack';
import { decodeSubackBody, decodeSubscribeBody } from './subscribe';
import { decodeReasonBody } from './control';

/**
 * Decodes the packet at `buf[off..off+len)` into `out` (reset first).
 *
 * `version` is the connection's protocol level (4 = 3.1.1, 5 = 5.0); a
 * CONNECT is decoded by the level it declares itself. `maxPacketSize` (0 for
 * no limit beyond the protocol's) bounds the whole packet.
 *
 * Returns the packet's length in bytes (`>= 2`; more input may follow it), or:
 * - {@link Status.NeedMoreBytes}: `len` holds less than the whole packet;
 * - {@link Status.TooLarge}: the packet exceeds `maxPacketSize`;
 * - {@link Status.Malformed}: a bad header, reserved flags, a field overrunning
 *   its packet, a zero packet id where one is required, trailing bytes;
 * - {@link Status.ProtocolError}: a property not allowed in the packet,
 *   duplicated, or out of range; a reason code not allowed in the packet;
 * - {@link Status.InvalidUtf8}, {@link Status.InvalidTopic};
 * - {@link Status.Unsupported}: a CONNECT for another protocol, an unknown `version`.
 *
 * Never throws, never allocates, never reads outside `buf[off..off+len)`.
 *
 * @example
 * ```ts
 * const pkt = new MqttPacket();
 * const n = decodePacket(rx, 0, rxLen, 4, pkt, 0);
 * if (n > 0 && pkt.type === PacketType.PUBLISH) handle(rx, pkt.topicOffset, pkt.topicLength);
 * ```
 */
export function decodePacket(
  buf: Uint8Array,
  off: number,
  len: number,
  version: number,
  out: MqttPacket,
  maxPacketSize: number,
): number {
  const total = decodeFixedHeader(buf, off, len, version, out, maxPacketSize);
  if (total < 0) return total;
  const pos = out.bodyOffset;
  const end = off + total;
  let st: number;
  switch (out.type) {
    case PacketType.CONNECT:
      st = decodeConnectBody(buf, pos, end, out);
      break;
    case PacketType.SUBSCRIBE:
    case PacketType.UNSUBSCRIBE:
      st = decodeSubscribeBody(buf, pos, end, version, out);
      break;
    case PacketType.PINGREQ:
      st = decodeReasonBody(buf, pos, end, version, out);
      break;
    default:
      st = decodeServerBody(buf, pos, end, version, out);
  }
  return st < 0 ? st : total;
}

/**
 * The second stage of {@link decodePacket} for the packets a server sends
 * (CONNACK, PUBLISH, PUBACK ... PUBCOMP, SUBACK, UNSUBACK, PINGRESP,
 * DISCONNECT, AUTH): decodes the body `buf[pos..end)` of the packet whose
 * fixed header {@link decodeFixedHeader} read into `out`. Returns
 * {@link Status.Ok}, the body decoder's status, or {@link Status.ProtocolError}
 * for a packet only a server receives (CONNECT, SUBSCRIBE, UNSUBSCRIBE,
 * PINGREQ). A client decodes with these two stages alone, so its bundle holds
 * no server-side decoder.
 */
export function decodeServerBody(buf: Uint8Array, pos: number, end: number, version: number, out: PacketView): number {
  switch (out.type) {
    case PacketType.CONNACK:
      return decodeConnackBody(buf, pos, end, version, out);
    case PacketType.PUBLISH:
      return decodePublishBody(buf, pos, end, out.flags, version, out);
    case PacketType.PUBACK:
    case PacketType.PUBREC:
    case PacketType.PUBREL:
    case PacketType.PUBCOMP:
      return decodeAckBody(buf, pos, end, version, out);
    case PacketType.SUBACK:
    case PacketType.UNSUBACK:
      return decodeSubackBody(buf, pos, end, version, out);
    case PacketType.PINGRESP:
    case PacketType.DISCONNECT:
    case PacketType.AUTH:
      return decodeReasonBody(buf, pos, end, version, out);
  }
  return Status.ProtocolError;
}

/**
 * The first stage of {@link decodePacket}: checks `version`, the Remaining
 * Length (complete, minimal, within `maxPacketSize`) and the reserved flag
 * bits of the type (3.1.1 §2.2.2, 5.0 §2.1.3); resets `out` and fills `type`,
 * `flags`, `length` and `bodyOffset`. Returns the packet length or a negative
 * status. A client then decodes the body with {@link decodeServerBody}, so its
 * bundle carries no server-side decoders.
 */
export function decodeFixedHeader(
  buf: Uint8Array,
  off: number,
  len: number,
  version: number,
  out: PacketView,
  maxPacketSize: number,
): number {
  if (version !== ProtocolVersion.V311 && version !== ProtocolVersion.V5) return Status.Unsupported;
  if (len > buf.length - off) len = buf.length - off;
  const total = packetLength(buf, off, len, maxPacketSize > 0 ? maxPacketSize : MAX_PACKET_SIZE);
  if (total < 0) return total;
  if (total > len) return Status.NeedMoreBytes;
  out.reset();
  const b0 = buf[off];
  const type = b0 >> 4;
  const flags = b0 & 15;
  out.type = type;
  out.flags = flags;
  out.length = total;
  let pos = off + 2;
  while (buf[pos - 1] & 0x80) pos++;
  out.bodyOffset = pos;
  if (type !== PacketType.PUBLISH) {
    const want = type === PacketType.PUBREL || type === PacketType.SUBSCRIBE || type === PacketType.UNSUBSCRIBE ? 2 : 0;
    if (flags !== want) return Status.Malformed;
  }
  return total;
}
