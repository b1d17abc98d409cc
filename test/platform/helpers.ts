/**
 * Helpers for the transport adapter tests: event-driven waits on a
 * {@link Transport} (re-checked whenever it calls `onReadable` /
 * `onWritable`, never on a sleep) and a local `node:net` server on port 0.
 */
import net from 'node:net';
import { expect } from 'vitest';
import type { Transport } from '../../src/transport';
import { waitFor } from '../support/peers';

/** Chains a listener set onto a transport's callbacks, so several waits can watch it. */
export class TransportEvents {
  private readonly listeners = new Set<() => void>();
  readable = 0;
  writable = 0;

  constructor(t: Transport) {
    t.onReadable = () => {
      this.readable++;
      this.emit();
    };
    t.onWritable = () => {
      this.writable++;
      this.emit();
    };
  }

  /** Also re-check on an outside event (e.g. a server-side socket event). */
  emit(): void {
    for (const l of [...this.listeners]) l();
  }

  subscribe = (f: () => void): (() => void) => {
    this.listeners.add(f);
    return () => this.listeners.delete(f);
  };

  /** Waits until `check()` returns something other than `undefined`. */
  until<T>(what: string, check: () => T | undefined, timeoutMs = 5_000): Promise<T> {
    return waitFor(what, check, this.subscribe, timeoutMs);
  }
}

/**
 * Reads everything the transport delivers until `total` bytes have arrived
 * or it reports a negative status, calling `recv` with `chunk`-sized reads
 * whenever it signals readable. Returns the bytes and the final status.
 */
export async function drain(
  t: Transport,
  ev: TransportEvents,
  total: number,
  chunk = 1000,
  timeoutMs = 10_000,
): Promise<{ bytes: Uint8Array; status: number }> {
  const out = new Uint8Array(total);
  const tmp = new Uint8Array(chunk);
  let got = 0;
  let status = 0;
  await ev.until(
    `${total} bytes (have ${got})`,
    () => {
      for (;;) {
        const n = t.recv(tmp, 0, Math.min(chunk, total - got || chunk));
        if (n < 0) {
          status = n;
          return true;
        }
        if (n === 0) return got >= total ? true : undefined;
        if (got + n > total) throw new Error(`received more than ${total} bytes`);
        out.set(tmp.subarray(0, n), got);
        got += n;
      }
    },
    timeoutMs,
  );
  return { bytes: out.subarray(0, got), status };
}

/** A local TCP server on 127.0.0.1, port 0, handing out accepted sockets in order. */
export interface LocalServer {
  port: number;
  /** The next accepted connection. */
  accept(): Promise<net.Socket>;
  close(): Promise<void>;
}

export async function localServer(server: net.Server = net.createServer(), connectionEvent = 'connection'): Promise<LocalServer> {
  const queue: net.Socket[] = [];
  const waiting: ((s: net.Socket) => void)[] = [];
  const all = new Set<net.Socket>();
  server.on(connectionEvent, (s: net.Socket) => {
    all.add(s);
    s.on('error', () => {});
    s.once('close', () => all.delete(s));
    const w = waiting.shift();
    if (w) w(s);
    else queue.push(s);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const addr = server.address() as net.AddressInfo;
  return {
    port: addr.port,
    accept: () => {
      const s = queue.shift();
      if (s) return Promise.resolve(s);
      return new Promise((resolve, reject) => {
        const t = setTimeout(() => reject(new Error('no connection accepted within 5 s')), 5_000);
        waiting.push((c) => {
          clearTimeout(t);
          resolve(c);
        });
      });
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of all) s.destroy();
        server.close(() => resolve());
      }),
  };
}

/** A deterministic byte pattern (`i * 31 + 7 mod 251`) to check order and loss. */
export function pattern(n: number, start = 0): Uint8Array {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = ((start + i) * 31 + 7) % 251;
  return b;
}

/**
 * GwAdd round trip of a UDP adapter whose default peer is 127.0.0.1:1884 (MQTT-SN §5.4.3):
 * `addressOf(0)` gives IPv4 and port octets, and `peerAt` of `peerPort`'s octets gives a new
 * handle that `sendTo` reaches (`arrived` waits for the datagram there and returns its bytes).
 */
export async function expectGwAddRoundTrip(
  t: { addressOf(p: number, b: Uint8Array, o: number, l: number): number; peerAt(b: Uint8Array, o: number, l: number): number; sendTo(b: Uint8Array, o: number, l: number, p: number, r: number): number },
  peerPort: number,
  arrived: () => Promise<Uint8Array>,
): Promise<void> {
  const b = new Uint8Array(6);
  expect(t.addressOf(0, b, 0, 6)).toBe(6);
  expect([...b]).toEqual([127, 0, 0, 1, 0x07, 0x5c]);
  const h = t.peerAt(Uint8Array.of(127, 0, 0, 1, peerPort >> 8, peerPort & 0xff), 0, 6);
  expect(h).toBeGreaterThan(0);
  expect(t.sendTo(Uint8Array.of(3, 1, 0), 0, 3, h, 0)).toBe(3);
  expect([...(await arrived())]).toEqual([3, 1, 0]);
}
