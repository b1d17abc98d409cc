/**
 * Connection handling (MQTT-SN 1.2 §6.2 CONNECT and the Will flow, §6.3 clean session, §6.4
 * Will updates, §6.11 keep-alive supervision, §6.12 DISCONNECT) and the end of a session
 * (disconnected, lost).
 */
import { MsgType } from '../../src/mqttsn';
import type { SnMessage } from '../../src/mqttsn';
import { utf8Decode } from '../../src/core/utf8';
import { checkTopicName } from '../../src/mqtt/topic';
import type { LinkWill } from '../broker/link';
import { RC_ACCEPTED, RC_CONGESTION, RC_NOT_SUPPORTED } from '../session/errors';
import type { Peer } from '../session/peer';
import { ConnectStage, Session } from '../session/session';
import { FlightKind } from '../session/queue';
import { reached } from '../session/time';
import type { HandlerContext } from './context';
import { pump, resumeFlight } from './deliver';

const EMPTY = new Uint8Array(0);

/**
 * CONNECT (§6.2): authenticates, applies the limits, takes over the session of the same
 * ClientId (from any address) and ends another client's session bound to this address, applies
 * CleanSession (§6.3), then either prompts for the Will (WILLTOPICREQ) or opens the broker
 * session. A CONNECT during an unfinished Will flow restarts the flow.
 */
export function onConnect(ctx: HandlerContext, peer: Peer, m: SnMessage): void {
  const now = ctx.now();
  const id = m.dataLength > 0 ? utf8Decode(m.data!, m.dataOffset, m.dataOffset + m.dataLength) : '';
  const cfg = ctx.config;
  if (id === '') {
    ctx.log.info('CONNECT refused: empty ClientId', { peer: String(peer) });
    ctx.sendReturnCode(peer, MsgType.CONNACK, RC_NOT_SUPPORTED);
    return;
  }
  if (cfg.authentication) {
    const e = ctx.clientsById.get(id);
    if (e === undefined || e.address !== peer.address) {
      ctx.drop('unauthorized', peer, e === undefined ? `ClientId ${id} not in the clients list` : `ClientId ${id} from ${peer.address}, listed at ${e.address}`);
      ctx.log.info('CONNECT refused: not authorised', { clientId: id, peer: String(peer) });
      ctx.sendReturnCode(peer, MsgType.CONNACK, RC_NOT_SUPPORTED);
      return;
    }
  }
  if (cfg.keepAlive > 0 && (m.duration === 0 || m.duration > cfg.keepAlive)) {
    ctx.log.warn('CONNECT refused: keep-alive over the gateway limit', { clientId: id, keepAlive: m.duration, limit: cfg.keepAlive });
    ctx.sendReturnCode(peer, MsgType.CONNACK, RC_NOT_SUPPORTED);
    return;
  }
  const t = ctx.table;
  let s = t.get(id);
  // Another client bound to this address (only open sessions are bound) is replaced below.
  const other = peer.port.sessions.get(peer.key);
  if ((s === undefined || !s.connected) && t.openCount >= t.maxClients) {
    // The other session at this address would make room, but only once it is gone: count it.
    if (other === undefined || other === s || !other.connected) {
      ctx.drop('congestion', peer, `maxClients (${t.maxClients}) reached, CONNECT from ${id}`);
      ctx.sendReturnCode(peer, MsgType.CONNACK, RC_CONGESTION);
      return;
    }
  }
  if (s === undefined) {
    s = new Session(id, ctx.predefined.forClient(id), cfg.maxTopicsPerClient, ctx.activeQueueLimit, ctx.metrics, ctx.clientsById.get(id));
    s.msgId = Math.floor(ctx.random() * 0xffff); // see Session.msgId
    t.add(s, now);
  } else if (s.peer !== null && (s.peer.key !== peer.key || s.peer.port !== peer.port)) {
    ctx.log.info('session taken over from a new address', { clientId: id, from: String(s.peer), to: String(peer) });
  }
  s.epoch++;
  // Open before the other client is ended: ending it adds an idle record, and the oldest idle
  // record beyond the limit is evicted, which must never be the one being resumed here.
  t.setState(s, 'connecting', now);
  if (other !== undefined && other !== s) {
    ctx.log.info('address taken by another ClientId: previous client lost', { clientId: other.clientId, by: id, peer: String(peer) });
    lose(ctx, other, 'replaced');
  }
  t.bind(s, peer);
  s.lastSeen = now;
  s.cleanSession = m.cleanSession;
  s.keepAliveMs = m.duration * 1000;
  s.sleepMs = 0;
  s.pendingWill = null;
  s.qos1Pending = -1;
  s.subPending = null;
  if (m.cleanSession) s.clean();
  s.queue.setLimit(ctx.activeQueueLimit);
  if (m.will) {
    s.stage = ConnectStage.WillTopic;
    s.stageDue = now + ctx.timers.willTimeout;
    ctx.sendHeader(peer, MsgType.WILLTOPICREQ);
  } else openBroker(ctx, s);
}

