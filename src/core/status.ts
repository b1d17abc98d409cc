/**
 * Numeric status codes shared by every fieldmq device API.
 *
 * Convention (DESIGN.md §3): a function that produces a value (an offset, a
 * length, an index) returns it as a number `>= 0`; failures are the negative
 * members of {@link Status}. Nothing on a hot path throws.
 *
 * @example
 * ```ts
 * const end = encodePublish(info, 4, buf, 0);
 * if (end < 0) console.log('encode failed: ' + statusName(end));
 * ```
 */
export const enum Status {
  /** Success with no value. */
  Ok = 0,
  /** The input ends before a whole packet / field: feed more bytes and retry. */
  NeedMoreBytes = -1,
  /** The caller's buffer (or a fixed table) has no room for the result. */
  NoMemory = -2,
  /** The bytes are not a well-formed packet of the protocol. */
  Malformed = -3,
  /** The call is not valid in the current state. */
  IllegalState = -4,
  /** An argument is out of its documented range. */
  BadParameter = -5,
  /** Well-formed bytes that break a protocol rule (e.g. duplicate property). */
  ProtocolError = -6,
  /** A reserved or unsupported value (message type, topic id type, version). */
  Unsupported = -7,
  /** A length exceeds the protocol or configured maximum. */
  TooLarge = -8,
  /** A string is not valid UTF-8 under the MQTT rules (MQTT 3.1.1 §1.5.3). */
  InvalidUtf8 = -9,
  /** A topic name or filter breaks the topic rules (MQTT 3.1.1 §4.7). */
  InvalidTopic = -10,
  /** A fixed-capacity container is full. */
  Full = -11,
  /** A fixed-capacity container is empty. */
  Empty = -12,
  /** A timer expired (keep-alive, retry budget). */
  Timeout = -13,
  /** A looked-up entry does not exist. */
  NotFound = -14,
  /** The transport or session is closed. */
  Closed = -15,
}

const NAMES = [
  'Ok',
  'NeedMoreBytes',
  'NoMemory',
  'Malformed',
  'IllegalState',
  'BadParameter',
  'ProtocolError',
  'Unsupported',
  'TooLarge',
  'InvalidUtf8',
  'InvalidTopic',
  'Full',
  'Empty',
  'Timeout',
  'NotFound',
  'Closed',
];

/**
 * The name of a status code, for logs: `statusName(-3) === 'Malformed'`.
 * Non-negative values are results, not errors, and are named `'Ok'`.
 */
export function statusName(code: number): string {
  if (code >= 0) return 'Ok';
  const name = NAMES[-code];
  return name === undefined ? 'Unknown(' + code + ')' : name;
}
