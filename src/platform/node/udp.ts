/**
 * MQTT-SN over UDP on Node.js, as a fieldmq {@link DatagramTransport}
 * (src/transport.ts; MQTT-SN 1.2 §5.2 runs over any datagram service), on
 * `node:dgram`, IPv4 or IPv6. Same options and behaviour as the Espruino
 * adapter (src/platform/espruino/udp.ts), so firmware moves between them.
 *
 * - Peers are handles from a fixed {@link PeerTable}: handle 0 is the default
 *   peer (`address:port`, normally the gateway), pinned; senders get handles
 *   as they appear (least recently used unpinned slot reused when full).
 * - {@link BROADCAST} goes to `broadcast.address:broadcast.port`; by default
 *   the IPv4 limited broadcast 255.255.255.255 (SO_BROADCAST is switched on)
 *   or, for udp6, the all-nodes multicast group ff02::1, on the default
 *   peer's port. `radius` has no meaning on IP and is ignored. `multicast`
 *   joins a group to receive on it (gateways' ADVERTISE, MQTT-SN §6.1).
 * - Received datagrams wait in a fixed-slot {@link MessageQueue} tagged with
 *   the sender's handle; when it is full the newest datagram is dropped and
 *   counted in {@link NodeUdpTransport.dropped}; one longer than a slot is cut
 *   to the slot size and counted in {@link NodeUdpTransport.truncated}.
 * - Send copies the bytes (the caller reuses its buffer) and hands them to
 *   the socket, which queues them: a send takes the whole datagram.
 */
import dgram from 'node:dgram';
import { SocketAddress, isIPv4, isIPv6 } from 'node:net';
import { DatagramInbox } from '../inbox';
import { Status } from '../../core/status';
import { BROADCAST, TransportState, type DatagramTransport } from '../../transport';
import { PeerTable } from '../peers';

/** Options of {@link NodeUdpTransport}. */
export interface NodeUdpOptions {
  /** `'udp4'` (default) or `'udp6'`. */
  type?: 'udp4' | 'udp6';
  /** The default peer (handle 0, the target of `send`), normally the gateway. Optional for a client that discovers gateways. */
  address?: string;
  /** The default peer's port (MQTT-SN gateways customarily listen on 1884). */
  port?: number;
  /** Local address to bind; default: every interface. */
  localAddress?: string;
  /** Local port to bind; default 0 (any free port). A fixed port receives broadcasts sent to it. */
  localPort?: number;
  /** Where {@link BROADCAST} goes; default described in the module comment. */
  broadcast?: { address: string; port: number };
  /** A multicast group to join once bound (`iface`: the local interface address, optional). */
  multicast?: { group: string; iface?: string };
  /** Peer table slots (handles); default 8. */
  peers?: number;
  /** Receive queue slots (datagrams); default 16. */
  slots?: number;
  /** Largest datagram kept whole, in bytes; default 1024. */
  maxDatagram?: number;
  onReadable?: (() => void) | null;
  onWritable?: (() => void) | null;
}

/** A {@link DatagramTransport} over a `node:dgram` socket. */
export class NodeUdpTransport implements DatagramTransport {
  onReadable: (() => void) | null;
  onWritable: (() => void) | null;
  /** Datagrams dropped because every receive slot was full (or the sender got no handle). */
  get dropped(): number {
    return this.inbox.dropped;
  }
  /** Datagrams cut to the slot size. */
  get truncated(): number {
    return this.inbox.truncated;
  }
  /** Datagrams received from the network, dropped or not. */
  received: number;
  /** Datagrams handed to the socket. */
  sent: number;
  /** The last socket error, or null. */
  lastError: Error | null;
  /** The peer table (handle 0 is the default peer when one is given). */
  readonly peers: PeerTable;

  private readonly opts: NodeUdpOptions;
  private readonly inbox: DatagramInbox;
  private socket: dgram.Socket | null;
  private st: number;

  constructor(options: NodeUdpOptions) {
    this.opts = options;
    this.peers = new PeerTable(options.peers ?? 8);
    if (options.address !== undefined && options.port !== undefined) this.peers.set(0, options.address, options.port);
    this.inbox = new DatagramInbox(options.slots ?? 16, options.maxDatagram ?? 1024);
    this.onReadable = options.onReadable ?? null;
    this.onWritable = options.onWritable ?? null;
    this.received = 0;
    this.sent = 0;
    this.lastError = null;
    this.socket = null;
    this.st = TransportState.Closed;
  }

