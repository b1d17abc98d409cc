/**
 * The shared body of the Node stream adapters ({@link NodeTcpTransport},
 * {@link NodeTlsTransport}): a `node:net` `Socket` (or `tls.TLSSocket`, a
 * subclass) behind the fieldmq {@link Transport} contract (src/transport.ts,
 * DESIGN.md §3).
 *
 * Receive path: every `'data'` chunk is copied into a fixed {@link ByteRing}.
 * When the ring cannot take a whole chunk, the rest is kept (a view, not a
 * copy) and the socket is paused (Node docs, stream "Two reading modes":
 * `readable.pause()` stops `'data'` events; the kernel window then pushes back
 * on the peer). `recv` drains the ring, refills it from the kept chunks, and
 * resumes the socket once they are all in: bytes are never dropped, and memory
 * is bounded by the ring plus one paused chunk (Node's readable buffer holds
 * the rest).
 *
 * Send path: `send` copies the caller's bytes (the caller reuses its buffer
 * at once) into a staging buffer of `writeBatch` bytes, and the staged bytes
 * go to `socket.write` in one call when the buffer is full or at the end of
 * the current tick (`process.nextTick`), whichever is first. A client hands
 * over its small send buffer (about one maximum packet size at a time) many
 * times in a burst; batching turns those calls into one write system call per
 * `writeBatch` bytes. Nothing is allocated per call in steady state: Node is
 * done with a staging buffer as soon as `socket.writableLength` is 0 (a write
 * the kernel took at once completes synchronously), and it is refilled from
 * the start; while the kernel is behind, the adapter moves on to another
 * staging buffer, at most `ceil(highWaterMark / writeBatch) + 1` of them,
 * allocated on first need and kept. Sends of `writeBatch` bytes or more, and
 * every send with `writeBatch: 0`, are copied (`Buffer.from`) and written
 * directly, in order after anything staged.
 *
 * While the socket's unsent bytes (`socket.writableLength` plus staged bytes)
 * are at or above the high-water mark, or every staging buffer is held by
 * the socket, `send` takes nothing and returns 0; `onWritable` fires once it
 * can take bytes again (after a write completes: the write callback, or
 * `'drain'`; Node docs, `writable.write()` and event `'drain'`). A send may
 * also be partial (fewer bytes than asked) when the staging buffers run out
 * in the middle of it, as the {@link Transport} contract allows.
 */
import type { Socket } from 'node:net';
import { ByteRing } from '../../core/ring';
import { Status } from '../../core/status';
import { TransportState, type Transport } from '../../transport';

/** Options shared by the Node stream adapters. */
export interface NodeStreamOptions {
  /** Broker host name or address. */
  host: string;
  /** Broker port. */
  port: number;
  /** Receive ring capacity in bytes (allocated once, in the constructor); default 4096. */
  rxCapacity?: number;
  /**
   * `send` returns 0 while the socket holds this many unsent bytes or more;
   * default 16384 (Node's default `writableHighWaterMark`).
   */
  highWaterMark?: number;
  /**
   * Bytes gathered from `send` calls before one `socket.write`; default 16384.
   * The staged bytes are written when the batch is full or at the end of the
   * current tick, so batching adds no latency beyond the code that is
   * running. `0`: one `socket.write` (of a copy) per `send`.
   */
  writeBatch?: number;
  /** Disable Nagle (`socket.setNoDelay`); default `true`: MQTT packets are small and latency-bound. */
  noDelay?: boolean;
  /** Called when bytes (or the end of the link) arrived: worth calling `poll` now. */
  onReadable?: (() => void) | null;
  /** Called when the link opened, or when `send` may take bytes again after returning less than asked. */
  onWritable?: (() => void) | null;
}

/** Default receive ring capacity. */
export const DEFAULT_RX_CAPACITY = 4096;
/** Default send high-water mark. */
export const DEFAULT_HIGH_WATER_MARK = 16384;
/** Default write batch (bytes per staging buffer). */
export const DEFAULT_WRITE_BATCH = 16384;

