/** SnClient › gateway advertisement, discovery and failover (MQTT-SN 1.2 §6.1, §6.13). */
import { describe, expect, it } from 'vitest';
import { MsgType } from '../../src/mqttsn';
import { SnState } from '../../src/mqttsn/client';
import { Rig, ScriptedGateway, useOpen } from './harness';

const track = useOpen();

async function gateway(type: 'udp4' | 'udp6' = 'udp4'): Promise<ScriptedGateway> {
  const g = await ScriptedGateway.start(type);
  track(g);
  return g;
}

type RigOptions = Parameters<typeof Rig.create>[1];
type UdpOptions = Parameters<typeof Rig.create>[2];

/** A client that knows no gateway; its BROADCAST goes to `bc` (standing in for the radio broadcast). */
async function searcher(bc: ScriptedGateway, opts: RigOptions = {}, udp: UdpOptions = {}): Promise<Rig> {
  const r = await Rig.create(null, opts, { broadcast: { address: bc.host, port: bc.port }, ...udp });
  track(r);
  return r;
}

/** A client that knows gateway `gw` (GwId 5, from its ADVERTISE); its broadcasts go to `bc`. */
async function knowing(gw: ScriptedGateway, bc: ScriptedGateway, opts: RigOptions = {}, udp: UdpOptions = {}): Promise<Rig> {
  const rig = await searcher(bc, { random: () => 0.5, tGwInfo: 5000, ...opts }, udp);
  await rig.deliver(gw, { type: MsgType.ADVERTISE, gwId: 5, duration: 900 });
  rig.take();
  return rig;
}

