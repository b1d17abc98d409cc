/** Gateway core › SUBSCRIBE and the gateway's publish procedure (MQTT-SN 1.2 §6.9, §6.10, §6.13). */
import { afterEach, describe, expect, it } from 'vitest';
import { MsgType, TopicIdType } from '../../../src/mqttsn';
import { Device, Rig, shortId, until, Watcher } from './harness';
import { RETAINED_WINDOW_MS } from '../../../gateway/handlers/deliver';
import { startAedes } from '../../support/aedes';

let rig: Rig;
afterEach(async () => {
  await rig?.stop();
});

for (const mode of ['transparent', 'aggregating'] as const) {
  describe(`gateway → client (${mode})`, () => {
    it('subscription by name: SUBACK carries the topic id, PUBLISH uses it, QoS downgraded to the granted QoS', async () => {
      rig = await Rig.start({ mode });
      const w = await rig.watcher();
      const c = await rig.raw();
      await c.connect('sub-name');
      const ack = await c.subscribe('cmd/led', 1);
      expect(ack.returnCode).toBe(0);
      expect(ack.qos).toBe(1);
      expect(ack.topicId).toBeGreaterThan(0);
      await w.publish('cmd/led', 'on', 2, false);
      const p = await c.expect(MsgType.PUBLISH);
      expect([p.m.topicIdType, p.m.topicId, p.m.qos, p.text]).toEqual([TopicIdType.Normal, ack.topicId, 1, 'on']);
      c.send({ type: MsgType.PUBACK, topicId: p.m.topicId, msgId: p.m.msgId, returnCode: 0 });
      await w.publish('cmd/led', 'off', 0, false);
      const q = await c.expect(MsgType.PUBLISH);
      expect([q.m.qos, q.m.msgId, q.text]).toEqual([0, 0, 'off']);
    });

    it('wildcard subscription: SUBACK topic id 0, then REGISTER before the first PUBLISH of each topic, waiting for REGACK', async () => {
      rig = await Rig.start({ mode });
      const w = await rig.watcher();
      const c = await rig.raw();
      await c.connect('sub-wild');
      const ack = await c.subscribe('cmd/#', 0);
      expect([ack.returnCode, ack.topicId]).toEqual([0, 0]);
      await w.publish('cmd/a/b', 'x', 0);
      const reg = await c.expect(MsgType.REGISTER);
      expect(reg.text).toBe('cmd/a/b');
      expect(reg.m.topicId).toBeGreaterThan(0);
      expect(reg.m.msgId).toBeGreaterThan(0);
      await w.publish('cmd/a/b', 'y', 0); // queued behind the REGISTER
      await c.barrier(); // nothing else before the REGACK
      c.send({ type: MsgType.REGACK, topicId: reg.m.topicId, msgId: reg.m.msgId, returnCode: 0 });
      const p1 = await c.expect(MsgType.PUBLISH);
      const p2 = await c.expect(MsgType.PUBLISH);
      expect([p1.m.topicId, p1.text, p2.m.topicId, p2.text]).toEqual([reg.m.topicId, 'x', reg.m.topicId, 'y']);
      await w.publish('cmd/a/b', 'z', 0); // known now: no REGISTER
      expect((await c.expect(MsgType.PUBLISH)).text).toBe('z');
    });

    it('pre-defined and short topic subscriptions deliver with that topic id type', async () => {
      rig = await Rig.start({ mode, config: { predefinedTopics: [{ clientId: '*', topic: 'pre/cmd', id: 30 }] } });
      const w = await rig.watcher();
      const c = await rig.raw();
      await c.connect('sub-typed');
      c.send({ type: MsgType.SUBSCRIBE, qos: 0, msgId: 1, topicIdType: TopicIdType.Predefined, topicId: 30 });
      const a1 = await c.expect(MsgType.SUBACK);
      expect([a1.m.returnCode, a1.m.topicId]).toEqual([0, 30]);
      c.send({ type: MsgType.SUBSCRIBE, qos: 0, msgId: 2, topicIdType: TopicIdType.Short, topicId: shortId('sc') });
      expect((await c.expect(MsgType.SUBACK)).m.returnCode).toBe(0);
      c.send({ type: MsgType.SUBSCRIBE, qos: 0, msgId: 3, topicIdType: TopicIdType.Predefined, topicId: 31 });
      const bad = await c.expect(MsgType.SUBACK);
      expect(bad.m.returnCode).toBe(2);
      await w.publish('pre/cmd', 'p');
      const p = await c.expect(MsgType.PUBLISH);
      expect([p.m.topicIdType, p.m.topicId, p.text]).toEqual([TopicIdType.Predefined, 30, 'p']);
      await w.publish('sc', 's');
      const s = await c.expect(MsgType.PUBLISH);
      expect([s.m.topicIdType, s.m.topicId, s.text]).toEqual([TopicIdType.Short, shortId('sc'), 's']);
    });

    it('UNSUBSCRIBE → UNSUBACK and no more deliveries', async () => {
      rig = await Rig.start({ mode });
      const w = await rig.watcher();
      const c = await rig.raw();
      await c.connect('unsub');
      await c.subscribe('u/1', 0, 1);
      await c.subscribe('u/2', 0, 2);
      c.send({ type: MsgType.UNSUBSCRIBE, msgId: 3, text: 'u/1' });
      expect((await c.expect(MsgType.UNSUBACK)).m.msgId).toBe(3);
      await w.publish('u/1', 'no');
      await w.publish('u/2', 'yes');
      expect((await c.expect(MsgType.PUBLISH)).text).toBe('yes');
    });

    it('UNSUBSCRIBE by pre-defined id and by short name ends those subscriptions; an unknown pre-defined id still gets UNSUBACK', async () => {
      rig = await Rig.start({ mode, hand: true, config: { predefinedTopics: [{ clientId: '*', topic: 'pre/u', id: 40 }] } });
      const w = await rig.watcher();
      const c = await rig.raw();
      await c.connect('unsub-typed');
      c.send({ type: MsgType.SUBSCRIBE, qos: 0, msgId: 1, topicIdType: TopicIdType.Predefined, topicId: 40 });
      expect((await c.expect(MsgType.SUBACK)).m.returnCode).toBe(0);
      c.send({ type: MsgType.SUBSCRIBE, qos: 0, msgId: 2, topicIdType: TopicIdType.Short, topicId: shortId('us') });
      expect((await c.expect(MsgType.SUBACK)).m.returnCode).toBe(0);
      await c.subscribe('um/x', 0, 3);
      c.send({ type: MsgType.UNSUBSCRIBE, msgId: 4, topicIdType: TopicIdType.Predefined, topicId: 40 });
      expect((await c.expect(MsgType.UNSUBACK)).m.msgId).toBe(4);
      c.send({ type: MsgType.UNSUBSCRIBE, msgId: 5, topicIdType: TopicIdType.Short, topicId: shortId('us') });
      expect((await c.expect(MsgType.UNSUBACK)).m.msgId).toBe(5);
      c.send({ type: MsgType.UNSUBSCRIBE, msgId: 6, topicIdType: TopicIdType.Predefined, topicId: 41 });
      expect((await c.expect(MsgType.UNSUBACK)).m.msgId).toBe(6);
      expect(rig.hand!.calls.filter((x) => x.startsWith('unsubscribe '))).toEqual(['unsubscribe unsub-typed pre/u', 'unsubscribe unsub-typed us']);
      await w.publish('pre/u', 'no');
      await w.publish('us', 'no');
      await w.publish('um/x', 'marker');
      expect((await c.expect(MsgType.PUBLISH)).text).toBe('marker');
      await c.barrier();
    });

    it('CleanSession=0: what was in flight when the client went away goes again (DUP, same MsgId) right after the next CONNACK, then the queue', async () => {
      rig = await Rig.start({ mode });
      const w = await rig.watcher();
      const c = await rig.raw();
      await c.connect('resume', { clean: false });
      const s = await c.subscribe('rs/x', 1);
      await w.publish('rs/x', 'one', 1);
      await w.publish('rs/x', 'two', 1);
      const p = await c.expect(MsgType.PUBLISH);
      expect([p.m.dup, p.text]).toEqual([false, 'one']);
      c.send({ type: MsgType.DISCONNECT });
      await c.expect(MsgType.DISCONNECT);
      if (mode === 'aggregating') {
        // The shared connection keeps receiving for the absent client: QoS 1 is kept, QoS 0 is not.
        await w.publish('rs/x', 'three', 1);
        await w.publish('rs/x', 'zero', 0);
        await until('both at the gateway', () => rig.metrics.brokerIn === 4);
      }
      const c2 = await rig.raw(); // and from another address
      await c2.connect('resume', { clean: false });
      const again = await c2.expect(MsgType.PUBLISH);
      expect([again.m.dup, again.m.msgId, again.m.topicId, again.text]).toEqual([true, p.m.msgId, s.topicId, 'one']);
      const got: string[] = [];
      let m = again;
      for (;;) {
        c2.send({ type: MsgType.PUBACK, topicId: m.m.topicId, msgId: m.m.msgId, returnCode: 0 });
        if (got.length === (mode === 'aggregating' ? 2 : 1)) break;
        m = await c2.expect(MsgType.PUBLISH);
        got.push(m.text);
      }
      expect(got).toEqual(mode === 'aggregating' ? ['two', 'three'] : ['two']);
      await c2.barrier();
    });

    it('QoS 2 to the client: PUBLISH → PUBREC → PUBREL → PUBCOMP', async () => {
      rig = await Rig.start({ mode });
      const w = await rig.watcher();
      const c = await rig.raw();
      await c.connect('q2out');
      const ack = await c.subscribe('q2/out', 2);
      expect(ack.qos).toBe(2);
      await w.publish('q2/out', 'x', 2);
      const p = await c.expect(MsgType.PUBLISH);
      expect(p.m.qos).toBe(2);
      c.send({ type: MsgType.PUBREC, msgId: p.m.msgId });
      expect((await c.expect(MsgType.PUBREL)).m.msgId).toBe(p.m.msgId);
      c.send({ type: MsgType.PUBCOMP, msgId: p.m.msgId });
      await w.publish('q2/out', 'y', 2);
      expect((await c.expect(MsgType.PUBLISH)).text).toBe('y');
    });
  });
}

