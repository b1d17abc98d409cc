/**
 * The MQTT-SN 1.2 device client (MQTT-SN 1.2 §6): gateway discovery and
 * failover, connect with the Will flow, registration, publish at QoS -1..2,
 * subscribe, keep-alive, retransmission and the sleeping-client cycle, over a
 * {@link DatagramTransport}. It is the only file of `src/mqttsn` that touches
 * a transport or time, and it does so only in {@link SnClient.poll}.
 *
 * Requests are serialised: at most one message that expects a reply from the
 * gateway is outstanding at any time. The spec requires this per procedure
 * (one REGISTER §6.5, one QoS 1/2 PUBLISH §6.6, one SUBSCRIBE/UNSUBSCRIBE
 * §6.9); serialising all of them keeps one retry timer (§6.13) and costs
 * nothing on a link where every exchange is a round trip anyway. Requests wait
 * in a fixed {@link MessageQueue} already encoded, so a retransmission sends
 * the stored bytes again (with DUP set) instead of re-encoding them.
 *
 * Where the spec leaves a choice, this client:
 * - keeps alive (§6.11) by sending PINGREQ when nothing was sent for the
 *   keep-alive period and nothing is outstanding (an outstanding request is
 *   supervised by its own retries);
 * - after N_RETRY (§6.13) reports the failed request, drops the gateway from
 *   its list and connects to the next listed one, else the configured one,
 *   else searches (SEARCHGW); other queued requests wait for the new session;
 * - drops a gateway that sent no ADVERTISE for (N_ADV + ½) × T_ADV (§6.1),
 *   failing over when it is the one in use;
 * - on "rejected: congestion" (§6.5, §6.6, §6.9) keeps the request and sends
 *   it again after T_WAIT, sending no other request meanwhile;
 * - on PUBACK "invalid topic ID" (§6.6) forgets the topic id; a QoS 1/2
 *   message on a registered name is registered again and resent once as a
 *   new PUBLISH (a gateway that restarted knows no ids; new MsgId, reported
 *   under the first), and fails only if that is rejected too; the next
 *   publish on the name registers it again;
 * - forgets normal topic ids and inbound QoS 2 ids when a CONNACK starts a
 *   clean session or a session with another gateway (§6.3), keeps them else;
 *   after a lost connection (an unsolicited DISCONNECT, §6.12: the gateway
 *   could not tell who we are; or no answer, §6.13) the gateway may have
 *   restarted, so topic ids and subscriptions start over there too (a kept
 *   session returns the same ids), inbound QoS 2 ids are kept;
 * - ignores a DISCONNECT while asleep (a late second answer to its own);
 *   in such a new session it subscribes again to everything in its
 *   subscription table (a fixed table: `subscribe` adds, `unsubscribe`
 *   removes), except what is still queued to be sent; topic ids are
 *   registered again when next needed, as always;
 * - delivers an inbound QoS 2 message on PUBLISH and remembers its MsgId until
 *   PUBREL (exactly once); with no room to remember it, it does not answer;
 * - treats a 2-character ASCII name without wildcards as a short topic (§6.7);
 * - ignores session messages from any peer but the gateway in use;
 * - answers another client's SEARCHGW with a GWINFO naming a gateway it knows
 *   first-hand (GwId and GwAdd, the address taken when it was heard) after a
 *   random delay of up to T_GWINFO, unless a GWINFO is heard first, and not
 *   while asleep; takes a gateway from another client's GWINFO as second-hand
 *   news (§6.1), which never refreshes a known one; both when its transport
 *   turns peers into GwAdd octets and back (`addressOf` / `peerAt`: the IP
 *   adapters do);
 *
 * Four features are compile-time switches (`src/flags.ts`), all on unless a
 * device build turns them off (the "standard" profile of scripts/build.ts
 * turns off all four): QoS 2 (`FIELDMQ_SN_QOS2`), sleep (`FIELDMQ_SN_SLEEP`),
 * gateway discovery and failover (`FIELDMQ_SN_DISCOVERY`; without it the
 * `gateway` option is the only gateway) and the Will (`FIELDMQ_SN_WILL`).
 * Their methods stay in every build and answer {@link Status.Unsupported}
 * when compiled out. Private members end in `_`: the device build shortens
 * those names.
 */
import { Status } from '../core/status';
import { elapsed } from '../core/clock';
import { writeU16 } from '../core/bytes';
import { utf8Decode, utf8Length } from '../core/utf8';
import { MessageQueue } from '../core/queue';
import { BROADCAST, type DatagramTransport } from '../transport';
import { MsgType, ReturnCode, TopicIdType } from './constants';
import { SnMessage } from './message';
import { decodeMessage } from './decode';
import { encodeMessage, messageSize } from './encode';
import { GW_ADD_MAX, SnGateways, SnTopics, snIdIndex, snShortName, snTag, snTagTopic } from './state';
import type {} from '../flags';

/** Where the client is (compare MQTT-SN 1.2 §6.14, Fig. 4, seen from the client). */
export const enum SnState {
  /** No session and none wanted. */
  Disconnected = 0,
  /** A session is wanted but no gateway is known: SEARCHGW is running (§6.1). */
  Searching = 1,
  /** CONNECT (and the Will flow) in progress (§6.2). */
  Connecting = 2,
  /** Connected: requests flow, keep-alive runs (§6.11). */
  Active = 3,
  /** Asleep (§6.14): the gateway buffers messages; the client wakes after the sleep duration. */
  Asleep = 4,
  /** Awake (§6.14): PINGREQ with the ClientId sent, buffered messages arriving until PINGRESP. */
  Awake = 5,
  /** DISCONNECT sent, to end the session or (with a duration) to go to sleep (§6.12, §6.14). */
  Disconnecting = 6,
}

/** The Will (MQTT-SN 1.2 §6.2–§6.4). */
export interface SnWill {
  /** Will topic name. */
  topic: string;
  /** Will message; the client keeps a reference, it does not copy it. */
  payload: Uint8Array | string;
  /** 0, 1 or 2. */
  qos: number;
  retain: boolean;
}