  /**
   * Creates and binds the socket: {@link Status.Ok} (Open once bound, see
   * {@link NodeUdpTransport.ready}); {@link Status.IllegalState} when not
   * closed; {@link Status.BadParameter} when Node refuses the options.
   */
  open(): number {
    if (this.st !== TransportState.Closed) return Status.IllegalState;
    const o = this.opts;
    let s: dgram.Socket;
    try {
      s = dgram.createSocket({ type: o.type ?? 'udp4', reuseAddr: o.multicast !== undefined });
    } catch (err) {
      this.lastError = err as Error;
      return Status.BadParameter;
    }
    this.inbox.clear();
    this.socket = s;
    this.st = TransportState.Opening;
    s.on('message', (msg, rinfo) => {
      if (this.socket === s) this.take(msg, rinfo.address, rinfo.port);
    });
    s.on('error', (err) => {
      if (this.socket !== s) return;
      this.lastError = err;
      this.close();
      if (this.onReadable) this.onReadable();
    });
    s.on('listening', () => {
      if (this.socket !== s) return;
      try {
        if ((o.type ?? 'udp4') === 'udp4') s.setBroadcast(true);
        if (o.multicast) s.addMembership(o.multicast.group, o.multicast.iface);
      } catch (err) {
        this.lastError = err as Error;
      }
      this.st = TransportState.Open;
      if (this.onWritable) this.onWritable();
    });
    try {
      s.bind(o.localPort ?? 0, o.localAddress);
    } catch (err) {
      this.lastError = err as Error;
      this.close();
      return Status.BadParameter;
    }
    return Status.Ok;
  }

  /** Node convenience: opens if needed and resolves once bound (rejects on a socket error). */
  ready(): Promise<void> {
    if (this.st === TransportState.Closed) this.open();
    const s = this.socket;
    if (this.st === TransportState.Open || s === null) {
      return this.st === TransportState.Open ? Promise.resolve() : Promise.reject(this.lastError ?? new Error('closed'));
    }
    return new Promise((resolve, reject) => {
      s.once('listening', () => resolve());
      s.once('error', reject);
    });
  }

  /** The bound local port (0 before Open). */
  localPort(): number {
    return this.socket !== null && this.st === TransportState.Open ? this.socket.address().port : 0;
  }

  /** Closes the socket and drops queued datagrams. Idempotent. */
  close(): void {
    const s = this.socket;
    this.socket = null;
    this.st = TransportState.Closed;
    this.inbox.clear();
    if (s !== null) {
      try {
        s.close();
      } catch {
        // already closed by Node
      }
    }
  }

  state(): number {
    return this.st;
  }

  /**
   * Copies the oldest datagram (cut to `len`) into `buf[off..]`: its length;
   * 0 when none; {@link Status.Closed} once closed and empty;
   * {@link Status.BadParameter} for a bad range. {@link NodeUdpTransport.from}
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

  /**
   * GwAdd octets of `peer` (§5.4.3): an IPv4 address and port, 6 octets ({@link PeerTable.octets};
   * also an IPv4 sender on a dual-stack `udp6` socket, `::ffff:a.b.c.d`); an IPv6 one, 16 octets
   * of address and 2 of port, 18 in all. Returns the
   * count, or {@link Status.NotFound}, {@link Status.NoMemory} (`len` too small) or
   * {@link Status.Unsupported} (a scoped address such as `fe80::1%eth0`, whose zone has no octets).
   */
  addressOf(peer: number, buf: Uint8Array, off: number, len: number): number {
    if (!this.peers.has(peer)) return Status.NotFound;
    const a = this.peers.address(peer);
    const port = this.peers.port(peer);
    if (a.indexOf(':') < 0) return this.peers.octets(peer, buf, off, len);
    if (a.slice(0, 7).toLowerCase() === '::ffff:' && isIPv4(a.slice(7))) {
      // An IPv4 sender on a dual-stack socket: written as IPv4, which udp4 clients can take too.
      if (len < 6 || off < 0 || off + 6 > buf.length) return Status.NoMemory;
      const q = a.slice(7).split('.');
      for (let i = 0; i < 4; i++) buf[off + i] = +q[i];
      buf[off + 4] = port >> 8;
      buf[off + 5] = port & 0xff;
      return 6;
    }
    if (len < 18 || off < 0 || off + 18 > buf.length) return Status.NoMemory;
    if (!ipv6Octets(a, buf, off)) return Status.Unsupported;
    buf[off + 16] = port >> 8;
    buf[off + 17] = port & 0xff;
    return 18;
  }

