/** Gateway core › bad input and limits: nothing crashes, memory stays bounded, good clients are not disturbed. */
import { afterEach, describe, expect, it } from 'vitest';
import { MsgType, TopicIdType } from '../../../src/mqttsn';
import { badDatagrams, encode, lcg, Rig, until, wrap } from './harness';

let rig: Rig;
afterEach(async () => {
  await rig?.stop();
});


describe('bad input', () => {
  it('a flood of malformed datagrams during traffic: every one counted, the good client loses nothing', async () => {
    rig = await Rig.start();
    const w = await rig.watcher([['good/#', 1]]);
    const good = await rig.raw();
    const evil = await rig.raw();
    await good.connect('good');
    const id = await good.register('good/data');
    const bad = badDatagrams(42);
    let sent = 0;
    for (let i = 0; i < 100; i++) {
      for (let k = 0; k < 3; k++) evil.send(bad[(i * 3 + k) % bad.length]!);
      good.send({ type: MsgType.PUBLISH, qos: 1, topicIdType: TopicIdType.Normal, topicId: id, msgId: i + 1, text: `m${i}` });
      const a = await good.expect(MsgType.PUBACK);
      expect([a.m.msgId, a.m.returnCode]).toEqual([i + 1, 0]);
      sent++;
    }
    await until('every message at the broker', () => w.seen.length === sent);
    expect(w.seen.map((m) => m.payload)).toEqual(Array.from({ length: sent }, (_, i) => `m${i}`));
    const d = rig.metrics.drops;
    // The UDP transport rejects a Length that does not match the datagram itself (framing);
    // everything else reaches the decoder.
    await until('every bad datagram counted', () => d.malformed + d.framing === 300, 1000).catch(() => {
      throw new Error(`drops: ${JSON.stringify(d)}`);
    });
    expect(rig.metrics.packetsIn).toBeGreaterThanOrEqual(d.malformed + sent);
    expect(d.malformed).toBeGreaterThanOrEqual(5);
    expect(rig.metrics.packetsIn).toBeGreaterThanOrEqual(d.malformed + sent);
    expect(rig.state('good')).toBe('active');
    expect(rig.errors).toEqual([]);
  });

  it('a connected client sending random (decodable) messages disturbs nobody and crashes nothing', async () => {
    rig = await Rig.start({ config: { predefinedTopics: [{ clientId: '*', topic: 'p/1', id: 1 }] } });
    const w = await rig.watcher([['good/#', 1]]);
    const good = await rig.raw();
    const noisy = await rig.raw();
    await good.connect('good2');
    await noisy.connect('noisy', { duration: 0 });
    await noisy.subscribe('#', 2);
    const id = await good.register('good/data');
    const rnd = lcg(7);
    const types = [
      MsgType.REGISTER, MsgType.REGACK, MsgType.PUBLISH, MsgType.PUBACK, MsgType.PUBCOMP, MsgType.PUBREC, MsgType.PUBREL,
      MsgType.SUBSCRIBE, MsgType.UNSUBSCRIBE, MsgType.PINGREQ, MsgType.WILLTOPICUPD, MsgType.WILLMSGUPD, MsgType.WILLTOPIC,
      MsgType.WILLMSG, MsgType.SEARCHGW,
    ];
    for (let i = 0; i < 60; i++) {
      for (let k = 0; k < 5; k++) {
        const n = 2 + (rnd() % 10);
        const b = new Uint8Array(n);
        b[0] = n;
        b[1] = types[rnd() % types.length]!;
        for (let j = 2; j < n; j++) b[j] = rnd();
        noisy.send(b);
      }
      good.send({ type: MsgType.PUBLISH, qos: 1, topicIdType: TopicIdType.Normal, topicId: id, msgId: i + 1, text: `m${i}` });
      const a = await good.expect(MsgType.PUBACK);
      expect([a.m.msgId, a.m.returnCode]).toEqual([i + 1, 0]);
    }
    await until('every message at the broker', () => w.seen.length === 60);
    expect(w.seen.map((m) => m.payload)).toEqual(Array.from({ length: 60 }, (_, i) => `m${i}`));
    expect(rig.state('good2')).toBe('active');
    expect(rig.errors).toEqual([]);
  });

  it('types a client never sends are dropped as unexpected_type; session messages without a session get DISCONNECT', async () => {
    rig = await Rig.start();
    const c = await rig.raw();
    for (const type of [MsgType.CONNACK, MsgType.WILLTOPICREQ, MsgType.WILLMSGREQ, MsgType.PINGRESP]) c.send({ type });
    c.send({ type: MsgType.SUBACK, msgId: 1, topicId: 1 });
    await until('five unexpected', () => rig.metrics.drops.unexpected_type === 5);
    c.send({ type: MsgType.PUBLISH, qos: 0, topicIdType: TopicIdType.Normal, topicId: 1, text: 'x' });
    await c.expect(MsgType.DISCONNECT);
    c.send({ type: MsgType.SUBSCRIBE, qos: 0, msgId: 1, text: 'a' });
    await c.expect(MsgType.DISCONNECT);
    expect(rig.metrics.drops.not_connected).toBe(2);
    // ADVERTISE and GWINFO from others are silently ignored
    c.send({ type: MsgType.ADVERTISE, gwId: 9, duration: 10 });
    c.send({ type: MsgType.GWINFO, gwId: 9 });
    await c.connect('after');
    expect(rig.metrics.drops.unexpected_type).toBe(5);
  });

  it('a DISCONNECT from an address with no session is not answered: two gateways cannot bounce DISCONNECTs for ever', async () => {
    rig = await Rig.start();
    const other = await Rig.start();
    try {
      // The second gateway's own socket sends one DISCONNECT to the first, as a forged
      // datagram (source: a gateway) would make it.
      expect(other.udp.send(encode({ type: MsgType.DISCONNECT }), `127.0.0.1:${rig.port}`)).toBe(true);
      await until('the first gateway counted it', () => rig.metrics.drops.not_connected >= 1);
      // Barriers on both: each has handled everything that arrived before its PINGRESP.
      const c1 = await rig.raw();
      await c1.connect('b1');
      await c1.barrier();
      const c2 = await other.raw();
      await c2.connect('b2');
      await c2.barrier();
      await c1.barrier();
      expect([rig.metrics.drops.not_connected, other.metrics.drops.not_connected]).toEqual([1, 0]);
      expect(c1.queued + c2.queued).toBe(0);
    } finally {
      await other.stop();
    }
  });

  it('a datagram larger than the transport MTU is dropped as too_large', async () => {
    rig = await Rig.start({ mtu: 200 });
    const c = await rig.raw();
    await c.connect('big');
    const id = await c.register('big/t');
    c.send({ type: MsgType.PUBLISH, qos: 1, topicIdType: TopicIdType.Normal, topicId: id, msgId: 1, data: new Uint8Array(300) });
    await until('too_large counted', () => rig.metrics.drops.too_large === 1);
    await c.barrier();
  });

  it('a message from the broker too large for the client link is silently aborted (§6.10)', async () => {
    rig = await Rig.start({ mtu: 200 });
    const w = await rig.watcher();
    const c = await rig.raw();
    await c.connect('small-link');
    await c.subscribe('huge/x', 0);
    await w.publish('huge/x', 'x'.repeat(300));
    await until('too_large counted', () => rig.metrics.drops.too_large === 1);
    await w.publish('huge/x', 'fits');
    expect((await c.expect(MsgType.PUBLISH)).text).toBe('fits');
  });
});

