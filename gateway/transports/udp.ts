/**
 * MQTT-SN over UDP (IPv4 or IPv6): the {@link SensorTransport} on `node:dgram`.
 *
 * Two sockets, as the Paho gateway does it (`linux/udp/SensorNetwork.cpp`):
 *
 * - the **unicast socket**, bound to `host:port`, receives from and sends to clients, and also
 *   sends the multicast broadcasts (ADVERTISE, GWINFO), so the source of a broadcast is the
 *   address a client should CONNECT to;
 * - the **multicast socket**, bound to the wildcard address on the multicast port with
 *   `reuseAddr` (several gateways or clients on one host may share that port) and joined to the
 *   group, receives SEARCHGW (and anything else) sent to the group. Replies go out through the
 *   unicast socket. When the multicast port equals the unicast port, the unicast socket joins
 *   the group itself and there is no second socket.
 *
 * Joining the group can fail (a container without a multicast route, a wrong interface): the
 * transport reports it through `onError('io', …)` with how to fix it and keeps serving unicast.
 *
 * Multicast loopback is on, so a client on the same host (firmware-sim on the Pi) hears the
 * gateway's broadcasts; the gateway's own broadcasts coming back to its multicast socket are
 * recognised (source port = the unicast port, source address = a local one) and dropped.
 *
 * IPv6: the socket is `ipv6Only` by default, so `udp` and `udp6` can both bind port 1884 (the
 * defaults) and an IPv4 client is always seen by `udp` as `ip:port`. With `ipv6Only: false`
 * (dual stack, one socket for both), IPv4 senders arrive IPv4-mapped and are reported as
 * `[::ffff:a.b.c.d]:port`, which this transport also takes back in `send`.
 */
import dgram from 'node:dgram';
import dns from 'node:dns';
import net from 'node:net';
import os from 'node:os';
import { headerLength, readLength } from '../../src/mqttsn/header';
import { errorText, handOver, type SensorTransport } from './transport';

/** Default MTU of a UDP link, octets (MQTT-SN messages the gateway sends in one datagram). */
export const UDP_DEFAULT_MTU = 1024;

/** Multicast settings of a {@link UdpSensorTransport}. */
export interface UdpMulticastOptions {
  /** Group address, e.g. `225.1.1.1` (Paho's default) or `ff1e:feed:caca:dead::1`. */
  group: string;
  /**
   * Port clients send SEARCHGW to and listen on for ADVERTISE / GWINFO (Paho: 1883); 0 = any
   * free port (tests: read {@link UdpSensorTransport.multicastPort}; broadcasts go to it).
   */
  port: number;
  /** Multicast TTL (IPv4) or hop limit (IPv6), 1..255; default 1 (this link only). */
  ttl?: number;
  /**
   * Interface for joining and sending: for IPv4 a local address (`192.168.1.5`) or an interface
   * name (`wlan0`, resolved to its first IPv4 address); for IPv6 an interface name (`wlan0`) or
   * `::%wlan0`. Default: the system's choice (the interface of the default route).
   */
  interface?: string;
}

/** Options of {@link UdpSensorTransport}. */
export interface UdpTransportOptions {
  /** `udp4` or `udp6`. */
  type: 'udp4' | 'udp6';
  /** Port to bind; 0 = any free port (read {@link UdpSensorTransport.port} after `start`). */
  port: number;
  /** Address to bind; default `0.0.0.0` (udp4) or `::` (udp6). */
  host?: string;
  /** Multicast group for broadcasts and SEARCHGW; null or left out = no multicast. */
  multicast?: UdpMulticastOptions | null;
  /** Largest message sent, octets; default {@link UDP_DEFAULT_MTU}. */
  mtu?: number;
  /** Transport name; default `udp` (udp4) or `udp6`. */
  name?: string;
  /** udp6 only: accept IPv6 only (default true); false = dual stack, IPv4 senders IPv4-mapped. */
  ipv6Only?: boolean;
  /**
   * Kernel receive buffer of the unicast socket, bytes; default {@link UDP_DEFAULT_RECV_BUFFER}.
   * The OS default (about 208 KB on Linux) holds only a few hundred small datagrams: any pause of
   * the event loop longer than ~10 ms at 30,000 msg/s overflows it and the kernel drops what
   * follows (measured in `bench/gateway.ts`). 0 keeps the OS default.
   */
  recvBufferSize?: number;
  /**
   * How a user changes the port, quoted in the "port in use" error; default
   * `"udp.port" in the config file` (`"udp6.port"` for udp6).
   */
  portHint?: string;
  /** Peers whose addresses are cached for reuse; default {@link UDP_PEER_CACHE}. */
  peerCache?: number;
}