  /**
   * The peer handle for GwAdd octets as {@link NodeUdpTransport.addressOf} writes them (6: IPv4,
   * on a `udp6` transport as `::ffff:a.b.c.d`; 18: IPv6 on a `udp6` transport), added when new; or {@link Status.BadParameter} (another
   * length, port 0, IPv6 octets on a `udp4` transport) or {@link Status.Full}.
   */
  peerAt(buf: Uint8Array, off: number, len: number): number {
    const v6 = (this.opts.type ?? 'udp4') === 'udp6';
    if (len === 6 && v6 && off >= 0 && off + 6 <= buf.length) {
      // IPv4 on a udp6 socket, as Node names such a sender, ::ffff:a.b.c.d: reachable when the
      // socket is dual-stack (bound to `::`, the default, on a host without bindv6only).
      const port = (buf[off + 4] << 8) | buf[off + 5];
      if (port === 0) return Status.BadParameter;
      return this.peers.add('::ffff:' + buf[off] + '.' + buf[off + 1] + '.' + buf[off + 2] + '.' + buf[off + 3], port);
    }
    if (len !== 18) return this.peers.addOctets(buf, off, len);
    if (!v6 || off < 0 || off + 18 > buf.length) return Status.BadParameter;
    const port = (buf[off + 16] << 8) | buf[off + 17];
    if (port === 0) return Status.BadParameter;
    const groups: string[] = [];
    for (let i = 0; i < 16; i += 2) groups.push(((buf[off + i] << 8) | buf[off + i + 1]).toString(16));
    // In the form Node gives senders (`::1`), so the gateway's answers come from this same handle.
    return this.peers.add(new SocketAddress({ address: groups.join(':'), family: 'ipv6' }).address, port);
  }

  /**
   * Sends one datagram to `peer` (a handle, or {@link BROADCAST}): `len`;
   * {@link Status.NotFound} for an unknown handle; {@link Status.Unsupported}
   * for BROADCAST with no address or port known; {@link Status.IllegalState}
   * before Open; {@link Status.Closed}; {@link Status.BadParameter}.
   */
  sendTo(buf: Uint8Array, off: number, len: number, peer: number, _radius: number): number {
    if (off < 0 || len < 0 || off + len > buf.length) return Status.BadParameter;
    const s = this.socket;
    if (this.st === TransportState.Closed || s === null) return Status.Closed;
    if (this.st !== TransportState.Open) return Status.IllegalState;
    let host: string;
    let port: number;
    if (peer === BROADCAST) {
      const o = this.opts;
      host = o.broadcast ? o.broadcast.address : (o.type ?? 'udp4') === 'udp4' ? '255.255.255.255' : 'ff02::1';
      port = o.broadcast ? o.broadcast.port : (o.port ?? 0);
      if (port === 0) return Status.Unsupported;
    } else {
      if (!this.peers.has(peer)) return Status.NotFound;
      host = this.peers.address(peer);
      port = this.peers.port(peer);
    }
    s.send(Buffer.from(buf.subarray(off, off + len)), port, host, (err) => {
      if (err) this.lastError = err;
    });
    this.sent++;
    return len;
  }

  /** Datagrams waiting to be read. */
  get pending(): number {
    return this.inbox.pending;
  }

  private take(msg: Buffer, address: string, port: number): void {
    this.received++;
    const ib = this.inbox;
    const at = ib.reserve();
    // No free slot, or no handle for the sender (every peer slot pinned): drop the newest.
    const h = at < 0 ? -1 : this.peers.add(address, port);
    if (h < 0) return ib.drop();
    const n = ib.fit(msg.length);
    const d = ib.data;
    for (let i = 0; i < n; i++) d[at + i] = msg[i];
    ib.commit(n, h);
    if (this.onReadable) this.onReadable();
  }
}

/**
 * Writes the 16 octets of the IPv6 address in text form `a` (RFC 4291 §2.2: hex groups, one
 * `::`, a trailing dotted IPv4 part) at `buf[off]`; false when it is not one (`net.isIPv6`) or
 * has a zone, which has no octets.
 */
function ipv6Octets(a: string, buf: Uint8Array, off: number): boolean {
  if (!isIPv6(a) || a.indexOf('%') >= 0) return false;
  const last = a.lastIndexOf(':');
  let text = a;
  if (isIPv4(a.slice(last + 1))) {
    // The dotted tail is the last two groups.
    const v = a.slice(last + 1).split('.');
    text = a.slice(0, last + 1) + ((+v[0] << 8) | +v[1]).toString(16) + ':' + ((+v[2] << 8) | +v[3]).toString(16);
  }
  const halves = text.split('::');
  const head = halves[0] === '' ? [] : halves[0].split(':');
  const tail = halves.length < 2 || halves[1] === '' ? [] : halves[1].split(':');
  const groups = head.concat(new Array<string>(8 - head.length - tail.length).fill('0'), tail);
  for (let i = 0; i < 8; i++) {
    const g = parseInt(groups[i], 16);
    buf[off + 2 * i] = g >> 8;
    buf[off + 2 * i + 1] = g & 0xff;
  }
  return true;
}
