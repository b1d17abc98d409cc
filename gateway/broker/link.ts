/**
 * The gateway core's view of the MQTT broker (DESIGN.md §2, `broker/`): one interface, two
 * implementations chosen by `config.mode`:
 *
 * - **transparent** (MQTT-SN 1.2 §4.1, Fig. 2): one MQTT connection per MQTT-SN client, opened
 *   with the client's own ClientId, CleanSession and Will; a lost client's connection is dropped
 *   without DISCONNECT so the broker itself publishes the Will.
 * - **aggregating** (§4.1, Fig. 3): one MQTT connection for every client; subscriptions are
 *   reference-counted per filter and the link publishes a lost client's Will itself.
 *
 * Both sit on fieldmq's own {@link MqttClient} (resend with DUP after a broker restart, QoS 2
 * exactly once), and both keep working across broker restarts: the link reconnects with
 * back-off and nothing the core handed it is dropped while it is down, up to its queue size
 * (`publish` then answers {@link LINK_FULL}).
 *
 * Everything is asynchronous through callbacks, called from the event loop (never from inside
 * the call that registered them). Payloads passed in are copied when kept; payloads passed out
 * are views valid only during the callback.
 */

/** A Will as the link needs it (from WILLTOPIC + WILLMSG, MQTT-SN 1.2 §6.2–§6.4). */
export interface LinkWill {
  topic: string;
  payload: Uint8Array;
  qos: number;
  retain: boolean;
}

/** What the link needs to know about an MQTT-SN client to open its session. */
export interface LinkClient {
  clientId: string;
  /** CleanSession of the MQTT-SN CONNECT (§6.3). */
  cleanSession: boolean;
  /** The client's Will, or null. */
  will: LinkWill | null;
}

/** Returned by {@link BrokerLink.publish} when the link cannot take another message now. */
export const LINK_FULL = -1;
/** Returned by {@link BrokerLink.publish} for an unknown client (transparent mode). */
export const LINK_NO_CLIENT = -2;
/** Returned by {@link BrokerLink.publish} for a message MQTT cannot carry (invalid topic name, over the packet size). */
export const LINK_REJECTED = -3;

/** Callbacks the gateway core sets on the link. */
export interface BrokerLinkHandlers {
  /**
   * A message from the broker. `clientId` is the client whose own connection received it
   * (transparent), or null (aggregating: for every client whose subscription matches). QoS is
   * as delivered by the broker; the core downgrades per subscriber. `payload` is a view.
   *
   * `filter` (aggregating): the shared connection's subscription this copy is for, or null
   * when unknown. A broker may send one copy per matching subscription (MQTT 5 with
   * Subscription Identifiers, §3.3.4), and then the link calls once per copy, each with its
   * filter; with one copy for several matching filters it calls once per filter. Either way
   * the core delivers a copy to a client only for one of the client's own matching filters,
   * so each client gets the message once. (A subscription change landing between the copies
   * of one message can make a client get that message twice or miss it.)
   */
  onMessage(clientId: string | null, topic: string, payload: Uint8Array, qos: number, retain: boolean, filter?: string | null): void;
  /**
   * A broker connection went down or came back: the client's (transparent) or the shared one
   * (`clientId` null). Informational: the link keeps reconnecting by itself.
   */
  onConnection?(clientId: string | null, up: boolean): void;
}