/** Options of {@link SnClient}; only `transport` and `clientId` are required. */
export interface SnClientOptions {
  /** The datagram link; it must be open (or opening). */
  transport: DatagramTransport;
  /** ClientId sent in CONNECT and in the wake-up PINGREQ (§5.3.1, §6.14). */
  clientId: string;
  /** Keep-alive in seconds (CONNECT Duration, §6.11); 0 disables PINGREQ. Default 60. */
  keepAlive?: number;
  /** CleanSession flag of CONNECT (§6.3). Default true. */
  cleanSession?: boolean;
  /** Will data, sent when the gateway prompts for it (§6.2). */
  will?: SnWill | null;
  /** Pre-defined topics `[topicName, topicId]` known to both sides (§6.7). */
  predefined?: [string, number][] | null;
  /** Topic table entries, pre-defined ones included (1..254). Default 8. */
  maxTopics?: number;
  /** Subscriptions kept to be renewed in a new session (see {@link SnClient.subscribe}). Default 8. */
  maxSubscriptions?: number;
  /** Requests that can be queued (PUBLISH QoS 0–2, SUBSCRIBE, UNSUBSCRIBE, REGISTER, Will updates). Default 4. */
  maxInflight?: number;
  /** Inbound QoS 2 message ids remembered until PUBREL. Default 4. */
  maxInbound?: number;
  /** Gateways remembered (§6.1). Default 4. */
  maxGateways?: number;
  /** Largest MQTT-SN message sent or received, in octets. Default 128. */
  packetSize?: number;
  /** T_RETRY in ms (§6.13; §7.2 advises 10–15 s). Default 10000. */
  tRetry?: number;
  /** N_RETRY (§6.13; §7.2 advises 3–5). Default 3. */
  nRetry?: number;
  /** T_WAIT in ms after a "rejected: congestion" (§6.5, §6.6, §6.9; §7.2: over 5 min). Default 300000. */
  tWait?: number;
  /** T_SEARCHGW in ms (§6.1; §7.2: 5 s): the random delay before the first SEARCHGW and the first back-off. Default 5000. */
  tSearchGw?: number;
  /** N_ADV (§6.1; §7.2: 2–3): ADVERTISEs a gateway may miss before it is dropped. Default 2. */
  nAdv?: number;
  /** Broadcast radius of SEARCHGW (§5.3.9; 0 = whole network). Default 1. */
  radius?: number;
  /** T_GWINFO in ms (§6.1; §7.2: 5 s): the random delay before answering another client's SEARCHGW. Default 5000. */
  tGwInfo?: number;
  /** Peer handle of a gateway known in advance: used first and whenever no other is known. */
  gateway?: number;
  /** Random numbers in [0, 1) for the SEARCHGW and GWINFO delays. Default `Math.random`. */
  random?: (() => number) | null;
  /** CONNACK arrived: 0 accepted, else the rejection ReturnCode (§6.2). */
  onConnect?: ((returnCode: number) => void) | null;
  /**
   * An application message from the gateway (§6.10). `topicName` is null for a
   * short topic (its two octets are `topicId`, big-endian). The payload is
   * `buf[off..off+len)`, valid only during the call.
   */
  onMessage?:
    | ((
        topicName: string | null,
        topicId: number,
        topicIdType: number,
        buf: Uint8Array,
        off: number,
        len: number,
        qos: number,
        retain: boolean,
      ) => void)
    | null;
  /**
   * A QoS 1/2 PUBLISH ended: `returnCode` 0 when acknowledged, a ReturnCode
   * (> 0) when the gateway or the registration rejected it, or a negative
   * {@link Status} (Timeout: no answer after N_RETRY retransmissions). Also
   * called with `msgId` 0 for a QoS 0 message dropped because its topic
   * could not be registered.
   */
  onPublished?: ((msgId: number, returnCode: number) => void) | null;
  /** A {@link SnClient.register} ended: the topic id, or 0 with the ReturnCode / negative Status. */
  onRegister?: ((topicName: string, topicId: number, returnCode: number) => void) | null;
  /**
   * SUBSCRIBE, UNSUBSCRIBE, WILLTOPICUPD or WILLMSGUPD ended (`type` is the
   * request's MsgType): `returnCode` 0, a rejection code, or a negative Status;
   * for SUBSCRIBE the topic id (0 for a wildcard filter, §6.9) and granted QoS.
   */
  onAck?: ((type: number, msgId: number, returnCode: number, topicId: number, qos: number) => void) | null;
  /** Now asleep (DISCONNECT with duration acknowledged, or PINGRESP ended an awake period, §6.14). */
  onSleep?: (() => void) | null;
  /** Woke up: PINGREQ with the ClientId sent (§6.14). */
  onWake?: (() => void) | null;
  /** A gateway was added to the list (`up`) or dropped from it after N_ADV missed ADVERTISEs (§6.1). */
  onGateway?: ((gwId: number, handle: number, up: boolean) => void) | null;
  /**
   * Something went wrong, the client carries on: Timeout (gateway lost, §6.13),
   * Closed (DISCONNECT from the gateway, §6.12), Full (no room for a
   * gateway-assigned topic), or the decode status of a dropped datagram.
   */
  onError?: ((status: number) => void) | null;
}

/**
 * An MQTT-SN 1.2 client. Methods never throw and return a number: `>= 0` on
 * success, a negative {@link Status} on failure. All I/O and timing happen in
 * {@link SnClient.poll}; call it often (and after data arrives). Callbacks run
 * inside `poll` and may call any method except `poll`.
 *
 * @example
 * ```ts
 * const c = new SnClient({ transport: udp, clientId: 'node1', keepAlive: 60,
 *   onConnect: (rc) => { if (rc === 0) c.subscribe('cmd/#', 1); },
 *   onMessage: (name, id, type, buf, off, len) => handle(name, buf, off, len) });
 * c.connect();
 * setInterval(() => c.poll(clock.now()), 50); // clock: the platform Clock
 * c.publish('sensors/t', '21.5', 1, false);
 * ```
 */
export class SnClient {
  /** Datagrams dropped because they did not decode (MQTT-SN 1.2 §5). */
  dropped: number;

  private o_: SnClientOptions;
  private x_: DatagramTransport;
  private rx_: Uint8Array;
  private tx_: Uint8Array;
  /** The decoded inbound message. */
  private mi_: SnMessage;
  /** The outbound message being encoded. */
  private mo_: SnMessage;
  /** Queued requests, encoded; the head is the one being worked on. */
  private q_: MessageQueue;
  private tp_: SnTopics;
  /** Subscription table: the topic of each subscription (null: free entry); it grows up to `sx_.length` entries. */
  private sb_: (string | number | null)[];
  /** Per subscription: its QoS (bits 16–17) and the MsgId of its last SUBSCRIBE (bits 0–15; 0: to be sent again). */
  private sx_: Uint32Array;
  /** Known gateways (discovery only). */
  private gw_!: SnGateways;
  /** Inbound QoS 2 message ids awaiting PUBREL (QoS 2 only). */
  private r2_!: Uint16Array;
  // Settings (ms unless noted).
  private tr_: number;
  private nr_: number;
  private tw_: number;
  private ts_: number;
  private ka_: number;
  private na_: number;
  private cs_: boolean;
  /** Will topic (null: none), payload, QoS, retain. */
  private wt_: string | null;
  private wp_: Uint8Array | string;
  private wq_: number;
  private wr_: boolean;
  // Session.
  private st_: SnState;
  /** Current gateway handle, or -1. */
  private g_: number;
  /** Configured gateway handle, or -1. */
  private cfg_: number;
  /** Gateway of the last accepted session, or -1. */
  private lg_: number;
  /** MsgType of the outstanding request (0: none). */
  private k_: number;
  /** MsgId the outstanding request waits for. */
  private wm_: number;
  /** MsgId the head PUBLISH was resent under after "invalid topic ID" (0: none), and its first MsgId. */
  private rr_: number;
  private ro_: number;
  /** The connection was lost: the next CONNACK renews topic ids and subscriptions. */
  private rs_: boolean;
  /** Retransmissions of the outstanding request so far. */
  private rn_: number;
  /** When the outstanding request was last sent. */
  private rt_: number;
  /** When anything was last sent to the gateway (keep-alive). */
  private lt_: number;
  /** T_WAIT hold: start time, or -1. */
  private hw_: number;
  /** Sleep duration (s) requested or in force; 0 for a plain DISCONNECT. */
  private sd_: number;
  /** When the current asleep period began. */
  private sa_: number;
  /** Last MsgId used. */
  private mid_: number;
  /** The time of the current poll. */
  private now_: number;
  // Discovery.
  private sg_: boolean;
  private sn_: number;
  private ss_: number;
  private sdl_: number;
  /** SEARCHGW radius. */
  private rad_: number;
  /** GWINFO answer to another client's SEARCHGW: when its delay began (-1: none), the delay, its radius; T_GWINFO. */
  private ga_: number;
  private gad_: number;
  private grd_: number;
  private tgi_: number;

