/**
 * The MQTT 3.1.1 / 5.0 device client. It owns fixed buffers sized at
 * construction and does all of its work in {@link MqttClient.poll}: reading
 * the transport, handling packets, keep-alive, reconnecting, and flushing
 * queued output. It never throws and allocates nothing per message in steady
 * state (strings the application passes in are used as they are).
 *
 * Input is read straight into one linear receive buffer and decoded where it
 * lies (a PUBLISH over `maxPacketSize` is acknowledged and its bytes skipped
 * as they arrive, never buffered); output is encoded straight into one linear send buffer (or, for what
 * must wait, into its outbox slot). Only the packets a client sends are
 * encoded and only those a server sends are decoded, so a device bundle holds
 * none of the codec's server side. With `FIELDMQ_MQTT5` off (the 3.1.1 device
 * build, scripts/build.ts) every MQTT 5 path below is compiled out.
 *
 * Private members end in `_`: the device build shortens those names.
 */
import { Status } from '../core/status';
import { elapsed } from '../core/clock';
import { copyBytes } from '../core/bytes';
import { utf8Decode } from '../core/utf8';
import type { Transport } from '../transport';
import { MAX_PACKET_SIZE, PacketType } from './constants';
import { packetLength } from './frame';
import { PacketView } from './packet';
import { decodeFixedHeader, decodeServerBody } from './decode';
import { decodePublishBody } from './publish';
import type { MqttProperties } from './properties';
import { decodeProperties, subscriptionIds } from './properties';
import type { WillInfo } from './connect';
import { writeConnect } from './connect';
import type { PublishInfo } from './publish';
import { encodePublish, publishSize } from './publish';
import { encodeShortAck } from './ack';
import type { Subscription } from './subscribe';
import { encodeSubscribe, encodeUnsubscribe } from './subscribe';
import { encodeDisconnect, encodePingreq } from './control';
import { topicFilterLength, topicMatches } from './topic';
import { InAliases, InboundIds, OutAliases, OutState, Outbox, outTag, tagId, tagQos, tagState } from './state';
import type {} from '../flags';

/**
 * Output bytes kept for acknowledging an inbound packet (PUBACK, PUBREC,
 * PUBREL, PUBCOMP: 4 bytes, MQTT 3.1.1 §3.4–§3.7): everything else is written
 * into the send buffer short of them, and input that needs an answer is read
 * only while they are free (see `read_`), so an acknowledgement is never lost
 * to a transport that is not taking output.
 */
const ACK_ROOM = 4;

/** True when a packet whose first byte is `h` needs an answer from the client: a QoS 1/2 PUBLISH, PUBREC or PUBREL. */
function answered(h: number): boolean {
  const t = h >> 4;
  return t === PacketType.PUBREC || t === PacketType.PUBREL || (t === PacketType.PUBLISH && (h & 6) !== 0);
}

/** Where the client is; {@link MqttClient.state}. */
export const enum ClientState {
  /** Not started, or stopped by `disconnect()`. */
  Idle = 0,
  /** Waiting out the reconnect delay. */
  Waiting = 1,
  /** The transport is connecting. */
  Opening = 2,
  /** CONNECT sent, waiting for CONNACK. */
  Connecting = 3,
  /** CONNACK accepted: publishing and receiving. */
  Connected = 4,
}

/** An incoming application message, valid only during the callback that receives it. */
export class MqttMessage {
  /** Bytes holding the topic (the receive buffer, or the alias table for an aliased PUBLISH). */
  topicBuf: Uint8Array = new Uint8Array(0);
  topicOffset = 0;
  topicLength = 0;
  /** Bytes holding the payload and MQTT 5 properties. */
  buf: Uint8Array = new Uint8Array(0);
  payloadOffset = 0;
  payloadLength = 0;
  qos = 0;
  retain = false;
  dup = false;
  /** MQTT 5 property data (`decodeProperties(buf, off, off + len, 3, out)` reads it). */
  propertiesOffset = 0;
  propertiesLength = 0;

  /** The topic as a string (allocates). */
  topic(): string {
    return utf8Decode(this.topicBuf, this.topicOffset, this.topicOffset + this.topicLength);
  }

  /** The payload as a string (allocates). */
  text(): string {
    return utf8Decode(this.buf, this.payloadOffset, this.payloadOffset + this.payloadLength);
  }

  /** True when the topic matches `filter` (allocation-free). */
  matches(filter: string): boolean {
    return topicMatches(filter, this.topicBuf, this.topicOffset, this.topicOffset + this.topicLength);
  }
}

/** Handler of messages for one subscription. */
export type MessageHandler = (msg: MqttMessage) => void;

/** MQTT 5 subscription options and properties (MQTT 5.0 §3.8.3.1, §3.8.2.1). */
export interface SubscribeOptions {
  noLocal?: boolean;
  retainAsPublished?: boolean;
  /** 0 send retained messages, 1 only for a new subscription, 2 never. */
  retainHandling?: number;
  /** User Properties of the SUBSCRIBE (its Subscription Identifier is the client's own). */
  userProperties?: string[];
}

