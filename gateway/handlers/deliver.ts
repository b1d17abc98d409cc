/**
 * Gateway→client publishing (MQTT-SN 1.2 §6.10, §6.13, §6.14): routing broker messages to
 * sessions, the per-client queue, REGISTER before a PUBLISH on a topic the client has no id
 * for, QoS 1/2 with T_RETRY / N_RETRY retransmission, and the acknowledgements the client
 * sends back (REGACK, PUBACK, PUBREC, PUBCOMP).
 *
 * One exchange (REGISTER, QoS 1/2 PUBLISH, PUBREL) is in flight per client at a time; QoS 0
 * messages queued behind it wait, so the client sees messages in the order the broker sent
 * them. A QoS 0 message for an idle active client whose topic id it knows goes out at once,
 * without a copy (the hot path).
 */
import { MsgType, TopicIdType } from '../../src/mqttsn';
import type { SnMessage } from '../../src/mqttsn';
import { topicMatches } from '../../src/mqtt/topic';
import { utf8Encode, utf8Length } from '../../src/core/utf8';
import { qosIndex } from '../metrics';
import { RC_ACCEPTED, RC_INVALID_TOPIC_ID } from '../session/errors';
import type { Peer } from '../session/peer';
import type { Session, Subscription } from '../session/session';
import { FlightKind, OutMessage } from '../session/queue';
import { TOPICS_FULL } from '../session/topics';
import { reached } from '../session/time';
import type { HandlerContext } from './context';

let topicBuf = new Uint8Array(1024);

/**
 * Aggregating mode: how long after its SUBACK a subscription takes the retained messages the
 * broker sends (Retain flag set). MQTT 3.1.1 §3.3.1.3 / MQTT 5 §3.3.1.3 set that flag only on
 * messages sent because a subscription was just made, so on the shared connection such a
 * message answers the SUBSCRIBE of whichever client just subscribed: it goes to the clients
 * whose matching subscription is this recent, not again to every client subscribed long ago
 * (nor to all of them when the link re-subscribes after losing its broker session).
 */
export const RETAINED_WINDOW_MS = 10_000;

/**
 * A message from the broker (`BrokerLinkHandlers.onMessage`). Transparent mode: for the client
 * whose connection received it. Aggregating (`clientId` null): for every session with a
 * matching subscription; when the link says which of its filters the copy is for (`via`), only
 * for sessions whose own first matching filter (in string order) is that one, so that a broker
 * sending one copy per subscription gives each client one. QoS is downgraded to the
 * subscription's granted QoS (§6.10).
 */
export function onBrokerMessage(
  ctx: HandlerContext,
  clientId: string | null,
  topic: string,
  payload: Uint8Array,
  qos: number,
  retain: boolean,
  via: string | null = null,
): void {
  let n = topic.length;
  if (n * 3 > topicBuf.length) {
    const len = utf8Length(topic);
    if (len < 0) return;
    if (len > topicBuf.length) topicBuf = new Uint8Array(len);
  }
  n = utf8Encode(topic, topicBuf, 0);
  if (clientId !== null) {
    const s = ctx.table.get(clientId);
    if (s !== undefined) route(ctx, s, topic, n, payload, qos, retain, true, 0, null);
    return;
  }
  if (ctx.link.mode !== 'aggregating') return; // the gateway's own connection subscribes to nothing
  const now = retain ? ctx.now() : 0;
  for (const s of ctx.table.values()) {
    if (s.subs !== null && s.subs.size !== 0) route(ctx, s, topic, n, payload, qos, retain, false, now, via);
  }
}

/**
 * Matches `topic` against `s`'s subscriptions and delivers once, at the highest granted QoS.
 * `always`: the message came on the client's own connection (transparent). Otherwise a
 * retained message (`retain`) only matches subscriptions made within {@link RETAINED_WINDOW_MS}
 * of `now`, and a copy for the shared connection's filter `via` is delivered only when `via` is
 * the first (in string order) of `s`'s matching filters: the copies for its other filters are
 * the same message.
 */
