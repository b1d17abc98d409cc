/**
 * Fakes of the ECMA-419 IO classes the Moddable adapters use (TCP socket,
 * UDP socket, Serial), for testing in Node: `embedded:io/...` modules exist
 * only inside a Moddable host. They follow ECMA-419 §8 (Base Class Pattern:
 * callbacks with `this` = the instance, never invoked from inside a method
 * call), §9 (IO Class Pattern: `read` → `undefined` when empty, `write`
 * throws rather than writing part) and §10 ("TCP socket", "UDP socket",
 * "Serial"), and where the Moddable SDK's implementation is stricter or
 * different they follow the SDK (Moddable-OpenSource/moddable,
 * modules/io/socket/lwip/tcp.c and udp.c, modules/io/serial/esp32/serial.c):
 *
 * - TCP (over a REAL `node:net` socket): `read(view)` throws when asked for
 *   more than is available; `onReadable(bytes)` reports the total held;
 *   `write` throws "not ready" before connect and "would block" beyond the
 *   send buffer (`sndbuf`, lwip's `tcp_sndbuf`), and returns the remaining
 *   writable count; `onWritable(bytes)` first on connect, then as sent data
 *   is flushed; `onError` on error/disconnect, but only once every received
 *   byte was read (lwip delivers it "after receive buffers empty"). Unread
 *   data beyond a receive window (`window`) pauses the Node socket, as lwip
 *   withholds `tcp_recved` until data is read.
 * - UDP (over a REAL `node:dgram` socket): `read()` returns one datagram as
 *   an `ArrayBuffer` with `address` and `port`; `write(address, port,
 *   buffer)` (the SDK's order; `order: 'buffer-first'` emulates a host that
 *   follows the standard's text); `onReadable(packets)`.
 * - Serial (in memory, a pair wired TX→RX): format `"number"`; a TX FIFO of
 *   `fifo` bytes that drains `bytesPerTick` per turn; `write` throws "output
 *   full"; `onWritable(free)` first when ready; `onReadable(count)`; a full
 *   RX FIFO drops bytes (UART overrun) and counts them in `overruns`.
 */
import dgram from 'node:dgram';
import net from 'node:net';
import type {
  Ecma419Datagram,
  Ecma419Serial,
  Ecma419SerialOptions,
  Ecma419Tcp,
  Ecma419TcpOptions,
  Ecma419Udp,
  Ecma419UdpOptions,
} from '../../../src/platform/moddable/types';

function byteView(b: unknown): Uint8Array {
  if (b instanceof Uint8Array) return b;
  if (b instanceof ArrayBuffer) return new Uint8Array(b);
  if (ArrayBuffer.isView(b)) return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
  throw new TypeError('expected a Byte Buffer');
}

/** Knobs for {@link fakeTcpClass}. */
export interface FakeTcpConfig {
  /** lwip send buffer (`tcp_sndbuf`); default 5744 (ESP32 default TCP_SND_BUF). */
  sndbuf?: number;
  /** Unread bytes above which the Node socket is paused; default 5744 (TCP_WND). */
  window?: number;
}