/** Everything an {@link MqttClient} is built from (one options object). */
export interface MqttClientOptions {
  /** The link to the broker (TCP, TLS, or a bridge). */
  transport: Transport;
  clientId: string;
  /** 4 (MQTT 3.1.1, default) or 5 (ignored by a 3.1.1-only build). */
  version?: number;
  /** Seconds, default 60; 0 disables keep-alive. */
  keepAlive?: number;
  /** Clean Session / Clean Start, default true. */
  cleanSession?: boolean;
  username?: string;
  password?: Uint8Array | string;
  will?: WillInfo;
  /** MQTT 5 CONNECT properties (Session Expiry Interval, User Properties, ...). */
  properties?: MqttProperties;
  /**
   * Largest packet received or sent, bytes (default 1024). Announced to an
   * MQTT 5 server. A larger inbound PUBLISH is skipped and acknowledged (see
   * `onOversize`); any other larger packet ends the connection.
   */
  maxPacketSize?: number;
  /** Outbound QoS 1/2 messages in flight at once (default 8; MQTT 5: also capped by the server's Receive Maximum). */
  maxInflight?: number;
  /** Outbox slots: in-flight plus offline-queued messages (default 16). */
  queueSize?: number;
  /** Subscriptions kept for dispatch and re-subscription (default 8). */
  maxSubscriptions?: number;
  /**
   * Inbound QoS 2 messages awaiting PUBREL (default 32). MQTT 5 announces it as
   * the Receive Maximum (§3.1.2.11.3), which the server honours. MQTT 3.1.1 has
   * no such limit, so it must be at least the server's in-flight window
   * (Mosquitto `max_inflight_messages`, default 20; EMQX `max_inflight`, default
   * 32): one more QoS 2 PUBLISH than fits ends the connection with
   * `Status.Full` (MQTT 5: DISCONNECT 0x93 Receive Maximum exceeded), and the
   * server sends it again after the reconnect. 0 takes no QoS 2 message at
   * all in MQTT 3.1.1; MQTT 5 has no Receive Maximum 0, so there 0 is 1.
   */
  maxInbound?: number;
  /** MQTT 5 topic aliases, each way (default 8; 0 disables them). */
  topicAliases?: number;
  /** Milliseconds to wait for CONNACK (default 10,000). */
  connectTimeout?: number;
  /** Reconnect delay bounds in milliseconds (defaults 1,000 and 60,000); the delay doubles per failure, with jitter. */
  reconnectMin?: number;
  reconnectMax?: number;
  /** Reconnect after a lost connection (default true). */
  reconnect?: boolean;
  /** Random numbers in [0, 1) for reconnect jitter (default Math.random). */
  random?: () => number;
  /** Connected (reason 0) or refused (CONNACK code); `sessionPresent` as the server said. */
  onConnect?: (reasonCode: number, sessionPresent: boolean) => void;
  /**
   * The connection ended: a DISCONNECT reason code (MQTT 5), or a negative status. Also called,
   * without a connection, when the CONNECT cannot be written at all: `Status.InvalidUtf8` (a
   * string), `Status.TooLarge` (larger than the send buffer), or the encoder's status for an
   * option it cannot carry (`BadParameter`, `InvalidTopic`: a Will topic, `Unsupported`); the
   * client then gives up and stays idle.
   */
  onDisconnect?: (reason: number) => void;
  /** Any message not taken by a subscription's own handler. */
  onMessage?: MessageHandler;
  /** A QoS 1/2 publish is complete: its packet id and reason code (>= 0x80: the server refused it). */
  onPublished?: (packetId: number, reasonCode: number) => void;
  /** SUBACK for the filter: granted QoS, or a reason code >= 0x80. */
  onSubscribed?: (filter: string, reasonCode: number) => void;
  /** UNSUBACK for the filter: 0, or an MQTT 5 reason code (0x11 no subscription existed, >= 0x80 refused). */
  onUnsubscribed?: (filter: string, reasonCode: number) => void;
  /** Queued QoS 0 messages were dropped to make room (the overflow policy); the running total. */
  onDropped?: (total: number) => void;
  /**
   * A PUBLISH larger than `maxPacketSize` arrived and was skipped: acknowledged
   * per its QoS (so the server does not send it again) but not delivered. `msg`
   * holds its topic, QoS, retain and DUP flags, and no payload
   * (`payloadLength` 0); `size` is the whole packet's length in bytes.
   */
  onOversize?: (msg: MqttMessage, size: number) => void;
  /** The transport will take more after a partial write (backpressure). */
  onWritable?: () => void;
}

/** One subscription: kept for dispatch and re-subscription, then until its UNSUBACK. */
interface Sub {
  filter_: string;
  qos_: number;
  handler_: MessageHandler | null;
  options_: SubscribeOptions | null;
  /** Packet id of its SUBSCRIBE awaiting SUBACK, or of its UNSUBSCRIBE awaiting UNSUBACK; 0 for none. */
  id_: number;
}

/** `length` nulls: a fixed table of references. */
function nulls<T>(length: number): (T | null)[] {
  const a: (T | null)[] = [];
  for (let i = 0; i < length; i++) a.push(null);
  return a;
}

/** Index of the entry of `list` whose packet id is `id`, or -1. */
function byId(list: (Sub | null)[], id: number): number {
  for (let i = 0; i < list.length; i++) {
    const r = list[i];
    if (r !== null && r.id_ === id) return i;
  }
  return -1;
}

/**
 * An MQTT 3.1.1 / 5.0 client (MQTT 3.1.1 §3–§4, MQTT 5.0 §3–§4).
 *
 * @example
 * ```ts
 * const c = new MqttClient({ transport, clientId: 'node-7', onMessage: (m) => log(m.text()) });
 * c.start(clock.now());
 * c.subscribe('cmd/node-7/#', 1, null);
 * c.publish('greenhouse/7/temp', '21.5', 1, false);
 * // then, forever: c.poll(clock.now());
 * ```
 */
export class MqttClient {
  private readonly o_: MqttClientOptions;
  private readonly t_: Transport;
  /** Protocol level: 4 (3.1.1) or 5. */
  private readonly v_: number;
  /** Our maximum packet size. */
  private readonly max_: number;
  /** Receive buffer: `rx_[rxp_..rxn_)` is input not yet handled. Packets are decoded in place. */
  private readonly rx_: Uint8Array;
  private rxp_: number;
  private rxn_: number;
  /** Send buffer; `txn_` bytes of it wait for the transport. */
  private readonly tx_: Uint8Array;
  /** `tx_` short of its last {@link ACK_ROOM} bytes: where everything but an acknowledgement is written. */
  private readonly txw_: Uint8Array;
  private txn_: number;
  /** The packet being handled (offsets into `rx_`). */
  private readonly view_: PacketView;
  private readonly msg_: MqttMessage;
  private readonly out_: Outbox;
  private readonly in2_: InboundIds;
  /** Subscriptions, one slot each (null: free); MQTT 5 Subscription Identifier = slot + 1. */
  private readonly subs_: (Sub | null)[];
  /** Unsubscribed ones whose UNSUBACK has not arrived yet. */
  private readonly unsubs_: (Sub | null)[];
  private readonly pubInfo_: PublishInfo;
  // MQTT 5 only.
  private outAlias_!: OutAliases;
  private inAlias_!: InAliases;
  private subIds_!: Uint32Array;
  private aliasProps_!: MqttProperties;
  // Connection.
  private st_: number;
  private since_: number;
  private now_: number;
  private lastSend_: number;
  private pingAt_: number;
  private pingOut_: boolean;
  private delay_: number;
  private attempts_: number;
  private keepAliveMs_: number;
  private serverMaxPkt_: number;
  private serverRecvMax_: number;
  private serverMaxQos_: number;
  private dropped_: number;
  /** Oversize inbound PUBLISHes skipped so far. */
  private big_: number;
  /** Bytes of a skipped oversize PUBLISH still to be discarded from the input. */
  private skip_: number;
  private blocked_: boolean;
  /** The output drained after being blocked: `onWritable` is due at the end of this poll (never from inside a send). */
  private wake_: boolean;
  /** pump_ is running: a callback it reaches does not start it again (that sent messages twice). */
  private pumping_: boolean;
  /** read_ is running: a callback it reaches that polls does not read (see read_). */
  private reading_: boolean;

