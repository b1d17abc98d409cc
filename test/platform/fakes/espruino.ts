/**
 * Fakes of Espruino's `net`, `dgram`, Serial (`LoopbackA`/`LoopbackB`) and
 * `E`, for testing the Espruino adapters in Node. Espruino's objects do not
 * exist in Node, so these follow the Espruino API reference
 * (espruino.com/Reference; libs/network/jswrap_net.c, src/jswrap_serial.c,
 * src/jswrap_espruino.c) and run over REAL Node sockets where there is a
 * network underneath:
 *
 * - `net.connect({ host, port }, cb)` → a Socket over `node:net`: `'data'`
 *   delivers 8-bit strings (latin1), cut into chunks of at most `chunk`
 *   chars (Espruino reads the network in buffers of ~536 bytes);
 *   `write(string)` returns `false` (as Espruino's does) and `'drain'` fires
 *   when the send buffer is empty; `'error'` carries `{ code, message }` with
 *   Espruino's codes (-9 reset/refused, -6 not found, -3 timeout); `'close'`
 *   carries `had_error`; `end()` closes.
 * - `dgram.createSocket(...)` → a socket over `node:dgram`: `send(msg, port,
 *   host)` (Espruino's argument order), `bind(port, cb(socket))`,
 *   `'message'(string, { address, port, size })`, `close()`.
 * - `loopbackPair()` → Espruino's `LoopbackA` / `LoopbackB`: what one writes
 *   the other receives as `'data'` strings (asynchronously, in chunks, as a
 *   UART delivers); `setup(baud, opts)` records its arguments;
 *   `removeAllListeners(event)`.
 * - `E.toString(Uint8Array)` → one char per byte.
 *
 * Events are dispatched on a later turn (Espruino runs callbacks from its
 * idle loop, never inside the call that caused them).
 */
import dgram from 'node:dgram';
import net from 'node:net';
import type {
  EspruinoConnectOptions,
  EspruinoDgram,
  EspruinoDgramSocket,
  EspruinoE,
  EspruinoNet,
  EspruinoRemoteInfo,
  EspruinoSerial,
  EspruinoSocket,
  EspruinoSocketError,
} from '../../../src/platform/espruino/types';

type Listener = (...args: never[]) => void;

/** Espruino-style listener lists: `on` adds, `removeAllListeners` clears. */
class Emitter {
  private readonly listeners: Record<string, Listener[]> = {};
  on(event: string, cb: Listener): void {
    (this.listeners[event] ??= []).push(cb);
  }
  removeAllListeners(event?: string): void {
    if (event === undefined) for (const k of Object.keys(this.listeners)) delete this.listeners[k];
    else delete this.listeners[event];
  }
  listenerCount(event: string): number {
    return (this.listeners[event] ?? []).length;
  }
  protected emit(event: string, ...args: unknown[]): void {
    for (const l of [...(this.listeners[event] ?? [])]) (l as (...a: unknown[]) => void)(...args);
  }
}

/** `E.toString(bytes)`: one 8-bit char per byte. */
export const fakeE: EspruinoE = {
  toString(data: Uint8Array): string {
    let s = '';
    for (let i = 0; i < data.length; i += 4096) s += String.fromCharCode(...data.subarray(i, i + 4096));
    return s;
  },
};

function errorCode(e: NodeJS.ErrnoException): number {
  switch (e.code) {
    case 'ECONNREFUSED':
    case 'ECONNRESET':
      return -9;
    case 'ENOTFOUND':
      return -6;
    case 'ETIMEDOUT':
      return -3;
    default:
      return -10;
  }
}

/** A fake Espruino `net.Socket` over a Node socket. */
export class FakeEspruinoSocket extends Emitter implements EspruinoSocket {
  readonly node: net.Socket;
  /** Strings passed to `write`, for tests that inspect them. */
  writes = 0;
  private ended = false;

  constructor(options: EspruinoConnectOptions, connected: (s: EspruinoSocket) => void, chunk: number) {
    super();
    this.node = net.connect({ host: options.host, port: options.port });
    this.node.once('connect', () => connected(this));
    this.node.on('data', (d: Buffer) => {
      for (let i = 0; i < d.length; i += chunk) this.emit('data', d.subarray(i, i + chunk).toString('latin1'));
    });
    this.node.on('error', (e: NodeJS.ErrnoException) => this.emit('error', { code: errorCode(e), message: e.message } satisfies EspruinoSocketError));
    this.node.on('close', (hadError: boolean) => this.emit('close', hadError));
  }