/** A fake `embedded:io/socket/tcp` class; `instances` records every socket made. */
export function fakeTcpClass(config: FakeTcpConfig = {}) {
  const sndbufMax = config.sndbuf ?? 5744;
  const window = config.window ?? 5744;
  return class FakeTCP implements Ecma419Tcp {
    static instances: FakeTCP[] = [];
    format: string;
    readonly node: net.Socket;
    readonly options: Ecma419TcpOptions;
    private buffers: Buffer[] = [];
    private available = 0;
    private ready = false;
    private error = false;
    private closed = false;
    private sndbuf = sndbufMax;
    private errorPending = false;

    constructor(options: Ecma419TcpOptions) {
      if (net.isIPv4(String(options.address)) === false) throw new Error('invalid address');
      if (!(options.port >= 0 && options.port <= 65535)) throw new RangeError('invalid port');
      if (options.format !== undefined && options.format !== 'buffer' && options.format !== 'number') throw new RangeError('unimplemented');
      this.options = options;
      this.format = options.format ?? 'buffer';
      FakeTCP.instances.push(this);
      this.node = net.connect({ host: options.address, port: options.port });
      this.node.on('connect', () => {
        this.ready = true;
        if (options.noDelay || options.nodelay) this.node.setNoDelay(true);
        this.later(() => options.onWritable?.call(this, this.sndbuf));
      });
      this.node.on('data', (d: Buffer) => {
        this.buffers.push(d);
        this.available += d.length;
        if (this.available > window) this.node.pause();
        this.later(() => {
          if (this.available > 0) options.onReadable?.call(this, this.available);
        });
      });
      const fail = (): void => {
        if (this.error) return;
        this.error = true;
        this.ready = false;
        if (this.available === 0) this.later(() => options.onError?.call(this));
        else this.errorPending = true;
      };
      this.node.on('error', fail);
      this.node.on('end', fail);
      this.node.on('close', fail);
    }

    /** True while unread data holds the Node socket paused. */
    get paused(): boolean {
      return this.node.isPaused();
    }

    read(arg?: unknown): never {
      if (this.closed) throw new Error('closed');
      if (this.buffers.length === 0) return undefined as never;
      let out: Uint8Array;
      let requested: number;
      let returnCount = false;
      if (arg === undefined) {
        requested = this.available;
        out = new Uint8Array(requested);
      } else if (typeof arg === 'number') {
        requested = arg;
        out = new Uint8Array(requested > 0 ? requested : 0);
      } else {
        out = byteView(arg);
        requested = out.byteLength;
        returnCount = true;
      }
      if (requested <= 0 || requested > this.available) throw new Error('invalid');
      let at = 0;
      while (at < requested) {
        const b = this.buffers[0];
        const n = Math.min(b.length, requested - at);
        out.set(b.subarray(0, n), at);
        at += n;
        if (n === b.length) this.buffers.shift();
        else this.buffers[0] = b.subarray(n);
      }
      this.available -= requested;
      if (this.available <= window && this.node.isPaused() && !this.error) this.node.resume();
      if (this.available === 0 && this.errorPending) {
        this.errorPending = false;
        this.later(() => this.options.onError?.call(this));
      }
      return (returnCount ? requested : out.buffer) as never;
    }

    write(buffer: Uint8Array): number {
      if (this.closed) throw new Error('closed');
      if (!this.ready) throw new Error('not ready');
      const v = byteView(buffer);
      if (v.byteLength > this.sndbuf) throw new Error('would block');
      this.sndbuf -= v.byteLength;
      const n = v.byteLength;
      this.node.write(Buffer.from(v), () => {
        this.sndbuf += n;
        this.later(() => this.options.onWritable?.call(this, this.sndbuf));
      });
      return this.sndbuf;
    }

    close(): void {
      this.closed = true;
      this.node.destroy();
    }

    /** Runs `f` on a later turn unless closed (§8: no callbacks after close, none inside calls). */
    private later(f: () => void): void {
      setImmediate(() => {
        if (!this.closed) f();
      });
    }
  };
}

/** A fake `embedded:io/socket/udp` class. */
export function fakeUdpClass(order: 'address-first' | 'buffer-first' = 'address-first') {
  return class FakeUDP implements Ecma419Udp {
    static instances: FakeUDP[] = [];
    readonly node: dgram.Socket;
    readonly groups: string[] = [];
    private packets: Ecma419Datagram[] = [];
    private closed = false;
    private pendingReadable = false;
    private readonly bound: Promise<void>;

    constructor(private readonly options: Ecma419UdpOptions) {
      if (options.port !== undefined && !(options.port >= 0 && options.port <= 65535)) throw new RangeError('invalid port');
      FakeUDP.instances.push(this);
      this.node = dgram.createSocket({ type: 'udp4', reuseAddr: true });
      this.bound = new Promise((resolve) => this.node.bind(options.port ?? 0, options.address ?? '127.0.0.1', () => resolve()));
      this.node.on('message', (msg, rinfo) => {
        const ab = new Uint8Array(msg).buffer as Ecma419Datagram;
        ab.address = rinfo.address;
        ab.port = rinfo.port;
        this.packets.push(ab);
        if (!this.pendingReadable) {
          this.pendingReadable = true;
          setImmediate(() => {
            this.pendingReadable = false;
            if (!this.closed && this.packets.length > 0) this.options.onReadable?.call(this, this.packets.length);
          });
        }
      });
    }

    /** Resolves with the local port once bound. */
    async port(): Promise<number> {
      await this.bound;
      return this.node.address().port;
    }

    read(): Ecma419Datagram | undefined {
      if (this.closed) throw new Error('closed');
      return this.packets.shift();
    }

    write(a: unknown, b: unknown, c: unknown): void {
      if (this.closed) throw new Error('closed');
      const [address, port, buffer] = order === 'address-first' ? [a, b, c] : [b, c, a];
      if (typeof address !== 'string' || !net.isIPv4(address)) throw new RangeError('invalid IP address');
      if (typeof port !== 'number') throw new TypeError('invalid port');
      this.node.send(Buffer.from(byteView(buffer)), port, address);
    }

    add(group: string): void {
      if (!net.isIPv4(group)) throw new RangeError('invalid multicast address');
      this.groups.push(group);
    }

    close(): void {
      if (this.closed) return;
      this.closed = true;
      this.node.close();
    }
  };
}

