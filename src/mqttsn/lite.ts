/**
 * The lean MQTT-SN 1.2 device client: {@link SnClient}'s "standard" profile
 * (QoS 2, discovery and the Will off, see `src/flags.ts`) plus sleep, with the
 * same options, methods and callbacks, in one closure, for boards where program text is RAM (issue #3:
 * the MQTT-SN client bundle). It writes the messages a client sends and reads
 * the ones a gateway sends in place, without the shared codec, and keeps its
 * state in closure variables the minifier shortens to one letter (see
 * `src/mqtt/lite.ts` for the same choice on the MQTT side). Both clients run
 * through the same test suites (`test/mqttsn-client/`).
 *
 * Behaviour, as {@link SnClient} without QoS 2, discovery and the Will (see
 * its TSDoc for the choices the spec leaves open):
 * - CONNECT / CONNACK with CleanSession and keep-alive to the configured
 *   `gateway` (§6.2, §6.3); PINGREQ when nothing was sent for the keep-alive
 *   period (§6.11); DISCONNECT (§6.12).
 * - One request outstanding at a time, retransmitted after T_RETRY with DUP
 *   (PUBLISH, SUBSCRIBE) and given up after N_RETRY (§6.13): the request is
 *   reported with `Status.Timeout` and the client connects again.
 * - REGISTER / REGACK (§6.5) with a fixed topic table, pre-defined topic ids
 *   and short topic names (§6.7), REGISTER from the gateway (§6.10).
 * - PUBLISH QoS -1, 0 and 1 both ways (§6.6, §6.8); "rejected: congestion"
 *   holds the queue for T_WAIT; "invalid topic ID" on a registered name
 *   registers it again and resends once.
 * - SUBSCRIBE / UNSUBSCRIBE by name, wildcard filter, pre-defined id or short
 *   name (§6.9), kept in a fixed table and renewed in a new session.
 * - The sleep cycle (§6.14): `sleep(seconds)` sends DISCONNECT with the
 *   duration; asleep, the client wakes after it with PINGREQ carrying its
 *   ClientId, takes what the gateway buffered, and sleeps again on PINGRESP
 *   (or after N_RETRY unanswered PINGREQs).
 * - `searchGateway`, `willTopicUpdate`, `willMessageUpdate` and QoS 2 answer
 *   `Status.Unsupported`; an inbound QoS 2 PUBLISH is dropped with
 *   `onError(Unsupported)`.
 *
 * Differences from {@link SnClient}: a datagram of a type the client never
 * expects from a gateway (CONNECT, WILLTOPIC, ...) is dropped as
 * `Status.Unsupported` rather than ignored, and a topic name the gateway
 * REGISTERs is not checked for well-formed UTF-8.
 */
import { Status } from '../core/status';
import { utf8Get, utf8Put, utf8Size } from '../core/utf8-compact';
import type { DatagramTransport } from '../transport';
import { readU16, writeU16 } from '../core/bytes';
import { MsgType as M, ReturnCode } from './constants';
import { snShortName } from './state';
import type { SnClientOptions } from './client';

