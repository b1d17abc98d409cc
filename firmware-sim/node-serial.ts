/**
 * A serial device on Node.js (the `serialport` package) as a fieldmq byte-stream
 * {@link Transport}: the simulator's stand-in for a board's UART. Wrap it in a
 * {@link SerialDatagramTransport} to carry MQTT-SN.
 *
 * - `open()` opens the device (8N1 at `baudRate`; a pseudo-terminal ignores the rate) and
 *   returns at once: Opening, then Open once the port is open, or Closed with
 *   {@link NodeSerialTransport.lastError} set when it cannot be opened.
 * - Received octets go into a fixed {@link ByteRing}; when it is full the port is paused until
 *   `recv` makes room (nothing is dropped).
 * - `send` copies the octets and hands them to the port, which queues them: it takes all.
 * - The device going away (a PTY's other end closing) closes the transport: `recv` then returns
 *   {@link Status.Closed} once the ring is empty.
 */
import { SerialPort } from 'serialport';
import { ByteRing, Status, TransportState } from '../src/index';
import type { Transport } from '../src/index';

/** Options of {@link NodeSerialTransport}. */
export interface NodeSerialOptions {
  /** Device path: `/dev/ttyUSB0`, `/dev/pts/3`. */
  path: string;
  /** Baud rate; default 9600. */
  baudRate?: number;
  /** Receive ring capacity, octets; default 1024. */
  rxCapacity?: number;
  onReadable?: (() => void) | null;
  onWritable?: (() => void) | null;
}

/** A {@link Transport} over a serial device. */
export class NodeSerialTransport implements Transport {
  onReadable: (() => void) | null;
  onWritable: (() => void) | null;
  /** The last error from the port, or null. */
  lastError: Error | null;

  private readonly o: NodeSerialOptions;
  private readonly ring: ByteRing;
  private port: SerialPort | null;
  private st: number;
  private paused: boolean;

  constructor(o: NodeSerialOptions) {
    this.o = o;
    this.ring = new ByteRing(o.rxCapacity ?? 1024);
    this.onReadable = o.onReadable ?? null;
    this.onWritable = o.onWritable ?? null;
    this.lastError = null;
    this.port = null;
    this.st = TransportState.Closed;
    this.paused = false;
  }

  open(): number {
    if (this.st !== TransportState.Closed) return Status.IllegalState;
    const p = new SerialPort({ path: this.o.path, baudRate: this.o.baudRate ?? 9600, autoOpen: false });
    this.port = p;
    this.st = TransportState.Opening;
    this.ring.clear();
    this.paused = false;
    p.on('data', (chunk: Buffer) => {
      if (this.port !== p) return;
      const ring = this.ring;
      // Never more than the ring holds: the rest waits in the paused stream.
      const n = ring.write(chunk, 0, chunk.length);
      if (n < chunk.length) {
        p.pause();
        this.paused = true;
        p.unshift(chunk.subarray(n));
      }
      if (this.onReadable) this.onReadable();
    });
    p.on('error', (err: Error) => {
      if (this.port !== p) return;
      this.lastError = err;
    });
    p.on('close', () => {
      if (this.port !== p) return;
      this.port = null;
      this.st = TransportState.Closed;
      if (this.onReadable) this.onReadable();
    });
    p.open((err) => {
      if (this.port !== p) return;
      if (err) {
        this.lastError = err;
        this.port = null;
        this.st = TransportState.Closed;
        if (this.onReadable) this.onReadable();
        return;
      }
      this.st = TransportState.Open;
      if (this.onWritable) this.onWritable();
    });
    return Status.Ok;
  }

  /** Node convenience: opens if needed and resolves once open (rejects when it cannot be opened). */
  ready(): Promise<void> {
    if (this.st === TransportState.Closed) this.open();
    const p = this.port;
    if (this.st === TransportState.Open) return Promise.resolve();
    if (p === null) return Promise.reject(this.lastError ?? new Error('closed'));
    return new Promise((resolve, reject) => {
      p.once('open', () => resolve());
      p.once('close', () => reject(this.lastError ?? new Error('closed')));
      p.once('error', (err: Error) => {
        if (this.st !== TransportState.Open) reject(err);
      });
    });
  }

  /** Closes the port; idempotent. */
  close(): void {
    const p = this.port;
    this.port = null;
    this.st = TransportState.Closed;
    this.ring.clear();
    if (p !== null && p.isOpen) p.close(() => undefined);
  }

  /** Resolves once the port is closed (for an orderly shutdown in Node). */
  closed(): Promise<void> {
    const p = this.port;
    this.port = null;
    this.st = TransportState.Closed;
    this.ring.clear();
    if (p === null || !p.isOpen) return Promise.resolve();
    return new Promise((resolve) => p.close(() => resolve()));
  }

  state(): number {
    return this.st;
  }

  recv(buf: Uint8Array, off: number, len: number): number {
    if (off < 0 || len < 0 || off + len > buf.length) return Status.BadParameter;
    const n = this.ring.read(buf, off, len);
    if (this.paused && this.ring.free > 0 && this.port !== null) {
      this.paused = false;
      this.port.resume();
    }
    if (n === 0 && this.st === TransportState.Closed) return Status.Closed;
    return n;
  }

  send(buf: Uint8Array, off: number, len: number): number {
    if (off < 0 || len < 0 || off + len > buf.length) return Status.BadParameter;
    const p = this.port;
    if (this.st === TransportState.Closed || p === null) return Status.Closed;
    if (this.st !== TransportState.Open) return Status.IllegalState;
    p.write(Buffer.from(buf.subarray(off, off + len)));
    return len;
  }
}
