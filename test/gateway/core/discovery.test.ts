/**
 * Gateway core › advertisement and discovery (MQTT-SN 1.2 §6.1).
 *
 * The unicast answers (GWINFO to the searcher, also through a forwarder) are tested
 * everywhere. What the gateway sends to the multicast group (ADVERTISE, the broadcast copy of
 * GWINFO) needs IPv4 multicast on the loopback interface: Linux provides it in any network
 * namespace whose `lo` is up (the CI container included), even though `lo` does not carry the
 * MULTICAST flag. It is probed once, for real (join, send, receive): when it is missing the
 * multicast tests are skipped loudly on a developer machine and fail on CI (`CI=true`), the
 * policy of `test/support/peers.ts`, so a green CI means they ran.
 */
import dgram from 'node:dgram';
import { afterEach, describe, expect, it } from 'vitest';
import { decodeMessage, MsgType, SnMessage } from '../../../src/mqttsn';
import { requirePeer } from '../../support/peers';
import { GWINFO_BROADCAST_MS } from '../../../gateway/handlers/discovery';
import { encode, Rig, until, wrap } from './harness';

const GROUP = '239.255.42.99';
const LOOPBACK = '127.0.0.1';

/**
 * Whether a datagram sent to {@link GROUP} out of the loopback interface reaches a socket that
 * joined the group on it. Returns null when it does, else why not.
 */
async function probeLoopbackMulticast(): Promise<string | null> {
  const rx = dgram.createSocket({ type: 'udp4', reuseAddr: true });
  const tx = dgram.createSocket('udp4');
  try {
    await new Promise<void>((resolve, reject) => {
      rx.once('error', reject);
      rx.bind(0, () => resolve());
    });
    rx.addMembership(GROUP, LOOPBACK);
    await new Promise<void>((resolve, reject) => {
      tx.once('error', reject);
      tx.bind(0, LOOPBACK, () => resolve());
    });
    tx.setMulticastInterface(LOOPBACK);
    tx.setMulticastLoopback(true);
    const port = rx.address().port;
    const got = new Promise<boolean>((resolve) => {
      rx.on('message', (m) => {
        if (m.toString() === 'fieldmq-probe') resolve(true);
      });
    });
    // A few tries within one second: the first datagram may race the IGMP join.
    for (let i = 0; i < 10; i++) {
      tx.send('fieldmq-probe', port, GROUP);
      const ok = await Promise.race([got, new Promise<false>((r) => setTimeout(() => r(false), 100))]);
      if (ok) return null;
    }
    return `a datagram sent to ${GROUP} on ${LOOPBACK} never came back`;
  } catch (err) {
    return (err as Error).message;
  } finally {
    rx.close();
    tx.close();
  }
}

const probe = await probeLoopbackMulticast();
const multicast = requirePeer(
  'IPv4 multicast on loopback',
  probe === null,
  `${probe}; on Linux bring "lo" up and allow multicast on it (e.g. ip route add 224.0.0.0/4 dev lo), or run with --network host`,
);

let rig: Rig | undefined;
let listener: dgram.Socket | undefined;
afterEach(async () => {
  listener?.close();
  listener = undefined;
  await rig?.stop();
  rig = undefined;
});

/** A socket on the multicast group, collecting decoded messages. */
async function listen(): Promise<{ sock: dgram.Socket; port: number; got: SnMessage[] }> {
  const sock = dgram.createSocket({ type: 'udp4', reuseAddr: true });
  await new Promise<void>((resolve) => sock.bind(0, () => resolve()));
  sock.addMembership(GROUP, LOOPBACK);
  const got: SnMessage[] = [];
  sock.on('message', (msg) => {
    const m = new SnMessage();
    const b = new Uint8Array(msg);
    if (decodeMessage(b, 0, b.length, m) === b.length) got.push(m);
  });
  return { sock, port: sock.address().port, got };
}

