/**
 * Topic names and topic filters (MQTT 3.1.1 §4.7, MQTT 5.0 §4.7): levels
 * separated by `/`; `+` matches exactly one level and `#` the rest (both only
 * as a whole level, `#` only last, neither in a topic name); wildcard-led
 * filters do not match topics that begin with `$` (§4.7.2).
 */
import { Status } from '../core/status';
import { utf8Length, utf8Validate } from '../core/utf8';

const PLUS = 0x2b;
const HASH = 0x23;
const SLASH = 0x2f;

/**
 * Checks a topic name given as a string and returns its UTF-8 length, or
 * {@link Status.InvalidTopic} (wildcard, U+0000, longer than 65,535 bytes) or
 * {@link Status.InvalidUtf8}. An empty name returns 0: it is only legal in
 * MQTT 5 with a Topic Alias, which the caller decides.
 */
export function topicNameLength(topic: string): number {
  const n = topic.length;
  let ascii = true;
  for (let i = 0; i < n; i++) {
    const c = topic.charCodeAt(i);
    if (c === PLUS || c === HASH || c === 0) return Status.InvalidTopic;
    if (c >= 0x80) ascii = false;
  }
  // An ASCII name is its own byte length: one pass instead of two on the hot path.
  const len = ascii ? n : utf8Length(topic);
  return len > 65535 ? Status.InvalidTopic : len;
}

/**
 * Checks a topic filter given as a string and returns its UTF-8 length, or
 * {@link Status.InvalidTopic} (empty, misplaced wildcard, U+0000, too long) or
 * {@link Status.InvalidUtf8}.
 */
export function topicFilterLength(filter: string): number {
  const n = filter.length;
  if (n === 0) return Status.InvalidTopic;
  for (let i = 0; i < n; i++) {
    const c = filter.charCodeAt(i);
    if (c === 0) return Status.InvalidTopic;
    if (c === PLUS || c === HASH) {
      if (i > 0 && filter.charCodeAt(i - 1) !== SLASH) return Status.InvalidTopic;
      if (c === HASH && i !== n - 1) return Status.InvalidTopic;
      if (c === PLUS && i + 1 < n && filter.charCodeAt(i + 1) !== SLASH) return Status.InvalidTopic;
    }
  }
  const len = utf8Length(filter);
  return len > 65535 ? Status.InvalidTopic : len;
}

/**
 * Checks received topic-name bytes `buf[off..end)`: valid MQTT UTF-8 and no
 * wildcard. Returns {@link Status.Ok}, {@link Status.InvalidUtf8} or
 * {@link Status.InvalidTopic}. Allocation-free.
 */
export function checkTopicName(buf: Uint8Array, off: number, end: number): number {
  let plain = true;
  for (let i = off; i < end; i++) {
    const b = buf[i];
    if (b === PLUS || b === HASH) return Status.InvalidTopic;
    if (b >= 0x80 || b === 0) plain = false;
  }
  // ASCII without U+0000 is valid UTF-8 as it stands; anything else is checked whole.
  return plain ? Status.Ok : utf8Validate(buf, off, end);
}

/**
 * Checks received topic-filter bytes `buf[off..end)`: non-empty, valid MQTT
 * UTF-8, wildcards only as whole levels and `#` last. Returns
 * {@link Status.Ok}, {@link Status.InvalidUtf8} or {@link Status.InvalidTopic}.
 */
export function checkTopicFilter(buf: Uint8Array, off: number, end: number): number {
  if (end <= off) return Status.InvalidTopic;
  for (let i = off; i < end; i++) {
    const b = buf[i];
    if (b === PLUS || b === HASH) {
      if (i > off && buf[i - 1] !== SLASH) return Status.InvalidTopic;
      if (b === HASH && i !== end - 1) return Status.InvalidTopic;
      if (b === PLUS && i + 1 < end && buf[i + 1] !== SLASH) return Status.InvalidTopic;
    }
  }
  return utf8Validate(buf, off, end);
}

/**
 * True when the topic name in `buf[off..end)` matches `filter` (a valid
 * filter). Compares UTF-16 code units of the filter against bytes, so it is
 * exact for ASCII levels and for non-ASCII levels encoded by fieldmq's own
 * UTF-8 encoder; allocation-free.
 *
 * @example `topicMatches('sensors/+/temp', buf, 0, n)`
 */
export function topicMatches(filter: string, buf: Uint8Array, off: number, end: number): boolean {
  const fl = filter.length;
  let f = 0;
  let t = off;
  if (fl > 0 && end > off && buf[off] === 0x24 /* $ */) {
    const c0 = filter.charCodeAt(0);
    if (c0 === PLUS || c0 === HASH) return false;
  }
  while (f < fl) {
    const c = filter.charCodeAt(f);
    if (c === HASH) return true; // matches this level and everything below, incl. the parent
    if (c === PLUS) {
      while (t < end && buf[t] !== SLASH) t++;
      f++;
      continue;
    }
    if (c === SLASH) {
      if (t >= end) {
        // topic ended: "a/#" still matches "a"
        return f + 1 < fl && filter.charCodeAt(f + 1) === HASH && f + 2 === fl;
      }
      if (buf[t] !== SLASH) return false;
      f++;
      t++;
      continue;
    }
    if (c < 0x80) {
      if (t >= end || buf[t] !== c) return false;
      f++;
      t++;
      continue;
    }
    // Non-ASCII code unit: compare its UTF-8 bytes.
    let cp = c;
    if (c >= 0xd800 && c <= 0xdbff && f + 1 < fl) {
      cp = 0x10000 + ((c - 0xd800) << 10) + (filter.charCodeAt(f + 1) - 0xdc00);
      f++;
    }
    let n: number;
    let first: number;
    if (cp < 0x800) {
      n = 1;
      first = 0xc0 | (cp >> 6);
    } else if (cp < 0x10000) {
      n = 2;
      first = 0xe0 | (cp >> 12);
    } else {
      n = 3;
      first = 0xf0 | (cp >> 18);
    }
    if (t + n + 1 > end) return false;
    if (buf[t] !== first) return false;
    for (let k = n - 1, j = 1; k >= 0; k--, j++) {
      if (buf[t + j] !== (0x80 | ((cp >> (6 * k)) & 0x3f))) return false;
    }
    t += n + 1;
    f++;
  }
  return t === end;
}
