/** SnClient › keep-alive and sleeping clients (MQTT-SN 1.2 §6.11, §6.14). */
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

  describe('keep-alive (§6.11)', () => {
    it('sends PINGREQ (without ClientId) when nothing was sent for the keep-alive period', async () => {
      rig = await Rig.create(gw, { keepAlive: 30 });
      await rig.connect(gw);
      rig.quiet(29_999);
      rig.poll(1);
      const p = await gw.expect(MsgType.PINGREQ);
      expect(p.bytes.length).toBe(2);
      await rig.deliver(gw, { type: MsgType.PINGRESP });
      rig.quiet(29_999);
      rig.poll(1);
      await gw.expect(MsgType.PINGREQ);
    });

    it('counts any message sent as activity: a PUBLISH postpones the PINGREQ', async () => {
      rig = await Rig.create(gw, { keepAlive: 30 });
      await rig.connect(gw);
      rig.poll(20_000);
      rig.c.publish('ab', 'x', 0, false);
      rig.poll();
      await gw.expect(MsgType.PUBLISH);
      rig.quiet(29_999);
      rig.poll(1);
      await gw.expect(MsgType.PINGREQ);
    });

    it('keepAlive 0 sends no PINGREQ', async () => {
      rig = await Rig.create(gw, { keepAlive: 0 });
      const c = await rig.connect(gw);
      expect(c.m.duration).toBe(0);
      rig.quiet(10_000_000);
    });

    it('retransmits an unanswered PINGREQ; after N_RETRY the gateway is lost (Timeout) and CONNECT starts again', async () => {
      rig = await Rig.create(gw, { keepAlive: 60, nRetry: 2 });
      await rig.connect(gw);
      rig.poll(60_000);
      await gw.expect(MsgType.PINGREQ);
      rig.poll(10_000);
      await gw.expect(MsgType.PINGREQ);
      rig.poll(10_000);
      await gw.expect(MsgType.PINGREQ);
      rig.poll(10_000);
      expect(rig.take()).toEqual([['error', -13]]);
      expect(rig.c.state()).toBe(SnState.Connecting);
      await gw.expect(MsgType.CONNECT);
    });

    it('is not fooled by a PINGRESP while no PINGREQ is outstanding', async () => {
      rig = await Rig.create(gw, { keepAlive: 60, nRetry: 0 });
      await rig.connect(gw);
      await rig.deliver(gw, { type: MsgType.PINGRESP });
      rig.poll(60_000);
      await gw.expect(MsgType.PINGREQ);
      rig.poll(10_000);
      expect(rig.take()).toEqual([['error', -13]]);
    });
  });

  describe('sleeping client (§6.14)', () => {
    async function asleep(duration: number, opts: Parameters<typeof Rig.create>[1] = {}): Promise<void> {
      rig = await Rig.create(gw, { keepAlive: 60, ...opts });
      await rig.connect(gw);
      await rig.sleep(gw, duration);
    }

    it('the whole cycle: asleep → PINGREQ(ClientId) → buffered PUBLISHes acknowledged → PINGRESP → asleep again', async () => {
      await asleep(120);
      rig.quiet(119_999); // no keep-alive while asleep
      rig.poll(1);
      expect(rig.c.state()).toBe(SnState.Awake);
      const ping = await gw.expect(MsgType.PINGREQ);
      expect(ping.text).toBe('dev1');
      expect(rig.take()).toEqual([['wake']]);
      // The gateway sends what it buffered, then PINGRESP (DESIGN.md §5).
      const t1 = shortId('s1');
      await rig.deliver(gw, { type: MsgType.PUBLISH, qos: 1, topicIdType: TopicIdType.Short, topicId: t1, msgId: 11, text: 'b1' });
      const ack = await gw.expect(MsgType.PUBACK);
      expect([ack.m.msgId, ack.m.returnCode]).toEqual([11, 0]);
      if (impl.full) {
        // QoS 2 (the lean client has none: see "the gateway's PUBLISH" for how it drops one).
        await rig.deliver(gw, { type: MsgType.PUBLISH, qos: 2, topicIdType: TopicIdType.Short, topicId: t1, msgId: 12, text: 'b2' });
        await gw.expect(MsgType.PUBREC);
        await rig.deliver(gw, { type: MsgType.PUBREL, msgId: 12 });
        await gw.expect(MsgType.PUBCOMP);
      }
      await rig.deliver(gw, { type: MsgType.PUBLISH, qos: 0, topicIdType: TopicIdType.Short, topicId: t1, text: 'b3' });
      expect(rig.c.state()).toBe(SnState.Awake);
      await rig.deliver(gw, { type: MsgType.PINGRESP });
      expect(rig.c.state()).toBe(SnState.Asleep);
      expect(rig.take()).toEqual([
        ['message', null, t1, 2, 'b1', 1, false],
        ...(impl.full ? [['message', null, t1, 2, 'b2', 2, false]] : []),
        ['message', null, t1, 2, 'b3', 0, false],
        ['sleep'],
      ]);
      // Next wake-up one sleep duration after the PINGRESP.
      rig.quiet(119_999);
      rig.poll(1);
      await gw.expect(MsgType.PINGREQ);
      expect(rig.take()).toEqual([['wake']]);
    });

    it('while awake, every message but PINGRESP restarts T_RETRY; PINGREQ is retransmitted only after a quiet T_RETRY', async () => {
      await asleep(60);
      rig.poll(60_000);
      await gw.expect(MsgType.PINGREQ);
      rig.poll(9_000);
      await rig.deliver(gw, { type: MsgType.PUBLISH, topicIdType: TopicIdType.Short, topicId: shortId('zz'), text: 'x' });
      rig.quiet(9_999);
      rig.poll(1);
      expect((await gw.expect(MsgType.PINGREQ)).text).toBe('dev1');
    });

    it('goes back to sleep when PINGREQ gets no PINGRESP after N_RETRY retransmissions', async () => {
      await asleep(60, { nRetry: 1 });
      rig.poll(60_000);
      await gw.expect(MsgType.PINGREQ);
      rig.poll(10_000);
      await gw.expect(MsgType.PINGREQ);
      rig.poll(10_000);
      expect(rig.c.state()).toBe(SnState.Asleep);
      expect(rig.take()).toEqual([['wake'], ['error', -13], ['sleep']]);
      rig.quiet(59_999);
      rig.poll(1);
      await gw.expect(MsgType.PINGREQ);
    });

    it('connect() from asleep returns to Active with CONNECT (§6.14), and queued messages then go out', async () => {
      await asleep(300);
      const id = rig.c.publish('ab', 'hello', 1, false);
      rig.quiet(1000); // nothing is sent while asleep
      expect(rig.c.connect()).toBe(0);
      rig.poll();
      await gw.expect(MsgType.CONNECT);
      await rig.deliver(gw, { type: MsgType.CONNACK, returnCode: 0 });
      const p = await gw.expect(MsgType.PUBLISH);
      expect(p.m.msgId).toBe(id);
    });

    it('sleep() while asleep changes the duration with a new DISCONNECT(duration)', async () => {
      await asleep(60);
      rig.c.sleep(600);
      rig.poll();
      expect((await gw.expect(MsgType.DISCONNECT)).m.duration).toBe(600);
      await rig.deliver(gw, { type: MsgType.DISCONNECT });
      rig.quiet(599_999);
      rig.poll(1);
      await gw.expect(MsgType.PINGREQ);
    });

    it('disconnect() from asleep sends a plain DISCONNECT', async () => {
      await asleep(60);
      rig.c.disconnect();
      rig.poll();
      expect((await gw.expect(MsgType.DISCONNECT)).m.hasDuration).toBe(false);
      await rig.deliver(gw, { type: MsgType.DISCONNECT });
      expect(rig.c.state()).toBe(SnState.Disconnected);
    });

    it('sleep() needs a session and a duration of 1..65535 s', async () => {
      rig = await Rig.create(gw);
      expect(rig.c.sleep(10)).toBe(-4);
      await rig.connect(gw);
      expect(rig.c.sleep(0)).toBe(-5);
      expect(rig.c.sleep(65536)).toBe(-5);
    });

    it('sleep() while a QoS 1 PUBLISH is outstanding keeps it queued and resends it with DUP after reconnecting', async () => {
      rig = await Rig.create(gw);
      await rig.connect(gw);
      const id = rig.c.publish('ab', 'x', 1, false);
      rig.poll();
      await gw.expect(MsgType.PUBLISH);
      rig.c.sleep(60);
      rig.poll();
      await gw.expect(MsgType.DISCONNECT);
      await rig.deliver(gw, { type: MsgType.DISCONNECT });
      rig.c.connect();
      rig.poll();
      await gw.expect(MsgType.CONNECT);
      await rig.deliver(gw, { type: MsgType.CONNACK, returnCode: 0 });
      const p = await gw.expect(MsgType.PUBLISH);
      expect([p.m.msgId, p.m.dup]).toEqual([id, true]);
    });
  });
});
