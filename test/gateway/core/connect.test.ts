/** Gateway core › CONNECT, the Will, keep-alive and DISCONNECT (MQTT-SN 1.2 §6.2–§6.4, §6.11, §6.12). */
import { afterEach, describe, expect, it } from 'vitest';
import { MsgType, TopicIdType } from '../../../src/mqttsn';
import { RawClient, Rig, until } from './harness';

let rig: Rig;
afterEach(async () => {
  await rig?.stop();
});

/** CONNECT with the Will flag, then the Will flow; ends with the CONNACK. */
async function connectWithWill(c: RawClient, clientId: string, topic: string, msg: string, o: { duration?: number; clean?: boolean } = {}): Promise<number> {
  c.send({ type: MsgType.CONNECT, will: true, cleanSession: o.clean ?? true, duration: o.duration ?? 60, text: clientId });
  await c.expect(MsgType.WILLTOPICREQ);
  c.send({ type: MsgType.WILLTOPIC, qos: 1, retain: false, text: topic });
  await c.expect(MsgType.WILLMSGREQ);
  c.send({ type: MsgType.WILLMSG, text: msg });
  return (await c.expect(MsgType.CONNACK)).m.returnCode;
}

for (const mode of ['transparent', 'aggregating'] as const) {
  describe(`connection (${mode})`, () => {
    it('runs the Will flow (WILLTOPICREQ, WILLMSGREQ, CONNACK) and publishes the Will when keep-alive expires', async () => {
      rig = await Rig.start({ mode });
      const w = await rig.watcher([['will/#', 1]]);
      const c = await rig.raw();
      expect(await connectWithWill(c, 'raw-will', 'will/raw', 'gone', { duration: 10 })).toBe(0);
      expect(rig.state('raw-will')).toBe('active');
      rig.advance(10_000 * 1.5 - 1);
      expect(rig.state('raw-will')).toBe('active');
      rig.advance(1);
      expect(rig.state('raw-will')).toBe('lost');
      expect(await w.message('will/raw', 'gone')).toMatchObject({ qos: 1 });
      expect(rig.metrics.clients.lost).toBe(1);
      expect(rig.metrics.clients.active).toBe(0);
      // The lost client's next packet is answered with DISCONNECT (§6.12): it connects again.
      c.send({ type: MsgType.PINGREQ });
      await c.expect(MsgType.DISCONNECT);
    });

    it('keep-alive: any message from the client restarts the timer', async () => {
      rig = await Rig.start({ mode });
      const c = await rig.raw();
      await c.connect('raw-ka', { duration: 10 });
      rig.advance(14_000);
      await c.barrier(); // PINGREQ → PINGRESP: seen now
      rig.advance(14_000);
      expect(rig.state('raw-ka')).toBe('active');
      rig.advance(1_000);
      expect(rig.state('raw-ka')).toBe('lost');
    });

    it('DISCONNECT is answered with DISCONNECT and publishes no Will', async () => {
      rig = await Rig.start({ mode });
      const w = await rig.watcher([['will/#', 1]]);
      const c = await rig.raw();
      expect(await connectWithWill(c, 'raw-bye', 'will/bye', 'gone')).toBe(0);
      c.send({ type: MsgType.DISCONNECT });
      const d = await c.expect(MsgType.DISCONNECT);
      expect(d.bytes.length).toBe(2);
      expect(rig.state('raw-bye')).toBe('disconnected');
      rig.advance(1_000_000); // no timer runs for a disconnected client
      await w.publish('will/bye', 'marker', 1);
      expect((await w.message('will/bye')).payload).toBe('marker');
    });

    it('a client reconnecting from a new address takes its session over, without its Will', async () => {
      rig = await Rig.start({ mode });
      const w = await rig.watcher([['will/#', 1], ['moved/#', 1]]);
      const old = await rig.raw();
      expect(await connectWithWill(old, 'mover', 'will/mover', 'gone', { clean: false })).toBe(0);
      const id = await old.register('moved/t');
      const now = await rig.raw();
      await now.connect('mover', { clean: false });
      // the registration survives (CleanSession=0) and works from the new address
      now.send({ type: MsgType.PUBLISH, qos: 1, topicIdType: TopicIdType.Normal, topicId: id, msgId: 3, text: 'here' });
      expect((await now.expect(MsgType.PUBACK)).m.returnCode).toBe(0);
      await w.message('moved/t', 'here');
      // the old address no longer has a session
      old.send({ type: MsgType.PUBLISH, qos: 0, topicIdType: TopicIdType.Normal, topicId: id, text: 'old' });
      await old.expect(MsgType.DISCONNECT);
      expect(rig.gw.clients()).toEqual([{ clientId: 'mover', address: now.address, transport: 'udp', state: 'active' }]);
      await w.publish('will/mover', 'marker', 1);
      expect((await w.message('will/mover')).payload).toBe('marker');
    });

    it('a CONNECT with another ClientId from a bound address ends the previous client as lost (Will published)', async () => {
      rig = await Rig.start({ mode });
      const w = await rig.watcher([['will/#', 1]]);
      const c = await rig.raw();
      expect(await connectWithWill(c, 'first', 'will/first', 'replaced')).toBe(0);
      await c.connect('second');
      await w.message('will/first', 'replaced');
      expect(rig.state('first')).toBe('lost');
      expect(rig.state('second')).toBe('active');
    });

    it('Will updates (§6.4): WILLTOPICUPD and WILLMSGUPD are answered and the new Will is the one published', async () => {
      rig = await Rig.start({ mode });
      const w = await rig.watcher([['will/#', 1]]);
      const c = await rig.raw();
      expect(await connectWithWill(c, 'upd', 'will/a', 'one', { duration: 5 })).toBe(0);
      c.send({ type: MsgType.WILLTOPICUPD, qos: 0, retain: false, text: 'will/b' });
      expect((await c.expect(MsgType.WILLTOPICRESP)).m.returnCode).toBe(0);
      c.send({ type: MsgType.WILLMSGUPD, text: 'two' });
      expect((await c.expect(MsgType.WILLMSGRESP)).m.returnCode).toBe(0);
      c.send({ type: MsgType.WILLTOPICUPD, qos: 0, retain: false, text: 'bad/#' });
      expect((await c.expect(MsgType.WILLTOPICRESP)).m.returnCode).toBe(3);
      rig.advance(8_000);
      expect(await w.message('will/b', 'two')).toBeTruthy();
      expect(w.seen.filter((m) => m.topic === 'will/a')).toEqual([]);
    });

    it('an empty WILLTOPICUPD deletes the Will', async () => {
      rig = await Rig.start({ mode });
      const w = await rig.watcher([['will/#', 1]]);
      const c = await rig.raw();
      expect(await connectWithWill(c, 'nowill', 'will/none', 'x', { duration: 5 })).toBe(0);
      c.send({ type: MsgType.WILLTOPICUPD, hasFlags: false });
      expect((await c.expect(MsgType.WILLTOPICRESP)).m.returnCode).toBe(0);
      rig.advance(8_000);
      expect(rig.state('nowill')).toBe('lost');
      await w.publish('will/none', 'marker', 1);
      expect((await w.message('will/none')).payload).toBe('marker');
    });
  });
}

