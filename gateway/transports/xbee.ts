/**
 * MQTT-SN over XBee ZigBee radios in API mode 1 or 2: the {@link SensorTransport} on a
 * {@link SerialLine}. Inbound, Receive Packet frames (0x90) carry one MQTT-SN message each, from
 * the sender's 64-bit address; outbound, Transmit Requests (0x10) go to that 64-bit address with
 * the 16-bit address "unknown" (0xFFFE), so the radio resolves it (the 16-bit one changes when a
 * node rejoins). Transmit Status frames (0x8B) that report a failed delivery become
 * `onError('delivery', …)`.
 */
import { Status, statusName } from '../../src/core/status';
import {
  XBEE_DELIVERY_SUCCESS,
  XBEE_UNKNOWN_16,
  XBeeApiFrame,
  XBeeFrameType,
  address64Equal,
  address64Key,
  decodeXBeeApi,
  encodeTransmitRequest,
  type XBeeTransmitRequest,
} from './xbee-api';
import { XBeeFrame, XBeeFrameDecoder, encodeXBeeFrame, xbeeFrameSize } from './xbee-frame';
import { SerialLine, type ReopenPolicy } from './serial';
import { snFramingError } from './udp';
import { headerLength, readLength } from '../../src/mqttsn/header';
import { MsgType } from '../../src/mqttsn/constants';
import { handOver, type SensorTransport } from './transport';

/**
 * Default MTU of an XBee ZigBee link, octets: 66. The largest RF payload a ZigBee transmission
 * carries unfragmented (`ATNP`) is 84 octets without security and 66 with network encryption
 * (EE=1); broadcasts are never fragmented. 66 goes through in one piece either way. Set `mtu` to
 * your radios' `ATNP` value (lower with APS encryption or source routing).
 */
export const XBEE_DEFAULT_MTU = 66;

/** The 64-bit broadcast address, 0x000000000000FFFF. */
const BROADCAST_64 = Uint8Array.of(0, 0, 0, 0, 0, 0, 0xff, 0xff);

/** Largest frame data accepted inbound: a Receive Packet header (12) plus 255 octets of (fragmented) RF data. */
const MAX_INBOUND_FRAME = 12 + 255;

/**
 * A transparent-mode node's stream: the most nodes with a part message waiting (each part is
 * shorter than the MTU), and how long a part waits for the rest (ms).
 */
const STREAM_MAX_NODES = 64;
const STREAM_GAP_MS = 1000;

/** Options of {@link XBeeSensorTransport}. */
export interface XBeeTransportOptions {
  /** Device path of the XBee (USB adapter or UART). */
  path: string;
  /** Baud rate (the radio's `ATBD`); default 9600. */
  baud?: number;
  /** API mode (the radio's `ATAP`): 1 unescaped, 2 escaped; default 2. */
  apiMode?: 1 | 2;
  /** Largest MQTT-SN message sent, octets; default {@link XBEE_DEFAULT_MTU}. */
  mtu?: number;
  /** Transport name; default `xbee`. */
  name?: string;
  /** Config key of the path, for errors; default `xbee.path`. */
  configKey?: string;
  /** Write queue bound, octets; default two seconds of line time (see `defaultWriteQueueBytes`). */
  maxQueuedBytes?: number;
  /** Reopen back-off when the device disappears. */
  reopen?: ReopenPolicy;
  /** Device presence check interval, ms; default 1,000 (see `SerialLineOptions.presenceCheckMs`). */
  presenceCheckMs?: number;
  /** Clock for how long a transparent-mode node's part message waits (ms); default `Date.now`. */
  now?: () => number;
}

/** The start of a message a transparent-mode node's radio cut at its maximum payload, waiting for the rest. */
interface PartMessage {
  bytes: Uint8Array;
  /** When it came (the transport's clock). */
  at: number;
}

