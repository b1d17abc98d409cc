/**
 * Keep-alive pings and sleeping clients (MQTT-SN 1.2 §6.11, §6.14): DISCONNECT with a
 * Duration sends a client to sleep, PINGREQ with its ClientId wakes it for the messages
 * buffered meanwhile, and the PINGRESP sent once they are all delivered sends it back to sleep.
 */
import { MsgType } from '../../src/mqttsn';
import type { SnMessage } from '../../src/mqttsn';
import { utf8Decode } from '../../src/core/utf8';
import type { Peer } from '../session/peer';
import type { Session } from '../session/session';
import type { HandlerContext } from './context';
import { lose } from './connect';
import { pump, resumeFlight } from './deliver';

/**
 * DISCONNECT with Duration (§6.14): acknowledged with DISCONNECT (no Duration); the client
 * is asleep, supervised by its own sleep timer (Duration × graceFactor), independent of the
 * broker connection's keep-alive, which the link keeps up meanwhile. Its queue now holds at
 * most `maxBufferedPerSleeper` messages. Also changes the duration of a sleeping client.
 */
export function onSleep(ctx: HandlerContext, s: Session, duration: number): void {
  const now = ctx.now();
  ctx.sendHeader(s.peer!, MsgType.DISCONNECT);
  s.sleepMs = duration * 1000;
  s.lastSeen = now;
  ctx.table.setState(s, 'asleep', now);
  const n = s.queue.setLimit(ctx.config.maxBufferedPerSleeper);
  for (let i = 0; i < n; i++) ctx.metrics.drop('sleep_buffer_full');
  if (n > 0) ctx.log.warn('buffer of a sleeping client full: oldest messages dropped', { clientId: s.clientId, dropped: n });
  ctx.log.info('client asleep', { clientId: s.clientId, duration });
}

/**
 * PINGREQ (§5.4.19). With a ClientId, from a sleeping client: it is awake (§6.14), bound to the
 * address it woke from; buffered messages go out (QoS 1/2 supervised as usual) and PINGRESP
 * follows the last one. Without: the keep-alive ping of §6.11, answered with PINGRESP.
 * From an address or ClientId with no session: DISCONNECT, so the client connects again (§6.12).
 */
export function onPingreq(ctx: HandlerContext, peer: Peer, s: Session | undefined, m: SnMessage): void {
  if (m.dataLength > 0) {
    wake(ctx, peer, utf8Decode(m.data!, m.dataOffset, m.dataOffset + m.dataLength));
    return;
  }
  if (s === undefined) {
    ctx.drop('not_connected', peer, 'PINGREQ from an address with no session');
    ctx.sendHeader(peer, MsgType.DISCONNECT);
    return;
  }
  if (s.state === 'connecting') {
    ctx.drop('not_connected', peer, 'PINGREQ during CONNECT');
    return;
  }
  if (s.state === 'awake') pump(ctx, s);
  else ctx.sendHeader(peer, MsgType.PINGRESP);
}

function wake(ctx: HandlerContext, peer: Peer, clientId: string): void {
  const s = ctx.table.get(clientId);
  if (s === undefined || !s.connected || s.state === 'connecting') {
    ctx.drop('not_connected', peer, `PINGREQ from ${clientId}, which has no session`);
    ctx.sendHeader(peer, MsgType.DISCONNECT);
    return;
  }
  if (ctx.config.authentication) {
    const e = ctx.clientsById.get(clientId);
    if (e === undefined || e.address !== peer.address) {
      ctx.drop('unauthorized', peer, `PINGREQ from ${clientId} at an address not its own`);
      return;
    }
  }
  const other = peer.port.sessions.get(peer.key);
  if (other !== undefined && other !== s) lose(ctx, other, 'replaced');
  const now = ctx.now();
  ctx.table.bind(s, peer);
  s.lastSeen = now;
  if (s.state === 'active') {
    ctx.sendHeader(peer, MsgType.PINGRESP);
    return;
  }
  if (s.state === 'asleep') {
    ctx.table.setState(s, 'awake', now);
    resumeFlight(ctx, s, now);
  }
  pump(ctx, s);
}
