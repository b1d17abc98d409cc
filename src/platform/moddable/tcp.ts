/**
 * MQTT over TCP (or TLS) on Moddable XS, as a fieldmq {@link Transport}
 * (src/transport.ts), over the ECMA-419 TCP socket (ECMA-419 §10 "TCP
 * socket", on the §9 IO Class Pattern). Pass the TLS Client socket class
 * (§10 "TLS Client socket") as `TCP` with a `tls` option for MQTT over TLS.
 *
 * - Receive: `onReadable(bytes)` says how many bytes the socket holds; the
 *   adapter reads at most that many (the Moddable SDK throws on more) into
 *   the free window of a fixed {@link ByteRing} (`read(view)`, one view per
 *   read, no copy). When the ring is full it stops reading: the bytes stay
 *   in the socket, whose TCP window then closes (lwip acknowledges only what
 *   is read), so nothing is dropped. `recv` drains the ring and reads more.
 * - Send: `onWritable(bytes)` and `write`'s return value give the writable
 *   count; `send` writes at most that much (§9: a `write` that cannot take
 *   everything throws), so it may be partial, and returns 0 at 0 with
 *   `onWritable` to follow.
 * - State: Opening until the first `onWritable` (§10 "TCP socket": "first
 *   invoked when the socket successfully connects"), Closed on `onError`
 *   ("an error occurs or the TCP socket disconnects"). Bytes already in the
 *   ring are still returned by `recv` before {@link Status.Closed}; the
 *   Moddable SDK delivers `onError` only after every received byte was read
 *   (lwip/tcp.c), and §9 forbids reading after it.
 *
 * @example
 * ```js
 * import TCP from "embedded:io/socket/tcp";
 * const t = new ModdableTcpTransport({ TCP, address: "192.168.1.10", port: 1883 });
 * t.open();
 * ```
 */
import { ByteRing } from '../../core/ring';
import { Status } from '../../core/status';
import { TransportState, type Transport } from '../../transport';
import type { Ecma419Tcp, Ecma419TcpConstructor, Ecma419TcpOptions } from './types';

/** Options of {@link ModdableTcpTransport}. */
export interface ModdableTcpOptions {
  /** The socket class: `embedded:io/socket/tcp`, or `embedded:io/socket/tcp/tls` with `tls`. */
  TCP: Ecma419TcpConstructor;
  /** Remote IP address (ECMA-419 sockets take addresses; resolve names first). */
  address: string;
  port: number;
  /** Disable Nagle; default `true` (MQTT packets are small). */
  noDelay?: boolean;
  /** Keep-alive interval in ms; default: off (MQTT has its own keep-alive). */
  keepAlive?: number;
  /** TLS options for the TLS Client socket (`{ host, ca, ... }`). */
  tls?: object;
  /** Receive ring capacity in bytes; default 1024. */
  rxCapacity?: number;
  onReadable?: (() => void) | null;
  onWritable?: (() => void) | null;
}

/** A {@link Transport} over an ECMA-419 TCP socket. */
export class ModdableTcpTransport implements Transport {
  onReadable: (() => void) | null;
  onWritable: (() => void) | null;
  /** What the socket constructor threw, if `open` failed; else `null`. */
  lastError: unknown;

  private readonly TCP: Ecma419TcpConstructor;
  private readonly address: string;
  private readonly port: number;
  private readonly noDelay: boolean;
  private readonly keepAlive: number;
  private readonly tls: object | null;
  /** Bumped by open/close: callbacks of an older socket are ignored. */
  private generation: number;
  private readonly ring: ByteRing;
  private socket: Ecma419Tcp | null;
  private st: number;
  /** Bytes the socket holds, by its last `onReadable` minus what was read since. */
  private available: number;
  /** Bytes `write` may take, by the last `onWritable` / `write` result. */
  private writable: number;
  private needWritable: boolean;

  constructor(options: ModdableTcpOptions) {
    this.TCP = options.TCP;
    this.address = options.address;
    this.port = options.port;
    this.noDelay = options.noDelay ?? true;
    this.keepAlive = options.keepAlive ?? -1;
    this.tls = options.tls ?? null;
    this.ring = new ByteRing(options.rxCapacity ?? 1024);
    this.onReadable = options.onReadable ?? null;
    this.onWritable = options.onWritable ?? null;
    this.lastError = null;
    this.socket = null;
    this.generation = 0;
    this.st = TransportState.Closed;
    this.available = 0;
    this.writable = 0;
    this.needWritable = false;
  }

