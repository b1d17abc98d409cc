/**
 * MQTT over TCP (or TLS) on Espruino, as a fieldmq {@link Transport}
 * (src/transport.ts, DESIGN.md §3).
 *
 * Espruino's `net` module (espruino.com/Reference#net, libs/network/jswrap_net.c)
 * is a cut-down node.js `net`: `connect({ host, port }, callback)` returns a
 * `Socket` whose `'data'` events carry 8-bit strings, `write(string)` always
 * returns `false` and `'drain'` fires when the send buffer is empty. The same
 * object API comes from `require('tls')`, so TLS is this class with
 * `net: require('tls')` and `ca` / `key` / `cert`.
 *
 * - Receive: strings go into a fixed {@link ByteRing} through
 *   {@link StringRx}; Espruino cannot pause a socket, so a chunk that does not
 *   fit waits as a string until `recv` makes room (never dropped).
 * - Send: bytes become a string with `E.toString(bytes)` and go to
 *   `socket.write`. The socket's buffer is unbounded (it costs variables), so
 *   the adapter bounds it: while more than `txHighWaterMark` bytes are
 *   unsent, `send` returns 0 and `onWritable` follows the next `'drain'`.
 *
 * @example
 * ```js
 * var fm = require('fieldmq');
 * var t = new fm.EspruinoTcpTransport({ net: require('net'), host: '192.168.1.10', port: 1883 });
 * t.open();
 * ```
 */
import { Status } from '../../core/status';
import { TransportState, type Transport } from '../../transport';
import { StringRx } from './rx';
import type { EspruinoConnectOptions, EspruinoE, EspruinoNet, EspruinoSocket, EspruinoSocketError } from './types';

declare const E: EspruinoE | undefined;

/** Options of {@link EspruinoTcpTransport}. */
export interface EspruinoTcpOptions {
  /** `require('net')`, or `require('tls')` for TLS. */
  net: EspruinoNet;
  /** Espruino's `E` object; default: the global `E`. */
  E?: EspruinoE;
  host: string;
  port: number;
  /** TLS: CA certificate (decoded, see `require('tls').connect`). */
  ca?: string;
  /** TLS: client key. */
  key?: string;
  /** TLS: client certificate. */
  cert?: string;
  /** Receive ring capacity in bytes; default 1024. */
  rxCapacity?: number;
  /** `send` returns 0 while more than this many bytes are unsent; default 1024. */
  txHighWaterMark?: number;
  onReadable?: (() => void) | null;
  onWritable?: (() => void) | null;
}

/**
 * A {@link Transport} over an Espruino `net.Socket`. Open once `connect`'s
 * callback runs; Closed on `'close'` or `'error'`.
 */
export class EspruinoTcpTransport implements Transport {
  onReadable: (() => void) | null;
  onWritable: (() => void) | null;
  /** The last `'error'` code (negative, see {@link EspruinoSocketError}), or 0. */
  errorCode: number;
  /** The last `'error'` message, or `''`. */
  errorMessage: string;

  private readonly net: EspruinoNet;
  private readonly e: EspruinoE | null;
  private readonly connectOptions: EspruinoConnectOptions;
  private readonly rx: StringRx;
  private readonly txHighWaterMark: number;
  private socket: EspruinoSocket | null;
  private st: number;
  private unsent: number;
  private needDrain: boolean;

  constructor(options: EspruinoTcpOptions) {
    this.net = options.net;
    this.e = options.E ? options.E : typeof E !== 'undefined' ? E : null;
    const co: EspruinoConnectOptions = { host: options.host, port: options.port };
    if (options.ca !== undefined) co.ca = options.ca;
    if (options.key !== undefined) co.key = options.key;
    if (options.cert !== undefined) co.cert = options.cert;
    this.connectOptions = co;
    this.rx = new StringRx(options.rxCapacity ?? 1024);
    this.txHighWaterMark = options.txHighWaterMark ?? 1024;
    this.onReadable = options.onReadable ?? null;
    this.onWritable = options.onWritable ?? null;
    this.errorCode = 0;
    this.errorMessage = '';
    this.socket = null;
    this.st = TransportState.Closed;
    this.unsent = 0;
    this.needDrain = false;
  }

