/**
 * XS-side half of the XS harness (test/support/xs.ts): runs INSIDE the
 * Moddable XS engine (@agoric/xsnap worker), bundled by esbuild as an IIFE
 * and evaluated before the code under test.
 *
 * The only way out of an xsnap worker is `issueCommand(ArrayBuffer) →
 * ArrayBuffer`, a synchronous request to the host process
 * (test/support/xs-runner.mjs). Over it this file builds:
 *
 * - `xsHost`: `now()` (the host's clock as uint32 ms), `log(text)`,
 *   `done(result)`, `wait(ms)` (returns when the host sees socket activity
 *   or after `ms`: the loop's idle step, not a synchronisation sleep);
 * - `BridgeTransport`: a fieldmq {@link Transport} whose `open` / `send` /
 *   `recv` / `close` / `state` are commands; the host keeps a real
 *   `net.Socket` and answers `recv` at once with whatever has arrived;
 * - `BridgeTCP`: an ECMA-419 TCP socket class over the same bridge, so the
 *   Moddable adapters can run in the real engine;
 * - `BridgeUDP`: an ECMA-419 UDP socket class whose datagrams the host sends
 *   and receives on a real UDP socket (127.0.0.1), for the Moddable UDP adapter;
 * - `runXsMain(name)`: calls `globalThis[name](xsHost)` to get `{ poll(now) }`
 *   and drives it with the host clock until `xsHost.done` (or `poll`
 *   returning `true`).
 *
 * Wire format of a command: one op byte, then the payload; see {@link Op}.
 * Numbers are big-endian. The same table is in xs-runner.mjs.
 */
import { Status } from '../../src/core/status';
import { TransportState, type Transport } from '../../src/transport';

declare function issueCommand(message: ArrayBuffer): ArrayBuffer;

/** Command op codes (first byte of each command). */
export const Op = {
  /** → 0x00 + u32 now (ms); or 0xff + UTF-8 reason when the run must stop. */
  Now: 1,
  /** UTF-8 text → empty. */
  Log: 2,
  /** UTF-8 JSON result → empty. */
  Done: 3,
  /** u16 ms → empty, after socket activity or `ms`. */
  Wait: 4,
  /** → i8 status. */
  TcpOpen: 10,
  /** → u8 state. */
  TcpState: 11,
  /** bytes → i32 taken. */
  TcpSend: 12,
  /** u32 max → i32 n, then n bytes when n > 0. */
  TcpRecv: 13,
  /** → empty. */
  TcpClose: 14,
  /** → u32 bytes the host holds for `recv`. */
  TcpAvailable: 15,
  /** → i8 status (the host binds a udp4 socket on 127.0.0.1, any port). */
  UdpOpen: 20,
  /** u16 port, u8 n, n octets of address, the datagram → i32 octets sent. */
  UdpSend: 21,
  /** → empty when none waits, else u16 port, u8 n, n octets of address, the datagram. */
  UdpRecv: 22,
  /** → u32 datagrams waiting. */
  UdpAvailable: 23,
  /** → empty. */
  UdpClose: 24,
} as const;

const enc = new TextEncoder();
const dec = new TextDecoder();
const small = new Uint8Array(8);

function call(op: number, payload: Uint8Array | null, payloadLen: number): Uint8Array {
  const msg = new Uint8Array(1 + payloadLen);
  msg[0] = op;
  if (payload !== null) msg.set(payload.subarray(0, payloadLen), 1);
  return new Uint8Array(issueCommand(msg.buffer));
}

function i32(b: Uint8Array, at: number): number {
  return ((b[at] << 24) | (b[at + 1] << 16) | (b[at + 2] << 8) | b[at + 3]) | 0;
}

/** The host services available to code in XS. */
export class XsHost {
  finished = false;
  result: unknown = undefined;

  /** The host clock: uint32 milliseconds. Throws when the host stops the run (deadline). */
  now(): number {
    const r = call(Op.Now, null, 0);
    if (r[0] === 0xff) throw new Error('xs harness: ' + dec.decode(r.subarray(1)));
    return i32(r, 1) >>> 0;
  }

  log(text: string): void {
    const b = enc.encode(text);
    call(Op.Log, b, b.length);
  }

  done(result?: unknown): void {
    if (this.finished) return;
    this.finished = true;
    this.result = result;
    const b = enc.encode(JSON.stringify(result === undefined ? null : result));
    call(Op.Done, b, b.length);
  }

  wait(ms: number): void {
    small[0] = (ms >> 8) & 0xff;
    small[1] = ms & 0xff;
    call(Op.Wait, small, 2);
  }
}

/**
 * A {@link Transport} living in XS whose I/O is done by the host over a real
 * TCP socket to `opts.tcp` of `runInXs`. Non-blocking like every transport:
 * `recv` returns what the host has received so far (0 when nothing).
 */
