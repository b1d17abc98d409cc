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
