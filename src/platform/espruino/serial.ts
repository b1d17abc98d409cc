/**
 * A UART on Espruino (`Serial1`, `Serial2`, ...; espruino.com/Reference#Serial,
 * src/jswrap_serial.c) as a fieldmq byte-stream {@link Transport}: for MQTT-SN
 * over a raw serial line (framed by its own Length octet, DESIGN.md §5) or an
 * XBee in API mode (framed by the gateway's XBee codec).
 *
 * - Receive: `'data'` strings go into a fixed {@link ByteRing} through
 *   {@link StringRx} (overflow kept as strings, never dropped).
 * - Send: `E.toString(bytes)` then `serial.write(string)`. Espruino's serial
 *   write has no backpressure signal: it queues into the UART's TX buffer and
 *   waits while that is full, so `send` always takes the whole buffer.
 * - A UART has no connection: `open()` runs `setup` (when `baud` is given)
 *   and listens; the link is Open at once and stays Open until `close()`.
 *
 * @example
 * ```js
 * var t = new fm.EspruinoSerialTransport({ serial: Serial1, baud: 9600, setup: { rx: B7, tx: B6 } });
 * t.open();
 * ```
 */
import { Status } from '../../core/status';
import { TransportState, type Transport } from '../../transport';
import { StringRx } from './rx';
import type { EspruinoE, EspruinoSerial } from './types';

declare const E: EspruinoE | undefined;

/** Options of {@link EspruinoSerialTransport}. */
export interface EspruinoSerialOptions {
  /** The port object: `Serial1`, `Serial2`, ... */
  serial: EspruinoSerial;
  /** Baud rate: when given, `open()` calls `serial.setup(baud, setup)`; otherwise the port is used as already set up. */
  baud?: number;
  /** The `setup` options (`{ rx, tx, bytesize, parity, stopbits, flow }`); default none (8N1). */
  setup?: object;
  /** Espruino's `E` object; default: the global `E`. */
  E?: EspruinoE;
  /** Receive ring capacity in bytes; default 256. */
  rxCapacity?: number;
  onReadable?: (() => void) | null;
  onWritable?: (() => void) | null;
}

/** A {@link Transport} over an Espruino serial port. */
export class EspruinoSerialTransport implements Transport {
  onReadable: (() => void) | null;
  onWritable: (() => void) | null;

  private readonly serial: EspruinoSerial;
  private readonly baud: number;
  private readonly setup: object | undefined;
  private readonly e: EspruinoE | null;
  private readonly rx: StringRx;
  private st: number;
  private generation: number;

  constructor(options: EspruinoSerialOptions) {
    this.serial = options.serial;
    this.baud = options.baud ?? 0;
    this.setup = options.setup;
    this.e = options.E ? options.E : typeof E !== 'undefined' ? E : null;
    this.rx = new StringRx(options.rxCapacity ?? 256);
    this.onReadable = options.onReadable ?? null;
    this.onWritable = options.onWritable ?? null;
    this.st = TransportState.Closed;
    this.generation = 0;
  }

  /**
   * Sets the port up (when `baud` was given) and starts listening:
   * {@link Status.Ok}; {@link Status.IllegalState} when already open;
   * {@link Status.Unsupported} without `E`; {@link Status.BadParameter} when
   * `setup` throws (e.g. bad pins).
   */
  open(): number {
    if (this.st !== TransportState.Closed) return Status.IllegalState;
    if (this.e === null) return Status.Unsupported;
    try {
      if (this.baud > 0) {
        if (this.setup !== undefined) this.serial.setup(this.baud, this.setup);
        else this.serial.setup(this.baud);
      }
    } catch (err) {
      return Status.BadParameter;
    }
    this.rx.clear();
    const self = this;
    const gen = ++this.generation;
    this.serial.on('data', function (data: string) {
      if (self.generation !== gen || self.st !== TransportState.Open) return;
      self.rx.push(data);
      if (self.onReadable) self.onReadable();
    });
    this.st = TransportState.Open;
    return Status.Ok;
  }

  /** Stops listening (removes the port's `'data'` listeners) and drops unread bytes. Idempotent. */
  close(): void {
    if (this.st === TransportState.Closed) return;
    this.st = TransportState.Closed;
    this.generation++;
    this.serial.removeAllListeners('data');
    this.rx.clear();
  }

  state(): number {
    return this.st;
  }

  /** Reads up to `len` bytes: the count, 0 when none, {@link Status.Closed} after `close()`. */
  recv(buf: Uint8Array, off: number, len: number): number {
    if (off < 0 || len < 0 || off + len > buf.length) return Status.BadParameter;
    if (this.st === TransportState.Closed) return Status.Closed;
    if (this.rx.length === 0) return 0;
    return this.rx.read(buf, off, len);
  }

  /** Writes `buf[off..off+len)` whole: `len`, {@link Status.Closed}, {@link Status.NoMemory}, {@link Status.BadParameter}. */
  send(buf: Uint8Array, off: number, len: number): number {
    if (off < 0 || len < 0 || off + len > buf.length) return Status.BadParameter;
    if (this.st !== TransportState.Open) return Status.Closed;
    if (len === 0) return 0;
    const str = (this.e as EspruinoE).toString(off === 0 && len === buf.length ? buf : buf.subarray(off, off + len));
    if (typeof str !== 'string') return Status.NoMemory;
    this.serial.write(str);
    return len;
  }

  /** Bytes received and not yet read. */
  get buffered(): number {
    return this.rx.length;
  }
}