/** WILLTOPIC (§6.2): an empty one means no Will; else WILLMSGREQ follows. */
export function onWillTopic(ctx: HandlerContext, s: Session, m: SnMessage): void {
  const peer = s.peer!;
  if (s.state === 'connecting' && (s.stage === ConnectStage.WillTopic || s.stage === ConnectStage.WillMessage)) {
    if (!m.hasFlags || m.dataLength === 0) {
      s.will = null;
      s.willPayload = null;
      openBroker(ctx, s);
      return;
    }
    const buf = m.data!;
    const end = m.dataOffset + m.dataLength;
    if (checkTopicName(buf, m.dataOffset, end) !== 0) {
      ctx.log.info('CONNECT refused: invalid Will topic', { clientId: s.clientId });
      abortConnect(ctx, s, RC_NOT_SUPPORTED);
      return;
    }
    s.pendingWill = { topic: utf8Decode(buf, m.dataOffset, end), payload: EMPTY, qos: m.qos, retain: m.retain };
    s.stage = ConnectStage.WillMessage;
    s.stageDue = ctx.now() + ctx.timers.willTimeout;
    ctx.sendHeader(peer, MsgType.WILLMSGREQ);
    return;
  }
  if (s.state === 'active' && s.will === null && (!m.hasFlags || m.dataLength === 0)) {
    // Our CONNACK to an empty WILLTOPIC was lost and the client repeats it (§6.13).
    ctx.sendReturnCode(peer, MsgType.CONNACK, RC_ACCEPTED);
    return;
  }
  ctx.drop('unexpected_type', peer, 'WILLTOPIC outside the Will flow');
}

/** WILLMSG (§6.2): completes the Will; the broker session is opened next. */
export function onWillMessage(ctx: HandlerContext, s: Session, m: SnMessage): void {
  const peer = s.peer!;
  if (s.state === 'connecting' && s.stage === ConnectStage.WillMessage && s.pendingWill !== null) {
    const w = s.pendingWill;
    w.payload = m.data === null ? EMPTY : m.data.slice(m.dataOffset, m.dataOffset + m.dataLength);
    s.will = w;
    s.willPayload = null;
    s.pendingWill = null;
    openBroker(ctx, s);
    return;
  }
  if (s.state === 'connecting' && s.stage === ConnectStage.Broker) return; // a retransmission: CONNACK follows
  if (s.state === 'active' && s.will !== null) {
    // Our CONNACK was lost and the client repeats its last message of the flow.
    ctx.sendReturnCode(peer, MsgType.CONNACK, RC_ACCEPTED);
    return;
  }
  ctx.drop('unexpected_type', peer, 'WILLMSG outside the Will flow');
}

/** Opens the broker session (`link.connect`) and answers CONNACK with its result (§6.2). */
function openBroker(ctx: HandlerContext, s: Session): void {
  s.stage = ConnectStage.Broker;
  const epoch = s.epoch;
  ctx.link.connect({ clientId: s.clientId, cleanSession: s.cleanSession, will: s.will }, (rc) => connected(ctx, s, epoch, rc));
}

function connected(ctx: HandlerContext, s: Session, epoch: number, rc: number): void {
  if (s.epoch !== epoch || s.state !== 'connecting' || s.stage !== ConnectStage.Broker) return;
  if (rc !== RC_ACCEPTED) {
    ctx.log.info('CONNECT refused by the broker link', { clientId: s.clientId, returnCode: rc });
    if (rc === RC_CONGESTION) ctx.metrics.drop('congestion');
    else ctx.metrics.drop('broker');
    abortConnect(ctx, s, rc);
    return;
  }
  const now = ctx.now();
  s.stage = ConnectStage.None;
  s.lastSeen = now;
  ctx.table.setState(s, 'active', now);
  ctx.log.info('client connected', {
    clientId: s.clientId,
    peer: String(s.peer),
    cleanSession: s.cleanSession,
    keepAlive: s.keepAliveMs / 1000,
    will: s.will !== null,
  });
  ctx.sendReturnCode(s.peer!, MsgType.CONNACK, RC_ACCEPTED);
  // A resumed session (CleanSession=0): what was in flight goes again (DUP), then the queue.
  if (s.flight.kind !== FlightKind.None) resumeFlight(ctx, s, now);
  pump(ctx, s);
}

/** Ends a CONNECT that will not complete: CONNACK `rc`, session back to disconnected. */
function abortConnect(ctx: HandlerContext, s: Session, rc: number): void {
  const peer = s.peer;
  if (peer !== null) ctx.sendReturnCode(peer, MsgType.CONNACK, rc);
  if (s.stage === ConnectStage.Broker) ctx.link.disconnect(s.clientId, false);
  end(ctx, s, 'disconnected');
  // A refused clean session leaves nothing worth keeping.
  if (s.cleanSession) ctx.table.remove(s);
}

/**
 * DISCONNECT without Duration (§6.12): acknowledged with DISCONNECT; the broker session ends
 * without the Will. (With a Duration it is the sleep request of §6.14, see `sleep.ts`.)
 */