  /** Builds the client and allocates every buffer and table it will use. Throws only on impossible sizes. */
  constructor(o: SnClientOptions) {
    const size = o.packetSize || 128;
    const p = o.predefined || [];
    const w = o.will;
    this.o_ = o;
    this.x_ = o.transport;
    this.rx_ = new Uint8Array(size);
    this.tx_ = new Uint8Array(size);
    this.mi_ = new SnMessage();
    this.mo_ = new SnMessage();
    this.q_ = new MessageQueue(o.maxInflight || 4, size);
    this.tp_ = new SnTopics(o.maxTopics || 8);
    this.sb_ = [];
    this.sx_ = new Uint32Array(o.maxSubscriptions || 8);
    if (globalThis.FIELDMQ_SN_DISCOVERY !== false) this.gw_ = new SnGateways(o.maxGateways || 4);
    if (globalThis.FIELDMQ_SN_QOS2 !== false) this.r2_ = new Uint16Array(o.maxInbound || 4);
    this.tr_ = o.tRetry || 10000;
    this.nr_ = o.nRetry ?? 3;
    this.tw_ = o.tWait ?? 300000;
    this.ts_ = o.tSearchGw ?? 5000;
    this.ka_ = (o.keepAlive ?? 60) * 1000;
    this.na_ = o.nAdv || 2;
    this.cs_ = o.cleanSession ?? true;
    this.rad_ = o.radius ?? 1;
    this.tgi_ = o.tGwInfo ?? 5000;
    this.ga_ = -1;
    this.gad_ = this.grd_ = 0;
    this.wt_ = globalThis.FIELDMQ_SN_WILL !== false && w ? w.topic : null;
    this.wp_ = w ? w.payload : '';
    this.wq_ = w ? w.qos : 0;
    this.wr_ = w ? w.retain : false;
    this.g_ = this.cfg_ = o.gateway ?? -1;
    this.st_ = SnState.Disconnected;
    this.dropped = this.k_ = this.wm_ = this.rr_ = this.ro_ = this.rn_ = this.rt_ = this.lt_ = this.sd_ = this.sa_ = this.mid_ = 0;
    this.now_ = this.sn_ = this.ss_ = this.sdl_ = 0;
    this.hw_ = this.lg_ = -1;
    this.sg_ = this.rs_ = false;
    for (let i = 0; i < p.length; i++) this.tp_.add(p[i][0], p[i][1], TopicIdType.Predefined, this.q_);
  }

  /** Where the client is: a {@link SnState}. */
  state(): number {
    return this.st_;
  }

  /** Peer handle of the gateway in use (or last used), or -1. */
  gateway(): number {
    return this.g_;
  }

  /**
   * Starts connecting (MQTT-SN 1.2 §6.2): to the current or configured gateway,
   * else to the first known one, else after a SEARCHGW (§6.1). From Asleep or
   * Awake this returns the client to Active (§6.14). The result arrives in
   * `onConnect`. Returns {@link Status.Ok}, or {@link Status.IllegalState}
   * when already Active or Disconnecting, or when no gateway is known in a
   * build without discovery (`FIELDMQ_SN_DISCOVERY`: give `gateway`).
   */
  connect(): number {
    const s = this.st_;
    if (s === SnState.Active || s === SnState.Disconnecting) return Status.IllegalState;
    if (s < SnState.Connecting) this.pick_();
    if (globalThis.FIELDMQ_SN_DISCOVERY === false && this.g_ < 0) return Status.IllegalState;
    this.k_ = 0;
    this.go_();
    return Status.Ok;
  }

  /**
   * Ends the session with DISCONNECT (§6.12); a session not yet established is
   * dropped at once. Queued requests stay queued for the next connection.
   * Returns {@link Status.Ok}.
   */
  disconnect(): number {
    this.ga_ = -1;
    if (this.st_ < SnState.Active) {
      this.st_ = SnState.Disconnected;
      this.sg_ = false;
      this.k_ = 0;
    } else this.bye_(0);
    return Status.Ok;
  }

  /**
   * Goes to sleep for `duration` seconds (1..65535) with DISCONNECT(duration)
   * (§6.14); while asleep the client wakes every `duration` seconds to fetch
   * what the gateway buffered. Also changes the duration while asleep.
   * Returns {@link Status.Ok}, {@link Status.BadParameter},
   * {@link Status.IllegalState} (no session) or {@link Status.Unsupported}
   * (a build without sleep, `FIELDMQ_SN_SLEEP`).
   */
  sleep(duration: number): number {
    if (globalThis.FIELDMQ_SN_SLEEP !== false) {
      if (!(duration >= 1 && duration <= 65535)) return Status.BadParameter;
      if (this.st_ < SnState.Active) return Status.IllegalState;
      this.bye_(duration);
      return Status.Ok;
    }
    return Status.Unsupported;
  }

  /**
   * Broadcasts SEARCHGW (§6.1) after a random delay of up to T_SEARCHGW, then
   * again with exponential back-off until a GWINFO or ADVERTISE arrives.
   * Returns {@link Status.Ok}, or {@link Status.Unsupported} in a build
   * without discovery (`FIELDMQ_SN_DISCOVERY`).
   */
  searchGateway(): number {
    if (globalThis.FIELDMQ_SN_DISCOVERY !== false) {
      if (!this.sg_) {
        this.sg_ = true;
        this.sn_ = 0;
        this.ss_ = -1; // the delay starts at the next poll
        this.sdl_ = ((this.o_.random || Math.random)() * this.ts_) | 0;
      }
      return Status.Ok;
    }
    return Status.Unsupported;
  }

  /**
   * Registers `topicName` with the gateway (REGISTER/REGACK, §6.5); the result
   * arrives in `onRegister`. Publishing by name registers by itself, so this
   * is only needed to learn the id early. Returns {@link Status.Ok}, or
   * {@link Status.Full} (queue or topic table) or {@link Status.IllegalState}
   * (Disconnected).
   */
  register(topicName: string): number {
    if (!this.st_) return Status.IllegalState;
    const i = this.name_(topicName);
    // A marker with no bytes: the REGISTER itself is built when it is sent.
    return i < 0 ? i : this.q_.commit(0, snTag(MsgType.REGISTER, 0, i));
  }