/** Longest a closed socket waits for the peer to close its side (see {@link lingerClose}). */
export const CLOSE_LINGER_MS = 2000;

/**
 * Ends `s` gracefully: a FIN after its queued writes, then whatever still
 * arrives is read and dropped until the peer closes too, for at most
 * {@link CLOSE_LINGER_MS}. Destroying a socket that has unread bytes sends a
 * RST instead, and the peer's kernel may then drop our last writes before its
 * application reads them: acknowledgements (a PUBREC) the broker never sees,
 * so it sends those messages again after the reconnect. The socket keeps the
 * process alive only until its writes are handed to the kernel.
 */
function lingerClose(s: Socket): void {
  if (s.destroyed) return;
  if (s.connecting) {
    s.destroy();
    return;
  }
  const timer = setTimeout(() => s.destroy(), CLOSE_LINGER_MS);
  timer.unref();
  s.once('close', () => clearTimeout(timer));
  s.resume(); // the transport's 'data' listener ignores a socket it no longer holds
  // Once our bytes are with the kernel, the wait for the peer keeps no process alive.
  s.once('finish', () => s.unref());
  s.end();
}

/**
 * A {@link Transport} over a Node stream socket; subclasses say how to create
 * and connect the socket and which event means "open".
 */
export abstract class NodeSocketTransport implements Transport {
  onReadable: (() => void) | null;
  onWritable: (() => void) | null;
  /** The last socket error, for diagnostics (`null` when none). */
  lastError: Error | null;

  /** The receive ring. */
  protected readonly ring: ByteRing;
  protected readonly highWaterMark: number;
  protected readonly noDelay: boolean;
  protected socket: Socket | null;
  private st: number;
  /** Chunks (views) that did not fit in the ring; the socket is paused while this is non-empty. */
  private pending: Uint8Array[];
  private needDrain: boolean;
  /** Staging buffer size (0: no staging). */
  private readonly batch: number;
  /** Most staging buffers ever held at once. */
  private readonly maxStage: number;
  /**
   * Staging buffers, allocated on first need. `stage[0..cur)` are full and
   * (possibly) still held by the socket; `stage[cur]` is being filled:
   * `[0, start)` handed to the socket, `[start, fill)` staged, not written yet.
   */
  private stage: Buffer[];
  private cur: number;
  private start: number;
  private fill: number;
  /** A `process.nextTick` write of the staged bytes is pending. */
  private scheduled: boolean;
  private readonly writeStagedTick: () => void;
  private readonly writeDone: () => void;

  constructor(options: NodeStreamOptions) {
    this.ring = new ByteRing(options.rxCapacity ?? DEFAULT_RX_CAPACITY);
    this.highWaterMark = options.highWaterMark ?? DEFAULT_HIGH_WATER_MARK;
    const batch = options.writeBatch ?? DEFAULT_WRITE_BATCH;
    this.batch = batch > 0 ? Math.floor(batch) : 0;
    this.maxStage = this.batch > 0 ? Math.ceil(this.highWaterMark / this.batch) + 1 : 0;
    this.stage = [];
    this.cur = this.start = this.fill = 0;
    this.scheduled = false;
    this.writeStagedTick = () => {
      this.scheduled = false;
      this.writeStaged();
    };
    this.writeDone = () => this.written();
    this.noDelay = options.noDelay ?? true;
    this.onReadable = options.onReadable ?? null;
    this.onWritable = options.onWritable ?? null;
    this.lastError = null;
    this.socket = null;
    this.st = TransportState.Closed;
    this.pending = [];
    this.needDrain = false;
  }

  /** Creates the socket and starts connecting. */
  protected abstract connect(): Socket;
  /** The socket event after which the link is usable (`'connect'`, `'secureConnect'`). */
  protected abstract readonly openEvent: string;