  override on(event: string, cb: Listener): void {
    super.on(event, cb);
  }

  write(data: string): boolean {
    if (this.ended) return false;
    this.writes++;
    this.node.write(Buffer.from(data, 'latin1'), () => {
      if (this.node.writableLength === 0) setImmediate(() => this.emit('drain'));
    });
    return false;
  }

  end(data?: string): void {
    if (data !== undefined) this.write(data);
    this.ended = true;
    this.node.end();
  }
}

/** A fake `require('net')` (or `require('tls')`: pass `recordOptions` to see ca/key/cert). */
export class FakeEspruinoNet implements EspruinoNet {
  readonly sockets: FakeEspruinoSocket[] = [];
  readonly options: EspruinoConnectOptions[] = [];
  constructor(private readonly chunk = 536) {}
  connect(options: EspruinoConnectOptions, callback: (socket: EspruinoSocket) => void): EspruinoSocket {
    this.options.push({ ...options });
    const s = new FakeEspruinoSocket(options, callback, this.chunk);
    this.sockets.push(s);
    return s;
  }
}

/** A fake Espruino `dgram` socket over `node:dgram`. */
export class FakeEspruinoDgramSocket extends Emitter implements EspruinoDgramSocket {
  readonly node: dgram.Socket;
  memberships: [string, string][] = [];
  private closed = false;

  constructor() {
    super();
    this.node = dgram.createSocket({ type: 'udp4', reuseAddr: true });
    this.node.on('message', (msg, rinfo) => {
      this.emit('message', msg.toString('latin1'), { address: rinfo.address, port: rinfo.port, size: rinfo.size } satisfies EspruinoRemoteInfo);
    });
    this.node.on('error', (e: NodeJS.ErrnoException) => this.emit('error', { code: errorCode(e), message: e.message }));
    this.node.on('close', () => this.emit('close', false));
  }

  override on(event: string, cb: Listener): void {
    super.on(event, cb);
  }

  send(msg: string, port: number, host: string): boolean {
    if (!this.closed) this.node.send(Buffer.from(msg, 'latin1'), port, host);
    return false;
  }

  bind(port: number, callback: (socket: EspruinoDgramSocket) => void): EspruinoDgramSocket {
    this.node.bind(port, '127.0.0.1', () => callback(this));
    return this;
  }

  addMembership(group: string, ip: string): void {
    this.memberships.push([group, ip]);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.node.close();
  }

  /** The local port Node bound (after the first send or bind). */
  localPort(): number {
    return this.node.address().port;
  }
}

/** A fake `require('dgram')`. */
export class FakeEspruinoDgram implements EspruinoDgram {
  readonly sockets: FakeEspruinoDgramSocket[] = [];
  createSocket(): EspruinoDgramSocket {
    const s = new FakeEspruinoDgramSocket();
    this.sockets.push(s);
    return s;
  }
}

/** One end of Espruino's `LoopbackA` / `LoopbackB` serial pair. */
export class FakeLoopback extends Emitter implements EspruinoSerial {
  peer!: FakeLoopback;
  setupCalls: [number, object | undefined][] = [];
  written = '';

  constructor(private readonly chunk: number) {
    super();
  }

  setup(baud: number, options?: object): void {
    this.setupCalls.push([baud, options]);
  }

  override on(event: string, cb: Listener): void {
    super.on(event, cb);
  }

  write(data: string): void {
    this.written += data;
    const peer = this.peer;
    for (let i = 0; i < data.length; i += this.chunk) {
      const part = data.slice(i, i + this.chunk);
      setImmediate(() => peer.emit('data', part));
    }
  }
}

/** `[LoopbackA, LoopbackB]`: bytes written to one arrive at the other in chunks of `chunk` chars. */
export function loopbackPair(chunk = 16): [FakeLoopback, FakeLoopback] {
  const a = new FakeLoopback(chunk);
  const b = new FakeLoopback(chunk);
  a.peer = b;
  b.peer = a;
  return [a, b];
}