describe('SnClient › SEARCHGW / GWINFO (§6.1)', () => {
  it('connect() with no gateway known broadcasts SEARCHGW after a random delay below T_SEARCHGW, then connects to the GWINFO sender', async () => {
    const gw = await gateway();
    const rig = await searcher(gw, { random: () => 0.5, tSearchGw: 5000 });
    rig.c.connect();
    expect(rig.c.state()).toBe(SnState.Searching);
    rig.quiet(0);
    rig.quiet(2499);
    rig.poll(1);
    const s = await gw.expect(MsgType.SEARCHGW);
    expect(s.m.radius).toBe(1);
    await rig.deliver(gw, { type: MsgType.GWINFO, gwId: 7 });
    expect(rig.take()).toEqual([['gateway', 7, rig.c.gateway(), true]]);
    expect(rig.c.state()).toBe(SnState.Connecting);
    rig.poll();
    await gw.expect(MsgType.CONNECT);
    await rig.deliver(gw, { type: MsgType.CONNACK, returnCode: 0 });
    expect(rig.c.state()).toBe(SnState.Active);
  });

  it('retransmits SEARCHGW with exponentially growing intervals while nobody answers', async () => {
    const gw = await gateway();
    const rig = await searcher(gw, { random: () => 0, tSearchGw: 5000, radius: 3 });
    expect(rig.c.searchGateway()).toBe(0);
    rig.poll();
    expect((await gw.expect(MsgType.SEARCHGW)).m.radius).toBe(3);
    for (const gap of [5000, 10_000, 20_000, 40_000]) {
      rig.quiet(gap - 1);
      rig.poll(1);
      await gw.expect(MsgType.SEARCHGW);
    }
    // A plain search (no connect()) ends with the first answer and does not connect.
    await rig.deliver(gw, { type: MsgType.GWINFO, gwId: 1 });
    expect(rig.c.state()).toBe(SnState.Disconnected);
    rig.quiet(1_000_000);
  });

  it("cancels its own SEARCHGW when another client's identical SEARCHGW is heard during the delay", async () => {
    const gw = await gateway();
    const other = await gateway(); // another client on the same network
    const rig = await searcher(gw, { random: () => 0.8, tSearchGw: 5000 });
    rig.c.searchGateway();
    rig.poll();
    rig.t += 1000;
    await rig.deliver(other, { type: MsgType.SEARCHGW, radius: 1 });
    rig.quiet(3000); // past the 4 s delay: it behaves as if it had sent
    rig.quiet(1999);
    rig.poll(1); // the next one follows T_SEARCHGW after the other client's
    await gw.expect(MsgType.SEARCHGW);
  });

  it("does not treat a SEARCHGW with another radius as its own", async () => {
    const gw = await gateway();
    const other = await gateway();
    const rig = await searcher(gw, { random: () => 0.8, tSearchGw: 5000 });
    rig.c.searchGateway();
    rig.poll();
    await rig.deliver(other, { type: MsgType.SEARCHGW, radius: 2 });
    rig.poll(4000);
    await gw.expect(MsgType.SEARCHGW);
  });

  it("takes a gateway from another client's GWINFO: GwAdd (IPv4 address, port) becomes a peer, and it connects there", async () => {
    const bc = await gateway(); // where the searcher's broadcasts go
    const gw = await gateway(); // the gateway the other client names
    const other = await gateway();
    const rig = await searcher(bc, { random: () => 0 });
    rig.c.connect();
    rig.poll();
    await bc.expect(MsgType.SEARCHGW);
    await rig.deliver(other, { type: MsgType.GWINFO, gwId: 9, data: gwAdd(gw.port) });
    const h = rig.tr.peers.find('127.0.0.1', gw.port);
    expect(h).toBeGreaterThan(0);
    expect(rig.take()).toEqual([['gateway', 9, h, true]]);
    expect([rig.c.state(), rig.c.gateway()]).toEqual([SnState.Connecting, h]);
    rig.poll();
    await gw.expect(MsgType.CONNECT);
  });

  it('ignores a GWINFO whose GwAdd is not an IPv4 address and port (6 octets), and keeps searching', async () => {
    const bc = await gateway();
    const other = await gateway();
    const rig = await searcher(bc, { random: () => 0 });
    rig.c.connect();
    rig.poll();
    await bc.expect(MsgType.SEARCHGW);
    for (const data of [new Uint8Array([127, 0, 0, 1, 7]), new Uint8Array([127, 0, 0, 1, 0, 0]), new Uint8Array(18)]) {
      await rig.deliver(other, { type: MsgType.GWINFO, gwId: 9, data });
    }
    expect(rig.take()).toEqual([]);
    expect(rig.c.state()).toBe(SnState.Searching);
  });
});

describe('SnClient › GwAdd over IPv6 (a udp6 transport: 16 octets of address, 2 of port)', () => {
  it("answers another client's SEARCHGW with the gateway's IPv6 GwAdd, and a searcher takes such a GwAdd and connects there", async () => {
    const gw = await gateway('udp6');
    const bc = await gateway('udp6');
    const other = await gateway('udp6');
    const v6 = { type: 'udp6' as const, localAddress: '::1' };
    // A client that knows the gateway from its ADVERTISE answers a SEARCHGW with its address.
    const knows = await knowing(gw, bc, {}, v6);
    await knows.deliver(other, { type: MsgType.SEARCHGW, radius: 1 });
    knows.quiet(2499);
    knows.poll(1);
    const g = await bc.expect(MsgType.GWINFO);
    const add = [...new Array(15).fill(0), 1, gw.port >> 8, gw.port & 0xff]; // ::1, port
    expect([g.m.gwId, ...g.data]).toEqual([5, ...add]);
    // A searcher that hears that GWINFO connects to the gateway it names.
    const rig = await searcher(bc, { random: () => 0 }, v6);
    rig.c.connect();
    rig.poll();
    await bc.expect(MsgType.SEARCHGW);
    await rig.deliver(other, { type: MsgType.GWINFO, gwId: 5, data: Uint8Array.from(add) });
    expect(rig.c.state()).toBe(SnState.Connecting);
    rig.poll();
    await gw.expect(MsgType.CONNECT);
    await rig.deliver(gw, { type: MsgType.CONNACK, returnCode: 0 });
    expect(rig.c.state()).toBe(SnState.Active);
  });
});

