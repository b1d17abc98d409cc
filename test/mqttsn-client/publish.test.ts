/** SnClient › registration and the client's publish procedure (MQTT-SN 1.2 §6.5–§6.8, §6.13). */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MsgType, TopicIdType } from '../../src/mqttsn';
import { SnState } from '../../src/mqttsn/client';
import { SN_IMPLS, useSnImpl, Rig, ScriptedGateway, shortId } from './harness';

for (const impl of SN_IMPLS) describe(impl.name, () => {
  useSnImpl(impl);

  let gw: ScriptedGateway;
  let rig: Rig;
  beforeEach(async () => {
    gw = await ScriptedGateway.start();
  });
  afterEach(() => {
    rig?.close();
    gw.close();
  });

  describe('REGISTER (§6.5)', () => {
    it('sends REGISTER with TopicId 0 and reports the id from REGACK', async () => {
      rig = await Rig.create(gw);
      await rig.connect(gw);
      expect(rig.c.register('sensors/temp')).toBe(0);
      rig.poll();
      const r = await gw.expect(MsgType.REGISTER);
      expect(r.m.topicId).toBe(0);
      expect(r.m.msgId).toBeGreaterThan(0);
      expect(r.text).toBe('sensors/temp');
      await rig.deliver(gw, { type: MsgType.REGACK, topicId: 0x21, msgId: r.m.msgId, returnCode: 0 });
      expect(rig.take()).toEqual([['register', 'sensors/temp', 0x21, 0]]);
    });

    it('ignores a REGACK with another MsgId', async () => {
      rig = await Rig.create(gw);
      await rig.connect(gw);
      rig.c.register('a/b');
      rig.poll();
      const r = await gw.expect(MsgType.REGISTER);
      await rig.deliver(gw, { type: MsgType.REGACK, topicId: 5, msgId: r.m.msgId + 1, returnCode: 0 });
      expect(rig.take()).toEqual([]);
    });

    it('reports a rejected registration with its ReturnCode', async () => {
      rig = await Rig.create(gw);
      await rig.connect(gw);
      rig.c.register('a/b');
      rig.poll();
      const r = await gw.expect(MsgType.REGISTER);
      await rig.deliver(gw, { type: MsgType.REGACK, topicId: 0, msgId: r.m.msgId, returnCode: 3 });
      expect(rig.take()).toEqual([['register', 'a/b', 0, 3]]);
    });

    it('has one REGISTER outstanding at a time', async () => {
      rig = await Rig.create(gw);
      await rig.connect(gw);
      rig.c.register('a');
      rig.c.register('b');
      rig.poll();
      const a = await gw.expect(MsgType.REGISTER);
      rig.quiet();
      await rig.deliver(gw, { type: MsgType.REGACK, topicId: 1, msgId: a.m.msgId, returnCode: 0 });
      const b = await gw.expect(MsgType.REGISTER);
      expect(b.text).toBe('b');
      await rig.deliver(gw, { type: MsgType.REGACK, topicId: 2, msgId: b.m.msgId, returnCode: 0 });
      expect(rig.take()).toEqual([
        ['register', 'a', 1, 0],
        ['register', 'b', 2, 0],
      ]);
    });

    it('waits T_WAIT after "rejected: congestion", then registers again', async () => {
      rig = await Rig.create(gw, { tWait: 400_000, keepAlive: 0 });
      await rig.connect(gw);
      rig.c.register('a');
      rig.poll();
      const r = await gw.expect(MsgType.REGISTER);
      await rig.deliver(gw, { type: MsgType.REGACK, topicId: 0, msgId: r.m.msgId, returnCode: 1 });
      rig.quiet(399_999);
      rig.poll(1);
      expect((await gw.expect(MsgType.REGISTER)).text).toBe('a');
    });
  });

  describe('PUBLISH by topic name (§6.5, §6.6)', () => {
    it('registers an unknown name first, then publishes QoS 1 with the assigned id and reports PUBACK', async () => {
      rig = await Rig.create(gw);
      await rig.connect(gw);
      const id = rig.c.publish('sensors/temp', '21.5', 1, false);
      expect(id).toBeGreaterThan(0);
      rig.poll();
      const r = await gw.expect(MsgType.REGISTER);
      expect(r.text).toBe('sensors/temp');
      await rig.deliver(gw, { type: MsgType.REGACK, topicId: 0x0101, msgId: r.m.msgId, returnCode: 0 });
      const p = await gw.expect(MsgType.PUBLISH);
      expect([p.m.topicIdType, p.m.topicId, p.m.msgId, p.m.qos, p.m.dup, p.m.retain]).toEqual([
        TopicIdType.Normal,
        0x0101,
        id,
        1,
        false,
        false,
      ]);
      expect(p.text).toBe('21.5');
      await rig.deliver(gw, { type: MsgType.PUBACK, topicId: 0x0101, msgId: id, returnCode: 0 });
      expect(rig.take()).toEqual([['published', id, 0]]);
      // Registered now: the next PUBLISH goes straight out.
      rig.c.publish('sensors/temp', new Uint8Array([1, 2, 3]), 0, true);
      rig.poll();
      const q = await gw.expect(MsgType.PUBLISH);
      expect([q.m.topicId, q.m.qos, q.m.msgId, q.m.retain, Array.from(q.data)]).toEqual([0x0101, 0, 0, true, [1, 2, 3]]);
    });

    it('a rejected registration fails the waiting QoS 1 message with the ReturnCode', async () => {
      rig = await Rig.create(gw);
      await rig.connect(gw);
      const id = rig.c.publish('bad', 'x', 1, false);
      rig.poll();
      const r = await gw.expect(MsgType.REGISTER);
      await rig.deliver(gw, { type: MsgType.REGACK, topicId: 0, msgId: r.m.msgId, returnCode: 3 });
      expect(rig.take()).toEqual([['published', id, 3]]);
    });

    it('publishes a QoS 0 message queued before the connection once Active', async () => {
      rig = await Rig.create(gw);
      rig.c.connect();
      expect(rig.c.publish('ab', 'early', 0, false)).toBe(0);
      rig.poll();
      await gw.expect(MsgType.CONNECT);
      await rig.deliver(gw, { type: MsgType.CONNACK, returnCode: 0 });
      const p = await gw.expect(MsgType.PUBLISH);
      expect(p.text).toBe('early');
    });

    it('publish while Disconnected is IllegalState', async () => {
      rig = await Rig.create(gw);
      expect(rig.c.publish('ab', 'x', 0, false)).toBe(-4);
    });

    it('reports Full when the topic table has no room for a new name', async () => {
      rig = await Rig.create(gw, { maxTopics: 1 });
      await rig.connect(gw);
      expect(rig.c.publish('a/1', 'x', 1, false)).toBeGreaterThan(0);
      expect(rig.c.publish('a/2', 'x', 1, false)).toBe(-11); // 'a/1' is waiting in the queue
      expect(rig.c.register('a/3')).toBe(-11);
    });

    it('reports Full when the queue has no slot and TooLarge past packetSize', async () => {
      rig = await Rig.create(gw, { maxInflight: 2, packetSize: 32 });
      rig.c.connect();
      expect(rig.c.publish('ab', 'x'.repeat(40), 0, false)).toBe(-8);
      expect(rig.c.publish('ab', '1', 1, false)).toBeGreaterThan(0);
      expect(rig.c.publish('ab', '2', 1, false)).toBeGreaterThan(0);
      expect(rig.c.publish('ab', '3', 1, false)).toBe(-11);
    });

    it('refuses a topic that cannot go in a message, and sends nothing: an empty name, U+0000 or a lone surrogate in a name, an id outside 0..65535', async () => {
      rig = await Rig.create(gw, { keepAlive: 0 });
      await rig.connect(gw);
      expect(rig.c.publish('', 'x', 1, false)).toBe(-5); // BadParameter
      expect(rig.c.publish('a\u0000b', 'x', 1, false)).toBe(-9); // InvalidUtf8
      expect(rig.c.publish('a/\ud800', 'x', 0, false)).toBe(-9);
      expect(rig.c.publish(70000, 'x', -1, false)).toBe(-5);
      expect(rig.c.publish(-1, 'x', 0, false)).toBe(-5);
      expect(rig.c.subscribe('', 1)).toBe(-5);
      expect(rig.c.subscribe('x\u0000/#', 1)).toBe(-9);
      expect(rig.c.subscribe(65536, 0)).toBe(-5);
      expect(rig.c.unsubscribe('')).toBe(-5);
      expect(rig.c.register('a\u0000')).toBe(-9); // a REGISTER carries even a 2-character name
      expect(rig.c.register('')).toBe(-5);
      rig.quiet(); // nothing went out, and nothing is left to renew
      expect(rig.c.publish('ok', 'x', 0, false)).toBe(0);
      rig.poll();
      expect((await gw.expect(MsgType.PUBLISH)).text).toBe('x');
    });
  });

  describe('pre-defined and short topics (§6.7)', () => {
    it('publishes a pre-defined topic by its name with TopicIdType 0b01, without REGISTER', async () => {
      rig = await Rig.create(gw, { predefined: [['config/unit', 0x0042]] });
      await rig.connect(gw);
      rig.c.publish('config/unit', 'C', 0, false);
      rig.poll();
      const p = await gw.expect(MsgType.PUBLISH);
      expect([p.m.topicIdType, p.m.topicId]).toEqual([TopicIdType.Predefined, 0x42]);
    });

    it('publishes by pre-defined id (a number) and by a 2-character short name (TopicIdType 0b10)', async () => {
      rig = await Rig.create(gw);
      await rig.connect(gw);
      rig.c.publish(7, 'a', 0, false);
      rig.c.publish('t1', 'b', 0, false);
      rig.poll();
      const a = await gw.expect(MsgType.PUBLISH);
      const b = await gw.expect(MsgType.PUBLISH);
      expect([a.m.topicIdType, a.m.topicId, a.text]).toEqual([TopicIdType.Predefined, 7, 'a']);
      expect([b.m.topicIdType, b.m.topicId, b.text]).toEqual([TopicIdType.Short, shortId('t1'), 'b']);
    });
  });

  describe('PUBLISH QoS -1 (§6.8)', () => {
    it('sends at once without a connection, with QoS flags 0b11 and MsgId 0, for pre-defined and short topics', async () => {
      rig = await Rig.create(gw, { predefined: [['p/x', 3]] });
      expect(rig.c.state()).toBe(SnState.Disconnected);
      expect(rig.c.publish('p/x', 'v1', -1, false)).toBe(0);
      expect(rig.c.publish('zz', 'v2', -1, false)).toBe(0);
      expect(rig.c.publish(9, 'v3', -1, true)).toBe(0);
      const a = await gw.expect(MsgType.PUBLISH);
      const b = await gw.expect(MsgType.PUBLISH);
      const c = await gw.expect(MsgType.PUBLISH);
      expect((a.bytes[2] >> 5) & 3).toBe(3);
      expect([a.m.qos, a.m.topicIdType, a.m.topicId, a.m.msgId, a.text]).toEqual([-1, 1, 3, 0, 'v1']);
      expect([b.m.qos, b.m.topicIdType, b.m.topicId, b.text]).toEqual([-1, 2, shortId('zz'), 'v2']);
      expect([c.m.qos, c.m.topicId, c.m.retain]).toEqual([-1, 9, true]);
      expect(rig.c.state()).toBe(SnState.Disconnected);
    });

    it('refuses QoS -1 with a normal topic name (BadParameter) and without any gateway (IllegalState)', async () => {
      rig = await Rig.create(gw);
      expect(rig.c.publish('not/predefined', 'x', -1, false)).toBe(-5);
      const lone = await Rig.create(null);
      try {
        expect(lone.c.publish('ab', 'x', -1, false)).toBe(-4);
      } finally {
        lone.close();
      }
    });
  });

  describe('PUBLISH QoS 1 and 2 (§6.6)', () => {
    if (impl.full) it('QoS 2: PUBLISH → PUBREC → PUBREL → PUBCOMP, then onPublished', async () => {
      rig = await Rig.create(gw);
      await rig.connect(gw);
      const id = rig.c.publish('q2', 'once', 2, false);
      rig.poll();
      const p = await gw.expect(MsgType.PUBLISH);
      expect([p.m.qos, p.m.msgId]).toEqual([2, id]);
      await rig.deliver(gw, { type: MsgType.PUBREC, msgId: id });
      const rel = await gw.expect(MsgType.PUBREL);
      expect(rel.m.msgId).toBe(id);
      expect(rig.take()).toEqual([]);
      await rig.deliver(gw, { type: MsgType.PUBCOMP, msgId: id });
      expect(rig.take()).toEqual([['published', id, 0]]);
    });

    if (impl.full) it('QoS 2: retransmits PUBREL (not PUBLISH) when PUBCOMP is late', async () => {
      rig = await Rig.create(gw);
      await rig.connect(gw);
      const id = rig.c.publish('q2', 'once', 2, false);
      rig.poll();
      await gw.expect(MsgType.PUBLISH);
      await rig.deliver(gw, { type: MsgType.PUBREC, msgId: id });
      await gw.expect(MsgType.PUBREL);
      rig.poll(10_000);
      expect((await gw.expect(MsgType.PUBREL)).m.msgId).toBe(id);
      await rig.deliver(gw, { type: MsgType.PUBCOMP, msgId: id });
      expect(rig.take()).toEqual([['published', id, 0]]);
    });

    it('has only one QoS 1/2 PUBLISH outstanding: the next waits for the PUBACK', async () => {
      rig = await Rig.create(gw);
      await rig.connect(gw);
      const a = rig.c.publish('t1', 'a', 1, false);
      const b = rig.c.publish('t1', 'b', 1, false);
      expect(b).not.toBe(a);
      rig.poll();
      expect((await gw.expect(MsgType.PUBLISH)).m.msgId).toBe(a);
      rig.quiet(5000);
      await rig.deliver(gw, { type: MsgType.PUBACK, topicId: shortId('t1'), msgId: a, returnCode: 0 });
      expect((await gw.expect(MsgType.PUBLISH)).m.msgId).toBe(b);
    });

    it('§6.13: retransmits the stored PUBLISH with DUP after T_RETRY', async () => {
      rig = await Rig.create(gw, { tRetry: 12_000 });
      await rig.connect(gw);
      const id = rig.c.publish('t1', 'payload', 1, true);
      rig.poll();
      const first = await gw.expect(MsgType.PUBLISH);
      expect(first.m.dup).toBe(false);
      rig.quiet(11_999);
      rig.poll(1);
      const again = await gw.expect(MsgType.PUBLISH);
      expect(again.m.dup).toBe(true);
      expect([again.m.msgId, again.m.qos, again.m.retain, again.text]).toEqual([id, 1, true, 'payload']);
      // Same bytes apart from the DUP bit.
      const b = Array.from(again.bytes);
      b[2] &= 0x7f;
      expect(b).toEqual(Array.from(first.bytes));
      await rig.deliver(gw, { type: MsgType.PUBACK, topicId: again.m.topicId, msgId: id, returnCode: 0 });
      expect(rig.take()).toEqual([['published', id, 0]]);
    });

    it('§6.13: gives up after N_RETRY retransmissions: onPublished(Timeout), onError(Timeout), reconnects', async () => {
      rig = await Rig.create(gw, { nRetry: 3 });
      await rig.connect(gw);
      const id = rig.c.publish('t1', 'x', 1, false);
      const next = rig.c.publish('t1', 'y', 1, false);
      rig.poll();
      await gw.expect(MsgType.PUBLISH);
      for (let i = 0; i < 3; i++) {
        rig.poll(10_000);
        expect((await gw.expect(MsgType.PUBLISH)).m.dup).toBe(true);
      }
      rig.poll(10_000);
      expect(rig.take()).toEqual([
        ['published', id, -13],
        ['error', -13],
      ]);
      expect(rig.c.state()).toBe(SnState.Connecting);
      rig.poll();
      await gw.expect(MsgType.CONNECT);
      await rig.deliver(gw, { type: MsgType.CONNACK, returnCode: 0 });
      // The queued message survives the reconnection.
      const p = await gw.expect(MsgType.PUBLISH);
      expect([p.m.msgId, p.text]).toEqual([next, 'y']);
    });

    /**
     * Publishes `x` on `a/b` at QoS 1, registered as id 4, and rejects it with "invalid topic ID"
     * (after a retransmission with DUP when `retransmitted`); returns its MsgId.
     */
    async function rejectedOnce(retransmitted = false): Promise<number> {
      rig = await Rig.create(gw);
      await rig.connect(gw);
      const id = rig.c.publish('a/b', 'x', 1, false);
      rig.poll();
      const r = await gw.expect(MsgType.REGISTER);
      await rig.deliver(gw, { type: MsgType.REGACK, topicId: 4, msgId: r.m.msgId, returnCode: 0 });
      expect((await gw.expect(MsgType.PUBLISH)).m.dup).toBe(false);
      if (retransmitted) {
        rig.poll(10_000); // no answer: sent again, with DUP
        expect((await gw.expect(MsgType.PUBLISH)).m.dup).toBe(true);
      }
      await rig.deliver(gw, { type: MsgType.PUBACK, topicId: 4, msgId: id, returnCode: 2 });
      return id;
    }

    it('PUBACK "invalid topic id" on a registered name: registers it again and resends the message, once (§6.6; a gateway that restarted)', async () => {
      const id = await rejectedOnce();
      expect(rig.take()).toEqual([]); // not failed: registered again
      const again = await gw.expect(MsgType.REGISTER);
      expect(again.text).toBe('a/b');
      await rig.deliver(gw, { type: MsgType.REGACK, topicId: 9, msgId: again.m.msgId, returnCode: 0 });
      const p = await gw.expect(MsgType.PUBLISH);
      // A new PUBLISH: a new MsgId, no DUP; reported under the MsgId `publish` returned.
      expect([p.m.topicId, p.m.dup, p.text]).toEqual([9, false, 'x']);
      expect(p.m.msgId).not.toBe(id);
      await rig.deliver(gw, { type: MsgType.PUBACK, topicId: 9, msgId: p.m.msgId, returnCode: 0 });
      expect(rig.take()).toEqual([['published', id, 0]]);
    });

    it('a late "invalid topic id" for an earlier copy does not fail the message resent after the first one', async () => {
      const id = await rejectedOnce(true); // both copies get rejected; the second rejection comes late
      const again = await gw.expect(MsgType.REGISTER);
      await rig.deliver(gw, { type: MsgType.REGACK, topicId: 4, msgId: again.m.msgId, returnCode: 0 }); // the same id again
      const p = await gw.expect(MsgType.PUBLISH);
      await rig.deliver(gw, { type: MsgType.PUBACK, topicId: 4, msgId: id, returnCode: 2 }); // the late one
      expect(rig.take()).toEqual([]);
      await rig.deliver(gw, { type: MsgType.PUBACK, topicId: 4, msgId: p.m.msgId, returnCode: 0 });
      expect(rig.take()).toEqual([['published', id, 0]]);
    });

    it('the message resent after "invalid topic id" goes out without DUP even when the first copy was retransmitted', async () => {
      const id = await rejectedOnce(true);
      const again = await gw.expect(MsgType.REGISTER);
      await rig.deliver(gw, { type: MsgType.REGACK, topicId: 6, msgId: again.m.msgId, returnCode: 0 });
      const p = await gw.expect(MsgType.PUBLISH);
      expect([p.m.topicId, p.m.dup]).toEqual([6, false]);
      expect(p.m.msgId).not.toBe(id);
    });

    it('PUBACK "invalid topic id" again after the new REGISTER fails the message and forgets the id, so the next publish registers again (§6.6)', async () => {
      const id = await rejectedOnce();
      const r2 = await gw.expect(MsgType.REGISTER);
      await rig.deliver(gw, { type: MsgType.REGACK, topicId: 5, msgId: r2.m.msgId, returnCode: 0 });
      const resent = await gw.expect(MsgType.PUBLISH);
      await rig.deliver(gw, { type: MsgType.PUBACK, topicId: 5, msgId: resent.m.msgId, returnCode: 2 });
      expect(rig.take()).toEqual([['published', id, 2]]);
      rig.c.publish('a/b', 'y', 0, false);
      rig.poll();
      const again = await gw.expect(MsgType.REGISTER);
      expect(again.text).toBe('a/b');
      await rig.deliver(gw, { type: MsgType.REGACK, topicId: 8, msgId: again.m.msgId, returnCode: 0 });
      expect((await gw.expect(MsgType.PUBLISH)).m.topicId).toBe(8);
    });

    it('PUBACK "rejected: congestion" stops publishing for T_WAIT, then resends', async () => {
      rig = await Rig.create(gw, { keepAlive: 0 });
      await rig.connect(gw);
      const id = rig.c.publish('t1', 'x', 1, false);
      rig.poll();
      await gw.expect(MsgType.PUBLISH);
      await rig.deliver(gw, { type: MsgType.PUBACK, topicId: shortId('t1'), msgId: id, returnCode: 1 });
      expect(rig.take()).toEqual([]);
      rig.quiet(299_999);
      rig.poll(1);
      expect((await gw.expect(MsgType.PUBLISH)).m.msgId).toBe(id);
    });

    it('a PUBACK rejecting a QoS 0 message (invalid topic id) forgets the registered id', async () => {
      rig = await Rig.create(gw);
      await rig.connect(gw);
      rig.c.register('n/1');
      rig.poll();
      const r = await gw.expect(MsgType.REGISTER);
      await rig.deliver(gw, { type: MsgType.REGACK, topicId: 6, msgId: r.m.msgId, returnCode: 0 });
      rig.c.publish('n/1', 'x', 0, false);
      rig.poll();
      await gw.expect(MsgType.PUBLISH);
      await rig.deliver(gw, { type: MsgType.PUBACK, topicId: 6, msgId: 0, returnCode: 2 });
      rig.c.publish('n/1', 'y', 0, false);
      rig.poll();
      expect((await gw.expect(MsgType.REGISTER)).text).toBe('n/1');
    });
  });
});
