/**
 * One MQTT-SN client as the gateway knows it (MQTT-SN 1.2 §6.14, Fig. 4): its state, where it
 * is, its Will, topics, subscriptions, outbound queue and the exchanges in progress in both
 * directions. Plain data: the handlers change it, the {@link SessionTable} indexes it.
 */
import type { ClientStateName, GatewayMetrics } from '../metrics';
import type { LinkWill } from '../broker/link';
import type { ClientEntry } from '../config/schema';
import type { Peer } from './peer';
import type { PredefinedView } from './predefined';
import { TopicRegistry } from './topics';
import { IDLE_FLIGHT, InFlight, OutQueue } from './queue';

/**
 * Client states of §6.14 (Fig. 4), plus `connecting`: CONNECT received, the Will flow
 * (§6.2) or the broker's answer still outstanding.
 */
export type SessionState = ClientStateName | 'connecting';

/** Where the CONNECT procedure (§6.2) of a `connecting` session stands. */
export const enum ConnectStage {
  /** Not connecting. */
  None = 0,
  /** WILLTOPICREQ sent, waiting for WILLTOPIC. */
  WillTopic = 1,
  /** WILLMSGREQ sent, waiting for WILLMSG. */
  WillMessage = 2,
  /** `link.connect` called, waiting for its answer; then CONNACK. */
  Broker = 3,
}

/** A subscription (§6.9) as the gateway keeps it. */
export interface Subscription {
  /** The MQTT topic filter (a short name or a pre-defined topic's name for those types). */
  readonly filter: string;
  /** Granted QoS (0..2), the upper bound for deliveries (§6.10). */
  qos: number;
  /** TopicIdType the client subscribed with (§5.3.4): deliveries use the same type. */
  readonly topicIdType: number;
  /** The pre-defined id or the short name's two octets; 0 for a normal name or filter. */
  readonly topicId: number;
  /**
   * Until when (gateway clock) retained messages the broker sends with the Retain flag set
   * belong to this subscription (aggregating mode, see `deliver.ts`).
   */
  retainedUntil: number;
}

/**
 * State of a client→gateway QoS 2 exchange (§6.6) in {@link Session.inbound2}: this value
 * once the broker completed and PUBREC was sent (waiting for PUBREL); while the message is
 * still with the broker link, a positive token unique to that hand-over (so a late answer for
 * an earlier message with the same MsgId is recognised).
 */
export const QOS2_RECEIVED = 0;

/** Most QoS 2 exchanges one client may have open towards the gateway (§6.6 allows one). */
export const MAX_INBOUND_QOS2 = 8;

/**
 * Most SUBSCRIBE / UNSUBSCRIBE one client may have waiting for the broker link (§6.9 allows
 * one). Counted across reconnects: a client that keeps reconnecting while the broker is down
 * cannot pile operations up in the link.
 */
export const MAX_LINK_OPS = 4;

/** A SUBACK as sent (§5.4.16), kept for a DUP SUBSCRIBE. */
export interface SubAck {
  msgId: number;
  topicId: number;
  qos: number;
  returnCode: number;
}

/** One client. */
export class Session {
  /** ClientId (§5.3.1). */
  readonly clientId: string;
  /** See {@link SessionState}; changed only through `SessionTable.setState`. */
  state: SessionState = 'disconnected';
  /** Where the client is now, or null (disconnected, lost). */
  peer: Peer | null = null;
  /**
   * Incremented whenever the connection changes (new CONNECT, disconnect, lost, taken over):
   * asynchronous answers from the broker link check it and are ignored when stale.
   */
  epoch = 0;
  /** CleanSession of the last CONNECT (§6.3). */
  cleanSession = true;
  /** Keep-alive (CONNECT Duration, §6.11) in ms; 0 = not supervised. */
  keepAliveMs = 0;
  /** Sleep duration (DISCONNECT Duration, §6.14) in ms while asleep / awake. */
  sleepMs = 0;
  /** When the last message from the client arrived (gateway clock). */
  lastSeen = 0;
  /** When the current state began (gateway clock): eviction order of idle records. */
  since = 0;

  /** CONNECT procedure (§6.2). */
  stage: ConnectStage = ConnectStage.None;
  /** Will-flow deadline (willTimeout). */
  stageDue = 0;
  /** Will data being collected during the Will flow. */
  pendingWill: LinkWill | null = null;
  /** The Will in force (§6.3, §6.4), or null. */
  will: LinkWill | null = null;
  /** A Will message received by WILLMSGUPD while there is no Will topic (§6.4). */
  willPayload: Uint8Array | null = null;