/** Delivery status names of the Transmit Status frame (Digi XBee Zigbee User Guide, 0x8B). */
const DELIVERY_STATUS: Record<number, string> = {
  0x01: 'MAC ACK failure',
  0x02: 'CCA failure',
  0x15: 'invalid destination endpoint',
  0x21: 'network ACK failure',
  0x22: 'not joined to network',
  0x23: 'self-addressed',
  0x24: 'address not found',
  0x25: 'route not found',
  0x26: 'broadcast relay not heard',
  0x2b: 'invalid binding table index',
  0x2c: 'resource error',
  0x2d: 'attempted broadcast with APS transmission',
  0x2e: 'attempted unicast with APS transmission, but EE=0',
  0x32: 'resource error',
  0x74: 'data payload too large',
  0x75: 'indirect message unrequested',
};

/** Modem status values worth a log line (the rest, e.g. 2 "joined", are normal operation). */
const MODEM_TROUBLE: Record<number, string> = {
  0x00: 'hardware reset',
  0x01: 'watchdog timer reset',
  0x03: 'disassociated from the network',
  0x0d: 'voltage supply limit exceeded',
};

/**
 * The XBee sensor transport. Addresses are the sender's 64-bit address as 16 upper-case hex
 * digits (`0013A20040A1B2C3`); `send` also takes lower case. `broadcast(bytes, radius)` sends to
 * 0x000000000000FFFF with that radius (hops; 0 = network maximum).
 *
 * Nodes whose radio is in transparent mode (`AP=0`, an Espruino Pico with an XBee, say) send
 * a byte stream, not messages: their radio fills an RF packet with what the UART gave it, up to
 * its maximum payload. So RF data holding several whole MQTT-SN messages is split into them (a
 * forwarder's encapsulation, MQTT-SN 1.2 §5.5, with the message it carries), and when RF data
 * of at least `mtu` octets (a packet the radio filled) ends inside a message, that start waits
 * up to 1 s for the rest in the node's next RF data (at most 64 nodes wait). Shorter RF data
 * that does not end on a message boundary is dropped, as from a node in API mode, which sends
 * one message per RF packet; so is a Length over `mtu`, which the gateway would not take.
 *
 * Inbound problems are reported and skipped: garbage between frames and frames with a bad
 * length (`'framing'`), bad checksums (`'checksum'`), RF data that is not whole MQTT-SN messages
 * (`'framing'`), a part message whose rest never came (`'framing'`), frame types other than 0x90 / 0x8B / 0x8A (`'framing'`, with a hint for 0x91,
 * which a radio with `ATAO` ≠ 0 sends); troubling modem statuses (`'io'`).
 *
 * @example
 * ```ts
 * const xbee = new XBeeSensorTransport({ path: '/dev/ttyUSB0', baud: 9600, apiMode: 2 });
 * xbee.onPacket = (bytes, from) => gateway.handle(xbee, bytes, from); // from: '0013A20040A1B2C3'
 * await xbee.start();
 * ```
 */
export class XBeeSensorTransport implements SensorTransport {
  readonly name: string;
  readonly mtu: number;
  onPacket: ((bytes: Uint8Array, address: string) => void) | null = null;
  onError: ((kind: string, detail: string) => void) | null = null;

  private readonly path: string;
  private readonly escaped: boolean;
  private readonly line: SerialLine;
  private readonly decoder: XBeeFrameDecoder;
  private readonly frame = new XBeeFrame();
  private readonly api = new XBeeApiFrame();
  /** Frame data of the last Transmit Request, then the frame built in place (worst case all escaped). */
  private readonly tx: Uint8Array;
  private readonly dest = new Uint8Array(8);
  private readonly req: XBeeTransmitRequest;
  private frameId = 0;
  /** Destination of each outstanding frame id, for naming it in delivery errors. */
  private readonly sentTo: string[] = new Array<string>(256).fill('');
  /** Cache of the last sender's address, so a chatty node costs no string per packet. */
  private readonly lastAddr = new Uint8Array(8);
  private lastKey = '';
  private lastGarbage = 0;
  private lastBadChecksum = 0;
  /** Transparent-mode nodes' part messages, by address (at most {@link STREAM_MAX_NODES}). */
  private readonly parts = new Map<string, PartMessage>();
  private readonly now: () => number;