describe('CONNECT procedure details', () => {
  it('an empty WILLTOPIC means no Will: CONNACK follows at once', async () => {
    rig = await Rig.start({ hand: true });
    const c = await rig.raw();
    c.send({ type: MsgType.CONNECT, will: true, cleanSession: true, duration: 30, text: 'empty-will' });
    await c.expect(MsgType.WILLTOPICREQ);
    c.send({ type: MsgType.WILLTOPIC, hasFlags: false });
    expect((await c.expect(MsgType.CONNACK)).m.returnCode).toBe(0);
    expect(rig.hand!.calls).toContain('connect empty-will clean=true will=-');
  });

  it('a Will flow left unfinished times out and frees its session', async () => {
    rig = await Rig.start({ timers: { willTimeout: 5_000 } });
    const c = await rig.raw();
    c.send({ type: MsgType.CONNECT, will: true, cleanSession: true, duration: 30, text: 'half' });
    await c.expect(MsgType.WILLTOPICREQ);
    expect(rig.state('half')).toBe('connecting');
    rig.advance(4_999);
    expect(rig.state('half')).toBe('connecting');
    rig.advance(1);
    expect(rig.state('half')).toBeUndefined();
    c.send({ type: MsgType.WILLMSG, text: 'late' });
    await c.expect(MsgType.DISCONNECT); // no session any more
  });

  it('a CONNECT in the middle of the Will flow restarts it', async () => {
    rig = await Rig.start({ hand: true });
    const c = await rig.raw();
    c.send({ type: MsgType.CONNECT, will: true, cleanSession: true, duration: 30, text: 'again' });
    await c.expect(MsgType.WILLTOPICREQ);
    c.send({ type: MsgType.WILLTOPIC, qos: 0, text: 'will/first' });
    await c.expect(MsgType.WILLMSGREQ);
    c.send({ type: MsgType.CONNECT, will: true, cleanSession: true, duration: 30, text: 'again' });
    await c.expect(MsgType.WILLTOPICREQ);
    c.send({ type: MsgType.WILLTOPIC, qos: 0, text: 'will/second' });
    await c.expect(MsgType.WILLMSGREQ);
    c.send({ type: MsgType.WILLMSG, text: 'x' });
    expect((await c.expect(MsgType.CONNACK)).m.returnCode).toBe(0);
    expect(rig.hand!.calls.filter((x) => x.startsWith('connect'))).toEqual(['connect again clean=true will=will/second']);
  });

  it('refuses an invalid Will topic with CONNACK "not supported"', async () => {
    rig = await Rig.start();
    const c = await rig.raw();
    c.send({ type: MsgType.CONNECT, will: true, cleanSession: true, duration: 30, text: 'badwill' });
    await c.expect(MsgType.WILLTOPICREQ);
    c.send({ type: MsgType.WILLTOPIC, qos: 0, text: 'a/+' });
    expect((await c.expect(MsgType.CONNACK)).m.returnCode).toBe(3);
    expect(rig.state('badwill')).toBeUndefined();
  });

  it('maxClients reached: CONNACK "congestion"; a listed client reconnecting still gets in', async () => {
    rig = await Rig.start({ config: { maxClients: 2 } });
    const [a, b, c] = [await rig.raw(), await rig.raw(), await rig.raw()];
    await a.connect('c1');
    await b.connect('c2');
    await c.connect('c3', { rc: 1 });
    expect(rig.metrics.drops.congestion).toBe(1);
    await a.connect('c1'); // a reconnect is not a new client
    a.send({ type: MsgType.DISCONNECT });
    await a.expect(MsgType.DISCONNECT);
    await c.connect('c3');
  });

  it('authentication: only listed ClientIds, and only from their address', async () => {
    const [good, moved] = await Promise.all([RawClient.open(), RawClient.open()]);
    rig = await Rig.start({
      config: { authentication: true, clients: [{ clientId: 'known', address: good.address, flags: [] }] },
    });
    rig.adopt(good);
    rig.adopt(moved);
    await good.connect('stranger', { rc: 3 });
    await moved.connect('known', { rc: 3 });
    await good.connect('known');
    expect(rig.metrics.drops.unauthorized).toBe(2);
  });

  it('keepAlive limit: a CONNECT asking for more (or for none) is refused with "not supported"', async () => {
    rig = await Rig.start({ config: { keepAlive: 60 } });
    const c = await rig.raw();
    await c.connect('ka', { duration: 61, rc: 3 });
    await c.connect('ka', { duration: 0, rc: 3 });
    await c.connect('ka', { duration: 60 });
  });

  it('an empty ClientId is refused with "not supported"', async () => {
    rig = await Rig.start();
    const c = await rig.raw();
    c.send({ type: MsgType.CONNECT, cleanSession: true, duration: 30 });
    expect((await c.expect(MsgType.CONNACK)).m.returnCode).toBe(3);
  });

  it('CleanSession=1 forgets registrations; CleanSession=0 keeps them (§6.3)', async () => {
    rig = await Rig.start();
    const c = await rig.raw();
    await c.connect('cs', { clean: false });
    const id = await c.register('cs/topic');
    c.send({ type: MsgType.DISCONNECT });
    await c.expect(MsgType.DISCONNECT);
    await c.connect('cs', { clean: false });
    c.send({ type: MsgType.PUBLISH, qos: 1, topicIdType: TopicIdType.Normal, topicId: id, msgId: 1, text: 'kept' });
    expect((await c.expect(MsgType.PUBACK)).m.returnCode).toBe(0);
    await c.connect('cs', { clean: true });
    c.send({ type: MsgType.PUBLISH, qos: 1, topicIdType: TopicIdType.Normal, topicId: id, msgId: 2, text: 'gone' });
    expect((await c.expect(MsgType.PUBACK)).m.returnCode).toBe(2);
  });

  it('a CleanSession=0 client resuming at an address another client holds keeps its session, even with the idle records full', async () => {
    // maxClients 1: at most one idle record is kept. Ending the client at the address adds
    // one; the record evicted for it must not be the one being resumed.
    rig = await Rig.start({ config: { maxClients: 1 } });
    const a = await rig.raw();
    await a.connect('keeper', { clean: false });
    const id = await a.register('keep/t');
    a.send({ type: MsgType.DISCONNECT });
    await a.expect(MsgType.DISCONNECT);
    const b = await rig.raw();
    await b.connect('squatter');
    await b.connect('keeper', { clean: false });
    expect(rig.state('keeper')).toBe('active');
    expect(rig.state('squatter')).toBe('lost');
    expect(rig.metrics.clients).toMatchObject({ active: 1, lost: 1, disconnected: 0 });
    b.send({ type: MsgType.PUBLISH, qos: 1, topicIdType: TopicIdType.Normal, topicId: id, msgId: 1, text: 'kept' });
    expect((await b.expect(MsgType.PUBACK)).m.returnCode).toBe(0);
    // still supervised (a record outside the table would never be)
    rig.advance(90_000);
    expect(rig.state('keeper')).toBe('lost');
  });

  it('an empty WILLTOPIC repeated after its CONNACK (the CONNACK was lost) gets the CONNACK again', async () => {
    rig = await Rig.start({ hand: true });
    const c = await rig.raw();
    c.send({ type: MsgType.CONNECT, will: true, cleanSession: true, duration: 30, text: 'lostack' });
    await c.expect(MsgType.WILLTOPICREQ);
    c.send({ type: MsgType.WILLTOPIC, hasFlags: false });
    expect((await c.expect(MsgType.CONNACK)).m.returnCode).toBe(0);
    c.send({ type: MsgType.WILLTOPIC, hasFlags: false });
    expect((await c.expect(MsgType.CONNACK)).m.returnCode).toBe(0);
    expect(rig.hand!.calls.filter((x) => x.startsWith('connect'))).toEqual(['connect lostack clean=true will=-']);
    expect(rig.state('lostack')).toBe('active');
  });

  it('transparent: a PUBLISH from a client whose broker connection is gone is answered with DISCONNECT, and the client connects again', async () => {
    rig = await Rig.start({ mode: 'transparent', hand: true });
    const w = await rig.watcher([['nb/#', 1]]);
    const c = await rig.raw();
    await c.connect('orphan');
    const id = await c.register('nb/x');
    rig.hand!.real.disconnect('orphan', false); // the link forgets the client behind the core's back
    c.send({ type: MsgType.PUBLISH, qos: 1, topicIdType: TopicIdType.Normal, topicId: id, msgId: 1, text: 'lost?' });
    const d = await c.expect(MsgType.DISCONNECT);
    expect(d.bytes.length).toBe(2);
    expect(rig.state('orphan')).toBe('disconnected');
    expect(rig.metrics.drops.not_connected).toBe(1);
    // the next message from that address has no session either
    c.send({ type: MsgType.PUBLISH, qos: 0, topicIdType: TopicIdType.Normal, topicId: id, text: 'x' });
    await c.expect(MsgType.DISCONNECT);
    await c.connect('orphan');
    const id2 = await c.register('nb/x');
    c.send({ type: MsgType.PUBLISH, qos: 1, topicIdType: TopicIdType.Normal, topicId: id2, msgId: 2, text: 'again' });
    expect((await c.expect(MsgType.PUBACK)).m.returnCode).toBe(0);
    await w.message('nb/x', 'again');
    expect(w.seen).toEqual([]);
  });

  it('SnClient connects, publishes and disconnects through the gateway', async () => {
    rig = await Rig.start({ mode: 'transparent' });
    const w = await rig.watcher([['dev/#', 1]]);
    const d = await rig.device({ clientId: 'sn-dev', keepAlive: 30 });
    await d.connect();
    expect(rig.state('sn-dev')).toBe('active');
    // transparent: the broker sees the client itself
    await until('the broker session of sn-dev', () => (rig.aedes!.broker as unknown as { clients: Record<string, unknown> }).clients['sn-dev']);
    d.c.publish('dev/x', 'hello', 1, false);
    d.poll();
    await w.message('dev/x', 'hello');
    d.c.disconnect();
    d.poll();
    await until('the client disconnected', () => rig.state('sn-dev') === 'disconnected');
  });
});