/**
 * Default receive buffer asked for the unicast socket: 4 MiB, about 140 ms of small datagrams at
 * 30,000 msg/s. Linux caps it at `net.core.rmem_max`; the transport reports a cap once.
 */
export const UDP_DEFAULT_RECV_BUFFER = 4 * 1024 * 1024;

/**
 * Most peers whose address strings (received from) and parsed addresses (sent to) are kept for
 * reuse; past it each cache starts again empty, so spoofed source addresses cannot grow it.
 * Reusing one string per peer spares a string per datagram, and the session lookups keyed by it
 * hash it once (bench/RESULTS-gateway.md: the core's cost per PUBLISH about halved).
 */
export const UDP_PEER_CACHE = 16_384;

const enum State {
  Stopped,
  Starting,
  Running,
  Stopping,
}

/**
 * The UDP sensor transport. Addresses are `ip:port` (udp4) and `[ipv6]:port` (udp6, address in
 * lower case, zone kept as the OS gives it: `[fe80::1%eth0]:50123`).
 *
 * @example
 * ```ts
 * const udp = new UdpSensorTransport({ type: 'udp4', port: 1884, multicast: { group: '225.1.1.1', port: 1883 } });
 * udp.onPacket = (bytes, from) => gateway.handle(udp, bytes, from);
 * udp.onError = (kind, detail) => log.warn(detail, { transport: udp.name, kind });
 * await udp.start();
 * udp.send(connack, '192.168.1.20:50123');
 * ```
 */
export class UdpSensorTransport implements SensorTransport {
  readonly name: string;
  readonly mtu: number;
  onPacket: ((bytes: Uint8Array, address: string) => void) | null = null;
  onError: ((kind: string, detail: string) => void) | null = null;

  private readonly opts: UdpTransportOptions;
  private readonly v6: boolean;
  private state = State.Stopped;
  private pending: Promise<void> | null = null;
  private unicast: dgram.Socket | null = null;
  private multicast: dgram.Socket | null = null;
  private boundPort = 0;
  /** True once this transport may send to the multicast group. */
  private canBroadcast = false;
  private localAddresses = new Set<string>();
  /** Parsed destinations by address string (bounded: {@link UDP_PEER_CACHE}). */
  private readonly peers = new Map<string, UdpPeer>();
  /** Address strings of senders by IP, then port (bounded: {@link UDP_PEER_CACHE} in all). */
  private readonly names = new Map<string, Map<number, string>>();
  private nameCount = 0;
  private readonly cacheMax: number;
  /** The one completion callback of every send (node:dgram names the destination in its error). */
  private readonly sent = (err: Error | null): void => {
    if (err) this.error('io', `${this.name}: sending a datagram failed: ${errorText(err)}`);
  };

  constructor(options: UdpTransportOptions) {
    this.opts = { ...options, multicast: options.multicast ? { ...options.multicast } : null };
    this.v6 = options.type === 'udp6';
    this.name = options.name ?? (this.v6 ? 'udp6' : 'udp');
    const mtu = options.mtu ?? UDP_DEFAULT_MTU;
    this.mtu = Number.isInteger(mtu) && mtu >= 2 && mtu <= 65507 ? mtu : UDP_DEFAULT_MTU;
    this.cacheMax = Math.max(1, options.peerCache ?? UDP_PEER_CACHE);
  }

  /** The bound unicast port (the chosen one when `port` was 0); 0 when not running. */
  get port(): number {
    return this.state === State.Running ? this.boundPort : 0;
  }

  /** The bound multicast port, or 0 when the multicast socket is not open (not configured, or bind failed). */
  get multicastPort(): number {
    if (this.state !== State.Running || !this.opts.multicast) return 0;
    if (this.multicast) return this.multicast.address().port;
    return this.canBroadcast && this.opts.multicast.port === this.boundPort ? this.boundPort : 0;
  }