  /**
   * Publishes `payload` (§6.6, §6.7, §6.8). `topic` is
   * - a number: a pre-defined topic id;
   * - a 2-character ASCII string without wildcards: a short topic name;
   * - any other string: a topic name, sent as its pre-defined id when it is
   *   one, else as its registered id — registered first when needed (§6.5),
   *   the message waiting in the queue meanwhile.
   *
   * QoS -1 (§6.8) needs no connection, only a gateway (configured or known),
   * and only pre-defined or short topics; it is sent at once. QoS 0–2 are
   * queued and sent by {@link SnClient.poll} while Active; only one QoS 1/2
   * message is in flight at a time (§6.6) and its end is reported by
   * `onPublished`.
   *
   * @returns the MsgId (QoS 1/2), 0 (QoS 0/-1), or
   *   {@link Status.BadParameter} (QoS, or QoS -1 with a topic name),
   *   {@link Status.IllegalState} (Disconnected; QoS -1: no gateway known),
   *   {@link Status.Full} (queue or topic table full), {@link Status.TooLarge}
   *   (more than `packetSize`), {@link Status.Unsupported} (QoS 2 in a build
   *   without it, `FIELDMQ_SN_QOS2`), or an encoding status.
   */
  publish(topic: string | number, payload: Uint8Array | string, qos: number, retain: boolean): number {
    const m = this.mo_;
    let i = -1;
    if (globalThis.FIELDMQ_SN_QOS2 === false && qos > 1) return Status.Unsupported;
    if (typeof topic === 'string' && !snShortName(topic)) {
      i = this.tp_.find(topic, TopicIdType.Predefined);
      if (i < 0) {
        if (qos < 0) return Status.BadParameter;
        i = this.name_(topic);
        if (i < 0) return i;
      } else {
        topic = this.tp_.i[i];
        i = -1;
      }
    }
    this.top_(topic, MsgType.PUBLISH);
    m.qos = qos;
    m.retain = retain;
    this.pay_(payload);
    if (qos < 0) {
      const n = encodeMessage(m, this.tx_, 0);
      if (n < 0) return n;
      const h = this.pick_();
      if (h < 0) return Status.IllegalState;
      this.x_.sendTo(this.tx_, 0, n, h, 0);
      return 0;
    }
    const id = qos > 0 ? this.id_() : 0;
    m.msgId = id;
    const r = this.enq_(snTag(MsgType.PUBLISH, id, i));
    return r < 0 ? r : id;
  }

  /**
   * Subscribes (§6.9) to a topic filter (wildcards allowed: the gateway
   * REGISTERs each matching topic before publishing it, §6.10), a 2-character
   * short topic name, or a pre-defined topic id (a number). The SUBACK arrives
   * in `onAck`.
   *
   * The subscription is kept in a fixed table (`maxSubscriptions` entries)
   * until {@link SnClient.unsubscribe}: whenever a CONNACK starts a new
   * session (CleanSession, or another gateway after failover, §6.3) the client
   * subscribes again by itself, and reports each SUBACK in `onAck` as well.
   * Subscribing again to a topic in the table updates its entry (and its QoS).
   *
   * Returns the MsgId, or {@link Status.Full} (subscription table, topic
   * table or queue), {@link Status.IllegalState} (Disconnected),
   * {@link Status.BadParameter} (QoS), {@link Status.Unsupported} (QoS 2 in
   * a build without it) or an encoding status.
   */
  subscribe(topic: string | number, qos: number): number {
    const s = this.sb_;
    let j = s.indexOf(topic);
    let i = -1;
    if (globalThis.FIELDMQ_SN_QOS2 === false && qos > 1) return Status.Unsupported;
    if (j < 0) j = s.indexOf(null);
    if (j < 0) j = s.length;
    if (j >= this.sx_.length) return Status.Full;
    if (typeof topic === 'string' && !snShortName(topic) && topic.indexOf('+') < 0 && topic.indexOf('#') < 0) {
      i = this.name_(topic);
      if (i < 0) return i;
    }
    const r = this.sub_(topic, qos, MsgType.SUBSCRIBE, i);
    if (r > 0) {
      s[j] = topic;
      this.sx_[j] = (qos << 16) | r;
    }
    return r;
  }

  /**
   * Unsubscribes (§6.9) from what {@link SnClient.subscribe} took, and removes
   * it from the subscription table. Returns the MsgId or a negative Status;
   * the UNSUBACK arrives in `onAck`.
   */
  unsubscribe(topic: string | number): number {
    const j = this.sb_.indexOf(topic);
    const r = this.sub_(topic, 0, MsgType.UNSUBSCRIBE, -1);
    if (r > 0 && j >= 0) this.sb_[j] = null;
    return r;
  }

  /**
   * Replaces the Will topic at the gateway (WILLTOPICUPD, §6.4) and for later
   * CONNECTs; `topic` null deletes the Will topic and message. The answer
   * arrives in `onAck`. Returns {@link Status.Ok} or a negative Status
   * ({@link Status.Unsupported} in a build without the Will, `FIELDMQ_SN_WILL`).
   */
  willTopicUpdate(topic: string | null, qos: number, retain: boolean): number {
    if (globalThis.FIELDMQ_SN_WILL === false) return Status.Unsupported;
    const m = this.mo_;
    m.reset();
    m.type = MsgType.WILLTOPICUPD;
    m.hasFlags = !!topic;
    m.text = topic;
    m.qos = qos;
    m.retain = retain;
    const r = this.enq_(snTag(MsgType.WILLTOPICUPD, 0, -1));
    if (r >= 0) {
      this.wt_ = topic;
      this.wq_ = qos;
      this.wr_ = retain;
    }
    return r;
  }

  /** Replaces the Will message at the gateway (WILLMSGUPD, §6.4) and for later CONNECTs. Returns {@link Status.Ok} or a negative Status. */
  willMessageUpdate(payload: Uint8Array | string): number {
    if (globalThis.FIELDMQ_SN_WILL === false) return Status.Unsupported;
    const m = this.mo_;
    m.reset();
    m.type = MsgType.WILLMSGUPD;
    this.pay_(payload);
    const r = this.enq_(snTag(MsgType.WILLMSGUPD, 0, -1));
    if (r >= 0) this.wp_ = payload;
    return r;
  }

