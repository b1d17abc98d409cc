/**
 * The MQTT-SN 1.2 client's state in fixed arrays (DESIGN.md §2: the `state`
 * third of codec · state · client): the topic table, the outbound request
 * tags, the inbound QoS 2 message-id set and the list of known gateways.
 * Everything is allocated in constructors; nothing here allocates per message,
 * touches a transport or reads a clock (times are passed in).
 */
import { Status } from '../core/status';
import type { MessageQueue } from '../core/queue';

/**
 * The tag of an outbound request kept in the client's {@link MessageQueue}:
 * the MsgType of the stored message (bits 23–16), its MsgId (bits 15–0) and
 * the index of its topic table entry plus one (bits 31–24, 0 for none), so a
 * PUBLISH queued before its topic is registered (§6.5) gets the topic id
 * patched in when it is sent.
 */
export function snTag(type: number, msgId: number, topic: number): number {
  return ((topic + 1) << 24) | (type << 16) | msgId;
}

/** The topic table index in a {@link snTag} tag, or -1. */
export function snTagTopic(tag: number): number {
  return (tag >>> 24) - 1;
}

/**
 * The topic table (MQTT-SN 1.2 §6.5, §6.7, §6.10): `size` entries of a topic
 * name, its topic id and whether the id is normal or pre-defined. Names are
 * the application's own strings (or, for a REGISTER from the gateway, one
 * string decoded per registration), so looking a topic up by id on every
 * PUBLISH creates nothing.
 *
 * A normal entry with id 0 is "known name, not registered (yet)": the client
 * registers it before publishing (§6.5). Such entries are reused when the
 * table is full and no queued request refers to them.
 */
export class SnTopics {
  /** Topic names; `null` marks a free entry. */
  n: (string | null)[];
  /** Topic ids; 0 = not registered. */
  i: Uint16Array;
  /** `TopicIdType` of each entry: Normal (0) or Predefined (1). */
  k: Uint8Array;

  /** @param size - number of entries, pre-defined topics included (1..254). */
  constructor(size: number) {
    this.n = [];
    for (let x = 0; x < size; x++) this.n.push(null);
    this.i = new Uint16Array(size);
    this.k = new Uint8Array(size);
  }

  /** Index of the entry `name` of type `kind` (0 normal, 1 pre-defined), or -1. */
  find(name: string, kind: number): number {
    for (let x = 0; x < this.n.length; x++) if (this.n[x] === name && this.k[x] === kind) return x;
    return -1;
  }

  /** Index of the entry with topic id `id` (never 0) and type `kind`, or -1. */
  byId(id: number, kind: number): number {
    for (let x = 0; x < this.n.length; x++) if (id && this.i[x] === id && this.k[x] === kind && this.n[x] !== null) return x;
    return -1;
  }

  /**
   * Stores `name` with `id` and `kind` in a free entry, or else in a normal
   * entry without an id that no request in `q` refers to (see {@link snTag}).
   * Returns the index, or {@link Status.Full}.
   */
  add(name: string, id: number, kind: number, q: MessageQueue): number {
    let x = this.n.indexOf(null);
    if (x < 0) {
      for (x = this.n.length; x--; ) {
        if (this.k[x] || this.i[x]) continue;
        let j = q.length;
        while (j-- && snTagTopic(q.tagAt(j)) !== x);
        if (j < 0) break;
      }
      if (x < 0) return Status.Full;
    }
    this.n[x] = name;
    this.i[x] = id;
    this.k[x] = kind;
    return x;
  }

  /** Forgets every normal topic id (names stay): a new session starts (§6.3). */
  reset(): void {
    for (let x = 0; x < this.n.length; x++) if (!this.k[x]) this.i[x] = 0;
  }
}

/** True for a short topic name (MQTT-SN 1.2 §6.7): two ASCII characters, no wildcard. */
export function snShortName(s: string): boolean {
  for (let i = 0; i < 2; i++) {
    const c = s.charCodeAt(i);
    if (c > 0x7f || c === 0x23 || c === 0x2b) return false;
  }
  return s.length === 2;
}