/** The link to the broker; see the module comment. */
export interface BrokerLink {
  readonly mode: 'transparent' | 'aggregating';
  /** Set by the core before `start`. */
  handlers: BrokerLinkHandlers | null;
  /**
   * Starts the link. Aggregating: connects the shared connection and resolves once connected.
   * Rejects with a clear Error: at the first CONNACK refusal (e.g. bad credentials); at the
   * first attempt that finds nothing listening or a host name that does not resolve
   * (`ECONNREFUSED`, `ENOTFOUND`: the socket error is in the message); otherwise (a broker that
   * does not answer, no route) at the timeout. Transparent: connects the gateway's own
   * connection (see `publish`) the same way.
   */
  start(): Promise<void>;
  /**
   * Closes every broker connection gracefully (DISCONNECT, so no Will is published) and stops.
   * Waits (bounded) for messages in flight to be acknowledged first. Callbacks still pending
   * are answered: publish and subscribe `done(0x80)`, unsubscribe `done()`, connect `done(1)`;
   * a pending `start` rejects.
   */
  stop(): Promise<void>;
  /**
   * Opens `c`'s broker session. `done(returnCode)` with an MQTT-SN ReturnCode (§5.3.10) for the
   * CONNACK: 0 accepted, 1 congestion (broker unreachable or link full), 3 not supported
   * (refused by the broker, e.g. bad client id or not authorised). Aggregating: records the
   * Will and answers 0 while the shared link is connected. A second `connect` for the same id
   * replaces the first session (the client reconnected); the first call's `done`, if still
   * pending, is not called.
   */
  connect(c: LinkClient, done: (returnCode: number) => void): void;
  /**
   * Ends `clientId`'s session. `publishWill` true for a lost client (keep-alive or sleep
   * timer expired, §6.3): the Will is published. False for a DISCONNECT from the client.
   * `cleanSession` true also removes the broker-side subscriptions (aggregating: drops the
   * client's references).
   */
  disconnect(clientId: string, publishWill: boolean): void;
  /**
   * Drops every trace of `clientId`: the core evicted its idle record (a CleanSession=0 client
   * that disconnected or was lost), nobody will resume that session. No Will is published, no
   * callback is called. Aggregating: its record (Will, CleanSession) and its references go, and
   * filters nobody else holds are unsubscribed. Transparent: its broker connection, if one is
   * still open, is closed with DISCONNECT (the broker keeps a CleanSession=0 session until its
   * own expiry). Unknown ids are ignored. Callbacks of calls still pending for the client
   * (`subscribe`, `unsubscribe`, `setWill`) are still answered.
   */
  forget(clientId: string): void;
  /**
   * Replaces the client's Will (WILLTOPICUPD / WILLMSGUPD, §6.4); `done(returnCode)` once the
   * new Will is in place (transparent: the client's broker connection was re-opened with it:
   * 0, 3 refused by the broker, 1 not within the connect timeout).
   */
  setWill(clientId: string, will: LinkWill | null, done: (returnCode: number) => void): void;
  /**
   * Publishes for `clientId`, or with `clientId` null on the gateway's own connection (QoS -1
   * messages from unconnected senders, `$SYS` counters; transparent mode opens that connection
   * at `start`, as `<gatewayName>`). Returns 0 when the link took the message, {@link LINK_FULL},
   * {@link LINK_NO_CLIENT} or {@link LINK_REJECTED}. For QoS 1/2, `done(reasonCode)` runs once the broker completed
   * the exchange (PUBACK / PUBCOMP): 0..0x7f success, >= 0x80 refused by the broker (MQTT 5),
   * or 0x80 when the link gave up on it (`stop`, or the client's connection closed, before the
   * broker acknowledged it). QoS 0: `done` is not called. `payload` is copied.
   */
  publish(clientId: string | null, topic: string, payload: Uint8Array, qos: number, retain: boolean, done: ((reasonCode: number) => void) | null): number;
  /**
   * Subscribes `clientId` to `filter`; `done(granted)`: 0..2 (at most `qos`), or 0x80 (failure).
   * The broker sends the filter's retained messages again, also when other clients already
   * hold it (aggregating: every call sends a SUBSCRIBE, at QoS 2, and is answered at its
   * SUBACK with min(`qos`, granted); see `aggregating.ts`).
   */
  subscribe(clientId: string, filter: string, qos: number, done: (granted: number) => void): void;
  /** Unsubscribes `clientId` from `filter`; `done()` when the broker confirmed (or at once when other clients still hold it). */
  unsubscribe(clientId: string, filter: string, done: () => void): void;
}
