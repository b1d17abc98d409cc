/** REGISTER from a client (MQTT-SN 1.2 §6.5): a topic name gets a normal topic id of that client. */
import { MsgType } from '../../src/mqttsn';
import type { SnMessage } from '../../src/mqttsn';
import { checkTopicName } from '../../src/mqtt/topic';
import { utf8Decode } from '../../src/core/utf8';
import { RC_ACCEPTED, RC_CONGESTION, RC_NOT_SUPPORTED } from '../session/errors';
import type { Session } from '../session/session';
import { TOPICS_FULL } from '../session/topics';
import type { HandlerContext } from './context';

/**
 * REGISTER (§6.5) → REGACK. The same name always gets the same id; a name with a wildcard or
 * not valid UTF-8 → "rejected: not supported"; the client's `maxTopicsPerClient` reached →
 * "rejected: congestion" (the client waits T_WAIT, §6.5).
 */
export function onRegister(ctx: HandlerContext, s: Session, m: SnMessage): void {
  const peer = s.peer!;
  const buf = m.data!;
  const end = m.dataOffset + m.dataLength;
  if (checkTopicName(buf, m.dataOffset, end) !== 0) {
    ctx.sendAck(peer, MsgType.REGACK, 0, m.msgId, RC_NOT_SUPPORTED);
    return;
  }
  const id = s.topics.register(utf8Decode(buf, m.dataOffset, end));
  if (id === TOPICS_FULL) {
    ctx.drop('congestion', peer, `topic table of ${s.clientId} full (${ctx.config.maxTopicsPerClient})`);
    ctx.sendAck(peer, MsgType.REGACK, 0, m.msgId, RC_CONGESTION);
    return;
  }
  s.topics.markKnown(id);
  ctx.sendAck(peer, MsgType.REGACK, id, m.msgId, RC_ACCEPTED);
}
