/**
 * Test rig of the gateway core: a real {@link Gateway} on a real {@link UdpSensorTransport}
 * (127.0.0.1, port 0) and a real broker link (`createBrokerLink`) to a real broker (Aedes in
 * process, or Mosquitto), plus the peers that check it:
 *
 * - {@link RawClient}: a `node:dgram` socket speaking MQTT-SN through the fieldmq codec, for
 *   exact wire checks;
 * - {@link Device}: fieldmq's own `SnClient` over `NodeUdpTransport`, polled in real time;
 * - {@link Watcher}: an independent MQTT.js client on the broker side.
 *
 * The gateway's clock is injected ({@link Rig.clock}); tests move it and call `gw.poll`.
 * Waits are on events or conditions, each with a deadline; nothing sleeps a fixed time.
 */
import dgram from 'node:dgram';
import net from 'node:net';
import { expect } from 'vitest';
import mqtt, { type MqttClient } from 'mqtt';
import { decodeForwarder, decodeMessage, MsgType, SnForwarderHeader, SnMessage, msgTypeName } from '../../../src/mqttsn';
import { SnClient, type SnClientOptions } from '../../../src/mqttsn/client';
import type { SnLite } from '../../../src/mqttsn/lite';
import { NodeUdpTransport } from '../../../src/platform/node/udp';
import { utf8Decode } from '../../../src/core/utf8';
import { Gateway } from '../../../gateway/gateway';
import { defaultConfig, type GatewayConfig } from '../../../gateway/config/schema';
import { UdpSensorTransport } from '../../../gateway/transports/udp';
import { createTransports } from '../../../gateway/transports/index';
import { brokerAt, createBrokerLink } from '../../../gateway/broker/index';
import { LINK_FULL, type BrokerLink } from '../../../gateway/broker/link';
import { GatewayMetrics } from '../../../gateway/metrics';
import { createLogger } from '../../../gateway/log';
import type { GatewayTimers } from '../../../gateway/options';
import { startAedes, type AedesBroker } from '../../support/aedes';
import { WaitingInbox } from '../../support/waiting-inbox';
import { recordEvents, type Ev } from '../../support/sn-events';



/** Real-time limit for one awaited event. */
export const DEADLINE = 3000;