/** GwAdd as the IP adapters write it: IPv4 127.0.0.1, then the port, big-endian. */
function gwAdd(port: number): Uint8Array {
  return new Uint8Array([127, 0, 0, 1, port >> 8, port & 0xff]);
}

describe("SnClient › answering another client's SEARCHGW (§6.1)", () => {
  it('broadcasts GWINFO with the GwId and GwAdd of a gateway it knows, after a random delay below T_GWINFO', async () => {
    const gw = await gateway();
    const bc = await gateway();
    const other = await gateway();
    const rig = await knowing(gw, bc);
    await rig.deliver(other, { type: MsgType.SEARCHGW, radius: 2 });
    rig.quiet(2499); // random 0.5 × T_GWINFO 5000
    rig.poll(1);
    const g = await bc.expect(MsgType.GWINFO);
    expect(g.m.gwId).toBe(5);
    expect([...g.data]).toEqual([...gwAdd(gw.port)]);
    rig.quiet(60_000); // one answer per SEARCHGW
  });

  it('does not answer when a GWINFO (the gateway\'s, or another client\'s) is heard during the delay', async () => {
    const gw = await gateway();
    const bc = await gateway();
    const other = await gateway();
    const rig = await knowing(gw, bc);
    await rig.deliver(other, { type: MsgType.SEARCHGW, radius: 1 });
    rig.quiet(1000);
    await rig.deliver(gw, { type: MsgType.GWINFO, gwId: 5 });
    rig.quiet(10_000);
    await rig.deliver(other, { type: MsgType.SEARCHGW, radius: 1 });
    await rig.deliver(other, { type: MsgType.GWINFO, gwId: 5, data: gwAdd(gw.port) });
    rig.quiet(10_000);
  });

  it('answers with the widest radius asked while its answer waits (0: the whole network, §5.3.9)', async () => {
    for (const [radii, want] of [
      [[1, 3], 3],
      [[2, 0, 5], 0],
    ] as const) {
      const gw = await gateway();
      const bc = await gateway();
      const other = await gateway();
      const rig = await knowing(gw, bc);
      const sent: number[] = [];
      const sendTo = rig.tr.sendTo.bind(rig.tr);
      rig.tr.sendTo = (b, o, l, p, r) => {
        if (b[o + 1] === MsgType.GWINFO) sent.push(r);
        return sendTo(b, o, l, p, r);
      };
      for (const radius of radii) await rig.deliver(other, { type: MsgType.SEARCHGW, radius });
      rig.poll(2500);
      await bc.expect(MsgType.GWINFO);
      expect(sent).toEqual([want]);
    }
  });

  it('does not answer once disconnect() is called, nor while asleep (§6.14)', async () => {
    const gw = await gateway();
    const bc = await gateway();
    const other = await gateway();
    const rig = await knowing(gw, bc);
    await rig.deliver(other, { type: MsgType.SEARCHGW, radius: 1 });
    rig.c.disconnect();
    rig.quiet(10_000);
    // Connected, then asleep: a SEARCHGW finds it with its radio off.
    await rig.connect(gw);
    await rig.sleep(gw, 600);
    await rig.deliver(other, { type: MsgType.SEARCHGW, radius: 1 });
    rig.quiet(10_000);
  });

  it('names a gateway it knows only from another client\'s GWINFO once that gateway accepted its CONNECT', async () => {
    const gw = await gateway();
    const bc = await gateway();
    const other = await gateway();
    const rig = await searcher(bc, { random: () => 0.5, tGwInfo: 5000 });
    await rig.deliver(other, { type: MsgType.GWINFO, gwId: 5, data: gwAdd(gw.port) });
    await rig.deliver(other, { type: MsgType.SEARCHGW, radius: 1 });
    rig.quiet(10_000); // second-hand only: not passed on
    rig.take();
    await rig.connect(gw);
    await rig.deliver(other, { type: MsgType.SEARCHGW, radius: 1 });
    rig.poll(2500);
    const g = await bc.expect(MsgType.GWINFO);
    expect([g.m.gwId, [...g.data]]).toEqual([5, [...gwAdd(gw.port)]]);
  });

  it("another client's GWINFO does not keep a silent gateway alive: it is dropped after N_ADV periods all the same", async () => {
    const gw = await gateway();
    const bc = await gateway();
    const other = await gateway();
    const rig = await searcher(bc, { nAdv: 2 });
    await rig.deliver(gw, { type: MsgType.ADVERTISE, gwId: 5, duration: 60 });
    const h = rig.tr.peers.find('127.0.0.1', gw.port);
    rig.take();
    rig.poll(100_000);
    await rig.deliver(other, { type: MsgType.GWINFO, gwId: 5, data: gwAdd(gw.port) });
    rig.poll(50_001); // 2 × 60 s + 30 s after the ADVERTISE
    expect(rig.take()).toEqual([['gateway', 5, h, false]]);
  });

  it('names the gateway by the address it had when heard, even after its peer handle went to another sender', async () => {
    const gw = await gateway();
    const bc = await gateway();
    const rig = await Rig.create(null, { random: () => 0.5, tGwInfo: 5000 }, { broadcast: { address: '127.0.0.1', port: bc.port }, peers: 2 });
    track(rig);
    await rig.deliver(gw, { type: MsgType.ADVERTISE, gwId: 5, duration: 900 });
    const h = rig.tr.peers.find('127.0.0.1', gw.port);
    // Two more senders: the second takes the gateway's slot (the least recently used).
    const x = await gateway();
    const y = await gateway();
    await rig.deliver(x, { type: MsgType.SEARCHGW, radius: 1 });
    await rig.deliver(y, { type: MsgType.SEARCHGW, radius: 1 });
    expect(rig.tr.peers.find('127.0.0.1', gw.port)).toBeLessThan(0);
    expect(rig.tr.peers.port(h)).not.toBe(gw.port);
    rig.poll(2500);
    const g = await bc.expect(MsgType.GWINFO);
    expect([...g.data]).toEqual([...gwAdd(gw.port)]);
  });

  it('does not answer while it knows no gateway', async () => {
    const bc = await gateway();
    const other = await gateway();
    const rig = await searcher(bc, { random: () => 0.5 });
    await rig.deliver(other, { type: MsgType.SEARCHGW, radius: 1 });
    rig.quiet(10_000);
  });
});

