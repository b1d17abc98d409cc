/**
 * The MQTT 3.1.1 / 5.0 device client. It owns fixed buffers sized at
 * construction and does all of its work in {@link MqttClient.poll}: reading
 * the transport, handling packets, keep-alive, reconnecting, and flushing
 * queued output. It never throws and allocates nothing per message in steady
 * state (strings the application passes in are used as they are).
 */
import { Status } from '../core/status';
import { elapsed } from '../core/clock';
import { ByteRing } from '../core/ring';
import { utf8Decode } from '../core/utf8';
import type { Transport } from '../transport';
import { PacketType } from './constants';
import { frameLength } from './frame';
import { MqttPacket } from './packet';
import { decodeFixedHeader } from './decode';
import { decodeConnackBody } from './connect';
import { decodePublishBody } from './publish';
import { decodeAckBody } from './ack';
import { decodeSubackBody } from './subscribe';
import { decodeReasonBody } from './control';
import type { MqttProperties } from './properties';
import { decodeProperties, subscriptionIds } from './properties';
import type { WillInfo } from './connect';
import { encodeConnect } from './connect';
import type { PublishInfo } from './publish';
import { encodePublish } from './publish';
import { encodeShortAck } from './ack';
import { encodeSubscribe, encodeUnsubscribe } from './subscribe';
import { encodeDisconnect, encodePingreq } from './control';
import { topicMatches } from './topic';
import { InAliases, InboundIds, OutAliases, OutState, Outbox, outTag, tagId, tagQos, tagState } from './state';

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
  /** 4 (MQTT 3.1.1, default) or 5. */
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
  /** Largest packet received or sent, bytes (default 1024). Announced to an MQTT 5 server. */
  maxPacketSize?: number;
  /** Outbound QoS 1/2 messages in flight at once (default 8; MQTT 5: also capped by the server's Receive Maximum). */
  maxInflight?: number;
  /** Outbox slots: in-flight plus offline-queued messages (default 16). */
  queueSize?: number;
  /** Subscriptions kept for dispatch and re-subscription (default 8). */
  maxSubscriptions?: number;
  /** Inbound QoS 2 messages awaiting PUBREL (default 16; the MQTT 5 Receive Maximum announced). */
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
  /** The connection ended: a DISCONNECT reason code (MQTT 5), or a negative status. */
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
  /** The transport will take more after a partial write (backpressure). */
  onWritable?: () => void;
}