describe('limits', () => {
  it('a flood of CONNECTs with new ClientIds stops at maxClients; idle records stay bounded', async () => {
    rig = await Rig.start({ config: { maxClients: 5 } });
    const c = await rig.raw();
    let congested = 0;
    for (let i = 0; i < 40; i++) {
      c.send({ type: MsgType.CONNECT, cleanSession: i % 2 === 0, duration: 30, text: `flood-${i}` });
      const r = await c.expect(MsgType.CONNACK);
      if (r.m.returnCode === 1) congested++;
    }
    // One address: each CONNECT ends the previous client there, so all are accepted ...
    expect(congested).toBe(0);
    const others = await Promise.all(Array.from({ length: 6 }, () => rig.raw()));
    for (let i = 0; i < 6; i++) others[i]!.send({ type: MsgType.CONNECT, cleanSession: true, duration: 30, text: `o-${i}` });
    const rcs = await Promise.all(others.map(async (o) => (await o.expect(MsgType.CONNACK)).m.returnCode));
    // ... while distinct addresses hit the limit (one slot is held by the last flood client).
    expect(rcs.filter((x) => x === 0).length).toBe(4);
    expect(rcs.filter((x) => x === 1).length).toBe(2);
    expect(rig.metrics.clients.active).toBe(5);
    expect(rig.gw.clients().length).toBeLessThanOrEqual(10); // 5 open + at most maxClients idle
  });

  it('half-finished Will flows from many clients are timed out and freed', async () => {
    rig = await Rig.start({ config: { maxClients: 10 }, timers: { willTimeout: 2_000 } });
    const rs = await Promise.all(Array.from({ length: 10 }, () => rig.raw()));
    for (let i = 0; i < 10; i++) rs[i]!.send({ type: MsgType.CONNECT, will: true, cleanSession: true, duration: 30, text: `half-${i}` });
    await Promise.all(rs.map((r) => r.expect(MsgType.WILLTOPICREQ)));
    const late = await rig.raw();
    await late.connect('late', { rc: 1 });
    rig.advance(2_000);
    expect(rig.gw.clients()).toEqual([]);
    await late.connect('late');
  });

  it('SUBSCRIBE beyond maxTopicsPerClient subscriptions → SUBACK "congestion"; a filter already held can still be subscribed again', async () => {
    rig = await Rig.start({ mode: 'aggregating', hand: true, config: { maxTopicsPerClient: 2 } });
    const c = await rig.raw();
    await c.connect('greedy');
    expect((await c.subscribe('w/a/#', 0, 1)).returnCode).toBe(0);
    expect((await c.subscribe('w/b/#', 0, 2)).returnCode).toBe(0);
    const full = await c.subscribe('w/c/#', 0, 3);
    expect([full.returnCode, full.topicId]).toEqual([1, 0]);
    const again = await c.subscribe('w/a/#', 1, 4);
    expect([again.returnCode, again.qos]).toEqual([0, 1]);
    expect(rig.hand!.calls.filter((x) => x.startsWith('subscribe '))).toEqual(['subscribe greedy w/a/# 0', 'subscribe greedy w/b/# 0', 'subscribe greedy w/a/# 1']);
    expect(rig.metrics.drops.congestion).toBe(1);
  });

  it('at most 4 SUBSCRIBE / UNSUBSCRIBE per client wait for the broker, also across reconnects; more get "congestion"', async () => {
    rig = await Rig.start({ mode: 'aggregating', hand: true });
    const hand = rig.hand!;
    const c = await rig.raw();
    await c.connect('piler');
    hand.holdSubs = true;
    for (let i = 1; i <= 4; i++) c.send({ type: MsgType.SUBSCRIBE, qos: 0, msgId: i, text: `pile/${i}` });
    await until('four subscriptions with the link', () => hand.heldSubs.length === 4);
    c.send({ type: MsgType.SUBSCRIBE, qos: 0, msgId: 5, text: 'pile/5' });
    const r5 = await c.expect(MsgType.SUBACK);
    expect([r5.m.msgId, r5.m.returnCode]).toEqual([5, 1]);
    // reconnecting does not make room: the four are still with the link
    await c.connect('piler');
    c.send({ type: MsgType.SUBSCRIBE, qos: 0, msgId: 6, text: 'pile/6' });
    const r6 = await c.expect(MsgType.SUBACK);
    expect([r6.m.msgId, r6.m.returnCode]).toEqual([6, 1]);
    c.send({ type: MsgType.UNSUBSCRIBE, msgId: 7, text: 'pile/1' });
    await c.barrier(); // UNSUBACK has no return code: not answered
    hand.releaseSubs();
    // the answers of the earlier connection go nowhere; there is room again
    expect((await c.subscribe('pile/8', 0, 8)).returnCode).toBe(0);
    expect(hand.calls.filter((x) => x.startsWith('subscribe ') || x.startsWith('unsubscribe ')).length).toBe(5);
  });

  it('an idle CleanSession=0 record evicted to make room is forgotten by the broker link, its subscriptions released', async () => {
    rig = await Rig.start({ mode: 'aggregating', hand: true, config: { maxClients: 1 } });
    const w = await rig.watcher();
    const a = await rig.raw();
    await a.connect('old', { clean: false });
    await a.subscribe('ev/old', 1);
    a.send({ type: MsgType.DISCONNECT });
    await a.expect(MsgType.DISCONNECT);
    // a second idle record is one more than maxClients (1) keeps: the oldest goes
    rig.advance(1_000);
    await a.connect('newer');
    a.send({ type: MsgType.DISCONNECT });
    await a.expect(MsgType.DISCONNECT);
    expect(rig.state('old')).toBeUndefined();
    await until('the link forgot the evicted record', () => rig.hand!.calls.includes('forget old'));
    expect(rig.hand!.calls.filter((x) => x.startsWith('forget '))).toEqual(['forget old']);
    const b = await rig.raw();
    await b.connect('marker');
    await b.subscribe('ev/marker', 0);
    await w.publish('ev/old', 'nobody wants this', 1);
    await w.publish('ev/marker', 'm', 0);
    expect((await b.expect(MsgType.PUBLISH)).text).toBe('m');
    expect(rig.metrics.brokerIn).toBe(1); // ev/old no longer reaches the gateway
  });

  it('REGISTER beyond maxTopicsPerClient → REGACK "congestion"; wildcard REGISTER → "not supported"', async () => {
    rig = await Rig.start({ config: { maxTopicsPerClient: 2 } });
    const c = await rig.raw();
    await c.connect('topics');
    const a = await c.register('t/a', 1);
    expect(await c.register('t/a', 2)).toBe(a); // same name, same id
    await c.register('t/b', 3);
    c.send({ type: MsgType.REGISTER, msgId: 4, text: 't/c' });
    const full = await c.expect(MsgType.REGACK);
    expect([full.m.msgId, full.m.returnCode]).toEqual([4, 1]);
    c.send({ type: MsgType.REGISTER, msgId: 5, text: 't/+' });
    expect((await c.expect(MsgType.REGACK)).m.returnCode).toBe(3);
  });
});