/** The lean client: {@link SnClient}'s API (see `createSnLite`). */
export interface SnLite {
  /** Datagrams dropped because they did not decode (§5). */
  readonly dropped: number;
  /** Where the client is: 0 Disconnected, 2 Connecting, 3 Active, 4 Asleep, 5 Awake, 6 Disconnecting (`SnState`). */
  state(): number;
  /** Peer handle of the gateway. */
  gateway(): number;
  /** Starts connecting (§6.2): `Status.Ok`, or `Status.IllegalState` (Active, Disconnecting, or no `gateway`). */
  connect(): number;
  /** Ends the session with DISCONNECT (§6.12): `Status.Ok`. */
  disconnect(): number;
  /** Sleeps `duration` seconds (1..65535) with DISCONNECT(duration) (§6.14): `Status.Ok`, `Status.BadParameter` or `Status.IllegalState`. */
  sleep(duration: number): number;
  /** `Status.Unsupported` (no discovery in this client). */
  searchGateway(): number;
  /** Registers a topic name (§6.5): `Status.Ok`, `Status.Full` or `Status.IllegalState`. */
  register(topicName: string): number;
  /** Publishes (§6.6–§6.8): the MsgId (QoS 1), 0 (QoS 0/-1), or a negative Status as `SnClient.publish`. */
  publish(topic: string | number, payload: Uint8Array | string, qos: number, retain: boolean): number;
  /** Subscribes (§6.9): the MsgId or a negative Status as `SnClient.subscribe`. */
  subscribe(topic: string | number, qos: number): number;
  /** Unsubscribes (§6.9): the MsgId or a negative Status. */
  unsubscribe(topic: string | number): number;
  /** `Status.Unsupported` (no Will in this client). */
  willTopicUpdate(topic: string | null, qos: number, retain: boolean): number;
  /** `Status.Unsupported` (no Will in this client). */
  willMessageUpdate(payload: Uint8Array | string): number;
  /** Does all the work at time `now` (uint32 ms): datagrams, retransmission, queued requests, keep-alive. */
  poll(now: number): void;
}

/**
 * Body sizes of the messages a gateway sends (§5.4), by MsgType: the exact
 * size, 100 + the least size for a variable one, -2 for DISCONNECT (0 or 2),
 * -1 for a type a client never gets.
 */
const BODY = [3, 1, 101, -1, -1, 1, 0, -1, 0, -1, 105, 5, 105, 5, 2, 2, 2, -1, -1, 6, -1, 2, 100, 0, -2, -1, -1, 1, -1, 1];

/**
 * Builds the lean MQTT-SN client from {@link SnClientOptions} (`will`,
 * `maxInbound`, `maxGateways`, `tSearchGw`, `nAdv`, `radius`, `random` and
 * `onGateway` are not used). `gateway` is required to
 * connect. Every buffer and table is allocated here.
 *
 * @example
 * ```ts
 * const c = createSnLite({ transport: udp, clientId: 'node1', gateway: 0,
 *   onConnect: (rc) => { if (rc === 0) c.subscribe('cmd/#', 1); },
 *   onMessage: (name, id, type, buf, off, len) => handle(name, buf, off, len) });
 * c.connect();
 * setInterval(() => c.poll(clock.now()), 50);
 * c.publish('sensors/t', '21.5', 1, false);
 * ```
 */