describe('discovery over unicast', () => {
  it('SEARCHGW (no multicast configured) is answered with GWINFO, GwId only, to the searcher', async () => {
    rig = await Rig.start({ config: { gatewayId: 3 } });
    const c = await rig.raw();
    c.send({ type: MsgType.SEARCHGW, radius: 0 });
    const g = await c.expect(MsgType.GWINFO);
    expect(g.m.gwId).toBe(3);
    expect(g.bytes.length).toBe(3); // no GwAdd from a gateway (§5.4.3)
  });

  it('every searcher gets its unicast GWINFO, however many search at once', async () => {
    rig = await Rig.start({ config: { gatewayId: 4 } });
    const cs = await Promise.all(Array.from({ length: 5 }, () => rig!.raw()));
    for (const c of cs) c.send({ type: MsgType.SEARCHGW, radius: 1 });
    for (const c of cs) expect((await c.expect(MsgType.GWINFO)).m.gwId).toBe(4);
  });

  it('SEARCHGW through a forwarder (§5.5): GWINFO goes back wrapped with the searcher\'s Wireless Node Id', async () => {
    rig = await Rig.start({ config: { gatewayId: 9, forwarder: true } });
    const fwd = await rig.raw();
    fwd.send(wrap([0x12, 0x34], encode({ type: MsgType.SEARCHGW, radius: 1 })));
    const g = await fwd.expect(MsgType.GWINFO);
    expect([g.nodeId, g.m.gwId, g.m.length]).toEqual(['1234', 9, 3]);
    expect(g.bytes[2]).toBe(0); // Ctrl: radius 0 on a unicast reply
  });
});

describe.runIf(multicast)('discovery over multicast (loopback)', () => {
  it('broadcasts ADVERTISE (GwId, Duration in seconds) at start and every advertiseInterval', async () => {
    const l = await listen();
    listener = l.sock;
    rig = await Rig.start({
      config: { gatewayId: 42, advertiseInterval: 900 },
      multicast: { group: GROUP, port: l.port, interface: LOOPBACK },
    });
    const first = await until('the ADVERTISE at start', () => l.got.find((m) => m.type === MsgType.ADVERTISE));
    expect([first.gwId, first.duration]).toEqual([42, 900]);
    l.got.length = 0;
    rig.advance(899_999);
    rig.advance(1);
    const next = await until('the next ADVERTISE', () => l.got.find((m) => m.type === MsgType.ADVERTISE));
    expect([next.gwId, next.duration]).toEqual([42, 900]);
    // one more SEARCHGW round trip: anything sent before its broadcast GWINFO has arrived
    const c = await rig.raw();
    c.send({ type: MsgType.SEARCHGW, radius: 0 });
    await until('the broadcast GWINFO', () => l.got.find((m) => m.type === MsgType.GWINFO));
    expect(l.got.filter((m) => m.type === MsgType.ADVERTISE).length).toBe(1);
  });

  it('answers SEARCHGW with GWINFO to the searcher and on the group; a burst gets one broadcast per window', async () => {
    const l = await listen();
    listener = l.sock;
    rig = await Rig.start({ config: { gatewayId: 7 }, multicast: { group: GROUP, port: l.port, interface: LOOPBACK } });
    await until('the ADVERTISE at start', () => l.got.find((m) => m.type === MsgType.ADVERTISE));
    const c = await rig.raw();
    c.send({ type: MsgType.SEARCHGW, radius: 1 });
    const g = await c.expect(MsgType.GWINFO);
    expect([g.m.gwId, g.bytes.length]).toEqual([7, 3]);
    await until('the broadcast GWINFO', () => l.got.find((m) => m.type === MsgType.GWINFO && m.gwId === 7));
    const gwinfos = () => l.got.filter((m) => m.type === MsgType.GWINFO).length;
    // a burst inside the window: every searcher answered, no more broadcasts
    for (let i = 0; i < 5; i++) c.send({ type: MsgType.SEARCHGW, radius: 1 });
    for (let i = 0; i < 5; i++) await c.expect(MsgType.GWINFO);
    rig.advance(GWINFO_BROADCAST_MS);
    c.send({ type: MsgType.SEARCHGW, radius: 1 });
    await c.expect(MsgType.GWINFO);
    await until('the broadcast of the next window', () => gwinfos() === 2);
    expect(l.got.filter((m) => m.type === MsgType.GWINFO).map((m) => m.gwId)).toEqual([7, 7]);
  });
});