function route(
  ctx: HandlerContext,
  s: Session,
  topic: string,
  n: number,
  payload: Uint8Array,
  qos: number,
  retain: boolean,
  always: boolean,
  now: number,
  via: string | null,
): void {
  let granted = -1;
  let typed: Subscription | null = null;
  let first: string | null = null;
  const fresh = retain && !always;
  const subs = s.subs;
  if (subs !== null) for (const sub of subs.values()) {
    if (sub.topicIdType === TopicIdType.Normal ? !topicMatches(sub.filter, topicBuf, 0, n) : sub.filter !== topic) continue;
    if (fresh && reached(now, sub.retainedUntil)) continue;
    if (sub.qos > granted) granted = sub.qos;
    if (sub.topicIdType !== TopicIdType.Normal && typed === null) typed = sub;
    if (via !== null && (first === null || sub.filter < first)) first = sub.filter;
  }
  if (via !== null && first !== null && first !== via) return; // the copy for `first` delivers it
  if (granted < 0) {
    // Transparent: the broker only sends what this client's connection subscribed to (maybe
    // in a session the gateway has not seen, CleanSession=0): deliver as the broker says.
    if (!always) return;
    granted = 2;
  }
  deliver(
    ctx,
    s,
    topic,
    payload,
    qos < granted ? qos : granted,
    retain,
    typed === null ? TopicIdType.Normal : typed.topicIdType,
    typed === null ? 0 : typed.topicId,
  );
}

/**
 * Delivers one message to `s`: at once when the client is active and idle and knows the
 * topic id, else through its queue (§6.14: buffered while asleep). A disconnected or lost
 * persistent session (CleanSession=0) keeps QoS 1/2 messages for its next connection.
 */
export function deliver(
  ctx: HandlerContext,
  s: Session,
  topic: string,
  payload: Uint8Array,
  qos: number,
  retain: boolean,
  topicIdType: number,
  topicId: number,
): void {
  const st = s.state;
  if (st === 'disconnected' || st === 'lost') {
    if (qos === 0 || s.cleanSession) return;
  } else if (st === 'active' && s.flight.kind === FlightKind.None && s.queue.length === 0 && qos === 0) {
    let id = topicId;
    if (topicIdType === TopicIdType.Normal) {
      id = s.topics.id(topic);
      if (id === 0 || !s.topics.isKnown(id)) id = -1;
    }
    if (id >= 0) {
      if (publish(ctx, s.peer!, payload, 0, retain, id, topicIdType, 0, false) >= 0) ctx.metrics.messagesOut[1]++;
      return;
    }
  }
  const msg = new OutMessage(topic, payload.slice(), qos, retain, topicIdType, topicId);
  const dropped = s.queue.push(msg);
  if (dropped !== null) {
    if (st === 'asleep' || st === 'awake') {
      ctx.metrics.drop('sleep_buffer_full');
      ctx.log.warn('buffer of a sleeping client full: oldest message dropped', {
        clientId: s.clientId,
        limit: s.queue.limit,
        topic: dropped.topic,
        qos: dropped.qos,
      });
    } else ctx.drop('congestion', s.peer, `queue of ${s.clientId} full (${s.queue.limit})`);
  }
  if (st === 'active' || st === 'awake') pump(ctx, s);
}

/**
 * Sends queued messages while nothing is in flight and the client can receive (active or
 * awake). An awake client whose queue is empty and nothing in flight gets the PINGRESP that
 * ends its awake period (§6.14) and is asleep again, its sleep timer restarted.
 */
export function pump(ctx: HandlerContext, s: Session): void {
  while (s.flight.kind === FlightKind.None) {
    const st = s.state;
    if ((st !== 'active' && st !== 'awake') || s.peer === null) return;
    const msg = s.queue.shift();
    if (msg === undefined) break;
    start(ctx, s, msg);
  }
  if (s.state === 'awake' && s.flight.kind === FlightKind.None && s.queue.length === 0 && s.peer !== null) {
    const now = ctx.now();
    ctx.sendHeader(s.peer, MsgType.PINGRESP);
    s.lastSeen = now;
    ctx.table.setState(s, 'asleep', now);
  }
}

/** Starts delivering `msg`: REGISTER first when the client has no known id for its topic (§6.10). */
function start(ctx: HandlerContext, s: Session, msg: OutMessage): void {
  let id = msg.topicId;
  if (msg.topicIdType === TopicIdType.Normal) {
    id = s.topics.id(msg.topic);
    if (id === 0 || !s.topics.isKnown(id)) {
      register(ctx, s, msg, false);
      return;
    }
  }
  send(ctx, s, msg, id, msg.topicIdType);
}

