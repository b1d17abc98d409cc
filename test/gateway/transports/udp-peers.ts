/**
 * Real `node:dgram` peers for the UDP transport tests: a client socket with a message queue,
 * free-port lookup, and a probe of whether multicast works on this machine.
 */
import dgram from 'node:dgram';
import { waitFor } from '../../support/peers';

/** A received datagram. */
export interface Datagram {
  bytes: Uint8Array;
  address: string;
  port: number;
}

/** A UDP socket driven by a test: sends, and queues what it receives. */
export class UdpPeer {
  readonly queue: Datagram[] = [];
  private readonly listeners = new Set<() => void>();

  private constructor(readonly socket: dgram.Socket, readonly v6: boolean) {
    socket.on('message', (msg, rinfo) => {
      this.queue.push({ bytes: new Uint8Array(msg), address: rinfo.address, port: rinfo.port });
      for (const l of [...this.listeners]) l();
    });
    socket.on('error', () => {
      // a test sees missing datagrams through its deadlines
    });
  }

  /** Binds a peer to `host:port` (default port 0); `reuseAddr` for sharing a multicast port. */
  static async bind(v6: boolean, host: string, port = 0, reuseAddr = false): Promise<UdpPeer> {
    const socket = dgram.createSocket({ type: v6 ? 'udp6' : 'udp4', reuseAddr });
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(port, host, () => {
        socket.off('error', reject);
        resolve();
      });
    });
    return new UdpPeer(socket, v6);
  }

  /** The bound port. */
  get port(): number {
    return this.socket.address().port;
  }

  /** The transport address of this peer, `ip:port` or `[ipv6]:port`. */
  get address(): string {
    const a = this.socket.address();
    return this.v6 ? `[${a.address}]:${a.port}` : `${a.address}:${a.port}`;
  }

  /** Sends one datagram; resolves once handed to the OS. */
  send(bytes: Uint8Array, port: number, host: string): Promise<void> {
    return new Promise((resolve, reject) => this.socket.send(bytes, port, host, (err) => (err ? reject(err) : resolve())));
  }

  /** Removes and returns the next datagram, waiting up to `timeoutMs`. */
  async next(timeoutMs: number): Promise<Datagram> {
    await waitFor(
      'a datagram',
      () => (this.queue.length > 0 ? true : undefined),
      (changed) => {
        this.listeners.add(changed);
        return () => this.listeners.delete(changed);
      },
      timeoutMs,
    );
    return this.queue.shift()!;
  }

  /** Closes the socket; idempotent. */
  close(): Promise<void> {
    return new Promise((resolve) => {
      try {
        this.socket.close(() => resolve());
      } catch {
        resolve();
      }
    });
  }
}

/** A UDP port that was free a moment ago on `host`. */
export async function freeUdpPort(v6: boolean, host: string): Promise<number> {
  const p = await UdpPeer.bind(v6, host);
  const port = p.port;
  await p.close();
  return port;
}

/** True when a UDP socket can bind `host` (e.g. `::1` exists). */
export async function canBind(v6: boolean, host: string): Promise<boolean> {
  try {
    await (await UdpPeer.bind(v6, host)).close();
    return true;
  } catch {
    return false;
  }
}

/**
 * True when a datagram sent to `group` by one local socket reaches another local socket that
 * joined it (multicast loopback on the default interface), within 1 s.
 */
export async function multicastWorks(v6: boolean, group: string): Promise<boolean> {
  let rx: UdpPeer | null = null;
  let tx: UdpPeer | null = null;
  try {
    rx = await UdpPeer.bind(v6, v6 ? '::' : '0.0.0.0', 0, true);
    rx.socket.addMembership(group);
    tx = await UdpPeer.bind(v6, v6 ? '::' : '0.0.0.0');
    tx.socket.setMulticastLoopback(true);
    await tx.send(Uint8Array.of(2, 1), rx.port, group);
    await rx.next(1000);
    return true;
  } catch {
    return false;
  } finally {
    await rx?.close();
    await tx?.close();
  }
}
