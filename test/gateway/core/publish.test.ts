/** Gateway core › client→gateway PUBLISH (MQTT-SN 1.2 §6.5–§6.8), end to end: SnClient / raw UDP → gateway → Aedes → MQTT.js. */
import { afterEach, describe, expect, it } from 'vitest';
import { MsgType, TopicIdType } from '../../../src/mqttsn';
import { RawClient, Rig, shortId, until } from './harness';

let rig: Rig;
afterEach(async () => {
  await rig?.stop();
});

for (const mode of ['transparent', 'aggregating'] as const) {
  describe(`PUBLISH from a client (${mode})`, () => {
    it('forwards QoS 0, 1 and 2 from SnClient to the broker, with the retain flag', async () => {
      rig = await Rig.start({ mode });
      const w = await rig.watcher([['sensors/#', 2]]);
      const d = await rig.device({ clientId: 'dev-pub' });
      await d.connect();
      d.c.publish('sensors/t0', '0', 0, false);
      d.c.publish('sensors/t1', '1', 1, false);
      d.c.publish('sensors/t2', '2', 2, true);
      d.poll();
      expect(await w.message('sensors/t0', '0')).toMatchObject({ qos: 0 });
      expect(await w.message('sensors/t1', '1')).toMatchObject({ qos: 1 });
      const q2 = await d.event('published', (e) => e[2] === 0 && (e[1] as number) > 1);
      expect(q2[2]).toBe(0);
      const m2 = await w.message('sensors/t2', '2');
      expect(m2.qos).toBe(2);
      // retained at the broker: a new subscriber gets it with retain set
      const late = await rig.watcher([['sensors/t2', 0]]);
      expect(await late.message('sensors/t2', '2')).toMatchObject({ retain: true });
      expect(rig.metrics.messagesIn[1]).toBe(1);
      expect(rig.metrics.messagesIn[2]).toBe(1);
      expect(rig.metrics.messagesIn[3]).toBe(1);
    });

    it('answers PUBACK "invalid topic ID" for an unknown topic id, also at QoS 0 (§6.6)', async () => {
      rig = await Rig.start({ mode });
      const c = await rig.raw();
      await c.connect('raw-inv');
      for (const qos of [0, 1]) {
        c.send({ type: MsgType.PUBLISH, qos, topicIdType: TopicIdType.Normal, topicId: 77, msgId: qos ? 9 : 0, data: new Uint8Array([1]) });
        const a = await c.expect(MsgType.PUBACK);
        expect([a.m.topicId, a.m.msgId, a.m.returnCode]).toEqual([77, qos ? 9 : 0, 2]);
      }
      c.send({ type: MsgType.PUBLISH, qos: 1, topicIdType: TopicIdType.Predefined, topicId: 5, msgId: 3, data: new Uint8Array([1]) });
      expect((await c.expect(MsgType.PUBACK)).m.returnCode).toBe(2);
      expect(rig.metrics.drops.invalid_topic_id).toBe(3);
    });

    it('publishes on registered, pre-defined (global and per client) and short topic ids', async () => {
      rig = await Rig.start({
        mode,
        config: {
          predefinedTopics: [
            { clientId: '*', topic: 'pre/global', id: 1 },
            { clientId: 'raw-pre', topic: 'pre/mine', id: 2 },
            { clientId: 'someone-else', topic: 'pre/other', id: 3 },
          ],
        },
      });
      const w = await rig.watcher([['#', 1]]);
      const c = await rig.raw();
      await c.connect('raw-pre');
      const id = await c.register('reg/topic');
      expect(id).toBeGreaterThan(2); // never a pre-defined id of this client
      const pub = (topicIdType: number, topicId: number, text: string) =>
        c.send({ type: MsgType.PUBLISH, qos: 0, topicIdType, topicId, text });
      pub(TopicIdType.Normal, id, 'a');
      pub(TopicIdType.Predefined, 1, 'b');
      pub(TopicIdType.Predefined, 2, 'c');
      pub(TopicIdType.Short, shortId('st'), 'd');
      await w.message('reg/topic', 'a');
      await w.message('pre/global', 'b');
      await w.message('pre/mine', 'c');
      await w.message('st', 'd');
      pub(TopicIdType.Predefined, 3, 'e'); // another client's pre-defined id
      expect((await c.expect(MsgType.PUBACK)).m.returnCode).toBe(2);
    });

    it('QoS 2: forwards once, answers a DUP retransmission with PUBREC again, PUBREL → PUBCOMP', async () => {
      rig = await Rig.start({ mode });
      const w = await rig.watcher([['q2/#', 2]]);
      const c = await rig.raw();
      await c.connect('raw-q2');
      const id = await c.register('q2/x');
      const pub = { type: MsgType.PUBLISH, qos: 2, topicIdType: TopicIdType.Normal, topicId: id, msgId: 40, text: 'once' } as const;
      c.send(pub);
      expect((await c.expect(MsgType.PUBREC)).m.msgId).toBe(40);
      c.send({ ...pub, dup: true }); // our PUBREC "lost": PUBREC again, not forwarded again
      expect((await c.expect(MsgType.PUBREC)).m.msgId).toBe(40);
      c.send({ type: MsgType.PUBREL, msgId: 40 });
      expect((await c.expect(MsgType.PUBCOMP)).m.msgId).toBe(40);
      c.send({ type: MsgType.PUBREL, msgId: 40 }); // PUBCOMP lost: answered again
      expect((await c.expect(MsgType.PUBCOMP)).m.msgId).toBe(40);
      await w.message('q2/x', 'once');
      // a marker published after proves no second copy is on the way
      c.send({ type: MsgType.PUBLISH, qos: 1, topicIdType: TopicIdType.Normal, topicId: id, msgId: 41, text: 'marker' });
      await c.expect(MsgType.PUBACK);
      await w.message('q2/x', 'marker');
      expect(w.seen.filter((m) => m.payload === 'once')).toEqual([]);
      expect(rig.metrics.messagesIn[3]).toBe(1);
    });
  });
}