/** Sends REGISTER for `msg.topic` (a new id, or the one it has) and waits for REGACK (§6.10). */
function register(ctx: HandlerContext, s: Session, msg: OutMessage, again: boolean): void {
  const id = s.topics.register(msg.topic);
  if (id === TOPICS_FULL) {
    ctx.drop('congestion', s.peer, `topic table of ${s.clientId} full (${ctx.config.maxTopicsPerClient}), message on ${msg.topic} dropped`);
    return;
  }
  const f = s.ownFlight();
  f.kind = FlightKind.Register;
  f.msg = msg;
  f.msgId = s.nextMsgId();
  f.topicId = id;
  f.topicIdType = TopicIdType.Normal;
  f.qos = msg.qos;
  f.retries = 0;
  f.reregistered = again;
  f.due = ctx.now() + ctx.timers.tRetry;
  if (sendRegister(ctx, s.peer!, f.topicId, f.msgId, msg.topic) < 0) f.clear(); // too long: aborted (§6.10)
}

function sendRegister(ctx: HandlerContext, peer: Peer, topicId: number, msgId: number, topic: string): number {
  const m = ctx.mo;
  m.reset();
  m.type = MsgType.REGISTER;
  m.topicId = topicId;
  m.msgId = msgId;
  m.text = topic;
  return ctx.transmit(peer, m);
}

/** Sends `msg` as PUBLISH with `topicId`; QoS 1/2 stay in flight until acknowledged. */
function send(ctx: HandlerContext, s: Session, msg: OutMessage, topicId: number, topicIdType: number): void {
  const msgId = msg.qos > 0 ? s.nextMsgId() : 0;
  if (publish(ctx, s.peer!, msg.payload, msg.qos, msg.retain, topicId, topicIdType, msgId, false) < 0) return;
  ctx.metrics.messagesOut[qosIndex(msg.qos)]++;
  if (msg.qos === 0) return;
  const f = s.ownFlight();
  f.kind = FlightKind.Publish;
  f.msg = msg;
  f.msgId = msgId;
  f.topicId = topicId;
  f.topicIdType = topicIdType;
  f.qos = msg.qos;
  f.retries = 0;
  f.due = ctx.now() + ctx.timers.tRetry;
}

/** Encodes and sends one PUBLISH (§5.4.12); returns {@link HandlerContext.transmit}'s result. */
function publish(
  ctx: HandlerContext,
  peer: Peer,
  payload: Uint8Array,
  qos: number,
  retain: boolean,
  topicId: number,
  topicIdType: number,
  msgId: number,
  dup: boolean,
): number {
  const m: SnMessage = ctx.mo;
  m.reset();
  m.type = MsgType.PUBLISH;
  m.dup = dup;
  m.qos = qos;
  m.retain = retain;
  m.topicIdType = topicIdType;
  m.topicId = topicId;
  m.msgId = msgId;
  m.data = payload;
  m.dataOffset = 0;
  m.dataLength = payload.length;
  return ctx.transmit(peer, m);
}

/** Sends the exchange in flight again (§6.13): PUBLISH with DUP set, REGISTER or PUBREL as they were. */
function resend(ctx: HandlerContext, s: Session): void {
  const f = s.flight;
  const peer = s.peer!;
  if (f.kind === FlightKind.Register) sendRegister(ctx, peer, f.topicId, f.msgId, f.msg!.topic);
  else if (f.kind === FlightKind.Publish) publish(ctx, peer, f.msg!.payload, f.qos, f.msg!.retain, f.topicId, f.topicIdType, f.msgId, true);
  else if (f.kind === FlightKind.Release) ctx.sendMsgId(peer, MsgType.PUBREL, f.msgId);
}

/** After a CONNECT resuming a session, or a wake-up: sends what was in flight again at once. */
export function resumeFlight(ctx: HandlerContext, s: Session, now: number): void {
  const f = s.flight;
  if (f.kind === FlightKind.None || s.peer === null) return;
  f.retries = 0;
  f.due = now + ctx.timers.tRetry;
  ctx.metrics.retransmissions++;
  resend(ctx, s);
}

/**
 * T_RETRY / N_RETRY (§6.13) for `s` at `now`: retransmits the exchange in flight, or after
 * N_RETRY retransmissions gives the message up (counted `retries_exhausted`) and goes on with
 * the next. An awake client that stops answering goes back to asleep (its buffer kept).
 * Liveness itself is left to the keep-alive and sleep timers.
 */