  /**
   * Starts connecting. Returns {@link Status.Ok}, {@link Status.IllegalState}
   * when not closed, or {@link Status.BadParameter} when Node refuses the
   * options synchronously (e.g. an invalid port); the error is in
   * {@link NodeSocketTransport.lastError}.
   */
  open(): number {
    if (this.st !== TransportState.Closed) return Status.IllegalState;
    this.ring.clear();
    this.pending = [];
    this.needDrain = false;
    this.lastError = null;
    this.cur = this.start = this.fill = 0;
    let s: Socket;
    try {
      s = this.connect();
    } catch (e) {
      this.lastError = e as Error;
      return Status.BadParameter;
    }
    this.socket = s;
    this.st = TransportState.Opening;
    s.once(this.openEvent, () => {
      if (this.socket !== s) return;
      if (this.noDelay) s.setNoDelay(true);
      this.st = TransportState.Open;
      this.fire(this.onWritable);
    });
    s.on('data', (chunk: Buffer) => {
      if (this.socket !== s) return;
      this.take(chunk);
      this.fire(this.onReadable);
    });
    s.on('drain', () => {
      if (this.socket === s) this.written();
    });
    s.on('error', (e: Error) => {
      if (this.socket !== s) return;
      this.lastError = e;
      this.st = TransportState.Closed;
    });
    s.on('close', () => {
      if (this.socket !== s) return;
      this.st = TransportState.Closed;
      this.fire(this.onReadable);
    });
    return Status.Ok;
  }

  /**
   * Closes the link and drops unread bytes. Bytes `send` already took still
   * go out (a final DISCONNECT, acknowledgements): the socket is ended after
   * its queued writes and destroyed once the peer closes too, or after
   * {@link CLOSE_LINGER_MS} (see {@link lingerClose}). Idempotent.
   */
  close(): void {
    const s = this.socket;
    if (s !== null) this.writeStaged(); // staged bytes were taken by send: they go out too
    this.socket = null;
    this.st = TransportState.Closed;
    this.ring.clear();
    this.pending = [];
    this.needDrain = false;
    if (s !== null) {
      // The old socket may still be writing from staging buffers: a reopened
      // link gets new ones (allocated again on first need).
      if (s.writableLength > 0) this.stage = [];
      this.cur = this.start = this.fill = 0;
      lingerClose(s);
    }
  }

  /** {@link TransportState}: Opening until connected (and, for TLS, handshaken), Open, Closed after close/error/end. */
  state(): number {
    return this.st;
  }

  /**
   * Reads up to `len` received bytes into `buf[off..]`. Returns the count
   * (`> 0`), `0` when nothing is buffered, {@link Status.Closed} once the link
   * is closed and every received byte has been read, or
   * {@link Status.BadParameter} for a range outside `buf`.
   */
  recv(buf: Uint8Array, off: number, len: number): number {
    if (off < 0 || len < 0 || off + len > buf.length) return Status.BadParameter;
    if (this.ring.length === 0 && this.pending.length === 0) {
      return this.st === TransportState.Closed ? Status.Closed : 0;
    }
    if (len === 0) return 0;
    const n = this.ring.read(buf, off, len);
    this.refill();
    return n;
  }

