/**
 * The MQTT-SN 1.2 gateway core (issue #4): sensor transports in, broker link out, and every
 * procedure of MQTT-SN 1.2 §6 in between. See `gateway/README.md`, "Core", for the choices
 * made where the spec is silent.
 *
 * @example
 * ```ts
 * const gw = new Gateway({ config, transports: [udp], link: createBrokerLink(config, { log, metrics }), log, metrics });
 * await gw.start();          // transports bound, broker connected, first ADVERTISE sent
 * ...
 * await gw.stop();           // broker connections closed gracefully (no Wills), transports closed
 * ```
 */
import { decodeForwarder, decodeMessage, MsgType, SnForwarderHeader, SnMessage, msgTypeName } from '../src/mqttsn';
import { statusName } from '../src/core/status';
import { GatewayMetrics } from './metrics';
import { silentLogger, type Logger } from './log';
import { DEFAULT_TIMERS, type GatewayOptions, type GatewayTimers } from './options';
import type { SensorTransport } from './transports/transport';
import { GatewayStateError, HandlerError } from './session/errors';
import { Peer, Port, forwardedKey } from './session/peer';
import type { Session, SessionState } from './session/session';
import { reached } from './session/time';
import { HandlerContext } from './handlers/context';
import { onConnect, onDisconnect, onWillMessage, onWillTopic, onWillUpdate, supervise } from './handlers/connect';
import { onBrokerMessage, onPuback, onPubcomp, onPubrec, onRegack, retry } from './handlers/deliver';
import { onPublish, onPublishMinus1, onPubrel } from './handlers/publish';
import { onRegister } from './handlers/register';
import { onSubscribe, onUnsubscribe } from './handlers/subscribe';
import { onPingreq, onSleep } from './handlers/sleep';
import { advertise, onSearchGw } from './handlers/discovery';

/** One line of {@link Gateway.clients}. */
export interface ClientSummary {
  clientId: string;
  /** The address the client is bound to (the transport's form; `address#nodeid` behind a forwarder), or null. */
  address: string | null;
  /** Name of the transport it is on, or null. */
  transport: string | null;
  state: SessionState;
}

/** The gateway; see the module comment. */
export class Gateway {
  /** The counters and gauges (`options.metrics` or a new registry). */
  readonly metrics: GatewayMetrics;
  private readonly ctx: HandlerContext;
  private readonly log: Logger;
  private readonly ports: Port[];
  private readonly mi = new SnMessage();
  private readonly fh = new SnForwarderHeader();
  private readonly now: () => number;
  private nextAdvertise = 0;
  private tick: NodeJS.Timeout | null = null;
  private phase: 'new' | 'starting' | 'running' | 'stopped' = 'new';

  /** Builds the core; nothing starts until {@link Gateway.start}. Throws a GatewayError without transports. */
  constructor(o: GatewayOptions) {
    if (o.transports.length === 0) throw new GatewayStateError('a Gateway needs at least one sensor transport');
    const names = new Set<string>();
    for (const t of o.transports) {
      if (names.has(t.name)) throw new GatewayStateError(`two sensor transports are named ${t.name}`);
      names.add(t.name);
    }
    this.metrics = o.metrics ?? new GatewayMetrics();
    this.log = o.log ?? silentLogger();
    const perf = globalThis.performance;
    this.now = o.now ?? (() => perf.now());
    const timers: GatewayTimers = { ...DEFAULT_TIMERS, ...o.timers };
    this.ctx = new HandlerContext(o.config, o.link, this.metrics, this.log, timers, this.now, o.random ?? Math.random);
    this.ports = o.transports.map((t) => new Port(t));
  }