  constructor(o: MqttClientOptions) {
    const max = o.maxPacketSize ?? 1024;
    const subs = o.maxSubscriptions ?? 8;
    this.o_ = o;
    this.t_ = o.transport;
    this.v_ = globalThis.FIELDMQ_MQTT5 !== false ? (o.version ?? 4) : 4;
    this.max_ = max;
    this.rx_ = new Uint8Array(max * 2);
    this.tx_ = new Uint8Array(max * 2);
    this.txw_ = this.tx_.subarray(0, max * 2 - ACK_ROOM);
    this.rxp_ = this.rxn_ = this.txn_ = 0;
    this.view_ = new PacketView();
    this.msg_ = new MqttMessage();
    this.out_ = new Outbox(o.queueSize ?? 16, max);
    // MQTT 5 has no Receive Maximum 0 (§3.1.2.11.3): 0 becomes 1, announced and kept.
    this.in2_ = new InboundIds(o.maxInbound === 0 && this.v_ === 5 ? 1 : (o.maxInbound ?? 32));
    this.subs_ = nulls(subs);
    this.unsubs_ = nulls(subs);
    this.pubInfo_ = { topic: '', payload: null, qos: 0, retain: false, dup: false, packetId: 0, properties: undefined };
    if (globalThis.FIELDMQ_MQTT5 !== false) {
      const aliases = this.v_ === 5 ? (o.topicAliases ?? 8) : 0;
      this.outAlias_ = new OutAliases(aliases);
      this.inAlias_ = new InAliases(aliases, 128);
      this.subIds_ = new Uint32Array(subs);
      this.aliasProps_ = {};
    }
    this.st_ = ClientState.Idle;
    this.since_ = this.now_ = this.lastSend_ = this.pingAt_ = this.delay_ = this.attempts_ = this.dropped_ = this.big_ = this.skip_ = 0;
    this.pingOut_ = this.blocked_ = this.wake_ = this.pumping_ = this.reading_ = false;
    this.keepAliveMs_ = (o.keepAlive ?? 60) * 1000;
    this.serverMaxPkt_ = max;
    this.serverRecvMax_ = 65535;
    this.serverMaxQos_ = 2;
    const self = this;
    this.t_.onWritable = function () {
      if (self.blocked_ && o.onWritable) o.onWritable();
    };
  }

  /** The current {@link ClientState}. */
  get state(): number {
    return this.st_;
  }

  /**
   * MQTT 5: the Reason String of the packet being handled (CONNACK, PUBACK,
   * PUBREC, PUBCOMP, SUBACK, UNSUBACK, DISCONNECT), or null. Call it inside
   * `onConnect`, `onPublished`, `onSubscribed` or `onDisconnect`; it decodes
   * (and allocates) only when called (MQTT 5.0 §3.4.2.2.2 and alike).
   */
  reasonString(): string | null {
    if (globalThis.FIELDMQ_MQTT5 !== false && this.v_ === 5) {
      const v = this.view_;
      const p: MqttProperties = {};
      if (v.propertiesLength === 0 || v.type === PacketType.PUBLISH) return null;
      if (decodeProperties(this.rx_, v.propertiesOffset, v.propertiesOffset + v.propertiesLength, v.type, p) >= 0 && p.reasonString !== undefined) {
        return p.reasonString;
      }
    }
    return null;
  }

  /** QoS 0 messages dropped by the overflow policy so far. */
  get droppedCount(): number {
    return this.dropped_;
  }

  /** Inbound PUBLISHes skipped so far because they were larger than `maxPacketSize` (see `onOversize`). */
  get oversizeCount(): number {
    return this.big_;
  }

  /** Outbound messages not yet complete (queued, in flight or released). */
  get pending(): number {
    return this.out_.q.length;
  }

  /** False while output waits for the transport (see `onWritable`). */
  get writable(): boolean {
    return !this.blocked_;
  }

  /** Starts connecting at time `now`. Returns {@link Status.Ok} or {@link Status.IllegalState}. */
  start(now: number): number {
    if (this.st_ !== ClientState.Idle) return Status.IllegalState;
    this.now_ = now;
    this.attempts_ = 0;
    this.open_();
    return Status.Ok;
  }

  /**
   * Publishes `payload` on `topic` (MQTT 3.1.1 §3.3). QoS 0 while connected is
   * sent at once; everything else enters the outbox, which keeps order, sends
   * as the in-flight limit allows, and resends on reconnect. Returns the packet
   * id (QoS 1/2) or {@link Status.Ok} (QoS 0), or: {@link Status.Full} (outbox
   * full of QoS 1/2 messages), {@link Status.TooLarge} (over the negotiated
   * maximum packet size), or the encoder's status for a bad topic or argument.
   */
  publish(topic: string, payload: Uint8Array | string | null, qos: number, retain: boolean, properties?: MqttProperties): number {
    if (qos > this.serverMaxQos_) qos = this.serverMaxQos_; // MQTT 5 §3.2.2.3.4: downgrade to Maximum QoS
    const p = this.pubInfo_;
    const out = this.out_;
    p.topic = topic;
    p.payload = payload;
    p.qos = qos;
    p.retain = retain;
    p.properties = properties;
    p.packetId = undefined;
    if (qos === 0 && this.st_ === ClientState.Connected && out.q.length === 0) {
      // Straight out; only a full output buffer sends it to the queue instead.
      const st = this.sendPublish_(p);
      if (st !== Status.Full) return st;
    }
    // Sized first (the slot must hold it, and nothing is dropped for a message that cannot go),
    // then encoded into its outbox slot with its full topic: aliases belong to one connection.
    const id = qos > 0 ? out.freeId() : 0;
    if (id < 0) return id;
    if (qos > 0) p.packetId = id;
    const size = publishSize(p, this.v_);
    if (size < 0) return size;
    if (size > out.q.slotSize || size > this.serverMaxPkt_) return Status.TooLarge;
    const room = out.makeRoom();
    if (room < 0) return room;
    if (room > 0) this.drop_(room);
    const at = out.q.reserve();
    const end = encodePublish(p, this.v_, out.q.data, at); // sized above: it fits
    if (end < 0) return end;
    out.q.commit(end - at, outTag(id, qos, OutState.Queued));
    if (this.st_ === ClientState.Connected) this.pump_();
    return qos > 0 ? id : Status.Ok;
  }

