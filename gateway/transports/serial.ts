/**
 * Serial links of the gateway, on the `serialport` package:
 *
 * - {@link SerialLine}: one serial device, 8N1, with what every serial transport needs —
 *   clear errors when it cannot be opened, reopening with back-off when it disappears (a USB
 *   adapter pulled out and plugged back in), and a bounded write queue;
 * - {@link SerialSensorTransport}: raw MQTT-SN on that line (mqtt-sn-tools' serial bridge):
 *   bare messages framed by their own Length octet ({@link SerialSnFramer}), one peer per line,
 *   whose address is the device path.
 *
 * The XBee transport (`xbee.ts`) reuses {@link SerialLine}.
 */
import { stat } from 'node:fs/promises';
import { SerialPort } from 'serialport';
import { SERIAL_DEFAULT_MAX_PACKET, SerialPacket, SerialSnFramer } from './serial-frame';
import { errorText, handOver, type SensorTransport } from './transport';

/** Reopen back-off of a {@link SerialLine}. */
export interface ReopenPolicy {
  /** Delay before the first reopen attempt, ms; default 500. */
  initialMs?: number;
  /** Longest delay between attempts, ms (the delay doubles up to it); default 30,000. */
  maxMs?: number;
}

/** Options of {@link SerialLine}. */
export interface SerialLineOptions {
  /** Device path, e.g. `/dev/ttyUSB0` or `/dev/serial/by-id/usb-FTDI_…` (stable across replugging). */
  path: string;
  /** Baud rate; the line is always 8N1 without flow control. */
  baudRate: number;
  /** Who speaks in messages, e.g. `serial` or `xbee`. */
  name: string;
  /** Config key of the path, quoted in errors; default `<name>.path`. */
  configKey?: string;
  /**
   * Most octets accepted but not yet written to the device; a write beyond it is dropped
   * (returns false). Default {@link defaultWriteQueueBytes}: about two seconds of line time.
   */
  maxQueuedBytes?: number;
  /** Back-off for reopening a device that disappeared. */
  reopen?: ReopenPolicy;
  /**
   * How often to check that the device node still exists (and is the same device), ms;
   * default 1,000; 0 = never. A vanished node counts as a loss even when reads do not fail:
   * a hung-up PTY reads as endless end-of-file, which `serialport` retries without reporting.
   */
  presenceCheckMs?: number;
  /** Octets read from the device; `chunk` is valid only during the call. */
  onData: (chunk: Uint8Array) => void;
  /** Trouble that did not stop the line (`'io'`). */
  onError: (kind: string, detail: string) => void;
  /** The device was reopened after a loss: drop partial input of before. */
  onReopen?: () => void;
}

/**
 * The default write-queue bound for `baudRate`: two seconds of line time (8N1 carries
 * `baud / 10` octets a second), and at least 1,024 octets. 1,920 octets at 9,600 baud.
 * Anything queued longer than that is stale for MQTT-SN's retry timers and a sleeping client's
 * short awake window; dropping it lets the gateway's own retransmission take over.
 */
export function defaultWriteQueueBytes(baudRate: number): number {
  return Math.max(1024, Math.floor((baudRate / 10) * 2));
}

const enum LineState {
  Closed,
  Opening,
  Open,
  /** Lost and waiting to reopen. */
  Lost,
  Closing,
}

/**
 * One serial device, opened 8N1. `start` opens it (rejecting with a clear error when it is
 * missing, not permitted, not a serial device or locked by another program); when it
 * disappears later, the line reports it through `onError('io', …)` and tries to reopen it,
 * first after `reopen.initialMs`, then doubling the delay up to `reopen.maxMs`, until it is
 * back or `stop` is called; each failed attempt and the recovery are reported.
 */
export class SerialLine {
  readonly path: string;
  readonly baudRate: number;
  readonly maxQueuedBytes: number;
  private readonly opts: SerialLineOptions;
  private state = LineState.Closed;
  private port: SerialPort | null = null;
  private queued = 0;
  private dropping = false;
  private timer: NodeJS.Timeout | null = null;
  private attempts = 0;
  private delay = 0;
  private pending: Promise<void> | null = null;
  private presence: NodeJS.Timeout | null = null;
  /** Device number of the open node, to notice a different device at the same path. */
  private rdev = 0;

  constructor(options: SerialLineOptions) {
    this.opts = options;
    this.path = options.path;
    this.baudRate = options.baudRate;
    const max = options.maxQueuedBytes ?? defaultWriteQueueBytes(options.baudRate);
    this.maxQueuedBytes = max > 0 ? max : defaultWriteQueueBytes(options.baudRate);
  }

