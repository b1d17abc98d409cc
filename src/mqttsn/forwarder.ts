/**
 * Forwarder encapsulation (MQTT-SN 1.2 §5.5, Tables 28–29): a forwarder wraps
 * each MQTT-SN message from a wireless node as
 * `Length | 0xFE | Ctrl | Wireless Node Id | MQTT-SN message`, where the
 * 1-octet Length counts up to the end of the Wireless Node Id and the inner
 * message runs to the end of the datagram. Kept apart from the message codec
 * so a device client that never sees a forwarder does not bundle it.
 */
import { Status } from '../core/status';
import { copyBytes } from '../core/bytes';
import { MsgType } from './constants';

/** The decoded encapsulation header (MQTT-SN 1.2 §5.5). Offsets are absolute in the input buffer. */
export class SnForwarderHeader {
  /** Ctrl bits 1–0: broadcast radius (§5.5, Table 29). The reserved bits 7–2 are ignored. */
  radius: number;
  /** Start of the Wireless Node Id (always 3 octets after the frame start). */
  nodeIdOffset: number;
  /** Octets of the Wireless Node Id (1..252). */
  nodeIdLength: number;
  /** Start of the encapsulated MQTT-SN message. */
  messageOffset: number;
  /** Octets of the encapsulated message: the rest of the datagram (>= 1). */
  messageLength: number;

  constructor() {
    this.radius = 0;
    this.nodeIdOffset = 0;
    this.nodeIdLength = 0;
    this.messageOffset = 0;
    this.messageLength = 0;
  }
}

/**
 * Decodes the encapsulation header of the datagram `buf[off..off+len)`
 * (MQTT-SN 1.2 §5.5). The inner message is not decoded: pass
 * `out.messageOffset`, `out.messageLength` to `decodeMessage`.
 *
 * @returns {@link Status.Ok}, or
 * - {@link Status.NeedMoreBytes}: `len` ends inside the header;
 * - {@link Status.Malformed}: MsgType is not 0xFE, Length below 4 (a Wireless
 *   Node Id of at least one octet is required), or nothing follows the header;
 * - {@link Status.BadParameter}: `off`/`len` outside `buf`.
 */
export function decodeForwarder(buf: Uint8Array, off: number, len: number, out: SnForwarderHeader): number {
  if (!(off >= 0 && len >= 0 && off + len <= buf.length)) return Status.BadParameter;
  if (len < 2) return Status.NeedMoreBytes;
  const h = buf[off];
  if (buf[off + 1] !== MsgType.ENCAPSULATED || h < 4) return Status.Malformed;
  if (len < h) return Status.NeedMoreBytes;
  if (len === h) return Status.Malformed;
  out.radius = buf[off + 2] & 3;
  out.nodeIdOffset = off + 3;
  out.nodeIdLength = h - 3;
  out.messageOffset = off + h;
  out.messageLength = len - h;
  return Status.Ok;
}

/**
 * Octets of an encapsulation header with a `nodeIdLength`-octet Wireless Node
 * Id (MQTT-SN 1.2 §5.5): `3 + nodeIdLength`, or {@link Status.BadParameter}
 * unless 1 <= nodeIdLength <= 252 (the 1-octet Length caps the header at 255).
 */
export function forwarderHeaderSize(nodeIdLength: number): number {
  return nodeIdLength >>> 0 === nodeIdLength && nodeIdLength >= 1 && nodeIdLength <= 252
    ? 3 + nodeIdLength
    : Status.BadParameter;
}

/**
 * Writes an encapsulation header (MQTT-SN 1.2 §5.5) at `buf[off]`: Length,
 * 0xFE, Ctrl (radius in bits 1–0, reserved bits 0), and the Wireless Node Id
 * `nodeId[nodeIdOff..+nodeIdLen)`. The caller then writes the inner message
 * at the returned offset (e.g. with `encodeMessage`).
 *
 * @returns the offset after the header, or {@link Status.BadParameter}
 *   (radius not 0..3, node id length not 1..252 or outside `nodeId`), or
 *   {@link Status.NoMemory} when the header does not fit in `buf[off..]`.
 */
export function encodeForwarderHeader(
  radius: number,
  nodeId: Uint8Array,
  nodeIdOff: number,
  nodeIdLen: number,
  buf: Uint8Array,
  off: number,
): number {
  const h = forwarderHeaderSize(nodeIdLen);
  if (h < 0 || (radius & 3) !== radius || nodeIdOff >>> 0 !== nodeIdOff || nodeIdOff + nodeIdLen > nodeId.length) {
    return Status.BadParameter;
  }
  if (!(off >= 0 && off + h <= buf.length)) return Status.NoMemory;
  buf[off] = h;
  buf[off + 1] = MsgType.ENCAPSULATED;
  buf[off + 2] = radius;
  return copyBytes(nodeId, nodeIdOff, nodeIdLen, buf, off + 3);
}