  /**
   * Does all the work at time `now` (uint32 ms, any origin): reads and handles
   * every waiting datagram, then runs the timers — ADVERTISE supervision and
   * SEARCHGW back-off (§6.1), retransmission (§6.13), sending queued requests,
   * keep-alive (§6.11) and the sleep cycle (§6.14).
   */
  poll(now: number): void {
    const x = this.x_;
    const rx = this.rx_;
    const o = this.o_;
    let n: number;
    this.now_ = now;
    while ((n = x.recv(rx, 0, rx.length)) > 0) {
      // A datagram holds exactly one message (§5.2).
      const r = decodeMessage(rx, 0, n, this.mi_);
      if (r === n) this.in_(x.from());
      else {
        this.dropped++;
        this.err_(r < 0 ? r : Status.Malformed);
      }
    }
    if (globalThis.FIELDMQ_SN_DISCOVERY !== false) this.discover_(now);
    if (this.k_ && elapsed(now, this.rt_) >= this.tr_) {
      if (this.rn_ < this.nr_) {
        this.rn_++;
        this.dup_();
        this.xmit_();
      } else this.fail_();
    }
    if (this.k_) return; // waiting for an answer
    const s = this.st_;
    if (s === SnState.Connecting) this.snd_(MsgType.CONNECT);
    else if (s === SnState.Disconnecting) this.snd_(MsgType.DISCONNECT);
    else if (globalThis.FIELDMQ_SN_SLEEP !== false && s === SnState.Asleep) {
      if (elapsed(now, this.sa_) >= this.sd_ * 1000) {
        // §6.14: wake up and ask for what the gateway buffered.
        this.st_ = SnState.Awake;
        if (o.onWake) o.onWake();
        this.snd_(MsgType.PINGREQ);
      }
    } else if (s === SnState.Active) {
      // Subscriptions to renew in this session (see CONNACK), as queue slots allow.
      const sb = this.sb_;
      const sx = this.sx_;
      for (let j = 0; j < sb.length; j++) {
        const t = sb[j];
        if (t !== null && !(sx[j] & 0xffff) && this.subscribe(t, sx[j] >> 16) < 0) break;
      }
      if (this.hw_ >= 0 && elapsed(now, this.hw_) >= this.tw_) this.hw_ = -1;
      while (!this.k_ && this.hw_ < 0 && this.q_.length) this.head_();
      if (!this.k_ && this.ka_ && elapsed(now, this.lt_) >= this.ka_) this.snd_(MsgType.PINGREQ);
    }
  }

  /**
   * Gateway discovery at time `now` (§6.1): drops a gateway that missed N_ADV
   * advertisements (after half a period more, for late delivery), and sends
   * SEARCHGW when its back-off delay is over.
   */
  private discover_(now: number): void {
    if (globalThis.FIELDMQ_SN_DISCOVERY === false) return;
    const gw = this.gw_;
    const o = this.o_;
    for (let i = gw.n; i--; ) {
      const d = gw.d[i];
      if (d && elapsed(now, gw.t[i]) > d * this.na_ + d / 2) {
        const h = gw.h[i];
        const id = gw.id[i];
        gw.del(i);
        if (o.onGateway) o.onGateway(id, h, false);
        if (h === this.g_) {
          if (this.st_) this.lost_();
          else this.g_ = -1;
        }
      }
    }
    if (this.sg_) {
      if (this.ss_ < 0) this.ss_ = now;
      if (elapsed(now, this.ss_) >= this.sdl_) {
        const m = this.mo_;
        const x = this.x_;
        m.reset();
        m.type = MsgType.SEARCHGW;
        m.radius = this.rad_;
        x.sendTo(this.tx_, 0, encodeMessage(m, this.tx_, 0), BROADCAST, this.rad_);
        this.searched_();
      }
    }
    if (this.ga_ >= 0 && elapsed(now, this.ga_) >= this.gad_) {
      this.ga_ = -1;
      this.gwInfo_();
    }
  }

  /**
   * Broadcasts GWINFO for another client's SEARCHGW (§5.4.3, §6.1): the
   * gateway in use if it was heard first-hand, else the first-hand one heard
   * last, with the address (GwAdd) taken when it was heard.
   */
  private gwInfo_(): void {
    if (globalThis.FIELDMQ_SN_DISCOVERY !== false) {
      const i = this.named_();
      if (i < 0) return;
      const gw = this.gw_;
      const m = this.mo_;
      m.reset();
      m.type = MsgType.GWINFO;
      m.gwId = gw.id[i];
      m.data = gw.a;
      m.dataOffset = i * GW_ADD_MAX;
      m.dataLength = gw.al[i];
      const len = encodeMessage(m, this.tx_, 0);
      if (len < 0) this.err_(len);
      else this.x_.sendTo(this.tx_, 0, len, BROADCAST, this.grd_);
    }
  }

  /** The gateway list entry a GWINFO answer names (first-hand, with an address), or -1. */
  private named_(): number {
    const gw = this.gw_;
    let i = gw.at(this.g_);
    if (i >= 0 && (gw.r[i] || !gw.al[i])) i = -1;
    if (i < 0) for (let j = 0; j < gw.n; j++) if (!gw.r[j] && gw.al[j] && (i < 0 || ((gw.t[j] - gw.t[i]) | 0) > 0)) i = j;
    return i;
  }

  // ---- inbound ----------------------------------------------------------