describe('PUBLISH acknowledgements follow the broker (§6.6)', () => {
  it('QoS 1: PUBACK only once the broker acknowledged; a DUP meanwhile is not forwarded again', async () => {
    rig = await Rig.start({ hand: true });
    const hand = rig.hand!;
    const w = await rig.watcher([['ack/#', 1]]);
    const c = await rig.raw();
    await c.connect('raw-ack');
    const id = await c.register('ack/1');
    hand.hold = true;
    const pub = { type: MsgType.PUBLISH, qos: 1, topicIdType: TopicIdType.Normal, topicId: id, msgId: 7, text: 'v' } as const;
    c.send(pub);
    await w.message('ack/1', 'v'); // the broker has it ...
    await until('the broker acknowledgement held', () => hand.held.length === 1);
    c.send({ ...pub, dup: true });
    await c.barrier(); // ... but no PUBACK yet, and the DUP went nowhere
    expect(hand.calls.filter((x) => x.startsWith('publish')).length).toBe(1);
    hand.release();
    const a = await c.expect(MsgType.PUBACK);
    expect([a.m.topicId, a.m.msgId, a.m.returnCode]).toEqual([id, 7, 0]);
    c.send({ ...pub, dup: true }); // PUBACK lost: acknowledged again, not published again
    expect((await c.expect(MsgType.PUBACK)).m.msgId).toBe(7);
    expect(hand.calls.filter((x) => x.startsWith('publish')).length).toBe(1);
  });

  it('QoS 2: PUBREC only once the broker completed; DUPs meanwhile are ignored', async () => {
    rig = await Rig.start({ hand: true });
    const hand = rig.hand!;
    const c = await rig.raw();
    await c.connect('raw-q2hold');
    const id = await c.register('ack/2');
    hand.hold = true;
    const pub = { type: MsgType.PUBLISH, qos: 2, topicIdType: TopicIdType.Normal, topicId: id, msgId: 8, text: 'v' } as const;
    c.send(pub);
    await until('the broker completion held', () => hand.held.length === 1);
    c.send({ ...pub, dup: true });
    await c.barrier();
    hand.release();
    expect((await c.expect(MsgType.PUBREC)).m.msgId).toBe(8);
    expect(hand.calls.filter((x) => x.startsWith('publish')).length).toBe(1);
  });

  it('answers PUBACK "congestion" when the broker link is full, for QoS 0 and 1', async () => {
    rig = await Rig.start({ hand: true });
    const c = await rig.raw();
    await c.connect('raw-full');
    const id = await c.register('full/x');
    rig.hand!.full = true;
    for (const qos of [0, 1]) {
      c.send({ type: MsgType.PUBLISH, qos, topicIdType: TopicIdType.Normal, topicId: id, msgId: qos * 5, text: 'x' });
      const a = await c.expect(MsgType.PUBACK);
      expect([a.m.topicId, a.m.msgId, a.m.returnCode]).toEqual([id, qos * 5, 1]);
    }
    expect(rig.metrics.drops.congestion).toBe(2);
  });
});