/** Waits until `check()` is truthy, re-checking every few ms; fails after `ms` naming `what`. */
export async function until<T>(what: string, check: () => T | undefined | null | false, ms = DEADLINE, detail?: () => string): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = check();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}${detail ? ` (${detail()})` : ''}`);
    await new Promise((r) => setTimeout(r, 3));
  }
}

/** Deterministic pseudo-random octets. */
export function lcg(seed: number): () => number {
  let x = seed >>> 0;
  return () => (x = (Math.imul(x, 1664525) + 1013904223) >>> 0) >>> 24;
}

/**
 * Datagrams no MQTT-SN 1.2 decoder may accept (§5.2): a hand-made list (empty, truncated,
 * reserved type, bad ProtocolId, TopicIdType 0b11, bad UTF-8, trailing octets), then 300
 * random ones whose Length never matches the datagram. Deterministic for a seed.
 */
export function badDatagrams(seed: number): Uint8Array[] {
  const rnd = lcg(seed);
  const bad: Uint8Array[] = [
    new Uint8Array([]),
    new Uint8Array([0]),
    new Uint8Array([1]),
    new Uint8Array([1, 0, 3]),
    new Uint8Array([5, MsgType.PUBLISH, 0]), // truncated
    new Uint8Array([3, 0x19, 0]), // reserved type
    new Uint8Array([4, MsgType.CONNECT, 0, 2]), // bad protocol id position / short
    new Uint8Array([7, MsgType.CONNECT, 0, 9, 0, 10, 0x41]), // ProtocolId 9
    new Uint8Array([6, MsgType.PUBLISH, 0x03, 0, 1, 0]), // TopicIdType 0b11
    new Uint8Array([9, MsgType.REGISTER, 0, 0, 0, 1, 0xff, 0xfe, 0xfd]), // bad UTF-8
    new Uint8Array([2, MsgType.PINGREQ, 9, 9]), // trailing octets
  ];
  for (let i = 0; i < 300; i++) {
    const n = 1 + (rnd() % 20);
    const b = new Uint8Array(n);
    for (let j = 0; j < n; j++) b[j] = rnd();
    b[0] = n + 1 + (rnd() % 3); // a Length that never matches the datagram
    bad.push(b);
  }
  return bad;
}

/** A message the raw client received, decoded. */
export interface Rx {
  m: SnMessage;
  bytes: Uint8Array;
  /** Variable-length field as bytes / as text. */
  data: Uint8Array;
  text: string;
  /** Wireless Node Id of a forwarder-wrapped reply, as hex, or null. */
  nodeId: string | null;
}

export { encode, type Tx } from '../../support/sn-encode';
import { encode, type Tx } from '../../support/sn-encode';

/** Wraps `inner` in a forwarder encapsulation (MQTT-SN 1.2 §5.5) for `nodeId`. */
export function wrap(nodeId: number[], inner: Uint8Array): Uint8Array {
  const h = 3 + nodeId.length;
  const out = new Uint8Array(h + inner.length);
  out[0] = h;
  out[1] = 0xfe;
  out[2] = 0;
  out.set(nodeId, 3);
  out.set(inner, h);
  return out;
}

/** `"ab"` as a short topic id. */
export function shortId(s: string): number {
  return (s.charCodeAt(0) << 8) | s.charCodeAt(1);
}

/** A raw MQTT-SN peer on 127.0.0.1 talking to the gateway. */
export class RawClient {
  readonly sock: dgram.Socket;
  readonly port: number;
  private readonly inbox = new WaitingInbox<Rx>();

  private constructor(
    sock: dgram.Socket,
    /** Where {@link RawClient.send} sends (0 until known). */
    public gwPort: number,
  ) {
    this.sock = sock;
    this.port = sock.address().port;
    sock.on('message', (msg) => {
      const bytes = new Uint8Array(msg);
      let off = 0;
      let nodeId: string | null = null;
      if (bytes[1] === 0xfe && bytes[0] !== 1) {
        const fh = new SnForwarderHeader();
        if (decodeForwarder(bytes, 0, bytes.length, fh) !== 0) throw new Error('bad encapsulation from the gateway');
        nodeId = Buffer.from(bytes.subarray(fh.nodeIdOffset, fh.nodeIdOffset + fh.nodeIdLength)).toString('hex');
        off = fh.messageOffset;
      }
      const m = new SnMessage();
      const n = decodeMessage(bytes, off, bytes.length - off, m);
      if (n !== bytes.length - off) throw new Error(`client got a bad datagram (${n}): ${Buffer.from(bytes).toString('hex')}`);
      const data = m.data ? bytes.slice(m.dataOffset, m.dataOffset + m.dataLength) : new Uint8Array(0);
      this.inbox.push({ m, bytes, data, text: utf8Decode(data, 0, data.length), nodeId });
    });
  }

  static async open(gwPort = 0): Promise<RawClient> {
    const sock = dgram.createSocket('udp4');
    await new Promise<void>((resolve) => sock.bind(0, '127.0.0.1', () => resolve()));
    return new RawClient(sock, gwPort);
  }

  /** `127.0.0.1:<port>`: the address the gateway sees. */
  get address(): string {
    return `127.0.0.1:${this.port}`;
  }

  /** Messages received and not taken yet. */
  get queued(): number {
    return this.inbox.length;
  }

  send(f: Tx | Uint8Array): void {
    this.sock.send(f instanceof Uint8Array ? f : encode(f), this.gwPort, '127.0.0.1');
  }

  /** The next message, waiting up to {@link DEADLINE}. */
  async next(ms = DEADLINE): Promise<Rx> {
    return this.inbox.next(ms, 'client');
  }

  /** The next message, which must be of `type`. */
  async expect(type: MsgType): Promise<Rx> {
    const r = await this.next();
    expect(msgTypeName(r.m.type), 'message type the client received').toBe(msgTypeName(type));
    return r;
  }

  /**
   * Proves nothing else is on the way: PINGREQ, and the very next message must be PINGRESP
   * (the gateway answers in order on one socket; loopback keeps the order).
   */
  async barrier(): Promise<void> {
    this.send({ type: MsgType.PINGREQ });
    await this.expect(MsgType.PINGRESP);
  }

  /** CONNECT (no Will) and the CONNACK, which must be `rc`. */
  async connect(clientId: string, o: { clean?: boolean; duration?: number; rc?: number } = {}): Promise<void> {
    this.send({ type: MsgType.CONNECT, cleanSession: o.clean ?? true, duration: o.duration ?? 60, text: clientId });
    const r = await this.expect(MsgType.CONNACK);
    expect(r.m.returnCode, 'CONNACK return code').toBe(o.rc ?? 0);
  }

  /** REGISTER `name` and return the id from an accepted REGACK. */
  async register(name: string, msgId = 1): Promise<number> {
    this.send({ type: MsgType.REGISTER, msgId, text: name });
    const r = await this.expect(MsgType.REGACK);
    expect(r.m.returnCode).toBe(0);
    expect(r.m.msgId).toBe(msgId);
    return r.m.topicId;
  }

  /** SUBSCRIBE by name and return the SUBACK. */
  async subscribe(filter: string, qos: number, msgId = 2): Promise<SnMessage> {
    this.send({ type: MsgType.SUBSCRIBE, qos, msgId, text: filter });
    const r = await this.expect(MsgType.SUBACK);
    expect(r.m.msgId).toBe(msgId);
    return r.m;
  }

  private closed = false;

  /** Closes the socket (idempotent). */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.sock.close();
  }
}

/** One callback invocation of a {@link Device}. */
export type { Ev };

/** fieldmq's SnClient on a NodeUdpTransport, polled in real time. */
export class Device {
  private timer: NodeJS.Timeout;

  private constructor(
    readonly c: SnLite,
    readonly tr: NodeUdpTransport,
    /** Every callback, in order (taken by {@link Device.event}). */
    readonly ev: Ev[],
  ) {
    tr.onReadable = () => this.poll();
    this.timer = setInterval(() => this.poll(), 5);
  }

  /** A device on the gateway at `gwPort`, running `SnClient` or the client `make` builds (the lean `createSnLite`). */
  static async open(gwPort: number, opts: Partial<SnClientOptions> & { clientId: string }, make: (o: SnClientOptions) => SnLite = (o) => new SnClient(o)): Promise<Device> {
    const tr = new NodeUdpTransport({ localAddress: '127.0.0.1', address: '127.0.0.1', port: gwPort });
    await tr.ready();
    const ev: Ev[] = [];
    const c = make({
      transport: tr,
      gateway: 0,
      tRetry: 500,
      ...recordEvents(ev),
      ...opts,
    });
    return new Device(c, tr, ev);
  }

  poll(): void {
    this.c.poll(Math.floor(performance.now()) >>> 0);
  }

  /** Waits for an event whose name is `name` (and that `pred` accepts); returns it and removes it. */
  async event(name: string, pred: (e: Ev) => boolean = () => true, ms = DEADLINE): Promise<Ev> {
    const e = await until(`device event ${name}`, () => this.ev.find((x) => x[0] === name && pred(x)), ms);
    this.ev.splice(this.ev.indexOf(e), 1);
    return e;
  }

  /** connect() and wait for an accepted CONNACK. */
  async connect(): Promise<void> {
    this.c.connect();
    this.poll();
    expect(await this.event('connect')).toEqual(['connect', 0]);
  }

  close(): void {
    clearInterval(this.timer);
    this.tr.close();
  }
}

/** A message the watcher saw on the broker. */
export interface Seen {
  topic: string;
  payload: string;
  qos: number;
  retain: boolean;
}

/** An independent MQTT.js client on the broker. */
export class Watcher {
  readonly seen: Seen[] = [];

  private constructor(readonly client: MqttClient) {
    client.on('message', (topic, payload, packet) => {
      this.seen.push({ topic, payload: payload.toString(), qos: packet.qos, retain: packet.retain });
    });
  }

  static async open(url: string, filters: [string, 0 | 1 | 2][] = [], clientId?: string): Promise<Watcher> {
    const client = await mqtt.connectAsync(url, { reconnectPeriod: 0, ...(clientId ? { clientId } : {}) });
    const w = new Watcher(client);
    for (const [f, qos] of filters) await client.subscribeAsync(f, { qos });
    return w;
  }

  /** Waits for a message on `topic` (optionally with `payload`), returns it and removes it. */
  async message(topic: string, payload?: string, ms = DEADLINE): Promise<Seen> {
    const m = await until(`broker message on ${topic}`, () => this.seen.find((x) => x.topic === topic && (payload === undefined || x.payload === payload)), ms);
    this.seen.splice(this.seen.indexOf(m), 1);
    return m;
  }

  publish(topic: string, payload: string, qos: 0 | 1 | 2 = 0, retain = false): Promise<unknown> {
    return this.client.publishAsync(topic, payload, { qos, retain });
  }

  close(): Promise<void> {
    return this.client.endAsync(true);
  }
}

/**
 * A real broker link with a hand on it: `hold` keeps the broker's acknowledgements (`done` of
 * QoS 1/2 publishes) until `release()`, `full` makes `publish` answer LINK_FULL, and every
 * call is recorded. The messages still go through the real link to the real broker.
 */
export class HandLink implements BrokerLink {
  hold = false;
  full = false;
  /** Keep the answers of subscribe / unsubscribe in {@link HandLink.heldSubs} until `releaseSubs()`. */
  holdSubs = false;
  readonly held: (() => void)[] = [];
  readonly heldSubs: (() => void)[] = [];
  readonly calls: string[] = [];

  /** `real`: the link underneath (tests may call it behind the core's back). */
  constructor(readonly real: BrokerLink) {}

  get mode(): 'transparent' | 'aggregating' {
    return this.real.mode;
  }
  get handlers(): BrokerLink['handlers'] {
    return this.real.handlers;
  }
  set handlers(h: BrokerLink['handlers']) {
    this.real.handlers = h;
  }
  start(): Promise<void> {
    return this.real.start();
  }
  stop(): Promise<void> {
    return this.real.stop();
  }
  connect(c: Parameters<BrokerLink['connect']>[0], done: (rc: number) => void): void {
    this.calls.push(`connect ${c.clientId} clean=${c.cleanSession} will=${c.will ? c.will.topic : '-'}`);
    this.real.connect(c, done);
  }
  disconnect(clientId: string, publishWill: boolean): void {
    this.calls.push(`disconnect ${clientId} will=${publishWill}`);
    this.real.disconnect(clientId, publishWill);
  }
  forget(clientId: string): void {
    this.calls.push(`forget ${clientId}`);
    this.real.forget(clientId);
  }
  setWill(clientId: string, will: Parameters<BrokerLink['setWill']>[1], done: (rc: number) => void): void {
    this.calls.push(`setWill ${clientId} ${will ? will.topic : '-'}`);
    this.real.setWill(clientId, will, done);
  }
  publish(clientId: string | null, topic: string, payload: Uint8Array, qos: number, retain: boolean, done: ((rc: number) => void) | null): number {
    this.calls.push(`publish ${clientId} ${topic} ${qos}`);
    if (this.full) return LINK_FULL;
    const d = done && this.hold ? (rc: number) => this.held.push(() => done(rc)) : done;
    return this.real.publish(clientId, topic, payload, qos, retain, d);
  }
  subscribe(clientId: string, filter: string, qos: number, done: (granted: number) => void): void {
    this.calls.push(`subscribe ${clientId} ${filter} ${qos}`);
    this.real.subscribe(clientId, filter, qos, this.holdSubs ? (g) => this.heldSubs.push(() => done(g)) : done);
  }
  unsubscribe(clientId: string, filter: string, done: () => void): void {
    this.calls.push(`unsubscribe ${clientId} ${filter}`);
    const d = (): void => {
      this.calls.push(`unsubscribed ${clientId} ${filter}`);
      done();
    };
    this.real.unsubscribe(clientId, filter, this.holdSubs ? () => this.heldSubs.push(d) : d);
  }
  /** Lets the held subscribe / unsubscribe answers through. */
  releaseSubs(): void {
    this.holdSubs = false;
    for (const f of this.heldSubs.splice(0)) f();
  }
  /** Lets the held acknowledgements through. */
  release(): void {
    this.hold = false;
    for (const f of this.held.splice(0)) f();
  }
}

/** Options of {@link Rig.start}. */
export interface RigOptions {
  mode?: 'transparent' | 'aggregating';
  config?: Partial<GatewayConfig>;
  timers?: Partial<GatewayTimers>;
  /** A broker url to use instead of a fresh Aedes. */
  brokerUrl?: string;
  /** Where the broker link connects, when not `brokerUrl` (a {@link CutProxy} in front of it); watchers still use `brokerUrl`. */
  linkUrl?: string;
  /** MQTT version of the broker link (default 4, MQTT 3.1.1). */
  mqttVersion?: 4 | 5;
  /** Build from this configuration as `main.ts` does (`createTransports`, its broker) instead of a test UDP transport. */
  fromConfig?: boolean;
  /** Put a {@link HandLink} around the real link (see {@link Rig.hand}). */
  hand?: boolean;
  /** Multicast group and port of the gateway's UDP transport (ADVERTISE, GWINFO, SEARCHGW). */
  multicast?: { group: string; port: number; interface?: string };
  /** MTU of the gateway's UDP transport. Default 1,024. */
  mtu?: number;
  /** UDP port of the gateway (default 0: the OS chooses). */
  udpPort?: number;
  /** The gateway's random numbers (default Math.random). */
  random?: () => number;
  /** Log lines to stderr at this level (debugging). */
  logLevel?: 'debug' | 'trace';
}

/** A running gateway, its broker and its clock. */
export class Rig {
  /** The gateway's injected clock (ms). */
  readonly clock = { t: 1_000_000 };
  readonly raws: RawClient[] = [];
  readonly devices: Device[] = [];
  readonly watchers: Watcher[] = [];

  private constructor(
    readonly gw: Gateway,
    readonly udp: UdpSensorTransport,
    readonly metrics: GatewayMetrics,
    readonly config: GatewayConfig,
    readonly url: string,
    readonly aedes: AedesBroker | null,
    /** The hand on the link when `hand: true`. */
    readonly hand: HandLink | null,
    /** Error-level log lines of the gateway (none expected). */
    readonly errors: string[],
  ) {}

  static async start(o: RigOptions = {}): Promise<Rig> {
    const aedes = o.brokerUrl ? null : await startAedes();
    const url = o.brokerUrl ?? aedes!.url;
    const u = new URL(o.linkUrl ?? url);
    const config: GatewayConfig = o.fromConfig
      ? { ...defaultConfig(), ...o.config }
      : { ...defaultConfig(), mode: o.mode ?? 'aggregating', gatewayName: `gw${Math.floor(Math.random() * 1e9)}`, ...o.config };
    const metrics = new GatewayMetrics();
    const lines: string[] = [];
    const log = o.logLevel
      ? createLogger({ level: o.logLevel })
      : createLogger({ level: 'error', write: (l) => lines.push(l) });
    const real = o.fromConfig
      ? createBrokerLink(config, { log, metrics })
      : createBrokerLink(config, { broker: brokerAt(u.hostname, Number(u.port), o.mqttVersion ?? 4), log, metrics });
    const hand = o.hand ? new HandLink(real) : null;
    const link = hand ?? real;
    const udp = o.fromConfig
      ? (createTransports(config, { udpHost: '127.0.0.1', udpInterface: '127.0.0.1' })[0] as UdpSensorTransport)
      : new UdpSensorTransport({ type: 'udp4', port: o.udpPort ?? 0, host: '127.0.0.1', ...(o.mtu ? { mtu: o.mtu } : {}), ...(o.multicast ? { multicast: o.multicast } : {}) });
    const holder: { rig: Rig | null } = { rig: null };
    const gw = new Gateway({
      config,
      transports: [udp],
      link,
      metrics,
      log,
      now: () => holder.rig!.clock.t,
      ...(o.random ? { random: o.random } : {}),
      timers: { tRetry: 10_000, nRetry: 3, tick: 50, willTimeout: 10_000, ...o.timers },
    });
    const rig = new Rig(gw, udp, metrics, config, url, aedes, hand, lines);
    holder.rig = rig;
    await gw.start();
    return rig;
  }

  /** The gateway's UDP port. */
  get port(): number {
    return this.udp.port;
  }

  /** Moves the gateway clock forward by `ms` and polls. */
  advance(ms: number): void {
    this.clock.t += ms;
    this.gw.poll(this.clock.t);
  }

  /** Takes a client opened before the gateway (its address in the config): points it here, closes it at the end. */
  adopt(r: RawClient): RawClient {
    r.gwPort = this.port;
    this.raws.push(r);
    return r;
  }

  async raw(): Promise<RawClient> {
    const r = await RawClient.open(this.port);
    this.raws.push(r);
    return r;
  }

  async device(opts: Partial<SnClientOptions> & { clientId: string }, make?: (o: SnClientOptions) => SnLite): Promise<Device> {
    const d = await Device.open(this.port, opts, make);
    this.devices.push(d);
    return d;
  }

  async watcher(filters: [string, 0 | 1 | 2][] = []): Promise<Watcher> {
    const w = await Watcher.open(this.url, filters);
    this.watchers.push(w);
    return w;
  }

  /** The state of `clientId` as {@link Gateway.clients} reports it, or undefined. */
  state(clientId: string): string | undefined {
    return this.gw.clients().find((c) => c.clientId === clientId)?.state;
  }

  async stop(): Promise<void> {
    for (const r of this.raws) r.close();
    for (const d of this.devices) d.close();
    await Promise.all(this.watchers.map((w) => w.close()));
    await this.gw.stop();
    await this.aedes?.stop();
  }
}

/**
 * A TCP relay between the gateway's broker link and a broker that a test can cut: the link
 * loses its connections (the sockets are destroyed: no DISCONNECT, as when a cable is pulled)
 * and cannot reconnect until {@link CutProxy.heal}, while the broker itself stays reachable
 * for the test's own MQTT.js clients.
 */
export class CutProxy {
  private readonly sockets = new Set<net.Socket>();
  private up = true;
  /** Connections accepted and relayed so far. */
  relayed = 0;

  private constructor(
    private readonly server: net.Server,
    /** The broker the proxy relays to. */
    readonly target: { host: string; port: number },
  ) {}

  static async start(target: { host: string; port: number }): Promise<CutProxy> {
    const server = net.createServer();
    const p = new CutProxy(server, target);
    server.on('connection', (sock) => p.accept(sock));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    return p;
  }

  /** `mqtt://127.0.0.1:<proxy port>`. */
  get url(): string {
    const a = this.server.address() as net.AddressInfo;
    return `mqtt://127.0.0.1:${a.port}`;
  }

  /** Destroys every relayed connection and refuses new ones until {@link CutProxy.heal}. */
  cut(): void {
    this.up = false;
    for (const s of this.sockets) s.destroy();
    this.sockets.clear();
  }

  /** Relays new connections again. */
  heal(): void {
    this.up = true;
  }

  async close(): Promise<void> {
    this.cut();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private accept(down: net.Socket): void {
    if (!this.up) {
      down.destroy();
      return;
    }
    this.relayed++;
    const upstream = net.connect(this.target.port, this.target.host);
    this.sockets.add(down);
    this.sockets.add(upstream);
    const end = (): void => {
      down.destroy();
      upstream.destroy();
      this.sockets.delete(down);
      this.sockets.delete(upstream);
    };
    down.on('error', end).on('close', end);
    upstream.on('error', end).on('close', end);
    down.pipe(upstream);
    upstream.pipe(down);
  }
}
