import { describe, expect, it } from 'vitest';
import { Status, statusName } from '../../src/core/status';
import { decodeMessage } from '../../src/mqttsn/decode';
import { encodeMessage, messageSize } from '../../src/mqttsn/encode';
import {
  SnForwarderHeader,
  decodeForwarder,
  encodeForwarderHeader,
  forwarderHeaderSize,
} from '../../src/mqttsn/forwarder';
import { SnMessage } from '../../src/mqttsn/message';
import { snForwarderBadVectors, snForwarderVectors } from '../fixtures/mqttsn-vectors';
import { fromHex, normHex, toHex } from './helpers';

describe('decodeForwarder', () => {
  for (const v of snForwarderVectors) {
    describe(v.name, () => {
      it('reads radius, Wireless Node Id and the encapsulated message', () => {
        const buf = fromHex(v.hex);
        const out = new SnForwarderHeader();
        expect(decodeForwarder(buf, 0, buf.length, out)).toBe(Status.Ok);
        expect(out.radius).toBe(v.radius);
        expect(toHex(buf, out.nodeIdOffset, out.nodeIdOffset + out.nodeIdLength)).toBe(normHex(v.nodeId));
        expect(toHex(buf, out.messageOffset, out.messageOffset + out.messageLength)).toBe(normHex(v.inner));
      });
      it('leaves an inner message decodeMessage accepts', () => {
        const buf = fromHex(v.hex);
        const out = new SnForwarderHeader();
        decodeForwarder(buf, 0, buf.length, out);
        const m = new SnMessage();
        expect(decodeMessage(buf, out.messageOffset, out.messageLength, m)).toBe(out.messageLength);
      });
    });
  }

  it('reads at a non-zero offset with absolute offsets', () => {
    const buf = fromHex('ff ff 05 fe 02 12 34 02 17');
    const out = new SnForwarderHeader();
    expect(decodeForwarder(buf, 2, 7, out)).toBe(Status.Ok);
    expect(out.radius).toBe(2);
    expect(out.nodeIdOffset).toBe(5);
    expect(out.nodeIdLength).toBe(2);
    expect(out.messageOffset).toBe(7);
    expect(out.messageLength).toBe(2);
  });

  it('refuses off/len outside the buffer with BadParameter', () => {
    expect(decodeForwarder(fromHex('05 fe'), 1, 2, new SnForwarderHeader())).toBe(Status.BadParameter);
  });

  describe('rejects', () => {
    for (const v of snForwarderBadVectors) {
      it(`${v.name} → ${statusName(v.status)}`, () => {
        const buf = fromHex(v.hex);
        expect(decodeForwarder(buf, 0, buf.length, new SnForwarderHeader())).toBe(v.status);
      });
    }
  });
});

describe('encodeForwarderHeader', () => {
  for (const v of snForwarderVectors) {
    if (v.canonical === false) continue;
    it(`${v.name} › writes the spec bytes with the inner message after it`, () => {
      const nodeId = fromHex(v.nodeId);
      const inner = new SnMessage();
      const innerBytes = fromHex(v.inner);
      expect(decodeMessage(innerBytes, 0, innerBytes.length, inner)).toBe(innerBytes.length);
      const size = forwarderHeaderSize(nodeId.length) + messageSize(inner);
      const buf = new Uint8Array(size);
      const p = encodeForwarderHeader(v.radius, nodeId, 0, nodeId.length, buf, 0);
      expect(p).toBe(3 + nodeId.length);
      expect(encodeMessage(inner, buf, p)).toBe(size);
      expect(toHex(buf)).toBe(normHex(v.hex));
    });
  }

  it('copies the node id from an offset', () => {
    const buf = new Uint8Array(5);
    expect(encodeForwarderHeader(3, fromHex('aa 12 34 bb'), 1, 2, buf, 0)).toBe(5);
    expect(toHex(buf)).toBe('05 fe 03 12 34');
  });

  it('refuses bad arguments with BadParameter', () => {
    const id = fromHex('12 34');
    const buf = new Uint8Array(300);
    expect(encodeForwarderHeader(4, id, 0, 2, buf, 0)).toBe(Status.BadParameter);
    expect(encodeForwarderHeader(-1, id, 0, 2, buf, 0)).toBe(Status.BadParameter);
    expect(encodeForwarderHeader(0, id, 0, 0, buf, 0)).toBe(Status.BadParameter);
    expect(encodeForwarderHeader(0, id, 1, 2, buf, 0)).toBe(Status.BadParameter);
    expect(encodeForwarderHeader(0, new Uint8Array(253), 0, 253, buf, 0)).toBe(Status.BadParameter);
  });

  it('returns NoMemory without writing when the header does not fit', () => {
    const buf = new Uint8Array(6).fill(0xee);
    expect(encodeForwarderHeader(0, fromHex('12 34'), 0, 2, buf, 2)).toBe(Status.NoMemory);
    expect(buf.every((b) => b === 0xee)).toBe(true);
  });
});

describe('forwarderHeaderSize', () => {
  it('is 3 + node id length for 1..252 octets', () => {
    expect(forwarderHeaderSize(1)).toBe(4);
    expect(forwarderHeaderSize(252)).toBe(255);
  });
  it('refuses 0 and more than 252 octets', () => {
    expect(forwarderHeaderSize(0)).toBe(Status.BadParameter);
    expect(forwarderHeaderSize(253)).toBe(Status.BadParameter);
  });
});