describe('SnClient › ADVERTISE (§6.1)', () => {
  it('an ADVERTISE adds the gateway to the list; connect() then uses it without searching', async () => {
    const gw = await gateway();
    const rig = await searcher(gw);
    await rig.deliver(gw, { type: MsgType.ADVERTISE, gwId: 3, duration: 900 });
    const h = rig.c.gateway();
    expect(rig.take()).toEqual([['gateway', 3, rig.tr.peers.find('127.0.0.1', gw.port), true]]);
    expect(h).toBe(-1); // known, not yet in use
    rig.c.connect();
    expect(rig.c.state()).toBe(SnState.Connecting);
    rig.poll();
    await gw.expect(MsgType.CONNECT);
  });

  it('an ADVERTISE stops a running search and lets connect() go on', async () => {
    const gw = await gateway();
    const rig = await searcher(gw, { random: () => 0.9 });
    rig.c.connect();
    rig.poll();
    await rig.deliver(gw, { type: MsgType.ADVERTISE, gwId: 4, duration: 60 });
    expect(rig.c.state()).toBe(SnState.Connecting);
    rig.poll(5000);
    await gw.expect(MsgType.CONNECT); // and no SEARCHGW before it
  });

  it('a gateway that misses N_ADV advertisements is dropped, and the client fails over to the other gateway', async () => {
    const gw1 = await gateway();
    const gw2 = await gateway();
    const rig = await searcher(gw1, { nAdv: 2, keepAlive: 0 });
    await rig.deliver(gw1, { type: MsgType.ADVERTISE, gwId: 1, duration: 10 });
    await rig.deliver(gw2, { type: MsgType.ADVERTISE, gwId: 2, duration: 10 });
    const h1 = rig.tr.peers.find('127.0.0.1', gw1.port);
    const h2 = rig.tr.peers.find('127.0.0.1', gw2.port);
    rig.take();
    const start = rig.t;
    await rig.connect(gw1);
    expect(rig.c.gateway()).toBe(h1);
    // gw2 keeps advertising every 10 s, gw1 falls silent.
    for (let i = 1; i <= 2; i++) {
      rig.t = start + i * 10_000;
      await rig.deliver(gw2, { type: MsgType.ADVERTISE, gwId: 2, duration: 10 });
    }
    rig.t = start;
    rig.quiet(25_000); // N_ADV periods plus half a period of tolerance
    rig.poll(1);
    expect(rig.take()).toEqual([
      ['gateway', 1, h1, false],
      ['error', -13],
    ]);
    expect(rig.c.gateway()).toBe(h2);
    expect(rig.c.state()).toBe(SnState.Connecting);
    await gw2.expect(MsgType.CONNECT);
    await rig.deliver(gw2, { type: MsgType.CONNACK, returnCode: 0 });
    expect(rig.c.state()).toBe(SnState.Active);
  });

  it('a dropped gateway that was not in use is only reported', async () => {
    const gw = await gateway();
    const rig = await searcher(gw);
    await rig.deliver(gw, { type: MsgType.ADVERTISE, gwId: 5, duration: 100 });
    rig.take();
    rig.quiet(250_000);
    rig.poll(1);
    expect(rig.take()).toEqual([['gateway', 5, rig.tr.peers.find('127.0.0.1', gw.port), false]]);
    rig.c.connect();
    expect(rig.c.state()).toBe(SnState.Searching);
  });
});