  /** Handles the decoded message {@link SnClient.mi_} from peer `h`. */
  private in_(h: number): void {
    const m = this.mi_;
    const t = m.type;
    const o = this.o_;
    const id = m.msgId;
    const k = this.k_;
    const s = this.st_;
    const tp = this.tp_;
    const q = this.q_;
    let rc = m.returnCode;
    if (globalThis.FIELDMQ_SN_DISCOVERY !== false && (t === MsgType.ADVERTISE || t === MsgType.GWINFO)) {
      // §6.1: any GWINFO cancels our own answer to a SEARCHGW.
      if (t === MsgType.GWINFO) this.ga_ = -1;
      const gw = this.gw_;
      const x = this.x_;
      const n = gw.n;
      let e: number;
      if (t === MsgType.GWINFO && m.dataLength) {
        // From another client: it names the gateway by its address (GwAdd), second-hand.
        h = x.peerAt ? x.peerAt(m.data!, m.dataOffset, m.dataLength) : -1;
        if (h < 0) return;
        e = gw.relayed(m.gwId, h, this.now_);
      } else e = gw.heard(m.gwId, h, t ? -1 : m.duration * 1000, this.now_);
      // Its address for our own GWINFO answers, taken now: the handle may later name another peer.
      if (e >= 0 && !gw.al[e] && x.addressOf) {
        const k = x.addressOf(h, gw.a, e * GW_ADD_MAX, GW_ADD_MAX);
        gw.al[e] = k > 0 ? k : 0;
      }
      if (gw.n > n && o.onGateway) o.onGateway(m.gwId, h, true);
      this.sg_ = false;
      if (s === SnState.Searching) {
        this.g_ = h;
        this.st_ = SnState.Connecting;
      }
      return;
    }
    if (globalThis.FIELDMQ_SN_DISCOVERY !== false && t === MsgType.SEARCHGW) {
      // §6.1: another client's identical SEARCHGW counts as our own.
      if (this.sg_ && m.radius === this.rad_) this.searched_();
      // §6.1: a client with an active gateway answers with GWINFO after a random delay of up to
      // T_GWINFO (not while asleep: its radio would be off), with the widest radius asked.
      if (s !== SnState.Asleep && s !== SnState.Awake && this.named_() >= 0) {
        if (this.ga_ < 0) {
          this.ga_ = this.now_;
          this.gad_ = ((this.o_.random || Math.random)() * this.tgi_) | 0;
          this.grd_ = m.radius;
        } else if (!m.radius || (this.grd_ && m.radius > this.grd_)) this.grd_ = m.radius; // 0: the whole network (§5.3.9)
      }
      return;
    }
    // Everything else is session traffic: only from the gateway in use.
    if (h !== this.g_) return;
    // §6.14: while awake, anything but PINGRESP restarts T_RETRY.
    if (globalThis.FIELDMQ_SN_SLEEP !== false && s === SnState.Awake) this.rt_ = this.now_;
    switch (t) {
      case MsgType.CONNACK:
        if (s === SnState.Connecting && k) {
          this.k_ = 0;
          if (rc) this.st_ = SnState.Disconnected;
          else {
            this.st_ = SnState.Active;
            if (globalThis.FIELDMQ_SN_DISCOVERY !== false) {
              // A gateway that accepted us is known first-hand, however we learned of it.
              const e = this.gw_.at(this.g_);
              if (e >= 0) this.gw_.r[e] = 0;
            }
            // §6.3: a new session (or another gateway) forgets topic ids and inbound QoS 2 state.
            // After a lost connection (unsolicited DISCONNECT, or no answer) the gateway may have
            // restarted and lost everything: topic ids and subscriptions start over too (a kept
            // session gives the same ids back and takes a repeated SUBSCRIBE), the inbound QoS 2
            // ids stay (a kept session may send an unreleased QoS 2 message again).
            const fresh = this.cs_ || this.g_ !== this.lg_;
            if (fresh || this.rs_) {
              tp.reset();
              if (globalThis.FIELDMQ_SN_QOS2 !== false && fresh) this.r2_.fill(0);
              // The gateway has none of our subscriptions: each is sent again
              // (by poll) unless its SUBSCRIBE is still queued.
              const sx = this.sx_;
              for (let j = 0; j < sx.length; j++) if (q.findTag(0xffffff, (MsgType.SUBSCRIBE << 16) | (sx[j] & 0xffff)) < 0) sx[j] &= 0x30000;
            }
            this.rs_ = false;
            this.lg_ = this.g_;
          }
          if (o.onConnect) o.onConnect(rc);
        }
        break;
      case MsgType.WILLTOPICREQ:
      case MsgType.WILLMSGREQ:
        // §6.2: answered with WILLTOPIC / WILLMSG, the next type up.
        if (globalThis.FIELDMQ_SN_WILL !== false && s === SnState.Connecting) this.snd_(t + 1);
        break;
      case MsgType.REGISTER: {
        // §6.10: the gateway names a topic id it will publish with. One string
        // per registration (never per message); a full table refuses it.
        const i = this.name_(utf8Decode(this.rx_, m.dataOffset, m.dataOffset + m.dataLength));
        rc = 0;
        if (i < 0) {
          rc = ReturnCode.Congestion;
          this.err_(i);
        } else tp.i[i] = m.topicId;
        this.ack_(MsgType.REGACK, m.topicId, id, rc);
        break;
      }
      case MsgType.PUBLISH:
        this.pub_();
        break;
      case MsgType.PUBREL:
        if (globalThis.FIELDMQ_SN_QOS2 !== false) {
          const i = snIdIndex(this.r2_, id);
          if (i >= 0) this.r2_[i] = 0;
          this.ack_(MsgType.PUBCOMP, 0, id, 0);
        }
        break;
      case MsgType.PINGREQ:
        this.ack_(MsgType.PINGRESP, 0, 0, 0);
        break;
      case MsgType.PINGRESP:
        if (k === MsgType.PINGREQ) {
          this.k_ = 0;
          if (globalThis.FIELDMQ_SN_SLEEP !== false && s === SnState.Awake) this.zz_();
        }
        break;
      case MsgType.DISCONNECT:
        if (s === SnState.Disconnecting) {
          // Our DISCONNECT answered (or crossed by the gateway's own: same end).
          this.k_ = 0;
          if (globalThis.FIELDMQ_SN_SLEEP !== false && this.sd_) this.zz_();
          else this.st_ = SnState.Disconnected;
        } else if (s > SnState.Connecting && s !== SnState.Asleep) {
          // §6.12: unsolicited DISCONNECT: set the connection up again. The gateway could not
          // tell who we are (it may have restarted): the next CONNACK renews topic ids and
          // subscriptions. (Asleep: a late second answer to our sleeping DISCONNECT.)
          this.err_(Status.Closed);
          this.dup_();
          this.k_ = 0;
          this.rs_ = true;
          this.st_ = SnState.Connecting;
        }
        break;
      case MsgType.PUBACK:
        // §6.6: a rejection may answer a PUBLISH of any QoS.
        if (rc === ReturnCode.InvalidTopicId) {
          const i = tp.byId(m.topicId, TopicIdType.Normal);
          if (i >= 0) tp.i[i] = 0; // register again before the next use
          if (i >= 0 && k === MsgType.PUBLISH && id === this.wm_ && this.rr_ !== id && snTagTopic(q.tagAt(0)) === i) {
            // The gateway no longer knows the id (it restarted, say) and did not take the
            // message: register the name again and resend it, once, as a new PUBLISH (new
            // MsgId, no DUP: a late rejection of an earlier copy cannot fail it), reported
            // under the MsgId `publish` returned.
            const nid = this.id_();
            this.ro_ = id;
            this.rr_ = nid;
            q.setTagAt(0, snTag(MsgType.PUBLISH, nid, i));
            const off = q.offsetAt(0);
            const h = q.data[off] === 1 ? 3 : 1; // MsgType's offset
            q.data[off + h + 1] &= 0x7f;
            writeU16(q.data, off + h + 4, nid);
            this.k_ = 0;
            this.head_();
            break;
          }
        }
        if (rc === ReturnCode.Congestion) this.hold_(k === MsgType.PUBLISH && id === this.wm_);
        else if (k === MsgType.PUBLISH && id === this.wm_) this.done_(rc);
        break;
      case MsgType.PUBREC:
        if (globalThis.FIELDMQ_SN_QOS2 !== false && (k === MsgType.PUBLISH || k === MsgType.PUBREL) && id === this.wm_) {
          q.setTagAt(0, snTag(MsgType.PUBREL, id, -1));
          this.snd_(MsgType.PUBREL);
        }
        break;
      case MsgType.REGACK:
        if (k === MsgType.REGISTER && id === this.wm_) {
          if (rc === ReturnCode.Congestion) this.hold_(true);
          else if (rc || !m.topicId) this.done_(rc || ReturnCode.NotSupported);
          else {
            tp.i[snTagTopic(q.tagAt(0))] = m.topicId;
            this.k_ = 0;
            this.head_(); // the message that waited for the id, or the register() result
          }
        }
        break;
      default:
        // PUBCOMP, SUBACK, UNSUBACK, WILLTOPICRESP, WILLMSGRESP: each answers
        // the request type just below it (SUBSCRIBE, UNSUBSCRIBE, WILLTOPICUPD,
        // WILLMSGUPD), PUBCOMP answers PUBREL; the Will responses carry no MsgId.
        // (A type below PUBCOMP, SEARCHGW say in a build without discovery, answers nothing.)
        if (t >= MsgType.PUBCOMP && (t === MsgType.PUBCOMP ? k === MsgType.PUBREL : k === t - 1) && (t > MsgType.UNSUBACK || id === this.wm_)) {
          if (rc === ReturnCode.Congestion && t === MsgType.SUBACK) this.hold_(true);
          else {
            const i = snTagTopic(q.tagAt(0));
            if (t === MsgType.SUBACK && !rc && i >= 0 && m.topicId) tp.i[i] = m.topicId;
            this.done_(rc);
          }
        }
    }
  }

