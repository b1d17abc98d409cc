/**
 * Raw serial MQTT-SN framing, as mqtt-sn-tools' serial bridge does it: bare
 * MQTT-SN messages back to back on an 8N1 line, framed only by their own
 * Length field (MQTT-SN 1.2 §5.2.1: one octet, or 0x01 + a 2-octet total).
 * No I/O, no Node APIs, no allocation per packet.
 */
import { ByteRing } from '../../src/core/ring';
import { Status } from '../../src/core/status';
import { MsgType } from '../../src/mqttsn/constants';
import { headerLength, readLength } from '../../src/mqttsn/header';
import { layoutOf } from '../../src/mqttsn/layout';

/** Default largest MQTT-SN message the framer accepts, in octets. */
export const SERIAL_DEFAULT_MAX_PACKET = 256;

/**
 * A framed packet: a view of the framer's packet buffer, valid until the next
 * call to {@link SerialSnFramer.next}. Allocate one and reuse it.
 */
export class SerialPacket {
  /** Buffer holding the whole MQTT-SN message, Length field first. */
  data: Uint8Array = EMPTY;
  /** Offset of the message in {@link SerialPacket.data}. */
  offset = 0;
  /** Octets of the message (its Length). */
  length = 0;
  /** The MsgType octet. */
  type = 0;
}

const EMPTY = new Uint8Array(0);

/** Options of {@link SerialSnFramer}. */
export interface SerialSnFramerOptions {
  /** Largest message accepted, 2..65535 octets; default {@link SERIAL_DEFAULT_MAX_PACKET}. */
  maxPacket?: number;
  /** Input buffer capacity; default `2 * maxPacket`, raised to `maxPacket` when smaller. */
  bufferSize?: number;
  /**
   * Accept forwarder encapsulation (MsgType 0xFE, MQTT-SN 1.2 §5.5); default true.
   * An encapsulated packet is yielded whole: the encapsulation header (whose
   * Length covers only itself) plus the MQTT-SN message after it, which must
   * itself have a valid header; `type` is then 0xFE.
   */
  acceptEncapsulated?: boolean;
}

/** Counters of a {@link SerialSnFramer}; they only grow (until `reset`). */
export interface SerialFramerStats {
  /** Packets delivered. */
  packets: number;
  /** Octets skipped while resynchronising. */
  skippedBytes: number;
}

/**
 * Splits a serial byte stream into MQTT-SN messages. Feed chunks with
 * {@link SerialSnFramer.push}, then call {@link SerialSnFramer.next} until it
 * returns 0.
 *
 * Resynchronisation: at each candidate start the Length field and MsgType are
 * checked; when the length is impossible (below the header size, above
 * `maxPacket`) or the MsgType is reserved (MQTT-SN 1.2 Table 3, per the
 * codec's layout table), one octet is skipped and counted and the next octet
 * is tried. A line with no delimiter cannot do better: garbage that happens to
 * look like a valid header is delivered, and the MQTT-SN decoder rejects it.
 *
 * Memory is fixed at construction: the input ring and one packet buffer.
 */
export class SerialSnFramer {
  /** Largest accepted message. */
  readonly maxPacket: number;
  /** Drop and delivery counters. */
  readonly stats: SerialFramerStats;
  private readonly ring: ByteRing;
  private readonly packet: Uint8Array;
  private readonly hdr: Uint8Array;
  private readonly encapsulated: boolean;
  /** MsgType found by the last `check`. */
  private type: number;

  constructor(options: SerialSnFramerOptions) {
    let max = options.maxPacket ?? SERIAL_DEFAULT_MAX_PACKET;
    max = max >= 2 && max <= 0xffff ? Math.floor(max) : SERIAL_DEFAULT_MAX_PACKET;
    this.maxPacket = max;
    let size = options.bufferSize ?? 2 * max;
    if (!(size >= max)) size = max;
    this.ring = new ByteRing(Math.floor(size));
    this.packet = new Uint8Array(max);
    this.hdr = new Uint8Array(4);
    this.encapsulated = options.acceptEncapsulated !== false;
    this.type = 0;
    this.stats = { packets: 0, skippedBytes: 0 };
  }

  /** Octets the input buffer can still take. */
  get free(): number {
    return this.ring.free;
  }

  /** Forgets buffered input; counters are zeroed. */
  reset(): void {
    this.ring.clear();
    this.stats.packets = 0;
    this.stats.skippedBytes = 0;
  }

  /**
   * Copies up to `len` octets of `buf[off..]` into the input buffer.
   *
   * @returns how many were taken: fewer than `len` when the buffer is full
   *   (call {@link SerialSnFramer.next} until 0, then push the rest); 0 for
   *   `len <= 0`; {@link Status.BadParameter} when the range is outside `buf`.
   */
  push(buf: Uint8Array, off: number, len: number): number {
    if (!(len > 0)) return 0;
    if (!(off >= 0 && off + len <= buf.length)) return Status.BadParameter;
    return this.ring.write(buf, off, len);
  }

  /**
   * Delivers the next whole message, skipping garbage before it.
   *
   * @returns the message length (>= 2) with `out` describing it, or 0 when no
   *   whole message is buffered yet. Skipped octets are counted in
   *   {@link SerialSnFramer.stats}, not reported: on a bare serial line every
   *   octet is a candidate start, so there is no "frame" to report dropped.
   */
  next(out: SerialPacket): number {
    const ring = this.ring;
    for (;;) {
      const avail = ring.length;
      if (avail === 0) return 0;
      let total = this.check(0, true);
      if (total === 0) return 0;
      const type = this.type;
      if (total > 0 && type === MsgType.ENCAPSULATED) {
        // Len | 0xFE | Ctrl | WirelessNodeId | MQTT-SN message (§5.5): the Length covers
        // the encapsulation header only; the message that follows has its own.
        if (total < 3) total = -1;
        else if (avail <= total) return 0;
        else {
          const inner = this.check(total, false);
          if (inner === 0) return 0;
          total = inner > 0 && total + inner <= this.maxPacket ? total + inner : -1;
        }
      }
      if (total < 0) {
        ring.skip(1);
        this.stats.skippedBytes++;
        continue;
      }
      if (avail < total) return 0;
      ring.read(this.packet, 0, total);
      this.stats.packets++;
      out.data = this.packet;
      out.offset = 0;
      out.length = total;
      out.type = type;
      return total;
    }
  }

  /**
   * Checks the header of the message starting `at` octets into the input: its
   * Length and MsgType. Returns the Length, 0 when more octets are needed, or
   * -1 when the header is impossible; sets `this.type`.
   */
  private check(at: number, outer: boolean): number {
    const ring = this.ring;
    const hdr = this.hdr;
    let h = ring.length - at;
    if (h > 4) h = 4;
    for (let i = 0; i < h; i++) hdr[i] = ring.peek(at + i);
    const total = readLength(hdr, 0, h);
    if (total === Status.NeedMoreBytes) return 0;
    if (!(total >= 2 && total <= this.maxPacket)) return -1;
    const hl = headerLength(hdr, 0);
    if (h < hl) return 0; // the MsgType octet has not arrived
    const type = hdr[hl - 1];
    this.type = type;
    if (total < hl) return -1;
    if (layoutOf(type) !== null) return total;
    return outer && this.encapsulated && type === MsgType.ENCAPSULATED ? total : -1;
  }
}