  /**
   * Creates the socket (it connects on its own): {@link Status.Ok};
   * {@link Status.IllegalState} when not closed; {@link Status.BadParameter}
   * when the constructor throws (bad address, no socket), the exception in
   * {@link ModdableTcpTransport.lastError}.
   */
  open(): number {
    if (this.st !== TransportState.Closed) return Status.IllegalState;
    this.ring.clear();
    this.available = 0;
    this.writable = 0;
    this.needWritable = false;
    this.lastError = null;
    this.st = TransportState.Opening;
    const self = this;
    const gen = ++this.generation;
    // Callbacks close over `gen` rather than trusting `this` (§8 says it is
    // the instance; an older socket's late callback must not count).
    const o: Ecma419TcpOptions = {
      address: this.address,
      port: this.port,
      noDelay: this.noDelay,
      nodelay: this.noDelay,
      format: 'buffer',
      onReadable(bytes: number) {
        if (self.generation === gen) self.readable(bytes);
      },
      onWritable(bytes: number) {
        if (self.generation === gen) self.writableNow(bytes);
      },
      onError() {
        if (self.generation === gen) self.failed();
      },
    };
    if (this.keepAlive >= 0) o.keepAlive = this.keepAlive;
    if (this.tls !== null) o.tls = this.tls;
    try {
      this.socket = new this.TCP(o);
    } catch (err) {
      this.lastError = err;
      this.socket = null;
      this.st = TransportState.Closed;
      return Status.BadParameter;
    }
    return Status.Ok;
  }

  /** Closes the socket (§8 `close`: no callbacks after it) and drops unread bytes. Idempotent. */
  close(): void {
    const s = this.socket;
    this.socket = null;
    this.generation++;
    this.st = TransportState.Closed;
    this.ring.clear();
    this.available = 0;
    this.writable = 0;
    if (s !== null) {
      try {
        s.close();
      } catch (err) {
        // already closed by the host
      }
    }
  }

  state(): number {
    return this.st;
  }

  /**
   * Reads up to `len` bytes: the count; 0 when none; {@link Status.Closed}
   * once closed and drained; {@link Status.BadParameter} for a bad range.
   */
  recv(buf: Uint8Array, off: number, len: number): number {
    if (off < 0 || len < 0 || off + len > buf.length) return Status.BadParameter;
    if (this.ring.length === 0) this.pull();
    if (this.ring.length === 0) return this.st === TransportState.Closed ? Status.Closed : 0;
    const n = this.ring.read(buf, off, len);
    this.pull();
    return n;
  }

  /**
   * Writes up to `len` bytes (as many as the socket's writable count
   * allows): the count, possibly partial; 0 when the socket takes nothing now
   * (`onWritable` follows); {@link Status.IllegalState} while opening;
   * {@link Status.Closed}; {@link Status.BadParameter} for a bad range.
   */
  send(buf: Uint8Array, off: number, len: number): number {
    if (off < 0 || len < 0 || off + len > buf.length) return Status.BadParameter;
    const s = this.socket;
    if (this.st === TransportState.Closed || s === null) return Status.Closed;
    if (this.st !== TransportState.Open) return Status.IllegalState;
    if (len === 0) return 0;
    const n = len < this.writable ? len : this.writable;
    if (n <= 0) {
      this.needWritable = true;
      return 0;
    }
    let left: number;
    try {
      left = s.write(off === 0 && n === buf.length ? buf : buf.subarray(off, off + n));
    } catch (err) {
      // "would block": the count was stale. Wait for onWritable.
      this.writable = 0;
      this.needWritable = true;
      return 0;
    }
    this.writable = typeof left === 'number' ? left : this.writable - n;
    if (n < len) this.needWritable = true;
    return n;
  }

  /** Bytes in the receive ring (not counting what the socket still holds). */
  get buffered(): number {
    return this.ring.length;
  }

  /** Reads from the socket into the ring's free window, at most what it holds. */
  private pull(): void {
    const s = this.socket;
    if (s === null || this.st === TransportState.Closed) return;
    while (this.available > 0 && this.ring.free > 0) {
      const room = this.ring.writableLength();
      const n = room < this.available ? room : this.available;
      const at = this.ring.writableStart();
      let got: number | undefined;
      try {
        got = s.read(this.ring.buf.subarray(at, at + n));
      } catch (err) {
        got = undefined;
      }
      if (typeof got !== 'number' || got <= 0) {
        this.available = 0;
        return;
      }
      this.ring.commitWrite(got);
      this.available -= got;
    }
  }

  private readable(bytes: number): void {
    this.available = bytes;
    this.pull();
    if (this.onReadable) this.onReadable();
  }

  private writableNow(bytes: number): void {
    this.writable = bytes;
    if (this.st === TransportState.Opening) {
      this.st = TransportState.Open;
      this.needWritable = false;
      if (this.onWritable) this.onWritable();
    } else if (this.needWritable) {
      this.needWritable = false;
      if (this.onWritable) this.onWritable();
    }
  }

  private failed(): void {
    this.st = TransportState.Closed;
    this.available = 0;
    if (this.onReadable) this.onReadable();
  }
}
