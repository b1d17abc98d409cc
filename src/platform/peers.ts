/**
 * The peer handle table of the datagram adapters ({@link DatagramTransport},
 * src/transport.ts): a small fixed table of `(address, port)` pairs, so a
 * client names peers with small integers and keeps no address objects
 * (DESIGN.md §3, "Datagram transports hand back the peer address").
 *
 * Handles are slot numbers `0..capacity-1`. Slot 0 is usually the default
 * peer (the gateway) and is pinned. When the table is full, a new sender
 * takes the least recently used unpinned slot, so an old handle can come to
 * name a different peer: clients should resolve `from()` right after `recv`
 * and pin handles they keep (a gateway they talk to).
 *
 * Portable (Espruino, Moddable, Node): typed arrays and plain arrays only,
 * allocated once in the constructor.
 */
import { Status } from '../core/status';

export class PeerTable {
  /** Number of slots. */
  readonly capacity: number;
  private readonly addresses: string[];
  private readonly ports: Uint16Array;
  /** Last-use stamp per slot; 0 = free. */
  private readonly stamps: Uint32Array;
  private readonly pinned: Uint8Array;
  private clock: number;

  /** @param capacity - slots (1..0xfffe); handles are `0..capacity-1`. */
  constructor(capacity: number) {
    if (!(capacity >= 1 && capacity <= 0xfffe)) throw new RangeError('PeerTable: bad capacity');
    this.capacity = capacity;
    this.addresses = [];
    for (let i = 0; i < capacity; i++) this.addresses.push('');
    this.ports = new Uint16Array(capacity);
    this.stamps = new Uint32Array(capacity);
    this.pinned = new Uint8Array(capacity);
    this.clock = 0;
  }

  /** The handle of `(address, port)`, or {@link Status.NotFound}. */
  find(address: string, port: number): number {
    for (let i = 0; i < this.capacity; i++) {
      if (this.stamps[i] !== 0 && this.ports[i] === port && this.addresses[i] === address) return i;
    }
    return Status.NotFound;
  }

  /**
   * The handle of `(address, port)`, adding it when absent (evicting the
   * least recently used unpinned peer when full). Returns
   * {@link Status.Full} only when every slot is pinned.
   */
  add(address: string, port: number): number {
    let h = this.find(address, port);
    if (h >= 0) {
      this.touch(h);
      return h;
    }
    h = -1;
    let oldest = 0xffffffff;
    for (let i = 0; i < this.capacity; i++) {
      if (this.stamps[i] === 0) {
        h = i;
        break;
      }
      if (this.pinned[i] === 0 && this.stamps[i] < oldest) {
        oldest = this.stamps[i];
        h = i;
      }
    }
    if (h < 0) return Status.Full;
    this.addresses[h] = address;
    this.ports[h] = port;
    this.pinned[h] = 0;
    this.touch(h);
    return h;
  }

  /**
   * Puts `(address, port)` in slot `handle` and pins it (never evicted).
   * Returns {@link Status.Ok} or {@link Status.BadParameter}.
   */
  set(handle: number, address: string, port: number): number {
    if (!(handle >= 0 && handle < this.capacity) || !(port >= 0 && port <= 0xffff)) return Status.BadParameter;
    const other = this.find(address, port);
    if (other >= 0 && other !== handle) this.remove(other);
    this.addresses[handle] = address;
    this.ports[handle] = port;
    this.pinned[handle] = 1;
    this.touch(handle);
    return Status.Ok;
  }

  /** Frees slot `handle` (pinned or not). */
  remove(handle: number): void {
    if (!(handle >= 0 && handle < this.capacity)) return;
    this.stamps[handle] = 0;
    this.pinned[handle] = 0;
    this.addresses[handle] = '';
  }

  /** True when `handle` names a peer. */
  has(handle: number): boolean {
    return handle >= 0 && handle < this.capacity && this.stamps[handle] !== 0;
  }

  /** The address of `handle`, or `''` when the slot is free. */
  address(handle: number): string {
    return this.has(handle) ? this.addresses[handle] : '';
  }

  /** The port of `handle`, or {@link Status.NotFound}. */
  port(handle: number): number {
    return this.has(handle) ? this.ports[handle] : Status.NotFound;
  }

  /**
   * Writes the address of `handle` as MQTT-SN GwAdd octets (§5.4.3; the
   * network layer's address, which for IP this SDK writes as the IPv4
   * address in 4 octets and the port in 2, big-endian) into
   * `buf[off..off+len]`. Returns 6, {@link Status.NotFound} (free slot),
   * {@link Status.Unsupported} (not a dotted IPv4 address) or
   * {@link Status.NoMemory} (`len` < 6).
   */
  octets(handle: number, buf: Uint8Array, off: number, len: number): number {
    if (!this.has(handle)) return Status.NotFound;
    if (len < 6 || off < 0 || off + 6 > buf.length) return Status.NoMemory;
    const p = this.addresses[handle].split('.');
    for (let i = 0; i < 4; i++) {
      const n = +p[i];
      // Four decimal octets, each written as a number prints ("010", "1e1", " 1" are not).
      if (p.length !== 4 || !(n >= 0 && n < 256) || '' + n !== p[i]) return Status.Unsupported;
      buf[off + i] = n;
    }
    buf[off + 4] = this.ports[handle] >> 8;
    buf[off + 5] = this.ports[handle] & 0xff;
    return 6;
  }

  /**
   * The handle of the peer whose GwAdd octets (as {@link PeerTable.octets}
   * writes them: 4 octets of IPv4 address, 2 of port) are
   * `buf[off..off+len]`, added when new (not pinned). Returns the handle,
   * {@link Status.BadParameter} (not 6 octets, or port 0) or
   * {@link Status.Full}.
   */
  addOctets(buf: Uint8Array, off: number, len: number): number {
    if (len !== 6 || off < 0 || off + 6 > buf.length) return Status.BadParameter;
    const port = (buf[off + 4] << 8) | buf[off + 5];
    if (port === 0) return Status.BadParameter;
    return this.add(buf[off] + '.' + buf[off + 1] + '.' + buf[off + 2] + '.' + buf[off + 3], port);
  }

  private touch(h: number): void {
    this.clock = (this.clock + 1) >>> 0;
    if (this.clock === 0) {
      // 2^32 uses: restart the stamps, keeping their order roughly (all to 1).
      for (let i = 0; i < this.capacity; i++) if (this.stamps[i] !== 0) this.stamps[i] = 1;
      this.clock = 2;
    }
    this.stamps[h] = this.clock;
  }
}
