import { describe, expect, it } from 'vitest';
import { Status } from '../../../src/core/status';
import {
  TRANSMIT_REQUEST_HEADER,
  XBeeApiFrame,
  XBeeFrameType,
  address64Equal,
  address64Key,
  decodeXBeeApi,
  encodeTransmitRequest,
  transmitRequestSize,
  type XBeeTransmitRequest,
} from '../../../gateway/transports/xbee-api';
import { XBeeFrame, XBeeFrameDecoder, encodeXBeeFrame } from '../../../gateway/transports/xbee-frame';
import { fromHex, normHex, prng, toHex } from './helpers';
import { xbeeVectors } from './xbee-vectors';

/** Frame data of a Digi vector, by name prefix. */
function dataOf(prefix: string, nth = 0): Uint8Array {
  const v = xbeeVectors.filter((x) => x.name.startsWith(prefix))[nth];
  const b = fromHex(v.mode1);
  return b.subarray(3, b.length - 1);
}
const ascii = (s: string) => Uint8Array.from(s, (c) => c.charCodeAt(0));
const text = (b: Uint8Array, off: number, len: number) => String.fromCharCode(...b.subarray(off, off + len));

describe('decodeXBeeApi › Digi example frames', () => {
  it('Receive Packet 0x90 › reads 64-bit and 16-bit source, options and RF data', () => {
    const d = dataOf('Receive Packet');
    const out = new XBeeApiFrame();
    expect(decodeXBeeApi(d, 0, d.length, out)).toBe(XBeeFrameType.ReceivePacket);
    expect(address64Key(out.data, out.address64Offset)).toBe('0013a20040522baa');
    expect(out.address16).toBe(0x7d84);
    expect(out.options).toBe(0x01);
    expect(text(out.data, out.payloadOffset, out.payloadLength)).toBe('RxData');
  });
  it('Receive Packet 0x90 › reads the SX 868 example (16-bit 0xFFFE, options 0xC1)', () => {
    const d = dataOf('Receive Packet', 1);
    const out = new XBeeApiFrame();
    expect(decodeXBeeApi(d, 0, d.length, out)).toBe(0x90);
    expect(address64Key(out.data, out.address64Offset)).toBe('0013a20041aeb54e');
    expect(out.address16).toBe(0xfffe);
    expect(out.options).toBe(0xc1);
    expect(text(out.data, out.payloadOffset, out.payloadLength)).toBe('TxData');
  });
  it('Receive Packet 0x90 › gives offsets into the buffer it was handed', () => {
    const d = dataOf('Receive Packet');
    const buf = new Uint8Array(d.length + 5);
    buf.set(d, 5);
    const out = new XBeeApiFrame();
    expect(decodeXBeeApi(buf, 5, d.length, out)).toBe(0x90);
    expect(out.data).toBe(buf);
    expect(out.address64Offset).toBe(6);
    expect(out.payloadOffset).toBe(17);
    expect(out.payloadLength).toBe(6);
  });
  it('Transmit Status 0x8B › reads frame id, 16-bit address, retries, delivery and discovery', () => {
    const d = dataOf('Transmit Status');
    const out = new XBeeApiFrame();
    expect(decodeXBeeApi(d, 0, d.length, out)).toBe(XBeeFrameType.TransmitStatus);
    expect([out.frameId, out.address16, out.retryCount, out.deliveryStatus, out.discoveryStatus]).toEqual([
      1, 0x7d84, 0, 0, 1,
    ]);
    expect(out.payloadOffset).toBe(-1);
    expect(out.address64Offset).toBe(-1);
  });
  it.each([
    ['coordinator started', 0, 0x06],
    ['hardware reset', 1, 0x00],
  ])('Modem Status 0x8A › reads %s', (_n, nth, status) => {
    const d = dataOf('Modem Status', nth);
    const out = new XBeeApiFrame();
    expect(decodeXBeeApi(d, 0, d.length, out)).toBe(XBeeFrameType.ModemStatus);
    expect(out.modemStatus).toBe(status);
  });
  it('resets fields left by an earlier decode', () => {
    const out = new XBeeApiFrame();
    const rx = dataOf('Receive Packet');
    decodeXBeeApi(rx, 0, rx.length, out);
    const ms = dataOf('Modem Status');
    decodeXBeeApi(ms, 0, ms.length, out);
    expect(out.payloadOffset).toBe(-1);
    expect(out.address16).toBe(0);
    expect(out.options).toBe(0);
  });
});

