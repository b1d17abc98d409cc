/**
 * The MQTT-SN Length field (MQTT-SN 1.2 §5.2.1): one octet holding the total
 * message length, or 0x01 followed by the total as a big-endian uint16. The
 * total counts every octet of the message, the Length field included.
 */
import { Status } from '../core/status';
import { readU16, writeU16 } from '../core/bytes';

/**
 * Total octets of a message whose MsgType is followed by `bodyLength` octets
 * (MQTT-SN 1.2 §5.2.1): the 1-octet Length form when the total fits in 255,
 * else the 3-octet form. Returns {@link Status.TooLarge} above 65535.
 *
 * @example `totalLength(3) === 5`, `totalLength(254) === 258`
 */
export function totalLength(bodyLength: number): number {
  const t = bodyLength + 2;
  return t <= 255 ? t : t <= 65533 ? t + 2 : Status.TooLarge;
}

/**
 * Reads the Length field at `buf[off]`, with `len` octets available there
 * (MQTT-SN 1.2 §5.2.1). Accepts both forms, including the 3-octet form for a
 * short message. A stream framer uses this to learn how many octets to wait for.
 *
 * @returns the declared total length (>= 2), or
 *   {@link Status.NeedMoreBytes} when the Length field itself is incomplete,
 *   {@link Status.Malformed} when the total is smaller than the header it
 *   implies (0x00 or 0x01 0x00 0x03, say), and
 *   {@link Status.BadParameter} when `off`/`len` do not lie inside `buf`.
 */
export function readLength(buf: Uint8Array, off: number, len: number): number {
  if (!(off >= 0 && len >= 0 && off + len <= buf.length)) return Status.BadParameter;
  if (len < 1) return Status.NeedMoreBytes;
  let total = buf[off];
  let min = 2;
  if (total === 1) {
    if (len < 3) return Status.NeedMoreBytes;
    total = readU16(buf, off + 1);
    min = 4;
  }
  return total < min ? Status.Malformed : total;
}

/**
 * Octets of Length field plus MsgType for the message starting at `buf[off]`
 * (MQTT-SN 1.2 §5.2): 4 when the Length field is in 3-octet form, else 2.
 */
export function headerLength(buf: Uint8Array, off: number): number {
  return buf[off] === 1 ? 4 : 2;
}

/**
 * Writes the Length field for a message of `total` octets (as returned by
 * {@link totalLength}) at `buf[off]`; returns the offset after it. No checks:
 * the caller sized the message first.
 */
export function writeLength(total: number, buf: Uint8Array, off: number): number {
  if (total > 255) {
    buf[off] = 1;
    return writeU16(buf, off + 1, total);
  }
  buf[off] = total;
  return off + 1;
}
