/**
 * A UART on Moddable XS as a fieldmq byte-stream {@link Transport}
 * (src/transport.ts), over the ECMA-419 Serial class (ECMA-419 §10 "Serial",
 * on the §9 IO Class Pattern): for MQTT-SN over a raw serial line or an
 * XBee in API mode (framing is the caller's, DESIGN.md §5).
 *
 * The adapter uses the `"number"` data format (§10 "Serial": one byte per
 * `read()` / `write(byte)`), which allocates nothing per byte and behaves the
 * same on every Moddable port (the buffer forms differ: the ESP32 port's
 * `read` takes only a count and allocates an `ArrayBuffer`).
 *
 * - Receive: on `onReadable` (and in `recv`) bytes move from the UART into a
 *   fixed {@link ByteRing} until it is full; the rest stays in the UART's
 *   buffer (hardware flow control, when configured, then holds the sender).
 * - Send: `onWritable(bytes)` gives how many bytes fit (first invoked when
 *   the port is ready); `send` writes at most that many (a `write` into a
 *   full buffer throws, §9), so it may be partial, and returns 0 with
 *   `onWritable` to follow.
 * - A UART has no connection: Open as soon as the constructor succeeds.
 */
import { ByteRing } from '../../core/ring';
import { Status } from '../../core/status';
import { TransportState, type Transport } from '../../transport';
import type { Ecma419Serial, Ecma419SerialConstructor, Ecma419SerialOptions } from './types';

/** Options of {@link ModdableSerialTransport}. */
export interface ModdableSerialOptions {
  /** The class: `embedded:io/serial` (or a host provider's `device.io.Serial`). */
  Serial: Ecma419SerialConstructor;
  baud: number;
  /** Port specifier (which UART). */
  port?: unknown;
  /** Receive pin specifier. */
  receive?: unknown;
  /** Transmit pin specifier. */
  transmit?: unknown;
  /** `"hardware"` or `"none"` (default). */
  flowControl?: string;
  /** Receive ring capacity in bytes; default 256. */
  rxCapacity?: number;
  onReadable?: (() => void) | null;
  onWritable?: (() => void) | null;
}

/** A {@link Transport} over an ECMA-419 Serial port. */
export class ModdableSerialTransport implements Transport {
  onReadable: (() => void) | null;
  onWritable: (() => void) | null;
  /** What the constructor threw, if `open` failed; else `null`. */
  lastError: unknown;

  private readonly Serial: Ecma419SerialConstructor;
  private readonly opts: ModdableSerialOptions;
  private readonly ring: ByteRing;
  private serial: Ecma419Serial | null;
  private generation: number;
  private st: number;
  private writable: number;
  private needWritable: boolean;

  constructor(options: ModdableSerialOptions) {
    this.Serial = options.Serial;
    this.opts = options;
    this.ring = new ByteRing(options.rxCapacity ?? 256);
    this.onReadable = options.onReadable ?? null;
    this.onWritable = options.onWritable ?? null;
    this.lastError = null;
    this.serial = null;
    this.generation = 0;
    this.st = TransportState.Closed;
    this.writable = 0;
    this.needWritable = false;
  }

  /**
   * Opens the port: {@link Status.Ok}; {@link Status.IllegalState} when
   * open; {@link Status.BadParameter} when the constructor throws (port in
   * use, bad pins or baud).
   */
  open(): number {
    if (this.st !== TransportState.Closed) return Status.IllegalState;
    const self = this;
    const gen = ++this.generation;
    const p = this.opts;
    const o: Ecma419SerialOptions = {
      baud: p.baud,
      format: 'number',
      onReadable() {
        if (self.generation !== gen) return;
        self.pull();
        if (self.onReadable) self.onReadable();
      },
      onWritable(bytes: number) {
        if (self.generation !== gen) return;
        self.writable = bytes;
        if (self.needWritable) {
          self.needWritable = false;
          if (self.onWritable) self.onWritable();
        }
      },
    };
    if (p.port !== undefined) o.port = p.port;
    if (p.receive !== undefined) o.receive = p.receive;
    if (p.transmit !== undefined) o.transmit = p.transmit;
    if (p.flowControl !== undefined) o.flowControl = p.flowControl;
    this.ring.clear();
    this.writable = 0;
    this.needWritable = true; // the first onWritable ("ready") is worth a poll
    this.lastError = null;
    try {
      this.serial = new this.Serial(o);
    } catch (err) {
      this.lastError = err;
      this.serial = null;
      return Status.BadParameter;
    }
    this.st = TransportState.Open;
    return Status.Ok;
  }

  /** Closes the port and drops unread bytes. Idempotent. */
  close(): void {
    const s = this.serial;
    this.serial = null;
    this.generation++;
    this.st = TransportState.Closed;
    this.ring.clear();
    this.writable = 0;
    if (s !== null) {
      try {
        s.close();
      } catch (err) {
        // already closed
      }
    }
  }

  state(): number {
    return this.st;
  }

  /** Reads up to `len` bytes: the count, 0 when none, {@link Status.Closed} after `close()`. */
  recv(buf: Uint8Array, off: number, len: number): number {
    if (off < 0 || len < 0 || off + len > buf.length) return Status.BadParameter;
    if (this.st === TransportState.Closed) return Status.Closed;
    if (this.ring.length < len) this.pull();
    return this.ring.read(buf, off, len);
  }

  /**
   * Writes up to `len` bytes (as many as fit in the UART's output buffer):
   * the count; 0 when none fit (`onWritable` follows); {@link Status.Closed};
   * {@link Status.BadParameter} for a bad range.
   */
  send(buf: Uint8Array, off: number, len: number): number {
    if (off < 0 || len < 0 || off + len > buf.length) return Status.BadParameter;
    const s = this.serial;
    if (s === null || this.st === TransportState.Closed) return Status.Closed;
    let n = 0;
    while (n < len && this.writable > 0) {
      try {
        s.write(buf[off + n]);
      } catch (err) {
        this.writable = 0;
        break;
      }
      n++;
      this.writable--;
    }
    if (n < len) this.needWritable = true;
    return n;
  }

  /** Bytes in the receive ring (not counting the UART's own buffer). */
  get buffered(): number {
    return this.ring.length;
  }

  private pull(): void {
    const s = this.serial;
    if (s === null) return;
    while (this.ring.free > 0) {
      let b: number | undefined;
      try {
        b = s.read();
      } catch (err) {
        b = undefined;
      }
      if (typeof b !== 'number') return;
      this.ring.push(b);
    }
  }
}