describe('decodeXBeeApi › rejects', () => {
  const out = new XBeeApiFrame();
  it.each([
    ['the escaping example type 0x23', '23 11'],
    ['Transmit Request 0x10 (outbound only)', toHex(dataOf('Transmit Request'))],
    ['AT Command Response 0x88', '88 01 4E 44 00'],
    ['Explicit Rx Indicator 0x91', '91 00 13 A2 00 40 52 2B AA 7D 84 E0 E0 22 11 C1 05 02 52'],
  ])('%s › Unsupported, type kept for logs', (_n, hex) => {
    const d = fromHex(hex);
    expect(decodeXBeeApi(d, 0, d.length, out)).toBe(Status.Unsupported);
    expect(out.type).toBe(d[0]);
  });
  for (const [name, prefix, min] of [
    ['Receive Packet', 'Receive Packet', 12],
    ['Transmit Status', 'Transmit Status', 7],
    ['Modem Status', 'Modem Status', 2],
  ] as const) {
    it(`${name} › Malformed when shorter than its fixed fields, at every length`, () => {
      const d = dataOf(prefix);
      for (let len = 1; len < min; len++) expect(decodeXBeeApi(d, 0, len, out)).toBe(Status.Malformed);
      expect(decodeXBeeApi(d, 0, min, out)).toBe(d[0]);
    });
  }
  it('Receive Packet with no RF data › decodes with an empty payload', () => {
    const d = dataOf('Receive Packet');
    expect(decodeXBeeApi(d, 0, 12, out)).toBe(0x90);
    expect(out.payloadLength).toBe(0);
  });
  it('empty frame data › Malformed', () => {
    expect(decodeXBeeApi(new Uint8Array(2), 1, 0, out)).toBe(Status.Malformed);
  });
  it('range outside the buffer › BadParameter', () => {
    expect(decodeXBeeApi(new Uint8Array(4), 2, 3, out)).toBe(Status.BadParameter);
    expect(decodeXBeeApi(new Uint8Array(4), -1, 2, out)).toBe(Status.BadParameter);
  });
  it('fuzz › 100k random frame data: never throws, statuses or known types, offsets inside', () => {
    const r = prng(0x90);
    const buf = new Uint8Array(40);
    const types = [0x90, 0x8b, 0x8a, 0x10, 0x88, 0x23];
    for (let i = 0; i < 100_000; i++) {
      const len = r() % 41;
      for (let k = 0; k < len; k++) buf[k] = r() & 0xff;
      if (len > 0 && r() % 2 === 0) buf[0] = types[r() % types.length];
      const res = decodeXBeeApi(buf, 0, len, out);
      if (res >= 0) {
        if (res !== 0x90 && res !== 0x8b && res !== 0x8a) throw new Error('type ' + res);
        if (res === 0x90 && out.payloadOffset + out.payloadLength !== len) throw new Error('payload range');
      } else if (res !== Status.Malformed && res !== Status.Unsupported) throw new Error('status ' + res);
    }
  });
});

