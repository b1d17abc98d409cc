/** SUBSCRIBE and UNSUBSCRIBE (MQTT-SN 1.2 §6.9). */
import { MsgType, TopicIdType } from '../../src/mqttsn';
import type { SnMessage } from '../../src/mqttsn';
import { checkTopicFilter } from '../../src/mqtt/topic';
import { utf8Decode } from '../../src/core/utf8';
import { RC_ACCEPTED, RC_CONGESTION, RC_INVALID_TOPIC_ID, RC_NOT_SUPPORTED } from '../session/errors';
import { MAX_LINK_OPS, type Session } from '../session/session';
import { TOPICS_FULL, shortTopicName } from '../session/topics';
import type { HandlerContext } from './context';
import { RETAINED_WINDOW_MS } from './deliver';

function hasWildcard(filter: string): boolean {
  return filter.indexOf('+') >= 0 || filter.indexOf('#') >= 0;
}

/**
 * SUBSCRIBE (§6.9) → `link.subscribe` → SUBACK with the granted QoS. By topic name (wildcards
 * allowed: SUBACK TopicId 0x0000; a plain name gets its registered id), by pre-defined id
 * (unknown → "invalid topic ID") or by short name (SUBACK TopicId 0x0000, "not relevant",
 * §5.4.16). A broker refusal (SUBACK 0x80) → "rejected: not supported". A DUP of a SUBSCRIBE
 * still waiting for the broker is ignored; a DUP of the last one answered gets the same SUBACK
 * again. A second SUBSCRIBE to a filter replaces the first (never two subscriptions).
 */
export function onSubscribe(ctx: HandlerContext, s: Session, m: SnMessage): void {
  const peer = s.peer!;
  const msgId = m.msgId;
  if (s.subPending !== null && s.subPending.has(msgId)) return;
  const last = s.lastSubAck;
  if (m.dup && last !== null && last.msgId === msgId) {
    ctx.sendSuback(peer, last.qos, last.topicId, msgId, last.returnCode);
    return;
  }
  const type = m.topicIdType;
  let filter: string | undefined;
  let topicId = 0;
  if (type === TopicIdType.Normal) {
    const buf = m.data!;
    const end = m.dataOffset + m.dataLength;
    if (checkTopicFilter(buf, m.dataOffset, end) !== 0) {
      answer(ctx, s, msgId, 0, 0, RC_NOT_SUPPORTED);
      return;
    }
    filter = utf8Decode(buf, m.dataOffset, end);
    if (!hasWildcard(filter)) {
      topicId = s.topics.register(filter);
      if (topicId === TOPICS_FULL) {
        ctx.drop('congestion', peer, `topic table of ${s.clientId} full (${ctx.config.maxTopicsPerClient})`);
        answer(ctx, s, msgId, 0, 0, RC_CONGESTION);
        return;
      }
    }
  } else if (type === TopicIdType.Predefined) {
    filter = s.predefined.byId.get(m.topicId);
    if (filter === undefined) {
      ctx.drop('invalid_topic_id', peer, `SUBSCRIBE to unknown pre-defined topic id ${m.topicId}`);
      answer(ctx, s, msgId, 0, m.topicId, RC_INVALID_TOPIC_ID);
      return;
    }
    topicId = m.topicId;
  } else {
    const name = shortTopicName(m.topicId);
    if (name === null) {
      answer(ctx, s, msgId, 0, 0, RC_NOT_SUPPORTED);
      return;
    }
    filter = name;
  }
  const held = s.subs === null ? 0 : s.subs.size;
  if (held >= ctx.config.maxTopicsPerClient && (s.subs === null || !s.subs.has(filter))) {
    // One client must not fill the shared connection's subscription table (aggregating).
    ctx.drop('congestion', peer, `${s.clientId} holds ${held} subscriptions (maxTopicsPerClient)`);
    answer(ctx, s, msgId, 0, 0, RC_CONGESTION);
    return;
  }
  if (s.linkOps >= MAX_LINK_OPS) {
    ctx.drop('congestion', peer, `${s.clientId} has ${s.linkOps} SUBSCRIBE / UNSUBSCRIBE waiting for the broker`);
    answer(ctx, s, msgId, 0, 0, RC_CONGESTION);
    return;
  }
  const f = filter;
  // Kept now: `m` is the gateway's one decode buffer, reused by the next datagram long before
  // the broker answers.
  const subTopicId = type === TopicIdType.Short ? m.topicId : topicId;
  const epoch = s.epoch;
  s.subPendingSet().add(msgId);
  s.linkOps++;
  const ticket = ++s.subTicket;
  (s.subWanted ??= new Map()).set(f, ticket);
  ctx.link.subscribe(s.clientId, f, m.qos, (granted) => {
    s.linkOps--;
    if (s.subPending !== null) s.subPending.delete(msgId);
    // Still wanted: no UNSUBSCRIBE of the filter since (a later SUBSCRIBE of it keeps it wanted).
    const wanted = s.subWanted !== null && s.subWanted.has(f);
    if (wanted && s.subWanted!.get(f) === ticket) s.subWanted!.delete(f);
    if (s.epoch !== epoch) return;
    if (granted >= 0x80) {
      ctx.log.info('broker refused a subscription', { clientId: s.clientId, filter: f });
      answer(ctx, s, msgId, 0, 0, RC_NOT_SUPPORTED);
      return;
    }
    if (!wanted) {
      // Answered as asked; the UNSUBSCRIBE that followed has the last word (its UNSUBACK comes next).
      answer(ctx, s, msgId, granted, type === TopicIdType.Short ? 0 : topicId, RC_ACCEPTED);
      return;
    }
    s.subsMap().set(f, {
      filter: f,
      qos: granted,
      topicIdType: type,
      topicId: subTopicId,
      retainedUntil: ctx.now() + RETAINED_WINDOW_MS,
    });
    if (type === TopicIdType.Normal && topicId !== 0) s.topics.markKnown(topicId);
    answer(ctx, s, msgId, granted, type === TopicIdType.Short ? 0 : topicId, RC_ACCEPTED);
  });
}

