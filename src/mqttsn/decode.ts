/**
 * The MQTT-SN 1.2 message decoder: one table-driven walk over the layouts of
 * {@link layoutOf}. It never allocates and never throws.
 */
import { Status } from '../core/status';
import { readU16 } from '../core/bytes';
import { utf8Validate } from '../core/utf8';
import { Flag, MsgType, PROTOCOL_ID, TopicIdType } from './constants';
import { headerLength, readLength } from './header';
import { flagMask, layoutOf } from './layout';
import type { SnMessage } from './message';

/**
 * Decodes the MQTT-SN message at `buf[off..off+len)` into `out`
 * (MQTT-SN 1.2 §5.1–§5.4). `out` is reset first; the variable-length field is
 * left in `buf` and described by `out.data` (=== `buf`), `out.dataOffset`
 * (absolute, in `buf`) and `out.dataLength`. Octets after the declared Length
 * are not read, so a stream can hold the next message there.
 *
 * @returns the declared Length (octets consumed, >= 2), or
 * - {@link Status.NeedMoreBytes}: `len` is shorter than the Length field or the
 *   declared Length (on a datagram transport this means a truncated datagram);
 * - {@link Status.Malformed}: Length below the header size, a body of the wrong
 *   size for its type, an empty REGISTER / SUBSCRIBE / UNSUBSCRIBE topic name,
 *   a predefined or short topic that is not exactly 2 octets, QoS -1 outside
 *   PUBLISH or with a normal topic id (§6.8);
 * - {@link Status.Unsupported}: reserved MsgType (and ENCAPSULATED, see
 *   `decodeForwarder`), TopicIdType 0b11, ProtocolId other than 0x01;
 * - {@link Status.InvalidUtf8}: ClientId, TopicName or WillTopic that is not
 *   well-formed UTF-8 or holds U+0000;
 * - {@link Status.BadParameter}: `off`/`len` outside `buf`.
 *
 * On failure `out` holds partial results and must not be used.
 *
 * @example
 * ```ts
 * const n = decodeMessage(rx, 0, rxLen, msg);
 * if (n < 0) log('dropped: ' + statusName(n));
 * else if (msg.type === MsgType.PUBLISH) onData(msg.topicId, rx, msg.dataOffset, msg.dataLength);
 * ```
 */
export function decodeMessage(buf: Uint8Array, off: number, len: number, out: SnMessage): number {
  const total = readLength(buf, off, len);
  if (total < 0) return total;
  let p = off + headerLength(buf, off);
  if (len < p - off) return Status.NeedMoreBytes;
  const type = buf[p - 1];
  const lay = layoutOf(type);
  if (lay === null) return Status.Unsupported;
  if (len < total) return Status.NeedMoreBytes;
  const end = off + total;
  out.reset();
  out.type = type;
  out.length = total;
  for (let i = 0; i < lay.length; i++) {
    let c = lay[i];
    if (c === '?') {
      // The optional tail: Flags + WillTopic, or Duration.
      const present = p < end;
      if (lay[i + 1] === 'F') out.hasFlags = present;
      else out.hasDuration = present;
      if (!present) break;
      continue;
    }
    if (c === 'S') c = out.topicIdType === TopicIdType.Normal ? 'N' : 'T';
    if (c === 'B' || c === 'U' || c === 'N') {
      out.data = buf;
      out.dataOffset = p;
      out.dataLength = end - p;
      if (c !== 'B') {
        if (c === 'N' && p === end) return Status.Malformed;
        if (utf8Validate(buf, p, end) < 0) return Status.InvalidUtf8;
      }
      p = end;
      continue;
    }
    const w = c === 'T' || c === 'M' || c === 'D' ? 2 : 1;
    if (p + w > end) return Status.Malformed;
    let v = w === 2 ? readU16(buf, p) : buf[p];
    p += w;
    if (c === 'F') {
      v &= flagMask(type);
      const q = (v & Flag.QOS_MASK) >> Flag.QOS_SHIFT;
      const k = v & Flag.TOPIC_ID_TYPE_MASK;
      out.dup = (v & Flag.DUP) !== 0;
      out.qos = q === 3 ? -1 : q;
      out.retain = (v & Flag.RETAIN) !== 0;
      out.will = (v & Flag.WILL) !== 0;
      out.cleanSession = (v & Flag.CLEAN_SESSION) !== 0;
      out.topicIdType = k;
      if (k === 3) return Status.Unsupported;
      if (q === 3 && (type !== MsgType.PUBLISH || k === TopicIdType.Normal)) return Status.Malformed;
    } else if (c === 'P') {
      if (v !== PROTOCOL_ID) return Status.Unsupported;
      out.protocolId = v;
    } else if (c === 'G') out.gwId = v;
    else if (c === 'R') out.radius = v;
    else if (c === 'C') out.returnCode = v;
    else if (c === 'T') out.topicId = v;
    else if (c === 'M') out.msgId = v;
    else out.duration = v;
  }
  return p === end ? total : Status.Malformed;
}
