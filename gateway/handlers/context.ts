/**
 * What every handler works with: configuration, broker link, metrics, log, timers, the client
 * table, and the one outbound {@link SnMessage} and buffer every reply is encoded into
 * (DESIGN.md §3: decode into one reused message, encode into one reused buffer; the transports
 * copy on send). Built once by the Gateway.
 */
import { encodeMessage, encodeForwarderHeader, MsgType, SnMessage, msgTypeName } from '../../src/mqttsn';
import { Status, statusName } from '../../src/core/status';
import type { GatewayConfig, ClientEntry } from '../config/schema';
import type { BrokerLink } from '../broker/link';
import type { Logger } from '../log';
import type { DropReason, GatewayMetrics } from '../metrics';
import type { GatewayTimers } from '../options';
import { normalizeAddress } from '../transports/transport';
import { PredefinedTopics } from '../session/predefined';
import { SessionTable } from '../session/table';
import type { Peer, Port } from '../session/peer';

/** Largest message plus the largest forwarder header (§5.2.1, §5.5). */
const TX_SIZE = 65535 + 255;
/** Cached views of the outbound buffer for lengths up to this (no subarray per send). */
const VIEW_CACHE = 1024;

/** Minimum size of an active client's outbound queue (see README, "Core"). */
export const ACTIVE_QUEUE_MIN = 64;

/** Shared state and send helpers of the handlers. */
export class HandlerContext {
  readonly config: GatewayConfig;
  readonly link: BrokerLink;
  readonly metrics: GatewayMetrics;
  readonly log: Logger;
  readonly timers: GatewayTimers;
  readonly now: () => number;
  /** Random numbers in [0, 1) (`GatewayOptions.random`). */
  readonly random: () => number;
  readonly table: SessionTable;
  readonly predefined: PredefinedTopics;
  /** `config.clients` by ClientId. */
  readonly clientsById = new Map<string, ClientEntry>();
  /** `config.clients` by normalised address (§6.8 QoS -1 senders, authentication). */
  readonly clientsByAddress = new Map<string, ClientEntry>();
  /** The outbound message every handler fills and sends. */
  readonly mo = new SnMessage();
  /** Queue size of an active client: max(maxBufferedPerSleeper, {@link ACTIVE_QUEUE_MIN}). */
  readonly activeQueueLimit: number;
  /** False while the broker link reports the (shared / gateway's own) connection down: no ADVERTISE / GWINFO (§6.1). */
  brokerUp = false;

  private readonly tx = new Uint8Array(TX_SIZE);
  private readonly views: (Uint8Array | undefined)[] = [];

  constructor(
    config: GatewayConfig,
    link: BrokerLink,
    metrics: GatewayMetrics,
    log: Logger,
    timers: GatewayTimers,
    now: () => number,
    random: () => number = Math.random,
  ) {
    this.config = config;
    this.link = link;
    this.metrics = metrics;
    this.log = log;
    this.timers = timers;
    this.now = now;
    this.random = random;
    this.predefined = new PredefinedTopics(config.predefinedTopics);
    this.table = new SessionTable(metrics, config.maxClients, config.maxClients);
    // An evicted CleanSession=0 record: nobody will resume it, so the link forgets it too, with
    // the subscriptions it holds (aggregating: the shared connection would keep receiving them,
    // and the link would keep the record for ever).
    this.table.onEvict = (s) => {
      link.forget(s.clientId);
      s.subs = null;
    };
    this.activeQueueLimit = Math.max(config.maxBufferedPerSleeper, ACTIVE_QUEUE_MIN);
    for (const c of config.clients) {
      const e = { ...c, address: normalizeAddress(c.address) };
      this.clientsById.set(e.clientId, e);
      this.clientsByAddress.set(e.address, e);
    }
  }

  /** Counts a drop and logs it at debug level with the peer. */
  drop(reason: DropReason, peer: Peer | string | null, detail: string): void {
    this.metrics.drop(reason);
    if (this.log.enabled('debug')) this.log.debug('dropped', { reason, peer: peer === null ? null : String(peer), detail });
  }

