/**
 * The MQTT-SN 1.2 message encoder, size-then-write (DESIGN.md §3): one
 * table-driven walk over the layouts of {@link layoutOf} both sizes and
 * writes, so the two can never disagree. Never allocates, never throws.
 */
import { Status } from '../core/status';
import { copyBytes, writeU16 } from '../core/bytes';
import { utf8Encode, utf8Length, utf8Validate } from '../core/utf8';
import { Flag, MsgType, TopicIdType } from './constants';
import { totalLength, writeLength } from './header';
import { flagMask, layoutOf } from './layout';
import type { SnMessage } from './message';

/**
 * Checks `m` and, when `buf` is not null, writes its body (the fields after
 * MsgType) at `buf[p]`. Returns the offset after the body (`p` + body size),
 * or a negative Status.
 */
function body(m: SnMessage, buf: Uint8Array | null, p: number): number {
  const t = m.type;
  const lay = layoutOf(t);
  if (lay === null) return Status.BadParameter;
  const mask = flagMask(t);
  for (let i = 0; i < lay.length; i++) {
    let c = lay[i];
    if (c === '?') {
      if (lay[i + 1] === 'F' ? !m.hasFlags : !m.hasDuration) break;
      continue;
    }
    if (c === 'S') c = m.topicIdType === TopicIdType.Normal ? 'N' : 'T';
    if (c === 'B' || c === 'U' || c === 'N') {
      const s = m.text;
      const d = m.data;
      const o = m.dataOffset;
      let n = m.dataLength;
      if (s !== null) {
        n = utf8Length(s);
        // U+0000 is legal in opaque data but not in a UTF-8 string field.
        if (n < 0 || (c !== 'B' && s.indexOf('\0') >= 0)) return Status.InvalidUtf8;
        if (buf !== null) utf8Encode(s, buf, p);
      } else if (d === null) {
        if (n !== 0) return Status.BadParameter;
      } else {
        if (o >>> 0 !== o || n >>> 0 !== n || o + n > d.length) return Status.BadParameter;
        if (c !== 'B' && utf8Validate(d, o, o + n) < 0) return Status.InvalidUtf8;
        if (buf !== null) copyBytes(d, o, n, buf, p);
      }
      if (c === 'N' && n === 0) return Status.BadParameter;
      p += n;
      continue;
    }
    let v: number;
    let w = 1;
    if (c === 'F') {
      const q = m.qos;
      const k = m.topicIdType;
      if (mask & Flag.QOS_MASK) {
        // q + 1 must be 0..3, i.e. q is -1, 0, 1 or 2.
        if (((q + 1) & 3) !== q + 1) return Status.BadParameter;
        if (q === -1 && (t !== MsgType.PUBLISH || k === TopicIdType.Normal)) return Status.BadParameter;
      }
      if (mask & Flag.TOPIC_ID_TYPE_MASK && (k >>> 0 !== k || k > 2)) return Status.BadParameter;
      v =
        ((m.dup ? Flag.DUP : 0) |
          ((q & 3) << Flag.QOS_SHIFT) |
          (m.retain ? Flag.RETAIN : 0) |
          (m.will ? Flag.WILL : 0) |
          (m.cleanSession ? Flag.CLEAN_SESSION : 0) |
          (k & Flag.TOPIC_ID_TYPE_MASK)) &
        mask;
    } else if (c === 'P') v = m.protocolId;
    else if (c === 'G') v = m.gwId;
    else if (c === 'R') v = m.radius;
    else if (c === 'C') v = m.returnCode;
    else {
      w = 2;
      v = c === 'T' ? m.topicId : c === 'M' ? m.msgId : m.duration;
    }
    if ((v & (w === 2 ? 0xffff : 0xff)) !== v) return Status.BadParameter;
    if (buf !== null) {
      if (w === 2) writeU16(buf, p, v);
      else buf[p] = v;
    }
    p += w;
  }
  return p;
}

/**
 * Total octets `m` encodes to, Length field included (MQTT-SN 1.2 §5.2.1:
 * 1-octet Length up to 255, 3-octet form above). `m.length` is ignored.
 *
 * @returns the size, or
 * - {@link Status.BadParameter}: reserved or ENCAPSULATED type; a field out of
 *   its range (1-octet fields 0..255, TopicId / MsgId / Duration 0..65535,
 *   QoS -1..2, TopicIdType 0..2); QoS -1 outside PUBLISH or with a normal
 *   topic id (§6.8); an empty REGISTER / SUBSCRIBE / UNSUBSCRIBE topic name;
 *   `dataOffset`/`dataLength` outside `data` (or non-zero `dataLength` with
 *   `data` null);
 * - {@link Status.InvalidUtf8}: `text` with a lone surrogate; a ClientId,
 *   TopicName or WillTopic (`text` or `data`) that is not valid UTF-8 or holds U+0000;
 * - {@link Status.TooLarge}: more than 65535 octets.
 */
export function messageSize(m: SnMessage): number {
  const n = body(m, null, 0);
  return n < 0 ? n : totalLength(n);
}

/**
 * Writes `m` at `buf[off]` (MQTT-SN 1.2 §5.4). Fields the type does not use
 * are ignored, Flags bits it does not use are written 0. Nothing is written
 * unless the whole message fits.
 *
 * @returns the offset after the message, or {@link Status.NoMemory} when
 *   `buf[off..]` is too small, or any error of {@link messageSize}.
 *
 * @example
 * ```ts
 * m.reset(); m.type = MsgType.PUBLISH; m.qos = 1; m.topicId = 5; m.msgId = 2;
 * m.data = payload; m.dataOffset = 0; m.dataLength = payload.length;
 * const end = encodeMessage(m, tx, 0);
 * if (end >= 0) transport.send(tx, 0, end);
 * ```
 */
export function encodeMessage(m: SnMessage, buf: Uint8Array, off: number): number {
  const total = messageSize(m);
  if (total < 0) return total;
  if (!(off >= 0 && off + total <= buf.length)) return Status.NoMemory;
  const p = writeLength(total, buf, off);
  buf[p] = m.type;
  return body(m, buf, p + 1);
}
