/**
 * MQTT-SN over a raw serial line, as a {@link DatagramTransport} for {@link SnClient}: bare
 * MQTT-SN messages back to back, framed only by their own Length field (MQTT-SN 1.2 §5.2.1:
 * one octet, or `0x01` and two more), 8N1 — what mqtt-sn-tools' serial bridge and the
 * gateway's serial transport speak (DESIGN.md §5).
 *
 * It wraps any byte-stream {@link Transport}: `NodeSerialTransport` (firmware-sim/node-serial.ts) in the
 * simulator, `EspruinoSerialTransport` or `ModdableSerialTransport` on a board. Portable code:
 * one receive ring, one transmit ring and one decode scratch message, all allocated here.
 *
 * - **One peer**: the other end of the wire, handle 0 (the gateway). `sendTo` sends every
 *   handle, BROADCAST included, down the line; `from()` is always 0.
 * - **Resynchronisation**: a candidate message is accepted only when its Length is possible
 *   (2 .. `maxPacket`), its MsgType is one MQTT-SN 1.2 defines, and the whole message decodes
 *   exactly; otherwise one octet is skipped (counted in {@link SerialDatagramTransport.skipped})
 *   and the next octet is tried. A line with no delimiter can do no better.
 * - **Sending**: a message is copied whole into the transmit ring or refused (`0`, "try later");
 *   the ring drains into the stream as fast as it takes bytes, on every `send` and `recv`.
 */
import { ByteRing } from '../core/ring';
import { Status } from '../core/status';
import { TransportState } from '../transport';
import { SnMessage } from './message';
import { readLength } from './header';
import { decodeMessage } from './decode';
import type { DatagramTransport, Transport } from '../transport';

/** Options of {@link SerialDatagramTransport}. */
export interface SerialDatagramOptions {
  /** The byte stream (a UART). Opened and closed by this transport. */
  stream: Transport;
  /** Largest message sent or received, octets; default 256. */
  maxPacket?: number;
  onReadable?: (() => void) | null;
  onWritable?: (() => void) | null;
}

/** MsgTypes MQTT-SN 1.2 defines for client and gateway (Table 3), as a bit set of 0x00..0x1d. */
const KNOWN_TYPES = 0x3dfdfff7;

/** True when `t` is a MsgType a device can receive or send. */
function knownType(t: number): boolean {
  return t <= 0x1d && ((KNOWN_TYPES >>> t) & 1) === 1;
}

/** A {@link DatagramTransport} over a raw serial byte stream. */
export class SerialDatagramTransport implements DatagramTransport {
  onReadable: (() => void) | null;
  onWritable: (() => void) | null;
  /** Octets skipped while looking for the start of a message. */
  skipped: number;
  /** Messages received whole. */
  received: number;
  /** Messages queued for sending. */
  sent: number;

  private readonly s: Transport;
  private readonly max: number;
  private readonly rx: ByteRing;
  private readonly tx: ByteRing;
  /** Scratch: the candidate message, and its decoding. */
  private readonly cand: Uint8Array;
  private readonly m: SnMessage;
  private readonly hdr: Uint8Array;

  constructor(o: SerialDatagramOptions) {
    const max = o.maxPacket || 256;
    this.s = o.stream;
    this.max = max;
    this.rx = new ByteRing(2 * max);
    this.tx = new ByteRing(2 * max);
    this.cand = new Uint8Array(max);
    this.m = new SnMessage();
    this.hdr = new Uint8Array(3);
    this.skipped = this.received = this.sent = 0;
    this.onReadable = o.onReadable || null;
    this.onWritable = o.onWritable || null;
    o.stream.onReadable = () => {
      if (this.onReadable) this.onReadable();
    };
    o.stream.onWritable = () => {
      this.flush();
      if (this.onWritable) this.onWritable();
    };
  }

  open(): number {
    this.rx.clear();
    this.tx.clear();
    return this.s.open();
  }

  close(): void {
    this.s.close();
  }

  state(): number {
    return this.s.state();
  }

  /** Always 0: the one peer on the line. */
  from(): number {
    return 0;
  }

  /**
   * The next whole message into `buf[off..]` (cut to `len`): its length, 0 when none has
   * arrived whole yet, or {@link Status.Closed} when the stream is gone and nothing is left.
   */
  recv(buf: Uint8Array, off: number, len: number): number {
    this.flush();
    const rx = this.rx;
    // Pull what the stream has into the ring (straight into its free span, no copy).
    for (;;) {
      const n = rx.writableLength();
      if (n === 0) break;
      const r = this.s.recv(rx.buf, rx.writableStart(), n);
      if (r <= 0) {
        if (r < 0 && rx.length === 0) return r;
        break;
      }
      rx.commitWrite(r);
    }
    for (;;) {
      const total = this.candidate();
      if (total === 0) return 0;
      if (total < 0) {
        rx.skip(1);
        this.skipped++;
        continue;
      }
      const c = this.cand;
      rx.peekInto(c, 0, total);
      if (decodeMessage(c, 0, total, this.m) !== total) {
        rx.skip(1);
        this.skipped++;
        continue;
      }
      rx.skip(total);
      this.received++;
      const n = total < len ? total : len;
      for (let i = 0; i < n; i++) buf[off + i] = c[i];
      return n;
    }
  }

  send(buf: Uint8Array, off: number, len: number): number {
    return this.sendTo(buf, off, len, 0, 0);
  }

  /** Queues one message for the line: `len`, 0 when the transmit ring has no room now, or a negative Status. */
  sendTo(buf: Uint8Array, off: number, len: number, _peer: number, _radius: number): number {
    if (off < 0 || len < 2 || off + len > buf.length || len > this.max) return Status.BadParameter;
    if (this.s.state() !== TransportState.Open) return this.s.state() === TransportState.Closed ? Status.Closed : Status.IllegalState;
    if (this.tx.free < len) {
      this.flush();
      if (this.tx.free < len) return 0;
    }
    this.tx.write(buf, off, len);
    this.sent++;
    this.flush();
    return len;
  }

  /** Hands queued octets to the stream until it takes no more. */
  private flush(): void {
    const tx = this.tx;
    while (tx.length > 0 && this.s.state() === TransportState.Open) {
      const r = this.s.send(tx.buf, tx.readableStart(), tx.readableLength());
      if (r <= 0) break;
      tx.skip(r);
    }
  }

  /**
   * Looks at the octets at the head of the receive ring: the Length of the message they start
   * (whole message buffered), 0 when more octets are needed, -1 when they cannot start one.
   */
  private candidate(): number {
    const rx = this.rx;
    const h = this.hdr;
    const avail = rx.length;
    if (avail === 0) return 0;
    const k = avail < 3 ? avail : 3;
    rx.peekInto(h, 0, k);
    const total = readLength(h, 0, k);
    if (total === Status.NeedMoreBytes) return 0;
    if (!(total >= 2 && total <= this.max)) return -1;
    const hl = h[0] === 1 ? 4 : 2;
    if (avail < hl) return 0;
    if (total < hl || !knownType(rx.peek(hl - 1))) return -1;
    return avail < total ? 0 : total;
  }
}
