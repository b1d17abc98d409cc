/** SnClient › subscribe, unsubscribe and the gateway's publish procedure (MQTT-SN 1.2 §6.7, §6.9, §6.10). */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MsgType, TopicIdType } from '../../src/mqttsn';
import { SN_IMPLS, useSnImpl, Rig, ScriptedGateway, shortId } from './harness';

for (const impl of SN_IMPLS) describe(impl.name, () => {
  useSnImpl(impl);

  let gw: ScriptedGateway;
  let rig: Rig;
  beforeEach(async () => {
    gw = await ScriptedGateway.start();
    rig = await Rig.create(gw);
    await rig.connect(gw);
  });
  afterEach(() => {
    rig?.close();
    gw.close();
  });

  describe('SUBSCRIBE (§6.9)', () => {
    it('subscribes by topic name, learns the id from SUBACK and delivers PUBLISHes with it by name', async () => {
      const id = rig.c.subscribe('room/1/temp', 1);
      expect(id).toBeGreaterThan(0);
      rig.poll();
      const s = await gw.expect(MsgType.SUBSCRIBE);
      expect([s.m.topicIdType, s.m.qos, s.m.msgId, s.m.dup, s.text]).toEqual([TopicIdType.Normal, 1, id, false, 'room/1/temp']);
      await rig.deliver(gw, { type: MsgType.SUBACK, qos: 1, topicId: 0x31, msgId: id, returnCode: 0 });
      expect(rig.take()).toEqual([['ack', 'SUBSCRIBE', id, 0, 0x31, 1]]);
      await rig.deliver(gw, { type: MsgType.PUBLISH, qos: 0, topicId: 0x31, msgId: 0, text: '19.0' });
      expect(rig.take()).toEqual([['message', 'room/1/temp', 0x31, 0, '19.0', 0, false]]);
    });

    it('wildcard filter: SUBACK carries id 0; the gateway REGISTERs each topic (REGACK) before publishing it', async () => {
      const id = rig.c.subscribe('room/+/temp', 1);
      rig.poll();
      const s = await gw.expect(MsgType.SUBSCRIBE);
      expect(s.text).toBe('room/+/temp');
      await rig.deliver(gw, { type: MsgType.SUBACK, qos: 1, topicId: 0, msgId: id, returnCode: 0 });
      expect(rig.take()).toEqual([['ack', 'SUBSCRIBE', id, 0, 0, 1]]);
      await rig.deliver(gw, { type: MsgType.REGISTER, topicId: 0x50, msgId: 0x700, text: 'room/2/temp' });
      const ra = await gw.expect(MsgType.REGACK);
      expect([ra.m.topicId, ra.m.msgId, ra.m.returnCode]).toEqual([0x50, 0x700, 0]);
      await rig.deliver(gw, { type: MsgType.PUBLISH, qos: 1, retain: true, topicId: 0x50, msgId: 0x701, text: '22' });
      expect(rig.take()).toEqual([['message', 'room/2/temp', 0x50, 0, '22', 1, true]]);
      const pa = await gw.expect(MsgType.PUBACK);
      expect([pa.m.topicId, pa.m.msgId, pa.m.returnCode]).toEqual([0x50, 0x701, 0]);
    });

    it('subscribes to a pre-defined topic id (TopicIdType 0b01) and delivers it by its configured name', async () => {
      rig.close();
      rig = await Rig.create(gw, { predefined: [['cmd/reboot', 0x0100]] });
      await rig.connect(gw);
      const id = rig.c.subscribe(0x0100, 0);
      rig.poll();
      const s = await gw.expect(MsgType.SUBSCRIBE);
      expect([s.m.topicIdType, s.m.topicId]).toEqual([TopicIdType.Predefined, 0x0100]);
      await rig.deliver(gw, { type: MsgType.SUBACK, topicId: 0x0100, msgId: id, returnCode: 0 });
      await rig.deliver(gw, { type: MsgType.PUBLISH, topicIdType: TopicIdType.Predefined, topicId: 0x0100, text: 'now' });
      expect(rig.take()).toEqual([
        ['ack', 'SUBSCRIBE', id, 0, 0x0100, 0],
        ['message', 'cmd/reboot', 0x0100, 1, 'now', 0, false],
      ]);
    });

    it('subscribes to a short topic name (TopicIdType 0b10); its PUBLISHes have no name, the id is the two octets', async () => {
      const q = impl.full ? 2 : 1; // the lean client has no QoS 2
      const id = rig.c.subscribe('ab', q);
      rig.poll();
      const s = await gw.expect(MsgType.SUBSCRIBE);
      expect([s.m.topicIdType, s.m.topicId, s.m.qos]).toEqual([TopicIdType.Short, shortId('ab'), q]);
      await rig.deliver(gw, { type: MsgType.SUBACK, qos: q, msgId: id, returnCode: 0 });
      await rig.deliver(gw, { type: MsgType.PUBLISH, topicIdType: TopicIdType.Short, topicId: shortId('ab'), text: 'hi' });
      expect(rig.take()).toEqual([
        ['ack', 'SUBSCRIBE', id, 0, 0, q],
        ['message', null, shortId('ab'), 2, 'hi', 0, false],
      ]);
    });

    it('reports a rejected SUBSCRIBE with its ReturnCode', async () => {
      const id = rig.c.subscribe('x/y', 0);
      rig.poll();
      await gw.expect(MsgType.SUBSCRIBE);
      await rig.deliver(gw, { type: MsgType.SUBACK, msgId: id, returnCode: 3 });
      expect(rig.take()).toEqual([['ack', 'SUBSCRIBE', id, 3, 0, 0]]);
    });

    it('retransmits SUBSCRIBE with DUP after T_RETRY (§6.13)', async () => {
      const id = rig.c.subscribe('x/#', 0);
      rig.poll();
      expect((await gw.expect(MsgType.SUBSCRIBE)).m.dup).toBe(false);
      rig.poll(10_000);
      const again = await gw.expect(MsgType.SUBSCRIBE);
      expect([again.m.dup, again.m.msgId, again.text]).toEqual([true, id, 'x/#']);
    });

    it('waits T_WAIT after "rejected: congestion" before resending SUBSCRIBE', async () => {
      rig.close();
      rig = await Rig.create(gw, { keepAlive: 0, tWait: 310_000 });
      await rig.connect(gw);
      const id = rig.c.subscribe('x/#', 0);
      rig.poll();
      await gw.expect(MsgType.SUBSCRIBE);
      await rig.deliver(gw, { type: MsgType.SUBACK, msgId: id, returnCode: 1 });
      expect(rig.take()).toEqual([]);
      rig.quiet(309_999);
      rig.poll(1);
      expect((await gw.expect(MsgType.SUBSCRIBE)).m.msgId).toBe(id);
    });

    it('has one SUBSCRIBE/UNSUBSCRIBE open at a time, then UNSUBSCRIBE → UNSUBACK', async () => {
      const s = rig.c.subscribe('a/#', 0);
      const u = rig.c.unsubscribe('a/#');
      rig.poll();
      await gw.expect(MsgType.SUBSCRIBE);
      rig.quiet();
      await rig.deliver(gw, { type: MsgType.SUBACK, msgId: s, returnCode: 0 });
      const un = await gw.expect(MsgType.UNSUBSCRIBE);
      expect([un.m.msgId, un.m.topicIdType, un.text]).toEqual([u, TopicIdType.Normal, 'a/#']);
      await rig.deliver(gw, { type: MsgType.UNSUBACK, msgId: u });
      expect(rig.take()).toEqual([
        ['ack', 'SUBSCRIBE', s, 0, 0, 0],
        ['ack', 'UNSUBSCRIBE', u, 0, 0, 0],
      ]);
    });

    it('unsubscribes from a pre-defined id and a short name with their TopicIdType', async () => {
      const a = rig.c.unsubscribe(5);
      const b = rig.c.unsubscribe('zz');
      rig.poll();
      const ua = await gw.expect(MsgType.UNSUBSCRIBE);
      expect([ua.m.topicIdType, ua.m.topicId]).toEqual([TopicIdType.Predefined, 5]);
      await rig.deliver(gw, { type: MsgType.UNSUBACK, msgId: a });
      const ub = await gw.expect(MsgType.UNSUBSCRIBE);
      expect([ub.m.topicIdType, ub.m.topicId]).toEqual([TopicIdType.Short, shortId('zz')]);
      await rig.deliver(gw, { type: MsgType.UNSUBACK, msgId: b });
    });

    it('rejects QoS -1 in SUBSCRIBE (BadParameter)', () => {
      expect(rig.c.subscribe('a/#', -1)).toBe(-5);
    });
  });

  describe("the gateway's PUBLISH (§6.10)", () => {
    it('answers a PUBLISH with an unknown topic id with PUBACK "rejected: invalid topic ID" and delivers nothing', async () => {
      await rig.deliver(gw, { type: MsgType.PUBLISH, qos: 0, topicId: 0x99, text: 'x' });
      const pa = await gw.expect(MsgType.PUBACK);
      expect([pa.m.topicId, pa.m.msgId, pa.m.returnCode]).toEqual([0x99, 0, 2]);
      expect(rig.take()).toEqual([]);
    });

    it('§6.7: answers an unknown pre-defined topic id with "invalid topic ID" too', async () => {
      await rig.deliver(gw, { type: MsgType.PUBLISH, qos: 1, topicIdType: TopicIdType.Predefined, topicId: 3, msgId: 9, text: 'x' });
      const pa = await gw.expect(MsgType.PUBACK);
      expect([pa.m.topicId, pa.m.msgId, pa.m.returnCode]).toEqual([3, 9, 2]);
    });

    if (!impl.full)
      it('the lean client has no QoS 2: an inbound QoS 2 PUBLISH is dropped with onError(Unsupported) and not answered', async () => {
        await rig.deliver(gw, { type: MsgType.PUBLISH, qos: 2, topicIdType: TopicIdType.Short, topicId: shortId('ab'), msgId: 5, text: 'q2' });
        expect(rig.take()).toEqual([['error', -7]]);
        rig.quiet();
      });

    if (impl.full) it('QoS 2: delivers once, answers PUBREC, answers a duplicate with PUBREC only, PUBREL with PUBCOMP', async () => {
      const short = shortId('q2');
      await rig.deliver(gw, { type: MsgType.PUBLISH, qos: 2, topicIdType: TopicIdType.Short, topicId: short, msgId: 0x42, text: 'one' });
      expect(rig.take()).toEqual([['message', null, short, 2, 'one', 2, false]]);
      expect((await gw.expect(MsgType.PUBREC)).m.msgId).toBe(0x42);
      // The gateway did not get the PUBREC and retransmits with DUP.
      await rig.deliver(gw, { type: MsgType.PUBLISH, qos: 2, dup: true, topicIdType: TopicIdType.Short, topicId: short, msgId: 0x42, text: 'one' });
      expect(rig.take()).toEqual([]);
      expect((await gw.expect(MsgType.PUBREC)).m.msgId).toBe(0x42);
      await rig.deliver(gw, { type: MsgType.PUBREL, msgId: 0x42 });
      expect((await gw.expect(MsgType.PUBCOMP)).m.msgId).toBe(0x42);
      // A retransmitted PUBREL still gets its PUBCOMP.
      await rig.deliver(gw, { type: MsgType.PUBREL, msgId: 0x42 });
      expect((await gw.expect(MsgType.PUBCOMP)).m.msgId).toBe(0x42);
      // After PUBREL the id is free: the same MsgId is a new message.
      await rig.deliver(gw, { type: MsgType.PUBLISH, qos: 2, topicIdType: TopicIdType.Short, topicId: short, msgId: 0x42, text: 'two' });
      expect(rig.take()).toEqual([['message', null, short, 2, 'two', 2, false]]);
      await gw.expect(MsgType.PUBREC);
    });

    if (impl.full) it('QoS 2 with every inbound slot waiting for PUBREL: sends nothing, so the gateway retransmits later', async () => {
      rig.close();
      rig = await Rig.create(gw, { maxInbound: 1 });
      await rig.connect(gw);
      const short = shortId('q2');
      await rig.deliver(gw, { type: MsgType.PUBLISH, qos: 2, topicIdType: TopicIdType.Short, topicId: short, msgId: 1, text: 'a' });
      await gw.expect(MsgType.PUBREC);
      const sent = rig.tr.sent;
      await rig.deliver(gw, { type: MsgType.PUBLISH, qos: 2, topicIdType: TopicIdType.Short, topicId: short, msgId: 2, text: 'b' });
      expect(rig.tr.sent).toBe(sent);
      await rig.deliver(gw, { type: MsgType.PUBREL, msgId: 1 });
      await gw.expect(MsgType.PUBCOMP);
      await rig.deliver(gw, { type: MsgType.PUBLISH, qos: 2, topicIdType: TopicIdType.Short, topicId: short, msgId: 2, text: 'b' });
      expect((await gw.expect(MsgType.PUBREC)).m.msgId).toBe(2);
      expect(rig.take().map((e) => e[4])).toEqual(['a', 'b']);
    });

    it('a gateway REGISTER updates the id of a topic it already named', async () => {
      await rig.deliver(gw, { type: MsgType.REGISTER, topicId: 1, msgId: 1, text: 'a/b' });
      await gw.expect(MsgType.REGACK);
      await rig.deliver(gw, { type: MsgType.REGISTER, topicId: 2, msgId: 2, text: 'a/b' });
      await gw.expect(MsgType.REGACK);
      await rig.deliver(gw, { type: MsgType.PUBLISH, topicId: 2, text: 'x' });
      expect(rig.take()).toEqual([['message', 'a/b', 2, 0, 'x', 0, false]]);
    });

    it('answers a gateway REGISTER with "rejected: congestion" when the topic table is full (§6.10)', async () => {
      rig.close();
      rig = await Rig.create(gw, { maxTopics: 2, predefined: [['p', 1]] });
      await rig.connect(gw);
      await rig.deliver(gw, { type: MsgType.REGISTER, topicId: 7, msgId: 1, text: 'a' });
      expect((await gw.expect(MsgType.REGACK)).m.returnCode).toBe(0);
      await rig.deliver(gw, { type: MsgType.REGISTER, topicId: 8, msgId: 2, text: 'b' });
      const ra = await gw.expect(MsgType.REGACK);
      expect([ra.m.topicId, ra.m.msgId, ra.m.returnCode]).toEqual([8, 2, 1]);
      expect(rig.take()).toEqual([['error', -11]]);
    });

    it('answers the gateway PINGREQ with PINGRESP (§6.11)', async () => {
      await rig.deliver(gw, { type: MsgType.PINGREQ });
      await gw.expect(MsgType.PINGRESP);
    });
  });
});
