/**
 * The lean MQTT 3.1.1 device client: {@link MqttClient}'s 3.1.1 behaviour
 * and API in one closure, for the boards where every kilobyte of program
 * text counts (issue #3: the minified Espruino bundle within 6 KB).
 *
 * Why a second client, and why one file. `MqttClient` is built from the
 * shared codec (`encode*` / `decode*` over info objects), `Outbox`,
 * `PacketView` and the validating UTF-8 helpers: right for the gateway,
 * which needs MQTT 5 and large windows, but three times the budget in a
 * 3.1.1 device bundle. Here the packets a 3.1.1 client sends are written
 * straight into the output buffer and the ones a server sends are read where
 * they lie, and all state lives in closure variables, which the minifier
 * shortens to one letter (class members keep their names or cost `this.`).
 * The two clients run through the same test suites
 * (`test/mqtt-client/`), so they cannot drift apart unseen.
 *
 * Behaviour, as {@link MqttClient} with MQTT 3.1.1 (see its TSDoc):
 * - CONNECT with Clean Session, Will, user name and password, keep-alive
 *   (§3.1); a refused CONNACK (§3.2.2.3) goes to `onConnect` and the client
 *   reconnects with back-off.
 * - PUBLISH QoS 0/1/2 both ways (§4.3). The outbox is a fixed set of
 *   `queueSize` slots of `maxPacketSize` bytes: queued and in-flight messages
 *   in their order, sent as `maxInflight` allows; with a kept session they
 *   are resent with DUP and released QoS 2 continues with PUBREL (§4.4, §4.6);
 *   without one they are sent again as new. When the outbox is full the
 *   oldest queued QoS 0 message is dropped (`onDropped`), else `publish`
 *   answers `Status.Full`.
 * - Inbound QoS 2 exactly once: the packet id is kept until PUBREL (§4.3.3);
 *   one more than `maxInbound` ends the connection with `Status.Full`.
 * - SUBSCRIBE / UNSUBSCRIBE (§3.8, §3.10), kept in a fixed table, sent again
 *   when a session was not kept; each message goes to the handler of every
 *   matching filter (§4.7), else `onMessage`.
 * - Keep-alive (§3.1.2.10): PINGREQ after `keepAlive` seconds without
 *   sending, connection lost when no PINGRESP comes within as long again.
 * - A PUBLISH over `maxPacketSize` is acknowledged and skipped (`onOversize`);
 *   any other oversize or malformed packet ends the connection.
 * - Back-pressure: `writable` and `onWritable`.
 *
 * What it leaves out, against {@link MqttClient}: MQTT 5 (use `MqttClient`;
 * the message has no `propertiesOffset` / `propertiesLength`), and the UTF-8
 * validation of inbound topics (a malformed topic from the server is
 * delivered as decoded, not refused). `MqttMessage.matches` allocates here.
 * What the application gives it is checked as `MqttClient` checks it (a
 * topic with a wildcard, an empty one, a malformed filter, a QoS out of range,
 * a lone surrogate), and so is every packet the server sends: anything
 * malformed or out of place ends the connection (§4.8).
 */
import { Status } from '../core/status';
import type { Transport } from '../transport';
import type { MessageHandler, MqttClientOptions, MqttMessage } from './client';
import { PacketType as T } from './constants';
import { utf8Get, utf8Put, utf8Size } from '../core/utf8-compact';
import { copyBytes } from '../core/bytes';

/** The lean client: {@link MqttClient}'s 3.1.1 API (see `createMqttLite`). */
export interface MqttLite {
  /** The current `ClientState` (0 Idle, 1 Waiting, 2 Opening, 3 Connecting, 4 Connected). */
  readonly state: number;
  /** QoS 0 messages dropped by the overflow policy so far. */
  readonly droppedCount: number;
  /** Inbound PUBLISHes skipped for being larger than `maxPacketSize`. */
  readonly oversizeCount: number;
  /** Outbound messages not yet complete (queued, in flight or released). */
  readonly pending: number;
  /** False while output waits for the transport (see `onWritable`). */
  readonly writable: boolean;
  /** Starts connecting at time `now` (uint32 ms): `Status.Ok` or `Status.IllegalState`. */
  start(now: number): number;
  /**
   * Publishes (§3.3): the packet id (QoS 1/2) or `Status.Ok` (QoS 0), or
   * `Status.Full`, `Status.TooLarge`, `Status.InvalidTopic`, `Status.InvalidUtf8`.
   */
  publish(topic: string, payload: Uint8Array | string | null, qos: number, retain: boolean): number;
  /** Subscribes (§3.8): `Status.Ok`, `Status.Full` (table or output), `Status.TooLarge`, `Status.InvalidTopic`, `Status.InvalidUtf8`. */
  subscribe(filter: string, qos: number, handler: MessageHandler | null): number;
  /** Unsubscribes (§3.10): `Status.Ok`, `Status.NotFound` or `Status.Full`. */
  unsubscribe(filter: string): number;
  /** Sends DISCONNECT (§3.14) when connected and closes the link; idle until `start`. */
  disconnect(): number;
  /** Does all pending work at time `now` (uint32 ms): connect, read, keep alive, send. */
  poll(now: number): void;
}

