/**
 * mqttsn › SerialDatagramTransport: raw MQTT-SN framing over a byte stream (messages
 * framed only by their own Length, as mqtt-sn-tools' serial bridge). First over an in-memory
 * stream the test controls octet by octet, then over a real socat pseudo-terminal pair with
 * the Node serial adapter, the way the simulator attaches a node to a gateway's serial port.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Status } from '../../src/core/status';
import { MsgType, SnMessage, decodeMessage } from '../../src/mqttsn';
import { TransportState, type Transport } from '../../src/transport';
import { NodeSerialTransport } from '../../firmware-sim/node-serial';
import { SerialDatagramTransport } from '../../src/mqttsn/serial-datagram';
import { requirePeer } from '../support/peers';
import { PtyPeer, createPtyPair, socatPath, type PtyPair } from '../support/pty';
import { encode } from '../mqttsn-client/harness';

/** A byte stream whose input the test feeds and whose send capacity it limits. */
class MemoryStream implements Transport {
  input: number[] = [];
  /** Octets `send` takes before it says "full" (Infinity: all). */
  room = Infinity;
  written: number[] = [];
  st: number = TransportState.Open;
  onReadable: (() => void) | null = null;
  onWritable: (() => void) | null = null;
  /** Largest chunk `recv` returns at once. */
  chunk = Infinity;
  open(): number {
    this.st = TransportState.Open;
    return 0;
  }
  close(): void {
    this.st = TransportState.Closed;
  }
  state(): number {
    return this.st;
  }
  recv(buf: Uint8Array, off: number, len: number): number {
    const n = Math.min(len, this.input.length, this.chunk);
    if (n === 0) return this.st === TransportState.Closed ? Status.Closed : 0;
    for (let i = 0; i < n; i++) buf[off + i] = this.input.shift()!;
    return n;
  }
  send(buf: Uint8Array, off: number, len: number): number {
    const n = Math.min(len, this.room);
    this.room -= n;
    for (let i = 0; i < n; i++) this.written.push(buf[off + i]!);
    return n;
  }
}

const connack = encode({ type: MsgType.CONNACK, returnCode: 0 });
const pingresp = encode({ type: MsgType.PINGRESP });
const publish = (text: string) => encode({ type: MsgType.PUBLISH, qos: 1, topicId: 5, msgId: 9, text });

/** Every message `t.recv` returns now. */
function drain(t: SerialDatagramTransport): Uint8Array[] {
  const out: Uint8Array[] = [];
  const buf = new Uint8Array(1024);
  for (;;) {
    const n = t.recv(buf, 0, buf.length);
    if (n <= 0) return out;
    out.push(buf.slice(0, n));
  }
}

function make(maxPacket?: number): { s: MemoryStream; t: SerialDatagramTransport } {
  const s = new MemoryStream();
  const t = new SerialDatagramTransport({ stream: s, ...(maxPacket ? { maxPacket } : {}) });
  t.open();
  return { s, t };
}

describe('mqttsn › SerialDatagramTransport › receiving', () => {
  it('returns one whole message per recv, however the octets arrive', () => {
    const { s, t } = make();
    s.chunk = 1;
    const wire = [...connack, ...publish('21.5'), ...pingresp];
    const got: Uint8Array[] = [];
    for (const b of wire) {
      s.input.push(b);
      got.push(...drain(t));
    }
    expect(got).toEqual([connack, publish('21.5'), pingresp]);
    expect(t.skipped).toBe(0);
    expect(t.from()).toBe(0);
  });

  it('reads a message with the 3-octet Length (0x01 and two more octets)', () => {
    const { s, t } = make(512);
    const big = publish('x'.repeat(300));
    expect(big[0]).toBe(0x01);
    s.input.push(...big, ...connack);
    expect(drain(t)).toEqual([big, connack]);
  });

  it('skips garbage before and between messages and counts the octets skipped', () => {
    const { s, t } = make(16);
    // 0x00: an impossible Length; 0x05 0x03: Length 5 with the reserved MsgType 0x03;
    // 0x03 0x17 0x00: a PINGRESP cannot be 3 octets long (it does not decode); 0x17, 0xff: Lengths above maxPacket.
    const garbage1 = [0x00, 0x05, 0x03, 0x03, 0x17, 0x00];
    const garbage2 = [0xff, 0x00];
    s.input.push(...garbage1, ...connack, ...garbage2, ...pingresp);
    expect(drain(t)).toEqual([connack, pingresp]);
    expect(t.skipped).toBe(garbage1.length + garbage2.length);
  });

  it('garbage that reads as a plausible Length holds the messages behind it until that many octets are in, then loses none of them', () => {
    const { s, t } = make();
    // 0x10 0x00: a 16-octet ADVERTISE, as far as the header can tell.
    s.input.push(0x10, 0x00, ...connack, ...pingresp);
    expect(drain(t), 'waiting for 16 octets').toEqual([]);
    s.input.push(...connack, ...connack, ...connack);
    expect(drain(t)).toEqual([connack, pingresp, connack, connack, connack]);
    expect(t.skipped).toBe(2);
  });

  it('skips a Length above maxPacket at once instead of waiting for that many octets', () => {
    const { s, t } = make(64);
    s.input.push(0x80, ...connack);
    expect(drain(t)).toEqual([connack]);
    expect(t.skipped).toBe(1);
  });

  it('cuts a message to the caller\'s buffer and still consumes all of it', () => {
    const { s, t } = make();
    s.input.push(...publish('abcdef'), ...connack);
    const small = new Uint8Array(4);
    expect(t.recv(small, 0, 4)).toBe(4);
    expect(drain(t)).toEqual([connack]);
  });

  it('returns Closed once the stream is closed and nothing whole is left', () => {
    const { s, t } = make();
    s.input.push(...connack);
    s.close();
    expect(drain(t)).toEqual([connack]);
    expect(t.recv(new Uint8Array(16), 0, 16)).toBe(Status.Closed);
  });
});

