/**
 * MQTT-SN over UDP on Moddable XS, as a fieldmq {@link DatagramTransport}
 * (src/transport.ts), over the ECMA-419 UDP socket (ECMA-419 §10 "UDP
 * socket", on the §9 IO Class Pattern).
 *
 * - Receive: datagrams wait in the socket itself (the host keeps a packet
 *   list); `onReadable(packets)` only wakes the client. `recv` calls `read()`,
 *   which returns one whole datagram as an `ArrayBuffer` with `address` and
 *   `port` attached (one allocation per datagram: it is the only read form
 *   the Moddable SDK implements), copies it (cut to `len`) and maps the
 *   sender to a handle in a fixed {@link PeerTable}.
 * - Send: `write` with the peer's address and port. ECMA-419's text orders
 *   the arguments `write(buffer, address, port)`; the Moddable SDK
 *   implements `write(address, port, buffer)` (modules/io/socket/lwip/udp.c,
 *   documentation/io/io.md, tests/modules/io/socket/udp/write.js), so
 *   `writeOrder` picks: `'address-first'` (default, Moddable) or
 *   `'buffer-first'` (the standard's text). A `write` that throws (lwip out
 *   of buffers) makes `send` return 0: UDP has no `onWritable`, so the
 *   client retries on a later poll.
 * - Peers: handle 0 is the default peer from the options (pinned);
 *   {@link BROADCAST} goes to `broadcast` (subnet broadcast or a multicast
 *   group joined with `add`, MQTT-SN §5.4.1 SEARCHGW / ADVERTISE); `radius`
 *   is meaningless on IP and ignored.
 */
import { Status } from '../../core/status';
import { BROADCAST, TransportState, type DatagramTransport } from '../../transport';
import { PeerTable } from '../peers';
import type { Ecma419Datagram, Ecma419Udp, Ecma419UdpConstructor, Ecma419UdpOptions } from './types';

/** Options of {@link ModdableUdpTransport}. */
export interface ModdableUdpOptions {
  /** The socket class: `embedded:io/socket/udp`. */
  UDP: Ecma419UdpConstructor;
  /** The default peer (gateway) IP address: handle 0, the target of `send`. */
  address: string;
  port: number;
  /** Local port to bind; default: any. */
  localPort?: number;
  /** Local interface address to bind; default: any. */
  localAddress?: string;
  /** Where {@link BROADCAST} goes; without it `sendTo(BROADCAST)` is {@link Status.Unsupported}. */
  broadcast?: { address: string; port: number };
  /** A multicast group to join (`add(group)`). */
  multicastGroup?: string;
  /** `write` argument order; default `'address-first'` (the Moddable SDK). */
  writeOrder?: 'address-first' | 'buffer-first';
  /** Peer table slots; default 4. */
  peers?: number;
  onReadable?: (() => void) | null;
  onWritable?: (() => void) | null;
}

/** A {@link DatagramTransport} over an ECMA-419 UDP socket. */
export class ModdableUdpTransport implements DatagramTransport {
  onReadable: (() => void) | null;
  onWritable: (() => void) | null;
  /** The peer table (handle 0 is the default peer). */
  readonly peers: PeerTable;
  /** Datagrams dropped because their sender could not get a handle (every slot pinned). */
  dropped: number;
  /** What the socket threw last (constructor or write), or `null`. */
  lastError: unknown;

  private readonly UDP: Ecma419UdpConstructor;
  private readonly localPort: number;
  private readonly localAddress: string;
  private readonly broadcastAddress: string;
  private readonly broadcastPort: number;
  private readonly multicastGroup: string;
  private readonly addressFirst: boolean;
  private socket: Ecma419Udp | null;
  private generation: number;
  private st: number;
  private last: number;

  constructor(options: ModdableUdpOptions) {
    this.UDP = options.UDP;
    this.localPort = options.localPort ?? -1;
    this.localAddress = options.localAddress ?? '';
    this.broadcastAddress = options.broadcast ? options.broadcast.address : '';
    this.broadcastPort = options.broadcast ? options.broadcast.port : 0;
    this.multicastGroup = options.multicastGroup ?? '';
    this.addressFirst = (options.writeOrder ?? 'address-first') === 'address-first';
    this.peers = new PeerTable(options.peers ?? 4);
    this.peers.set(0, options.address, options.port);
    this.onReadable = options.onReadable ?? null;
    this.onWritable = options.onWritable ?? null;
    this.dropped = 0;
    this.lastError = null;
    this.socket = null;
    this.generation = 0;
    this.st = TransportState.Closed;
    this.last = 0;
  }