  /**
   * Starts the broker link, then the transports (their `onPacket` / `onError` set), sends the
   * first ADVERTISE (§6.1) and starts the tick timer that calls {@link Gateway.poll} every
   * `timers.tick` ms. Rejects (and stops what it started) when the link or a transport fails.
   */
  async start(): Promise<void> {
    if (this.phase !== 'new') throw new GatewayStateError(`start() called on a gateway that is ${this.phase}`);
    this.phase = 'starting';
    const ctx = this.ctx;
    ctx.link.handlers = {
      onMessage: (clientId, topic, payload, qos, retain, filter) => this.brokerMessage(clientId, topic, payload, qos, retain, filter ?? null),
      onConnection: (clientId, up) => {
        if (clientId === null) ctx.brokerUp = up;
      },
    };
    for (const p of this.ports) {
      p.transport.onPacket = (bytes, address) => this.packet(p, bytes, address);
      p.transport.onError = (kind, detail) => this.transportError(p.transport, kind, detail);
    }
    try {
      await ctx.link.start();
      ctx.brokerUp = true;
      await Promise.all(this.ports.map((p) => p.transport.start()));
    } catch (err) {
      this.phase = 'stopped';
      await this.shutdown();
      throw err;
    }
    this.phase = 'running';
    const now = this.now();
    advertise(ctx, this.ports);
    this.nextAdvertise = now + ctx.config.advertiseInterval * 1000;
    this.tick = setInterval(() => this.poll(this.now()), ctx.timers.tick);
    this.tick.unref?.();
    this.log.debug('gateway core started', {
      gatewayId: ctx.config.gatewayId,
      mode: ctx.link.mode,
      transports: this.ports.map((p) => p.transport.name).join(','),
    });
  }

  /** Stops gracefully: tick timer cleared, broker link stopped (no Wills published), transports closed. Idempotent. */
  async stop(): Promise<void> {
    if (this.phase === 'stopped') return;
    this.phase = 'stopped';
    await this.shutdown();
    this.log.debug('gateway core stopped');
  }

  private async shutdown(): Promise<void> {
    if (this.tick !== null) clearInterval(this.tick);
    this.tick = null;
    for (const p of this.ports) {
      p.transport.onPacket = null;
      p.transport.onError = null;
    }
    const results = await Promise.allSettled([this.ctx.link.stop(), ...this.ports.map((p) => p.transport.stop())]);
    for (const r of results) if (r.status === 'rejected') this.log.warn('error while stopping', { error: String(r.reason) });
  }

  /**
   * Every time-based procedure at `now` (the injected clock): Will-flow timeouts (§6.2),
   * keep-alive (§6.11) and sleep (§6.14) supervision, retransmissions (§6.13) and ADVERTISE
   * (§6.1). Called by the tick timer; public so tests can drive time.
   */
  poll(now: number): void {
    const ctx = this.ctx;
    for (const s of ctx.table.values()) {
      try {
        supervise(ctx, s, now);
        retry(ctx, s, now);
      } catch (err) {
        this.log.error('timer work failed', { clientId: s.clientId, error: String(err) });
      }
    }
    if (this.phase === 'running' && reached(now, this.nextAdvertise)) {
      advertise(ctx, this.ports);
      this.nextAdvertise = now + ctx.config.advertiseInterval * 1000;
    }
  }

  /** The clients the gateway knows, for logs and tests. */
  clients(): readonly ClientSummary[] {
    const out: ClientSummary[] = [];
    for (const s of this.ctx.table.values()) {
      out.push({
        clientId: s.clientId,
        address: s.peer === null ? null : s.peer.key,
        transport: s.peer === null ? null : s.peer.port.transport.name,
        state: s.state,
      });
    }
    return out;
  }

  private transportError(t: SensorTransport, kind: string, detail: string): void {
    if (kind === 'framing' || kind === 'checksum') {
      this.metrics.drop('framing');
      if (this.log.enabled('debug')) this.log.debug('link framing error', { transport: t.name, kind, detail });
    } else if (kind === 'io') this.log.warn('sensor link trouble', { transport: t.name, kind, detail });
    else if (this.log.enabled('debug')) this.log.debug('sensor link event', { transport: t.name, kind, detail });
  }