  constructor(options: XBeeTransportOptions) {
    this.name = options.name ?? 'xbee';
    this.path = options.path;
    this.escaped = (options.apiMode ?? 2) === 2;
    this.now = options.now ?? Date.now;
    const mtu = options.mtu ?? XBEE_DEFAULT_MTU;
    this.mtu = Number.isInteger(mtu) && mtu >= 2 && mtu <= 255 ? mtu : XBEE_DEFAULT_MTU;
    this.decoder = new XBeeFrameDecoder({ escaped: this.escaped, maxFrameLength: MAX_INBOUND_FRAME });
    this.tx = new Uint8Array(2 * (14 + this.mtu + 4));
    this.req = { frameId: 0, dest64: this.dest, dest16: XBEE_UNKNOWN_16, radius: 0, options: 0, payload: this.tx };
    this.line = new SerialLine({
      path: options.path,
      baudRate: options.baud ?? 9600,
      name: this.name,
      configKey: options.configKey ?? 'xbee.path',
      maxQueuedBytes: options.maxQueuedBytes,
      reopen: options.reopen,
      presenceCheckMs: options.presenceCheckMs,
      onData: (chunk) => this.input(chunk),
      onError: (kind, detail) => this.error(kind, detail),
      onReopen: () => this.resetInput(),
    });
  }

  /** Opens the device. @throws Error naming the path when it is missing or cannot be opened. */
  async start(): Promise<void> {
    if (!this.line.isOpen) this.resetInput();
    await this.line.start();
  }

  /** Closes the device; idempotent. */
  stop(): Promise<void> {
    return this.line.stop();
  }

  /**
   * Sends `bytes` in a Transmit Request to the 64-bit `address` (16 hex digits). Returns false
   * for a malformed address, a message over the MTU, a closed line or a full write queue.
   * Delivery failures come later as `onError('delivery', …)`.
   */
  send(bytes: Uint8Array, address: string): boolean {
    if (!parseAddress64(address, this.dest)) return false;
    return this.transmit(bytes, 0, address.toUpperCase());
  }

  /** Sends `bytes` to every node (0x000000000000FFFF) within `radius` hops (0 = network maximum). */
  broadcast(bytes: Uint8Array, radius: number): boolean {
    this.dest.set(BROADCAST_64);
    const r = Number.isInteger(radius) && radius >= 0 && radius <= 255 ? radius : 0;
    return this.transmit(bytes, r, 'broadcast');
  }

  private transmit(bytes: Uint8Array, radius: number, label: string): boolean {
    if (bytes.length < 2 || bytes.length > this.mtu || !this.line.isOpen) return false;
    this.frameId = this.frameId >= 255 ? 1 : this.frameId + 1;
    const req = this.req;
    req.frameId = this.frameId;
    req.radius = radius;
    req.payload = bytes;
    req.payloadLength = bytes.length;
    const tx = this.tx;
    const end = encodeTransmitRequest(req, tx, 3);
    req.payload = tx; // drop the caller's buffer
    if (end < 0) return false;
    const size = xbeeFrameSize(tx, 3, end - 3, this.escaped);
    if (size < 0 || size > tx.length) return false;
    encodeXBeeFrame(tx, 3, end - 3, this.escaped, tx, 0);
    if (!this.line.write(tx.subarray(0, size))) return false; // write copies
    this.sentTo[this.frameId] = label;
    return true;
  }

  private resetInput(): void {
    this.decoder.reset();
    if (this.parts.size > 0) {
      const n = this.parts.size;
      this.parts.clear();
      this.error('framing', `${this.name}: dropped the first part of a message from ${n} node${n === 1 ? '' : 's'}: ${this.path} was reopened`);
    }
    this.lastGarbage = 0;
    this.lastBadChecksum = 0;
  }

  private input(chunk: Uint8Array): void {
    const dec = this.decoder;
    const frame = this.frame;
    let off = 0;
    while (off < chunk.length) {
      const n = dec.push(chunk, off, chunk.length - off);
      if (n <= 0) break; // cannot happen: next() below always frees the ring
      off += n;
      for (let r = dec.next(frame); r !== 0; r = dec.next(frame)) {
        this.flushGarbage();
        if (r > 0) this.handleFrame(frame.data, frame.offset, frame.length);
        else this.dropped(r);
      }
    }
    this.flushGarbage();
  }