  /**
   * Creates (binds) the socket; Open at once. {@link Status.Ok};
   * {@link Status.IllegalState} when open; {@link Status.BadParameter} when
   * the constructor or `add` throws (port in use, bad group).
   */
  open(): number {
    if (this.st !== TransportState.Closed) return Status.IllegalState;
    const self = this;
    const gen = ++this.generation;
    const o: Ecma419UdpOptions = {
      format: 'buffer',
      onReadable() {
        if (self.generation === gen && self.onReadable) self.onReadable();
      },
    };
    if (this.localPort >= 0) o.port = this.localPort;
    if (this.localAddress !== '') o.address = this.localAddress;
    let s: Ecma419Udp;
    try {
      s = new this.UDP(o);
    } catch (err) {
      this.lastError = err;
      return Status.BadParameter;
    }
    if (this.multicastGroup !== '') {
      try {
        if (!s.add) throw new Error('multicast not supported');
        s.add(this.multicastGroup);
      } catch (err) {
        this.lastError = err;
        this.generation++;
        s.close();
        return Status.BadParameter;
      }
    }
    this.socket = s;
    this.st = TransportState.Open;
    return Status.Ok;
  }

  /** Closes the socket (queued datagrams go with it). Idempotent. */
  close(): void {
    const s = this.socket;
    this.socket = null;
    this.generation++;
    this.st = TransportState.Closed;
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

  /**
   * Reads one datagram (cut to `len`) into `buf[off..]`: its length; 0 when
   * none; {@link Status.Closed} when closed; {@link Status.BadParameter} for
   * a bad range. {@link ModdableUdpTransport.from} then names the sender.
   */
  recv(buf: Uint8Array, off: number, len: number): number {
    if (off < 0 || len < 0 || off + len > buf.length) return Status.BadParameter;
    const s = this.socket;
    if (s === null || this.st === TransportState.Closed) return Status.Closed;
    for (;;) {
      let d: Ecma419Datagram | undefined;
      try {
        d = s.read();
      } catch (err) {
        d = undefined;
      }
      if (d === undefined) return 0;
      const h = this.peers.add(String(d.address), d.port);
      if (h < 0) {
        this.dropped++;
        continue;
      }
      const bytes = new Uint8Array(d);
      const n = bytes.length < len ? bytes.length : len;
      for (let i = 0; i < n; i++) buf[off + i] = bytes[i];
      this.last = h;
      return n;
    }
  }

  /** The handle of the sender of the datagram `recv` returned last. */
  from(): number {
    return this.last;
  }

  /** Sends one datagram to the default peer (handle 0). */
  send(buf: Uint8Array, off: number, len: number): number {
    return this.sendTo(buf, off, len, 0, 0);
  }

  /** GwAdd octets of `peer` (§5.4.3): IPv4 address and port, 6 octets ({@link PeerTable.octets}). */
  addressOf(peer: number, buf: Uint8Array, off: number, len: number): number {
    return this.peers.octets(peer, buf, off, len);
  }

  /** The peer handle for GwAdd octets (IPv4 address and port), added when new ({@link PeerTable.addOctets}). */
  peerAt(buf: Uint8Array, off: number, len: number): number {
    return this.peers.addOctets(buf, off, len);
  }

  /**
   * Sends one datagram to `peer` (a handle or {@link BROADCAST}; `radius`
   * ignored): `len`; 0 when the host could not send it now;
   * {@link Status.NotFound} for an unknown handle; {@link Status.Unsupported}
   * for BROADCAST without a broadcast address; {@link Status.Closed};
   * {@link Status.BadParameter} for a bad range.
   */
  sendTo(buf: Uint8Array, off: number, len: number, peer: number, radius: number): number {
    if (off < 0 || len < 0 || off + len > buf.length) return Status.BadParameter;
    const s = this.socket;
    if (s === null || this.st === TransportState.Closed) return Status.Closed;
    let host: string;
    let port: number;
    if (peer === BROADCAST) {
      if (this.broadcastPort === 0) return Status.Unsupported;
      host = this.broadcastAddress;
      port = this.broadcastPort;
    } else {
      if (!this.peers.has(peer)) return Status.NotFound;
      host = this.peers.address(peer);
      port = this.peers.port(peer);
    }
    const view = off === 0 && len === buf.length ? buf : buf.subarray(off, off + len);
    try {
      if (this.addressFirst) s.write(host, port, view);
      else s.write(view, host, port);
    } catch (err) {
      this.lastError = err;
      return 0;
    }
    return len;
  }
}
