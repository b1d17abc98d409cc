/**
 * The shared compliance suite every {@link SensorTransport} runs (DESIGN.md §2, §7): packets both
 * ways with stable addresses, false for addresses the link cannot use, copy semantics, an
 * idempotent start/stop that releases the link, bursts in order, and service that survives bad
 * bytes on the link. Each transport's test file supplies a {@link ComplianceHarness} that talks
 * to the transport through a real peer (a dgram socket, the far end of a PTY).
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { SensorTransport } from '../../../gateway/transports/transport';
import { waitFor } from '../../support/peers';

/** Deadline of every wait in the suite, ms. */
export const DEADLINE = 5000;

/** A node on the link, driven by the test. */
export interface LinkPeer {
  /** The address the transport should report for this peer. */
  readonly address: string;
  /** Puts one MQTT-SN message on the link from this peer. */
  sendPacket(bytes: Uint8Array): Promise<void>;
  /** Puts bytes on the link that the transport must reject and report (garbage, a bad frame). */
  sendGarbage(): Promise<void>;
  /** The next MQTT-SN message the transport sent to this peer (unwrapped from any link framing). */
  nextPacket(timeoutMs: number): Promise<Uint8Array>;
}

/** What a transport's test file provides to {@link runComplianceSuite}. */
export interface ComplianceHarness {
  /** Set up a fresh link resource (a port, a PTY pair); called before each test. */
  setUp(): Promise<void>;
  /** Release it (and everything the harness opened); called after each test. */
  tearDown(): Promise<void>;
  /** A new, unstarted transport on the resource. */
  createTransport(): SensorTransport;
  /** A peer of the started transport `t`. */
  connectPeer(t: SensorTransport): Promise<LinkPeer>;
  /** A second peer distinct from the first; left out for one-peer links (serial). */
  connectSecondPeer?(t: SensorTransport): Promise<LinkPeer>;
  /**
   * A listener for `broadcast`: resolves once it listens, with a wait for the next broadcast
   * message; left out when the link cannot observe broadcasts here.
   */
  listenBroadcast?(t: SensorTransport): Promise<(timeoutMs: number) => Promise<Uint8Array>>;
  /** Addresses `send` must refuse (malformed, other family, unknown where the link can tell). */
  rejectedAddresses: string[];
  /** Error kinds `sendGarbage` may produce. */
  garbageKinds: string[];
  /** Resolves when the link resource is free again after `stop` (rebinding, reopening exclusively). */
  assertReleased(): Promise<void>;
}

/** Records what a transport reports, with deadline-bound waits. */
export class TransportProbe {
  readonly packets: Array<{ bytes: Uint8Array; address: string }> = [];
  readonly errors: Array<{ kind: string; detail: string }> = [];
  private readonly listeners = new Set<() => void>();

  constructor(readonly transport: SensorTransport) {
    transport.onPacket = (bytes, address) => {
      this.packets.push({ bytes: bytes.slice(), address });
      this.changed();
    };
    transport.onError = (kind, detail) => {
      this.errors.push({ kind, detail });
      this.changed();
    };
  }

  /** Resolves with the first `n` packets once they arrived. */
  packetsAt(n: number, timeoutMs = DEADLINE): Promise<Array<{ bytes: Uint8Array; address: string }>> {
    return this.until(`${n} packet(s) on ${this.transport.name}`, () => (this.packets.length >= n ? this.packets.slice(0, n) : undefined), timeoutMs);
  }

  /** Resolves with the first error matching `pred`. */
  error(what: string, pred: (e: { kind: string; detail: string }) => boolean, timeoutMs = DEADLINE): Promise<{ kind: string; detail: string }> {
    return this.until(what, () => this.errors.find(pred), timeoutMs);
  }

  /** Waits until `check` returns a value. */
  until<T>(what: string, check: () => T | undefined, timeoutMs = DEADLINE): Promise<T> {
    return waitFor(
      what,
      check,
      (changed) => {
        this.listeners.add(changed);
        return () => this.listeners.delete(changed);
      },
      timeoutMs,
      () => `packets: ${this.packets.map((p) => `${hex(p.bytes)} from ${p.address}`).join('; ') || 'none'}\nerrors: ${this.errors.map((e) => `${e.kind}: ${e.detail}`).join('; ') || 'none'}`,
    );
  }

