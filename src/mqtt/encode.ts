/**
 * One entry point for encoding any MQTT control packet from a tagged object,
 * for the gateway, tools and tests. Device code calls the per-packet encoders
 * directly so that bundles carry only what they use.
 */
import { Status } from '../core/status';
import { PacketType } from './constants';
import type { ConnackInfo, ConnectInfo } from './connect';
import { connackSize, connectSize, encodeConnack, encodeConnect } from './connect';
import type { PublishInfo } from './publish';
import { encodePublish, publishSize } from './publish';
import type { AckInfo } from './ack';
import { ackSize, encodeAck } from './ack';
import type { SubackInfo, SubscribeInfo, UnsubackInfo, UnsubscribeInfo } from './subscribe';
import {
  encodeSuback,
  encodeSubscribe,
  encodeUnsuback,
  encodeUnsubscribe,
  subackSize,
  subscribeSize,
  unsubackSize,
  unsubscribeSize,
} from './subscribe';
import type { ReasonInfo } from './control';
import { authSize, disconnectSize, encodeAuth, encodeDisconnect, encodePingreq, encodePingresp } from './control';

/** Any packet to encode, tagged with its {@link PacketType}. */
export type AnyPacketInfo =
  | ({ type: PacketType.CONNECT } & ConnectInfo)
  | ({ type: PacketType.CONNACK } & ConnackInfo)
  | ({ type: PacketType.PUBLISH } & PublishInfo)
  | ({ type: PacketType.PUBACK | PacketType.PUBREC | PacketType.PUBREL | PacketType.PUBCOMP } & AckInfo)
  | ({ type: PacketType.SUBSCRIBE } & SubscribeInfo)
  | ({ type: PacketType.SUBACK } & SubackInfo)
  | ({ type: PacketType.UNSUBSCRIBE } & UnsubscribeInfo)
  | ({ type: PacketType.UNSUBACK } & UnsubackInfo)
  | { type: PacketType.PINGREQ | PacketType.PINGRESP }
  | ({ type: PacketType.DISCONNECT | PacketType.AUTH } & ReasonInfo);

/** Size in bytes of `p` encoded for protocol `version`, or a negative status. */
export function packetSize(p: AnyPacketInfo, version: number): number {
  switch (p.type) {
    case PacketType.CONNECT:
      return connectSize(p, version);
    case PacketType.CONNACK:
      return connackSize(p, version);
    case PacketType.PUBLISH:
      return publishSize(p, version);
    case PacketType.PUBACK:
    case PacketType.PUBREC:
    case PacketType.PUBREL:
    case PacketType.PUBCOMP:
      return ackSize(p.type, p, version);
    case PacketType.SUBSCRIBE:
      return subscribeSize(p, version);
    case PacketType.SUBACK:
      return subackSize(p, version);
    case PacketType.UNSUBSCRIBE:
      return unsubscribeSize(p, version);
    case PacketType.UNSUBACK:
      return unsubackSize(p, version);
    case PacketType.PINGREQ:
    case PacketType.PINGRESP:
      return 2;
    case PacketType.DISCONNECT:
      return disconnectSize(p, version);
    case PacketType.AUTH:
      return authSize(p, version);
    default:
      return Status.BadParameter;
  }
}

/**
 * Writes `p` for protocol `version` at `buf[off]`. Returns the end offset, or
 * a negative status from the packet's own encoder.
 */
export function encodePacket(p: AnyPacketInfo, version: number, buf: Uint8Array, off: number): number {
  switch (p.type) {
    case PacketType.CONNECT:
      return encodeConnect(p, version, buf, off);
    case PacketType.CONNACK:
      return encodeConnack(p, version, buf, off);
    case PacketType.PUBLISH:
      return encodePublish(p, version, buf, off);
    case PacketType.PUBACK:
    case PacketType.PUBREC:
    case PacketType.PUBREL:
    case PacketType.PUBCOMP:
      return encodeAck(p.type, p, version, buf, off);
    case PacketType.SUBSCRIBE:
      return encodeSubscribe(p, version, buf, off);
    case PacketType.SUBACK:
      return encodeSuback(p, version, buf, off);
    case PacketType.UNSUBSCRIBE:
      return encodeUnsubscribe(p, version, buf, off);
    case PacketType.UNSUBACK:
      return encodeUnsuback(p, version, buf, off);
    case PacketType.PINGREQ:
      return encodePingreq(buf, off);
    case PacketType.PINGRESP:
      return encodePingresp(buf, off);
    case PacketType.DISCONNECT:
      return encodeDisconnect(p, version, buf, off);
    case PacketType.AUTH:
      return encodeAuth(p, version, buf, off);
    default:
      return Status.BadParameter;
  }
}