  private brokerMessage(clientId: string | null, topic: string, payload: Uint8Array, qos: number, retain: boolean, filter: string | null): void {
    try {
      onBrokerMessage(this.ctx, clientId, topic, payload, qos, retain, filter);
    } catch (err) {
      this.log.error('routing a broker message failed', { topic, error: String(err) });
    }
  }

  /** One datagram from a transport; nothing it does can throw to the event loop. */
  private packet(port: Port, bytes: Uint8Array, address: string): void {
    const mt = this.metrics;
    mt.packetsIn++;
    mt.bytesIn += bytes.length;
    try {
      this.dispatch(port, bytes, address);
    } catch (err) {
      const e = new HandlerError(msgTypeName(this.mi.type), err);
      this.log.error(e.message, { name: e.name, peer: port.transport.name + ' ' + address, stack: err instanceof Error ? err.stack ?? null : null });
    }
  }

  private dispatch(port: Port, bytes: Uint8Array, address: string): void {
    const ctx = this.ctx;
    let len = bytes.length;
    if (len > port.transport.mtu) {
      ctx.drop('too_large', port.transport.name + ' ' + address, `${len} octets over the MTU ${port.transport.mtu}`);
      return;
    }
    let off = 0;
    let key = address;
    let forwarded = false;
    if (len >= 2 && bytes[0] !== 1 && bytes[1] === MsgType.ENCAPSULATED) {
      if (!ctx.config.forwarder) {
        ctx.drop('unexpected_type', port.transport.name + ' ' + address, 'forwarder encapsulation, but forwarder is off');
        return;
      }
      const fh = this.fh;
      const r = decodeForwarder(bytes, 0, len, fh);
      if (r < 0) {
        this.malformed(port, address, bytes, r);
        return;
      }
      off = fh.messageOffset;
      len = fh.messageLength;
      key = forwardedKey(address, bytes, fh.nodeIdOffset, fh.nodeIdLength);
      forwarded = true;
    }
    const m = this.mi;
    const n = decodeMessage(bytes, off, len, m);
    if (n !== len) {
      this.malformed(port, address, bytes, n);
      return;
    }
    const type = m.type;
    const s = port.sessions.get(key);
    // The hot path: PUBLISH from a connected client.
    if (type === MsgType.PUBLISH && s !== undefined && m.qos >= 0) {
      if (s.state === 'connecting') {
        ctx.drop('not_connected', s.peer, 'PUBLISH during CONNECT');
        return;
      }
      s.lastSeen = this.now();
      onPublish(ctx, s, m, bytes);
      return;
    }
    if (s !== undefined) s.lastSeen = this.now();
    switch (type) {
      case MsgType.CONNECT:
        onConnect(ctx, this.peer(port, address, key, forwarded, bytes), m);
        return;
      case MsgType.SEARCHGW:
        onSearchGw(ctx, s?.peer ?? this.peer(port, address, key, forwarded, bytes), m);
        return;
      case MsgType.ADVERTISE:
      case MsgType.GWINFO:
        return; // other gateways, or clients answering SEARCHGW for us (§6.1)
      case MsgType.PINGREQ:
        onPingreq(ctx, s?.peer ?? this.peer(port, address, key, forwarded, bytes), s, m);
        return;
      case MsgType.PUBLISH:
        if (m.qos < 0) {
          onPublishMinus1(ctx, s, s?.peer ?? this.peer(port, address, key, forwarded, bytes), m, bytes);
          return;
        }
        break;
      case MsgType.WILLTOPIC:
      case MsgType.WILLMSG:
      case MsgType.REGISTER:
      case MsgType.REGACK:
      case MsgType.PUBACK:
      case MsgType.PUBREC:
      case MsgType.PUBREL:
      case MsgType.PUBCOMP:
      case MsgType.SUBSCRIBE:
      case MsgType.UNSUBSCRIBE:
      case MsgType.DISCONNECT:
      case MsgType.WILLTOPICUPD:
      case MsgType.WILLMSGUPD:
        break;
      default:
        ctx.drop('unexpected_type', port.transport.name + ' ' + key, `${msgTypeName(type)} from a client`);
        return;
    }
    if (s === undefined) {
      // §6.12: "the gateway ... cannot identify the client to which a received message belongs".
      const peer = this.peer(port, address, key, forwarded, bytes);
      ctx.drop('not_connected', peer, `${msgTypeName(type)} from an address with no session`);
      // A DISCONNECT is never answered with one here: its sender is already disconnected, and
      // two gateways (or a gateway and a forged copy of its own address) would otherwise
      // bounce DISCONNECTs between them for ever.
      if (type !== MsgType.DISCONNECT) ctx.sendHeader(peer, MsgType.DISCONNECT);
      return;
    }
    if (s.state === 'connecting') {
      if (type === MsgType.WILLTOPIC) onWillTopic(ctx, s, m);
      else if (type === MsgType.WILLMSG) onWillMessage(ctx, s, m);
      else if (type === MsgType.DISCONNECT) onDisconnect(ctx, s);
      else ctx.drop('not_connected', s.peer, `${msgTypeName(type)} during CONNECT`);
      return;
    }
    this.session(s, m, bytes);
  }