  /** True while the device is open. */
  get isOpen(): boolean {
    return this.state === LineState.Open;
  }

  /** Octets accepted by {@link SerialLine.write} and not yet written to the device. */
  get queuedBytes(): number {
    return this.queued;
  }

  /** Opens the device; idempotent. @throws Error naming the path and the fix. */
  start(): Promise<void> {
    if (this.state === LineState.Open || this.state === LineState.Lost) return Promise.resolve();
    if (this.pending) return this.pending.then(() => this.start());
    this.state = LineState.Opening;
    this.pending = this.open().then(
      (opened) => {
        this.pending = null;
        this.adopt(opened);
      },
      (err: unknown) => {
        this.pending = null;
        this.state = LineState.Closed;
        throw err;
      },
    );
    return this.pending;
  }

  /** Closes the device and stops reopening; idempotent; resolves once it is closed. */
  stop(): Promise<void> {
    if (this.pending) return this.pending.then(() => this.stop(), () => this.stop());
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.unwatch();
    const port = this.port;
    this.port = null;
    this.queued = 0;
    if (this.state === LineState.Closed) return Promise.resolve();
    this.state = LineState.Closing;
    this.pending = closePort(port).then(() => {
      this.pending = null;
      this.state = LineState.Closed;
    });
    return this.pending;
  }

  /**
   * Queues `bytes` (copied) for the device. Returns false, dropping them, when the line is not
   * open or the queue would exceed {@link SerialLine.maxQueuedBytes}; the first drop of a full
   * episode is reported through `onError('io', …)`.
   */
  write(bytes: Uint8Array): boolean {
    const port = this.port;
    if (this.state !== LineState.Open || port === null) return false;
    const n = bytes.length;
    if (this.queued + n > this.maxQueuedBytes) {
      if (!this.dropping) {
        this.dropping = true;
        this.report(
          `${this.opts.name}: write queue full (${this.queued} of ${this.maxQueuedBytes} octets waiting for ${this.path} at ${this.baudRate} baud); dropping messages until it drains (raise the baud rate or send less)`,
        );
      }
      return false;
    }
    this.queued += n;
    try {
      port.write(Buffer.from(bytes), () => {
        if (this.port !== port) return; // a closed port's writes fail; its count was reset
        this.queued -= n;
        if (this.dropping && this.queued * 2 <= this.maxQueuedBytes) this.dropping = false;
      });
    } catch (err) {
      this.queued -= n;
      this.report(`${this.opts.name}: writing to ${this.path} failed: ${errorText(err)}`);
      return false;
    }
    return true;
  }

