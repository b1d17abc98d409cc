/**
 * Zigbee API frame types the gateway uses (Digi XBee/XBee-PRO S2C Zigbee User
 * Guide, "Frame descriptions"): Transmit Request 0x10 out, and Receive Packet
 * 0x90, Transmit Status 0x8B, Modem Status 0x8A in. These work on frame data
 * (the octets between the length field and the checksum, unescaped), as
 * {@link XBeeFrameDecoder} delivers and {@link encodeXBeeFrame} frames.
 * Nothing here allocates, except {@link address64Key}.
 */
import { Status } from '../../src/core/status';
import { bytesEqual, readU16, writeU16 } from '../../src/core/bytes';

/** Frame type octets (API identifiers). */
export const enum XBeeFrameType {
  /** Transmit Request: FrameId, 64-bit dest, 16-bit dest, radius, options, RF data. */
  TransmitRequest = 0x10,
  /** Modem Status: one status octet (hardware reset, joined, coordinator started, ...). */
  ModemStatus = 0x8a,
  /** Transmit Status: FrameId, 16-bit dest, retry count, delivery status, discovery status. */
  TransmitStatus = 0x8b,
  /** Receive Packet (AO=0): 64-bit source, 16-bit source, options, RF data. */
  ReceivePacket = 0x90,
}

/** 16-bit address to use when the 16-bit address is unknown (Transmit Request). */
export const XBEE_UNKNOWN_16 = 0xfffe;
/** Receive options bit: the packet was acknowledged. */
export const XBEE_RX_ACKNOWLEDGED = 0x01;
/** Receive options bit: the packet was a broadcast. */
export const XBEE_RX_BROADCAST = 0x02;
/** Delivery status 0x00: success. */
export const XBEE_DELIVERY_SUCCESS = 0x00;

/** Frame data octets of a Transmit Request before the RF data. */
export const TRANSMIT_REQUEST_HEADER = 14;
const RECEIVE_PACKET_HEADER = 12;
const TRANSMIT_STATUS_LENGTH = 7;
const MODEM_STATUS_LENGTH = 2;

/** A Transmit Request (0x10) to encode. Reuse one object; nothing is kept. */
export interface XBeeTransmitRequest {
  /** Frame ID echoed in the Transmit Status; 0 asks for no status. */
  frameId: number;
  /** Buffer holding the 8-octet 64-bit destination, MSB first. */
  dest64: Uint8Array;
  /** Offset of the destination in `dest64`; default 0. */
  dest64Offset?: number;
  /** 16-bit destination, or {@link XBEE_UNKNOWN_16}. */
  dest16: number;
  /** Broadcast radius; 0 = maximum hops. */
  radius: number;
  /** Transmit options octet (0 = the device's TO setting). */
  options: number;
  /** Buffer holding the RF data. */
  payload: Uint8Array;
  /** Offset of the RF data in `payload`; default 0. */
  payloadOffset?: number;
  /** RF data octets; default `payload.length - payloadOffset`. */
  payloadLength?: number;
}

/**
 * Frame data octets of `req` (14 + RF data), or {@link Status.BadParameter}
 * when a field is out of range or the payload range lies outside its buffer.
 */
export function transmitRequestSize(req: XBeeTransmitRequest): number {
  const po = req.payloadOffset ?? 0;
  const pl = req.payloadLength ?? req.payload.length - po;
  const ao = req.dest64Offset ?? 0;
  if (!(po >= 0 && pl >= 0 && po + pl <= req.payload.length)) return Status.BadParameter;
  if (!(ao >= 0 && ao + 8 <= req.dest64.length)) return Status.BadParameter;
  if (!(isU8(req.frameId) && isU8(req.radius) && isU8(req.options))) return Status.BadParameter;
  if (!(req.dest16 >= 0 && req.dest16 <= 0xffff && req.dest16 === (req.dest16 | 0))) return Status.BadParameter;
  const n = TRANSMIT_REQUEST_HEADER + pl;
  return n <= 0xffff ? n : Status.TooLarge;
}

/**
 * Writes the frame data of a Transmit Request (0x10) at `buf[off..]`. Frame it
 * with {@link encodeXBeeFrame} (in place, when written at `off + 3`).
 *
 * @returns the offset after it, or {@link Status.BadParameter} (see
 *   {@link transmitRequestSize}), {@link Status.NoMemory} when `buf` is too small.
 *
 * @example
 * ```ts
 * const n = encodeTransmitRequest(
 *   { frameId: 1, dest64: addr, dest16: 0xfffe, radius: 0, options: 0, payload: sn, payloadLength: snLen },
 *   tx, 3);
 * const end = encodeXBeeFrame(tx, 3, n - 3, escaped, tx, 0);
 * ```
 */
export function encodeTransmitRequest(req: XBeeTransmitRequest, buf: Uint8Array, off: number): number {
  const n = transmitRequestSize(req);
  if (n < 0) return n;
  if (!(off >= 0)) return Status.BadParameter;
  if (off + n > buf.length) return Status.NoMemory;
  buf[off] = XBeeFrameType.TransmitRequest;
  buf[off + 1] = req.frameId;
  const ao = req.dest64Offset ?? 0;
  for (let i = 0; i < 8; i++) buf[off + 2 + i] = req.dest64[ao + i];
  writeU16(buf, off + 10, req.dest16);
  buf[off + 12] = req.radius;
  buf[off + 13] = req.options;
  const po = req.payloadOffset ?? 0;
  const pl = n - TRANSMIT_REQUEST_HEADER;
  const p = req.payload;
  // copyWithin is safe when the payload already lies in buf.
  if (p === buf) buf.copyWithin(off + TRANSMIT_REQUEST_HEADER, po, po + pl);
  else for (let i = 0; i < pl; i++) buf[off + TRANSMIT_REQUEST_HEADER + i] = p[po + i];
  return off + n;
}

