/**
 * MQTT-SN over UDP on Espruino, as a fieldmq {@link DatagramTransport}
 * (src/transport.ts; MQTT-SN 1.2 §5.2 runs over any datagram service).
 *
 * Espruino's `dgram` module (espruino.com/Reference#dgram,
 * libs/network/jswrap_net.c) is a cut-down node.js `dgram`:
 * `createSocket('udp4')`, `bind(port, callback)`, `send(msg, port, host)`
 * (note the order: message, port, host), `'message'` events with an 8-bit
 * string and `{ address, port }`, `addMembership(group, ip)`.
 *
 * - Peers are handles from a fixed {@link PeerTable}: handle 0 is the default
 *   peer (the gateway from the options), pinned; senders get handles as they
 *   appear. {@link BROADCAST} sends to `broadcast.address:broadcast.port`
 *   (a subnet broadcast or multicast group, MQTT-SN §5.4.1 SEARCHGW /
 *   ADVERTISE); `radius` is meaningless on IP and ignored.
 * - Received datagrams wait in a fixed-slot {@link MessageQueue} (one
 *   allocation, at construction) tagged with the sender's handle. Datagrams
 *   are not a stream: when every slot is full (or every peer slot is pinned
 *   and the sender gets no handle) a new datagram is dropped and counted in
 *   {@link EspruinoUdpTransport.dropped} (the sender's QoS retries cover it); one longer than a slot is cut to the slot size and counted in
 *   {@link EspruinoUdpTransport.truncated}.
 * - Send: `E.toString(bytes)` then `socket.send`; Espruino queues it, so
 *   sends take the whole datagram.
 */
import { DatagramInbox } from '../inbox';
import { Status } from '../../core/status';
import { BROADCAST, TransportState, type DatagramTransport } from '../../transport';
import { PeerTable } from '../peers';
import type { EspruinoDgram, EspruinoDgramSocket, EspruinoE, EspruinoRemoteInfo, EspruinoSocketError } from './types';

declare const E: EspruinoE | undefined;

/** Options of {@link EspruinoUdpTransport}. */
export interface EspruinoUdpOptions {
  /** `require('dgram')`. */
  dgram: EspruinoDgram;
  /** Espruino's `E` object; default: the global `E`. */
  E?: EspruinoE;
  /** The default peer (the gateway) address: handle 0, the target of `send`. */
  address: string;
  /** The default peer's port. */
  port: number;
  /** Local port to bind (to receive broadcasts / ADVERTISE); default: none, replies come to the ephemeral port. */
  localPort?: number;
  /** Where {@link BROADCAST} goes; without it `sendTo(BROADCAST)` is {@link Status.Unsupported}. */
  broadcast?: { address: string; port: number };
  /** A multicast group to join after binding (`addMembership(group, ip)`); needs `localPort`. */
  multicast?: { group: string; ip: string };
  /** Peer table slots (handles); default 4. */
  peers?: number;
  /** Receive queue slots (datagrams); default 4. */
  slots?: number;
  /** Largest datagram kept whole, in bytes; default 256. */
  maxDatagram?: number;
  onReadable?: (() => void) | null;
  onWritable?: (() => void) | null;
}

/** A {@link DatagramTransport} over an Espruino `dgram` socket. */
export class EspruinoUdpTransport implements DatagramTransport {
  onReadable: (() => void) | null;
  onWritable: (() => void) | null;
  /** Datagrams dropped because every receive slot was full. */
  get dropped(): number {
    return this.inbox.dropped;
  }
  /** Datagrams cut to the slot size. */
  get truncated(): number {
    return this.inbox.truncated;
  }
  /** The last `'error'` code (negative), or 0. */
  errorCode: number;
  /** The peer table (handle 0 is the default peer). */
  readonly peers: PeerTable;

  private readonly dgram: EspruinoDgram;
  private readonly e: EspruinoE | null;
  private readonly localPort: number;
  private readonly broadcastAddress: string;
  private readonly broadcastPort: number;
  private readonly multicast: { group: string; ip: string } | null;
  private readonly inbox: DatagramInbox;
  private socket: EspruinoDgramSocket | null;
  private st: number;

  constructor(options: EspruinoUdpOptions) {
    this.dgram = options.dgram;
    this.e = options.E ? options.E : typeof E !== 'undefined' ? E : null;
    this.localPort = options.localPort ?? 0;
    this.broadcastAddress = options.broadcast ? options.broadcast.address : '';
    this.broadcastPort = options.broadcast ? options.broadcast.port : 0;
    this.multicast = options.multicast ?? null;
    this.peers = new PeerTable(options.peers ?? 4);
    this.peers.set(0, options.address, options.port);
    this.inbox = new DatagramInbox(options.slots ?? 4, options.maxDatagram ?? 256);
    this.onReadable = options.onReadable ?? null;
    this.onWritable = options.onWritable ?? null;
    this.errorCode = 0;
    this.socket = null;
    this.st = TransportState.Closed;
  }