export class BridgeTransport implements Transport {
  onReadable: (() => void) | null = null;
  onWritable: (() => void) | null = null;

  open(): number {
    const r = call(Op.TcpOpen, null, 0);
    return (r[0] << 24) >> 24;
  }

  close(): void {
    call(Op.TcpClose, null, 0);
  }

  state(): number {
    return call(Op.TcpState, null, 0)[0];
  }

  recv(buf: Uint8Array, off: number, len: number): number {
    if (off < 0 || len < 0 || off + len > buf.length) return Status.BadParameter;
    small[0] = (len >>> 24) & 0xff;
    small[1] = (len >>> 16) & 0xff;
    small[2] = (len >>> 8) & 0xff;
    small[3] = len & 0xff;
    const r = call(Op.TcpRecv, small, 4);
    const n = i32(r, 0);
    if (n > 0) buf.set(r.subarray(4, 4 + n), off);
    return n;
  }

  send(buf: Uint8Array, off: number, len: number): number {
    if (off < 0 || len < 0 || off + len > buf.length) return Status.BadParameter;
    if (len === 0) return 0;
    return i32(call(Op.TcpSend, buf.subarray(off, off + len), len), 0);
  }
}

/** Options of {@link BridgeTcpSocket}, as ECMA-419 §10 "TCP socket" defines them. */
interface BridgeTcpOptions {
  address: string;
  port: number;
  onReadable?: (bytes: number) => void;
  onWritable?: (bytes: number) => void;
  onError?: () => void;
}

/** The writable count the bridge reports: the host buffers whatever it is given. */
const BRIDGE_WRITABLE = 65536;

/**
 * An ECMA-419 TCP socket class (§10 "TCP socket", format `"buffer"`) over
 * the same bridge, so the Moddable adapter (src/platform/moddable/tcp.ts)
 * can run in the real engine. Like the Moddable SDK it throws on a read of
 * more than is available and on a write before connect. Callbacks are
 * delivered by the driver between polls (§8: never inside a method call),
 * with `this` = the socket. The host has one socket: every instance goes to
 * `runInXs`'s `opts.tcp`, whatever `address`/`port` say (they are validated
 * only).
 */
export class BridgeTcpSocket {
  static live: BridgeTcpSocket[] = [];
  format = 'buffer';
  private readonly o: BridgeTcpOptions;
  private opened = false;
  private errored = false;
  private closed = false;
  /** Bytes announced by the last onReadable and not read since. */
  private announced = 0;

  constructor(options: BridgeTcpOptions) {
    if (!/^\d{1,3}(\.\d{1,3}){3}$/.test(String(options.address))) throw new Error('invalid address');
    if (!(options.port >= 0 && options.port <= 65535)) throw new RangeError('invalid port');
    if (call(Op.TcpOpen, null, 0)[0] !== 0) throw new Error('socket in use');
    this.o = options;
    BridgeTcpSocket.live.push(this);
  }

  read(view: Uint8Array): number | undefined {
    if (this.closed) throw new Error('closed');
    const avail = available();
    if (avail === 0) return undefined;
    if (view.byteLength > avail) throw new Error('invalid');
    small[0] = (view.byteLength >>> 24) & 0xff;
    small[1] = (view.byteLength >>> 16) & 0xff;
    small[2] = (view.byteLength >>> 8) & 0xff;
    small[3] = view.byteLength & 0xff;
    const r = call(Op.TcpRecv, small, 4);
    const n = i32(r, 0);
    if (n <= 0) return undefined;
    view.set(r.subarray(4, 4 + n), 0);
    this.announced = this.announced > n ? this.announced - n : 0;
    return n;
  }

  write(view: Uint8Array): number {
    if (this.closed) throw new Error('closed');
    if (!this.opened || this.errored) throw new Error('not ready');
    const n = i32(call(Op.TcpSend, view, view.byteLength), 0);
    if (n !== view.byteLength) throw new Error('write failed');
    return BRIDGE_WRITABLE;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    call(Op.TcpClose, null, 0);
    BridgeTcpSocket.live = BridgeTcpSocket.live.filter((s) => s !== this);
  }

  /** Delivers due callbacks (called by the driver between polls). */
  tick(): void {
    if (this.closed) return;
    const st = call(Op.TcpState, null, 0)[0];
    if (!this.opened && st === TransportState.Open) {
      this.opened = true;
      if (this.o.onWritable) this.o.onWritable.call(this, BRIDGE_WRITABLE);
    }
    if (this.closed) return;
    const avail = available();
    if (avail > this.announced) {
      this.announced = avail;
      if (this.o.onReadable) this.o.onReadable.call(this, avail);
    }
    if (this.closed) return;
    // As the Moddable SDK: onError only once every received byte was read.
    if (st === TransportState.Closed && avail === 0 && !this.errored) {
      this.errored = true;
      if (this.o.onError) this.o.onError.call(this);
    }
  }
}