  /**
   * Subscribes to `filter` with maximum `qos` (MQTT 3.1.1 §3.8). Messages that
   * match go to `handler`, or to `onMessage` when it is null. The subscription
   * is kept and sent again after a reconnect without a session, with its MQTT 5
   * `options` (No Local, Retain As Published, Retain Handling, User Properties). Returns
   * {@link Status.Ok}, {@link Status.Full} (table full), or the encoder's
   * status for a bad filter.
   */
  subscribe(filter: string, qos: number, handler: MessageHandler | null, options?: SubscribeOptions): number {
    // Checked now, online or not: a filter no SUBSCRIBE can carry must not wait in the table.
    const fl = topicFilterLength(filter);
    if (fl < 0) return fl;
    if (!(qos >= 0 && qos <= 2)) return Status.BadParameter;
    const s = this.subs_;
    let slot = -1;
    for (let i = 0; i < s.length; i++) {
      const r = s[i];
      if (r !== null && r.filter_ === filter) slot = i;
      else if (slot < 0 && r === null) slot = i;
    }
    if (slot < 0) return Status.Full;
    const prev = s[slot];
    // id_ -1: not sent yet (offline); pump_ sends it once connected, session or not.
    s[slot] = { filter_: filter, qos_: qos, handler_: handler, options_: options ?? null, id_: -1 };
    const st = this.st_ === ClientState.Connected ? this.sendSubscribe_(slot) : Status.Ok;
    if (st < 0) s[slot] = prev;
    return st;
  }

  /**
   * Unsubscribes from `filter` (MQTT 3.1.1 §3.10): {@link Status.Ok},
   * {@link Status.NotFound}, or {@link Status.Full} (no room in the output).
   * MQTT 5: `userProperties` (a flat `['name', 'value', ...]` list) go in the
   * UNSUBSCRIBE's properties (MQTT 5.0 §3.10.2.1.2); 3.1.1 has none and
   * ignores them. While offline nothing is sent.
   */
  unsubscribe(filter: string, userProperties?: string[]): number {
    const s = this.subs_;
    let i = s.length;
    while (i-- && !(s[i] !== null && (s[i] as Sub).filter_ === filter));
    if (i < 0) return Status.NotFound;
    const r = s[i] as Sub;
    s[i] = null;
    if (this.st_ !== ClientState.Connected) return Status.Ok;
    const props = globalThis.FIELDMQ_MQTT5 !== false && this.v_ === 5 && userProperties ? { userProperties } : undefined;
    const id = this.sendUnsubscribe_(filter, props);
    if (id < 0) {
      s[i] = r; // not sent: still subscribed
      return id;
    }
    // Kept until its UNSUBACK, which names no filter.
    const j = this.unsubs_.indexOf(null);
    if (j >= 0) {
      r.id_ = id;
      this.unsubs_[j] = r;
    }
    return Status.Ok;
  }

  /**
   * Sends DISCONNECT (MQTT 5: with `reasonCode`, e.g. 0x04 to have the will
   * published) and closes the link; the client stays idle until `start`.
   */
  disconnect(reasonCode?: number, properties?: MqttProperties): number {
    if (this.st_ === ClientState.Connected) {
      const v5 = globalThis.FIELDMQ_MQTT5 !== false && this.v_ === 5;
      this.put_(encodeDisconnect(v5 ? { reasonCode: reasonCode ?? 0, properties } : {}, this.v_, this.txw_, this.at_()));
      this.flush_();
    }
    this.t_.close();
    this.st_ = ClientState.Idle;
    return Status.Ok;
  }

  /**
   * Does all pending work at time `now` (uint32 ms): opens or reopens the
   * link, reads and handles packets, keeps the connection alive, and sends
   * queued output. Call it often: on every transport callback and on a timer.
   */
  poll(now: number): void {
    this.now_ = now;
    const s = this.st_;
    if (s === ClientState.Idle) return;
    if (s === ClientState.Waiting) {
      if (elapsed(now, this.since_) >= this.delay_) this.open_();
      return;
    }
    const ts = this.t_.state();
    if (ts === 0 /* Closed */) return this.lost_(Status.Closed);
    const late = elapsed(now, this.since_) > (this.o_.connectTimeout ?? 10000);
    if (s === ClientState.Opening) {
      if (ts === 2 /* Open */) this.sendConnect_();
      else if (late) this.lost_(Status.Timeout);
      return;
    }
    this.read_();
    const ka = this.keepAliveMs_;
    if (this.st_ === ClientState.Connecting) {
      if (late) return this.lost_(Status.Timeout);
    } else if (this.st_ !== ClientState.Connected) return;
    else if (ka > 0) {
      if (this.pingOut_) {
        // No PINGRESP within the keep-alive period: the link is dead (§3.1.2.10).
        if (elapsed(now, this.pingAt_) > ka) return this.lost_(Status.Timeout);
      } else if (elapsed(now, this.lastSend_) >= ka) {
        if (this.put_(encodePingreq(this.txw_, this.at_())) >= 0) {
          this.pingOut_ = true;
          this.pingAt_ = now;
        } else if (elapsed(now, this.lastSend_) > 2 * ka) {
          // Output so stuck that not even the PINGREQ fits: it counts as sent when it was due,
          // and a keep-alive period later, unanswered, the link is dead.
          return this.lost_(Status.Timeout);
        }
      }
    }
    this.pump_();
    this.flush_();
    if (this.wake_) {
      this.wake_ = false;
      if (this.o_.onWritable) this.o_.onWritable();
    }
  }