  /**
   * Creates the socket (and binds `localPort`): {@link Status.Ok};
   * {@link Status.IllegalState} when not closed; {@link Status.Unsupported}
   * without `E`; {@link Status.BadParameter} when the runtime throws.
   * Open at once without `localPort`, else once bound.
   */
  open(): number {
    if (this.st !== TransportState.Closed) return Status.IllegalState;
    if (this.e === null) return Status.Unsupported;
    this.inbox.clear();
    this.errorCode = 0;
    const self = this;
    let s: EspruinoDgramSocket;
    try {
      s = this.dgram.createSocket({ type: 'udp4', reuseAddr: true });
    } catch (err) {
      return Status.BadParameter;
    }
    this.socket = s;
    s.on('message', function (msg: string, rinfo: EspruinoRemoteInfo) {
      if (self.socket !== s) return;
      self.take(msg, rinfo);
    });
    s.on('error', function (err: EspruinoSocketError) {
      if (self.socket !== s) return;
      self.errorCode = err && typeof err.code === 'number' ? err.code : -10;
      self.st = TransportState.Closed;
      if (self.onReadable) self.onReadable();
    });
    s.on('close', function () {
      if (self.socket !== s) return;
      self.st = TransportState.Closed;
      if (self.onReadable) self.onReadable();
    });
    if (this.localPort > 0) {
      this.st = TransportState.Opening;
      try {
        s.bind(this.localPort, function () {
          if (self.socket !== s) return;
          if (self.multicast !== null && s.addMembership) s.addMembership(self.multicast.group, self.multicast.ip);
          self.st = TransportState.Open;
          if (self.onWritable) self.onWritable();
        });
      } catch (err) {
        this.socket = null;
        this.st = TransportState.Closed;
        return Status.BadParameter;
      }
    } else {
      this.st = TransportState.Open;
    }
    return Status.Ok;
  }

  /** Closes the socket and drops queued datagrams. Idempotent. */
  close(): void {
    const s = this.socket;
    this.socket = null;
    this.st = TransportState.Closed;
    this.inbox.clear();
    if (s !== null) s.close();
  }

  state(): number {
    return this.st;
  }

  /**
   * Copies the oldest datagram (cut to `len`) into `buf[off..]`: its length;
   * 0 when none; {@link Status.Closed} once closed and empty;
   * {@link Status.BadParameter} for a bad range. {@link EspruinoUdpTransport.from}
   * then names the sender.
   */
  recv(buf: Uint8Array, off: number, len: number): number {
    return this.inbox.take(buf, off, len, this.st === TransportState.Closed);
  }

  /** The handle of the sender of the datagram `recv` returned last. */
  from(): number {
    return this.inbox.from();
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
   * Sends one datagram to `peer` (a handle, or {@link BROADCAST}; `radius`
   * is ignored on IP): `len`; {@link Status.NotFound} for an unknown handle;
   * {@link Status.Unsupported} for BROADCAST without a broadcast address;
   * {@link Status.IllegalState} before Open; {@link Status.Closed};
   * {@link Status.NoMemory}; {@link Status.BadParameter}.
   */
  sendTo(buf: Uint8Array, off: number, len: number, peer: number, radius: number): number {
    if (off < 0 || len < 0 || off + len > buf.length) return Status.BadParameter;
    const s = this.socket;
    if (this.st === TransportState.Closed || s === null) return Status.Closed;
    if (this.st !== TransportState.Open) return Status.IllegalState;
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
    const str = (this.e as EspruinoE).toString(off === 0 && len === buf.length ? buf : buf.subarray(off, off + len));
    if (typeof str !== 'string') return Status.NoMemory;
    s.send(str, port, host);
    return len;
  }

  /** Datagrams waiting to be read. */
  get pending(): number {
    return this.inbox.pending;
  }

  private take(msg: string, rinfo: EspruinoRemoteInfo): void {
    const ib = this.inbox;
    const at = ib.reserve();
    // No free slot, or no handle for the sender (every peer slot pinned): drop.
    const h = at < 0 ? -1 : this.peers.add(rinfo.address, rinfo.port);
    if (h < 0) return ib.drop();
    const n = ib.fit(msg.length);
    const d = ib.data;
    for (let i = 0; i < n; i++) d[at + i] = msg.charCodeAt(i);
    ib.commit(n, h);
    if (this.onReadable) this.onReadable();
  }
}