export function onDisconnect(ctx: HandlerContext, s: Session): void {
  ctx.sendHeader(s.peer!, MsgType.DISCONNECT);
  ctx.link.disconnect(s.clientId, false);
  ctx.log.info('client disconnected', { clientId: s.clientId, peer: String(s.peer) });
  end(ctx, s, 'disconnected');
}

/**
 * The client is lost (§6.11 keep-alive, §6.14 sleep timer, or its address taken by another
 * client): the broker link publishes its Will, the session keeps only what CleanSession=0
 * keeps.
 */
export function lose(ctx: HandlerContext, s: Session, why: string): void {
  ctx.link.disconnect(s.clientId, true);
  ctx.log.info('client lost', { clientId: s.clientId, peer: String(s.peer), why });
  end(ctx, s, 'lost');
}

/**
 * Leaves the session idle (`disconnected` or `lost`): unbound from its address, exchanges
 * stopped. A clean session forgets everything (§6.3); a persistent one keeps Will, topics,
 * subscriptions and QoS 1/2 messages (queued, and the one in flight, sent again after the
 * next CONNECT), and drops QoS 0 messages.
 */
export function end(ctx: HandlerContext, s: Session, state: 'disconnected' | 'lost'): void {
  const now = ctx.now();
  s.epoch++;
  ctx.table.unbind(s);
  s.stage = ConnectStage.None;
  s.pendingWill = null;
  s.qos1Pending = -1;
  s.subPending = null;
  if (s.cleanSession) s.clean();
  else {
    const f = s.flight;
    if (f.kind === FlightKind.Register || (f.kind === FlightKind.Publish && f.qos === 0)) {
      const msg = f.msg!;
      f.clear();
      if (msg.qos > 0) s.queue.unshift(msg);
    }
    s.queue.dropQos0();
  }
  ctx.table.setState(s, state, now);
  s.queue.setLimit(ctx.config.maxBufferedPerSleeper);
  ctx.table.evictIdle();
}

/**
 * Will updates (§6.4): WILLTOPICUPD (empty: deletes topic and message) and WILLMSGUPD, each
 * through `link.setWill`, answered with WILLTOPICRESP / WILLMSGRESP carrying its return code.
 */
export function onWillUpdate(ctx: HandlerContext, s: Session, m: SnMessage): void {
  const topicUpd = m.type === MsgType.WILLTOPICUPD;
  const resp = topicUpd ? MsgType.WILLTOPICRESP : MsgType.WILLMSGRESP;
  let will: LinkWill | null;
  if (topicUpd) {
    if (!m.hasFlags || m.dataLength === 0) {
      will = null;
      s.willPayload = null;
    } else {
      const end = m.dataOffset + m.dataLength;
      if (checkTopicName(m.data!, m.dataOffset, end) !== 0) {
        ctx.sendReturnCode(s.peer!, resp, RC_NOT_SUPPORTED);
        return;
      }
      const payload = s.will !== null ? s.will.payload : s.willPayload ?? EMPTY;
      will = { topic: utf8Decode(m.data!, m.dataOffset, end), payload, qos: m.qos, retain: m.retain };
    }
  } else {
    const payload = m.data === null ? EMPTY : m.data.slice(m.dataOffset, m.dataOffset + m.dataLength);
    if (s.will === null) {
      // No Will topic yet: keep the message for a later WILLTOPICUPD.
      s.willPayload = payload;
      ctx.sendReturnCode(s.peer!, resp, RC_ACCEPTED);
      return;
    }
    will = { topic: s.will.topic, payload, qos: s.will.qos, retain: s.will.retain };
  }
  const epoch = s.epoch;
  ctx.link.setWill(s.clientId, will, (rc) => {
    if (s.epoch !== epoch) return;
    if (rc === RC_ACCEPTED) {
      s.will = will;
      if (will !== null) s.willPayload = null;
    }
    if (s.peer !== null) ctx.sendReturnCode(s.peer, resp, rc);
  });
}

/**
 * Time-based connection work for one session at `now` (§6.2 Will-flow timeout, §6.11 keep-
 * alive, §6.14 sleep timer): a client silent for keep-alive × graceFactor (asleep / awake:
 * sleep duration × graceFactor) is lost; an unfinished Will flow is dropped after
 * `timers.willTimeout`.
 */
export function supervise(ctx: HandlerContext, s: Session, now: number): void {
  const st = s.state;
  if (st === 'active') {
    if (s.keepAliveMs > 0 && reached(now, s.lastSeen + s.keepAliveMs * ctx.timers.graceFactor)) lose(ctx, s, 'keep-alive expired');
  } else if (st === 'asleep' || st === 'awake') {
    if (s.sleepMs > 0 && reached(now, s.lastSeen + s.sleepMs * ctx.timers.graceFactor)) lose(ctx, s, 'sleep timer expired');
  } else if (st === 'connecting') {
    if ((s.stage === ConnectStage.WillTopic || s.stage === ConnectStage.WillMessage) && reached(now, s.stageDue)) {
      ctx.log.info('CONNECT abandoned: Will flow timed out', { clientId: s.clientId, peer: String(s.peer) });
      end(ctx, s, 'disconnected');
      if (s.cleanSession) ctx.table.remove(s);
    }
  }
}
