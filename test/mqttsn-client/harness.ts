/**
 * Test harness for the MQTT-SN client over real UDP on 127.0.0.1:
 *
 * - {@link ScriptedGateway}: a gateway peer built from `node:dgram` and the
 *   fieldmq codec. Tests script it step by step: `expect` the next datagram
 *   the client sends (decoded and checked), `send` the spec's answer.
 * - {@link Rig}: the client on a {@link NodeUdpTransport}, a test clock the
 *   test advances explicitly, and a log of every callback.
 *
 * Nothing sleeps: tests wait on events ("the gateway received a datagram",
 * "the client's transport received one"), each with a real-time deadline.
 */
import dgram from 'node:dgram';
import { afterEach, beforeEach, expect } from 'vitest';
import { decodeMessage, MsgType, SnMessage, msgTypeName } from '../../src/mqttsn';
import type { SnClientOptions } from '../../src/mqttsn/client';
import type { SnLite } from '../../src/mqttsn/lite';
import { NodeUdpTransport, type NodeUdpOptions } from '../../src/platform/node/udp';
import { utf8Decode } from '../../src/core/utf8';
import { WaitingInbox } from '../support/waiting-inbox';
import { recordEvents, type Ev } from '../support/sn-events';

/** Real-time limit for one awaited event. */
export const DEADLINE = 2000;

/** A datagram the gateway received, decoded. */
export interface Rx {
  /** The decoded message (its own object). */
  m: SnMessage;
  /** The datagram's bytes. */
  bytes: Uint8Array;
  /** The variable-length field as bytes (empty when none). */
  data: Uint8Array;
  /** The variable-length field as UTF-8 text. */
  text: string;
  /** Sender port. */
  port: number;
}

export { encode, type Tx } from '../support/sn-encode';
import { encode, type Tx } from '../support/sn-encode';

/** A scripted MQTT-SN gateway (or any other peer) on 127.0.0.1 (`start('udp6')`: on ::1). */
export class ScriptedGateway {
  readonly sock: dgram.Socket;
  readonly port: number;
  /** The loopback address it is bound to and sends to. */
  readonly host: string;
  /** Port of the last sender, normally the client. */
  client = 0;
  private readonly inbox = new WaitingInbox<Rx>();

  private constructor(sock: dgram.Socket) {
    this.sock = sock;
    this.port = sock.address().port;
    this.host = sock.address().address;
    sock.on('message', (msg, rinfo) => {
      const bytes = new Uint8Array(msg);
      const m = new SnMessage();
      const n = decodeMessage(bytes, 0, bytes.length, m);
      if (n !== bytes.length) throw new Error(`gateway got a bad datagram (${n}): ${Buffer.from(bytes).toString('hex')}`);
      const data = m.data ? bytes.slice(m.dataOffset, m.dataOffset + m.dataLength) : new Uint8Array(0);
      this.client = rinfo.port;
      this.inbox.push({ m, bytes, data, text: utf8Decode(data, 0, data.length), port: rinfo.port });
    });
  }

  static async start(type: 'udp4' | 'udp6' = 'udp4'): Promise<ScriptedGateway> {
    const sock = dgram.createSocket(type);
    await new Promise<void>((resolve) => sock.bind(0, type === 'udp4' ? '127.0.0.1' : '::1', () => resolve()));
    return new ScriptedGateway(sock);
  }

  /** Datagrams received and not yet taken. */
  get queued(): number {
    return this.inbox.length;
  }

  /** The next datagram, waiting for it up to {@link DEADLINE}. */
  async next(): Promise<Rx> {
    return this.inbox.next(DEADLINE, 'gateway');
  }

  /** The next datagram, which must be of type `type`. */
  async expect(type: MsgType): Promise<Rx> {
    const r = await this.next();
    expect(msgTypeName(r.m.type), 'message type the gateway received').toBe(msgTypeName(type));
    return r;
  }

  /** Sends `f` (or raw bytes) to `port` (default: the client). */
  send(f: Tx | Uint8Array, port = this.client): void {
    const bytes = f instanceof Uint8Array ? f : encode(f);
    this.sock.send(bytes, port, this.host);
  }

  close(): void {
    this.sock.close();
  }
}

/** One callback invocation, as logged by {@link Rig}. */
export type { Ev };

/** Registers an `afterEach` that closes everything given to the returned `track` during the test; `track` returns what it is given. */
export function useOpen(): <T extends { close(): void }>(x: T) => T {
  const open: { close(): void }[] = [];
  afterEach(() => {
    for (const x of open.splice(0)) x.close();
  });
  return (x) => {
    open.push(x);
    return x;
  };
}

export { SN_IMPLS, type SnImpl } from '../support/impls';
import { SN_IMPLS, type SnImpl } from '../support/impls';

let current: SnImpl = SN_IMPLS[0]!;

