/**
 * Finding MQTT packet boundaries in a byte stream (MQTT 3.1.1 §2.2, MQTT 5.0
 * §2.1.1): the fixed header is the type/flags byte then the Remaining Length.
 * TCP delivers arbitrary fragments; these functions say how long the next
 * packet is once enough of its header has arrived, without consuming anything.
 */
import { Status } from '../core/status';
import type { ByteRing } from '../core/ring';

/**
 * Length of the whole packet at the read point of `ring`: a number `>= 2`, or
 * {@link Status.NeedMoreBytes} (header incomplete), {@link Status.Malformed}
 * (Remaining Length over 4 bytes, non-minimal, or packet type 0), or
 * {@link Status.TooLarge} (longer than `maxPacketSize`). The packet is complete
 * when `ring.length >= ` the result. Allocation-free.
 *
 * @example
 * ```ts
 * const n = frameLength(rx, 1024);
 * if (n > 0 && rx.length >= n) { rx.read(pkt, 0, n); decodePacket(pkt, 0, n, 4, view); }
 * ```
 */
export function frameLength(ring: ByteRing, maxPacketSize: number): number {
  const avail = ring.length;
  if (avail < 2) return Status.NeedMoreBytes;
  if (ring.peek(0) >>> 4 === 0) return Status.Malformed;
  let value = 0;
  let mult = 1;
  for (let i = 1; i <= 4; i++) {
    if (i >= avail) return Status.NeedMoreBytes;
    const b = ring.peek(i);
    value += (b & 0x7f) * mult;
    if ((b & 0x80) === 0) {
      if (i > 1 && b === 0) return Status.Malformed;
      const total = 1 + i + value;
      return total > maxPacketSize ? Status.TooLarge : total;
    }
    mult *= 128;
  }
  return Status.Malformed;
}

/**
 * The same as {@link frameLength} over a linear buffer `buf[off..off+len)`.
 */
export function packetLength(buf: Uint8Array, off: number, len: number, maxPacketSize: number): number {
  if (len < 2) return Status.NeedMoreBytes;
  if (buf[off] >>> 4 === 0) return Status.Malformed;
  let value = 0;
  let mult = 1;
  for (let i = 1; i <= 4; i++) {
    if (i >= len) return Status.NeedMoreBytes;
    const b = buf[off + i];
    value += (b & 0x7f) * mult;
    if ((b & 0x80) === 0) {
      if (i > 1 && b === 0) return Status.Malformed;
      const total = 1 + i + value;
      return total > maxPacketSize ? Status.TooLarge : total;
    }
    mult *= 128;
  }
  return Status.Malformed;
}