  private dropped(status: number): void {
    const s = this.decoder.stats;
    if (status === Status.TooLarge) {
      this.error('framing', `${this.name}: dropped an API frame on ${this.path} whose length exceeds ${MAX_INBOUND_FRAME} octets`);
    } else if (this.lastBadChecksum !== s.badChecksum) {
      this.lastBadChecksum = s.badChecksum;
      this.error('checksum', `${this.name}: dropped an API frame on ${this.path} with a bad checksum${this.escaped ? '' : ' (is the radio in API mode 2? set apiMode to match ATAP)'}`);
    } else {
      this.error('framing', `${this.name}: dropped a malformed API frame on ${this.path} (${statusName(status)}: zero length or cut short)`);
    }
  }

  private flushGarbage(): void {
    const total = this.decoder.stats.garbageBytes;
    if (total === this.lastGarbage) return;
    const n = total - this.lastGarbage;
    this.lastGarbage = total;
    this.error('framing', `${this.name}: skipped ${n} octet${n === 1 ? '' : 's'} on ${this.path} outside API frames (is the radio in API mode? ATAP must be ${this.escaped ? 2 : 1})`);
  }

  private handleFrame(data: Uint8Array, off: number, len: number): void {
    const api = this.api;
    const type = decodeXBeeApi(data, off, len, api);
    if (type === XBeeFrameType.ReceivePacket) {
      const address = this.addressOf(data, api.address64Offset);
      const p = api.payloadOffset;
      const n = api.payloadLength;
      const part = this.parts.size > 0 ? this.parts.get(address) : undefined;
      if (part !== undefined) {
        // The rest of a message this node's radio cut (transparent mode): joined, then split.
        this.parts.delete(address);
        if (this.now() - part.at <= STREAM_GAP_MS) {
          const joined = new Uint8Array(part.bytes.length + n);
          joined.set(part.bytes);
          joined.set(data.subarray(p, p + n), part.bytes.length);
          return this.stream(joined, 0, joined.length, n >= this.mtu, true, address);
        }
        this.error('framing', `${this.name}: dropped the first ${part.bytes.length} octets of a message from ${address}: the rest did not come within ${STREAM_GAP_MS} ms`);
      }
      if (snFramingError(data, p, n) === null) return this.deliver(data.subarray(p, p + n), address);
      this.stream(data, p, n, n >= this.mtu, false, address);
    } else if (type === XBeeFrameType.TransmitStatus) {
      if (api.deliveryStatus === XBEE_DELIVERY_SUCCESS) return;
      const to = this.sentTo[api.frameId] || `frame id ${api.frameId}`;
      const what = DELIVERY_STATUS[api.deliveryStatus] ?? 'unknown status';
      this.error(
        'delivery',
        `${this.name}: delivery to ${to} failed: ${what} (0x${hex2(api.deliveryStatus)}) after ${api.retryCount} retr${api.retryCount === 1 ? 'y' : 'ies'}`,
      );
    } else if (type === XBeeFrameType.ModemStatus) {
      const what = MODEM_TROUBLE[api.modemStatus];
      if (what !== undefined) this.error('io', `${this.name}: radio on ${this.path} reports ${what} (modem status 0x${hex2(api.modemStatus)})`);
    } else if (type === Status.Unsupported) {
      const hint = api.type === 0x91 ? ' (Explicit Rx Indicator: set ATAO=0 on the radio)' : '';
      this.error('framing', `${this.name}: ignored API frame type 0x${hex2(api.type)} on ${this.path}${hint}`);
    } else {
      this.error('framing', `${this.name}: dropped a short API frame of type 0x${hex2(api.type)} on ${this.path} (${statusName(type)})`);
    }
  }