describe('encodeTransmitRequest', () => {
  const digi: XBeeTransmitRequest = {
    frameId: 1,
    dest64: fromHex('0013A200400A0127'),
    dest16: 0xfffe,
    radius: 0,
    options: 0,
    payload: ascii('TxData0A'),
  };
  it("writes the frame data of Digi's Transmit Request example", () => {
    expect(transmitRequestSize(digi)).toBe(22);
    const buf = new Uint8Array(22);
    expect(encodeTransmitRequest(digi, buf, 0)).toBe(22);
    expect(toHex(buf)).toBe(toHex(dataOf('Transmit Request')));
  });
  it("writes the coordinator example's frame data (64-bit 0)", () => {
    const req = { ...digi, dest64: new Uint8Array(8), payload: ascii('Tx2Coord') };
    const buf = new Uint8Array(22);
    encodeTransmitRequest(req, buf, 0);
    expect(toHex(buf)).toBe(toHex(dataOf('Transmit Request', 1)));
  });
  for (const [mode, escaped, nth] of [
    ['mode 1', false, 'mode1'],
    ['mode 2', true, 'mode2'],
  ] as const) {
    it(`${mode} › framed in place, gives Digi's wire bytes`, () => {
      const tx = new Uint8Array(64);
      const n = encodeTransmitRequest(digi, tx, 3);
      const end = encodeXBeeFrame(tx, 3, n - 3, escaped, tx, 0);
      expect(toHex(tx, 0, end)).toBe(normHex(xbeeVectors[1][nth]));
    });
  }
  it('uses payload and dest64 offsets and lengths', () => {
    const addrs = fromHex('FFFF 0013A20040522BAA');
    const sn = fromHex('00 00 02 16 99');
    const req: XBeeTransmitRequest = {
      frameId: 0x52, dest64: addrs, dest64Offset: 2, dest16: 0x7d84, radius: 3, options: 0x20,
      payload: sn, payloadOffset: 2, payloadLength: 2,
    };
    const buf = new Uint8Array(TRANSMIT_REQUEST_HEADER + 2);
    expect(encodeTransmitRequest(req, buf, 0)).toBe(16);
    expect(toHex(buf)).toBe(normHex('10 52 0013A20040522BAA 7D84 03 20 02 16'));
  });
  it('round-trips through the frame decoder', () => {
    const tx = new Uint8Array(64);
    const end = encodeXBeeFrame(tx, 3, encodeTransmitRequest(digi, tx, 3) - 3, true, tx, 0);
    const dec = new XBeeFrameDecoder({ escaped: true });
    const f = new XBeeFrame();
    dec.push(tx, 0, end);
    expect(dec.next(f)).toBe(22);
    expect(f.type).toBe(XBeeFrameType.TransmitRequest);
  });
  it('refuses a buffer too small with NoMemory', () => {
    expect(encodeTransmitRequest(digi, new Uint8Array(21), 0)).toBe(Status.NoMemory);
    expect(encodeTransmitRequest(digi, new Uint8Array(22), 1)).toBe(Status.NoMemory);
  });
  it.each([
    ['frameId 256', { frameId: 256 }],
    ['radius -1', { radius: -1 }],
    ['options 1.5', { options: 1.5 }],
    ['dest16 0x10000', { dest16: 0x10000 }],
    ['dest64 of 7 octets', { dest64: new Uint8Array(7) }],
    ['dest64Offset past the end', { dest64Offset: 1 }],
    ['payload range past the end', { payloadOffset: 4, payloadLength: 5 }],
  ])('refuses %s with BadParameter', (_n, patch) => {
    const req = { ...digi, ...patch } as XBeeTransmitRequest;
    expect(transmitRequestSize(req)).toBe(Status.BadParameter);
    expect(encodeTransmitRequest(req, new Uint8Array(64), 0)).toBe(Status.BadParameter);
  });
  it('refuses frame data over 65535 octets with TooLarge', () => {
    expect(transmitRequestSize({ ...digi, payload: new Uint8Array(0xffff) })).toBe(Status.TooLarge);
  });
});

describe('64-bit address keys', () => {
  it('address64Key › 16 lowercase hex digits, MSB first', () => {
    expect(address64Key(fromHex('00 0013A20040522BAA'), 1)).toBe('0013a20040522baa');
    expect(address64Key(fromHex('FFFFFFFFFFFFFFFF'), 0)).toBe('ffffffffffffffff');
  });
  it('address64Key › is stable and distinct per address', () => {
    const a = fromHex('0013A20040522BAA');
    const b = fromHex('0013A20040522BAB');
    expect(address64Key(a, 0)).toBe(address64Key(a.slice(), 0));
    expect(address64Key(a, 0)).not.toBe(address64Key(b, 0));
  });
  it('address64Equal › compares in place', () => {
    const a = fromHex('AA 0013A20040522BAA');
    const b = fromHex('0013A20040522BAA');
    expect(address64Equal(a, 1, b, 0)).toBe(true);
    expect(address64Equal(a, 0, b, 0)).toBe(false);
  });
});
