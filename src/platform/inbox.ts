/**
 * Received datagrams waiting for `recv`, shared by the datagram adapters: one
 * fixed {@link MessageQueue} slot per datagram, tagged with the sender's peer
 * handle (src/transport.ts `DatagramTransport`). Full means the newest
 * datagram is dropped and counted (MQTT-SN's own retries cover it, MQTT-SN 1.2
 * §6.13); one longer than a slot is cut to the slot and counted.
 */
import { Status } from '../core/status';
import { MessageQueue } from '../core/queue';

export class DatagramInbox {
  private readonly q: MessageQueue;
  private last: number;
  /** Datagrams dropped: no free slot, or no peer handle for the sender. */
  dropped: number;
  /** Datagrams cut to the slot size. */
  truncated: number;

  constructor(slots: number, maxDatagram: number) {
    this.q = new MessageQueue(slots, maxDatagram);
    this.last = 0;
    this.dropped = 0;
    this.truncated = 0;
  }

  /** Datagrams waiting. */
  get pending(): number {
    return this.q.length;
  }

  /** Storage the adapter writes a datagram into, at the offset {@link DatagramInbox.reserve} gave. */
  get data(): Uint8Array {
    return this.q.data;
  }

  /** Drops every waiting datagram. */
  clear(): void {
    this.q.clear();
  }

  /** Offset of a free slot for the next datagram, or -1 when all are taken. */
  reserve(): number {
    const at = this.q.reserve();
    return at < 0 ? -1 : at;
  }

  /** Counts a datagram that could not be stored. */
  drop(): void {
    this.dropped++;
  }

  /** How many of a `len`-byte datagram's bytes fit in a slot (counting a cut). */
  fit(len: number): number {
    if (len <= this.q.slotSize) return len;
    this.truncated++;
    return this.q.slotSize;
  }

  /** Queues the `len` bytes written at the reserved offset as a datagram from `peer`. */
  commit(len: number, peer: number): void {
    this.q.commit(len, peer);
  }

  /**
   * The `recv` of the contract: copies the oldest datagram (cut to `len`) into
   * `buf[off..]` and returns its length; 0 when none waits, or
   * {@link Status.Closed} when none waits and the link is `closed`;
   * {@link Status.BadParameter} for a bad range.
   */
  take(buf: Uint8Array, off: number, len: number, closed: boolean): number {
    if (off < 0 || len < 0 || off + len > buf.length) return Status.BadParameter;
    const q = this.q;
    if (q.isEmpty()) return closed ? Status.Closed : 0;
    const at = q.offsetAt(0);
    let n = q.lengthAt(0);
    if (n > len) n = len;
    const d = q.data;
    for (let i = 0; i < n; i++) buf[off + i] = d[at + i];
    this.last = q.tagAt(0);
    q.shift();
    return n;
  }

  /** Peer handle of the datagram {@link DatagramInbox.take} returned last. */
  from(): number {
    return this.last;
  }
}
