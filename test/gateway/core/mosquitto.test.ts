/** Gateway core › against Eclipse Mosquitto, both modes: the main flows with a real external broker. */
import { afterAll, beforeAll, afterEach, describe, expect, it } from 'vitest';
import { MsgType, TopicIdType } from '../../../src/mqttsn';
import { requireMosquitto, startMosquitto, type MosquittoBroker } from '../../support/mosquitto';
import { createSnLite } from '../../../src/mqttsn/lite';
import { badDatagrams, Rig, until, type Device } from './harness';

const run = requireMosquitto();

describe.skipIf(!run)('gateway core against Mosquitto', () => {
  let broker: MosquittoBroker;
  let rig: Rig | undefined;
  beforeAll(async () => {
    broker = await startMosquitto();
  });
  afterAll(async () => {
    await broker?.stop();
  });
  afterEach(async () => {
    await rig?.stop();
    rig = undefined;
  });

  for (const mode of ['transparent', 'aggregating'] as const) {
    it(`${mode}: publishes QoS 0/1/2, delivers subscriptions, and the Will of a lost client`, async () => {
      rig = await Rig.start({ mode, brokerUrl: broker.url });
      const w = await rig.watcher([[`m/${mode}/#`, 2], [`will/${mode}`, 1]]);
      const d = await rig.device({ clientId: `sn-${mode}`, will: { topic: `will/${mode}`, payload: 'lost', qos: 1, retain: false }, keepAlive: 5 });
      await d.connect();
      for (const qos of [0, 1, 2]) d.c.publish(`m/${mode}/q${qos}`, `v${qos}`, qos, false);
      d.poll();
      for (const qos of [0, 1, 2]) expect((await w.message(`m/${mode}/q${qos}`, `v${qos}`)).qos).toBe(qos);
      d.c.subscribe(`cmd/${mode}/+`, 2);
      d.poll();
      expect((await d.event('ack'))[3]).toBe(0);
      await w.publish(`cmd/${mode}/go`, 'now', 2);
      const m = await d.event('message');
      expect([m[1], m[4], m[5]]).toEqual([`cmd/${mode}/go`, 'now', 2]);
      for (const qos of [0, 1] as const) {
        await w.publish(`cmd/${mode}/go`, `q${qos}`, qos);
        expect((await d.event('message'))[5]).toBe(qos);
      }
      // Counted once each, by QoS (-1, 0, 1, 2): what Prometheus and $SYS report as messages_out.
      expect([...rig.metrics.messagesOut]).toEqual([0, 1, 1, 1]);
      d.close(); // silent from now on
      rig.advance(7_500);
      expect(rig.state(`sn-${mode}`)).toBe('lost');
      await w.message(`will/${mode}`, 'lost');
    });
  }

  for (const mode of ['transparent', 'aggregating'] as const) {
    it(`${mode}: the lean client (createSnLite) publishes QoS -1/0/1 on registered, pre-defined and short topics, and gets its wildcard subscription`, async () => {
      rig = await Rig.start({ mode, brokerUrl: broker.url, config: { predefinedTopics: [{ clientId: '*', topic: `pre/${mode}`, id: 7 }] } });
      const w = await rig.watcher([[`lite/${mode}/#`, 1], [`pre/${mode}`, 1], ['lt', 1]]);
      const published: [number, number][] = [];
      const d = await rig.device({ clientId: `lite-${mode}`, keepAlive: 5, predefined: [[`pre/${mode}`, 7]], onPublished: (id, rc) => published.push([id, rc]) }, createSnLite);
      await d.connect();
      const id = d.c.publish(`lite/${mode}/q1`, 'one', 1, true); // REGISTER first, then PUBLISH
      expect(d.c.publish(`lite/${mode}/q0`, 'zero', 0, false)).toBe(0);
      expect(d.c.publish(7, 'minus-one', -1, false)).toBe(0);
      expect(d.c.publish('lt', 'short', 1, false)).toBeGreaterThan(0);
      d.poll();
      expect((await w.message(`lite/${mode}/q1`, 'one')).qos).toBe(1);
      expect((await w.message(`lite/${mode}/q0`, 'zero')).qos).toBe(0);
      await w.message(`pre/${mode}`, 'minus-one');
      await w.message('lt', 'short');
      await until('both QoS 1 messages acknowledged', () => published.length === 2);
      expect(published[0]).toEqual([id, 0]);
      // Retained: a later subscriber gets it with the retain flag.
      const late = await rig.watcher([[`lite/${mode}/q1`, 1]]);
      expect((await late.message(`lite/${mode}/q1`, 'one')).retain).toBe(true);
      d.c.subscribe(`cmd/${mode}/+`, 1);
      d.poll();
      expect((await d.event('ack'))[3]).toBe(0);
      for (const qos of [0, 1] as const) {
        await w.publish(`cmd/${mode}/go`, `q${qos}`, qos);
        const m = await d.event('message');
        expect([m[1], m[4], m[5]]).toEqual([`cmd/${mode}/go`, `q${qos}`, qos]); // named: the gateway REGISTERed it first
      }
      d.c.unsubscribe(`cmd/${mode}/+`);
      d.poll();
      expect((await d.event('ack', (e) => e[1] === 'UNSUBSCRIBE'))[3]).toBe(0);
      await w.publish(`cmd/${mode}/go`, 'after', 1);
      d.c.publish(`lite/${mode}/q1`, 'marker', 1, false);
      d.poll();
      await w.message(`lite/${mode}/q1`, 'marker');
      expect(d.ev.filter((e) => e[0] === 'message')).toEqual([]);
      // 1 QoS -1, 1 QoS 0, 2 QoS 1 in; out: QoS 0 and QoS 1 once each.
      expect([...rig.metrics.messagesIn]).toEqual([1, 1, 3, 0]);
    });

    it(`${mode}: a flood of malformed datagrams during traffic both ways: every one counted, the good client loses nothing`, async () => {
      rig = await Rig.start({ mode, brokerUrl: broker.url });
      const w = await rig.watcher([[`flood/${mode}/up`, 1]]);
      const good = await rig.raw();
      const evil = await rig.raw();
      await good.connect(`flood-good-${mode}`);
      const id = await good.register(`flood/${mode}/up`);
      const down = await good.subscribe(`flood/${mode}/down`, 1);
      const bad = badDatagrams(4242);
      const N = 100;
      const gotDown: string[] = [];
      for (let i = 0; i < N; i++) {
        for (let k = 0; k < 3; k++) evil.send(bad[(i * 3 + k) % bad.length]!);
        good.send({ type: MsgType.PUBLISH, qos: 1, topicIdType: TopicIdType.Normal, topicId: id, msgId: i + 1, text: `u${i}` });
        const a = await good.expect(MsgType.PUBACK);
        expect([a.m.msgId, a.m.returnCode]).toEqual([i + 1, 0]);
        if (i % 10 === 0) {
          await w.publish(`flood/${mode}/down`, `d${i}`, 1);
          const p = await good.expect(MsgType.PUBLISH);
          expect([p.m.topicId, p.text]).toEqual([down.topicId, `d${i}`]);
          good.send({ type: MsgType.PUBACK, topicId: p.m.topicId, msgId: p.m.msgId, returnCode: 0 });
          gotDown.push(p.text);
        }
      }
      await until('every message at the broker', () => w.seen.length === N);
      expect(w.seen.map((m) => m.payload)).toEqual(Array.from({ length: N }, (_, i) => `u${i}`));
      expect(gotDown.length).toBe(N / 10);
      const d = rig.metrics.drops;
      await until('every bad datagram counted', () => d.malformed + d.framing === 3 * N);
      expect(d.malformed).toBeGreaterThanOrEqual(5);
      expect(evil.queued).toBe(0); // malformed datagrams are never answered
      expect(rig.state(`flood-good-${mode}`)).toBe('active');
      expect(rig.errors).toEqual([]);
      await good.barrier();
    });
  }

  for (const version of [4, 5] as const) {
    it(`aggregating, MQTT ${version === 5 ? '5' : '3.1.1'} to the broker: clients with overlapping filters each get a message once`, async () => {
      // MQTT 5: Mosquitto sends the shared connection one copy per matching subscription.
      rig = await Rig.start({ mode: 'aggregating', brokerUrl: broker.url, mqttVersion: version });
      const w = await rig.watcher();
      const p = `ov${version}`;
      const holders: Record<string, string[]> = { a: [`${p}/#`], b: [`${p}/+/x`], c: [`${p}/#`, `${p}/+/x`, `${p}/a/x`] };
      const devices: Record<string, Device> = {};
      for (const [name, filters] of Object.entries(holders)) {
        const d = await rig.device({ clientId: `${p}-${name}` });
        await d.connect();
        for (const f of filters) {
          d.c.subscribe(f, 1);
          d.poll();
          expect((await d.event('ack', (e) => e[1] === 'SUBSCRIBE'))[3]).toBe(0);
        }
        devices[name] = d;
      }
      await w.publish(`${p}/a/x`, 'one', 1);
      await w.publish(`${p}/a/y`, 'two', 1); // for `#` holders only
      await w.publish(`${p}/a/x`, 'marker', 1); // behind any second copy of the others
      const texts = (d: Device) => d.ev.filter((e) => e[0] === 'message').map((e) => e[4]);
      await until('the marker at every client', () => Object.values(devices).every((d) => texts(d).includes('marker')));
      expect(texts(devices.a!)).toEqual(['one', 'two', 'marker']);
      expect(texts(devices.b!)).toEqual(['one', 'marker']);
      expect(texts(devices.c!)).toEqual(['one', 'two', 'marker']);
      for (const d of Object.values(devices)) d.c.disconnect();
    });
  }

  for (const version of [4, 5] as const) {
    it(`aggregating, MQTT ${version === 5 ? '5' : '3.1.1'}: an UNSUBSCRIBE sent before the SUBACK of the same filter has the last word, and the other subscription still delivers`, async () => {
      rig = await Rig.start({ mode: 'aggregating', brokerUrl: broker.url, mqttVersion: version });
      const w = await rig.watcher();
      const p = `uns${version}`;
      const a = await rig.raw();
      await a.connect(`${p}-a`);
      expect((await a.subscribe(`${p}/+`, 1, 2)).returnCode).toBe(0);
      a.send({ type: MsgType.SUBSCRIBE, qos: 1, msgId: 3, text: `${p}/#` });
      a.send({ type: MsgType.UNSUBSCRIBE, msgId: 4, topicIdType: TopicIdType.Normal, text: `${p}/#` });
      const acks = [await a.next(), await a.next()].map((r) => [r.m.type, r.m.msgId]);
      expect(acks).toEqual([[MsgType.SUBACK, 3], [MsgType.UNSUBACK, 4]]);
      expect(rig.gw.clients().find((c) => c.clientId === `${p}-a`)).toBeDefined();
      await w.publish(`${p}/t`, 'hello', 1);
      const reg = await a.expect(MsgType.REGISTER);
      expect(reg.text).toBe(`${p}/t`);
      a.send({ type: MsgType.REGACK, topicId: reg.m.topicId, msgId: reg.m.msgId, returnCode: 0 });
      const pub = await a.expect(MsgType.PUBLISH);
      expect([pub.m.topicId, pub.text]).toEqual([reg.m.topicId, 'hello']);
      a.send({ type: MsgType.PUBACK, topicId: pub.m.topicId, msgId: pub.m.msgId, returnCode: 0 });
      await a.barrier();
    });
  }

  it('aggregating: two clients with the same filter each get the message once, at their own QoS', async () => {
    rig = await Rig.start({ mode: 'aggregating', brokerUrl: broker.url });
    const w = await rig.watcher();
    const a = await rig.raw();
    const b = await rig.raw();
    await a.connect('mq-a');
    await b.connect('mq-b');
    const sa = await a.subscribe('shared/x', 0);
    const sb = await b.subscribe('shared/x', 2);
    await w.publish('shared/x', 'one', 1);
    const pa = await a.expect(MsgType.PUBLISH);
    const pb = await b.expect(MsgType.PUBLISH);
    expect([pa.m.topicId, pa.m.qos, pb.m.topicId, pb.m.qos]).toEqual([sa.topicId, 0, sb.topicId, 1]);
    b.send({ type: MsgType.PUBACK, topicId: pb.m.topicId, msgId: pb.m.msgId, returnCode: 0 });
    await a.barrier();
    await b.barrier();
  });
});