  // ── connection ──────────────────────────────────────────────────────────

  private open_(): void {
    this.rxp_ = this.rxn_ = this.txn_ = this.skip_ = 0;
    this.blocked_ = this.wake_ = this.pumping_ = false;
    this.since_ = this.now_;
    this.st_ = ClientState.Opening;
    if (this.t_.open() < 0) this.lost_(Status.Closed);
  }

  private lost_(reason: number): void {
    const o = this.o_;
    const was = this.st_;
    if (was === ClientState.Idle) return; // disconnect() was called (a callback may have done it): stay idle
    this.t_.close();
    if (o.reconnect === false) this.st_ = ClientState.Idle;
    else {
      const max = o.reconnectMax ?? 60000;
      let d = o.reconnectMin ?? 1000;
      for (let i = 0; i < this.attempts_ && d < max; i++) d *= 2;
      if (d > max) d = max;
      this.delay_ = Math.floor(d / 2 + (d / 2) * (o.random ? o.random() : Math.random())); // "equal jitter": [d/2, d)
      this.attempts_++;
      this.since_ = this.now_;
      this.st_ = ClientState.Waiting;
    }
    if (was >= ClientState.Connecting && o.onDisconnect) o.onDisconnect(reason);
  }

  private sendConnect_(): void {
    const o = this.o_;
    let props = o.properties;
    if (globalThis.FIELDMQ_MQTT5 !== false && this.v_ === 5) {
      // Announce what this client's fixed buffers can take (§3.1.2.11).
      const p: MqttProperties = {};
      if (props) for (const k in props) (p as Record<string, unknown>)[k] = (props as Record<string, unknown>)[k];
      p.maximumPacketSize = this.max_;
      p.receiveMaximum = o.maxInbound || (o.maxInbound === 0 ? 1 : 32); // 0 is not a valid Receive Maximum (§3.1.2.11.3)
      p.topicAliasMaximum = this.inAlias_.capacity;
      props = p;
    }
    const info = {
      clientId: o.clientId,
      cleanSession: o.cleanSession !== false,
      keepAlive: this.keepAliveMs_ / 1000,
      username: o.username,
      password: o.password,
      will: o.will,
      properties: props,
    };
    const st = this.put_(writeConnect(info, this.v_, this.tx_, this.at_()));
    if (this.st_ !== ClientState.Opening) return; // the flush inside found the connection gone
    if (st < 0) {
      // It never will be (a lone surrogate, larger than the send buffer): given up, not retried, and reported.
      this.t_.close();
      this.st_ = ClientState.Idle;
      if (o.onDisconnect) o.onDisconnect(st === Status.Full ? Status.TooLarge : st);
      return;
    }
    this.st_ = ClientState.Connecting;
    this.since_ = this.now_;
    this.flush_();
  }

  private connack_(): void {
    const v = this.view_;
    const cb = this.o_.onConnect;
    const present = v.sessionPresent;
    const q = this.out_.q;
    if (v.reasonCode !== 0) {
      if (cb) cb(v.reasonCode, false);
      return this.lost_(Status.IllegalState);
    }
    this.serverMaxPkt_ = this.max_;
    this.serverRecvMax_ = 65535;
    this.serverMaxQos_ = 2;
    if (globalThis.FIELDMQ_MQTT5 !== false) {
      let aliasMax = 0;
      if (this.v_ === 5 && v.propertiesLength > 0) {
        const p: MqttProperties = {};
        decodeProperties(this.rx_, v.propertiesOffset, v.propertiesOffset + v.propertiesLength, PacketType.CONNACK, p);
        if (p.maximumPacketSize !== undefined && p.maximumPacketSize < this.max_) this.serverMaxPkt_ = p.maximumPacketSize;
        if (p.receiveMaximum !== undefined) this.serverRecvMax_ = p.receiveMaximum;
        if (p.maximumQoS !== undefined) this.serverMaxQos_ = p.maximumQoS;
        if (p.topicAliasMaximum !== undefined) aliasMax = p.topicAliasMaximum;
        if (p.serverKeepAlive !== undefined) this.keepAliveMs_ = p.serverKeepAlive * 1000;
      }
      this.outAlias_.reset(aliasMax);
      this.inAlias_.clear();
    }
    this.st_ = ClientState.Connected;
    this.attempts_ = 0;
    this.pingOut_ = false;
    // The server has no state: nothing is awaiting PUBREL here either, and
    // every subscription is sent again. With a session, those it never
    // acknowledged are (made offline, or whose SUBACK the lost link took).
    if (!present) this.in2_.clear();
    // Everything below is sent by pump_, in order, as the output has room: a transport that
    // takes little at a time gets all of it over the next polls (id_ -1: to be sent).
    for (let i = 0; i < this.subs_.length; i++) {
      const r = this.subs_[i];
      if (r !== null && (!present || r.id_ !== 0)) r.id_ = -1;
    }
    // An UNSUBSCRIBE the lost link left unanswered: sent again to a kept session (without its
    // MQTT 5 User Properties); without one the subscription is gone, so it is done.
    const u = this.unsubs_;
    for (let i = 0; i < u.length; i++) {
      const r = u[i];
      if (r === null) continue;
      if (present) r.id_ = -1;
      else {
        u[i] = null;
        if (this.o_.onUnsubscribed) this.o_.onUnsubscribed(r.filter_, 0);
      }
    }
    // Resend what was in flight, in its original order (3.1.1 §4.6), with DUP
    // (§4.4); a released QoS 2 message continues with PUBREL. Without a
    // session the messages are sent again as queued ones (at least once).
    for (let i = 0; i < q.length; i++) {
      const tag = q.tagAt(i);
      const state = tagState(tag);
      if (state === OutState.Queued) continue;
      if (!present) q.setTagAt(i, outTag(tagId(tag), tagQos(tag), OutState.Queued));
      else if (state !== OutState.Sent) q.setTagAt(i, outTag(tagId(tag), 2, OutState.Release));
      else {
        q.data[q.offsetAt(i)] |= 0x08;
        q.setTagAt(i, outTag(tagId(tag), tagQos(tag), OutState.Queued));
      }
    }
    if (cb) cb(0, present);
    this.pump_();
    this.flush_();
  }

