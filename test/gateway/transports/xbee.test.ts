/**
 * XBeeSensorTransport against a real PTY pair (socat), with the test playing the local radio
 * (XBeeRadioSim): API frames built with the codec in, Transmit Requests decoded out.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { XBEE_DEFAULT_MTU, XBeeSensorTransport, parseAddress64, type XBeeTransportOptions } from '../../../gateway/transports/xbee';
import { requirePeer } from '../../support/peers';
import { PtyPeer, createPtyPair, openExclusively, socatPath, type PtyPair } from '../../support/pty';
import { DEADLINE, TransportProbe, hex, numberedPublish, numberedPublishOfLength, runComplianceSuite, type ComplianceHarness } from './compliance';
import { XBeeRadioSim } from './xbee-sim';

const run = requirePeer('socat', socatPath() !== null, 'XBee transport tests need socat for PTY pairs (apt-get install socat)');

const NODE_A = '0013A20040A1B2C3';
const NODE_B = '0013A20040FFEE01';
const BROADCAST = '000000000000FFFF';

function xbeeHarness(apiMode: 1 | 2): ComplianceHarness {
  let pair: PtyPair | null = null;
  let sim: XBeeRadioSim | null = null;
  const node = (address: string) => ({
    address,
    sendPacket: (bytes: Uint8Array) => sim!.receive(address, bytes),
    // noise outside frames, then a frame whose checksum is wrong
    sendGarbage: () => {
      const bad = sim!.frame0(XBeeRadioSim.receivePacket(address, Uint8Array.of(2, 0x16)));
      bad[bad.length - 1] ^= 0x01;
      return sim!.raw(Uint8Array.from([0x00, 0x42, ...bad]));
    },
    nextPacket: async (timeoutMs: number) => (await sim!.nextRequest(address, timeoutMs)).payload,
  });
  return {
    async setUp() {
      pair = await createPtyPair();
      sim = new XBeeRadioSim(await PtyPeer.open(pair.peerEnd), apiMode === 2);
    },
    async tearDown() {
      await sim?.peer.close();
      await pair?.close();
    },
    // the burst test sends 100 frames in one tick: raise the write queue above 100 × 32 octets
    createTransport: () => new XBeeSensorTransport({ path: pair!.transportEnd, apiMode, maxQueuedBytes: 8192 }),
    connectPeer: async () => node(NODE_A),
    connectSecondPeer: async () => node(NODE_B),
    listenBroadcast: async () => async (timeoutMs) => (await sim!.nextRequest(BROADCAST, timeoutMs)).payload,
    rejectedAddresses: ['', 'nonsense', '0013A20040A1B2C', '0013A20040A1B2C3F', '0013A20040A1B2CG', '0x13A20040A1B2C3', '127.0.0.1:1884', '/dev/ttyUSB0'],
    garbageKinds: ['framing', 'checksum'],
    assertReleased: () => openExclusively(pair!.transportEnd),
  };
}

describe.skipIf(!run)('XBeeSensorTransport', () => {
  describe('in API mode 2 (escaped)', () => {
    runComplianceSuite(xbeeHarness(2));
  });
  describe('in API mode 1', () => {
    runComplianceSuite(xbeeHarness(1));
  });

  describe('on one PTY pair', () => {
    let pair: PtyPair;
    let sim: XBeeRadioSim;
    const transports: XBeeSensorTransport[] = [];

    beforeEach(async () => {
      pair = await createPtyPair();
      sim = new XBeeRadioSim(await PtyPeer.open(pair.peerEnd), true);
    });
    afterEach(async () => {
      for (const t of transports.splice(0)) await t.stop();
      await sim.peer.close();
      await pair.close();
    });

    async function started(opts: Partial<XBeeTransportOptions> = {}) {
      const t = new XBeeSensorTransport({ path: pair.transportEnd, apiMode: 2, ...opts });
      transports.push(t);
      const probe = new TransportProbe(t);
      await t.start();
      return { t, probe };
    }

    it('sends unicast as a Transmit Request to the 64-bit address with 16-bit 0xFFFE and a frame id', async () => {
      const { t } = await started();
      expect(t.send(Uint8Array.of(2, 0x17), NODE_A.toLowerCase())).toBe(true); // lower case accepted
      const r = await sim.nextRequest(null, DEADLINE);
      expect(r).toMatchObject({ dest64: NODE_A, dest16: 0xfffe, radius: 0, options: 0 });
      expect(r.frameId).toBeGreaterThan(0);
      expect(hex(r.payload)).toBe('0217');
    });

    it('broadcasts to 0x000000000000FFFF with the radius asked for', async () => {
      const { t } = await started();
      expect(t.broadcast(Uint8Array.of(3, 0x02, 0x01), 3)).toBe(true);
      const r = await sim.nextRequest(null, DEADLINE);
      expect(r).toMatchObject({ dest64: BROADCAST, dest16: 0xfffe, radius: 3 });
      expect(hex(r.payload)).toBe('030201');
    });

    it('escapes 0x7E 0x7D 0x11 0x13 in its frames in API mode 2', async () => {
      const { t } = await started();
      const payload = Uint8Array.of(7, 0x0c, 0x7e, 0x7d, 0x11, 0x13, 0x00);
      expect(t.send(payload, NODE_A)).toBe(true);
      const r = await sim.nextRequest(NODE_A, DEADLINE);
      expect(hex(r.payload)).toBe(hex(payload));
    });

    it('reports a failed delivery naming the destination and the status, and stays quiet on success', async () => {
      const { t, probe } = await started();
      expect(t.send(Uint8Array.of(2, 0x17), NODE_A)).toBe(true);
      expect(t.send(Uint8Array.of(2, 0x17), NODE_B)).toBe(true);
      const ra = await sim.nextRequest(NODE_A, DEADLINE);
      const rb = await sim.nextRequest(NODE_B, DEADLINE);
      await sim.txStatus(ra.frameId, 0x00);
      await sim.txStatus(rb.frameId, 0x21, 3);
      const e = await probe.error('a delivery error', (x) => x.kind === 'delivery');
      expect(e.detail).toBe(`xbee: delivery to ${NODE_B} failed: network ACK failure (0x21) after 3 retries`);
      expect(probe.errors.filter((x) => x.kind === 'delivery')).toHaveLength(1);
    });

    it('reports troubling modem status and ignores normal ones', async () => {
      const { probe } = await started();
      await sim.modemStatus(0x02); // joined network: normal
      await sim.modemStatus(0x03); // disassociated
      const e = await probe.error('a modem report', (x) => /modem status/.test(x.detail));
      expect(e).toEqual({ kind: 'io', detail: `xbee: radio on ${pair.transportEnd} reports disassociated from the network (modem status 0x03)` });
      expect(probe.errors).toHaveLength(1);
    });

    it('drops RF data that is not one MQTT-SN message and delivers the next', async () => {
      const { probe } = await started();
      await sim.receive(NODE_A, Uint8Array.of(9, 0x0c, 0x00)); // Length 9, 3 octets
      await sim.receive(NODE_A, Uint8Array.of(2, 0x16));
      const [p] = await probe.packetsAt(1);
      expect(hex(p!.bytes)).toBe('0216');
      expect(probe.errors.map((e) => e.kind)).toEqual(['framing']);
      expect(probe.errors[0]!.detail).toContain(`from ${NODE_A}: not one MQTT-SN message`);
    });

    describe('a node whose radio is in transparent mode (a byte stream, cut at the maximum payload)', () => {
      /** A 40-octet PUBLISH, a 40-octet one and a PINGREQ, back to back as the node's UART sent them: 82 octets. */
      const m1 = numberedPublishOfLength(40);
      const m2 = numberedPublishOfLength(40).fill(0x5a, 7);
      const ping = Uint8Array.of(2, 0x16);
      const stream = Uint8Array.from([...m1, ...m2, ...ping]);

      it('RF data holding several messages is split into them, and a message cut at 66 octets is joined with the rest from the same node', async () => {
        const { probe } = await started();
        await sim.receive(NODE_A, stream.subarray(0, 66)); // the radio filled its 66-octet payload
        await sim.receive(NODE_B, Uint8Array.of(2, 0x16)); // another node in between: its own message
        await sim.receive(NODE_A, stream.subarray(66));
        const got = await probe.packetsAt(4);
        expect(got.map((p) => [hex(p.bytes), p.address])).toEqual([
          [hex(m1), NODE_A],
          ['0216', NODE_B],
          [hex(m2), NODE_A],
          ['0216', NODE_A],
        ]);
        expect(probe.errors).toEqual([]);
      });

      it('a cut message whose rest does not come within 1 s is dropped and reported, and the node\'s next message is delivered', async () => {
        const clock = { t: 5000 };
        const { probe } = await started({ now: () => clock.t });
        await sim.receive(NODE_A, stream.subarray(0, 66));
        await probe.packetsAt(1);
        clock.t += 1001;
        await sim.receive(NODE_A, Uint8Array.of(2, 0x16));
        const [, p] = await probe.packetsAt(2);
        expect(hex(p!.bytes)).toBe('0216');
        expect(probe.errors).toEqual([{ kind: 'framing', detail: `xbee: dropped the first 26 octets of a message from ${NODE_A}: the rest did not come within 1000 ms` }]);
      });

      it('RF data shorter than the maximum payload that ends inside a message is dropped after the whole messages in it', async () => {
        const { probe } = await started();
        await sim.receive(NODE_A, stream.subarray(0, 50));
        await sim.receive(NODE_A, Uint8Array.of(2, 0x16));
        const got = await probe.packetsAt(2);
        expect(got.map((p) => hex(p.bytes))).toEqual([hex(m1), '0216']);
        expect(probe.errors).toEqual([{ kind: 'framing', detail: `xbee: dropped the last 10 of 50 octets of RF data from ${NODE_A}: not a whole MQTT-SN message (its Length field says 40 octets, 10 are here)` }]);
      });

      it('a forwarder\'s encapsulated messages (§5.5) are split and joined whole: the header with the message it carries', async () => {
        const { probe } = await started();
        // Encapsulation header: Length 5, 0xFE, Ctrl, a 2-octet Wireless Node Id; then a 27-octet PUBLISH.
        const enc = (node: number) => Uint8Array.from([5, 0xfe, 0x00, 0xab, node, ...numberedPublishOfLength(27)]);
        const all = Uint8Array.from([...enc(1), ...enc(2), ...enc(3), ...enc(4), ...enc(5)]); // 5 × 32 octets
        await sim.receive(NODE_A, all.subarray(0, 66)); // ends inside the third one's header
        await sim.receive(NODE_A, all.subarray(66, 132)); // ends inside the fifth one's header
        await sim.receive(NODE_A, all.subarray(132));
        const got = await probe.packetsAt(5);
        expect(got.map((p) => hex(p.bytes))).toEqual([1, 2, 3, 4, 5].map((i) => hex(enc(i))));
        expect(probe.errors).toEqual([]);
      });

      it('RF data from a node in API mode that is one message cut short is dropped at once, not kept: the node\'s next message is delivered whole', async () => {
        const { probe } = await started();
        const long = numberedPublishOfLength(66);
        await sim.receive(NODE_A, Uint8Array.from([100, ...long.subarray(1)])); // Length 100 in 66 octets: over the MTU
        await sim.receive(NODE_A, Uint8Array.of(2, 0x16));
        const [p] = await probe.packetsAt(1);
        expect(hex(p!.bytes)).toBe('0216');
        expect(probe.errors).toEqual([{ kind: 'framing', detail: `xbee: dropped 66 octets of RF data from ${NODE_A}: not one MQTT-SN message (its Length is over the MTU of 66)` }]);
      });

      it('at most 64 nodes wait for the rest of a message: one more and the oldest part is dropped and reported', async () => {
        const { probe } = await started();
        const node = (i: number) => '0013A200' + (0x40000000 + i).toString(16).toUpperCase();
        for (let i = 0; i <= 64; i++) await sim.receive(node(i), stream.subarray(0, 66));
        await probe.packetsAt(65);
        expect(probe.errors).toEqual([{ kind: 'framing', detail: `xbee: dropped the first 26 octets of a message from ${node(0)}: 64 nodes already wait for the rest of one` }]);
        // The others still get theirs joined; the first node's rest is now RF data that is not one message.
        await sim.receive(node(64), stream.subarray(66));
        await sim.receive(node(0), stream.subarray(66));
        await probe.error('the rest from the dropped node', (e) => e.detail.includes(`from ${node(0)}: not one MQTT-SN message`));
        expect(probe.packets.slice(65).map((p) => [hex(p.bytes), p.address])).toEqual([
          [hex(m2), node(64)],
          ['0216', node(64)],
        ]);
      });
    });

    it('explains Explicit Rx frames (0x91): the radio needs ATAO=0', async () => {
      const { probe } = await started();
      await sim.raw(sim.frame0(Uint8Array.from([0x91, ...Buffer.from(NODE_A, 'hex'), 0x12, 0x34, 0xe8, 0xe8, 0x00, 0x11, 0xc1, 0x05, 0x01, 2, 0x16])));
      const e = await probe.error('the 0x91 report', (x) => /0x91/.test(x.detail));
      expect(e.kind).toBe('framing');
      expect(e.detail).toContain('ATAO=0');
    });

    it('reports a checksum error and hints at the API mode when the modes differ', async () => {
      const { probe } = await started({ apiMode: 1 });
      // a mode-2 radio escapes 0x11 in the length/data; a mode-1 reader then sees a bad checksum or length
      const escapedSim = new XBeeRadioSim(sim.peer, true);
      await escapedSim.receive(NODE_A, Uint8Array.of(3, 0x0c, 0x7d));
      await escapedSim.raw(new XBeeRadioSim(sim.peer, false).frame0(XBeeRadioSim.receivePacket(NODE_A, Uint8Array.of(2, 0x16))));
      await probe.packetsAt(1);
      const e = probe.errors.find((x) => x.kind === 'checksum');
      expect(e?.detail).toContain('is the radio in API mode 2?');
    });

    it('refuses a message over its MTU (66 octets by default)', async () => {
      const { t } = await started();
      expect(t.mtu).toBe(XBEE_DEFAULT_MTU);
      expect(XBEE_DEFAULT_MTU).toBe(66);
      const at = new Uint8Array(66);
      at.set([66, 0x0c]);
      expect(t.send(at, NODE_A)).toBe(true);
      expect(t.send(new Uint8Array(67).fill(67, 0, 1), NODE_A)).toBe(false);
      expect((await sim.nextRequest(NODE_A, DEADLINE)).payload.length).toBe(66);
    });

    it('keeps frame ids in 1..255 across wrap-around', async () => {
      const { t } = await started({ maxQueuedBytes: 1 << 20 });
      for (let i = 0; i < 300; i++) expect(t.send(numberedPublish(i), NODE_A)).toBe(true);
      const ids: number[] = [];
      for (let i = 0; i < 300; i++) ids.push((await sim.nextRequest(NODE_A, DEADLINE)).frameId);
      expect(ids.every((id) => id >= 1 && id <= 255)).toBe(true);
      expect(ids[0]).toBe(1);
      expect(ids[254]).toBe(255);
      expect(ids[255]).toBe(1);
    });
  });

  it('rejects start for a missing device, naming the path and the config key', async () => {
    const t = new XBeeSensorTransport({ path: '/dev/ttyXBEE-NOPE' });
    await expect(t.start()).rejects.toThrow(/^xbee: no such device \/dev\/ttyXBEE-NOPE .*"xbee\.path"/);
  });
});

describe('parseAddress64', () => {
  it.each([
    ['0013A20040A1B2C3', '0013a20040a1b2c3'],
    ['0013a20040a1b2c3', '0013a20040a1b2c3'],
    ['000000000000FFFF', '000000000000ffff'],
  ])('parses %s', (address, want) => {
    const out = new Uint8Array(8);
    expect(parseAddress64(address, out)).toBe(true);
    expect(hex(out)).toBe(want);
  });
  it.each(['', '0013A20040A1B2C', '0013A20040A1B2C3 ', ' 0013A20040A1B2C3', '0013A20040A1B2CZ'])('rejects %j', (address) => {
    expect(parseAddress64(address, new Uint8Array(8))).toBe(false);
  });
});
