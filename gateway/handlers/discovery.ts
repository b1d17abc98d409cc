/** Gateway advertisement and discovery (MQTT-SN 1.2 §6.1): ADVERTISE, and GWINFO for SEARCHGW. */
import { MsgType } from '../../src/mqttsn';
import type { SnMessage } from '../../src/mqttsn';
import type { Peer, Port } from '../session/peer';
import { reached } from '../session/time';
import type { HandlerContext } from './context';

/**
 * Broadcasts ADVERTISE (§5.4.1: GwId, Duration = seconds until the next one) on every port,
 * radius 0 (the whole network). Skipped while the broker link is down (§6.1: "a gateway
 * should only advertise its presence if it is connected to a server").
 */
export function advertise(ctx: HandlerContext, ports: readonly Port[]): void {
  if (!ctx.brokerUp) return;
  const m = ctx.mo;
  for (const p of ports) {
    m.reset();
    m.type = MsgType.ADVERTISE;
    m.gwId = ctx.config.gatewayId;
    m.duration = ctx.config.advertiseInterval;
    ctx.broadcast(p, m, 0);
  }
}

/**
 * Shortest time between two GWINFO broadcasts on one transport, ms. A burst of SEARCHGW (a
 * network powering up, or one node flooding) gets one broadcast per window; every searcher
 * still gets its unicast GWINFO.
 */
export const GWINFO_BROADCAST_MS = 1000;

/**
 * SEARCHGW (§6.1, §5.4.3) → GWINFO with the GwId only (no GwAdd from a gateway), sent to the
 * searcher (wrapped for a forwarder) and broadcast on its transport with the SEARCHGW's
 * radius, at most once per {@link GWINFO_BROADCAST_MS}. Not answered while the broker link is down.
 */
export function onSearchGw(ctx: HandlerContext, peer: Peer, m: SnMessage): void {
  if (!ctx.brokerUp) return;
  const radius = m.radius;
  const o = ctx.mo;
  o.reset();
  o.type = MsgType.GWINFO;
  o.gwId = ctx.config.gatewayId;
  ctx.send(peer, o);
  const port = peer.port;
  const now = ctx.now();
  if (port.lastGwinfoBroadcast !== null && !reached(now, port.lastGwinfoBroadcast + GWINFO_BROADCAST_MS)) return;
  port.lastGwinfoBroadcast = now;
  o.reset();
  o.type = MsgType.GWINFO;
  o.gwId = ctx.config.gatewayId;
  ctx.broadcast(port, o, radius);
}