  /**
   * Binds the unicast socket, then sets up multicast (failures there are reported through
   * `onError` and do not fail `start`). Resolves once receiving; idempotent.
   *
   * @throws Error when the unicast port is in use (`EADDRINUSE`, naming the port and how to
   *   change it), not permitted (`EACCES`) or the bind address is not local (`EADDRNOTAVAIL`).
   */
  start(): Promise<void> {
    if (this.state === State.Running) return Promise.resolve();
    if (this.state === State.Starting && this.pending) return this.pending;
    if (this.state === State.Stopping && this.pending) return this.pending.then(() => this.start());
    this.state = State.Starting;
    this.pending = this.doStart().then(
      () => {
        this.state = State.Running;
        this.pending = null;
      },
      (err: unknown) => {
        this.state = State.Stopped;
        this.pending = null;
        throw err;
      },
    );
    return this.pending;
  }

  /** Closes both sockets; idempotent; resolves once they are closed and the ports free. */
  stop(): Promise<void> {
    if (this.state === State.Stopped) return Promise.resolve();
    if (this.state === State.Stopping && this.pending) return this.pending;
    if (this.state === State.Starting && this.pending) {
      return this.pending.then(
        () => this.stop(),
        () => undefined,
      );
    }
    this.state = State.Stopping;
    const sockets = [this.unicast, this.multicast];
    this.unicast = null;
    this.multicast = null;
    this.canBroadcast = false;
    this.boundPort = 0;
    this.pending = Promise.all(sockets.map(closeSocket)).then(() => {
      this.state = State.Stopped;
      this.pending = null;
    });
    return this.pending;
  }

  /**
   * Sends `bytes` (copied) to `address` (`ip:port` / `[ipv6]:port`). Returns false when not
   * running, the address is malformed or of the other IP family, or `bytes` exceeds the MTU.
   * Send failures reported later by the OS go to `onError('io', …)`.
   */
  send(bytes: Uint8Array, address: string): boolean {
    const sock = this.unicast;
    if (this.state !== State.Running || sock === null) return false;
    if (bytes.length === 0 || bytes.length > this.mtu) return false;
    let peer = this.peers.get(address);
    if (peer === undefined) {
      const p = parseUdpAddress(address, this.v6);
      if (p === null) return false;
      if (this.peers.size >= this.cacheMax) this.peers.clear();
      this.peers.set(address, (peer = p));
    }
    return this.transmit(sock, bytes, peer.port, peer.host, address);
  }

  /** The address string of `host`:`port`, the same string each time while cached (see {@link UDP_PEER_CACHE}). */
  private addressOf(host: string, port: number): string {
    let ports = this.names.get(host);
    let address = ports === undefined ? undefined : ports.get(port);
    if (address !== undefined) return address;
    address = formatUdpAddress(host, port, this.v6);
    if (this.nameCount >= this.cacheMax) {
      this.names.clear();
      this.nameCount = 0;
      ports = undefined;
    }
    if (ports === undefined) this.names.set(host, (ports = new Map()));
    ports.set(port, address);
    this.nameCount++;
    return address;
  }

  /**
   * Sends `bytes` (copied) to the multicast group and port. `radius` does not apply to UDP (the
   * TTL / hop limit is configured). Returns false when no multicast is configured or usable.
   */
  broadcast(bytes: Uint8Array, _radius: number): boolean {
    const sock = this.unicast;
    const mc = this.opts.multicast;
    if (this.state !== State.Running || sock === null || !mc || !this.canBroadcast) return false;
    if (bytes.length === 0 || bytes.length > this.mtu) return false;
    const port = mc.port !== 0 ? mc.port : this.multicastPort; // port 0: the one the OS chose (tests)
    if (port === 0) return false;
    return this.transmit(sock, bytes, port, mc.group, this.v6 ? `[${mc.group}]:${port}` : `${mc.group}:${port}`);
  }

  private transmit(sock: dgram.Socket, bytes: Uint8Array, port: number, host: string, label: string): boolean {
    const copy = Buffer.from(bytes); // dgram sends asynchronously: the caller may reuse `bytes`
    try {
      sock.send(copy, port, host, this.sent);
      return true;
    } catch (err) {
      this.error('io', `${this.name}: sending to ${label} failed: ${errorText(err)}`);
      return false;
    }
  }