describe('gateway → client details', () => {
  it('SnClient receives what it subscribed to, including through a wildcard', async () => {
    rig = await Rig.start({ mode: 'aggregating' });
    const w = await rig.watcher();
    const d = await rig.device({ clientId: 'sn-sub' });
    await d.connect();
    d.c.subscribe('sn/+/cmd', 1);
    d.poll();
    expect((await d.event('ack'))[3]).toBe(0);
    await w.publish('sn/7/cmd', 'go', 1);
    const m = await d.event('message');
    expect([m[1], m[4], m[5]]).toEqual(['sn/7/cmd', 'go', 1]);
  });

  it('aggregating: one broker message reaches every matching client, each at its own QoS', async () => {
    rig = await Rig.start({ mode: 'aggregating' });
    const w = await rig.watcher();
    const a = await rig.raw();
    const b = await rig.raw();
    const c = await rig.raw();
    await a.connect('fan-a');
    await b.connect('fan-b');
    await c.connect('fan-c');
    const sa = await a.subscribe('fan/x', 0);
    const sb = await b.subscribe('fan/x', 1);
    await c.subscribe('other/#', 1);
    await w.publish('fan/x', 'all', 1);
    const pa = await a.expect(MsgType.PUBLISH);
    expect([pa.m.topicId, pa.m.qos, pa.text]).toEqual([sa.topicId, 0, 'all']);
    const pb = await b.expect(MsgType.PUBLISH);
    expect([pb.m.topicId, pb.m.qos, pb.text]).toEqual([sb.topicId, 1, 'all']);
    await c.barrier(); // not subscribed: nothing
  });

  it('a duplicate SUBSCRIBE (DUP, same MsgId) gets the same SUBACK and creates no second subscription', async () => {
    rig = await Rig.start({ mode: 'aggregating', hand: true });
    const w = await rig.watcher();
    const c = await rig.raw();
    await c.connect('dupsub');
    const first = await c.subscribe('d/x', 1, 9);
    c.send({ type: MsgType.SUBSCRIBE, dup: true, qos: 1, msgId: 9, text: 'd/x' });
    const again = await c.expect(MsgType.SUBACK);
    expect([again.m.msgId, again.m.topicId, again.m.qos, again.m.returnCode]).toEqual([9, first.topicId, 1, 0]);
    expect(rig.hand!.calls.filter((x) => x.startsWith('subscribe'))).toEqual(['subscribe dupsub d/x 1']);
    await w.publish('d/x', 'once', 0);
    expect((await c.expect(MsgType.PUBLISH)).text).toBe('once');
    await c.barrier();
  });

  it('a short-name subscription answered late by the broker delivers with its own short topic id, whatever arrived meanwhile', async () => {
    rig = await Rig.start({ mode: 'aggregating', hand: true });
    const w = await rig.watcher();
    const c = await rig.raw();
    const other = await rig.raw();
    await c.connect('late-short');
    await other.connect('other');
    rig.hand!.holdSubs = true;
    c.send({ type: MsgType.SUBSCRIBE, qos: 0, msgId: 1, topicIdType: TopicIdType.Short, topicId: shortId('ls') });
    await until('the subscription with the broker', () => rig.hand!.heldSubs.length === 1);
    // other traffic is decoded while the broker has not answered yet
    other.send({ type: MsgType.PUBLISH, qos: 0, topicIdType: TopicIdType.Short, topicId: shortId('zz'), text: 'x' });
    await other.barrier();
    rig.hand!.releaseSubs();
    const ack = await c.expect(MsgType.SUBACK);
    expect([ack.m.msgId, ack.m.returnCode, ack.m.topicId]).toEqual([1, 0, 0]);
    await w.publish('ls', 'v');
    const p = await c.expect(MsgType.PUBLISH);
    expect([p.m.topicIdType, p.m.topicId, p.text]).toEqual([TopicIdType.Short, shortId('ls'), 'v']);
  });

  it('SUBSCRIBE with an invalid filter → SUBACK "not supported"', async () => {
    rig = await Rig.start();
    const c = await rig.raw();
    await c.connect('badsub');
    const a = await c.subscribe('a/#/b', 0);
    expect(a.returnCode).toBe(3);
  });

  it('retransmits an unacknowledged QoS 1 PUBLISH every T_RETRY with DUP, gives up after N_RETRY and goes on', async () => {
    rig = await Rig.start({ timers: { tRetry: 1_000, nRetry: 2 } });
    const w = await rig.watcher();
    const c = await rig.raw();
    await c.connect('retry', { duration: 0 });
    await c.subscribe('r/x', 1);
    await w.publish('r/x', 'first', 1);
    await w.publish('r/x', 'second', 1);
    const p = await c.expect(MsgType.PUBLISH);
    expect([p.m.dup, p.text]).toEqual([false, 'first']);
    rig.advance(999);
    await c.barrier();
    rig.advance(1);
    const r1 = await c.expect(MsgType.PUBLISH);
    expect([r1.m.dup, r1.m.msgId, r1.text]).toEqual([true, p.m.msgId, 'first']);
    rig.advance(1_000);
    expect((await c.expect(MsgType.PUBLISH)).m.dup).toBe(true);
    expect(rig.metrics.retransmissions).toBe(2);
    rig.advance(1_000); // N_RETRY reached: given up, the next one goes
    const n = await c.expect(MsgType.PUBLISH);
    expect([n.m.dup, n.text]).toEqual([false, 'second']);
    expect(rig.metrics.drops.retries_exhausted).toBe(1);
    expect(rig.state('retry')).toBe('active'); // liveness is the keep-alive's business
    c.send({ type: MsgType.PUBACK, topicId: n.m.topicId, msgId: n.m.msgId, returnCode: 0 });
    await c.barrier();
  });

  it('retransmits REGISTER and PUBREL too', async () => {
    rig = await Rig.start({ timers: { tRetry: 1_000, nRetry: 3 } });
    const w = await rig.watcher();
    const c = await rig.raw();
    await c.connect('retry2', { duration: 0 });
    await c.subscribe('rr/#', 2);
    await w.publish('rr/1', 'x', 2);
    const reg = await c.expect(MsgType.REGISTER);
    rig.advance(1_000);
    const reg2 = await c.expect(MsgType.REGISTER);
    expect([reg2.m.msgId, reg2.m.topicId, reg2.text]).toEqual([reg.m.msgId, reg.m.topicId, 'rr/1']);
    c.send({ type: MsgType.REGACK, topicId: reg.m.topicId, msgId: reg.m.msgId, returnCode: 0 });
    const p = await c.expect(MsgType.PUBLISH);
    c.send({ type: MsgType.PUBREC, msgId: p.m.msgId });
    await c.expect(MsgType.PUBREL);
    rig.advance(1_000);
    expect((await c.expect(MsgType.PUBREL)).m.msgId).toBe(p.m.msgId);
    c.send({ type: MsgType.PUBCOMP, msgId: p.m.msgId });
    await c.barrier();
  });

  it('PUBACK "invalid topic ID" from the client makes the gateway REGISTER the topic again, then resend', async () => {
    rig = await Rig.start();
    const w = await rig.watcher();
    const c = await rig.raw();
    await c.connect('forgetful');
    const s = await c.subscribe('f/x', 1);
    await w.publish('f/x', 'v', 1);
    const p = await c.expect(MsgType.PUBLISH);
    c.send({ type: MsgType.PUBACK, topicId: s.topicId, msgId: p.m.msgId, returnCode: 2 });
    const reg = await c.expect(MsgType.REGISTER);
    expect([reg.m.topicId, reg.text]).toEqual([s.topicId, 'f/x']);
    c.send({ type: MsgType.REGACK, topicId: reg.m.topicId, msgId: reg.m.msgId, returnCode: 0 });
    const again = await c.expect(MsgType.PUBLISH);
    expect(again.text).toBe('v');
  });

  it('a REGACK rejection drops that message and, for a plain-name subscription, ends it', async () => {
    rig = await Rig.start({ hand: true });
    const w = await rig.watcher();
    const c = await rig.raw();
    await c.connect('rejector');
    await c.subscribe('rej/#', 0);
    await w.publish('rej/a', 'x');
    const reg = await c.expect(MsgType.REGISTER);
    c.send({ type: MsgType.REGACK, topicId: reg.m.topicId, msgId: reg.m.msgId, returnCode: 3 });
    await c.barrier();
    expect(rig.metrics.drops.congestion).toBe(1);
    // a wildcard subscription is not ended by a REGISTER rejection (§6.10)
    expect(rig.hand!.calls.filter((x) => x.startsWith('unsubscribe '))).toEqual([]);
  });

  it('CleanSession=0: a PUBREL left unanswered when the client went away is sent again after the next CONNACK, and the message is not sent again', async () => {
    rig = await Rig.start();
    const w = await rig.watcher();
    const c = await rig.raw();
    await c.connect('rel', { clean: false });
    await c.subscribe('rel/x', 2);
    await w.publish('rel/x', 'once', 2);
    const p = await c.expect(MsgType.PUBLISH);
    c.send({ type: MsgType.PUBREC, msgId: p.m.msgId });
    await c.expect(MsgType.PUBREL);
    c.send({ type: MsgType.DISCONNECT }); // gone before PUBCOMP
    await c.expect(MsgType.DISCONNECT);
    await c.connect('rel', { clean: false });
    expect((await c.expect(MsgType.PUBREL)).m.msgId).toBe(p.m.msgId);
    c.send({ type: MsgType.PUBCOMP, msgId: p.m.msgId });
    await c.barrier();
    await w.publish('rel/x', 'next', 2);
    expect((await c.expect(MsgType.PUBLISH)).text).toBe('next');
  });

  it('after a gateway restart, a CleanSession=0 device still holding an unreleased QoS 2 MsgId receives the next QoS 2 messages', async () => {
    // Transparent: the device's broker session (and its subscription) outlives the gateway.
    const aedes = await startAedes();
    const first = await Rig.start({ mode: 'transparent', brokerUrl: aedes.url });
    let second: Rig | null = null;
    let device: Device | null = null;
    const w = await Watcher.open(aedes.url);
    try {
      const got: string[] = [];
      // Opened outside the rigs: it outlives the first gateway.
      const d = await Device.open(first.port, {
        clientId: 'q2-restart',
        cleanSession: false,
        keepAlive: 1,
        tRetry: 200,
        nRetry: 2,
        onMessage: (_n, _i, _t, buf, off, len) => got.push(Buffer.from(buf.subarray(off, off + len)).toString()),
      });
      device = d;
      await d.connect();
      d.c.subscribe('k2/x', 2);
      d.poll();
      expect((await d.event('ack'))[3]).toBe(0);
      // The PUBREL of the second message never reaches the device (lost on the air): it keeps
      // that MsgId as "received, waiting for PUBREL" (§6.10, exactly once).
      const send = first.udp.send.bind(first.udp);
      let pubrels = 0;
      let held = -1;
      first.udp.send = (b, a) => {
        if (b[1] === MsgType.PUBREL && ++pubrels === 2) {
          held = (b[2]! << 8) | b[3]!;
          return true;
        }
        return send(b, a);
      };
      await w.publish('k2/x', 'zero', 2);
      await w.publish('k2/x', 'one', 2);
      await until('both delivered, the second PUBREL lost', () => got.includes('one') && held >= 0);
      const port = first.port;
      await first.stop();
      // A new gateway process on the same port. New sessions start their MsgIds at a random
      // point (here one that differs from the held MsgId): starting at 1 again, its REGISTER
      // and PUBLISH would reuse the first gateway's MsgIds and the device would drop "two".
      const r = ((held + 1000) % 0xffff) / 0xffff;
      second = await Rig.start({ mode: 'transparent', brokerUrl: aedes.url, udpPort: port, random: () => r });
      await d.event('connect', (e) => e[1] === 0, 10_000); // the device noticed and connected again (CleanSession=0)
      await until('the broker session resumed', () => second!.state('q2-restart') === 'active');
      await w.publish('k2/x', 'two', 2);
      await until('the third message delivered', () => got.includes('two'), 5_000);
      expect(got).toEqual(['zero', 'one', 'two']);
    } finally {
      await w.close();
      device?.close();
      await first.stop();
      await second?.stop();
      await aedes.stop();
    }
  });

  it('aggregating: a retained message the broker sends for one client\'s new subscription is not delivered again to clients subscribed before', async () => {
    rig = await Rig.start({ mode: 'aggregating' });
    const w = await rig.watcher();
    await w.publish('rt/a', 'old', 1, true);
    const a = await rig.raw();
    await a.connect('rt-early');
    await a.subscribe('rt/#', 0, 1);
    const reg = await a.expect(MsgType.REGISTER); // a wildcard: the topic id comes first (§6.10)
    a.send({ type: MsgType.REGACK, topicId: reg.m.topicId, msgId: reg.m.msgId, returnCode: 0 });
    const first = await a.expect(MsgType.PUBLISH);
    expect([first.text, first.m.retain]).toEqual(['old', true]);
    rig.advance(RETAINED_WINDOW_MS);
    const b = await rig.raw();
    await b.connect('rt-late');
    await b.subscribe('rt/a', 0, 1); // a new filter for the shared connection: the broker sends the retained message again
    const late = await b.expect(MsgType.PUBLISH);
    expect([late.text, late.m.retain]).toEqual(['old', true]);
    await w.publish('rt/a', 'live', 0);
    expect((await a.expect(MsgType.PUBLISH)).text).toBe('live'); // not "old" a second time
    expect((await b.expect(MsgType.PUBLISH)).text).toBe('live');
  });

  it('aggregating: a client subscribing to a filter another client already holds gets the retained message (the link sends SUBSCRIBE again), the first client not a second time', async () => {
    rig = await Rig.start({ mode: 'aggregating' });
    const w = await rig.watcher();
    await w.publish('rt2/x', 'kept', 1, true);
    const a = await rig.raw();
    await a.connect('rt2-a');
    await a.subscribe('rt2/x', 0, 1);
    expect((await a.expect(MsgType.PUBLISH)).text).toBe('kept');
    rig.advance(RETAINED_WINDOW_MS);
    const b = await rig.raw();
    await b.connect('rt2-b');
    await b.subscribe('rt2/x', 0, 1); // the same filter: the link SUBSCRIBEs again, the broker re-sends the retained message
    const p = await b.expect(MsgType.PUBLISH);
    expect([p.text, p.m.retain]).toEqual(['kept', true]);
    await w.publish('rt2/x', 'live', 0);
    expect((await a.expect(MsgType.PUBLISH)).text).toBe('live'); // not "kept" a second time
    expect((await b.expect(MsgType.PUBLISH)).text).toBe('live');
  });

  it('keeps the order of mixed QoS 0 and QoS 1 messages behind an unacknowledged one', async () => {
    rig = await Rig.start();
    const w = await rig.watcher();
    const c = await rig.raw();
    await c.connect('order');
    await c.subscribe('o/x', 1);
    await w.publish('o/x', '1', 1);
    const p1 = await c.expect(MsgType.PUBLISH);
    for (const v of ['2', '3']) await w.publish('o/x', v, 0);
    await w.publish('o/x', '4', 1);
    await until('queued at the gateway', () => rig.metrics.brokerIn >= 4);
    await c.barrier();
    c.send({ type: MsgType.PUBACK, topicId: p1.m.topicId, msgId: p1.m.msgId, returnCode: 0 });
    const got: string[] = [];
    for (let i = 0; i < 3; i++) got.push((await c.expect(MsgType.PUBLISH)).text);
    expect(got).toEqual(['2', '3', '4']);
  });
});