/** Options of {@link BridgeUdpSocket}, as ECMA-419 §10 "UDP socket" defines them. */
interface BridgeUdpOptions {
  port?: number;
  address?: string;
  format?: string;
  onReadable?: (packets: number) => void;
}

/**
 * An ECMA-419 UDP socket class (§10 "UDP socket") over the bridge, with the Moddable SDK's
 * `write(address, port, buffer)` order and its `read()`: one whole datagram as an
 * `ArrayBuffer` with `address` and `port` attached. The host has one UDP socket: one instance
 * at a time. `onReadable(packets)` is delivered by the driver between polls.
 */
export class BridgeUdpSocket {
  static live: BridgeUdpSocket[] = [];
  format = 'buffer';
  private readonly o: BridgeUdpOptions;
  private closed = false;
  private announced = 0;

  constructor(options: BridgeUdpOptions) {
    if (options.port !== undefined && !(options.port >= 0 && options.port <= 65535)) throw new RangeError('invalid port');
    if (call(Op.UdpOpen, null, 0)[0] !== 0) throw new Error('socket in use');
    this.o = options;
    BridgeUdpSocket.live.push(this);
  }

  read(): (ArrayBuffer & { address: string; port: number }) | undefined {
    if (this.closed) throw new Error('closed');
    const r = call(Op.UdpRecv, null, 0);
    if (r.length === 0) return undefined;
    const n = r[2];
    const d = r.slice(3 + n).buffer as ArrayBuffer & { address: string; port: number };
    d.address = dec.decode(r.subarray(3, 3 + n));
    d.port = (r[0] << 8) | r[1];
    if (this.announced > 0) this.announced--;
    return d;
  }

  write(address: string, port: number, buffer: ArrayBuffer | Uint8Array): void {
    if (this.closed) throw new Error('closed');
    if (!/^\d{1,3}(\.\d{1,3}){3}$/.test(String(address))) throw new RangeError('invalid IP address');
    if (!(port >= 1 && port <= 65535)) throw new RangeError('invalid port');
    const bytes = buffer instanceof Uint8Array ? buffer : new Uint8Array(buffer);
    const a = enc.encode(address);
    const msg = new Uint8Array(3 + a.length + bytes.length);
    msg[0] = (port >> 8) & 0xff;
    msg[1] = port & 0xff;
    msg[2] = a.length;
    msg.set(a, 3);
    msg.set(bytes, 3 + a.length);
    if (i32(call(Op.UdpSend, msg, msg.length), 0) < 0) throw new Error('write failed');
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    call(Op.UdpClose, null, 0);
    BridgeUdpSocket.live = BridgeUdpSocket.live.filter((s) => s !== this);
  }

  /** Delivers `onReadable` when more datagrams wait than were announced (called by the driver between polls). */
  tick(): void {
    if (this.closed) return;
    const n = i32(call(Op.UdpAvailable, null, 0), 0) >>> 0;
    if (n > this.announced) {
      this.announced = n;
      if (this.o.onReadable) this.o.onReadable.call(this, n);
    }
  }
}

function available(): number {
  return i32(call(Op.TcpAvailable, null, 0), 0) >>> 0;
}

/** Drives `globalThis[name](xsHost).poll(now)` until done, delivering bridge socket callbacks between polls. */
export function runXsMain(name: string): void {
  const g = globalThis as unknown as Record<string, unknown>;
  const factory = g[name];
  if (typeof factory !== 'function') throw new Error('xs harness: no global function ' + name);
  const app = (factory as (h: XsHost) => { poll(now: number): unknown })(host);
  while (!host.finished) {
    const live = BridgeTcpSocket.live.slice();
    for (let i = 0; i < live.length; i++) live[i].tick();
    const udp = BridgeUdpSocket.live.slice();
    for (let i = 0; i < udp.length; i++) udp[i].tick();
    const r = app.poll(host.now());
    if (r === true) host.done();
    if (!host.finished) host.wait(2);
  }
}

const host = new XsHost();
const g = globalThis as unknown as Record<string, unknown>;
g.xsHost = host;
g.BridgeTransport = BridgeTransport;
g.BridgeTCP = BridgeTcpSocket;
g.BridgeUDP = BridgeUdpSocket;
g.runXsMain = runXsMain;
g.TransportState = { Closed: TransportState.Closed, Opening: TransportState.Opening, Open: TransportState.Open };
// `print` goes to the host's output too (xsnap's own stdout is not collected).
g.print = (...args: unknown[]) => host.log(args.map((a) => String(a)).join(' '));
