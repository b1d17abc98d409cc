/**
 * Client→gateway publishing (MQTT-SN 1.2 §6.6, §6.7, §6.8): topic id resolution (normal,
 * pre-defined, short), QoS 0 / 1 / 2 towards the broker link, QoS -1 from unconnected
 * senders, and the client's PUBREL of a QoS 2 exchange.
 *
 * QoS 1 is acknowledged (PUBACK) only once the broker acknowledged; QoS 2 is answered with
 * PUBREC only once the broker completed the exchange, so nothing the gateway acknowledged can
 * be lost with it.
 */
import { MsgType, TopicIdType } from '../../src/mqttsn';
import type { SnMessage } from '../../src/mqttsn';
import { LINK_FULL, LINK_NO_CLIENT } from '../broker/link';
import { RC_ACCEPTED, RC_CONGESTION, RC_INVALID_TOPIC_ID, RC_NOT_SUPPORTED } from '../session/errors';
import type { Peer } from '../session/peer';
import type { PredefinedView } from '../session/predefined';
import { MAX_INBOUND_QOS2, QOS2_RECEIVED, type Session } from '../session/session';
import { shortTopicName } from '../session/topics';
import type { HandlerContext } from './context';
import { end } from './connect';

/** The topic name of a PUBLISH's TopicId (§6.7), or undefined when unknown. */
function topicOf(s: Session | null, predefined: PredefinedView, type: number, id: number): string | undefined {
  if (type === TopicIdType.Normal) return s === null ? undefined : s.topics.name(id);
  if (type === TopicIdType.Predefined) return predefined.byId.get(id);
  const n = shortTopicName(id);
  return n === null ? undefined : n;
}

/**
 * PUBLISH QoS 0/1/2 from a connected client (§6.6). Unknown topic id → PUBACK "invalid topic
 * ID" whatever the QoS; broker link full → PUBACK "congestion".
 */
export function onPublish(ctx: HandlerContext, s: Session, m: SnMessage, bytes: Uint8Array): void {
  const peer = s.peer!;
  const topic = topicOf(s, s.predefined, m.topicIdType, m.topicId);
  if (topic === undefined) {
    ctx.drop('invalid_topic_id', peer, `PUBLISH topic id ${m.topicId} (type ${m.topicIdType}) unknown for ${s.clientId}`);
    ctx.sendAck(peer, MsgType.PUBACK, m.topicId, m.msgId, RC_INVALID_TOPIC_ID);
    return;
  }
  const qos = m.qos;
  const payload = bytes.subarray(m.dataOffset, m.dataOffset + m.dataLength);
  if (qos === 0) {
    const r = ctx.link.publish(s.clientId, topic, payload, 0, m.retain, null);
    if (r === 0) ctx.metrics.messagesIn[1]++;
    else refused(ctx, s, m, r);
    return;
  }
  const msgId = m.msgId;
  if (qos === 1) {
    if (msgId === s.qos1Pending) return; // a retransmission while the broker has it: PUBACK follows
    if (m.dup && msgId === s.qos1Done) {
      ctx.sendAck(peer, MsgType.PUBACK, m.topicId, msgId, RC_ACCEPTED); // our PUBACK was lost
      return;
    }
    const epoch = s.epoch;
    const topicId = m.topicId;
    const r = ctx.link.publish(s.clientId, topic, payload, 1, m.retain, (rc) => {
      if (s.qos1Pending === msgId) s.qos1Pending = -1;
      if (s.epoch !== epoch || s.peer === null) return;
      if (rc < 0x80) {
        s.qos1Done = msgId;
        ctx.sendAck(s.peer, MsgType.PUBACK, topicId, msgId, RC_ACCEPTED);
      } else {
        ctx.drop('broker', s.peer, `broker refused a QoS 1 message of ${s.clientId} (reason ${rc})`);
        ctx.sendAck(s.peer, MsgType.PUBACK, topicId, msgId, RC_NOT_SUPPORTED);
      }
    });
    if (r === 0) {
      s.qos1Pending = msgId;
      ctx.metrics.messagesIn[2]++;
    } else refused(ctx, s, m, r);
    return;
  }
  // QoS 2: exactly once. A MsgId already open is a retransmission.
  const open2 = s.inbound2Map();
  const st = open2.get(msgId);
  if (st !== undefined) {
    if (st === QOS2_RECEIVED) ctx.sendMsgId(peer, MsgType.PUBREC, msgId);
    return;
  }
  if (open2.size >= MAX_INBOUND_QOS2) {
    ctx.drop('congestion', peer, `${s.clientId} has ${MAX_INBOUND_QOS2} QoS 2 exchanges open`);
    ctx.sendAck(peer, MsgType.PUBACK, m.topicId, msgId, RC_CONGESTION);
    return;
  }
  const token = (s.token = s.token >= 0x3fffffff ? 1 : s.token + 1);
  const topicId = m.topicId;
  open2.set(msgId, token);
  const r = ctx.link.publish(s.clientId, topic, payload, 2, m.retain, (rc) => {
    const now2 = s.inbound2; // replaced by null when the session was cleaned meanwhile
    if (now2 === null || now2.get(msgId) !== token) return;
    if (rc < 0x80) {
      now2.set(msgId, QOS2_RECEIVED);
      if (s.peer !== null && s.state !== 'connecting') ctx.sendMsgId(s.peer, MsgType.PUBREC, msgId);
    } else {
      now2.delete(msgId);
      ctx.drop('broker', s.peer, `broker refused a QoS 2 message of ${s.clientId} (reason ${rc})`);
      if (s.peer !== null) ctx.sendAck(s.peer, MsgType.PUBACK, topicId, msgId, RC_NOT_SUPPORTED);
    }
  });
  if (r === 0) ctx.metrics.messagesIn[3]++;
  else {
    open2.delete(msgId);
    refused(ctx, s, m, r);
  }
}