/** Knobs for {@link fakeSerialPair}. */
export interface FakeSerialConfig {
  /** TX and RX FIFO size; default 128 (the ESP32 UART FIFO). */
  fifo?: number;
  /** Bytes moved from TX to the peer's RX per turn (the baud rate, roughly); default 16. */
  bytesPerTick?: number;
}

/** One UART of a {@link fakeSerialPair}. */
export interface FakeSerialPort extends Ecma419Serial {
  /** RX bytes lost because the RX FIFO was full. */
  overruns: number;
  options: Ecma419SerialOptions;
}

/**
 * Two fake `embedded:io/serial` classes whose ports are wired TX→RX, like two
 * boards on a serial cable: `new A(options)` is one end, `new B(options)`
 * the other.
 */
export function fakeSerialPair(config: FakeSerialConfig = {}) {
  const fifo = config.fifo ?? 128;
  const perTick = config.bytesPerTick ?? 16;
  const ports: (FakeSerialPortImpl | null)[] = [null, null];

  class FakeSerialPortImpl implements FakeSerialPort {
    format: string;
    overruns = 0;
    readonly rx: number[] = [];
    private readonly tx: number[] = [];
    private closed = false;
    private pumping = false;
    private readablePending = false;

    constructor(
      readonly options: Ecma419SerialOptions,
      private readonly side: 0 | 1,
    ) {
      if (!(options.baud > 0)) throw new RangeError('invalid baud');
      if (ports[side] !== null) throw new Error('in use');
      ports[side] = this;
      this.format = options.format ?? 'buffer';
      setImmediate(() => {
        if (!this.closed) options.onWritable?.call(this, fifo);
      });
    }

    read(): number | undefined {
      if (this.closed) throw new Error('closed');
      if (this.format !== 'number') throw new Error('fake supports format "number" only');
      return this.rx.shift();
    }

    write(byte: number): void {
      if (this.closed) throw new Error('closed');
      if (this.format !== 'number') throw new Error('fake supports format "number" only');
      if (this.tx.length >= fifo) throw new Error('output full');
      this.tx.push(byte & 0xff);
      this.pump();
    }

    close(): void {
      this.closed = true;
      ports[this.side] = null;
    }

    receive(b: number): void {
      if (this.closed) return;
      if (this.rx.length >= fifo) {
        this.overruns++;
        return;
      }
      this.rx.push(b);
      if (!this.readablePending) {
        this.readablePending = true;
        setImmediate(() => {
          this.readablePending = false;
          if (!this.closed && this.rx.length > 0) this.options.onReadable?.call(this, this.rx.length);
        });
      }
    }

    private pump(): void {
      if (this.pumping) return;
      this.pumping = true;
      setImmediate(() => {
        this.pumping = false;
        if (this.closed) return;
        const peer = ports[this.side === 0 ? 1 : 0];
        for (let i = 0; i < perTick && this.tx.length > 0; i++) {
          const b = this.tx.shift()!;
          if (peer) peer.receive(b);
        }
        this.options.onWritable?.call(this, fifo - this.tx.length);
        if (this.tx.length > 0) this.pump();
      });
    }
  }

  return {
    A: class extends FakeSerialPortImpl {
      constructor(o: Ecma419SerialOptions) {
        super(o, 0);
      }
    },
    B: class extends FakeSerialPortImpl {
      constructor(o: Ecma419SerialOptions) {
        super(o, 1);
      }
    },
    port: (side: 0 | 1): FakeSerialPort | null => ports[side],
  };
}
