/**
 * A client's normal topic ids (MQTT-SN 1.2 §6.5, §7.3: one table per client, not a shared
 * pool) and the short topic names of §6.7.
 */
import { checkTopicName } from '../../src/mqtt/topic';
import { utf8Decode } from '../../src/core/utf8';
import type { PredefinedView } from './predefined';

/** Returned by {@link TopicRegistry.register} when the client has `maxTopicsPerClient` topics. */
export const TOPICS_FULL = -1;

/**
 * Normal topic ids of one client (§6.5): the client's REGISTERs, SUBSCRIBEs to plain names
 * (§6.9) and the gateway's own REGISTERs (§6.10). Ids run from 1 upwards, never 0x0000 or
 * 0xFFFF (§5.3.11) and never an id that is pre-defined for this client, so a client that
 * mixes up the TopicIdType still cannot hit another topic. The same name always gets the same
 * id while registered.
 */
export class TopicRegistry {
  /**
   * Names by id (ids are handed out 1, 2, 3…, so this stays dense). A plain array: a `Map`
   * costs about 185 bytes even with one entry, and most clients register a handful of topics.
   */
  private names: (string | undefined)[] = [];
  /** Registered topics. */
  private count = 0;
  /** Name → id, built only once more than {@link SCAN_MAX} topics are registered (else a scan). */
  private byName: Map<string, number> | null = null;
  /** Ids 1..{@link KNOWN_BITS_MAX} the client is known to have, one bit each (a Smi). */
  private knownBits = 0;
  /** Known ids above {@link KNOWN_BITS_MAX}, created on first use. */
  private knownHigh: Set<number> | null = null;
  private next = 1;

  constructor(
    private readonly max: number,
    private readonly predefined: PredefinedView,
  ) {}

  /** Registered topics. */
  get size(): number {
    return this.count;
  }

  /** The name of normal topic id `id`, or undefined (§6.6: "invalid topic ID"). */
  name(id: number): string | undefined {
    return this.names[id];
  }

  /** The id of `name`, or 0 when it has none. */
  id(name: string): number {
    if (this.byName !== null) return this.byName.get(name) ?? 0;
    const names = this.names;
    for (let i = 1; i < names.length; i++) if (names[i] === name) return i;
    return 0;
  }

  /**
   * The id of `name`, assigning the next free one when it has none (§6.5). Returns the id,
   * or {@link TOPICS_FULL}.
   */
  register(name: string): number {
    const have = this.id(name);
    if (have !== 0) return have;
    if (this.count >= this.max) return TOPICS_FULL;
    const names = this.names;
    let id = this.next;
    for (let n = 0; n < 0xfffe; n++) {
      if (names[id] === undefined && !this.predefined.byId.has(id)) break;
      id = id >= 0xfffe ? 1 : id + 1;
    }
    if (names[id] !== undefined || this.predefined.byId.has(id)) return TOPICS_FULL;
    this.next = id >= 0xfffe ? 1 : id + 1;
    // Fill any gap (ids skipped for pre-defined topics) so the array stays packed in order.
    while (names.length < id) names.push(undefined);
    names[id] = name;
    this.count++;
    if (this.byName !== null) this.byName.set(name, id);
    else if (this.count > SCAN_MAX) {
      const m = new Map<string, number>();
      for (let i = 1; i < names.length; i++) {
        const s = names[i];
        if (s !== undefined) m.set(s, i);
      }
      this.byName = m;
    }
    return id;
  }

  /** True when the client is known to hold the mapping of `id` (no REGISTER needed, §6.10). */
  isKnown(id: number): boolean {
    if (id >= 1 && id <= KNOWN_BITS_MAX) return (this.knownBits & (1 << id)) !== 0;
    return this.knownHigh !== null && this.knownHigh.has(id);
  }

  /** Marks `id` as known to the client (its REGISTER answered, our REGISTER acknowledged, SUBACK sent). */
  markKnown(id: number): void {
    if (this.names[id] === undefined) return;
    if (id >= 1 && id <= KNOWN_BITS_MAX) this.knownBits |= 1 << id;
    else (this.knownHigh ??= new Set()).add(id);
  }

  /**
   * Forgets that the client knows `id` (it answered PUBACK "invalid topic ID", §6.10): the
   * next message on that topic is preceded by a REGISTER again.
   */
  markUnknown(id: number): void {
    if (id >= 1 && id <= KNOWN_BITS_MAX) this.knownBits &= ~(1 << id);
    else if (this.knownHigh !== null) this.knownHigh.delete(id);
  }

  /** Forgets every registration (CleanSession, §6.3). */
  clear(): void {
    this.names = [];
    this.count = 0;
    this.byName = null;
    this.knownBits = 0;
    this.knownHigh = null;
    this.next = 1;
  }
}

/** Most registered topics found by scanning {@link TopicRegistry}'s array before it builds a `Map`. */
const SCAN_MAX = 8;
/** Highest id kept in {@link TopicRegistry}'s known bits (1 << 29 keeps the mask a Smi). */
const KNOWN_BITS_MAX = 29;

const SHORT_CACHE_MAX = 4096;
const shortCache = new Map<number, string>();
const SHORT = new Uint8Array(2);

/**
 * The topic name of short topic `id` (§6.7: two octets carried in the TopicId field), or null
 * when the two octets are not a valid topic name (UTF-8, no U+0000, no wildcard). Cached.
 *
 * @example `shortTopicName(0x7431) === 't1'`
 */
export function shortTopicName(id: number): string | null {
  const c = shortCache.get(id);
  if (c !== undefined) return c;
  SHORT[0] = id >> 8;
  SHORT[1] = id & 0xff;
  if (checkTopicName(SHORT, 0, 2) !== 0) return null;
  const s = utf8Decode(SHORT, 0, 2);
  if (shortCache.size >= SHORT_CACHE_MAX) shortCache.clear();
  shortCache.set(id, s);
  return s;
}

/**
 * The short topic id of `name` when it is exactly two octets of UTF-8 (§6.7), else -1.
 *
 * @example `shortTopicId('t1') === 0x7431`
 */
export function shortTopicId(name: string): number {
  if (name.length === 2) {
    const a = name.charCodeAt(0);
    const b = name.charCodeAt(1);
    return a < 0x80 && b < 0x80 ? (a << 8) | b : -1;
  }
  if (name.length === 1) {
    const c = name.charCodeAt(0);
    if (c >= 0x80 && c < 0x800) return ((0xc0 | (c >> 6)) << 8) | (0x80 | (c & 0x3f));
  }
  return -1;
}