  // ── output ──────────────────────────────────────────────────────────────

  /**
   * Sends, while the output has room: (UN)SUBSCRIBEs waiting to go (after a reconnect), then
   * the outbox in order: PUBRELs due, and queued messages within the in-flight limit.
   */
  private pump_(): void {
    if (this.st_ !== ClientState.Connected || this.pumping_) return;
    this.pumping_ = true;
    this.pumpOnce_();
    this.pumping_ = false;
  }

  private pumpOnce_(): void {
    const s = this.subs_;
    for (let i = 0; i < s.length; i++) {
      const r = s[i];
      if (r === null || r.id_ !== -1) continue;
      const st = this.sendSubscribe_(i);
      if (st === Status.Full) return; // no room now: the next pump
      if (st < 0) {
        // Cannot be sent at all (too large with its properties): given up and reported.
        s[i] = null;
        if (this.o_.onSubscribed) this.o_.onSubscribed(r.filter_, 0x80);
      }
    }
    const u = this.unsubs_;
    for (let i = 0; i < u.length; i++) {
      const r = u[i];
      if (r === null || r.id_ !== -1) continue;
      const id = this.sendUnsubscribe_(r.filter_, undefined);
      if (id < 0) return;
      r.id_ = id;
    }
    const out = this.out_;
    const q = out.q;
    const want = this.o_.maxInflight ?? 8;
    const limit = want < this.serverRecvMax_ ? want : this.serverRecvMax_;
    let inflight = q.length - out.count(OutState.Queued);
    // A QoS 1/2 message waiting for the in-flight limit: nothing queued overtakes it, but PUBRELs
    // behind it still go (they complete messages and free the window).
    let hold = false;
    for (let i = 0; i < q.length; ) {
      const tag = q.tagAt(i);
      const state = tagState(tag);
      if (state === OutState.Release) {
        if (this.put_(encodeShortAck(PacketType.PUBREL, tagId(tag), this.txw_, this.at_())) < 0) return;
        q.setTagAt(i, outTag(tagId(tag), 2, OutState.Released));
      }
      if (state !== OutState.Queued || hold) {
        i++;
        continue;
      }
      const qos = tagQos(tag);
      if (qos > 0 && inflight >= limit) {
        hold = true;
        i++;
        continue;
      }
      if (this.copy_(q.data, q.offsetAt(i), q.lengthAt(i)) < 0 || this.st_ !== ClientState.Connected) break;
      if (qos === 0) {
        q.removeAt(i);
        continue;
      }
      q.setTagAt(i, outTag(tagId(tag), qos, OutState.Sent));
      inflight++;
      i++;
    }
  }

  /** Sends a QoS 0 PUBLISH now, with an MQTT 5 topic alias when one is available. */
  private sendPublish_(p: PublishInfo): number {
    const at = this.at_();
    let end: number;
    if (globalThis.FIELDMQ_MQTT5 !== false && this.v_ === 5 && p.topic !== '') {
      const topic = p.topic;
      const a = this.outAlias_.lookup(topic);
      const own = p.properties;
      const props = own ?? this.aliasProps_;
      const had = props.topicAlias;
      if (a !== 0) {
        props.topicAlias = a < 0 ? -a : a;
        p.properties = props;
        if (a > 0) p.topic = ''; // the server knows this alias: the topic can go
      }
      end = encodePublish(p, 5, this.txw_, at);
      p.topic = topic;
      props.topicAlias = had;
      p.properties = own;
      if (end >= 0 && a < 0 && end - at <= this.serverMaxPkt_) this.outAlias_.assign(-a, topic);
    } else end = encodePublish(p, this.v_, this.txw_, at);
    // No room in the send buffer now: the outbox takes it (or finds it too large).
    if (end === Status.NoMemory) return Status.Full;
    return this.put_(this.size_(end, at));
  }

  /** A PUBLISH encoded at `at`, ending at `end`: `end`, or {@link Status.TooLarge} when over the server's maximum packet size. */
  private size_(end: number, at: number): number {
    if (end === Status.NoMemory || end - at > this.serverMaxPkt_) return Status.TooLarge;
    return end;
  }

  private sendSubscribe_(slot: number): number {
    const id = this.out_.freeId();
    if (id < 0) return id;
    // MQTT 5: each subscription carries its slot as Subscription Identifier, so
    // a server that sends one copy per matching subscription (§3.3.4) names
    // the subscription each copy is for.
    const r = this.subs_[slot] as Sub;
    const sub: Subscription = { topic: r.filter_, qos: r.qos_ };
    let props: MqttProperties | undefined;
    if (globalThis.FIELDMQ_MQTT5 !== false) {
      const so = r.options_;
      if (so) {
        sub.noLocal = so.noLocal;
        sub.retainAsPublished = so.retainAsPublished;
        sub.retainHandling = so.retainHandling;
      }
      if (this.v_ === 5) props = { subscriptionIdentifier: slot + 1, userProperties: so ? so.userProperties : undefined };
    }
    const st = this.put_(encodeSubscribe({ packetId: id, subscriptions: [sub], properties: props }, this.v_, this.txw_, this.at_()));
    if (st >= 0) r.id_ = id;
    return st;
  }

  /** UNSUBSCRIBE (§3.10) of `filter`: its packet id, or a negative Status (no free id, no room in the output). */
  private sendUnsubscribe_(filter: string, props: MqttProperties | undefined): number {
    const id = this.out_.freeId();
    if (id < 0) return id;
    const st = this.put_(encodeUnsubscribe({ packetId: id, topics: [filter], properties: props }, this.v_, this.txw_, this.at_()));
    return st < 0 ? st : id;
  }

  /** A 4-byte PUBACK / PUBREC / PUBREL / PUBCOMP for `id`. */
  private ack_(type: number, id: number): void {
    this.put_(encodeShortAck(type, id, this.tx_, this.at_()));
  }

  /**
   * Where the next packet is encoded: the end of the send buffer, after a
   * flush when less than one maximum-size packet of room is left.
   */
  private at_(): number {
    if (this.txw_.length - this.txn_ < this.max_) this.flush_();
    return this.txn_;
  }