  /**
   * Encodes `m` for `peer` (wrapped in the forwarder encapsulation of §5.5 when the peer is
   * behind a forwarder) and sends it. Returns the octets sent (> 0); 0 when the transport
   * refused it (link down: worth retrying); -1 when it can never be sent: larger than the
   * transport's MTU (counted `too_large`, §6.10: "the gateway silently aborts") or not
   * encodable (logged).
   */
  transmit(peer: Peer, m: SnMessage): number {
    const tx = this.tx;
    let off = 0;
    const id = peer.nodeId;
    if (id !== null) off = encodeForwarderHeader(0, id, 0, id.length, tx, 0);
    const end = encodeMessage(m, tx, off);
    if (end < 0) {
      if (end === Status.TooLarge || end === Status.NoMemory) this.drop('too_large', peer, msgTypeName(m.type));
      else this.log.error('could not encode a message', { type: msgTypeName(m.type), status: statusName(end), peer: String(peer) });
      return -1;
    }
    const t = peer.port.transport;
    if (end > t.mtu) {
      this.drop('too_large', peer, `${msgTypeName(m.type)} of ${end} octets over the MTU ${t.mtu}`);
      return -1;
    }
    if (!t.send(this.view(end), peer.address)) {
      if (this.log.enabled('debug')) this.log.debug('send failed', { type: msgTypeName(m.type), peer: String(peer) });
      return 0;
    }
    this.metrics.packetsOut++;
    this.metrics.bytesOut += end;
    return end;
  }

  /** {@link HandlerContext.transmit}, as a boolean: true when sent. */
  send(peer: Peer, m: SnMessage): boolean {
    return this.transmit(peer, m) > 0;
  }

  /** Broadcasts `m` on `port` (§6.1: ADVERTISE, GWINFO) with `radius`. */
  broadcast(port: Port, m: SnMessage, radius: number): boolean {
    const end = encodeMessage(m, this.tx, 0);
    if (end < 0 || end > port.transport.mtu) return false;
    if (!port.transport.broadcast(this.view(end), radius)) return false;
    this.metrics.packetsOut++;
    this.metrics.bytesOut += end;
    return true;
  }

  /** Sends a message made of the header only (§5.4.6, §5.4.8, §5.4.20, §5.4.21): WILLTOPICREQ, WILLMSGREQ, PINGRESP, DISCONNECT. */
  sendHeader(peer: Peer, type: MsgType): boolean {
    const m = this.mo;
    m.reset();
    m.type = type;
    return this.send(peer, m);
  }

  /** CONNACK, WILLTOPICRESP, WILLMSGRESP (§5.4.5, §5.4.24, §5.4.25). */
  sendReturnCode(peer: Peer, type: MsgType, returnCode: number): boolean {
    const m = this.mo;
    m.reset();
    m.type = type;
    m.returnCode = returnCode;
    return this.send(peer, m);
  }

  /** PUBREC, PUBREL, PUBCOMP, UNSUBACK (§5.4.14, §5.4.18). */
  sendMsgId(peer: Peer, type: MsgType, msgId: number): boolean {
    const m = this.mo;
    m.reset();
    m.type = type;
    m.msgId = msgId;
    return this.send(peer, m);
  }

  /** PUBACK and REGACK (§5.4.13, §5.4.11): TopicId, MsgId, ReturnCode. */
  sendAck(peer: Peer, type: MsgType, topicId: number, msgId: number, returnCode: number): boolean {
    const m = this.mo;
    m.reset();
    m.type = type;
    m.topicId = topicId;
    m.msgId = msgId;
    m.returnCode = returnCode;
    return this.send(peer, m);
  }

  /** SUBACK (§5.4.16): granted QoS, TopicId, MsgId, ReturnCode. */
  sendSuback(peer: Peer, qos: number, topicId: number, msgId: number, returnCode: number): boolean {
    const m = this.mo;
    m.reset();
    m.type = MsgType.SUBACK;
    m.qos = qos;
    m.topicId = topicId;
    m.msgId = msgId;
    m.returnCode = returnCode;
    return this.send(peer, m);
  }

  private view(len: number): Uint8Array {
    if (len > VIEW_CACHE) return this.tx.subarray(0, len);
    let v = this.views[len];
    if (v === undefined) v = this.views[len] = this.tx.subarray(0, len);
    return v;
  }
}