function opt(v: number | undefined, d: number): number {
  return v === undefined ? d : v;
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
  private readonly o: MqttClientOptions;
  private readonly t: Transport;
  private readonly v: number;
  private readonly maxPkt: number;
  private readonly rx: ByteRing;
  private readonly pkt: Uint8Array;
  private readonly tx: ByteRing;
  private readonly scratch: Uint8Array;
  private readonly view: MqttPacket;
  private readonly msg: MqttMessage;
  private readonly out: Outbox;
  private readonly inIds: InboundIds;
  private readonly outAlias: OutAliases;
  private readonly inAlias: InAliases;
  private readonly subFilter: (string | null)[];
  private readonly subQos: Uint8Array;
  private readonly subHandler: (MessageHandler | null)[];
  private readonly subOpts: (SubscribeOptions | null)[];
  private readonly subPending: Uint16Array;
  private readonly unsubPending: Uint16Array;
  private readonly unsubName: (string | null)[];
  private readonly subIds: Uint32Array;
  private readonly pubInfo: PublishInfo;
  private st: number;
  private since: number;
  private now: number;
  private lastSend: number;
  private pingAt: number;
  private pingOut: boolean;
  private delay: number;
  private attempts: number;
  private keepAliveMs: number;
  private serverMaxPkt: number;
  private serverRecvMax: number;
  private serverMaxQos: number;
  private dropped: number;
  private blocked: boolean;

  constructor(o: MqttClientOptions) {
    this.o = o;
    this.t = o.transport;
    this.v = opt(o.version, 4);
    this.maxPkt = opt(o.maxPacketSize, 1024);
    this.rx = new ByteRing(this.maxPkt * 2);
    this.pkt = new Uint8Array(this.maxPkt);
    this.tx = new ByteRing(this.maxPkt * 2);
    this.scratch = new Uint8Array(this.maxPkt);
    this.view = new MqttPacket();
    this.msg = new MqttMessage();
    this.out = new Outbox(opt(o.queueSize, 16), this.maxPkt);
    this.inIds = new InboundIds(opt(o.maxInbound, 16));
    const aliases = this.v === 5 ? opt(o.topicAliases, 8) : 0;
    this.outAlias = new OutAliases(aliases);
    this.inAlias = new InAliases(aliases, 128);
    const subs = opt(o.maxSubscriptions, 8);
    this.subFilter = [];
    this.subHandler = [];
    this.subOpts = [];
    for (let i = 0; i < subs; i++) {
      this.subFilter.push(null);
      this.subHandler.push(null);
      this.subOpts.push(null);
    }
    this.subQos = new Uint8Array(subs);
    this.subPending = new Uint16Array(subs);
    this.unsubPending = new Uint16Array(subs);
    this.unsubName = [];
    for (let i = 0; i < subs; i++) this.unsubName.push(null);
    this.subIds = new Uint32Array(subs);
    this.pubInfo = { topic: '', payload: null, qos: 0, retain: false, dup: false, packetId: 0, properties: undefined };
    this.st = ClientState.Idle;
    this.since = this.now = this.lastSend = this.pingAt = 0;
    this.pingOut = false;
    this.delay = 0;
    this.attempts = 0;
    this.keepAliveMs = opt(o.keepAlive, 60) * 1000;
    this.serverMaxPkt = this.maxPkt;
    this.serverRecvMax = 65535;
    this.serverMaxQos = 2;
    this.dropped = 0;
    this.blocked = false;
    const self = this;
    this.t.onWritable = function () {
      if (self.blocked && o.onWritable) o.onWritable();
    };
  }

  /** The current {@link ClientState}. */
  get state(): number {
    return this.st;
  }

  /**
   * MQTT 5: the Reason String of the packet being handled (CONNACK, PUBACK,
   * PUBREC, PUBCOMP, SUBACK, UNSUBACK, DISCONNECT), or null. Call it inside
   * `onConnect`, `onPublished`, `onSubscribed` or `onDisconnect`; it decodes
   * (and allocates) only when called (MQTT 5.0 §3.4.2.2.2 and alike).
   */
  reasonString(): string | null {
    const v = this.view;
    if (this.v !== 5 || v.propertiesLength === 0 || v.type === PacketType.PUBLISH) return null;
    const p: MqttProperties = {};
    if (decodeProperties(this.pkt, v.propertiesOffset, v.propertiesOffset + v.propertiesLength, v.type, p) < 0) return null;
    return p.reasonString === undefined ? null : p.reasonString;
  }

  /** QoS 0 messages dropped by the overflow policy so far. */
  get droppedCount(): number {
    return this.dropped;
  }

  /** Outbound messages not yet complete (queued, in flight or released). */
  get pending(): number {
    return this.out.q.length;
  }

  /** False while output waits for the transport (see `onWritable`). */
  get writable(): boolean {
    return !this.blocked;
  }

  /** Starts connecting at time `now`. Returns {@link Status.Ok} or {@link Status.IllegalState}. */
  start(now: number): number {
    if (this.st !== ClientState.Idle) return Status.IllegalState;
    this.now = now;
    this.attempts = 0;
    this.open();
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
    if (qos > this.serverMaxQos) qos = this.serverMaxQos; // MQTT 5 §3.2.2.3.4: downgrade to Maximum QoS
    const p = this.pubInfo;
    p.topic = topic;
    p.payload = payload;
    p.qos = qos;
    p.retain = retain;
    p.dup = false;
    p.properties = properties;
    p.packetId = undefined;
    if (qos === 0 && this.st === ClientState.Connected && this.out.q.length === 0) {
      // Straight out; only a full output buffer sends it to the queue instead.
      const st = this.sendPublish(p);
      if (st !== Status.Full) return st;
    }
    const room = this.out.makeRoom();
    if (room < 0) return room;
    if (room > 0) this.drop(room);
    const id = qos > 0 ? this.out.freeId() : 0;
    if (id < 0) return id;
    if (qos > 0) p.packetId = id;
    // Kept with its full topic: aliases belong to one connection, resends may not.
    const end = encodePublish(p, this.v, this.scratch, 0);
    if (end < 0) return end === Status.NoMemory ? Status.TooLarge : end;
    if (end > this.serverMaxPkt) return Status.TooLarge;
    this.out.q.push(this.scratch, 0, end, outTag(id, qos, OutState.Queued));
    if (this.st === ClientState.Connected) this.pump();
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
    let slot = -1;
    for (let i = 0; i < this.subFilter.length; i++) {
      if (this.subFilter[i] === filter) slot = i;
      else if (slot < 0 && this.subFilter[i] === null) slot = i;
    }
    if (slot < 0) return Status.Full;
    const prev = this.subFilter[slot];
    this.subFilter[slot] = filter;
    this.subQos[slot] = qos;
    this.subHandler[slot] = handler;
    this.subOpts[slot] = options === undefined ? null : options;
    const st = this.st === ClientState.Connected ? this.sendSubscribe(slot) : Status.Ok;
    if (st < 0) this.subFilter[slot] = prev;
    return st;
  }

  /** Unsubscribes from `filter` (MQTT 3.1.1 §3.10): {@link Status.Ok} or {@link Status.NotFound}. */
  unsubscribe(filter: string): number {
    for (let i = 0; i < this.subFilter.length; i++) {
      if (this.subFilter[i] !== filter) continue;
      this.subFilter[i] = null;
      this.subHandler[i] = null;
      if (this.st !== ClientState.Connected) return Status.Ok;
      const id = this.out.freeId();
      const end = encodeUnsubscribe({ packetId: id, topics: [filter] }, this.v, this.scratch, 0);
      if (end < 0) return end;
      // Remember which filter this UNSUBACK will be for (one slot per subscription).
      for (let j = 0; j < this.unsubPending.length; j++) {
        if (this.unsubPending[j] !== 0) continue;
        this.unsubPending[j] = id;
        this.unsubName[j] = filter;
        break;
      }
      return this.write(end);
    }
    return Status.NotFound;
  }

  /**
   * Sends DISCONNECT (MQTT 5: with `reasonCode`, e.g. 0x04 to have the will
   * published) and closes the link; the client stays idle until `start`.
   */
  disconnect(reasonCode?: number, properties?: MqttProperties): number {
    if (this.st === ClientState.Connected) {
      const end = encodeDisconnect(
        this.v === 5 ? { reasonCode: reasonCode === undefined ? 0 : reasonCode, properties } : {},
        this.v,
        this.scratch,
        0,
      );
      if (end > 0) this.write(end);
      this.flush();
    }
    this.t.close();
    this.st = ClientState.Idle;
    return Status.Ok;
  }

  /**
   * Does all pending work at time `now` (uint32 ms): opens or reopens the
   * link, reads and handles packets, keeps the connection alive, and sends
   * queued output. Call it often: on every transport callback and on a timer.
   */
  poll(now: number): void {
    this.now = now;
    const s = this.st;
    if (s === ClientState.Idle) return;
    if (s === ClientState.Waiting) {
      if (elapsed(now, this.since) >= this.delay) this.open();
      return;
    }
    const ts = this.t.state();
    if (ts === 0 /* Closed */) return this.lost(Status.Closed);
    if (s === ClientState.Opening) {
      if (ts === 2 /* Open */) this.sendConnect();
      else if (elapsed(now, this.since) > opt(this.o.connectTimeout, 10000)) this.lost(Status.Timeout);
      return;
    }
    this.read();
    if (this.st < ClientState.Connecting) return;
    if (this.st === ClientState.Connecting) {
      if (elapsed(now, this.since) > opt(this.o.connectTimeout, 10000)) return this.lost(Status.Timeout);
    } else if (this.keepAliveMs > 0) {
      if (this.pingOut) {
        // No PINGRESP within the keep-alive period: the link is dead (§3.1.2.10).
        if (elapsed(now, this.pingAt) > this.keepAliveMs) return this.lost(Status.Timeout);
      } else if (elapsed(now, this.lastSend) >= this.keepAliveMs) {
        const end = encodePingreq(this.scratch, 0);
        if (this.write(end) >= 0) {
          this.pingOut = true;
          this.pingAt = now;
        }
      }
    }
    this.pump();
    this.flush();
  }

  // ── connection ──────────────────────────────────────────────────────────

  private open(): void {
    this.rx.clear();
    this.tx.clear();
    this.blocked = false;
    this.since = this.now;
    this.st = ClientState.Opening;
    if (this.t.open() < 0) this.lost(Status.Closed);
  }

  private lost(reason: number): void {
    this.t.close();
    const was = this.st;
    if (this.o.reconnect === false) this.st = ClientState.Idle;
    else {
      const min = opt(this.o.reconnectMin, 1000);
      const max = opt(this.o.reconnectMax, 60000);
      let d = min;
      for (let i = 0; i < this.attempts && d < max; i++) d *= 2;
      if (d > max) d = max;
      const rnd = this.o.random ? this.o.random() : Math.random();
      this.delay = Math.floor(d / 2 + (d / 2) * rnd); // "equal jitter": [d/2, d)
      this.attempts++;
      this.since = this.now;
      this.st = ClientState.Waiting;
    }
    if (was >= ClientState.Connecting && this.o.onDisconnect) this.o.onDisconnect(reason);
  }

  private sendConnect(): void {
    const o = this.o;
    let props = o.properties;
    if (this.v === 5) {
      // Announce what this client's fixed buffers can take (§3.1.2.11).
      const p: MqttProperties = {};
      if (props) for (const k in props) (p as Record<string, unknown>)[k] = (props as Record<string, unknown>)[k];
      p.maximumPacketSize = this.maxPkt;
      p.receiveMaximum = opt(o.maxInbound, 16);
      p.topicAliasMaximum = this.inAlias.capacity;
      props = p;
    }
    const end = encodeConnect(
      {
        clientId: o.clientId,
        cleanSession: o.cleanSession !== false,
        keepAlive: this.keepAliveMs / 1000,
        username: o.username,
        password: o.password,
        will: o.will,
        properties: props,
      },
      this.v,
      this.scratch,
      0,
    );
    if (end < 0) return this.lost(end);
    this.st = ClientState.Connecting;
    this.since = this.now;
    this.write(end);
    this.flush();
  }

  private connack(): void {
    const v = this.view;
    const cb = this.o.onConnect;
    if (v.reasonCode !== 0) {
      if (cb) cb(v.reasonCode, false);
      return this.lost(Status.IllegalState);
    }
    this.serverMaxPkt = this.maxPkt;
    this.serverRecvMax = 65535;
    this.serverMaxQos = 2;
    let aliasMax = 0;
    if (this.v === 5 && v.propertiesLength > 0) {
      const p: MqttProperties = {};
      decodeProperties(this.pkt, v.propertiesOffset, v.propertiesOffset + v.propertiesLength, PacketType.CONNACK, p);
      if (p.maximumPacketSize !== undefined && p.maximumPacketSize < this.serverMaxPkt) this.serverMaxPkt = p.maximumPacketSize;
      if (p.receiveMaximum !== undefined) this.serverRecvMax = p.receiveMaximum;
      if (p.maximumQoS !== undefined) this.serverMaxQos = p.maximumQoS;
      if (p.topicAliasMaximum !== undefined) aliasMax = p.topicAliasMaximum;
      if (p.serverKeepAlive !== undefined) this.keepAliveMs = p.serverKeepAlive * 1000;
    }
    this.outAlias.reset(aliasMax);
    this.inAlias.clear();
    this.st = ClientState.Connected;
    this.attempts = 0;
    this.pingOut = false;
    const q = this.out.q;
    if (!v.sessionPresent) {
      // The server has no state: nothing is awaiting PUBREL here either, and
      // every subscription is sent again.
      this.inIds.clear();
      for (let i = 0; i < this.subFilter.length; i++) if (this.subFilter[i] !== null) this.sendSubscribe(i);
    }
    // Resend what was in flight, in its original order (3.1.1 §4.6), with DUP
    // (§4.4); a released QoS 2 message continues with PUBREL. Without a
    // session the messages are sent again as queued ones (at least once).
    for (let i = 0; i < q.length; i++) {
      const tag = q.tagAt(i);
      const state = tagState(tag);
      if (state === OutState.Queued) continue;
      if (!v.sessionPresent) {
        q.setTagAt(i, outTag(tagId(tag), tagQos(tag), OutState.Queued));
        continue;
      }
      if (state === OutState.Released) {
        this.write(encodeShortAck(PacketType.PUBREL, tagId(tag), this.scratch, 0));
      } else {
        const at = q.offsetAt(i);
        q.data[at] |= 0x08;
        this.writeFrom(q.data, at, q.lengthAt(i));
      }
    }
    if (cb) cb(0, v.sessionPresent);
    this.pump();
    this.flush();
  }

  // ── output ──────────────────────────────────────────────────────────────

  /** Sends queued outbox messages while the in-flight limit and the output buffer allow. */
  private pump(): void {
    if (this.st !== ClientState.Connected) return;
    const q = this.out.q;
    const limit = opt(this.o.maxInflight, 8) < this.serverRecvMax ? opt(this.o.maxInflight, 8) : this.serverRecvMax;
    let inflight = q.length - this.out.count(OutState.Queued);
    for (let i = 0; i < q.length; ) {
      const tag = q.tagAt(i);
      if (tagState(tag) !== OutState.Queued) {
        i++;
        continue;
      }
      const qos = tagQos(tag);
      if (qos > 0 && inflight >= limit) break; // keep order: nothing overtakes a waiting QoS 1/2 message
      const len = q.lengthAt(i);
      if (this.tx.free < len) break;
      this.writeFrom(q.data, q.offsetAt(i), len);
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
  private sendPublish(p: PublishInfo): number {
    const topic = p.topic;
    const a = this.v === 5 && topic !== '' ? this.outAlias.lookup(topic) : 0;
    let end: number;
    if (a !== 0) {
      const own = p.properties;
      const props = own ? own : this.aliasProps;
      const had = props.topicAlias;
      props.topicAlias = a < 0 ? -a : a;
      p.properties = props;
      if (a > 0) p.topic = ''; // the server knows this alias: the topic can go
      end = encodePublish(p, 5, this.scratch, 0);
      p.topic = topic;
      props.topicAlias = had;
      p.properties = own;
    } else end = encodePublish(p, this.v, this.scratch, 0);
    if (end < 0) return end === Status.NoMemory ? Status.TooLarge : end;
    if (end > this.serverMaxPkt) return Status.TooLarge;
    const st = this.write(end);
    if (st >= 0 && a < 0) this.outAlias.assign(-a, topic);
    return st;
  }

  private readonly aliasProps: MqttProperties = {};

  private sendSubscribe(slot: number): number {
    const id = this.out.freeId();
    if (id < 0) return id;
    // MQTT 5: each subscription carries its slot as Subscription Identifier, so
    // a server that sends one copy per matching subscription (§3.3.4) names
    // the subscription each copy is for.
    const so = this.subOpts[slot];
    const end = encodeSubscribe(
      {
        packetId: id,
        subscriptions: [
          {
            topic: this.subFilter[slot] as string,
            qos: this.subQos[slot],
            noLocal: so ? so.noLocal : undefined,
            retainAsPublished: so ? so.retainAsPublished : undefined,
            retainHandling: so ? so.retainHandling : undefined,
          },
        ],
        properties: this.v === 5 ? { subscriptionIdentifier: slot + 1, userProperties: so ? so.userProperties : undefined } : undefined,
      },
      this.v,
      this.scratch,
      0,
    );
    if (end < 0) return end;
    this.subPending[slot] = id;
    return this.write(end);
  }

  /** Appends `scratch[0..len)` to the output buffer. */
  private write(len: number): number {
    return len < 0 ? len : this.writeFrom(this.scratch, 0, len);
  }

  private writeFrom(src: Uint8Array, off: number, len: number): number {
    if (this.tx.free < len) {
      this.flush();
      if (this.tx.free < len) return Status.Full;
    }
    this.tx.write(src, off, len);
    this.lastSend = this.now;
    if (this.tx.length > this.tx.capacity >> 1) this.flush();
    return Status.Ok;
  }

  /** Hands buffered output to the transport, as much as it takes. */
  private flush(): void {
    const tx = this.tx;
    while (tx.length > 0) {
      const n = this.t.send(tx.buf, tx.readableStart(), tx.readableLength());
      if (n < 0) return this.lost(n);
      if (n === 0) {
        this.blocked = true;
        return;
      }
      tx.skip(n);
    }
    if (this.blocked) {
      this.blocked = false;
      if (this.o.onWritable) this.o.onWritable();
    }
  }

  private drop(n: number): void {
    this.dropped += n;
    if (this.o.onDropped) this.o.onDropped(this.dropped);
  }

  // ── input ───────────────────────────────────────────────────────────────

  /**
   * Reads what the transport has (straight into the receive ring) and handles
   * every complete packet. Bounded per poll so one busy link cannot starve
   * the application.
   */
  private read(): void {
    const rx = this.rx;
    for (let round = 0; round < 32; round++) {
      const room = rx.writableLength();
      let n = 0;
      if (room > 0) {
        n = this.t.recv(rx.buf, rx.writableStart(), room);
        if (n < 0) return this.lost(n);
        rx.commitWrite(n);
      }
      for (;;) {
        const len = frameLength(rx, this.maxPkt);
        if (len === Status.NeedMoreBytes) break;
        if (len < 0) return this.protocolError(len); // malformed, or over our maximum packet size
        if (rx.length < len) break;
        rx.read(this.pkt, 0, len);
        this.handle(len);
        if (this.st < ClientState.Connecting) return;
      }
      if (n === 0) return;
    }
  }

  private protocolError(st: number): void {
    if (this.v === 5 && this.st === ClientState.Connected) {
      // 0x95 Packet too large, 0x81 Malformed Packet, 0x82 Protocol Error (§4.13).
      const code = st === Status.TooLarge ? 0x95 : st === Status.ProtocolError ? 0x82 : 0x81;
      const end = encodeDisconnect({ reasonCode: code }, 5, this.scratch, 0);
      if (end > 0) this.write(end);
      this.flush();
    }
    this.lost(st);
  }

  /** Decodes what a server may send (CONNECT and SUBSCRIBE/UNSUBSCRIBE are protocol errors here). */
  private decode(len: number): number {
    const v = this.view;
    const b = this.pkt;
    let st = decodeFixedHeader(b, 0, len, this.v, v, 0);
    if (st < 0) return st;
    const p = v.bodyOffset;
    switch (v.type) {
      case PacketType.CONNACK:
        st = decodeConnackBody(b, p, len, this.v, v);
        break;
      case PacketType.PUBLISH:
        st = decodePublishBody(b, p, len, v.flags, this.v, v);
        break;
      case PacketType.PUBACK:
      case PacketType.PUBREC:
      case PacketType.PUBREL:
      case PacketType.PUBCOMP:
        st = decodeAckBody(b, p, len, this.v, v);
        break;
      case PacketType.SUBACK:
      case PacketType.UNSUBACK:
        st = decodeSubackBody(b, p, len, this.v, v);
        break;
      case PacketType.PINGRESP:
      case PacketType.DISCONNECT:
      case PacketType.AUTH:
        st = decodeReasonBody(b, p, len, this.v, v);
        break;
      default:
        st = Status.ProtocolError;
    }
    return st;
  }

  private handle(len: number): void {
    const v = this.view;
    const st = this.decode(len);
    if (st < 0) return this.protocolError(st);
    const type = v.type;
    if (this.st === ClientState.Connecting) {
      if (type === PacketType.CONNACK) return this.connack();
      return this.protocolError(Status.ProtocolError);
    }
    switch (type) {
      case PacketType.PUBLISH:
        return this.incoming();
      case PacketType.PUBACK:
      case PacketType.PUBCOMP:
        return this.complete(v.packetId, v.reasonCode);
      case PacketType.PUBREC: {
        const i = this.out.find(v.packetId);
        if (v.reasonCode >= 0x80) return this.complete(v.packetId, v.reasonCode);
        if (i >= 0) this.out.q.setTagAt(i, outTag(v.packetId, 2, OutState.Released));
        this.write(encodeShortAck(PacketType.PUBREL, v.packetId, this.scratch, 0));
        return;
      }
      case PacketType.PUBREL:
        this.inIds.remove(v.packetId);
        this.write(encodeShortAck(PacketType.PUBCOMP, v.packetId, this.scratch, 0));
        return;
      case PacketType.SUBACK:
      case PacketType.UNSUBACK:
        return this.subAck(v.type === PacketType.SUBACK);
      case PacketType.PINGRESP:
        this.pingOut = false;
        return;
      case PacketType.DISCONNECT:
        return this.lost(v.reasonCode);
      default:
        // CONNACK twice, or a packet only a server receives.
        return this.protocolError(Status.ProtocolError);
    }
  }

  private complete(id: number, code: number): void {
    const i = this.out.find(id);
    if (i < 0) return;
    this.out.q.removeAt(i);
    if (this.o.onPublished) this.o.onPublished(id, code);
  }

  private subAck(sub: boolean): void {
    const v = this.view;
    const code = v.payloadLength > 0 ? this.pkt[v.payloadOffset] : 0;
    const ids = sub ? this.subPending : this.unsubPending;
    for (let i = 0; i < ids.length; i++) {
      if (ids[i] !== v.packetId) continue;
      ids[i] = 0;
      if (sub) {
        const f = this.subFilter[i];
        if (this.o.onSubscribed && f !== null) this.o.onSubscribed(f, code);
      } else {
        const f = this.unsubName[i] as string;
        this.unsubName[i] = null;
        if (this.o.onUnsubscribed) this.o.onUnsubscribed(f, code);
      }
      return;
    }
  }

  private incoming(): void {
    const v = this.view;
    const m = this.msg;
    const buf = this.pkt;
    m.buf = buf;
    m.topicBuf = buf;
    m.topicOffset = v.topicOffset;
    m.topicLength = v.topicLength;
    if (v.topicAlias > 0) {
      // MQTT 5 §3.3.2.3.4: a topic with an alias sets it; an empty topic uses it.
      if (v.topicLength > 0) {
        if (this.inAlias.set(v.topicAlias, buf, v.topicOffset, v.topicLength) < 0) return this.protocolError(Status.ProtocolError);
      } else {
        const n = this.inAlias.length(v.topicAlias);
        if (n < 0) return this.protocolError(Status.ProtocolError);
        m.topicBuf = this.inAlias.buf;
        m.topicOffset = (v.topicAlias - 1) * this.inAlias.maxTopic;
        m.topicLength = n;
      }
    }
    m.payloadOffset = v.payloadOffset;
    m.payloadLength = v.payloadLength;
    m.qos = v.qos;
    m.retain = v.retain;
    m.dup = v.dup;
    m.propertiesOffset = v.propertiesOffset;
    m.propertiesLength = v.propertiesLength;
    const id = v.packetId;
    if (v.qos === 2) {
      // Exactly once (§4.3.3): deliver on first receipt, acknowledge every time.
      if (!this.inIds.has(id)) {
        if (this.inIds.add(id) < 0) return this.protocolError(Status.ProtocolError); // over our Receive Maximum
        this.dispatch(m);
      }
      this.write(encodeShortAck(PacketType.PUBREC, id, this.scratch, 0));
      return;
    }
    this.dispatch(m);
    if (v.qos === 1) this.write(encodeShortAck(PacketType.PUBACK, id, this.scratch, 0));
  }

  private dispatch(m: MqttMessage): void {
    let taken = false;
    if (m.propertiesLength > 0) {
      const n = subscriptionIds(m.buf, m.propertiesOffset, m.propertiesOffset + m.propertiesLength, this.subIds);
      if (n > 0) {
        for (let k = 0; k < n; k++) {
          const h = this.subHandler[this.subIds[k] - 1];
          if (h) {
            h(m);
            taken = true;
          }
        }
        if (!taken && this.o.onMessage) this.o.onMessage(m);
        return;
      }
    }
    const end = m.topicOffset + m.topicLength;
    for (let i = 0; i < this.subFilter.length; i++) {
      const f = this.subFilter[i];
      const h = this.subHandler[i];
      if (f === null || h === null || !topicMatches(f, m.topicBuf, m.topicOffset, end)) continue;
      h(m);
      taken = true;
    }
    if (!taken && this.o.onMessage) this.o.onMessage(m);
  }
}