describe('forwarder encapsulation (§5.5)', () => {
  it('keys clients by forwarder address + Wireless Node Id and wraps replies with the same node id', async () => {
    rig = await Rig.start({ config: { forwarder: true } });
    const w = await rig.watcher([['fw/#', 0]]);
    const fwd = await rig.raw();
    fwd.send(wrap([0x0a, 0x01], encode({ type: MsgType.CONNECT, cleanSession: true, duration: 30, text: 'node-1' })));
    const c1 = await fwd.expect(MsgType.CONNACK);
    expect([c1.nodeId, c1.m.returnCode]).toEqual(['0a01', 0]);
    fwd.send(wrap([0x0a, 0x02], encode({ type: MsgType.CONNECT, cleanSession: true, duration: 30, text: 'node-2' })));
    expect((await fwd.expect(MsgType.CONNACK)).nodeId).toBe('0a02');
    fwd.send(wrap([0x0a, 0x01], encode({ type: MsgType.REGISTER, msgId: 1, text: 'fw/one' })));
    const r = await fwd.expect(MsgType.REGACK);
    expect(r.nodeId).toBe('0a01');
    fwd.send(wrap([0x0a, 0x01], encode({ type: MsgType.PUBLISH, qos: 0, topicIdType: TopicIdType.Normal, topicId: r.m.topicId, text: 'from 1' })));
    await w.message('fw/one', 'from 1');
    // node 2 has no such registration
    fwd.send(wrap([0x0a, 0x02], encode({ type: MsgType.PUBLISH, qos: 0, topicIdType: TopicIdType.Normal, topicId: r.m.topicId, text: 'x' })));
    const rej = await fwd.expect(MsgType.PUBACK);
    expect([rej.nodeId, rej.m.returnCode]).toEqual(['0a02', 2]);
    expect(rig.gw.clients().map((c) => c.address).sort()).toEqual([`${fwd.address}#0a01`, `${fwd.address}#0a02`]);
  });

  it('drops encapsulated datagrams when forwarder is off', async () => {
    rig = await Rig.start();
    const fwd = await rig.raw();
    fwd.send(wrap([1], encode({ type: MsgType.CONNECT, cleanSession: true, duration: 30, text: 'n' })));
    await until('dropped', () => rig.metrics.drops.unexpected_type === 1);
    expect(rig.gw.clients()).toEqual([]);
  });
});