  /** An inbound PUBLISH (§6.10): resolve the topic, deliver once, acknowledge. */
  private pub_(): void {
    const m = this.mi_;
    const tt = m.topicIdType;
    const tid = m.topicId;
    const id = m.msgId;
    let name: string | null = null;
    if (tt !== TopicIdType.Short) {
      const i = this.tp_.byId(tid, tt);
      if (i < 0) {
        // §6.7, §6.10: unknown topic id.
        this.ack_(MsgType.PUBACK, tid, id, ReturnCode.InvalidTopicId);
        return;
      }
      name = this.tp_.n[i];
    }
    if (m.qos === 2) {
      if (globalThis.FIELDMQ_SN_QOS2 !== false) {
        // Exactly once: a MsgId still awaiting PUBREL is a duplicate. With no
        // room to remember it, answer nothing: the gateway retransmits later.
        const r2 = this.r2_;
        if (snIdIndex(r2, id) < 0) {
          const j = snIdIndex(r2, 0);
          if (j < 0) return;
          r2[j] = id;
          this.msg_(name);
        }
        this.ack_(MsgType.PUBREC, 0, id, 0);
      } else this.err_(Status.Unsupported); // not subscribed at QoS 2 by this build: dropped
    } else {
      this.msg_(name);
      if (m.qos === 1) this.ack_(MsgType.PUBACK, tid, id, 0);
    }
  }

  /** Calls onMessage with the inbound PUBLISH. */
  private msg_(name: string | null): void {
    const m = this.mi_;
    const f = this.o_.onMessage;
    if (f) f(name, m.topicId, m.topicIdType, this.rx_, m.dataOffset, m.dataLength, m.qos, m.retain);
  }

  // ---- outbound ---------------------------------------------------------

  /** Sends a reply that expects none (PUBACK, PUBREC, PUBCOMP, REGACK, PINGRESP). */
  private ack_(t: number, tid: number, id: number, rc: number): void {
    const m = this.mo_;
    m.reset();
    m.type = t;
    m.topicId = tid;
    m.msgId = id;
    m.returnCode = rc;
    this.put_();
  }

  /** Encodes {@link SnClient.mo_} into the tx buffer and sends it to the gateway. */
  private put_(): void {
    const n = encodeMessage(this.mo_, this.tx_, 0);
    if (n > 0) this.raw_(this.tx_, 0, n);
    else this.err_(n);
  }

  private raw_(b: Uint8Array, off: number, n: number): void {
    this.x_.sendTo(b, off, n, this.g_, 0);
    this.lt_ = this.now_;
  }

  /** Makes `t` the outstanding request and sends it. */
  private snd_(t: number): void {
    this.k_ = t;
    this.rn_ = 0;
    this.xmit_();
  }

  /** (Re)sends the outstanding request: from its queue slot, or encoded from the client's state. */
  private xmit_(): void {
    const k = this.k_;
    const m = this.mo_;
    const q = this.q_;
    this.rt_ = this.now_;
    if (this.qd_(k)) {
      const off = q.offsetAt(0);
      this.raw_(q.data, off, q.lengthAt(0));
      return;
    }
    m.reset();
    m.type = k;
    m.msgId = this.wm_;
    if (k === MsgType.CONNECT) {
      m.will = !!this.wt_;
      m.cleanSession = this.cs_;
      m.duration = this.ka_ / 1000;
      m.text = this.o_.clientId;
    } else if (globalThis.FIELDMQ_SN_WILL !== false && k === MsgType.WILLTOPIC) {
      m.hasFlags = !!this.wt_;
      m.text = this.wt_;
      m.qos = this.wq_;
      m.retain = this.wr_;
    } else if (globalThis.FIELDMQ_SN_WILL !== false && k === MsgType.WILLMSG) this.pay_(this.wp_);
    else if (k === MsgType.PINGREQ) {
      if (globalThis.FIELDMQ_SN_SLEEP !== false && this.st_ === SnState.Awake) m.text = this.o_.clientId;
    } else if (globalThis.FIELDMQ_SN_SLEEP !== false && k === MsgType.DISCONNECT) {
      m.hasDuration = !!this.sd_;
      m.duration = this.sd_;
    } else if (k === MsgType.REGISTER) m.text = this.tp_.n[snTagTopic(q.tagAt(0))];
    this.put_();
  }

  /** True when request type `k` is sent from the head queue slot. */
  private qd_(k: number): boolean {
    return (
      k === MsgType.PUBLISH ||
      k === MsgType.SUBSCRIBE ||
      k === MsgType.UNSUBSCRIBE ||
      k === MsgType.WILLTOPICUPD ||
      k === MsgType.WILLMSGUPD
    );
  }

  /** Sets DUP in the stored head message when it is a PUBLISH or SUBSCRIBE being sent again (§5.3.4). */
  private dup_(): void {
    const k = this.k_;
    if (k === MsgType.PUBLISH || k === MsgType.SUBSCRIBE) {
      const q = this.q_;
      const off = q.offsetAt(0);
      q.data[off + (q.data[off] === 1 ? 4 : 2)] |= 0x80;
    }
  }

  /** Starts work on the head of the queue (Active, nothing outstanding). */
  private head_(): void {
    const q = this.q_;
    const tag = q.tagAt(0);
    const t = (tag >>> 16) & 0xff;
    const i = snTagTopic(tag);
    this.wm_ = tag & 0xffff;
    if (i >= 0 && (t === MsgType.PUBLISH || t === MsgType.REGISTER)) {
      const tid = this.tp_.i[i];
      if (!tid) {
        // §6.5: register the name first; the message waits.
        this.wm_ = this.id_();
        this.snd_(MsgType.REGISTER);
        return;
      }
      if (t === MsgType.REGISTER) {
        this.done_(0);
        return;
      }
      const off = q.offsetAt(0);
      writeU16(q.data, off + (q.data[off] === 1 ? 5 : 3), tid);
    }
    if (t === MsgType.PUBLISH && !this.wm_) {
      // QoS 0: nothing to wait for.
      this.raw_(q.data, q.offsetAt(0), q.lengthAt(0));
      q.shift();
    } else this.snd_(t);
  }