describe('mqttsn › SerialDatagramTransport › sending', () => {
  it('writes each message whole and in order, for every peer handle, broadcast included', () => {
    const { s, t } = make();
    expect(t.sendTo(connack, 0, connack.length, 0, 0)).toBe(connack.length);
    expect(t.sendTo(pingresp, 0, pingresp.length, 0xffff, 1)).toBe(pingresp.length);
    expect(s.written).toEqual([...connack, ...pingresp]);
  });

  it('keeps what a slow stream did not take and hands it over on the next call, refusing a message with no room', () => {
    const { s, t } = make(16);
    const m = publish('123456'); // 13 octets; the transmit ring holds 32
    s.room = 5;
    expect(t.send(m, 0, m.length)).toBe(m.length);
    expect(t.send(m, 0, m.length)).toBe(m.length);
    expect(t.send(m, 0, m.length), 'no room for a third: try later').toBe(0);
    expect(s.written.length).toBe(5);
    s.room = Infinity;
    t.recv(new Uint8Array(16), 0, 16); // any call drains the ring
    expect(s.written).toEqual([...m, ...m]);
  });

  it('refuses to send on a closed stream', () => {
    const { s, t } = make();
    s.close();
    expect(t.send(connack, 0, connack.length)).toBe(Status.Closed);
  });
});

const runPty = requirePeer('socat', socatPath() !== null, 'install socat (apt-get install socat) for the serial-line tests');

describe.skipIf(!runPty)('mqttsn › SerialDatagramTransport over a socat PTY pair (NodeSerialTransport)', () => {
  let pair: PtyPair;
  beforeAll(async () => {
    pair = await createPtyPair();
  });
  afterAll(async () => {
    await pair?.close();
  });

  it('sends bare MQTT-SN messages down the line and frames what comes back, garbage and split writes included', async () => {
    const peer = await PtyPeer.open(pair.peerEnd);
    const line = new NodeSerialTransport({ path: pair.transportEnd, baudRate: 9600 });
    let readable!: () => void;
    const t = new SerialDatagramTransport({ stream: line, onReadable: () => readable?.() });
    try {
      t.open();
      await line.ready();
      expect(t.state()).toBe(TransportState.Open);
      const connect = encode({ type: MsgType.CONNECT, cleanSession: true, duration: 30, text: 'pty-node' });
      expect(t.send(connect, 0, connect.length)).toBe(connect.length);
      expect(await peer.take(connect.length, 2000)).toEqual(connect);

      // The gateway's answer, with line noise in front and written in two pieces.
      const answer = [0x00, 0x05, 0x03, ...connack, ...publish('19.5')];
      const got: Uint8Array[] = [];
      const arrived = new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`only ${got.length} message(s) framed`)), 2000);
        readable = () => {
          got.push(...drain(t));
          if (got.length >= 2) {
            clearTimeout(timer);
            resolve();
          }
        };
      });
      await peer.write(Uint8Array.from(answer.slice(0, 4)));
      await peer.write(Uint8Array.from(answer.slice(4)));
      await arrived;
      expect(got).toEqual([connack, publish('19.5')]);
      expect(t.skipped).toBe(3);
      const m = new SnMessage();
      expect(decodeMessage(got[1]!, 0, got[1]!.length, m)).toBe(got[1]!.length);
      expect(m.msgId).toBe(9);
    } finally {
      await line.closed();
      await peer.close();
    }
  });
});
