/**
 * The one transport contract of fieldmq (DESIGN.md §3, after coreMQTT's
 * transport interface). Every link implements it: TCP, TLS, UDP and serial on
 * Node, Espruino and Moddable. Clients never touch a runtime API; they call
 * these methods from `poll(now)`.
 *
 * Rules every adapter keeps:
 * - nothing blocks: `recv` and `send` return at once;
 * - `recv(buf, off, len)` returns `> 0` bytes read, `0` for "nothing now", or
 *   a negative `Status` (normally {@link Status.Closed}) once the link is gone;
 * - `send(buf, off, len)` returns how many bytes it took (`0..len`: it may be
 *   partial, `0` means "full, try later"), or a negative `Status`;
 * - `open()` starts connecting (or binding) and returns at once; `state()`
 *   says when the link is usable;
 * - the optional callbacks only say "worth calling poll now": the client still
 *   does its work in `poll`.
 */

/** Link states reported by {@link Transport.state}. */
export const enum TransportState {
  Closed = 0,
  Opening = 1,
  Open = 2,
}

/** A byte-stream or datagram link. */
export interface Transport {
  /** Starts connecting; `Status.Ok`, or a negative status when it cannot even start. */
  open(): number;
  /** Closes the link; `state()` is {@link TransportState.Closed} afterwards. Idempotent. */
  close(): void;
  /** Where the link is. */
  state(): number;
  /**
   * Reads into `buf[off..off+len)`. A stream returns any number of bytes; a
   * datagram transport returns exactly one datagram (truncated to `len`).
   */
  recv(buf: Uint8Array, off: number, len: number): number;
  /** Writes `buf[off..off+len)`; a datagram transport sends one datagram to its default peer. */
  send(buf: Uint8Array, off: number, len: number): number;
  /** Set by the user of the transport: data arrived. */
  onReadable?: (() => void) | null;
  /** Set by the user of the transport: room to send again after `send` took less than asked. */
  onWritable?: (() => void) | null;
}

/** Address handle meaning "every node in radio range / on the broadcast or multicast group". */
export const BROADCAST = 0xffff;

/**
 * A datagram link with more than one peer (MQTT-SN: gateways, broadcast).
 * Peers are small integer handles the adapter assigns (0..0xfffe), so the
 * client keeps no address objects: `from()` names the sender of the datagram
 * `recv` returned last, and `sendTo` sends to a handle or {@link BROADCAST}.
 */
export interface DatagramTransport extends Transport {
  /** The peer handle of the datagram `recv` returned last. */
  from(): number;
  /**
   * Sends one datagram to `peer` (a handle from {@link DatagramTransport.from},
   * or {@link BROADCAST} with `radius` hops where the network has them).
   */
  sendTo(buf: Uint8Array, off: number, len: number, peer: number, radius: number): number;
  /**
   * Optional: writes the network address of `peer` into `buf[off..off+len]`
   * as the octets a client puts in GWINFO's GwAdd (MQTT-SN 1.2 §5.4.3, §6.1);
   * returns their count, or a negative Status. The IP adapters write 4 octets
   * of IPv4 address and 2 of port, big-endian.
   */
  addressOf?(peer: number, buf: Uint8Array, off: number, len: number): number;
  /**
   * Optional: the peer handle for GwAdd octets `buf[off..off+len]` (as
   * {@link DatagramTransport.addressOf} writes them), added to the peer table
   * when new; or a negative Status (malformed, table full).
   */
  peerAt?(buf: Uint8Array, off: number, len: number): number;
}