function isU8(v: number): boolean {
  return v >= 0 && v <= 0xff && v === (v | 0);
}

/**
 * A decoded inbound API frame: fields plus offsets into {@link XBeeApiFrame.data}
 * (the buffer passed to {@link decodeXBeeApi}, never copied). Allocate one,
 * reuse it; every field is reset by each decode.
 */
export class XBeeApiFrame {
  /** The frame type octet. */
  type = 0;
  /** The decoded buffer. */
  data: Uint8Array = EMPTY;
  /** Frame ID (Transmit Status), else 0. */
  frameId = 0;
  /** Offset in `data` of the 8-octet 64-bit source (Receive Packet), else -1. */
  address64Offset = -1;
  /** 16-bit source (Receive Packet) or destination (Transmit Status), else 0. */
  address16 = 0;
  /** Receive options (Receive Packet), else 0. */
  options = 0;
  /** Transmit retry count (Transmit Status). */
  retryCount = 0;
  /** Delivery status (Transmit Status): 0x00 success, 0x21 network ACK failure, ... */
  deliveryStatus = 0;
  /** Discovery status (Transmit Status). */
  discoveryStatus = 0;
  /** Modem status (Modem Status): 0 hardware reset, 2 joined, 6 coordinator started, ... */
  modemStatus = 0;
  /** Offset in `data` of the RF data (Receive Packet), else -1. */
  payloadOffset = -1;
  /** RF data octets (Receive Packet), else 0. */
  payloadLength = 0;

  /** Resets every field. */
  reset(): void {
    this.type = 0;
    this.data = EMPTY;
    this.frameId = 0;
    this.address64Offset = -1;
    this.address16 = 0;
    this.options = 0;
    this.retryCount = 0;
    this.deliveryStatus = 0;
    this.discoveryStatus = 0;
    this.modemStatus = 0;
    this.payloadOffset = -1;
    this.payloadLength = 0;
  }
}

const EMPTY = new Uint8Array(0);

/**
 * Decodes the frame data at `buf[off..off+len)` (frame type first, no
 * checksum) into `out`.
 *
 * @returns the frame type (>= 0), or
 * - {@link Status.Malformed}: shorter than the type's fixed fields, or empty;
 * - {@link Status.Unsupported}: a frame type other than 0x90, 0x8B, 0x8A
 *   (`out.type` still holds it, so callers can log it);
 * - {@link Status.BadParameter}: the range lies outside `buf`.
 *
 * Octets after a Transmit Status or Modem Status's fixed fields are ignored
 * (later firmware may add fields).
 */
export function decodeXBeeApi(buf: Uint8Array, off: number, len: number, out: XBeeApiFrame): number {
  if (!(off >= 0 && len >= 0 && off + len <= buf.length)) return Status.BadParameter;
  out.reset();
  if (len < 1) return Status.Malformed;
  const type = buf[off];
  out.type = type;
  out.data = buf;
  switch (type) {
    case XBeeFrameType.ReceivePacket:
      if (len < RECEIVE_PACKET_HEADER) return Status.Malformed;
      out.address64Offset = off + 1;
      out.address16 = readU16(buf, off + 9);
      out.options = buf[off + 11];
      out.payloadOffset = off + RECEIVE_PACKET_HEADER;
      out.payloadLength = len - RECEIVE_PACKET_HEADER;
      return type;
    case XBeeFrameType.TransmitStatus:
      if (len < TRANSMIT_STATUS_LENGTH) return Status.Malformed;
      out.frameId = buf[off + 1];
      out.address16 = readU16(buf, off + 2);
      out.retryCount = buf[off + 4];
      out.deliveryStatus = buf[off + 5];
      out.discoveryStatus = buf[off + 6];
      return type;
    case XBeeFrameType.ModemStatus:
      if (len < MODEM_STATUS_LENGTH) return Status.Malformed;
      out.modemStatus = buf[off + 1];
      return type;
    default:
      return Status.Unsupported;
  }
}

const HEX = '0123456789abcdef';

/**
 * A stable key for a 64-bit address, for client tables: 16 lowercase hex
 * digits, MSB first (`'0013a20040522baa'`). Key clients by the 64-bit address:
 * the 16-bit one changes when a node rejoins.
 *
 * This is the one allocation of the XBee path: call it once per new client
 * (look up known peers with {@link address64Equal} or a cached key), not per frame.
 */
export function address64Key(buf: Uint8Array, off: number): string {
  let s = '';
  for (let i = 0; i < 8; i++) {
    const b = buf[off + i];
    s += HEX[b >>> 4] + HEX[b & 15];
  }
  return s;
}

/** True when the 8-octet addresses at `a[aOff]` and `b[bOff]` are equal; no allocation. */
export function address64Equal(a: Uint8Array, aOff: number, b: Uint8Array, bOff: number): boolean {
  return bytesEqual(a, aOff, b, bOff, 8);
}