  private async open(): Promise<{ port: SerialPort; rdev: number }> {
    const key = this.opts.configKey ?? `${this.opts.name}.path`;
    const path = this.path;
    const name = this.opts.name;
    let rdev: number;
    try {
      rdev = (await stat(path)).rdev;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') {
        throw new Error(
          `${name}: no such device ${path} (is it plugged in? "ls /dev/serial/by-id/" lists serial adapters; set the device with "${key}" in the config)`,
          { cause: err },
        );
      }
      if (code === 'EACCES') throw new Error(permissionMessage(name, path), { cause: err });
      throw new Error(`${name}: cannot open ${path}: ${errorText(err)}`, { cause: err });
    }
    const port = new SerialPort({
      path,
      baudRate: this.baudRate,
      dataBits: 8,
      parity: 'none',
      stopBits: 1,
      rtscts: false,
      xon: false,
      xoff: false,
      autoOpen: false,
    });
    await new Promise<void>((resolve, reject) => {
      port.open((err) => {
        if (!err) return resolve();
        const text = err.message;
        if (/permission denied/i.test(text)) return reject(new Error(permissionMessage(name, path), { cause: err }));
        if (/lock/i.test(text)) {
          return reject(new Error(`${name}: ${path} is in use by another program (a second gateway, ModemManager, a serial console?): ${text}`, { cause: err }));
        }
        if (/inappropriate ioctl/i.test(text)) {
          return reject(new Error(`${name}: ${path} is not a serial device (set the device with "${key}" in the config): ${text}`, { cause: err }));
        }
        if (/no such file/i.test(text)) {
          return reject(new Error(`${name}: no such device ${path} (is it plugged in? set the device with "${key}" in the config)`, { cause: err }));
        }
        reject(new Error(`${name}: cannot open ${path}: ${text}`, { cause: err }));
      });
    });
    return { port, rdev };
  }

  /** Wires an open port; from here on its loss leads to reopening. */
  private adopt(opened: { port: SerialPort; rdev: number }): void {
    const port = opened.port;
    this.port = port;
    this.rdev = opened.rdev;
    this.watch();
    this.state = LineState.Open;
    this.queued = 0;
    this.dropping = false;
    port.on('data', (chunk: Buffer) => {
      if (this.port !== port) return;
      try {
        this.opts.onData(chunk);
      } catch (err) {
        this.report(`${this.opts.name}: handling input from ${this.path} threw: ${errorText(err)}`);
      }
    });
    port.on('error', (err: Error) => {
      if (this.port === port) this.report(`${this.opts.name}: ${this.path}: ${err.message}`);
    });
    port.on('close', (err: (Error & { disconnected?: boolean }) | null) => {
      if (this.port !== port) return; // closed by stop()
      this.lost(err ? err.message : 'closed');
    });
  }

  /** Starts the periodic check that the device node is still there. */
  private watch(): void {
    this.unwatch();
    const every = this.opts.presenceCheckMs ?? 1000;
    if (!(every > 0)) return;
    const port = this.port;
    this.presence = setInterval(() => {
      stat(this.path).then(
        (st) => {
          if (this.port === port && st.rdev !== this.rdev) this.lost('a different device is now at this path');
        },
        (err: NodeJS.ErrnoException) => {
          if (this.port === port && err.code === 'ENOENT') this.lost('the device node is gone');
        },
      );
    }, every);
    this.presence.unref();
  }

  private unwatch(): void {
    if (this.presence) clearInterval(this.presence);
    this.presence = null;
  }

  private lost(why: string): void {
    this.unwatch();
    const port = this.port;
    this.port = null;
    this.queued = 0;
    void closePort(port);
    this.state = LineState.Lost;
    this.attempts = 0;
    this.delay = Math.max(1, this.opts.reopen?.initialMs ?? 500);
    this.report(`${this.opts.name}: lost ${this.path} (${why}); reopening in ${seconds(this.delay)}, then with a doubling delay up to ${seconds(this.maxDelay())}`);
    this.schedule();
  }

  private maxDelay(): number {
    return Math.max(this.delay, this.opts.reopen?.maxMs ?? 30_000);
  }

  private schedule(): void {
    this.timer = setTimeout(() => {
      this.timer = null;
      void this.reopen();
    }, this.delay);
  }

  private async reopen(): Promise<void> {
    if (this.state !== LineState.Lost) return;
    this.attempts++;
    let opened: { port: SerialPort; rdev: number };
    try {
      opened = await this.open();
    } catch (err) {
      if (this.state !== LineState.Lost) return;
      this.delay = Math.min(this.delay * 2, this.maxDelay());
      this.report(`${errorText(err)}; reopen attempt ${this.attempts} failed, next in ${seconds(this.delay)}`);
      this.schedule();
      return;
    }
    if (this.state !== LineState.Lost) {
      await closePort(opened.port); // stopped meanwhile
      return;
    }
    this.adopt(opened);
    this.report(`${this.opts.name}: reopened ${this.path} after ${this.attempts} attempt${this.attempts === 1 ? '' : 's'}`);
    this.opts.onReopen?.();
  }

  private report(detail: string): void {
    try {
      this.opts.onError('io', detail);
    } catch {
      // a throwing error sink must not take the line down
    }
  }
}

function permissionMessage(name: string, path: string): string {
  return `${name}: permission denied opening ${path} (add the gateway's user to the "dialout" group: sudo usermod -aG dialout $USER, then log in again)`;
}

function closePort(port: SerialPort | null): Promise<void> {
  return new Promise((resolve) => {
    if (port === null || !port.isOpen) return resolve();
    try {
      port.close(() => resolve());
    } catch {
      resolve();
    }
  });
}

function seconds(ms: number): string {
  return ms < 1000 ? `${ms} ms` : `${(ms / 1000).toFixed(ms % 1000 === 0 ? 0 : 1)} s`;
}

/** Options of {@link SerialSensorTransport}. */
export interface SerialTransportOptions {
  /** Device path; also the one peer's address. */
  path: string;
  /** Baud rate; default 9600. */
  baud?: number;
  /**
   * Largest MQTT-SN message sent or accepted, octets; default {@link SERIAL_DEFAULT_MAX_PACKET}
   * (256). Longer input is skipped as garbage.
   */
  mtu?: number;
  /** Transport name; default `serial`. */
  name?: string;
  /** Config key of the path, for errors; default `serial.path`. */
  configKey?: string;
  /** Write queue bound, octets; default {@link defaultWriteQueueBytes} of the baud rate. */
  maxQueuedBytes?: number;
  /** Reopen back-off when the device disappears. */
  reopen?: ReopenPolicy;
  /** Device presence check interval, ms; see {@link SerialLineOptions.presenceCheckMs}. */
  presenceCheckMs?: number;
}