  /**
   * Takes the packet just encoded at {@link MqttClient.at_} (`end` is its end
   * offset, or the encoder's negative status) into the output. Returns
   * {@link Status.Ok}, {@link Status.Full} (no room left), or the status.
   */
  private put_(end: number): number {
    if (end < 0) return end === Status.NoMemory ? Status.Full : end;
    this.txn_ = end;
    this.lastSend_ = this.now_;
    if (end > this.tx_.length >> 1) this.flush_();
    return Status.Ok;
  }

  /** Appends `src[off..off+len)` to the output: {@link Status.Ok} or {@link Status.Full}. */
  private copy_(src: Uint8Array, off: number, len: number): number {
    if (this.txw_.length - this.txn_ < len) this.flush_();
    if (this.txw_.length - this.txn_ < len) return Status.Full;
    return this.put_(copyBytes(src, off, len, this.tx_, this.txn_));
  }

  /** Hands buffered output to the transport, as much as it takes; keeps the rest at the start of the buffer. */
  private flush_(): void {
    const tx = this.tx_;
    const n = this.txn_;
    let s = 0;
    while (s < n) {
      const k = this.t_.send(tx, s, n - s);
      if (k < 0) return this.lost_(k);
      if (k === 0) break;
      s += k;
    }
    this.txn_ = n - s;
    if (s < n) {
      copyBytes(tx, s, n - s, tx, 0);
      this.blocked_ = true;
    } else if (this.blocked_) {
      this.blocked_ = false;
      this.wake_ = true;
    }
  }

  private drop_(n: number): void {
    this.dropped_ += n;
    if (this.o_.onDropped) this.o_.onDropped(this.dropped_);
  }

  // ── input ───────────────────────────────────────────────────────────────

  /**
   * Reads what the transport has (straight into the receive buffer) and
   * handles every complete packet where it lies. Bounded per poll so one busy
   * link cannot starve the application.
   */
  private read_(): void {
    // Not re-entered from a callback that polls: input is handled in order, one packet at a
    // time, so each acknowledgement finds the room read checked for it and goes out in order.
    if (this.reading_) return;
    this.reading_ = true;
    try {
      this.readOnce_();
    } finally {
      this.reading_ = false;
    }
  }

  private readOnce_(): void {
    const rx = this.rx_;
    for (let round = 0; round < 32; round++) {
      let n = 0;
      if (this.rxn_ < rx.length) {
        n = this.t_.recv(rx, this.rxn_, rx.length - this.rxn_);
        if (n < 0) return this.lost_(n);
        this.rxn_ += n;
      }
      for (;;) {
        const p = this.rxp_;
        const have = this.rxn_ - p;
        if (this.skip_ > 0) {
          // The rest of a skipped oversize PUBLISH: discarded as it arrives, never buffered.
          const k = have < this.skip_ ? have : this.skip_;
          this.skip_ -= k;
          this.rxp_ = p + k;
          if (this.skip_ > 0) break;
          continue;
        }
        const len = packetLength(rx, p, have, MAX_PACKET_SIZE);
        if (len === Status.NeedMoreBytes) break;
        if (len < 0) return this.protocolError_(len);
        if (this.st_ === ClientState.Connected && answered(rx[p]) && this.tx_.length - this.txn_ < ACK_ROOM) {
          // No room for its acknowledgement: left unread until the transport takes output again.
          this.flush_();
          if (this.st_ !== ClientState.Connected) return;
          if (this.tx_.length - this.txn_ < ACK_ROOM) break;
        }
        if (len > this.max_) {
          // Over our maximum packet size (3.1.1 has no way to announce it; an
          // MQTT 5 server may ignore it). A PUBLISH is skipped and acknowledged
          // rather than ending the connection: a server keeping the session
          // would send it again after every reconnect. Its first `max_` bytes
          // (rx holds twice that) must hold its topic, packet id and properties.
          if (rx[p] >> 4 !== PacketType.PUBLISH || this.st_ !== ClientState.Connected) return this.protocolError_(Status.TooLarge);
          if (have < this.max_) break;
          const v = this.view_;
          let b = p + 2;
          while (rx[b - 1] & 0x80) b++;
          v.type = PacketType.PUBLISH; // the body decoder sets every other field incoming_ reads
          this.rxp_ = p + this.max_;
          this.skip_ = len - this.max_;
          if (decodePublishBody(rx, b, this.rxp_, rx[p] & 15, this.v_, v) < 0) return this.protocolError_(Status.TooLarge);
          this.incoming_(len);
        } else {
          if (len > have) break;
          // Taken before it is handled.
          this.rxp_ = p + len;
          this.handle_(p, len);
        }
        if (this.st_ < ClientState.Connecting) return;
      }
      this.rxn_ = copyBytes(rx, this.rxp_, this.rxn_ - this.rxp_, rx, 0);
      this.rxp_ = 0;
      if (n === 0) return;
    }
  }

  private protocolError_(st: number): void {
    if (this.st_ === ClientState.Connected) {
      if (globalThis.FIELDMQ_MQTT5 !== false && this.v_ === 5) {
        // 0x95 Packet too large, 0x93 Receive Maximum exceeded, 0x82 Protocol Error, 0x81 Malformed Packet (§4.13).
        const code = st === Status.TooLarge ? 0x95 : st === Status.Full ? 0x93 : st === Status.ProtocolError ? 0x82 : 0x81;
        this.put_(encodeDisconnect({ reasonCode: code }, 5, this.tx_, this.at_()));
      }
      // Acknowledgements already written go out first: a PUBREC the server never
      // sees makes it send that PUBLISH again after the reconnect (§4.4), and
      // behind it the one that did not fit, for ever.
      this.flush_();
    }
    if (this.st_ >= ClientState.Opening) this.lost_(st); // unless the flush found the connection gone
  }

  /** Decodes the packet at `rx[off..off+len)`: only what a server sends (CONNECT, SUBSCRIBE, ... are protocol errors here). */
  private decode_(off: number, len: number): number {
    const v = this.view_;
    const b = this.rx_;
    const ver = this.v_;
    const st = decodeFixedHeader(b, off, len, ver, v, 0);
    return st < 0 ? st : decodeServerBody(b, v.bodyOffset, off + len, ver, v);
  }