  private async doStart(): Promise<void> {
    const o = this.opts;
    const host = o.host ?? (this.v6 ? '::' : '0.0.0.0');
    const sock = this.createSocket(false);
    try {
      await bindSocket(sock, o.port, host);
    } catch (err) {
      await closeSocket(sock);
      throw new Error(this.bindErrorMessage(err, o.port, host, 'unicast'), { cause: err });
    }
    this.unicast = sock;
    this.boundPort = sock.address().port;
    this.setRecvBuffer(sock);
    this.attach(sock);
    this.localAddresses = localAddresses();
    if (!o.multicast) return;
    try {
      await this.setUpMulticast(sock, o.multicast);
    } catch (err) {
      // setUpMulticast reports what it expects; anything else must not leak the bound sockets
      const opened = [this.unicast, this.multicast];
      this.unicast = this.multicast = null;
      this.canBroadcast = false;
      await Promise.all(opened.map(closeSocket));
      throw err;
    }
  }

  private async setUpMulticast(unicast: dgram.Socket, mc: UdpMulticastOptions): Promise<void> {
    const group = mc.group;
    const fix = this.v6
      ? `check that "${group}" is an IPv6 multicast address, that the interface exists and is up, and that it has a multicast route (ip -6 route show table local; in Docker use --network host)`
      : `check that "${group}" is an IPv4 multicast address (224.0.0.0/4), that the interface exists and is up, and that there is a multicast route (ip route add 224.0.0.0/4 dev eth0; in Docker use --network host)`;
    if (!(this.v6 ? net.isIPv6(group) : net.isIPv4(group))) {
      this.error('io', `${this.name}: multicast group "${group}" is not an ${this.v6 ? 'IPv6' : 'IPv4'} address; broadcasts (ADVERTISE, GWINFO) and SEARCHGW are off, unicast works`);
      return;
    }
    let iface: string | undefined;
    try {
      iface = mc.interface === undefined ? undefined : this.interfaceAddress(mc.interface);
    } catch (err) {
      this.error('io', `${this.name}: multicast interface: ${errorText(err)}; broadcasts and SEARCHGW are off, unicast works`);
      return;
    }
    // Sending side: TTL / hop limit, loopback, interface, on the unicast socket.
    try {
      unicast.setMulticastTTL(mc.ttl ?? 1);
      unicast.setMulticastLoopback(true);
      if (iface !== undefined) unicast.setMulticastInterface(iface);
      this.canBroadcast = true;
    } catch (err) {
      this.error('io', `${this.name}: cannot send to multicast group ${group}: ${errorText(err)}; broadcasts (ADVERTISE, GWINFO) are off, unicast works. To fix: ${fix}`);
    }
    // Receiving side: join the group on the socket bound to the multicast port.
    let rx = unicast;
    if (mc.port !== this.boundPort) {
      rx = this.createSocket(true);
      try {
        await bindSocket(rx, mc.port, this.v6 ? '::' : '0.0.0.0');
      } catch (err) {
        await closeSocket(rx);
        this.error('io', `${this.name}: cannot bind the multicast port ${mc.port}: ${errorText(err)}; SEARCHGW sent to ${group}:${mc.port} will not be heard, unicast works. To fix: free the port or set another multicast port in the config`);
        return;
      }
    }
    try {
      rx.addMembership(group, iface);
    } catch (err) {
      this.error('io', `${this.name}: cannot join multicast group ${group}${iface ? ` on ${iface}` : ''}: ${errorText(err)}; SEARCHGW sent to the group will not be heard, unicast works. To fix: ${fix}`);
      if (rx !== unicast) await closeSocket(rx);
      return;
    }
    if (rx !== unicast) {
      this.multicast = rx;
      this.attach(rx);
    }
  }

  /** Wires a bound socket's events to onPacket / onError. */
  private attach(sock: dgram.Socket): void {
    sock.on('message', (msg, rinfo) => {
      if (sock !== this.unicast && sock !== this.multicast) return; // closed meanwhile
      // Our own broadcast, looped back (multicast loopback is on for same-host clients).
      if (rinfo.port === this.boundPort && this.localAddresses.has(stripZone(rinfo.address))) return;
      const address = this.addressOf(rinfo.address, rinfo.port);
      const bad = snFramingError(msg, 0, msg.length);
      if (bad !== null) {
        this.error('framing', `${this.name}: dropped a ${msg.length}-octet datagram from ${address}: ${bad}`);
        return;
      }
      const threw = handOver(this, msg, address);
      if (threw !== null) this.error('io', threw);
    });
  }