/**
 * Raw MQTT-SN on a serial line: bare messages back to back, framed by their own Length
 * (MQTT-SN 1.2 §5.2.1), 8N1, as mqtt-sn-tools' serial bridge speaks it. One peer per line; its
 * address is the device path. `broadcast` writes to the line (the one peer). Octets skipped
 * while resynchronising after garbage are reported as `onError('framing', …)`, once per chunk
 * read. When the device disappears the transport reopens it (see {@link SerialLine}) and keeps
 * its address.
 *
 * @example
 * ```ts
 * const serial = new SerialSensorTransport({ path: '/dev/ttyUSB0', baud: 9600 });
 * serial.onPacket = (bytes, from) => gateway.handle(serial, bytes, from); // from === '/dev/ttyUSB0'
 * await serial.start();
 * ```
 */
export class SerialSensorTransport implements SensorTransport {
  readonly name: string;
  readonly mtu: number;
  onPacket: ((bytes: Uint8Array, address: string) => void) | null = null;
  onError: ((kind: string, detail: string) => void) | null = null;

  private readonly path: string;
  private readonly line: SerialLine;
  private readonly framer: SerialSnFramer;
  private readonly packet = new SerialPacket();
  private skipped = 0;

  constructor(options: SerialTransportOptions) {
    this.name = options.name ?? 'serial';
    this.path = options.path;
    const mtu = options.mtu ?? SERIAL_DEFAULT_MAX_PACKET;
    this.mtu = Number.isInteger(mtu) && mtu >= 2 && mtu <= 0xffff ? mtu : SERIAL_DEFAULT_MAX_PACKET;
    this.framer = new SerialSnFramer({ maxPacket: this.mtu });
    this.line = new SerialLine({
      path: options.path,
      baudRate: options.baud ?? 9600,
      name: this.name,
      configKey: options.configKey ?? 'serial.path',
      maxQueuedBytes: options.maxQueuedBytes,
      reopen: options.reopen,
      presenceCheckMs: options.presenceCheckMs,
      onData: (chunk) => this.input(chunk),
      onError: (kind, detail) => this.error(kind, detail),
      onReopen: () => {
        this.framer.reset();
        this.skipped = 0;
      },
    });
  }

  /** Opens the device. @throws Error naming the path when it is missing or cannot be opened. */
  async start(): Promise<void> {
    if (!this.line.isOpen) {
      this.framer.reset();
      this.skipped = 0;
    }
    await this.line.start();
  }

  /** Closes the device; idempotent. */
  stop(): Promise<void> {
    return this.line.stop();
  }

  /** Writes `bytes` (copied) when `address` is this line's path; false otherwise, or when over MTU, closed or queue full. */
  send(bytes: Uint8Array, address: string): boolean {
    if (address !== this.path) return false;
    return this.broadcast(bytes, 0);
  }

  /** Writes `bytes` (copied) to the line; `radius` does not apply. */
  broadcast(bytes: Uint8Array, _radius: number): boolean {
    if (bytes.length < 2 || bytes.length > this.mtu) return false;
    return this.line.write(bytes);
  }

  private input(chunk: Uint8Array): void {
    const framer = this.framer;
    const out = this.packet;
    let off = 0;
    while (off < chunk.length) {
      const n = framer.push(chunk, off, chunk.length - off);
      if (n <= 0) break; // cannot happen: next() below always frees the ring
      off += n;
      for (let r = framer.next(out); r > 0; r = framer.next(out)) {
        this.flushSkipped();
        const threw = handOver(this, out.data.subarray(out.offset, out.offset + out.length), this.path);
        if (threw !== null) this.error('io', threw);
      }
    }
    this.flushSkipped();
  }

  /** Reports octets skipped since the last report. */
  private flushSkipped(): void {
    const total = this.framer.stats.skippedBytes;
    if (total === this.skipped) return;
    const n = total - this.skipped;
    this.skipped = total;
    this.error('framing', `${this.name}: skipped ${n} octet${n === 1 ? '' : 's'} on ${this.path} that did not start an MQTT-SN message (resynchronised)`);
  }

  private error(kind: string, detail: string): void {
    const cb = this.onError;
    if (cb === null) return;
    try {
      cb(kind, detail);
    } catch {
      // ignore a throwing sink
    }
  }
}