/**
 * True when the topic `b[s..e)` matches filter `f` (2-byte length, then
 * UTF-8, as on the wire; §4.7): `+`
 * one level, `#` this level and all below (also the parent: `a/#` matches
 * `a`); a topic starting with `$` matches no filter starting with a wildcard
 * (§4.7.2).
 */
function topicMatch(f: Uint8Array, b: Uint8Array, s: number, e: number): boolean {
  let i = 2;
  const n = f.length;
  if (b[s] === 0x24 && (f[2] === 0x23 || f[2] === 0x2b)) return false;
  while (i < n) {
    const c = f[i++];
    if (c === 0x23) return true;
    if (c === 0x2b) while (s < e && b[s] !== 0x2f) s++;
    else if (s < e) {
      if (b[s++] !== c) return false;
    } else return c === 0x2f && f[i] === 0x23 && i + 1 === n;
  }
  return s === e;
}

/**
 * True when `f` is not a valid topic filter (§4.7.1): `#` only as the whole
 * last level, `+` only as a whole level, no U+0000.
 */
function badFilter(f: string): boolean {
  for (let i = 0; i < f.length; i++) {
    const c = f.charCodeAt(i);
    if (!c) return true;
    if ((c === 0x23 || c === 0x2b) && ((i && f.charCodeAt(i - 1) !== 0x2f) || (i + 1 < f.length && (c === 0x23 || f.charCodeAt(i + 1) !== 0x2f)))) return true;
  }
  return false;
}

/** Index of `v` in `a`, or -1 (a loop: not every runtime's typed arrays have `indexOf`). */
function indexIn(a: Uint16Array | Int32Array, v: number): number {
  for (let i = 0; i < a.length; i++) if (a[i] === v) return i;
  return -1;
}

/** Calls `f(a, b)` when the application gave `f`. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
function call(f: ((a?: any, b?: any) => void) | null | undefined, a?: unknown, b?: unknown): void {
  if (f) f(a, b);
}

/** Outbox entry states, bits 18–19 of a slot's tag (bits 0–15 packet id, 16–17 QoS). */
const enum Q {
  Queued = 0,
  Sent = 1,
  Released = 2,
  /** PUBREL due: `pump` sends it. */
  Release = 3,
}

/**
 * Builds the lean MQTT 3.1.1 client from {@link MqttClientOptions} (`version`,
 * `properties` and `topicAliases` are ignored: 3.1.1 only). Every buffer and
 * table is allocated here; nothing is allocated per message in steady state.
 *
 * @example
 * ```ts
 * const c = createMqttLite({ transport, clientId: 'node-7', onMessage: (m) => log(m.text()) });
 * c.start(clock.now());
 * c.subscribe('cmd/node-7/#', 1, null);
 * c.publish('greenhouse/7/temp', '21.5', 1, false);
 * // then, forever: c.poll(clock.now());
 * ```
 */
