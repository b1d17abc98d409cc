/**
 * Shared harness of the broker-link tests: real brokers (in-process Aedes, a private
 * Mosquitto), an independent MQTT.js observer, a recorder of the link's callbacks, and
 * event-driven waits with deadlines (no sleeps: every wait re-checks when something happened
 * and fails with what was seen so far).
 */
import net from 'node:net';
import { afterAll, afterEach, beforeAll, describe } from 'vitest';
import mqtt, { type MqttClient as MqttJsClient, type IClientOptions } from 'mqtt';
import type { Aedes, Client as AedesClient, Subscription } from 'aedes';
import { startAedes, type AedesBroker } from '../../support/aedes';
import { requireMosquitto, startMosquitto, type MosquittoBroker, type MosquittoOptions } from '../../support/mosquitto';
import { waitFor } from '../../support/peers';
import { defaultConfig } from '../../../gateway/config/schema';
import { brokerAt, createBrokerLink, gatewayClientId, type BrokerLinkOptions } from '../../../gateway/broker/index';
import type { BrokerLink, BrokerLinkHandlers, LinkClient, LinkWill } from '../../../gateway/broker/link';
import { GatewayMetrics } from '../../../gateway/metrics';

/** Default deadline of a wait, ms. */
export const DEADLINE = 10_000;

// ── change signal ─────────────────────────────────────────────────────────────

const listeners = new Set<() => void>();

/** Tells every pending {@link until} to re-check. Called by every recorder below. */
export function changed(): void {
  for (const l of [...listeners]) l();
}

/** Waits until `check()` returns something other than undefined; re-checks on {@link changed}. */
export function until<T>(what: string, check: () => T | undefined, timeoutMs = DEADLINE, diagnostics?: () => string): Promise<T> {
  return waitFor(
    what,
    check,
    (f) => {
      listeners.add(f);
      return () => listeners.delete(f);
    },
    timeoutMs,
    diagnostics,
  );
}

/** `until` for a boolean condition. */
export function untilTrue(what: string, cond: () => boolean, timeoutMs = DEADLINE, diagnostics?: () => string): Promise<true> {
  return until(what, () => (cond() ? true : undefined), timeoutMs, diagnostics);
}

// ── cleanup ───────────────────────────────────────────────────────────────────

const cleanups: (() => Promise<unknown> | unknown)[] = [];

/** Registers `f` to run after the current test (last registered, first run). */
export function onCleanup(f: () => Promise<unknown> | unknown): void {
  cleanups.push(f);
}

/** Call once per test file: runs the registered cleanups after each test. */
export function useCleanups(): void {
  afterEach(async () => {
    for (const f of cleanups.splice(0).reverse()) {
      try {
        await f();
      } catch {
        // a cleanup failing must not hide the test's own result
      }
    }
  });
}

let seq = 0;
/** A name unique in this run (client ids, topics). */
export function uniq(prefix: string): string {
  return `${prefix}-${process.pid}-${++seq}-${Math.floor(Math.random() * 1e6)}`;
}

export const text = (s: string): Uint8Array => new TextEncoder().encode(s);
const decode = (b: Uint8Array): string => new TextDecoder().decode(b);

// ── brokers ───────────────────────────────────────────────────────────────────

export type PeerKind = 'aedes' | 'mosquitto';

/** A broker under test, with the few observations the tests need. */
export interface Peer {
  readonly label: string;
  readonly kind: PeerKind;
  readonly version: 4 | 5;
  readonly host: string;
  readonly port: number;
  readonly url: string;
  readonly aedes: Aedes | null;
  readonly mosquitto: MosquittoBroker | null;
  /**
   * Starts watching for `clientId`'s connection to end at the broker (DISCONNECT handled or
   * socket closed); the returned function waits for it.
   */
  watchGone(clientId: string): () => Promise<void>;
  /** Starts watching for `clientId` to connect; the returned function waits for it and tells its clean-session flag. */
  watchConnected(clientId: string): () => Promise<{ clean: boolean }>;
  stop(): Promise<void>;
}