/** Makes every {@link Rig} created in the tests of the enclosing `describe` use `impl`. */
export function useSnImpl(impl: SnImpl): void {
  beforeEach(() => {
    current = impl;
  });
  afterEach(() => {
    current = SN_IMPLS[0]!;
  });
}

/** The client under test, its transport, the test clock and the callback log. */
export class Rig {
  readonly c: SnLite;
  readonly tr: NodeUdpTransport;
  /** Every callback, in order. */
  readonly ev: Ev[] = [];
  /** The test clock (uint32 ms). */
  t: number;

  private constructor(tr: NodeUdpTransport, opts: Partial<SnClientOptions>, t0: number) {
    this.tr = tr;
    this.t = t0;
    const ev = this.ev;
    this.c = current.make({
      transport: tr,
      clientId: 'dev1',
      ...recordEvents(ev),
      onGateway: (gw, h, up) => ev.push(['gateway', gw, h, up]),
      ...opts,
    });
  }

  /**
   * A client whose transport's default peer (handle 0) is `gw` when given
   * (and, unless `opts.gateway` says otherwise, configured as its gateway).
   */
  static async create(
    gw: ScriptedGateway | null,
    opts: Partial<SnClientOptions> = {},
    udp: Partial<NodeUdpOptions> = {},
    t0 = 1000,
  ): Promise<Rig> {
    const tr = new NodeUdpTransport({
      localAddress: '127.0.0.1',
      ...(gw ? { address: '127.0.0.1', port: gw.port } : {}),
      ...udp,
    });
    await tr.ready();
    const o = gw && opts.gateway === undefined ? { gateway: 0, ...opts } : opts;
    return new Rig(tr, o, t0);
  }

  /** The client's port. */
  get port(): number {
    return this.tr.localPort();
  }

  /** Advances the clock by `dt` ms and polls. */
  poll(dt = 0): void {
    this.t = (this.t + dt) >>> 0;
    this.c.poll(this.t);
  }

  /** Waits until the client's transport has received `n` more datagrams than `base`. */
  async arrived(base: number, n = 1): Promise<void> {
    const tr = this.tr;
    const want = base + n;
    if (tr.received >= want) return;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        tr.onReadable = null;
        reject(new Error(`client: ${want - tr.received} datagram(s) missing at the deadline`));
      }, DEADLINE);
      tr.onReadable = () => {
        if (tr.received >= want) {
          clearTimeout(timer);
          tr.onReadable = null;
          resolve();
        }
      };
    });
  }

  /** `from` sends `f` to the client; waits until it arrived, then polls (clock unchanged). */
  async deliver(from: ScriptedGateway, f: Tx | Uint8Array): Promise<void> {
    const base = this.tr.received;
    from.send(f, this.port);
    await this.arrived(base);
    this.poll(0);
  }

  /** The events logged since the last call (and forgets them). */
  take(): Ev[] {
    return this.ev.splice(0, this.ev.length);
  }

  /** Polls at `t + dt` and asserts the client sent nothing. */
  quiet(dt = 0): void {
    const s = this.tr.sent;
    this.poll(dt);
    expect(this.tr.sent, 'datagrams sent by the client').toBe(s);
  }

  /** CONNECT → CONNACK(accepted) against `gw`; returns the CONNECT. */
  async connect(gw: ScriptedGateway): Promise<Rx> {
    expect(this.c.connect()).toBe(0);
    this.poll();
    const r = await gw.expect(MsgType.CONNECT);
    await this.deliver(gw, { type: MsgType.CONNACK, returnCode: 0 });
    expect(this.c.state()).toBe(3);
    expect(this.take()).toEqual([['connect', 0]]);
    return r;
  }

  /**
   * sleep(`duration`) while connected to `gw` (§6.14): its DISCONNECT(duration) at the gateway,
   * the gateway's DISCONNECT answer, and the client Asleep with its `sleep` event taken.
   */
  async sleep(gw: ScriptedGateway, duration: number): Promise<void> {
    expect(this.c.sleep(duration)).toBe(0);
    this.poll();
    const d = await gw.expect(MsgType.DISCONNECT);
    expect([d.m.hasDuration, d.m.duration]).toEqual([true, duration]);
    await this.deliver(gw, { type: MsgType.DISCONNECT });
    expect(this.c.state()).toBe(4); // SnState.Asleep
    expect(this.take()).toEqual([['sleep']]);
  }

  /** disconnect(), the gateway's DISCONNECT answer, then connect() again: returns the new CONNECT (not yet answered). */
  async reconnect(gw: ScriptedGateway): Promise<Rx> {
    this.c.disconnect();
    this.poll();
    await gw.expect(MsgType.DISCONNECT);
    await this.deliver(gw, { type: MsgType.DISCONNECT });
    this.c.connect();
    this.poll();
    return gw.expect(MsgType.CONNECT);
  }

  close(): void {
    this.tr.close();
  }
}

/** `"ab"` as a short topic id. */
export function shortId(s: string): number {
  return (s.charCodeAt(0) << 8) | s.charCodeAt(1);
}