export function createSnLite(o: SnClientOptions): SnLite {
  const x: DatagramTransport = o.transport;
  const size = o.packetSize || 128;
  const rx = new Uint8Array(size);
  const tx = new Uint8Array(size);
  /** Requests, encoded, in a ring of `qn` slots of `size` bytes: head `qh`, `qc` of them; tag = MsgType << 16 | MsgId, `qi` its topic index (-1: none). */
  const qn = o.maxInflight || 4;
  const qd = new Uint8Array(qn * size);
  const ql = new Int32Array(qn);
  const qt = new Int32Array(qn);
  const qi = new Int16Array(qn);
  /** Topic table: name (null: free), id, TopicIdType. */
  const nt = o.maxTopics || 8;
  const tn: (string | null)[] = [];
  const ti = new Uint16Array(nt);
  const tk = new Uint8Array(nt);
  /** Subscription table: topic (null: free), QoS << 16 | MsgId of its last SUBSCRIBE (0: to be sent again). */
  const sb: (string | number | null)[] = [];
  const sx = new Uint32Array(o.maxSubscriptions || 8);
  const tr = o.tRetry || 10000;
  const nr = o.nRetry ?? 3;
  const tw = o.tWait ?? 300000;
  const ka = (o.keepAlive ?? 60) * 1000;
  const cs = o.cleanSession ?? true;
  const g = o.gateway ?? -1;
  let qh = 0;
  let qc = 0;
  /** State (`SnState`), outstanding request type, the MsgId it waits for, retransmissions, when it was sent. */
  let st = 0;
  let k = 0;
  let wm = 0;
  let rn = 0;
  let rt = 0;
  /** Resent after "invalid topic ID": its new and first MsgId. */
  let rr = 0;
  let ro = 0;
  /** The connection was lost: the next CONNACK renews topic ids and subscriptions. */
  let rs = false;
  let lt = 0;
  /** Sleep duration (s) requested or in force (0: a plain DISCONNECT), and when the asleep period began (§6.14). */
  let sd = 0;
  let sa = 0;
  let hw = -1;
  let mid = 0;
  let now = 0;
  let lg = -1;
  let dropped = 0;
  /** The datagram being handled: MsgType, body offset and length. */
  let mt = 0;
  let b = 0;
  let m = 0;
  /** SUBACK's topic id and granted QoS, for `onAck`. */
  let at = 0;
  let aq = 0;
  for (let i = 0; i < nt; i++) tn.push(null);
  const p = o.predefined || [];
  for (let i = 0; i < p.length; i++) add(p[i][0], p[i][1], 1);

  function err(s: number): void {
    if (o.onError) o.onError(s);
  }

  /** Bytes of a message with an `n`-byte body (§5.2.1: 2-octet header, or 4 from 256 octets). */
  function tot(n: number): number {
    return n < 254 ? n + 2 : n + 4;
  }

  /** Writes the header of a `type` message with an `n`-byte body at `a[i]`; returns the body's offset. */
  function hdr(a: Uint8Array, i: number, type: number, n: number): number {
    if (n < 254) a[i++] = n + 2;
    else {
      a[i++] = 1;
      writeU16(a, i, n + 4);
      i += 2;
    }
    a[i] = type;
    return i + 1;
  }

  /** Offset of the queue entry `j` places after the head. */
  function qo(j: number): number {
    return ((qh + j) % qn) * size;
  }

  /** Slot of the queue entry `j` places after the head. */
  function qs(j: number): number {
    return (qh + j) % qn;
  }

  // ── topics ────────────────────────────────────────────────────────────

  function find(name: string, kind: number): number {
    for (let i = 0; i < nt; i++) if (tn[i] === name && tk[i] === kind) return i;
    return -1;
  }

  function byId(id: number, kind: number): number {
    for (let i = 0; i < nt; i++) if (id && ti[i] === id && tk[i] === kind && tn[i] !== null) return i;
    return -1;
  }

  /** Adds a topic; when the table is full, reuses an unregistered normal entry no queued request refers to. */
  function add(name: string, id: number, kind: number): number {
    let i = tn.indexOf(null);
    if (i < 0) {
      for (i = nt; i--; ) {
        if (tk[i] || ti[i]) continue;
        let j = qc;
        while (j-- && qi[qs(j)] !== i);
        if (j < 0) break;
      }
      if (i < 0) return Status.Full;
    }
    tn[i] = name;
    ti[i] = id;
    tk[i] = kind;
    return i;
  }

  /** The topic table entry of normal topic `name`, added when new. */
  function named(name: string): number {
    const i = find(name, 0);
    return i < 0 ? add(name, 0, 0) : i;
  }

  function nextId(): number {
    mid = (mid % 0xffff) + 1;
    return mid;
  }

  // ── output ────────────────────────────────────────────────────────────

  function raw(a: Uint8Array, i: number, n: number): void {
    x.sendTo(a, i, n, g, 0);
    lt = now;
  }

  /** A reply that expects none: PUBACK, REGACK (topic id, MsgId, ReturnCode) or PINGRESP. */
  function ack(type: number, tid: number, id: number, rc: number): void {
    const e = hdr(tx, 0, type, type === M.PINGRESP ? 0 : 5);
    if (type !== M.PINGRESP) {
      writeU16(tx, e, tid);
      writeU16(tx, e + 2, id);
      tx[e + 4] = rc;
    }
    raw(tx, 0, type === M.PINGRESP ? 2 : 7);
  }

  /** True when request type `t` is sent from the head queue slot. */
  function queued(t: number): boolean {
    return t === M.PUBLISH || t === M.SUBSCRIBE || t === M.UNSUBSCRIBE;
  }

  function snd(t: number): void {
    k = t;
    rn = 0;
    xmit();
  }

  /** (Re)sends the outstanding request: from its queue slot, or written from the client's state. */
  function xmit(): void {
    rt = now;
    if (queued(k)) return raw(qd, qo(0), ql[qs(0)]);
    let e: number;
    if (k === M.CONNECT) {
      const n = utf8Size(o.clientId);
      if (n < 0 || o.clientId.indexOf('\0') >= 0) return err(Status.InvalidUtf8);
      if (tot(n + 4) > size) return err(Status.NoMemory);
      if (ka > 65535000) return err(Status.BadParameter); // Duration is 16 bits (§5.4.4)
      e = hdr(tx, 0, M.CONNECT, n + 4);
      tx[e] = cs ? 4 : 0;
      tx[e + 1] = 1; // ProtocolId
      writeU16(tx, e + 2, ka / 1000);
      e = utf8Put(o.clientId, tx, e + 4);
    } else if (k === M.REGISTER) {
      const name = tn[qi[qs(0)]] as string;
      const n = utf8Size(name);
      if (tot(n + 4) > size) return err(Status.NoMemory);
      e = hdr(tx, 0, M.REGISTER, n + 4);
      writeU16(tx, e, 0);
      writeU16(tx, e + 2, wm);
      e = utf8Put(name, tx, e + 4);
    } else if (k === M.DISCONNECT && sd) {
      e = hdr(tx, 0, k, 2); // with the sleep duration (§6.14)
      writeU16(tx, e, sd);
      e += 2;
    } else if (k === M.PINGREQ && st === 5) {
      // Awake (§6.14): the ClientId asks for what the gateway buffered.
      const n = utf8Size(o.clientId);
      e = utf8Put(o.clientId, tx, hdr(tx, 0, k, n));
    } else e = hdr(tx, 0, k, 0); // PINGREQ, DISCONNECT
    raw(tx, 0, e);
  }

  /** Sets DUP in the stored head message when it is a PUBLISH or SUBSCRIBE being sent again (§5.3.4). */
  function dup(): void {
    if (k === M.PUBLISH || k === M.SUBSCRIBE) {
      const i = qo(0);
      qd[i + (qd[i] === 1 ? 4 : 2)] |= 0x80;
    }
  }

  /** Starts work on the head of the queue (Active, nothing outstanding). */
  function head(): void {
    const s = qs(0);
    const i = qi[s];
    const t = qt[s] >> 16;
    const off = s * size;
    wm = qt[s] & 0xffff;
    if (i >= 0 && (t === M.PUBLISH || t === M.REGISTER)) {
      if (!ti[i]) {
        // §6.5: register the name first; the message waits.
        wm = nextId();
        return snd(M.REGISTER);
      }
      if (t === M.REGISTER) return done(0);
      writeU16(qd, off + (qd[off] === 1 ? 5 : 3), ti[i]);
    }
    if (t === M.PUBLISH && !wm) {
      // QoS 0: nothing to wait for.
      raw(qd, off, ql[s]);
      shift();
    } else snd(t);
  }

  function shift(): void {
    qh = (qh + 1) % qn;
    qc--;
  }

  /** Ends the head request with `rc` (0, a ReturnCode, or a negative Status) and reports it. */
  function done(rc: number): void {
    const s = qs(0);
    const t = qt[s] >> 16;
    const i = qi[s];
    let id = qt[s] & 0xffff;
    if (id === rr && rr) id = ro; // resent under a new MsgId: reported under its first
    shift();
    k = rr = 0;
    if (t === M.PUBLISH) {
      if (o.onPublished) o.onPublished(id, rc);
    } else if (t === M.REGISTER) {
      if (o.onRegister) o.onRegister(tn[i] as string, rc ? 0 : ti[i], rc);
    } else if (o.onAck) o.onAck(t, id, rc, rc ? 0 : at, rc ? 0 : aq);
  }

  /** "Rejected: congestion": pause the queue for T_WAIT; `again` puts the outstanding head back to be resent. */
  function hold(again: boolean): void {
    hw = now;
    if (again) k = 0;
  }

  /** No answer after N_RETRY retransmissions (§6.13): report the request and connect again. */
  function fail(): void {
    const t = k;
    k = 0;
    if (st === 5) {
      // Awake and no PINGRESP: back to sleep, and try again after the duration (§6.14).
      err(Status.Timeout);
      zz();
    } else if (st === 6 && !sd) st = 0;
    else {
      if (queued(t) || t === M.REGISTER) done(Status.Timeout);
      lost();
    }
  }

  /** Asleep from now on (§6.14). */
  function zz(): void {
    st = 4;
    sa = now;
    if (o.onSleep) o.onSleep();
  }

  /** DISCONNECT (with a sleep duration when `d` > 0) once nothing else is outstanding. */
  function bye(d: number): void {
    dup();
    k = 0;
    sd = d;
    st = 6;
  }

  function lost(): void {
    err(Status.Timeout);
    rs = true; // the gateway, when it answers again, may have restarted
    k = 0;
    st = g >= 0 ? 2 : 0;
  }

  /** A free queue slot for a request of `type` with an `n`-byte body: its body's offset (the header written), or a negative Status. */
  function slot(type: number, n: number): number {
    if (!st) return Status.IllegalState;
    if (qc === qn) return Status.Full;
    if (tot(n) > size) return Status.TooLarge;
    return hdr(qd, qs(qc) * size, type, n);
  }

  /** Appends the request just written into the free slot: MsgType, MsgId, topic index, body size. */
  function push(type: number, id: number, i: number, n: number): void {
    const s = qs(qc++);
    ql[s] = tot(n);
    qt[s] = (type << 16) | id;
    qi[s] = i;
  }

  /**
   * 0 when `topic` can go in a message: a topic id 0..65535, a short name, or
   * a non-empty name without lone surrogates or U+0000 (§5.3.11, §6.7); else
   * `Status.BadParameter` (id, empty name) or `Status.InvalidUtf8`.
   */
  function check(topic: string | number): number {
    if (typeof topic === 'number') return (topic & 0xffff) === topic ? 0 : Status.BadParameter;
    return snShortName(topic) ? 0 : nameCheck(topic);
  }

  /** 0 when `name` can go in a REGISTER or SUBSCRIBE: not empty, no lone surrogate, no U+0000; else the Status. */
  function nameCheck(name: string): number {
    if (!name) return Status.BadParameter;
    return utf8Size(name) < 0 || name.indexOf('\0') >= 0 ? Status.InvalidUtf8 : 0;
  }

  /** Topic fields of `topic`: [TopicIdType, topic id] (a name: [0, 0]). */
  function kind(topic: string | number): number {
    if (typeof topic === 'number') return 0x10000 | topic;
    if (snShortName(topic)) return 0x20000 | (topic.charCodeAt(0) << 8) | topic.charCodeAt(1);
    return 0;
  }

  /** SUBSCRIBE or UNSUBSCRIBE (§5.4.15, §5.4.17) of a checked `topic`: the MsgId or a negative Status. */
  function sub(topic: string | number, qos: number, type: number, i: number): number {
    const tk2 = kind(topic);
    const n = (tk2 ? 2 : utf8Size(topic as string)) + 3;
    const id = nextId();
    const e = slot(type, n);
    if (e < 0) return e;
    qd[e] = (qos << 5) | (tk2 >> 16);
    writeU16(qd, e + 1, id);
    if (tk2) writeU16(qd, e + 3, tk2);
    else utf8Put(topic as string, qd, e + 3);
    push(type, id, i, n);
    return id;
  }

  /** Writes PUBLISH's body (§5.4.12) at `a[e]`: flags, topic id (`tk2`'s low 16 bits), MsgId, data. */
  function body(a: Uint8Array, e: number, flags: number, tk2: number, id: number, payload: Uint8Array | string): void {
    a[e] = flags | (tk2 >> 16);
    writeU16(a, e + 1, tk2);
    writeU16(a, e + 3, id);
    if (typeof payload === 'string') utf8Put(payload, a, e + 5);
    else a.set(payload, e + 5);
  }

  // ── input ─────────────────────────────────────────────────────────────

  /** Checks the datagram `rx[0..n)` (§5.2, §5.4) and sets `mt`, `b`, `m`: 0, or the Status it fails with. */
  function decode(n: number): number {
    let len = rx[0];
    let h = 2;
    if (len === 1) {
      if (n < 4) return Status.NeedMoreBytes;
      len = readU16(rx, 1);
      h = 4;
    }
    if (len < h) return Status.Malformed;
    if (len > n) return Status.NeedMoreBytes;
    if (len < n) return Status.Malformed;
    mt = rx[h - 1];
    b = h;
    m = len - h;
    const want = mt < BODY.length ? BODY[mt] : -1;
    if (want === -1) return Status.Unsupported;
    if (want === -2 ? m && m !== 2 : want < 100 ? m !== want : m < want - 100) return Status.Malformed;
    if (mt === M.PUBLISH) {
      const f = rx[b];
      if ((f & 3) === 3) return Status.Unsupported;
      if ((f & 0x60) === 0x60 && !(f & 3)) return Status.Malformed; // QoS -1 with a normal topic id (§6.8)
    }
    if (mt === M.SUBACK && (rx[b] & 0x60) === 0x60) return Status.Malformed; // granted QoS -1 (§5.4.16)
    return 0;
  }

  /** Handles the datagram checked by {@link decode} from peer `h`. */
  function handle(h: number): void {
    if (h !== g) return; // only the gateway in use is listened to
    const t = mt;
    let rc = 0;
    if (st === 5) rt = now; // §6.14: while awake, anything but PINGRESP restarts T_RETRY
    if (t === M.CONNACK) {
      if (st === 2 && k) {
        k = 0;
        rc = rx[b];
        if (rc) st = 0;
        else {
          st = 3;
          // §6.3: a new session forgets topic ids; after a lost connection the gateway may have
          // restarted: topic ids and subscriptions start over (a kept session gives the same back).
          if (cs || g !== lg || rs) {
            for (let i = 0; i < nt; i++) if (!tk[i]) ti[i] = 0;
            for (let j = 0; j < sx.length; j++) {
              let q = qc;
              while (q-- && qt[qs(q)] !== ((M.SUBSCRIBE << 16) | (sx[j] & 0xffff)));
              if (q < 0) sx[j] &= 0x30000; // sent again by poll, unless still queued
            }
          }
          rs = false;
          lg = g;
        }
        if (o.onConnect) o.onConnect(rc);
      }
    } else if (t === M.REGISTER) {
      // §6.10: the gateway names a topic id it will publish with; a full table refuses it.
      const i = named(utf8Get(rx, b + 4, b + m));
      if (i < 0) {
        rc = ReturnCode.Congestion;
        err(i);
      } else ti[i] = readU16(rx, b);
      ack(M.REGACK, readU16(rx, b), readU16(rx, b + 2), rc);
    } else if (t === M.PUBLISH) pub();
    else if (t === M.PINGREQ) ack(M.PINGRESP, 0, 0, 0);
    else if (t === M.PINGRESP) {
      if (k === M.PINGREQ) {
        k = 0;
        if (st === 5) zz(); // the buffered messages are in: back to sleep
      }
    } else if (t === M.DISCONNECT) {
      if (st === 6) {
        // Our DISCONNECT answered (or crossed by the gateway's own).
        k = 0;
        if (sd) zz();
        else st = 0;
      } else if (st > 2 && st !== 4) {
        // (Asleep: a late second answer to our sleeping DISCONNECT.)
        // §6.12: unsolicited: set the connection up again; the gateway may have restarted.
        err(Status.Closed);
        dup();
        k = 0;
        rs = true;
        st = 2;
      }
    } else if (t === M.PUBACK || t === M.REGACK) {
      const tid = readU16(rx, b);
      const id = readU16(rx, b + 2);
      rc = rx[b + 4];
      if (t === M.REGACK) {
        if (k === M.REGISTER && id === wm) {
          if (rc === ReturnCode.Congestion) hold(true);
          else if (rc || !tid) done(rc || ReturnCode.NotSupported);
          else {
            ti[qi[qs(0)]] = tid;
            k = 0;
            head(); // the message that waited for the id, or the register() result
          }
        }
        return;
      }
      // §6.6: a rejection may answer a PUBLISH of any QoS.
      if (rc === ReturnCode.InvalidTopicId) {
        const i = byId(tid, 0);
        if (i >= 0) ti[i] = 0; // register again before the next use
        if (i >= 0 && k === M.PUBLISH && id === wm && rr !== id && qi[qs(0)] === i) {
          // The gateway no longer knows the id: register again and resend once, as a new
          // PUBLISH (new MsgId, no DUP), reported under the MsgId `publish` returned.
          const off = qo(0);
          const f = off + (qd[off] === 1 ? 4 : 2);
          ro = id;
          rr = nextId();
          qt[qs(0)] = (M.PUBLISH << 16) | rr;
          qd[f] &= 0x7f;
          writeU16(qd, f + 3, rr);
          k = 0;
          return head();
        }
      }
      if (rc === ReturnCode.Congestion) hold(k === M.PUBLISH && id === wm);
      else if (k === M.PUBLISH && id === wm) done(rc);
    } else if (t === M.SUBACK || t === M.UNSUBACK) {
      const sub = t === M.SUBACK;
      if (k === t - 1 && readU16(rx, sub ? b + 3 : b) === wm) {
        rc = sub ? rx[b + 5] : 0;
        at = sub ? readU16(rx, b + 1) : 0;
        aq = sub ? (rx[b] >> 5) & 3 : 0;
        if (rc === ReturnCode.Congestion && sub) hold(true);
        else {
          const i = qi[qs(0)];
          if (sub && !rc && i >= 0 && at) ti[i] = at;
          done(rc);
        }
      }
    }
  }

  /** An inbound PUBLISH (§6.10): resolve the topic, deliver, acknowledge. */
  function pub(): void {
    const f = rx[b];
    const tt = f & 3;
    const tid = readU16(rx, b + 1);
    const id = readU16(rx, b + 3);
    let qos = (f >> 5) & 3;
    let name: string | null = null;
    if (tt !== 2) {
      const i = byId(tid, tt);
      if (i < 0) return ack(M.PUBACK, tid, id, ReturnCode.InvalidTopicId); // §6.7, §6.10
      name = tn[i];
    }
    if (qos === 2) return err(Status.Unsupported); // not subscribed at QoS 2 by this client: dropped
    if (qos === 3) qos = -1;
    if (o.onMessage) o.onMessage(name, tid, tt, rx, b + 5, m - 5, qos, !!(f & 0x10));
    if (qos === 1) ack(M.PUBACK, tid, id, 0);
  }

  // ── API ───────────────────────────────────────────────────────────────

  const api: SnLite = {
    get dropped() {
      return dropped;
    },
    state: () => st,
    gateway: () => g,
    connect(): number {
      if (st === 3 || st === 6 || g < 0) return Status.IllegalState;
      k = 0;
      st = 2;
      return Status.Ok;
    },
    disconnect(): number {
      if (st < 3) st = k = 0;
      else bye(0);
      return Status.Ok;
    },
    sleep(duration: number): number {
      if (!(duration >= 1 && duration <= 65535)) return Status.BadParameter;
      if (st < 3) return Status.IllegalState;
      bye(duration);
      return Status.Ok;
    },
    searchGateway: () => Status.Unsupported,
    willTopicUpdate: () => Status.Unsupported,
    willMessageUpdate: () => Status.Unsupported,
    register(name: string): number {
      if (!st) return Status.IllegalState;
      const r = nameCheck(name); // a REGISTER carries the name, even a 2-character one
      if (r) return r;
      const i = named(name);
      if (i < 0) return i;
      const e = slot(M.REGISTER, 0); // a marker: the REGISTER is written when it is sent
      if (e < 0) return e;
      push(M.REGISTER, 0, i, 0);
      return Status.Ok;
    },
    publish(topic: string | number, payload: Uint8Array | string, qos: number, retain: boolean): number {
      if (qos > 1) return Status.Unsupported; // no QoS 2 in this client
      if (qos < -1) return Status.BadParameter;
      const bad = check(topic);
      if (bad) return bad;
      let tk2 = kind(topic);
      let i = -1;
      if (!tk2) {
        i = find(topic as string, 1);
        if (i >= 0) {
          tk2 = 0x10000 | ti[i];
          i = -1;
        } else {
          if (qos < 0) return Status.BadParameter;
          i = named(topic as string);
          if (i < 0) return i;
        }
      }
      const pl = typeof payload === 'string' ? utf8Size(payload) : payload.length;
      if (pl < 0) return Status.InvalidUtf8;
      const flags = ((qos & 3) << 5) | (retain ? 0x10 : 0);
      if (qos < 0) {
        // §6.8: sent at once, no connection needed.
        if (tot(pl + 5) > size) return Status.NoMemory;
        if (g < 0) return Status.IllegalState;
        body(tx, hdr(tx, 0, M.PUBLISH, pl + 5), flags, tk2, 0, payload);
        x.sendTo(tx, 0, tot(pl + 5), g, 0);
        return 0;
      }
      const id = qos ? nextId() : 0;
      const e = slot(M.PUBLISH, pl + 5);
      if (e < 0) return e;
      body(qd, e, flags, tk2, id, payload);
      push(M.PUBLISH, id, i, pl + 5);
      return id;
    },
    subscribe(topic: string | number, qos: number): number {
      if (qos > 1) return Status.Unsupported; // no QoS 2 in this client
      if (qos < 0) return Status.BadParameter;
      const bad = check(topic);
      if (bad) return bad;
      let j = sb.indexOf(topic);
      let i = -1;
      if (j < 0) j = sb.indexOf(null);
      if (j < 0) j = sb.length;
      if (j >= sx.length) return Status.Full;
      if (!kind(topic) && (topic as string).indexOf('+') < 0 && (topic as string).indexOf('#') < 0) {
        i = named(topic as string);
        if (i < 0) return i;
      }
      const r = sub(topic, qos, M.SUBSCRIBE, i);
      if (r > 0) {
        sb[j] = topic;
        sx[j] = (qos << 16) | r;
      }
      return r;
    },
    unsubscribe(topic: string | number): number {
      const bad = check(topic);
      if (bad) return bad;
      const j = sb.indexOf(topic);
      const r = sub(topic, 0, M.UNSUBSCRIBE, -1);
      if (r > 0 && j >= 0) sb[j] = null;
      return r;
    },
    poll(t: number): void {
      let n: number;
      now = t;
      while ((n = x.recv(rx, 0, size)) > 0) {
        // A datagram holds exactly one message (§5.2).
        const r = decode(n);
        if (r) {
          dropped++;
          err(r);
        } else handle(x.from());
      }
      if (k && ((now - rt) >>> 0) >= tr) {
        if (rn < nr) {
          rn++;
          dup();
          xmit();
        } else fail();
      }
      if (k) return; // waiting for an answer
      if (st === 2) snd(M.CONNECT);
      else if (st === 6) snd(M.DISCONNECT);
      else if (st === 4) {
        if (((now - sa) >>> 0) >= sd * 1000) {
          // §6.14: wake up and ask for what the gateway buffered.
          st = 5;
          if (o.onWake) o.onWake();
          snd(M.PINGREQ);
        }
      } else if (st === 3) {
        // Subscriptions to renew in this session (see CONNACK), as queue slots allow.
        for (let j = 0; j < sb.length; j++) {
          const s = sb[j];
          if (s !== null && !(sx[j] & 0xffff) && api.subscribe(s, sx[j] >> 16) < 0) break;
        }
        if (hw >= 0 && ((now - hw) >>> 0) >= tw) hw = -1;
        while (!k && hw < 0 && qc) head();
        if (!k && ka && ((now - lt) >>> 0) >= ka) snd(M.PINGREQ);
      }
    },
  };
  return api;
}