  /** The unicast socket's kernel receive buffer as the OS reports it (0 when stopped). */
  get recvBufferSize(): number {
    try {
      return this.unicast ? this.unicast.getRecvBufferSize() : 0;
    } catch {
      return 0;
    }
  }

  /** Asks for the configured receive buffer; reports (once) when the kernel gives less. */
  private setRecvBuffer(sock: dgram.Socket): void {
    const want = this.opts.recvBufferSize ?? UDP_DEFAULT_RECV_BUFFER;
    if (want <= 0) return;
    try {
      sock.setRecvBufferSize(want);
      // Linux reports twice the size set (its bookkeeping overhead), capped at 2 × net.core.rmem_max.
      const got = sock.getRecvBufferSize();
      if (got < want) {
        this.error(
          'io',
          `${this.name}: the kernel gave a ${got}-byte receive buffer instead of ${want}; bursts may be dropped. ` +
            `To fix: sysctl -w net.core.rmem_max=${want} (and in /etc/sysctl.d/ to keep it)`,
        );
      }
    } catch (err) {
      this.error('io', `${this.name}: could not set the receive buffer to ${want} bytes: ${errorText(err)}`);
    }
  }

  /** A socket whose errors never reach the event loop as exceptions. */
  private createSocket(reuseAddr: boolean): dgram.Socket {
    const sock = dgram.createSocket({
      type: this.opts.type,
      reuseAddr,
      ipv6Only: this.v6 ? this.opts.ipv6Only !== false : undefined,
      // Every destination is an IP literal (checked by parseUdpAddress, or the configured
      // multicast group): no DNS lookup, and no deferred turn per datagram. A host name given
      // to bind to still resolves.
      lookup: this.v6 ? literal6 : literal4,
    });
    sock.on('error', (err) => {
      if (sock === this.unicast || sock === this.multicast) this.error('io', `${this.name}: socket error: ${errorText(err)}`);
    });
    return sock;
  }

  /** The interface argument node:dgram wants: an IPv4 address, or `::%name` for IPv6. */
  private interfaceAddress(iface: string): string {
    if (this.v6) {
      // libuv maps an unknown interface name to "default" silently: check it exists.
      const pct = iface.indexOf('%');
      const ifName = pct >= 0 ? iface.slice(pct + 1) : net.isIPv6(iface) ? '' : iface;
      if (ifName !== '' && !/^\d+$/.test(ifName) && os.networkInterfaces()[ifName] === undefined) {
        throw new Error(`no interface "${ifName}" on this machine (see "ip addr")`);
      }
      return pct >= 0 || net.isIPv6(iface) ? iface : `::%${iface}`;
    }
    if (net.isIPv4(iface)) return iface;
    const entries = os.networkInterfaces()[iface];
    const v4 = entries?.find((e) => e.family === 'IPv4');
    if (!v4) throw new Error(`no IPv4 address on interface "${iface}" (give an interface name from "ip addr" or a local IPv4 address)`);
    return v4.address;
  }

  private bindErrorMessage(err: unknown, port: number, host: string, what: string): string {
    const code = (err as NodeJS.ErrnoException | null)?.code;
    const hint = this.opts.portHint ?? `"${this.v6 ? 'udp6' : 'udp'}.port" in the config file`;
    const where = `${this.v6 ? `[${host}]` : host}:${port}`;
    if (code === 'EADDRINUSE') {
      return `${this.name}: UDP port ${port} is already in use on ${host} (another gateway, a Paho MQTT-SNGateway or a second fieldmq?); stop that program or choose another port with ${hint}`;
    }
    if (code === 'EACCES') return `${this.name}: not permitted to bind UDP ${where} (ports below 1024 need privileges); choose a port >= 1024 with ${hint}`;
    if (code === 'EADDRNOTAVAIL') return `${this.name}: cannot bind UDP ${where}: ${host} is not an address of this machine`;
    return `${this.name}: cannot bind the ${what} UDP socket to ${where}: ${errorText(err)}`;
  }

  private error(kind: string, detail: string): void {
    const cb = this.onError;
    if (cb === null) return;
    try {
      cb(kind, detail);
    } catch {
      // a throwing error sink must not take the socket down
    }
  }
}

/** A parsed transport address. */
export interface UdpPeer {
  host: string;
  port: number;
}