export function createMqttLite(o: MqttClientOptions): MqttLite {
  const t: Transport = o.transport;
  const max = o.maxPacketSize ?? 1024;
  const rx = new Uint8Array(max * 2);
  const tx = new Uint8Array(max * 2);
  const qn = o.queueSize ?? 16;
  /** Outbox: slot k holds `ql[k]` bytes at `qd[k * max]` (0: free); `qo[0..qc)` are the used slots in order. */
  const qd = new Uint8Array(qn * max);
  const ql = new Int32Array(qn);
  const qt = new Int32Array(qn);
  const qo = new Int32Array(qn);
  const in2 = new Uint16Array(o.maxInbound ?? 32);
  const ns = o.maxSubscriptions ?? 8;
  /** Subscriptions: filter, its UTF-8 bytes, QoS, handler, packet id awaiting SUBACK; unsubscribed ones awaiting UNSUBACK. */
  const sf: (string | null)[] = [];
  const sb: (Uint8Array | null)[] = [];
  const sq: number[] = [];
  const sh: (MessageHandler | null)[] = [];
  const si = new Int32Array(ns);
  const uf: (string | null)[] = [];
  const ub: (Uint8Array | null)[] = [];
  const ui = new Int32Array(ns);
  for (let i = 0; i < ns; i++) {
    sf.push(null);
    sb.push(null);
    sq.push(0);
    sh.push(null);
    uf.push(null);
    ub.push(null);
  }
  const kas = o.keepAlive ?? 60;
  const ka = kas * 1000;
  let qc = 0;
  let rxp = 0;
  let rxn = 0;
  let txn = 0;
  let skip = 0;
  let st = 0;
  let since = 0;
  let now = 0;
  let lastSend = 0;
  let pingAt = 0;
  let pingOut = false;
  let blocked = false;
  let rd = false;
  let delay = 0;
  let attempts = 0;
  let dropped = 0;
  let big = 0;
  let pid = 0;
  const m = {
    topicBuf: rx,
    topicOffset: 0,
    topicLength: 0,
    buf: rx,
    payloadOffset: 0,
    payloadLength: 0,
    qos: 0,
    retain: false,
    dup: false,
    topic: () => utf8Get(rx, m.topicOffset, m.topicOffset + m.topicLength),
    text: () => utf8Get(rx, m.payloadOffset, m.payloadOffset + m.payloadLength),
    // Allocates the filter's bytes (MqttClient's does not); a bad filter matches nothing.
    matches: (f: string) => {
      const n = utf8Size(f);
      const b = new Uint8Array(n < 0 ? 0 : n + 2);
      if (n >= 0) str(b, 0, f);
      return n > 0 && topicMatch(b, rx, m.topicOffset, m.topicOffset + m.topicLength);
    },
  } as unknown as MqttMessage;

  t.onWritable = function () {
    if (blocked) call(o.onWritable);
  };

  // ── output ──────────────────────────────────────────────────────────────

  /** Hands buffered output to the transport, as much as it takes; keeps the rest at the start. */
  function flush(): void {
    let s = 0;
    while (s < txn) {
      const k = t.send(tx, s, txn - s);
      if (k < 0) return lost(k);
      if (!k) break;
      s += k;
    }
    txn -= s;
    if (txn) {
      copyBytes(tx, s, txn, tx, 0);
      blocked = true;
    } else if (blocked) {
      blocked = false;
      call(o.onWritable);
    }
  }

  /**
   * Room for `n` more bytes of output and the 4 after them (flushing first when short): the
   * offset to write at, or -1. Those 4 are kept for an acknowledgement (`ack` asks for 0 more),
   * and input that needs one is read only while they are free (`read`), so none is lost to a
   * transport that is not taking output (§4.3).
   */
  function room(n: number): number {
    n += 4;
    if (tx.length - txn < n) flush();
    return tx.length - txn < n ? -1 : txn;
  }

  /** Output written up to `end`. */
  function put(end: number): number {
    txn = end;
    lastSend = now;
    return Status.Ok;
  }

  /** Writes the fixed header (§2.2) of a packet with `rem` bytes after it at `at`; returns the body's offset. */
  function head(at: number, b: Uint8Array, byte1: number, rem: number): number {
    b[at++] = byte1;
    do {
      b[at++] = (rem & 127) | (rem > 127 ? 128 : 0);
      rem >>= 7;
    } while (rem);
    return at;
  }

  /** Bytes of a packet with `rem` bytes after its fixed header. */
  function total(rem: number): number {
    return rem < 128 ? rem + 2 : rem < 16384 ? rem + 3 : rem < 2097152 ? rem + 4 : rem + 5;
  }

  /** Writes `s` as a UTF-8 string with its 2-byte length (§1.5.3); returns the end. */
  function str(b: Uint8Array, at: number, s: string): number {
    const e = utf8Put(s, b, at + 2);
    b[at] = (e - at - 2) >> 8;
    b[at + 1] = e - at - 2;
    return e;
  }

  /** A 2-byte-body packet (PUBACK, PUBREC, PUBREL, PUBCOMP, §3.4–§3.7) for `id`: false when the output has no room. */
  function ack(type: number, id: number): boolean {
    const at = room(0);
    if (at < 0) return false;
    tx[at] = (type << 4) | (type === T.PUBREL ? 2 : 0);
    tx[at + 1] = 2;
    tx[at + 2] = id >> 8;
    tx[at + 3] = id;
    put(at + 4);
    return true;
  }

  /** Appends `qd[off..off+len)` to the output: false when there is no room. */
  function copy(off: number, len: number): boolean {
    const at = room(len);
    if (at < 0) return false;
    copyBytes(qd, off, len, tx, at);
    put(at + len);
    return true;
  }

  /**
   * A packet id no outbox entry holds (1..65535). A pending (UN)SUBSCRIBE
   * may share one with a PUBLISH: their acknowledgements differ in type.
   */
  function freeId(): number {
    for (;;) {
      pid = (pid % 0xffff) + 1;
      if (find(pid) < 0) return pid;
    }
  }

  /** Position in the outbox order of the QoS 1/2 entry with packet id `id`, or -1. */
  function find(id: number): number {
    for (let i = 0; i < qc; i++) {
      const g = qt[qo[i]];
      if ((g & 0xffff) === id && g & 0x30000) return i;
    }
    return -1;
  }

  /** Removes the outbox entry at order position `i`. */
  function removeAt(i: number): void {
    ql[qo[i]] = 0;
    qc--;
    for (; i < qc; i++) qo[i] = qo[i + 1];
  }

  /**
   * Sends, while the output has room: (UN)SUBSCRIBEs waiting to go (id -1, after a reconnect),
   * then the outbox in order: PUBRELs due, and queued messages within the in-flight limit.
   */
  function pump(): void {
    if (st !== 4) return;
    for (let k = 0; k < ns; k++) {
      if (sf[k] === null || si[k] !== -1) continue;
      const id = sendSub(sb[k] as Uint8Array, sq[k]);
      if (!id) return;
      si[k] = id;
    }
    for (let j = 0; j < ns; j++) {
      if (uf[j] === null || ui[j] !== -1) continue;
      const id = sendSub(ub[j] as Uint8Array, -1);
      if (!id) return;
      ui[j] = id;
    }
    const limit = o.maxInflight ?? 8;
    let inflight = 0;
    let hold = false; // a QoS 1/2 message waits for the window: nothing queued overtakes it; PUBRELs still go
    for (let i = 0; i < qc; i++) if (qt[qo[i]] >> 18) inflight++;
    for (let i = 0; i < qc; ) {
      const k = qo[i];
      const g = qt[k];
      const qos = (g >> 16) & 3;
      if (g >> 18 === Q.Release) {
        if (room(4) < 0 || !ack(T.PUBREL, g & 0xffff)) return; // leaving the 4 bytes kept for an inbound ack
        qt[k] = (g & 0x3ffff) | (Q.Released << 18);
      }
      if (g >> 18 || hold) {
        i++;
        continue;
      }
      if (qos && inflight >= limit) {
        hold = true;
        i++;
        continue;
      }
      if (!copy(k * max, ql[k])) break;
      if (!qos) {
        removeAt(i);
        continue;
      }
      qt[k] = g | (Q.Sent << 18);
      inflight++;
      i++;
    }
  }

  /**
   * Writes PUBLISH (§3.3) into `b` at `at`, within `lim`: the end offset, or
   * -1 when it does not fit. `rem` is its Remaining Length.
   */
  function writePublish(b: Uint8Array, at: number, topic: string, p: Uint8Array | string | null, qos: number, retain: boolean, id: number, rem: number): number {
    at = str(b, head(at, b, 0x30 | (qos << 1) | (retain ? 1 : 0), rem), topic);
    if (qos) {
      b[at++] = id >> 8;
      b[at++] = id;
    }
    if (typeof p === 'string') return utf8Put(p, b, at);
    if (p) b.set(p, at);
    return at + (p ? p.length : 0);
  }

  /**
   * SUBSCRIBE (§3.8) of filter `f` (2-byte length, then UTF-8) at `qos`, or
   * with `qos` -1 UNSUBSCRIBE (§3.10): its packet id, or 0 when the output has
   * no room for it.
   */
  function sendSub(f: Uint8Array, qos: number): number {
    const un = qos < 0 ? 1 : 0;
    const rem = f.length + 3 - un; // packet id, the filter with its length, QoS (SUBSCRIBE)
    const at = room(total(rem));
    if (at < 0) return 0;
    const id = freeId();
    const e = head(at, tx, un ? 0xa2 : 0x82, rem);
    tx[e] = id >> 8;
    tx[e + 1] = id;
    tx.set(f, e + 2);
    if (!un) tx[e + rem - 1] = qos;
    put(e + rem);
    return id;
  }

  // ── connection ──────────────────────────────────────────────────────────

  function open(): void {
    rxp = rxn = txn = skip = 0;
    blocked = false;
    since = now;
    st = 2;
    if (t.open() < 0) lost(Status.Closed);
  }

  function lost(reason: number): void {
    const was = st;
    if (!was) return; // disconnect() was called (a callback may have done it): stay idle
    t.close();
    if (o.reconnect === false) st = 0;
    else {
      const hi = o.reconnectMax ?? 60000;
      let d = o.reconnectMin ?? 1000;
      for (let i = 0; i < attempts && d < hi; i++) d *= 2;
      if (d > hi) d = hi;
      delay = Math.floor(d / 2 + (d / 2) * (o.random || Math.random)()); // "equal jitter": [d/2, d)
      attempts++;
      since = now;
      st = 1;
    }
    if (was > 2) call(o.onDisconnect, reason);
  }

  function protocolError(s: number): void {
    if (st === 4) flush(); // acknowledgements already written go out first
    if (st > 1) lost(s);
  }

  /** CONNECT (§3.1). */
  function sendConnect(): void {
    const w = o.will;
    const user = o.username;
    const pw = o.password;
    let bad = 0;
    /** Bytes of a string field or binary data (§1.5.3); a lone surrogate or more than 65,535 bytes marks the CONNECT bad. */
    const size = (d: Uint8Array | string): number => {
      const n = typeof d === 'string' ? utf8Size(d) : d.length;
      if (n < 0) bad = Status.InvalidUtf8;
      else if (n > 0xffff) bad = Status.TooLarge;
      return n;
    };
    let rem = 12 + size(o.clientId);
    let flags = o.cleanSession === false ? 0 : 2;
    if (w) {
      flags |= 4 | (w.qos << 3) | (w.retain ? 32 : 0);
      rem += 4 + size(w.topic) + size(w.payload);
    }
    if (user !== undefined) {
      flags |= 128;
      rem += 2 + size(user);
    }
    if (pw !== undefined) {
      flags |= 64;
      rem += 2 + size(pw);
    }
    const at = room(total(rem) - 4); // CONNECT may use the whole send buffer (twice maxPacketSize): no ack is owed before CONNACK
    if (bad || at < 0) {
      // It never will be (a lone surrogate, larger than the send buffer): given up, not retried, and reported.
      t.close();
      st = 0;
      return call(o.onDisconnect, bad || Status.TooLarge);
    }
    let e = head(at, tx, 0x10, rem);
    tx.set([0, 4, 77, 81, 84, 84, 4, flags, kas >> 8, kas], e); // "MQTT", level 4 (§3.1.2)
    e = str(tx, e + 10, o.clientId);
    if (w) {
      e = str(tx, e, w.topic);
      e = bin(e, w.payload);
    }
    if (user !== undefined) e = str(tx, e, user);
    if (pw !== undefined) e = bin(e, pw);
    put(e);
    st = 3;
    since = now;
    flush();
  }

  /** Binary data with its 2-byte length (§1.5.3): a string as UTF-8. */
  function bin(e: number, d: Uint8Array | string): number {
    if (typeof d === 'string') return str(tx, e, d);
    tx[e] = d.length >> 8;
    tx[e + 1] = d.length;
    tx.set(d, e + 2);
    return e + 2 + d.length;
  }

  /** CONNACK (§3.2) with `code` and Session Present `present`. */
  function connack(present: boolean, code: number): void {
    if (code) {
      call(o.onConnect, code, false);
      return lost(Status.IllegalState);
    }
    st = 4;
    attempts = 0;
    pingOut = false;
    // The server has no state: nothing awaits PUBREL here either, and every subscription is sent
    // again. With a session, those it never acknowledged are (made offline: id -1; or whose SUBACK
    // the lost link took).
    if (!present) in2.fill(0);
    // Everything below is sent by pump, in order, as the output has room (id -1: to be sent).
    for (let k = 0; k < ns; k++) if (sf[k] !== null && (!present || si[k])) si[k] = -1;
    // An UNSUBSCRIBE the lost link left unanswered: sent again to a kept session; without one
    // the subscription is gone, so it is done.
    for (let j = 0; j < ns; j++) {
      const f = uf[j];
      if (f === null) continue;
      if (present) ui[j] = -1;
      else {
        uf[j] = ub[j] = null;
        ui[j] = 0;
        call(o.onUnsubscribed, f, 0);
      }
    }
    // Resend what was in flight, in its order (§4.6), with DUP (§4.4); a
    // released QoS 2 message continues with PUBREL. Without a session they
    // are sent again as queued ones (at least once).
    for (let i = 0; i < qc; i++) {
      const k = qo[i];
      const g = qt[k];
      if (!(g >> 18)) continue;
      if (!present) qt[k] = g & 0x3ffff;
      else if (g >> 18 !== Q.Sent) qt[k] = (g & 0x3ffff) | (Q.Release << 18);
      else {
        qd[k * max] |= 8;
        qt[k] = g & 0x3ffff;
      }
    }
    call(o.onConnect, 0, present);
    pump();
    flush();
  }

  // ── input ───────────────────────────────────────────────────────────────

  /**
   * Reads what the transport has and handles every complete packet where it lies (bounded per
   * poll). Not re-entered from a callback that polls (`rd`): input is handled in order, one
   * packet at a time, so each acknowledgement finds the room read checked for it.
   */
  function read(): void {
    if (rd) return;
    rd = true;
    try {
      readIn();
    } finally {
      rd = false;
    }
  }

  function readIn(): void {
    for (let round = 0; round < 32; round++) {
      let n = 0;
      if (rxn < rx.length) {
        n = t.recv(rx, rxn, rx.length - rxn);
        if (n < 0) return lost(n);
        rxn += n;
      }
      for (;;) {
        const p = rxp;
        const have = rxn - p;
        if (skip) {
          // The rest of a skipped oversize PUBLISH: discarded as it arrives.
          const k = have < skip ? have : skip;
          skip -= k;
          rxp = p + k;
          if (skip) break;
          continue;
        }
        // Remaining Length (§2.2.3): up to 4 bytes.
        let len = 0;
        let mul = 1;
        let k = 1;
        let c = 128;
        while (c & 128 && k < 5 && k < have) {
          c = rx[p + k++];
          len += (c & 127) * mul;
          mul *= 128;
        }
        if (c & 128) {
          if (k < 5) break; // need more bytes
          return protocolError(Status.Malformed);
        }
        if (k > 2 && !c) return protocolError(Status.Malformed); // §2.2.3: not in its shortest form
        c = rx[p] >> 4; // c, done with the Remaining Length, now holds the packet type
        if (st === 4 && (c === T.PUBREC || c === T.PUBREL || (c === T.PUBLISH && rx[p] & 6)) && room(0) < 0) {
          if (st !== 4) return;
          break; // no room for its acknowledgement: left unread until the transport takes output again
        }
        len += k;
        if (len > max) {
          // A PUBLISH over our maximum is skipped and acknowledged (a server keeping the
          // session would send it again after every reconnect); its first `max` bytes
          // must hold its topic and packet id. Anything else that large ends the connection.
          if (rx[p] >> 4 !== T.PUBLISH || st !== 4) return protocolError(Status.TooLarge);
          if (have < max) break;
          rxp = p + max;
          skip = len - max;
          const r = packet(p, k, max, len);
          if (r) return protocolError(r === Status.Full ? r : Status.TooLarge);
        } else {
          if (len > have) break;
          rxp = p + len; // taken before it is handled
          const r = packet(p, k, len, 0);
          if (r) return protocolError(r);
        }
        if (st < 3) return;
      }
      rxn -= rxp;
      copyBytes(rx, rxp, rxn, rx, 0);
      rxp = 0;
      if (!n) return;
    }
  }

  /**
   * Handles the packet at `rx[p..p+len)` whose fixed header is `k` bytes
   * (`big`: a skipped oversize PUBLISH of that size, only its first `len`
   * bytes here). Returns 0, or the Status that ends the connection: Malformed,
   * or ProtocolError for a packet the server may not send now.
   */
  function packet(p: number, k: number, len: number, big: number): number {
    const h = rx[p];
    const type = h >> 4;
    const b = p + k;
    const e = p + len;
    const n = big ? 2 : e - b; // an oversize PUBLISH is only read to its packet id
    const id = (rx[b] << 8) | rx[b + 1];
    if (type === T.PUBLISH) {
      if (st !== 4) return Status.ProtocolError;
      const qos = (h >> 1) & 3;
      const to = b + 2;
      let po = to + id; // `id` holds the topic length here
      // §3.3.1.2: no QoS 3; §3.3.1.1: no DUP at QoS 0; §3.3.2.1: a topic name, within the packet.
      if (qos > 2 || (!qos && h & 8) || !id || po + (qos ? 2 : 0) > e) return Status.Malformed;
      for (let i = to; i < po; i++) if (rx[i] === 0x23 || rx[i] === 0x2b || !rx[i]) return Status.Malformed; // §4.7.1, §1.5.3
      const pk = qos ? (rx[po] << 8) | rx[po + 1] : 0;
      if (qos) {
        po += 2;
        if (!pk) return Status.Malformed; // §2.3.1: packet id 0
      }
      m.topicOffset = to;
      m.topicLength = id;
      m.payloadOffset = po;
      m.payloadLength = big ? 0 : e - po;
      m.qos = qos;
      m.retain = !!(h & 1);
      m.dup = !!(h & 8);
      if (qos === 2) {
        // Exactly once (§4.3.3): deliver on first receipt, acknowledge every time.
        if (indexIn(in2, pk) < 0) {
          const j = indexIn(in2, 0);
          if (j < 0) return Status.Full; // over maxInbound
          in2[j] = pk;
          deliver(big);
        }
        ack(T.PUBREC, pk);
      } else {
        deliver(big);
        if (qos) ack(T.PUBACK, pk);
      }
      return 0;
    }
    // Every other packet a server sends has flags 0 (PUBREL: 2) and a fixed body size (§2.2.2).
    if ((h & 15) !== (type === T.PUBREL ? 2 : 0) || n !== (type === T.PINGRESP ? 0 : type === T.SUBACK ? 3 : 2)) return Status.Malformed;
    if (type === T.CONNACK) {
      if (st !== 3) return Status.ProtocolError;
      // §3.2.2: Session Present is bit 0 only, and 0 with a refusal; return codes 0..5.
      if (rx[b] > 1 || rx[b + 1] > 5 || (rx[b] && rx[b + 1])) return Status.Malformed;
      connack(rx[b] === 1, rx[b + 1]);
      return 0;
    }
    if (st === 3) return Status.ProtocolError;
    if (type !== T.PINGRESP && !id) return Status.Malformed; // §2.3.1: packet id 0
    if (type === T.PUBACK || type === T.PUBCOMP) complete(id, 0);
    else if (type === T.PUBREC) {
      const i = find(id);
      if (i < 0) ack(T.PUBREL, id);
      else {
        qt[qo[i]] = id | (2 << 16) | (Q.Release << 18); // PUBREL through pump, when the output has room
        pump();
      }
    } else if (type === T.PUBREL) {
      const i = indexIn(in2, id);
      if (i >= 0) in2[i] = 0;
      ack(T.PUBCOMP, id);
    } else if (type === T.SUBACK || type === T.UNSUBACK) {
      const sub = type === T.SUBACK;
      const code = rx[b + 2];
      if (sub && code > 2 && code !== 0x80) return Status.Malformed; // §3.9.3
      const ids = sub ? si : ui;
      const i = indexIn(ids, id);
      if (i >= 0) {
        const f = (sub ? sf : uf)[i] as string;
        ids[i] = 0;
        if (sub) {
          call(o.onSubscribed, f, code);
        } else {
          uf[i] = ub[i] = null;
          call(o.onUnsubscribed, f, 0);
        }
      }
    } else if (type === T.PINGRESP) pingOut = false;
    else return Status.ProtocolError; // a packet only a client sends
    return 0;
  }

  function complete(id: number, code: number): void {
    const i = find(id);
    if (i < 0) return;
    removeAt(i);
    call(o.onPublished, id, code);
  }

  /** The PUBLISH in `m` to every matching subscription's handler, else `onMessage`; or to `onOversize`. */
  function deliver(size: number): void {
    if (size) {
      big++;
      call(o.onOversize, m, size);
      return;
    }
    let taken = false;
    for (let k = 0; k < ns; k++) {
      const f = sb[k];
      const fn = sh[k];
      if (f && fn && topicMatch(f, rx, m.topicOffset, m.topicOffset + m.topicLength)) {
        fn(m);
        taken = true;
      }
    }
    if (!taken) call(o.onMessage, m);
  }

  // ── API ─────────────────────────────────────────────────────────────────

  return {
    get state() {
      return st;
    },
    get droppedCount() {
      return dropped;
    },
    get oversizeCount() {
      return big;
    },
    get pending() {
      return qc;
    },
    get writable() {
      return !blocked;
    },
    start(at: number): number {
      if (st) return Status.IllegalState;
      now = at;
      attempts = 0;
      open();
      return Status.Ok;
    },
    publish(topic: string, p: Uint8Array | string | null, qos: number, retain: boolean): number {
      if (qos > 2) qos = 2; // as MqttClient: the server's maximum (3.1.1: 2)
      if (!(qos >= 0)) return Status.BadParameter;
      const tl = utf8Size(topic);
      const pl = typeof p === 'string' ? utf8Size(p) : p ? p.length : 0;
      if (tl < 0 || pl < 0) return Status.InvalidUtf8;
      if (!tl || topic.indexOf('+') >= 0 || topic.indexOf('#') >= 0 || topic.indexOf('\0') >= 0) return Status.InvalidTopic;
      const rem = 2 + tl + (qos ? 2 : 0) + pl;
      const n = total(rem);
      if (n > max) return Status.TooLarge;
      if (!qos && st === 4 && !qc) {
        // Straight out; only a full output sends it to the outbox instead.
        const at = room(n);
        if (at >= 0) return put(writePublish(tx, at, topic, p, 0, retain, 0, rem));
      }
      if (qc === qn) {
        // Full: the oldest queued QoS 0 message makes room (the overflow policy).
        let i = 0;
        while (i < qc && qt[qo[i]] & 0xf0000) i++;
        if (i === qc) return Status.Full;
        removeAt(i);
        dropped++;
        call(o.onDropped, dropped);
      }
      const id = qos ? freeId() : 0;
      let k = 0;
      while (ql[k]) k++;
      ql[k] = writePublish(qd, k * max, topic, p, qos, retain, id, rem) - k * max;
      qt[k] = id | (qos << 16);
      qo[qc++] = k;
      pump();
      return qos ? id : Status.Ok;
    },
    subscribe(filter: string, qos: number, handler: MessageHandler | null): number {
      const fl = utf8Size(filter);
      if (!(qos >= 0 && qos <= 2)) return Status.BadParameter;
      if (fl < 0) return Status.InvalidUtf8;
      if (!fl || badFilter(filter)) return Status.InvalidTopic;
      let k = sf.indexOf(filter);
      if (k < 0) k = sf.indexOf(null);
      if (total(fl + 5) > max) return Status.TooLarge;
      if (k < 0 || (st === 4 && room(total(fl + 5)) < 0)) return Status.Full;
      // Kept as the packets carry it: 2-byte length, then UTF-8 (§1.5.3).
      const f = new Uint8Array(fl + 2);
      str(f, 0, filter);
      sf[k] = filter;
      sb[k] = f;
      sq[k] = qos;
      sh[k] = handler;
      si[k] = st === 4 ? sendSub(f, qos) : -1; // -1: sent by pump once connected
      return Status.Ok;
    },
    unsubscribe(filter: string): number {
      const k = sf.indexOf(filter);
      if (k < 0) return Status.NotFound;
      if (st === 4) {
        const id = sendSub(sb[k] as Uint8Array, -1);
        if (!id) return Status.Full; // not sent: still subscribed
        // Kept until its UNSUBACK, which names no filter.
        const j = uf.indexOf(null);
        if (j >= 0) {
          uf[j] = filter;
          ub[j] = sb[k];
          ui[j] = id;
        }
      }
      sf[k] = sb[k] = sh[k] = null;
      si[k] = 0;
      return Status.Ok;
    },
    disconnect(): number {
      if (st === 4) {
        const at = room(2);
        if (at >= 0) {
          tx[at] = 0xe0;
          tx[at + 1] = 0;
          put(at + 2);
        }
        flush();
      }
      t.close();
      st = 0;
      return Status.Ok;
    },
    poll(at: number): void {
      now = at;
      if (!st) return;
      if (st === 1) {
        if (((now - since) >>> 0) >= delay) open();
        return;
      }
      const ts = t.state();
      if (!ts) return lost(Status.Closed);
      const late = ((now - since) >>> 0) > (o.connectTimeout ?? 10000);
      if (st === 2) {
        if (ts === 2) sendConnect();
        else if (late) lost(Status.Timeout);
        return;
      }
      read();
      if (st === 3) {
        if (late) return lost(Status.Timeout);
        return flush(); // the rest of a CONNECT the transport took only part of
      }
      if (st !== 4) return;
      if (ka) {
        if (pingOut) {
          // No PINGRESP within the keep-alive period: the link is dead (§3.1.2.10).
          if (((now - pingAt) >>> 0) > ka) return lost(Status.Timeout);
        } else if (((now - lastSend) >>> 0) >= ka) {
          const e = room(2);
          if (e >= 0) {
            tx[e] = 0xc0;
            tx[e + 1] = 0;
            put(e + 2);
            pingOut = true;
            pingAt = now;
          } else if (((now - lastSend) >>> 0) > 2 * ka) return lost(Status.Timeout); // not even PINGREQ fits: as if unanswered
        }
      }
      pump();
      flush();
    },
  };
}