  /** Normal topic ids (§6.5). */
  readonly topics: TopicRegistry;
  /** Pre-defined topics of this client (§6.7). */
  readonly predefined: PredefinedView;
  /**
   * Subscriptions by filter (§6.9): a second SUBSCRIBE to the same filter replaces the first.
   * Null until the first subscription (most sensors never subscribe; an empty `Map` costs
   * about 185 bytes).
   */
  subs: Map<string, Subscription> | null = null;
  /** Messages waiting for the client (§6.10, buffered while asleep §6.14). */
  readonly queue: OutQueue;
  /**
   * The gateway→client exchange in flight (§6.13). The shared, never-written
   * {@link IDLE_FLIGHT} until the first exchange: code that starts one takes
   * {@link Session.ownFlight}.
   */
  flight: InFlight = IDLE_FLIGHT;
  /**
   * Last MsgId the gateway used towards this client. A new record starts at a random point
   * (see `onConnect`): a client that kept QoS 2 state across a gateway restart (CleanSession=0,
   * a MsgId still waiting for its PUBREL) would otherwise take the new gateway's first
   * messages for duplicates and drop them.
   */
  msgId = 0;

  /**
   * Open client→gateway QoS 2 exchanges: MsgId → {@link QOS2_RECEIVED} or a forwarding token.
   * Null until the first QoS 2 PUBLISH.
   */
  inbound2: Map<number, number> | null = null;
  /** Last forwarding token handed out for {@link Session.inbound2}. */
  token = 0;
  /** MsgId of the QoS 1 PUBLISH being forwarded (-1: none): its DUP copies are not forwarded again. */
  qos1Pending = -1;
  /** MsgId of the last QoS 1 PUBLISH acknowledged (-1: none): a DUP of it only gets its PUBACK again. */
  qos1Done = -1;
  /**
   * MsgIds of SUBSCRIBE / UNSUBSCRIBE waiting for the broker: a DUP of one is not sent again.
   * Null until the first SUBSCRIBE / UNSUBSCRIBE.
   */
  subPending: Set<number> | null = null;
  /** SUBSCRIBE / UNSUBSCRIBE handed to the link and not answered yet, whatever the epoch (≤ {@link MAX_LINK_OPS}). */
  linkOps = 0;
  /**
   * Filters with a SUBSCRIBE waiting for the broker, each with the ticket of the latest one. An
   * UNSUBSCRIBE of the filter removes it, so that the SUBACK arriving after it does not bring the
   * subscription back (the broker no longer holds it). Null until the first SUBSCRIBE.
   */
  subWanted: Map<string, number> | null = null;
  /** Last ticket handed out for {@link Session.subWanted}. */
  subTicket = 0;
  /** The last SUBACK sent, re-sent for a DUP SUBSCRIBE with its MsgId (§5.3.4); null: none. */
  lastSubAck: SubAck | null = null;

  /** The `clients` entry of the configuration, when listed. */
  readonly entry: ClientEntry | undefined;

  constructor(
    clientId: string,
    predefined: PredefinedView,
    maxTopics: number,
    queueLimit: number,
    metrics: GatewayMetrics,
    entry: ClientEntry | undefined,
  ) {
    this.clientId = clientId;
    this.predefined = predefined;
    this.topics = new TopicRegistry(maxTopics, predefined);
    this.queue = new OutQueue(queueLimit, metrics);
    this.entry = entry;
  }

  /** True in the states of an open session: connecting, active, asleep, awake. */
  get connected(): boolean {
    const s = this.state;
    return s === 'active' || s === 'asleep' || s === 'awake' || s === 'connecting';
  }

  /** The next MsgId for a gateway→client message: 1..65535, never 0 (§5.3.7). */
  nextMsgId(): number {
    this.msgId = this.msgId >= 0xffff ? 1 : this.msgId + 1;
    return this.msgId;
  }

  /** The exchange in flight, to start one: replaces {@link IDLE_FLIGHT} by the session's own. */
  ownFlight(): InFlight {
    const f = this.flight;
    return f !== IDLE_FLIGHT ? f : (this.flight = new InFlight());
  }

  /** The subscriptions, created on first use. */
  subsMap(): Map<string, Subscription> {
    return (this.subs ??= new Map());
  }

  /** The open QoS 2 exchanges, created on first use. */
  inbound2Map(): Map<number, number> {
    return (this.inbound2 ??= new Map());
  }

  /** The SUBSCRIBE / UNSUBSCRIBE MsgIds waiting for the broker, created on first use. */
  subPendingSet(): Set<number> {
    return (this.subPending ??= new Set());
  }

  /** Forgets everything a clean session discards (§6.3): Will, topics, subscriptions, queue, exchanges. */
  clean(): void {
    this.will = null;
    this.willPayload = null;
    this.topics.clear();
    this.subs = null;
    this.queue.clear();
    if (this.flight !== IDLE_FLIGHT) this.flight.clear();
    this.inbound2 = null;
    this.qos1Pending = this.qos1Done = -1;
    this.subPending = null;
    this.subWanted = null;
    this.lastSubAck = null;
  }
}