  /**
   * RF data `buf[off..off+len)` from `address` that is not exactly one message (`joined`: it
   * begins with a part kept from the node's RF data before): the MQTT-SN messages back to back
   * in it (MQTT-SN 1.2 §5.2.1 Length; a forwarder-encapsulated one, §5.5, with the message it
   * carries) are delivered in order. When it ends inside a message and `cut` (the radio filled
   * its maximum payload), that start is kept for the node's next RF data; otherwise, or at a
   * Length that is impossible or over the MTU, the rest is dropped and reported.
   */
  private stream(buf: Uint8Array, off: number, len: number, cut: boolean, joined: boolean, address: string): void {
    const end = off + len;
    let i = off;
    while (i < end) {
      const unit = this.unitLength(buf, i, end - i);
      if (unit === Status.NeedMoreBytes && cut) return this.keep(buf.slice(i, end), address);
      if (unit < 0) {
        const total = readLength(buf, i, end - i);
        const why =
          unit === Status.TooLarge ? `its Length is over the MTU of ${this.mtu}`
          : unit === Status.Malformed ? 'its Length field is invalid'
          : total > 0 ? `its Length field says ${total} octets, ${end - i} are here`
          : 'its Length field is cut short';
        const what = joined ? `${len} octets of RF data joined with the part before` : `${len} octets of RF data`;
        return this.error('framing', i === off
          ? `${this.name}: dropped ${what} from ${address}: not one MQTT-SN message (${why})`
          : `${this.name}: dropped the last ${end - i} of ${what} from ${address}: not a whole MQTT-SN message (${why})`);
      }
      this.deliver(buf.subarray(i, i + unit), address);
      i += unit;
    }
  }

  /**
   * Octets of the message at `buf[i]`, `n` of them there: its Length (MQTT-SN 1.2 §5.2.1), or
   * for a forwarder's encapsulation (MsgType 0xFE, §5.5) that header's Length plus the Length of
   * the message after it. {@link Status.NeedMoreBytes} when it goes on past `n`,
   * {@link Status.TooLarge} over the MTU (the gateway takes nothing larger), or
   * {@link Status.Malformed}.
   */
  private unitLength(buf: Uint8Array, i: number, n: number): number {
    const total = readLength(buf, i, n);
    if (total < 0) return total;
    if (total > this.mtu) return Status.TooLarge;
    const h = headerLength(buf, i);
    if (n < h) return Status.NeedMoreBytes;
    if (buf[i + h - 1] !== MsgType.ENCAPSULATED) return total > n ? Status.NeedMoreBytes : total;
    if (total < 3) return Status.Malformed; // Length, MsgType, Ctrl at least
    if (n <= total) return Status.NeedMoreBytes;
    const inner = readLength(buf, i + total, n - total);
    if (inner < 0) return inner;
    if (total + inner > this.mtu) return Status.TooLarge;
    return total + inner > n ? Status.NeedMoreBytes : total + inner;
  }

  /** Keeps the start of a message from `address` until its next RF data (at most {@link STREAM_MAX_NODES} nodes: the oldest goes). */
  private keep(bytes: Uint8Array, address: string): void {
    if (this.parts.size >= STREAM_MAX_NODES) {
      const [oldest, part] = this.parts.entries().next().value as [string, PartMessage];
      this.parts.delete(oldest);
      this.error('framing', `${this.name}: dropped the first ${part.bytes.length} octets of a message from ${oldest}: ${STREAM_MAX_NODES} nodes already wait for the rest of one`);
    }
    this.parts.set(address, { bytes, at: this.now() });
  }

  private deliver(bytes: Uint8Array, address: string): void {
    const threw = handOver(this, bytes, address);
    if (threw !== null) this.error('io', threw);
  }

  /** The 16-hex-digit upper-case address at `buf[off..off+8)`; cached for the last sender. */
  private addressOf(buf: Uint8Array, off: number): string {
    if (this.lastKey !== '' && address64Equal(buf, off, this.lastAddr, 0)) return this.lastKey;
    this.lastAddr.set(buf.subarray(off, off + 8));
    this.lastKey = address64Key(buf, off).toUpperCase();
    return this.lastKey;
  }

  private error(kind: string, detail: string): void {
    const cb = this.onError;
    if (cb === null) return;
    try {
      cb(kind, detail);
    } catch {
      // ignore a throwing sink
    }
  }
}

/** Parses 16 hex digits into `out[0..8)`; false when `address` is not exactly that. */
export function parseAddress64(address: string, out: Uint8Array): boolean {
  if (!/^[0-9a-fA-F]{16}$/.test(address)) return false;
  for (let i = 0; i < 8; i++) out[i] = parseInt(address.slice(2 * i, 2 * i + 2), 16);
  return true;
}

function hex2(n: number): string {
  return n.toString(16).toUpperCase().padStart(2, '0');
}