function aedesPeer(a: AedesBroker): Peer {
  const gone: string[] = [];
  const connected: { id: string; clean: boolean }[] = [];
  a.broker.on('clientDisconnect', (c: AedesClient) => {
    gone.push(c.id);
    changed();
  });
  a.broker.on('client', (c: AedesClient) => {
    connected.push({ id: c.id, clean: c.clean });
    changed();
  });
  return {
    label: 'aedes, MQTT 3.1.1',
    kind: 'aedes',
    version: 4,
    host: a.host,
    port: a.port,
    url: a.url,
    aedes: a.broker,
    mosquitto: null,
    watchGone(id) {
      const from = gone.length;
      return async () => {
        await untilTrue(`aedes to see client ${id} go`, () => gone.slice(from).includes(id));
      };
    },
    watchConnected(id) {
      const from = connected.length;
      return async () => {
        const c = await until(`aedes to see client ${id} connect`, () => connected.slice(from).find((x) => x.id === id));
        return { clean: c.clean };
      };
    },
    stop: () => a.stop(),
  };
}

function escapeRe(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

function mosquittoPeer(m: MosquittoBroker, version: 4 | 5): Peer {
  return {
    label: `mosquitto, MQTT ${version === 5 ? '5' : '3.1.1'}`,
    kind: 'mosquitto',
    version,
    host: m.host,
    port: m.port,
    url: m.url,
    aedes: null,
    mosquitto: m,
    watchGone(id) {
      const from = m.log().length;
      const re = new RegExp(`Client ${escapeRe(id)} (disconnected|closed its connection|has exceeded timeout)`);
      return async () => {
        await m.waitForLog(re, { from, timeoutMs: DEADLINE });
      };
    },
    watchConnected(id) {
      const from = m.log().length;
      const re = new RegExp(`New client connected from \\S+ as ${escapeRe(id)} \\(p\\d, c(\\d)`);
      return async () => {
        const line = await m.waitForLog(re, { from, timeoutMs: DEADLINE });
        return { clean: re.exec(line)![1] === '1' };
      };
    },
    stop: () => m.stop(),
  };
}

/** Starts an in-process Aedes (MQTT 3.1.1). */
export async function aedes(): Promise<Peer> {
  return aedesPeer(await startAedes());
}

/** Starts a private Mosquitto, spoken to with MQTT `version`. */
export async function mosquitto(version: 4 | 5, opts: MosquittoOptions = {}): Promise<Peer> {
  return mosquittoPeer(await startMosquitto(opts), version);
}

/** Whether the Mosquitto suites run (fails on CI when the binary is missing; see test/support/peers.ts). */
export const HAVE_MOSQUITTO = requireMosquitto();

export interface PeerSpec {
  kind: PeerKind;
  version: 4 | 5;
  label: string;
}

/** Aedes 1.x speaks MQTT 3.1.1 only: MQTT 5 runs against Mosquitto. */
export const PEERS: readonly PeerSpec[] = [
  { kind: 'aedes', version: 4, label: 'aedes, MQTT 3.1.1' },
  { kind: 'mosquitto', version: 4, label: 'mosquitto, MQTT 3.1.1' },
  { kind: 'mosquitto', version: 5, label: 'mosquitto, MQTT 5' },
];

/**
 * One `describe` per broker of {@link PEERS}: the broker is started before the suite and
 * stopped after it; `get()` returns it inside tests. Mosquitto suites follow the missing-peer
 * policy.
 */
export function forEachPeer(body: (get: () => Peer, spec: PeerSpec) => void, specs: readonly PeerSpec[] = PEERS): void {
  for (const spec of specs) {
    describe.runIf(spec.kind === 'aedes' || HAVE_MOSQUITTO)(spec.label, () => {
      let peer: Peer | null = null;
      beforeAll(async () => {
        peer = spec.kind === 'aedes' ? await aedes() : await mosquitto(spec.version);
      });
      afterAll(async () => {
        await peer?.stop();
      });
      body(() => {
        if (!peer) throw new Error('broker not started');
        return peer;
      }, spec);
    });
  }
}

// ── the link under test ───────────────────────────────────────────────────────

export interface LinkMessage {
  clientId: string | null;
  topic: string;
  payload: string;
  qos: number;
  retain: boolean;
}

/** Records what the link hands the core. */
export class LinkProbe implements BrokerLinkHandlers {
  readonly messages: LinkMessage[] = [];
  readonly connections: { clientId: string | null; up: boolean }[] = [];

  onMessage(clientId: string | null, topic: string, payload: Uint8Array, qos: number, retain: boolean): void {
    this.messages.push({ clientId, topic, payload: decode(payload), qos, retain });
    changed();
  }

  onConnection(clientId: string | null, up: boolean): void {
    this.connections.push({ clientId, up });
    changed();
  }

  on(topic: string): LinkMessage[] {
    return this.messages.filter((m) => m.topic === topic);
  }
}

export interface TestLink {
  link: BrokerLink;
  probe: LinkProbe;
  metrics: GatewayMetrics;
  /** The MQTT client id of the shared / gateway-own connection. */
  gatewayId: string;
}

/** Builds a link for `peer` (not started); stopped after the test. `gatewayName`: a fresh one unless given (the shared connection's client id comes from it). */
export function makeLink(
  peer: { host: string; port: number; version: 4 | 5 },
  mode: 'transparent' | 'aggregating',
  opts: Partial<BrokerLinkOptions> = {},
  gatewayName = uniq('gw'),
): TestLink {
  const config = defaultConfig();
  config.mode = mode;
  config.gatewayName = gatewayName;
  const metrics = opts.metrics ?? new GatewayMetrics();
  const link = createBrokerLink(config, { broker: brokerAt(peer.host, peer.port, peer.version), connectTimeout: 5000, ...opts, metrics });
  const probe = new LinkProbe();
  link.handlers = probe;
  onCleanup(() => link.stop());
  return { link, probe, metrics, gatewayId: gatewayClientId(config) };
}

/** Builds and starts a link. */
export async function startLink(
  peer: { host: string; port: number; version: 4 | 5 },
  mode: 'transparent' | 'aggregating',
  opts: Partial<BrokerLinkOptions> = {},
  gatewayName?: string,
): Promise<TestLink> {
  const t = makeLink(peer, mode, opts, gatewayName);
  await t.link.start();
  return t;
}

/** Records the calls of one callback. */
export class Calls<A extends unknown[] = [number]> {
  readonly args: A[] = [];
  readonly fn = (...a: A): void => {
    this.args.push(a);
    changed();
  };
  get count(): number {
    return this.args.length;
  }
  /** Waits for the first call; returns its first argument. */
  async first(what: string, timeoutMs = DEADLINE): Promise<A[0]> {
    await untilTrue(what, () => this.args.length > 0, timeoutMs);
    return this.args[0][0];
  }
}

/** `link.connect` as a promise of the return code. */
export function connectClient(link: BrokerLink, c: Partial<LinkClient> & { clientId: string }, timeoutMs = DEADLINE): Promise<number> {
  const calls = new Calls();
  link.connect({ cleanSession: true, will: null, ...c }, calls.fn);
  return calls.first(`connect(${c.clientId}) to be answered`, timeoutMs);
}

/** `link.subscribe` as a promise of the granted QoS. */
export function subscribe(link: BrokerLink, clientId: string, filter: string, qos: number): Promise<number> {
  const calls = new Calls();
  link.subscribe(clientId, filter, qos, calls.fn);
  return calls.first(`subscribe(${clientId}, ${filter}) to be answered`);
}

/** `link.unsubscribe` as a promise. */
export async function unsubscribe(link: BrokerLink, clientId: string, filter: string): Promise<void> {
  const calls = new Calls<[]>();
  link.unsubscribe(clientId, filter, calls.fn);
  await untilTrue(`unsubscribe(${clientId}, ${filter}) to be answered`, () => calls.count > 0);
}

/** `link.setWill` as a promise of the return code. */
export function setWill(link: BrokerLink, clientId: string, will: LinkWill | null): Promise<number> {
  const calls = new Calls();
  link.setWill(clientId, will, calls.fn);
  return calls.first(`setWill(${clientId}) to be answered`);
}

/** A Will on `topic` with a text payload (QoS 1 by default, so ordering against markers holds). */
export function will(topic: string, payload: string, qos = 1, retain = false): LinkWill {
  return { topic, payload: text(payload), qos, retain };
}

// ── the independent observer (MQTT.js) ────────────────────────────────────────

export interface Seen {
  topic: string;
  payload: string;
  qos: number;
  retain: boolean;
}

/** An MQTT.js client watching (and publishing) from the outside. */
export class Observer {
  readonly seen: Seen[] = [];
  private readonly markerTopic: string;
  private markers = 0;

  private constructor(readonly client: MqttJsClient, markerTopic: string) {
    this.markerTopic = markerTopic;
    client.on('message', (topic, payload, packet) => {
      this.seen.push({ topic, payload: payload.toString(), qos: packet.qos, retain: packet.retain });
      changed();
    });
  }

  /** Connects (MQTT 3.1.1 unless `opts.protocolVersion` says otherwise) and subscribes to its own marker topic. */
  static async connect(peer: { url: string }, opts: IClientOptions = {}): Promise<Observer> {
    const client = await mqtt.connectAsync(peer.url, { clientId: uniq('observer'), protocolVersion: 4, reconnectPeriod: 0, ...opts });
    const o = new Observer(client, uniq('marker'));
    onCleanup(() => client.endAsync(true));
    await client.subscribeAsync(o.markerTopic, { qos: 1 });
    return o;
  }

  async subscribe(filter: string, qos: 0 | 1 | 2 = 2): Promise<void> {
    await this.client.subscribeAsync(filter, { qos });
  }

  async publish(topic: string, payload: string, qos: 0 | 1 | 2 = 0, retain = false): Promise<void> {
    await this.client.publishAsync(topic, payload, { qos, retain });
  }

  on(topic: string): Seen[] {
    return this.seen.filter((s) => s.topic === topic);
  }

  /** Waits until `n` messages on `topic` were seen; returns them. */
  async messagesOn(topic: string, n: number, timeoutMs = DEADLINE): Promise<Seen[]> {
    await untilTrue(`${n} message(s) on ${topic} at the observer`, () => this.on(topic).length >= n, timeoutMs, () => `seen: ${JSON.stringify(this.seen.slice(-20))}`);
    return this.on(topic);
  }

  /**
   * Publishes a marker (QoS 1) to itself through the broker and waits for it: whatever the
   * broker published to this observer before it handled the marker has arrived by then.
   */
  async roundTrip(qos: 0 | 1 = 1): Promise<void> {
    const payload = `marker ${++this.markers}`;
    await this.client.publishAsync(this.markerTopic, payload, { qos });
    await untilTrue(`marker "${payload}" to come back`, () => this.seen.some((s) => s.topic === this.markerTopic && s.payload === payload));
  }
}

// ── a broker that never answers ───────────────────────────────────────────────

/** A TCP server on 127.0.0.1 that accepts connections and never sends a byte (a hung broker); closed after the test. */
export async function silentServer(): Promise<{ host: string; port: number }> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((sock) => {
    sockets.add(sock);
    sock.on('error', () => {});
    sock.on('close', () => sockets.delete(sock));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  onCleanup(
    () =>
      new Promise<void>((resolve) => {
        for (const x of sockets) x.destroy();
        server.close(() => resolve());
      }),
  );
  return { host: '127.0.0.1', port: (server.address() as net.AddressInfo).port };
}

// ── a cuttable TCP proxy ──────────────────────────────────────────────────────

/**
 * A TCP proxy in front of a broker: {@link Proxy.cut} drops every connection and refuses new
 * ones until {@link Proxy.restore}, while the broker itself stays up (a network outage).
 */
export interface Proxy {
  readonly host: string;
  readonly port: number;
  readonly connections: number;
  /** Stops forwarding what clients send (it is counted in `dropped` and discarded): packets in flight that never arrive. */
  freeze(): void;
  /** Bytes discarded since `freeze`. */
  readonly dropped: number;
  /** Delays what the clients of the connections open now send (a slow network path) until `release`; later connections pass. */
  hold(): void;
  /** Bytes held since `hold`. */
  readonly held: number;
  /** Forwards what was held, in order, and resumes forwarding. */
  release(): void;
  cut(): void;
  restore(): void;
  close(): Promise<void>;
}

export async function startProxy(target: { host: string; port: number }): Promise<Proxy> {
  interface Pair {
    a: net.Socket; // from the link
    b: net.Socket; // to the broker
    /** Held bytes while `hold` applies, else null. */
    held: Buffer[] | null;
    onHeld: ((d: Buffer) => void) | null;
    /** The link ended its side while held: end the broker side after the release. */
    ended: boolean;
  }
  const pairs = new Set<Pair>();
  let down = false;
  let dropped = 0;
  const server = net.createServer((a) => {
    if (down) {
      a.destroy();
      return;
    }
    const b = net.connect({ host: target.host, port: target.port });
    const pair: Pair = { a, b, held: null, onHeld: null, ended: false };
    pairs.add(pair);
    const end = (): void => {
      a.destroy();
      b.destroy();
      if (pairs.delete(pair)) changed();
    };
    a.on('error', end);
    b.on('error', end);
    b.on('close', end); // the broker closed: so does the proxy
    a.on('end', () => {
      // A graceful end from the link reaches the broker after what it sent (pipe does that), or after the release.
      if (pair.held) pair.ended = true;
    });
    a.on('close', (hadError) => {
      if (hadError) end();
    });
    a.pipe(b);
    b.pipe(a);
    changed();
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const addr = server.address() as net.AddressInfo;
  const cutAll = (): void => {
    down = true;
    for (const p of [...pairs]) {
      p.a.destroy();
      p.b.destroy();
    }
  };
  return {
    host: '127.0.0.1',
    port: addr.port,
    get connections() {
      return pairs.size;
    },
    get dropped() {
      return dropped;
    },
    get held() {
      let n = 0;
      for (const p of pairs) for (const c of p.held ?? []) n += c.length;
      return n;
    },
    freeze() {
      for (const p of pairs) {
        p.a.unpipe(p.b);
        p.a.on('data', (d: Buffer) => {
          dropped += d.length;
          changed();
        });
        p.a.resume(); // unpipe left it paused
      }
    },
    hold() {
      for (const p of pairs) {
        if (p.held) continue;
        const held: Buffer[] = [];
        p.held = held;
        p.onHeld = (d: Buffer): void => {
          held.push(d);
          changed();
        };
        p.a.unpipe(p.b);
        p.a.on('data', p.onHeld);
        p.a.resume();
      }
    },
    release() {
      for (const p of pairs) {
        if (!p.held) continue;
        p.a.off('data', p.onHeld!);
        for (const c of p.held) p.b.write(c);
        p.held = null;
        p.onHeld = null;
        if (p.ended) p.b.end();
        else p.a.pipe(p.b);
      }
    },
    cut: cutAll,
    restore() {
      down = false;
    },
    close(): Promise<void> {
      cutAll();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

export type { Subscription };