  /**
   * Starts connecting: {@link Status.Ok}; {@link Status.IllegalState} when
   * not closed; {@link Status.Unsupported} without an `E` object;
   * {@link Status.BadParameter} when `connect` throws.
   */
  open(): number {
    if (this.st !== TransportState.Closed) return Status.IllegalState;
    if (this.e === null) return Status.Unsupported;
    this.rx.clear();
    this.unsent = 0;
    this.needDrain = false;
    this.errorCode = 0;
    this.errorMessage = '';
    this.st = TransportState.Opening;
    const self = this;
    let s: EspruinoSocket;
    try {
      s = this.net.connect(this.connectOptions, function () {
        if (self.socket !== s) return;
        self.st = TransportState.Open;
        if (self.onWritable) self.onWritable();
      });
    } catch (err) {
      this.st = TransportState.Closed;
      this.errorCode = -12;
      this.errorMessage = String(err);
      return Status.BadParameter;
    }
    this.socket = s;
    s.on('data', function (data: string) {
      if (self.socket !== s) return;
      self.rx.push(data);
      if (self.onReadable) self.onReadable();
    });
    s.on('drain', function () {
      if (self.socket !== s) return;
      self.unsent = 0;
      if (self.needDrain) {
        self.needDrain = false;
        if (self.onWritable) self.onWritable();
      }
    });
    s.on('error', function (err: EspruinoSocketError) {
      if (self.socket !== s) return;
      self.errorCode = err && typeof err.code === 'number' ? err.code : -10;
      self.errorMessage = err && err.message ? String(err.message) : '';
      self.st = TransportState.Closed;
      if (self.onReadable) self.onReadable();
    });
    s.on('close', function () {
      if (self.socket !== s) return;
      self.st = TransportState.Closed;
      if (self.onReadable) self.onReadable();
    });
    return Status.Ok;
  }

  /** Ends the socket and drops unread bytes. Idempotent. */
  close(): void {
    const s = this.socket;
    this.socket = null;
    this.st = TransportState.Closed;
    this.rx.clear();
    this.unsent = 0;
    this.needDrain = false;
    if (s !== null) s.end();
  }

  state(): number {
    return this.st;
  }

  /**
   * Reads up to `len` bytes: the count, 0 when none, {@link Status.Closed}
   * once closed and drained, {@link Status.BadParameter} for a bad range.
   */
  recv(buf: Uint8Array, off: number, len: number): number {
    if (off < 0 || len < 0 || off + len > buf.length) return Status.BadParameter;
    if (this.rx.length === 0) return this.st === TransportState.Closed ? Status.Closed : 0;
    return this.rx.read(buf, off, len);
  }

  /**
   * Sends `buf[off..off+len)` whole: `len`; 0 while more than
   * `txHighWaterMark` bytes are unsent (then `onWritable` on `'drain'`);
   * {@link Status.IllegalState} while opening; {@link Status.Closed};
   * {@link Status.NoMemory} when the string cannot be made;
   * {@link Status.BadParameter} for a bad range.
   */
  send(buf: Uint8Array, off: number, len: number): number {
    if (off < 0 || len < 0 || off + len > buf.length) return Status.BadParameter;
    const s = this.socket;
    if (this.st === TransportState.Closed || s === null) return Status.Closed;
    if (this.st !== TransportState.Open) return Status.IllegalState;
    if (len === 0) return 0;
    if (this.unsent > 0 && this.unsent + len > this.txHighWaterMark) {
      this.needDrain = true;
      return 0;
    }
    const str = (this.e as EspruinoE).toString(off === 0 && len === buf.length ? buf : buf.subarray(off, off + len));
    if (typeof str !== 'string') return Status.NoMemory;
    s.write(str);
    this.unsent += len;
    return len;
  }

  /** Bytes received and not yet read. */
  get buffered(): number {
    return this.rx.length;
  }
}
