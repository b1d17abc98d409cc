/**
 * SerialSensorTransport against a real PTY pair (socat): the transport opens one end, the test
 * drives the other with a second SerialPort.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SerialLine, SerialSensorTransport, defaultWriteQueueBytes } from '../../../gateway/transports/serial';
import { readLength } from '../../../src/mqttsn/header';
import { requirePeer } from '../../support/peers';
import { PtyPeer, createPtyPair, openExclusively, socatPath, type PtyPair } from '../../support/pty';
import { DEADLINE, TransportProbe, hex, numberedPublish, runComplianceSuite, type ComplianceHarness } from './compliance';

const run = requirePeer('socat', socatPath() !== null, 'serial transport tests need socat for PTY pairs (apt-get install socat)');

/** Takes the next whole MQTT-SN message (by its Length) from what the peer received. */
function nextSnMessage(peer: PtyPeer, timeoutMs: number): Promise<Uint8Array> {
  return peer.takeWhen(
    'an MQTT-SN message',
    (b) => {
      const total = readLength(b, 0, b.length);
      return total > 0 && b.length >= total ? total : undefined;
    },
    timeoutMs,
  );
}

describe.skipIf(!run)('SerialSensorTransport', () => {
  const dir = run ? mkdtempSync(join(tmpdir(), 'fieldmq-serial-')) : '';
  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  function serialHarness(): ComplianceHarness {
    let pair: PtyPair | null = null;
    let peer: PtyPeer | null = null;
    return {
      async setUp() {
        pair = await createPtyPair();
        peer = await PtyPeer.open(pair.peerEnd);
      },
      async tearDown() {
        await peer?.close();
        await pair?.close();
      },
      createTransport: () => new SerialSensorTransport({ path: pair!.transportEnd, baud: 9600 }),
      async connectPeer() {
        const p = peer!;
        return {
          address: pair!.transportEnd,
          sendPacket: (bytes) => p.write(bytes),
          sendGarbage: () => p.write(Uint8Array.of(0, 0, 0, 0)), // line noise: Length 0 is impossible
          nextPacket: (timeoutMs) => nextSnMessage(p, timeoutMs),
        };
      },
      listenBroadcast: async () => (timeoutMs) => nextSnMessage(peer!, timeoutMs),
      get rejectedAddresses() {
        return ['', 'nonsense', '/dev/ttyUSB9', pair!.peerEnd, pair!.transportEnd + ' ', '127.0.0.1:1884'];
      },
      garbageKinds: ['framing'],
      assertReleased: () => openExclusively(pair!.transportEnd),
    };
  }

  runComplianceSuite(serialHarness());

  describe('on one PTY pair', () => {
    let pair: PtyPair;
    let peer: PtyPeer;
    const transports: Array<{ stop(): Promise<void> }> = [];

    beforeEach(async () => {
      pair = await createPtyPair();
      peer = await PtyPeer.open(pair.peerEnd);
    });
    afterEach(async () => {
      for (const t of transports.splice(0)) await t.stop();
      await peer.close();
      await pair.close();
    });

    async function started(opts: Partial<ConstructorParameters<typeof SerialSensorTransport>[0]> = {}) {
      const t = new SerialSensorTransport({ path: pair.transportEnd, ...opts });
      transports.push(t);
      const probe = new TransportProbe(t);
      await t.start();
      return { t, probe };
    }

    it('resynchronises after garbage inside a stream, reporting the skipped octets once', async () => {
      const { probe } = await started();
      // noise (Length 0; a 3-octet Length of 2), a message, noise glued to a message split across writes
      await peer.write(Uint8Array.of(0x00, 0x01, 0x00, 2, 0x16, 0x00));
      await peer.write(Uint8Array.of(3));
      await peer.write(Uint8Array.of(0x01, 0x00));
      const got = await probe.packetsAt(2);
      expect(got.map((p) => hex(p.bytes))).toEqual(['0216', '030100']);
      const framing = probe.errors.filter((e) => e.kind === 'framing');
      expect(framing.map((e) => e.detail.match(/skipped (\d+) octet/)?.[1])).toEqual(['3', '1']);
    });

    it('delivers a message over 255 octets in the 3-octet Length form', async () => {
      const { probe } = await started({ mtu: 300 });
      const big = new Uint8Array(300);
      big.set([1, 300 >> 8, 300 & 0xff, 0x0c]);
      await peer.write(big);
      const [p] = await probe.packetsAt(1);
      expect(p!.bytes.length).toBe(300);
      expect(hex(p!.bytes)).toBe(hex(big));
    });

    it('bounds its write queue: drops beyond it (returning false), reports once, and recovers after draining', async () => {
      const { t, probe } = await started({ maxQueuedBytes: 45 });
      // nine-octet messages sent in one tick: no write can finish before the fifth is refused
      const results = [0, 1, 2, 3, 4, 5, 6].map((i) => t.send(numberedPublish(i), pair.transportEnd));
      expect(results).toEqual([true, true, true, true, true, false, false]);
      const full = probe.errors.filter((e) => /write queue full/.test(e.detail));
      expect(full).toHaveLength(1);
      expect(full[0]!.detail).toContain('45 octets');
      for (let i = 0; i < 5; i++) expect(hex(await nextSnMessage(peer, DEADLINE))).toBe(hex(numberedPublish(i)));
      // the writes have completed: the queue has room again
      await probe.until('the queue to drain', () => (t.send(numberedPublish(9), pair.transportEnd) ? true : undefined));
      expect(hex(await nextSnMessage(peer, DEADLINE))).toBe(hex(numberedPublish(9)));
    });

    it('defaults its write queue to two seconds of line time', () => {
      expect(defaultWriteQueueBytes(9600)).toBe(1920);
      expect(defaultWriteQueueBytes(1200)).toBe(1024);
      expect(defaultWriteQueueBytes(115200)).toBe(23040);
      expect(new SerialLine({ path: 'x', baudRate: 9600, name: 's', onData: () => {}, onError: () => {} }).maxQueuedBytes).toBe(1920);
    });

    it('rejects a second transport on a device in use, naming the device', async () => {
      await started();
      const second = new SerialSensorTransport({ path: pair.transportEnd });
      await expect(second.start()).rejects.toThrow(new RegExp(`serial: ${pair.transportEnd.replace(/[/]/g, '\\/')} is in use by another program`));
    });
  });

  it('rejects start for a missing device, naming the path and the config key', async () => {
    const t = new SerialSensorTransport({ path: '/dev/ttyFIELDMQ-NOPE' });
    const err = await t.start().then(
      () => null,
      (e: Error) => e,
    );
    expect(err?.message).toMatch(/^serial: no such device \/dev\/ttyFIELDMQ-NOPE .*"serial\.path"/);
    expect(t.send(Uint8Array.of(2, 0x16), '/dev/ttyFIELDMQ-NOPE')).toBe(false);
    await t.stop(); // stopping a transport that never started is fine
  });

  it('rejects start for a file that is not a serial device', async () => {
    const t = new SerialSensorTransport({ path: '/dev/null' });
    await expect(t.start()).rejects.toThrow(/^serial: \/dev\/null is not a serial device/);
  });

  it('reopens a device that disappears and comes back, with back-off, keeping its address', async () => {
    const link = join(dir, 'ttyGONE');
    const peerLink = join(dir, 'ttyGONE-peer');
    let pair = await createPtyPair({ transportLink: link, peerLink });
    let peer = await PtyPeer.open(pair.peerEnd);
    const t = new SerialSensorTransport({ path: link, reopen: { initialMs: 20, maxMs: 80 } });
    const probe = new TransportProbe(t);
    try {
      await t.start();
      await peer.write(Uint8Array.of(2, 0x16));
      await probe.packetsAt(1);
      // unplug: socat exits, both PTYs and the links vanish
      await peer.close();
      await pair.close();
      const lost = await probe.error('the loss report', (e) => /lost /.test(e.detail));
      expect(lost.kind).toBe('io');
      expect(lost.detail).toContain(link);
      expect(lost.detail).toMatch(/reopening in 20 ms/);
      expect(t.send(Uint8Array.of(2, 0x17), link)).toBe(false); // down meanwhile
      await probe.error('a failed reopen attempt', (e) => /reopen attempt \d+ failed/.test(e.detail));
      // plug back in: same path, new PTY
      pair = await createPtyPair({ transportLink: link, peerLink });
      peer = await PtyPeer.open(pair.peerEnd);
      await probe.error('the reopen report', (e) => /reopened /.test(e.detail));
      await peer.write(Uint8Array.of(2, 0x18));
      const got = await probe.packetsAt(2);
      expect(got.map((p) => `${hex(p.bytes)} ${p.address}`)).toEqual([`0216 ${link}`, `0218 ${link}`]);
      expect(t.send(Uint8Array.of(2, 0x17), link)).toBe(true);
      expect(hex(await nextSnMessage(peer, DEADLINE))).toBe('0217');
    } finally {
      await t.stop();
      await peer.close();
      await pair.close();
    }
  });

  it('stops reopening once stopped', async () => {
    const link = join(dir, 'ttySTOP');
    const pair = await createPtyPair({ transportLink: link });
    // no peer on the far end: the hung-up PTY reads as EOF, so only the presence check sees the loss
    const t = new SerialSensorTransport({ path: link, reopen: { initialMs: 10, maxMs: 10 }, presenceCheckMs: 20 });
    const probe = new TransportProbe(t);
    await t.start();
    await pair.close();
    await probe.error('a failed reopen attempt', (e) => /reopen attempt 1 failed/.test(e.detail));
    await t.stop();
    const count = probe.errors.length;
    // had a reopen timer survived stop(), attempt reports would keep coming; a new pair lets any survivor succeed
    const again = await createPtyPair({ transportLink: link });
    try {
      expect(t.send(Uint8Array.of(2, 0x16), link)).toBe(false);
      await openExclusively(link); // nobody reopened it
      expect(probe.errors.length).toBe(count);
    } finally {
      await again.close();
    }
  });
});