/**
 * Position of `id` in a message-id set kept as a `Uint16Array` where 0 marks
 * a free slot (MsgId 0 is never used with QoS 2), or -1. `snIdIndex(s, 0)`
 * finds a free slot. Used for the inbound QoS 2 ids awaiting PUBREL
 * (MQTT-SN 1.2 §6.10; MQTT 3.1.1 §4.3.3), which make delivery exactly-once.
 */
export function snIdIndex(s: Uint16Array, id: number): number {
  for (let x = 0; x < s.length; x++) if (s[x] === id) return x;
  return -1;
}

/**
 * GwAdd octets kept per gateway (MQTT-SN 1.2 §5.4.3: the spec leaves the form to the network):
 * 18, an IPv6 address and port, the longest a fieldmq transport writes (IPv4 takes 6).
 */
export const GW_ADD_MAX = 18;

/**
 * The client's list of active gateways (MQTT-SN 1.2 §6.1), filled by
 * ADVERTISE and GWINFO: gateway id, peer handle, when it was last heard and
 * its advertised interval T_ADV (0 when only known from GWINFO, which is not
 * supervised). Entries keep their order, so failover walks the list.
 */
export class SnGateways {
  /** GwId of each entry. */
  id: Uint8Array;
  /** Transport peer handle of each entry. */
  h: Uint16Array;
  /** Time (ms) the gateway was last heard from. */
  t: Uint32Array;
  /** T_ADV in ms from its last ADVERTISE, 0 if none. */
  d: Uint32Array;
  /** 1 for a gateway known only from another client's GWINFO (second-hand, §6.1). */
  r: Uint8Array;
  /** Its address as GwAdd octets ({@link GW_ADD_MAX} per entry, taken when first heard), and their count (0: none). */
  a: Uint8Array;
  al: Uint8Array;
  /** Entries in use. */
  n: number;

  constructor(size: number) {
    this.id = new Uint8Array(size);
    this.h = new Uint16Array(size);
    this.t = new Uint32Array(size);
    this.d = new Uint32Array(size);
    this.r = new Uint8Array(size);
    this.a = new Uint8Array(size * GW_ADD_MAX);
    this.al = new Uint8Array(size);
    this.n = 0;
  }

  /** Index of the gateway with peer handle `h`, or -1. */
  at(h: number): number {
    for (let x = 0; x < this.n; x++) if (this.h[x] === h) return x;
    return -1;
  }

  /**
   * Notes that gateway `id` was heard at `now` from peer `h`; `tAdv` (ms) is its
   * ADVERTISE interval, or -1 to keep the one known. A gateway matches by id or
   * by handle (an address change or a new id updates it). Returns its index
   * (a new entry is the last), or {@link Status.Full}.
   */
  heard(id: number, h: number, tAdv: number, now: number): number {
    let x = this.n;
    while (x-- && this.id[x] !== id && this.h[x] !== h);
    if (x < 0) {
      if (this.n === this.id.length) return Status.Full;
      x = this.n++;
      this.d[x] = this.al[x] = 0;
    }
    if (this.h[x] !== h) this.al[x] = 0;
    this.id[x] = id;
    this.h[x] = h;
    this.t[x] = now;
    this.r[x] = 0;
    if (tAdv >= 0) this.d[x] = tAdv;
    return x;
  }

  /**
   * Notes gateway `id` at peer `h` named by another client's GWINFO (§6.1):
   * added (second-hand) when neither its id nor its handle is known; a known
   * entry is left as it is, so second-hand news never keeps a gateway alive.
   * Returns its index, or {@link Status.Full}.
   */
  relayed(id: number, h: number, now: number): number {
    let x = this.n;
    while (x-- && this.id[x] !== id && this.h[x] !== h);
    if (x >= 0) return x;
    x = this.heard(id, h, -1, now);
    if (x >= 0) this.r[x] = 1;
    return x;
  }

  /** Removes entry `x`, keeping the order of the others. */
  del(x: number): void {
    for (this.n--; x < this.n; x++) {
      this.id[x] = this.id[x + 1];
      this.h[x] = this.h[x + 1];
      this.t[x] = this.t[x + 1];
      this.d[x] = this.d[x + 1];
      this.r[x] = this.r[x + 1];
      this.al[x] = this.al[x + 1];
      for (let k = x * GW_ADD_MAX; k < (x + 1) * GW_ADD_MAX; k++) this.a[k] = this.a[k + GW_ADD_MAX];
    }
  }
}
