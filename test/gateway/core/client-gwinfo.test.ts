/**
 * Gateway discovery through another client (MQTT-SN 1.2 §6.1, §5.4.3), end to end: a sensor (B)
 * out of the gateway's radio range finds it through a sensor (A) that knows it.
 *
 * - The radio is modelled by two relays that carry broadcasts only: what A broadcasts reaches B,
 *   what B broadcasts reaches A, and neither reaches the gateway. Unicast goes straight.
 * - A learns the gateway from a GWINFO that names it by address (GwAdd), as a client's GWINFO
 *   does, and connects to it: accepted, the gateway is known first-hand, and A may name it.
 * - B searches: its SEARCHGW reaches only A, which answers with GWINFO (GwId, GwAdd) after its
 *   random T_GWINFO delay. B takes the gateway from GwAdd, connects to the real fieldmq gateway,
 *   and a QoS 1 reading reaches the broker.
 */
import dgram from 'node:dgram';
import { afterEach, describe, expect, it } from 'vitest';
import { SnClient, SnState } from '../../../src/mqttsn/client';
import { MsgType } from '../../../src/mqttsn';
import { NodeUdpTransport } from '../../../src/platform/node/udp';
import { encode, Rig, until } from './harness';

const stops: (() => unknown)[] = [];
afterEach(async () => {
  for (const f of stops.splice(0).reverse()) await f();
});

/** A socket that forwards every datagram it receives to `to()` (the radio's broadcast reach). */
async function relay(to: () => number): Promise<{ port: number; carried: number }> {
  const s = dgram.createSocket('udp4');
  const r = { port: 0, carried: 0 };
  s.on('message', (msg) => {
    r.carried++;
    s.send(msg, to(), '127.0.0.1');
  });
  await new Promise<void>((res) => s.bind(0, '127.0.0.1', () => res()));
  r.port = s.address().port;
  stops.push(() => s.close());
  return r;
}

/** An SnClient on UDP whose BROADCAST goes to `bc`, polled in real time. */
async function sensor(clientId: string, bc: number): Promise<{ c: SnClient; tr: NodeUdpTransport; events: string[] }> {
  const tr = new NodeUdpTransport({ localAddress: '127.0.0.1', broadcast: { address: '127.0.0.1', port: bc } });
  tr.open();
  await tr.ready();
  const events: string[] = [];
  const c = new SnClient({
    transport: tr,
    clientId,
    tSearchGw: 50,
    tGwInfo: 50,
    keepAlive: 30,
    onGateway: (id, _h, up) => events.push(`gateway ${id} ${up}`),
    onConnect: (rc) => events.push(`connack ${rc}`),
    onPublished: (_id, rc) => events.push(`puback ${rc}`),
  });
  const timer = setInterval(() => c.poll(Math.floor(performance.now()) >>> 0), 2);
  stops.push(() => {
    clearInterval(timer);
    tr.close();
  });
  return { c, tr, events };
}

describe('discovery through another client (§6.1)', () => {
  it('a sensor out of the gateway\'s range learns it from a neighbour\'s GWINFO (GwAdd), connects, and its reading reaches the broker', async () => {
    const rig = await Rig.start({ mode: 'transparent', config: { gatewayId: 7 } });
    stops.push(() => rig.stop());
    const w = await rig.watcher([['relayed/data', 1]]);
    const ports = { a: 0, b: 0 };
    const fromA = await relay(() => ports.b); // A's broadcasts reach B only
    const fromB = await relay(() => ports.a); // B's broadcasts reach A only
    const a = await sensor('sensor-a', fromA.port);
    const b = await sensor('sensor-b', fromB.port);
    ports.a = a.tr.localPort();
    ports.b = b.tr.localPort();

    // A learns the gateway by address: a GWINFO with GwAdd (127.0.0.1 and its port), then connects.
    const gwAdd = Uint8Array.of(127, 0, 0, 1, rig.port >> 8, rig.port & 0xff);
    const note = dgram.createSocket('udp4');
    stops.push(() => note.close());
    note.send(encode({ type: MsgType.GWINFO, gwId: 7, data: gwAdd }), ports.a, '127.0.0.1');
    await until('A knows the gateway', () => a.events.includes('gateway 7 true'));
    a.c.connect();
    await until('A connected', () => a.events.includes('connack 0'));

    // B searches; only A hears it, and answers.
    b.c.connect();
    expect(b.c.state()).toBe(SnState.Searching);
    await until('B connected through the gateway A named', () => b.events.includes('connack 0'));
    expect(b.events.slice(0, 2)).toEqual(['gateway 7 true', 'connack 0']);
    expect(fromB.carried).toBeGreaterThan(0); // B's SEARCHGW went over the radio to A
    expect(fromA.carried).toBeGreaterThan(0); // and A's GWINFO came back the same way
    expect(b.tr.peers.find('127.0.0.1', rig.port)).toBe(b.c.gateway());
    expect(rig.state('sensor-b')).toBe('active');

    const id = b.c.publish('relayed/data', '21.5', 1, false);
    expect(id).toBeGreaterThan(0);
    expect((await w.message('relayed/data', '21.5')).qos).toBe(1);
    await until('the PUBACK at B', () => b.events.includes('puback 0'));
  });
});