/**
 * Parses `ip:port` (v6 false) or `[ipv6]:port` (v6 true); port 1..65535. Returns null for a
 * malformed address or one of the other family.
 */
export function parseUdpAddress(address: string, v6: boolean): UdpPeer | null {
  const m = v6 ? /^\[([^\]]+)\]:(\d{1,5})$/.exec(address) : /^([0-9.]+):(\d{1,5})$/.exec(address);
  if (!m) return null;
  const host = m[1]!;
  const port = Number(m[2]);
  if (!(port >= 1 && port <= 65535)) return null;
  if (v6 ? !net.isIPv6(host) : !net.isIPv4(host)) return null;
  return { host, port };
}

/**
 * Formats a sender as this transport's address: `ip:port`, or `[ipv6]:port` with the address
 * part in lower case (the zone after `%` kept as given).
 */
export function formatUdpAddress(host: string, port: number, v6: boolean): string {
  if (!v6) return `${host}:${port}`;
  const pct = host.indexOf('%');
  const addr = pct < 0 ? host.toLowerCase() : host.slice(0, pct).toLowerCase() + host.slice(pct);
  return `[${addr}]:${port}`;
}

type LookupCallback = (err: NodeJS.ErrnoException | null, address: string, family: number) => void;

/** node:dgram's `lookup` for udp4: an IP literal as it is, at once; a host name (`host` to bind) through DNS. */
function literal4(host: string, o: dns.LookupOneOptions, cb: LookupCallback): void {
  if (net.isIPv4(host)) cb(null, host, 4);
  else dns.lookup(host, o, cb);
}

/** The same for udp6. */
function literal6(host: string, o: dns.LookupOneOptions, cb: LookupCallback): void {
  if (net.isIPv6(host)) cb(null, host, 6);
  else dns.lookup(host, o, cb);
}

function stripZone(host: string): string {
  const pct = host.indexOf('%');
  return (pct < 0 ? host : host.slice(0, pct)).toLowerCase();
}

/** Every address of this machine (lower case, no zone), for recognising our own broadcasts. */
function localAddresses(): Set<string> {
  const set = new Set<string>(['127.0.0.1', '::1']);
  for (const list of Object.values(os.networkInterfaces())) {
    for (const e of list ?? []) set.add(stripZone(e.address));
  }
  return set;
}

function bindSocket(sock: dgram.Socket, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (err: Error): void => {
      sock.off('listening', onListening);
      reject(err);
    };
    const onListening = (): void => {
      sock.off('error', onError);
      resolve();
    };
    sock.once('error', onError);
    sock.once('listening', onListening);
    try {
      sock.bind({ port, address: host, exclusive: true });
    } catch (err) {
      sock.off('error', onError);
      sock.off('listening', onListening);
      reject(err);
    }
  });
}

function closeSocket(sock: dgram.Socket | null): Promise<void> {
  return new Promise((resolve) => {
    if (sock === null) return resolve();
    try {
      sock.close(() => resolve());
    } catch {
      resolve(); // already closed
    }
  });
}

/**
 * Checks that `buf[off..off+len)` is exactly one MQTT-SN message as its Length field declares
 * (MQTT-SN 1.2 §5.2.1), or one forwarder-encapsulated message (§5.5: `Len | 0xFE | Ctrl |
 * WirelessNodeId` whose Length covers only that header, then a message with its own Length).
 * Datagram links (UDP, XBee RF data) carry one message per datagram; anything else is a
 * framing error. MsgType values are left to the MQTT-SN decoder.
 *
 * @returns null when well framed, else a short human reason.
 */
export function snFramingError(buf: Uint8Array, off: number, len: number): string | null {
  if (len < 2) return len === 0 ? 'empty' : 'shorter than an MQTT-SN header';
  const total = readLength(buf, off, len);
  if (total < 0) return 'its Length field is invalid';
  if (buf[off + headerLength(buf, off) - 1] === 0xfe && total < len && total >= 3) {
    const rest = len - total;
    const inner = readLength(buf, off + total, rest);
    if (inner < 0 || inner !== rest) return `the encapsulated message declares ${inner < 0 ? 'an invalid Length' : `${inner} octets`} but ${rest} follow the encapsulation header`;
    return null;
  }
  return total === len ? null : `its Length field says ${total} octets`;
}