/** Sends SUBACK and remembers it for a DUP SUBSCRIBE. */
function answer(ctx: HandlerContext, s: Session, msgId: number, qos: number, topicId: number, rc: number): void {
  const last = s.lastSubAck;
  if (last === null) s.lastSubAck = { msgId, topicId, qos, returnCode: rc };
  else {
    last.msgId = msgId;
    last.qos = qos;
    last.topicId = topicId;
    last.returnCode = rc;
  }
  if (s.peer !== null) ctx.sendSuback(s.peer, qos, topicId, msgId, rc);
}

/**
 * UNSUBSCRIBE (§6.9) → `link.unsubscribe` → UNSUBACK. An unknown pre-defined id or a filter
 * the client does not hold is still answered with UNSUBACK (the broker may hold it from an
 * earlier session); registrations are kept.
 */
export function onUnsubscribe(ctx: HandlerContext, s: Session, m: SnMessage): void {
  const msgId = m.msgId;
  if (s.subPending !== null && s.subPending.has(msgId)) return;
  let filter: string | undefined;
  if (m.topicIdType === TopicIdType.Normal) filter = utf8Decode(m.data!, m.dataOffset, m.dataOffset + m.dataLength);
  else if (m.topicIdType === TopicIdType.Predefined) filter = s.predefined.byId.get(m.topicId);
  else filter = shortTopicName(m.topicId) ?? undefined;
  if (filter === undefined) {
    ctx.sendMsgId(s.peer!, MsgType.UNSUBACK, msgId);
    return;
  }
  if (s.linkOps >= MAX_LINK_OPS) {
    // UNSUBACK has no return code: not answered, the client sends it again (§6.13).
    ctx.drop('congestion', s.peer, `${s.clientId} has ${s.linkOps} SUBSCRIBE / UNSUBSCRIBE waiting for the broker`);
    return;
  }
  if (s.subs !== null) s.subs.delete(filter);
  if (s.subWanted !== null) s.subWanted.delete(filter); // a SUBACK still to come must not bring it back
  const epoch = s.epoch;
  s.subPendingSet().add(msgId);
  s.linkOps++;
  ctx.link.unsubscribe(s.clientId, filter, () => {
    s.linkOps--;
    if (s.subPending !== null) s.subPending.delete(msgId);
    if (s.epoch === epoch && s.peer !== null) ctx.sendMsgId(s.peer, MsgType.UNSUBACK, msgId);
  });
}