  private handle_(off: number, len: number): void {
    const v = this.view_;
    const st = this.decode_(off, len);
    if (st < 0) return this.protocolError_(st);
    const type = v.type;
    const id = v.packetId;
    if (this.st_ === ClientState.Connecting) return type === PacketType.CONNACK ? this.connack_() : this.protocolError_(Status.ProtocolError);
    switch (type) {
      case PacketType.PUBLISH:
        return this.incoming_(0);
      case PacketType.PUBACK:
      case PacketType.PUBCOMP:
        return this.complete_(id, v.reasonCode);
      case PacketType.PUBREC: {
        if (v.reasonCode >= 0x80) return this.complete_(id, v.reasonCode);
        const i = this.out_.find(id);
        if (i < 0) return this.ack_(PacketType.PUBREL, id);
        // PUBREL through pump_, which sends it when the output has room.
        this.out_.q.setTagAt(i, outTag(id, 2, OutState.Release));
        return this.pump_();
      }
      case PacketType.PUBREL:
        this.in2_.remove(id);
        return this.ack_(PacketType.PUBCOMP, id);
      case PacketType.SUBACK:
      case PacketType.UNSUBACK:
        return this.subAck_(type === PacketType.SUBACK);
      case PacketType.PINGRESP:
        this.pingOut_ = false;
        return;
      case PacketType.DISCONNECT:
        // MQTT 3.1.1 has no DISCONNECT from the server (§3.14: client to server only).
        return this.v_ === 5 ? this.lost_(v.reasonCode) : this.protocolError_(Status.ProtocolError);
    }
    // CONNACK twice, or AUTH (enhanced authentication is not implemented).
    this.protocolError_(Status.ProtocolError);
  }

  private complete_(id: number, code: number): void {
    const i = this.out_.find(id);
    if (i < 0) return;
    this.out_.q.removeAt(i);
    if (this.o_.onPublished) this.o_.onPublished(id, code);
  }

  private subAck_(sub: boolean): void {
    const v = this.view_;
    const o = this.o_;
    // One filter per SUBSCRIBE / UNSUBSCRIBE, so one return code (3.1.1 §3.9.3; MQTT 5 §3.9.3,
    // §3.11.3); a 3.1.1 UNSUBACK has none (§3.11.3).
    if (v.payloadLength !== (sub || this.v_ === 5 ? 1 : 0)) return this.protocolError_(Status.ProtocolError);
    const code = v.payloadLength > 0 ? this.rx_[v.payloadOffset] : 0;
    const list = sub ? this.subs_ : this.unsubs_;
    const i = byId(list, v.packetId);
    if (i < 0) return;
    const r = list[i] as Sub;
    r.id_ = 0;
    if (sub) {
      if (o.onSubscribed) o.onSubscribed(r.filter_, code);
    } else {
      list[i] = null;
      if (o.onUnsubscribed) o.onUnsubscribed(r.filter_, code);
    }
  }

  /** The PUBLISH in {@link MqttClient.view_}: delivered, or (`big` > 0: its size) reported as oversize; acknowledged either way. */
  private incoming_(big: number): void {
    const v = this.view_;
    const m = this.msg_;
    const buf = this.rx_;
    // Read before any callback: one that polls again decodes the next packet into the view.
    const id = v.packetId;
    const qos = v.qos;
    m.buf = m.topicBuf = buf;
    m.topicOffset = v.topicOffset;
    m.topicLength = v.topicLength;
    if (globalThis.FIELDMQ_MQTT5 !== false && v.topicAlias > 0) {
      // MQTT 5 §3.3.2.3.4: a topic with an alias sets it; an empty topic uses it.
      const a = this.inAlias_;
      if (v.topicLength > 0) {
        if (a.set(v.topicAlias, buf, v.topicOffset, v.topicLength) < 0) return this.protocolError_(Status.ProtocolError);
      } else {
        const n = a.length(v.topicAlias);
        if (n < 0) return this.protocolError_(Status.ProtocolError);
        m.topicBuf = a.buf;
        m.topicOffset = (v.topicAlias - 1) * a.maxTopic;
        m.topicLength = n;
      }
    }
    m.payloadOffset = v.payloadOffset;
    m.payloadLength = big ? 0 : v.payloadLength;
    m.qos = v.qos;
    m.retain = v.retain;
    m.dup = v.dup;
    m.propertiesOffset = v.propertiesOffset;
    m.propertiesLength = v.propertiesLength;
    if (v.qos === 2) {
      // Exactly once (§4.3.3): deliver on first receipt, acknowledge every time.
      if (!this.in2_.has(id)) {
        if (this.in2_.add(id) < 0) return this.protocolError_(Status.Full); // over maxInbound (MQTT 5: our Receive Maximum)
        this.dispatch_(m, big);
      }
      return this.ack_(PacketType.PUBREC, id);
    }
    this.dispatch_(m, big);
    if (qos === 1 && this.st_ === ClientState.Connected) this.ack_(PacketType.PUBACK, id);
  }

  private dispatch_(m: MqttMessage, big: number): void {
    if (big) {
      this.big_++;
      if (this.o_.onOversize) this.o_.onOversize(m, big);
      return;
    }
    const s = this.subs_;
    let taken = false;
    let n = 0;
    if (globalThis.FIELDMQ_MQTT5 !== false && m.propertiesLength > 0) {
      // The server names the subscriptions this copy is for (§3.3.4).
      n = subscriptionIds(m.buf, m.propertiesOffset, m.propertiesOffset + m.propertiesLength, this.subIds_);
      for (let k = 0; k < n; k++) {
        const r = s[this.subIds_[k] - 1];
        if (r && r.handler_) {
          r.handler_(m);
          taken = true;
        }
      }
    }
    if (n === 0) {
      const end = m.topicOffset + m.topicLength;
      for (let i = 0; i < s.length; i++) {
        const r = s[i];
        if (r === null || r.handler_ === null || !topicMatches(r.filter_, m.topicBuf, m.topicOffset, end)) continue;
        r.handler_(m);
        taken = true;
      }
    }
    if (!taken && this.o_.onMessage) this.o_.onMessage(m);
  }
}