  /** Ends the head request with `rc` (0, a ReturnCode, or a negative Status) and reports it. */
  private done_(rc: number): void {
    const o = this.o_;
    const q = this.q_;
    const m = this.mi_;
    const tag = q.tagAt(0);
    const t = (tag >>> 16) & 0xff;
    const i = snTagTopic(tag);
    let id = tag & 0xffff;
    if (id === this.rr_ && this.rr_) id = this.ro_; // resent under a new MsgId: reported under its first
    q.shift();
    this.k_ = 0;
    this.rr_ = 0;
    if (t === MsgType.PUBLISH || t === MsgType.PUBREL) {
      if (o.onPublished) o.onPublished(id, rc);
    } else if (t === MsgType.REGISTER) {
      if (o.onRegister) o.onRegister(this.tp_.n[i] as string, rc ? 0 : this.tp_.i[i], rc);
    } else if (o.onAck) o.onAck(t, id, rc, rc ? 0 : m.topicId, rc ? 0 : m.qos);
  }

  /** "Rejected: congestion": pause the queue for T_WAIT; `again` puts the outstanding head back to be resent afterwards. */
  private hold_(again: boolean): void {
    this.hw_ = this.now_;
    if (again) this.k_ = 0;
  }

  /** The outstanding request got no answer after N_RETRY retransmissions (§6.13, §6.14). */
  private fail_(): void {
    const k = this.k_;
    const s = this.st_;
    this.k_ = 0;
    if (globalThis.FIELDMQ_SN_SLEEP !== false && s === SnState.Awake) {
      this.err_(Status.Timeout);
      this.zz_();
    } else if (s === SnState.Disconnecting && !this.sd_) this.st_ = SnState.Disconnected;
    else {
      if (this.qd_(k) || k === MsgType.REGISTER || k === MsgType.PUBREL) this.done_(Status.Timeout);
      this.lost_();
    }
  }

  /**
   * The gateway is gone (§6.11, §6.13; or it stopped advertising, §6.1): drop
   * it from the list and connect to the next known one, else the configured
   * one, else search (§6.1). Queued requests wait for the new session.
   */
  private lost_(): void {
    this.err_(Status.Timeout);
    this.rs_ = true; // the same gateway, if it comes back, may have restarted
    if (globalThis.FIELDMQ_SN_DISCOVERY !== false) {
      const gw = this.gw_;
      const i = gw.at(this.g_);
      if (i >= 0) gw.del(i);
      this.g_ = gw.n ? gw.h[i > 0 && i < gw.n ? i : 0] : this.cfg_;
    }
    this.go_();
  }

  /** Connects to gateway `g`, or searches for one (without discovery: none, no connection). */
  private go_(): void {
    this.k_ = 0;
    if (this.g_ >= 0) this.st_ = SnState.Connecting;
    else if (globalThis.FIELDMQ_SN_DISCOVERY !== false) {
      this.st_ = SnState.Searching;
      this.searchGateway();
    } else this.st_ = SnState.Disconnected;
  }

  /** The gateway to use: the current one, else the first known, else the configured one. */
  private pick_(): number {
    if (globalThis.FIELDMQ_SN_DISCOVERY !== false) {
      const gw = this.gw_;
      const g = this.g_;
      if (g < 0 || (gw.at(g) < 0 && g !== this.cfg_)) this.g_ = gw.n ? gw.h[0] : this.cfg_;
    }
    return this.g_;
  }

  /** Sends DISCONNECT (with a sleep duration when `d` > 0) once nothing else is outstanding. */
  private bye_(d: number): void {
    this.dup_();
    this.k_ = 0;
    this.sd_ = d;
    this.st_ = SnState.Disconnecting;
  }

  /** Asleep from now on (§6.14). */
  private zz_(): void {
    if (globalThis.FIELDMQ_SN_SLEEP !== false) {
      this.st_ = SnState.Asleep;
      this.sa_ = this.now_;
      if (this.o_.onSleep) this.o_.onSleep();
    }
  }

  /** A SEARCHGW went out (or an identical one was heard): schedule the next, doubling the interval (§6.1). */
  private searched_(): void {
    if (globalThis.FIELDMQ_SN_DISCOVERY !== false) {
      this.ss_ = this.now_;
      this.sdl_ = this.ts_ * (1 << (this.sn_ < 6 ? this.sn_ : 6));
      this.sn_++;
    }
  }

  /**
   * The topic table entry for normal topic `name`, added when new; a name no
   * REGISTER could carry (empty: BadParameter; U+0000 or a lone surrogate:
   * InvalidUtf8) is refused here, before a request waits on it for ever.
   */
  private name_(name: string): number {
    const i = this.tp_.find(name, TopicIdType.Normal);
    if (i >= 0) return i; // checked when it was added
    if (!name) return Status.BadParameter;
    if (utf8Length(name) < 0 || name.indexOf('\0') >= 0) return Status.InvalidUtf8;
    return this.tp_.add(name, 0, TopicIdType.Normal, this.q_);
  }


  /** Resets {@link SnClient.mo_} to type `t` and sets its topic fields from `topic`. */
  private top_(topic: string | number, t: number): void {
    const m = this.mo_;
    m.reset();
    m.type = t;
    if (typeof topic === 'number') {
      m.topicIdType = TopicIdType.Predefined;
      m.topicId = topic;
    } else if (snShortName(topic)) {
      m.topicIdType = TopicIdType.Short;
      m.topicId = (topic.charCodeAt(0) << 8) | topic.charCodeAt(1);
    } else if (t !== MsgType.PUBLISH) m.text = topic;
  }

  /** SUBSCRIBE or UNSUBSCRIBE. */
  private sub_(topic: string | number, qos: number, t: number, i: number): number {
    this.top_(topic, t);
    const id = this.id_();
    this.mo_.qos = qos;
    this.mo_.msgId = id;
    const r = this.enq_(snTag(t, id, i));
    return r < 0 ? r : id;
  }

  /** Sets the variable field of {@link SnClient.mo_} to a payload. */
  private pay_(p: Uint8Array | string): void {
    const m = this.mo_;
    if (typeof p === 'string') m.text = p;
    else {
      m.data = p;
      m.dataLength = p.length;
    }
  }

  /** Encodes {@link SnClient.mo_} into a free queue slot with `tag`. */
  private enq_(tag: number): number {
    const q = this.q_;
    if (!this.st_) return Status.IllegalState;
    const at = q.reserve();
    if (at < 0) return at;
    const n = messageSize(this.mo_);
    if (n < 0) return n;
    if (n > q.slotSize) return Status.TooLarge;
    encodeMessage(this.mo_, q.data, at);
    return q.commit(n, tag);
  }

  /** The next MsgId (1..65535). */
  private id_(): number {
    this.mid_ = (this.mid_ % 0xffff) + 1;
    return this.mid_;
  }

  private err_(s: number): void {
    if (this.o_.onError) this.o_.onError(s);
  }
}