/** The broker link did not take a message: PUBACK with the matching rejection (§6.6). */
function refused(ctx: HandlerContext, s: Session, m: SnMessage, r: number): void {
  const peer = s.peer!;
  if (r === LINK_FULL) {
    ctx.drop('congestion', peer, `broker link full, PUBLISH of ${s.clientId}`);
    ctx.sendAck(peer, MsgType.PUBACK, m.topicId, m.msgId, RC_CONGESTION);
  } else if (r === LINK_NO_CLIENT) {
    // The client's broker connection is gone (transparent): make the client connect again (§6.12).
    ctx.drop('not_connected', peer, `no broker connection for ${s.clientId}`);
    ctx.sendHeader(peer, MsgType.DISCONNECT);
    end(ctx, s, 'disconnected');
  } else {
    ctx.drop('broker', peer, `broker link refused a PUBLISH of ${s.clientId} (${r})`);
    ctx.sendAck(peer, MsgType.PUBACK, m.topicId, m.msgId, RC_NOT_SUPPORTED);
  }
}

/** PUBREL from the client (QoS 2, §6.6): PUBCOMP, also for an exchange already completed. */
export function onPubrel(ctx: HandlerContext, s: Session, m: SnMessage): void {
  const open2 = s.inbound2;
  if (open2 !== null) {
    const st = open2.get(m.msgId);
    if (st !== undefined && st !== QOS2_RECEIVED) return; // the broker has not completed: no PUBREC was sent
    open2.delete(m.msgId);
  }
  ctx.sendMsgId(s.peer!, MsgType.PUBCOMP, m.msgId);
}

/**
 * PUBLISH QoS -1 (§6.8): pre-defined or short topic ids only, published at QoS 0. From a
 * connected client (its session at this address) it is that client's message. From anyone
 * else it needs `config.qosMinus1`, and when `config.clients` lists clients, an entry with the
 * `QoS-1` flag at the sender's address (as Paho's clients.conf); that entry's per-client
 * pre-defined topics apply. Published on the gateway's own broker connection. Drops are
 * counted (`unauthorized`, `invalid_topic_id`) and never answered: such a client does not listen.
 */
export function onPublishMinus1(ctx: HandlerContext, s: Session | undefined, peer: Peer, m: SnMessage, bytes: Uint8Array): void {
  let clientId: string | null = null;
  let view: PredefinedView;
  if (s !== undefined && s.connected && s.state !== 'connecting') {
    clientId = s.clientId;
    view = s.predefined;
  } else {
    if (!ctx.config.qosMinus1) {
      ctx.drop('unauthorized', peer, 'QoS -1 PUBLISH: qosMinus1 is off');
      return;
    }
    let entry = null;
    if (ctx.config.clients.length > 0) {
      entry = ctx.clientsByAddress.get(peer.address);
      if (entry === undefined || !entry.flags.includes('QoS-1')) {
        ctx.drop('unauthorized', peer, 'QoS -1 PUBLISH from an address without a QoS-1 clients entry');
        return;
      }
    }
    view = ctx.predefined.forClient(entry === null ? null : entry.clientId);
  }
  const topic = topicOf(null, view, m.topicIdType, m.topicId);
  if (topic === undefined) {
    ctx.drop('invalid_topic_id', peer, `QoS -1 PUBLISH topic id ${m.topicId} (type ${m.topicIdType}) unknown`);
    return;
  }
  const r = ctx.link.publish(clientId, topic, bytes.subarray(m.dataOffset, m.dataOffset + m.dataLength), 0, m.retain, null);
  if (r === 0) ctx.metrics.messagesIn[0]++;
  else ctx.drop(r === LINK_FULL ? 'congestion' : 'broker', peer, `broker link refused a QoS -1 message (${r})`);
}