  /**
   * Queues `buf[off..off+len)` on the socket (copied; written in a batch, see
   * the file header). Returns how many bytes it took: `len`, fewer when the
   * staging buffers ran out part way, or `0` when the socket's unsent bytes
   * are at or above the high-water mark or every staging buffer is still held
   * by the socket (`onWritable` follows when it can take more);
   * {@link Status.IllegalState} while opening; {@link Status.Closed} when
   * closed; {@link Status.BadParameter} for a range outside `buf`.
   */
  send(buf: Uint8Array, off: number, len: number): number {
    if (off < 0 || len < 0 || off + len > buf.length) return Status.BadParameter;
    const s = this.socket;
    if (this.st === TransportState.Closed || s === null) return Status.Closed;
    if (this.st !== TransportState.Open) return Status.IllegalState;
    if (len === 0) return 0;
    if (s.writableLength + this.fill - this.start >= this.highWaterMark) {
      this.needDrain = true;
      return 0;
    }
    const batch = this.batch;
    if (len >= batch) {
      // Unbatched (writeBatch 0), or a send as large as a batch: one write of a copy.
      this.writeStaged();
      s.write(Buffer.from(buf.subarray(off, off + len)), this.writeDone);
      return len;
    }
    let taken = 0;
    while (taken < len) {
      if (this.fill === batch && !this.nextStage()) break;
      if (this.stage.length === 0) this.stage.push(Buffer.allocUnsafeSlow(batch));
      const k = len - taken < batch - this.fill ? len - taken : batch - this.fill;
      this.stage[this.cur].set(buf.subarray(off + taken, off + taken + k), this.fill);
      this.fill += k;
      taken += k;
      if (this.fill === batch) this.writeStaged();
    }
    if (taken < len) this.needDrain = true; // onWritable follows, as for a 0
    if (this.fill > this.start && !this.scheduled) {
      this.scheduled = true;
      process.nextTick(this.writeStagedTick);
    }
    return taken;
  }

  /** Hands the staged bytes to the socket; reuses the staging buffers at once when it took them synchronously. */
  private writeStaged(): void {
    const s = this.socket;
    if (s === null || this.fill === this.start) return;
    const b = this.stage[this.cur];
    s.write(this.start === 0 && this.fill === b.length ? b : b.subarray(this.start, this.fill), this.writeDone);
    this.start = this.fill;
    this.reclaim(s);
  }

  /** Once the socket holds none of the staged bytes (all written, nothing queued), every staging buffer is free again. */
  private reclaim(s: Socket): void {
    if (s.writableLength === 0 && this.fill === this.start) this.cur = this.start = this.fill = 0;
  }

  /** Moves on from a full staging buffer still held by the socket; false when all are held. */
  private nextStage(): boolean {
    if (this.cur + 1 === this.stage.length) {
      if (this.stage.length >= this.maxStage) return false;
      this.stage.push(Buffer.allocUnsafeSlow(this.batch));
    }
    this.cur++;
    this.start = this.fill = 0;
    return true;
  }

  /** A write completed (or `'drain'`): free what the socket no longer holds; wake a refused sender. */
  private written(): void {
    const s = this.socket;
    if (s === null) return;
    this.reclaim(s);
    if (!this.needDrain) return;
    if (s.writableLength + this.fill - this.start >= this.highWaterMark) return;
    if (this.batch > 0 && this.fill === this.batch && this.cur + 1 >= this.maxStage) return;
    this.needDrain = false;
    this.fire(this.onWritable);
  }

  /** Bytes received and not yet read (ring plus chunks held back by backpressure). */
  get buffered(): number {
    let n = this.ring.length;
    for (let i = 0; i < this.pending.length; i++) n += this.pending[i].length;
    return n;
  }

  /** `true` while the socket is paused because the ring is full. */
  get paused(): boolean {
    return this.pending.length > 0;
  }

  /** Copies a chunk into the ring; pauses the socket and keeps the rest when it does not fit. */
  private take(chunk: Uint8Array): void {
    if (this.pending.length > 0) {
      this.pending.push(chunk); // arrived after pause(): keep order
      return;
    }
    const n = this.ring.write(chunk, 0, chunk.length);
    if (n < chunk.length) {
      this.pending.push(chunk.subarray(n));
      this.socket?.pause();
    }
  }

  /** Moves held-back chunks into the ring; resumes the socket when all are in. */
  private refill(): void {
    while (this.pending.length > 0 && this.ring.free > 0) {
      const c = this.pending[0];
      const n = this.ring.write(c, 0, c.length);
      if (n === c.length) this.pending.shift();
      else this.pending[0] = c.subarray(n);
    }
    if (this.pending.length === 0 && this.socket !== null && this.socket.isPaused()) this.socket.resume();
  }

  private fire(cb: (() => void) | null): void {
    if (cb) cb();
  }
}