  /** A message of a bound session (active, asleep or awake). */
  private session(s: Session, m: SnMessage, bytes: Uint8Array): void {
    const ctx = this.ctx;
    switch (m.type) {
      case MsgType.PUBLISH:
        onPublish(ctx, s, m, bytes);
        return;
      case MsgType.PUBACK:
        onPuback(ctx, s, m);
        return;
      case MsgType.PUBREC:
        onPubrec(ctx, s, m);
        return;
      case MsgType.PUBREL:
        onPubrel(ctx, s, m);
        return;
      case MsgType.PUBCOMP:
        onPubcomp(ctx, s, m);
        return;
      case MsgType.REGISTER:
        onRegister(ctx, s, m);
        return;
      case MsgType.REGACK:
        onRegack(ctx, s, m);
        return;
      case MsgType.SUBSCRIBE:
        onSubscribe(ctx, s, m);
        return;
      case MsgType.UNSUBSCRIBE:
        onUnsubscribe(ctx, s, m);
        return;
      case MsgType.DISCONNECT:
        if (m.hasDuration && m.duration > 0) onSleep(ctx, s, m.duration);
        else onDisconnect(ctx, s);
        return;
      case MsgType.WILLTOPICUPD:
      case MsgType.WILLMSGUPD:
        onWillUpdate(ctx, s, m);
        return;
      case MsgType.WILLTOPIC:
        onWillTopic(ctx, s, m);
        return;
      case MsgType.WILLMSG:
        onWillMessage(ctx, s, m);
        return;
    }
  }

  /** A reply address for a sender with no session yet (CONNECT, SEARCHGW, QoS -1, errors). */
  private peer(port: Port, address: string, key: string, forwarded: boolean, bytes: Uint8Array): Peer {
    if (!forwarded) return new Peer(port, address, null, key);
    const fh = this.fh;
    return new Peer(port, address, bytes.slice(fh.nodeIdOffset, fh.nodeIdOffset + fh.nodeIdLength), key);
  }

  private malformed(port: Port, address: string, bytes: Uint8Array, status: number): void {
    const ctx = this.ctx;
    ctx.drop('malformed', port.transport.name + ' ' + address, status < 0 ? statusName(status) : `trailing octets after a ${status}-octet message`);
    if (this.log.enabled('trace')) this.log.trace('malformed datagram', { peer: port.transport.name + ' ' + address, hex: Buffer.from(bytes).toString('hex') });
  }
}
