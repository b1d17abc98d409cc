/**
 * The far side of an XBee transport in tests: plays the local radio on the other end of a PTY.
 * It decodes the Transmit Requests (0x10) the transport writes and injects Receive Packets
 * (0x90), Transmit Status (0x8B), Modem Status (0x8A) and raw bytes, framed with the codec.
 */
import { XBeeFrame, XBeeFrameDecoder, encodeXBeeFrame, xbeeFrameSize } from '../../../gateway/transports/xbee-frame';
import type { PtyPeer } from '../../support/pty';

/** A Transmit Request the transport sent. */
export interface SentRequest {
  frameId: number;
  /** 64-bit destination, 16 upper-case hex digits. */
  dest64: string;
  dest16: number;
  radius: number;
  options: number;
  payload: Uint8Array;
}

/** Parses 16 hex digits into 8 octets. */
export function addr64(hex: string): Uint8Array {
  return Uint8Array.from(Buffer.from(hex, 'hex'));
}

/** The radio at the far end of the PTY. */
export class XBeeRadioSim {
  private readonly decoder: XBeeFrameDecoder;
  private readonly frame = new XBeeFrame();
  /** Requests decoded and not yet taken. */
  readonly requests: SentRequest[] = [];
  /** Frames of other types the transport wrote (it should write none). */
  readonly otherFrames: number[] = [];

  constructor(readonly peer: PtyPeer, readonly escaped: boolean) {
    this.decoder = new XBeeFrameDecoder({ escaped, maxFrameLength: 1024 });
  }

  /** Encodes `frameData` as an API frame in this radio's mode. */
  frame0(frameData: Uint8Array): Uint8Array {
    const size = xbeeFrameSize(frameData, 0, frameData.length, this.escaped);
    const out = new Uint8Array(size);
    encodeXBeeFrame(frameData, 0, frameData.length, this.escaped, out, 0);
    return out;
  }

  /** Frame data of a Receive Packet from `from64` carrying `payload`. */
  static receivePacket(from64: string, payload: Uint8Array, from16 = 0x1234, options = 0x01): Uint8Array {
    return Uint8Array.from([0x90, ...addr64(from64), from16 >> 8, from16 & 0xff, options, ...payload]);
  }

  /** Writes a Receive Packet from `from64` carrying `payload`. */
  receive(from64: string, payload: Uint8Array): Promise<void> {
    return this.peer.write(this.frame0(XBeeRadioSim.receivePacket(from64, payload)));
  }

  /** Writes a Transmit Status for `frameId`. */
  txStatus(frameId: number, delivery: number, retries = 0, to16 = 0x1234): Promise<void> {
    return this.peer.write(this.frame0(Uint8Array.of(0x8b, frameId, to16 >> 8, to16 & 0xff, retries, delivery, 0x00)));
  }

  /** Writes a Modem Status. */
  modemStatus(status: number): Promise<void> {
    return this.peer.write(this.frame0(Uint8Array.of(0x8a, status)));
  }

  /** Writes raw octets. */
  raw(bytes: Uint8Array): Promise<void> {
    return this.peer.write(bytes);
  }

  /** The next Transmit Request to `dest64` (others stay queued), within `timeoutMs`. */
  async nextRequest(dest64: string | null, timeoutMs: number): Promise<SentRequest> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const i = this.requests.findIndex((r) => dest64 === null || r.dest64 === dest64.toUpperCase());
      if (i >= 0) return this.requests.splice(i, 1)[0]!;
      const left = deadline - Date.now();
      if (left <= 0) {
        throw new Error(`timed out after ${timeoutMs} ms waiting for a Transmit Request to ${dest64 ?? 'anyone'}; queued: ${this.requests.map((r) => r.dest64).join(', ') || 'none'}`);
      }
      const chunk = await this.peer.takeWhen('XBee frame octets', (b) => (b.length > 0 ? b.length : undefined), left).catch(() => null);
      if (chunk) this.decode(chunk);
    }
  }

  private decode(chunk: Uint8Array): void {
    let off = 0;
    while (off < chunk.length) {
      off += this.decoder.push(chunk, off, chunk.length - off);
      for (let r = this.decoder.next(this.frame); r !== 0; r = this.decoder.next(this.frame)) {
        if (r < 0) throw new Error(`the transport wrote a bad API frame (status ${r})`);
        const f = this.frame;
        const d = f.data.subarray(f.offset, f.offset + f.length);
        if (d[0] !== 0x10) {
          this.otherFrames.push(d[0]!);
          continue;
        }
        this.requests.push({
          frameId: d[1]!,
          dest64: Buffer.from(d.subarray(2, 10)).toString('hex').toUpperCase(),
          dest16: (d[10]! << 8) | d[11]!,
          radius: d[12]!,
          options: d[13]!,
          payload: d.slice(14),
        });
      }
    }
  }
}