  private changed(): void {
    for (const l of [...this.listeners]) l();
  }
}

/** Hex of bytes, for messages. */
export function hex(b: Uint8Array): string {
  return Buffer.from(b).toString('hex');
}

/** PUBLISH QoS 0, topic id 1, message id `seq`, payload = `seq` as 2 octets: 9 octets, distinct per `seq`. */
export function numberedPublish(seq: number): Uint8Array {
  return Uint8Array.of(9, 0x0c, 0x00, 0x00, 0x01, seq >> 8, seq & 0xff, seq >> 8, seq & 0xff);
}

const PINGREQ = Uint8Array.of(2, 0x16);
const PINGRESP = Uint8Array.of(2, 0x17);

/**
 * Registers the compliance tests for one transport under the current `describe`.
 *
 * @param burst - packets in the burst test (each way).
 */
export function runComplianceSuite(harness: ComplianceHarness, burst = 100): void {
  describe('SensorTransport compliance', () => {
    let t: SensorTransport;
    let probe: TransportProbe;

    beforeEach(async () => {
      await harness.setUp();
      t = harness.createTransport();
      probe = new TransportProbe(t);
      await t.start();
    });

    afterEach(async () => {
      await t.stop();
      await harness.tearDown();
    });

    it('delivers a packet from a peer with the peer address', async () => {
      const peer = await harness.connectPeer(t);
      await peer.sendPacket(PINGREQ);
      const [got] = await probe.packetsAt(1);
      expect(hex(got!.bytes)).toBe(hex(PINGREQ));
      expect(got!.address).toBe(peer.address);
    });

    it('sends a packet to the address it reported, whole', async () => {
      const peer = await harness.connectPeer(t);
      await peer.sendPacket(PINGREQ);
      const [got] = await probe.packetsAt(1);
      expect(t.send(PINGRESP, got!.address)).toBe(true);
      expect(hex(await peer.nextPacket(DEADLINE))).toBe(hex(PINGRESP));
    });

    it('reports one stable address per peer', async () => {
      const a = await harness.connectPeer(t);
      await a.sendPacket(numberedPublish(1));
      await a.sendPacket(numberedPublish(2));
      const got = await probe.packetsAt(2);
      expect(got.map((p) => p.address)).toEqual([a.address, a.address]);
      if (harness.connectSecondPeer) {
        const b = await harness.connectSecondPeer(t);
        await b.sendPacket(numberedPublish(3));
        const third = (await probe.packetsAt(3))[2]!;
        expect(third.address).toBe(b.address);
        expect(b.address).not.toBe(a.address);
        // and each reply reaches only its own peer
        expect(t.send(numberedPublish(10), b.address)).toBe(true);
        expect(t.send(numberedPublish(11), a.address)).toBe(true);
        expect(hex(await b.nextPacket(DEADLINE))).toBe(hex(numberedPublish(10)));
        expect(hex(await a.nextPacket(DEADLINE))).toBe(hex(numberedPublish(11)));
      }
    });

    it('refuses addresses it cannot use, without throwing, and keeps working', async () => {
      const peer = await harness.connectPeer(t);
      for (const address of harness.rejectedAddresses) {
        expect(t.send(PINGRESP, address), `send to ${JSON.stringify(address)}`).toBe(false);
      }
      expect(t.send(PINGRESP, peer.address)).toBe(true);
      expect(hex(await peer.nextPacket(DEADLINE))).toBe(hex(PINGRESP));
    });

    it('refuses a message over its MTU and accepts one at it', async () => {
      const peer = await harness.connectPeer(t);
      const over = new Uint8Array(t.mtu + 1);
      over[0] = 1;
      over[1] = (t.mtu + 1) >> 8;
      over[2] = (t.mtu + 1) & 0xff;
      over[3] = 0x0c;
      expect(t.send(over, peer.address)).toBe(false);
      const at = numberedPublishOfLength(t.mtu);
      expect(t.send(at, peer.address)).toBe(true);
      expect(hex(await peer.nextPacket(DEADLINE))).toBe(hex(at));
    });

    it('copies what it sends: the caller may reuse its buffer at once', async () => {
      const peer = await harness.connectPeer(t);
      const buf = numberedPublish(7);
      const sent = hex(buf);
      expect(t.send(buf, peer.address)).toBe(true);
      buf.set(numberedPublish(0xeeee));
      expect(t.send(buf, peer.address)).toBe(true);
      buf.fill(0xaa);
      expect(hex(await peer.nextPacket(DEADLINE))).toBe(sent);
      expect(hex(await peer.nextPacket(DEADLINE))).toBe(hex(numberedPublish(0xeeee)));
    });

    if (harness.listenBroadcast) {
      it('broadcasts a copy of the message to the link', async () => {
        const buf = Uint8Array.of(5, 0x00, 0x01, 0x03, 0x84); // ADVERTISE gw 1, 900 s
        const want = hex(buf);
        const next = await harness.listenBroadcast!(t);
        const heard = next(DEADLINE);
        expect(t.broadcast(buf, 0)).toBe(true);
        buf.fill(0);
        expect(hex(await heard)).toBe(want);
      });
    }

    it(`keeps ${burst} packets in order each way`, async () => {
      const peer = await harness.connectPeer(t);
      for (let i = 0; i < burst; i++) await peer.sendPacket(numberedPublish(i));
      const got = await probe.packetsAt(burst);
      expect(got.map((p) => hex(p.bytes))).toEqual(Array.from({ length: burst }, (_, i) => hex(numberedPublish(i))));
      for (let i = 0; i < burst; i++) expect(t.send(numberedPublish(i), peer.address), `send #${i}`).toBe(true);
      const out: string[] = [];
      for (let i = 0; i < burst; i++) out.push(hex(await peer.nextPacket(DEADLINE)));
      expect(out).toEqual(Array.from({ length: burst }, (_, i) => hex(numberedPublish(i))));
    });

    it('reports bad bytes on the link and keeps delivering', async () => {
      const peer = await harness.connectPeer(t);
      await peer.sendGarbage();
      await peer.sendPacket(PINGREQ);
      const [got] = await probe.packetsAt(1);
      expect(hex(got!.bytes)).toBe(hex(PINGREQ));
      expect(probe.packets).toHaveLength(1); // the garbage was not delivered
      const errors = probe.errors.filter((e) => harness.garbageKinds.includes(e.kind));
      expect(errors.length, JSON.stringify(probe.errors)).toBeGreaterThan(0);
      expect(errors[0]!.detail).toMatch(new RegExp(`^${t.name}: `));
    });

    it('is idempotent in start and stop, releases the link, and starts again', async () => {
      await Promise.all([t.start(), t.start()]);
      await Promise.all([t.stop(), t.stop()]);
      await t.stop();
      await harness.assertReleased();
      await t.start();
      const peer = await harness.connectPeer(t);
      await peer.sendPacket(PINGREQ);
      const [got] = await probe.packetsAt(1);
      expect(t.send(PINGRESP, got!.address)).toBe(true);
      expect(hex(await peer.nextPacket(DEADLINE))).toBe(hex(PINGRESP));
    });

    it('refuses to send while stopped', async () => {
      const peer = await harness.connectPeer(t);
      await t.stop();
      expect(t.send(PINGRESP, peer.address)).toBe(false);
      expect(t.broadcast(PINGRESP, 0)).toBe(false);
    });
  });
}

/** A PUBLISH of exactly `total` octets (1- or 3-octet Length form). */
export function numberedPublishOfLength(total: number): Uint8Array {
  const b = new Uint8Array(total);
  let o = 0;
  if (total > 255) {
    b[o++] = 1;
    b[o++] = total >> 8;
    b[o++] = total & 0xff;
  } else b[o++] = total;
  b[o++] = 0x0c;
  b[o++] = 0x00;
  b[o++] = 0x00;
  b[o++] = 0x01;
  for (let i = o; i < total; i++) b[i] = i & 0xff;
  return b;
}