describe('PUBLISH QoS -1 (§6.8)', () => {
  const minus1 = (topicIdType: number, topicId: number, text: string) =>
    ({ type: MsgType.PUBLISH, qos: -1, topicIdType, topicId, text }) as const;

  it('is accepted from any unconnected address when no clients are listed (pre-defined and short)', async () => {
    rig = await Rig.start({ mode: 'transparent', config: { predefinedTopics: [{ clientId: '*', topic: 'm1/pre', id: 9 }] } });
    const w = await rig.watcher([['#', 0]]);
    const c = await rig.raw();
    c.send(minus1(TopicIdType.Predefined, 9, 'p'));
    c.send(minus1(TopicIdType.Short, shortId('m1'), 's'));
    await w.message('m1/pre', 'p');
    await w.message('m1', 's');
    c.send(minus1(TopicIdType.Predefined, 10, 'unknown'));
    await until('the unknown id counted', () => rig.metrics.drops.invalid_topic_id === 1);
    expect(rig.metrics.messagesIn[0]).toBe(2);
    expect(c.queued).toBe(0); // never answered
  });

  for (const mode of ['transparent', 'aggregating'] as const) {
    it(`from a connected client (${mode}): its own message, on its own broker connection, with its own pre-defined topics, also with qosMinus1 off`, async () => {
      rig = await Rig.start({
        mode,
        config: {
          qosMinus1: false,
          predefinedTopics: [
            { clientId: 'conn-m1', topic: 'm1/own', id: 4 },
            { clientId: '*', topic: 'm1/global', id: 4 }, // overridden for conn-m1
          ],
        },
      });
      const senders: string[] = [];
      rig.aedes!.broker.on('publish', (packet, client) => {
        if (packet.topic.startsWith('m1')) senders.push(`${client ? client.id : '-'} ${packet.topic} ${packet.qos}`);
      });
      const w = await rig.watcher([['m1/#', 0], ['m1', 0]]);
      const c = await rig.raw();
      await c.connect('conn-m1');
      c.send(minus1(TopicIdType.Predefined, 4, 'own'));
      c.send(minus1(TopicIdType.Short, shortId('m1'), 's'));
      c.send(minus1(TopicIdType.Predefined, 5, 'unknown'));
      expect(await w.message('m1/own', 'own')).toMatchObject({ qos: 0 });
      await w.message('m1', 's');
      await until('the unknown id counted', () => rig.metrics.drops.invalid_topic_id === 1);
      await c.barrier(); // never answered, not even the unknown id
      const own = mode === 'transparent' ? 'conn-m1' : `${rig.config.gatewayName}-${rig.config.gatewayId}`;
      expect(senders).toEqual([`${own} m1/own 0`, `${own} m1 0`]);
      expect(rig.metrics.messagesIn[0]).toBe(2);
      expect(rig.metrics.drops.unauthorized).toBe(0);
    });
  }

  it('is dropped (unauthorized) when qosMinus1 is off', async () => {
    rig = await Rig.start({ config: { qosMinus1: false } });
    const c = await rig.raw();
    c.send(minus1(TopicIdType.Short, shortId('m1'), 's'));
    await until('the drop counted', () => rig.metrics.drops.unauthorized === 1);
    expect(rig.metrics.messagesIn[0]).toBe(0);
  });

  it('with a clients list: only from an address listed with the QoS-1 flag, with that client\'s pre-defined topics', async () => {
    // The clients' addresses go into the configuration: open their sockets first.
    const [listed, unflagged, stranger] = await Promise.all([RawClient.open(), RawClient.open(), RawClient.open()]);
    rig = await Rig.start({
      config: {
        clients: [
          { clientId: 'sensor-a', address: listed.address, flags: ['QoS-1'] },
          { clientId: 'sensor-b', address: unflagged.address, flags: [] },
        ],
        predefinedTopics: [
          { clientId: '*', topic: 'all/x', id: 1 },
          { clientId: 'sensor-a', topic: 'a/own', id: 2 },
        ],
      },
    });
    const w = await rig.watcher([['#', 0]]);
    const [a, b, s] = [listed, unflagged, stranger].map((r) => rig.adopt(r));
    a.send(minus1(TopicIdType.Predefined, 2, 'own'));
    a.send(minus1(TopicIdType.Predefined, 1, 'global'));
    await w.message('a/own', 'own');
    await w.message('all/x', 'global');
    b.send(minus1(TopicIdType.Predefined, 1, 'b'));
    s.send(minus1(TopicIdType.Predefined, 1, 's'));
    await until('both refused', () => rig.metrics.drops.unauthorized === 2);
    expect(w.seen).toEqual([]);
  });
});