describe('SnClient › failover on retransmission failure (§6.11, §6.13)', () => {
  it('after N_RETRY unanswered PINGREQs it connects to another gateway, and back to the first when that fails too', async () => {
    const gw1 = await gateway();
    const gw2 = await gateway();
    const rig = await Rig.create(gw1, { keepAlive: 60, nRetry: 1 });
    track(rig);
    await rig.deliver(gw2, { type: MsgType.ADVERTISE, gwId: 2, duration: 3600 });
    rig.take();
    await rig.connect(gw1);
    rig.poll(60_000);
    await gw1.expect(MsgType.PINGREQ);
    rig.poll(10_000);
    await gw1.expect(MsgType.PINGREQ);
    rig.poll(10_000);
    expect(rig.take()).toEqual([['error', -13]]);
    await gw2.expect(MsgType.CONNECT);
    // gw2 does not answer either: back to the configured gw1.
    rig.poll(10_000);
    await gw2.expect(MsgType.CONNECT);
    rig.poll(10_000);
    expect(rig.take()).toEqual([['error', -13]]);
    await gw1.expect(MsgType.CONNECT);
    await rig.deliver(gw1, { type: MsgType.CONNACK, returnCode: 0 });
    expect(rig.c.gateway()).toBe(0);
  });

  it('with no gateway left and none configured, it searches again', async () => {
    const gw = await gateway();
    const rig = await searcher(gw, { random: () => 0, nRetry: 0 });
    await rig.deliver(gw, { type: MsgType.ADVERTISE, gwId: 2, duration: 3600 });
    rig.take();
    rig.c.connect();
    rig.poll();
    await gw.expect(MsgType.CONNECT);
    rig.poll(10_000);
    expect(rig.take()).toEqual([['error', -13]]);
    expect(rig.c.state()).toBe(SnState.Searching);
    rig.poll();
    await gw.expect(MsgType.SEARCHGW);
  });
});