export function retry(ctx: HandlerContext, s: Session, now: number): void {
  const f = s.flight;
  if (f.kind === FlightKind.None || !reached(now, f.due)) return;
  const st = s.state;
  if ((st !== 'active' && st !== 'awake') || s.peer === null) return;
  if (f.retries >= ctx.timers.nRetry) {
    if (st === 'awake') {
      // The client went back to sleep without its messages (§6.14: it limits its PINGREQ
      // retries): asleep again, the exchange kept and sent again (DUP) at its next wake-up.
      // Dropping it would lose a message the broker already handed over.
      if (ctx.log.enabled('debug')) ctx.log.debug('awake client stopped answering: asleep again, exchange kept', { clientId: s.clientId, retries: f.retries });
      s.lastSeen = now;
      ctx.table.setState(s, 'asleep', now);
      return;
    }
    ctx.metrics.drop('retries_exhausted');
    ctx.log.warn('message to client given up after N_RETRY retransmissions', {
      clientId: s.clientId,
      topic: f.msg!.topic,
      exchange: f.kind === FlightKind.Register ? 'REGISTER' : f.kind === FlightKind.Publish ? 'PUBLISH' : 'PUBREL',
      retries: f.retries,
    });
    f.clear();
    pump(ctx, s);
    return;
  }
  f.retries++;
  f.due = now + ctx.timers.tRetry;
  ctx.metrics.retransmissions++;
  resend(ctx, s);
}

/**
 * REGACK (§6.10) for the gateway's REGISTER: accepted → the PUBLISH follows; rejected → the
 * message is dropped and, when the client subscribed to exactly that name, the subscription
 * ends ("corresponds to an unsubscribe").
 */
export function onRegack(ctx: HandlerContext, s: Session, m: SnMessage): void {
  const f = s.flight;
  if (f.kind !== FlightKind.Register || f.msgId !== m.msgId) return; // late or duplicate
  const msg = f.msg!;
  const id = f.topicId;
  f.clear();
  if (m.returnCode === RC_ACCEPTED) {
    s.topics.markKnown(id);
    send(ctx, s, msg, id, TopicIdType.Normal);
  } else {
    ctx.drop(m.returnCode === RC_INVALID_TOPIC_ID ? 'invalid_topic_id' : 'congestion', s.peer, `REGISTER ${msg.topic} rejected by ${s.clientId} (${m.returnCode})`);
    const sub = s.subs === null ? undefined : s.subs.get(msg.topic);
    if (sub !== undefined && sub.topicIdType === TopicIdType.Normal) {
      s.subs!.delete(msg.topic);
      ctx.link.unsubscribe(s.clientId, msg.topic, () => {});
    }
  }
  pump(ctx, s);
}

/**
 * PUBACK from the client: ends a QoS 1 exchange; "invalid topic ID" (§6.10) makes the gateway
 * forget that the client knows the id and REGISTER it again before one more try.
 */
export function onPuback(ctx: HandlerContext, s: Session, m: SnMessage): void {
  const f = s.flight;
  if (f.kind !== FlightKind.Publish || f.msgId !== m.msgId || m.msgId === 0) {
    // A rejected QoS 0 PUBLISH (MsgId 0): correct the topic id assignment (§6.10).
    if (m.returnCode === RC_INVALID_TOPIC_ID) s.topics.markUnknown(m.topicId);
    return;
  }
  if (m.returnCode === RC_ACCEPTED) {
    f.clear();
    pump(ctx, s);
    return;
  }
  const msg = f.msg!;
  if (m.returnCode === RC_INVALID_TOPIC_ID && f.topicIdType === TopicIdType.Normal && !f.reregistered) {
    s.topics.markUnknown(f.topicId);
    f.clear();
    register(ctx, s, msg, true);
    if (s.flight.kind === FlightKind.None) pump(ctx, s);
    return;
  }
  f.clear();
  ctx.drop(m.returnCode === RC_INVALID_TOPIC_ID ? 'invalid_topic_id' : 'congestion', s.peer, `PUBLISH ${msg.topic} rejected by ${s.clientId} (${m.returnCode})`);
  pump(ctx, s);
}

/** PUBREC from the client (QoS 2, §6.10): PUBREL follows, retransmitted until PUBCOMP. */
export function onPubrec(ctx: HandlerContext, s: Session, m: SnMessage): void {
  const f = s.flight;
  if (f.msgId !== m.msgId) return;
  if (f.kind === FlightKind.Publish && f.qos === 2) {
    f.kind = FlightKind.Release;
    f.retries = 0;
    f.due = ctx.now() + ctx.timers.tRetry;
  } else if (f.kind !== FlightKind.Release) return;
  ctx.sendMsgId(s.peer!, MsgType.PUBREL, m.msgId);
}

/** PUBCOMP from the client: the QoS 2 exchange is complete. */
export function onPubcomp(ctx: HandlerContext, s: Session, m: SnMessage): void {
  const f = s.flight;
  if (f.kind !== FlightKind.Release || f.msgId !== m.msgId) return;
  f.clear();
  pump(ctx, s);
}
