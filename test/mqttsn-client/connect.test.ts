/** SnClient › connection set-up, clean session, Will, disconnect (MQTT-SN 1.2 §6.2–§6.4, §6.12). */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MsgType } from '../../src/mqttsn';
import { SnState } from '../../src/mqttsn/client';
import { SN_IMPLS, useSnImpl, Rig, ScriptedGateway } from './harness';

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

  describe('CONNECT (§6.2)', () => {
    it('sends CONNECT with ProtocolId 1, CleanSession, keep-alive and ClientId, and is Active after CONNACK accepted', async () => {
      rig = await Rig.create(gw, { keepAlive: 30 });
      expect(rig.c.state()).toBe(SnState.Disconnected);
      expect(rig.c.connect()).toBe(0);
      expect(rig.c.state()).toBe(SnState.Connecting);
      rig.poll();
      const r = await gw.expect(MsgType.CONNECT);
      expect(r.m.protocolId).toBe(1);
      expect(r.m.cleanSession).toBe(true);
      expect(r.m.will).toBe(false);
      expect(r.m.duration).toBe(30);
      expect(r.text).toBe('dev1');
      await rig.deliver(gw, { type: MsgType.CONNACK, returnCode: 0 });
      expect(rig.c.state()).toBe(SnState.Active);
      expect(rig.take()).toEqual([['connect', 0]]);
    });

    it('reports a rejected CONNACK (congestion) and stays Disconnected', async () => {
      rig = await Rig.create(gw);
      rig.c.connect();
      rig.poll();
      await gw.expect(MsgType.CONNECT);
      await rig.deliver(gw, { type: MsgType.CONNACK, returnCode: 1 });
      expect(rig.c.state()).toBe(SnState.Disconnected);
      expect(rig.take()).toEqual([['connect', 1]]);
      rig.quiet(60_000);
    });

    it('§6.3: sends CleanSession=false when asked', async () => {
      rig = await Rig.create(gw, { cleanSession: false });
      const r = await rig.connect(gw);
      expect(r.m.cleanSession).toBe(false);
    });

    if (impl.full) it('answers WILLTOPICREQ with WILLTOPIC and WILLMSGREQ with WILLMSG before CONNACK (Fig. 3)', async () => {
      rig = await Rig.create(gw, { will: { topic: 'dev/1/status', payload: 'offline', qos: 1, retain: true } });
      rig.c.connect();
      rig.poll();
      const c = await gw.expect(MsgType.CONNECT);
      expect(c.m.will).toBe(true);
      await rig.deliver(gw, { type: MsgType.WILLTOPICREQ });
      const wt = await gw.expect(MsgType.WILLTOPIC);
      expect(wt.m.hasFlags).toBe(true);
      expect(wt.m.qos).toBe(1);
      expect(wt.m.retain).toBe(true);
      expect(wt.text).toBe('dev/1/status');
      await rig.deliver(gw, { type: MsgType.WILLMSGREQ });
      const wm = await gw.expect(MsgType.WILLMSG);
      expect(wm.text).toBe('offline');
      await rig.deliver(gw, { type: MsgType.CONNACK, returnCode: 0 });
      expect(rig.c.state()).toBe(SnState.Active);
      expect(rig.take()).toEqual([['connect', 0]]);
    });

    if (impl.full) it('sends an empty WILLTOPIC when prompted without a Will (deletes the stored Will, §6.3)', async () => {
      rig = await Rig.create(gw);
      rig.c.connect();
      rig.poll();
      await gw.expect(MsgType.CONNECT);
      await rig.deliver(gw, { type: MsgType.WILLTOPICREQ });
      const wt = await gw.expect(MsgType.WILLTOPIC);
      expect(wt.m.hasFlags).toBe(false);
      expect(wt.bytes.length).toBe(2);
    });

    if (impl.full) it('§6.13: retransmits an unanswered WILLTOPIC after T_RETRY', async () => {
      rig = await Rig.create(gw, { will: { topic: 'w', payload: new Uint8Array([1, 2]), qos: 0, retain: false } });
      rig.c.connect();
      rig.poll();
      await gw.expect(MsgType.CONNECT);
      await rig.deliver(gw, { type: MsgType.WILLTOPICREQ });
      await gw.expect(MsgType.WILLTOPIC);
      rig.quiet(9_999);
      rig.poll(1);
      expect((await gw.expect(MsgType.WILLTOPIC)).text).toBe('w');
      await rig.deliver(gw, { type: MsgType.WILLMSGREQ });
      expect(Array.from((await gw.expect(MsgType.WILLMSG)).data)).toEqual([1, 2]);
    });

    it('§6.13: retransmits CONNECT every T_RETRY and, after N_RETRY, reports Timeout and starts over', async () => {
      rig = await Rig.create(gw, { tRetry: 15_000, nRetry: 2 });
      rig.c.connect();
      rig.poll();
      await gw.expect(MsgType.CONNECT);
      for (let i = 0; i < 2; i++) {
        rig.quiet(14_999);
        rig.poll(1);
        await gw.expect(MsgType.CONNECT);
      }
      rig.poll(15_000);
      expect(rig.take()).toEqual([['error', -13]]);
      // Only the configured gateway is known: try it again (§6.13 "only if it fails, re-connect again to the former").
      expect(rig.c.state()).toBe(SnState.Connecting);
      rig.poll();
      await gw.expect(MsgType.CONNECT);
    });

    it('connect() while Active is IllegalState', async () => {
      rig = await Rig.create(gw);
      await rig.connect(gw);
      expect(rig.c.connect()).toBe(-4);
    });
  });

  if (impl.full) describe('Will update (§6.4)', () => {
    it('sends WILLTOPICUPD and WILLMSGUPD and reports WILLTOPICRESP / WILLMSGRESP through onAck', async () => {
      rig = await Rig.create(gw, { will: { topic: 'a', payload: 'x', qos: 0, retain: false } });
      await rig.connect(gw);
      expect(rig.c.willTopicUpdate('dev/gone', 2, true)).toBe(0);
      expect(rig.c.willMessageUpdate('bye')).toBe(0);
      rig.poll();
      const t = await gw.expect(MsgType.WILLTOPICUPD);
      expect([t.m.qos, t.m.retain, t.text]).toEqual([2, true, 'dev/gone']);
      rig.quiet(); // one request at a time
      await rig.deliver(gw, { type: MsgType.WILLTOPICRESP, returnCode: 0 });
      const m = await gw.expect(MsgType.WILLMSGUPD);
      expect(m.text).toBe('bye');
      await rig.deliver(gw, { type: MsgType.WILLMSGRESP, returnCode: 0 });
      expect(rig.take()).toEqual([
        ['ack', 'WILLTOPICUPD', 0, 0, 0, 0],
        ['ack', 'WILLMSGUPD', 0, 0, 0, 0],
      ]);
    });

    it('uses the updated Will in the next CONNECT', async () => {
      rig = await Rig.create(gw, { will: { topic: 'a', payload: 'x', qos: 0, retain: false } });
      await rig.connect(gw);
      rig.c.willTopicUpdate('b', 1, false);
      rig.c.willMessageUpdate('y');
      rig.poll();
      await gw.expect(MsgType.WILLTOPICUPD);
      await rig.deliver(gw, { type: MsgType.WILLTOPICRESP, returnCode: 0 });
      await gw.expect(MsgType.WILLMSGUPD);
      await rig.deliver(gw, { type: MsgType.WILLMSGRESP, returnCode: 0 });
      await rig.reconnect(gw);
      await rig.deliver(gw, { type: MsgType.WILLTOPICREQ });
      expect((await gw.expect(MsgType.WILLTOPIC)).text).toBe('b');
      await rig.deliver(gw, { type: MsgType.WILLMSGREQ });
      expect((await gw.expect(MsgType.WILLMSG)).text).toBe('y');
    });

    it('an empty WILLTOPICUPD (null topic) deletes the Will; CONNECT then asks for no Will', async () => {
      rig = await Rig.create(gw, { will: { topic: 'a', payload: 'x', qos: 0, retain: false } });
      await rig.connect(gw);
      rig.c.willTopicUpdate(null, 0, false);
      rig.poll();
      const t = await gw.expect(MsgType.WILLTOPICUPD);
      expect(t.bytes.length).toBe(2);
      await rig.deliver(gw, { type: MsgType.WILLTOPICRESP, returnCode: 0 });
      expect((await rig.reconnect(gw)).m.will).toBe(false);
    });

    it('a Will update while Disconnected is IllegalState', async () => {
      rig = await Rig.create(gw);
      expect(rig.c.willMessageUpdate('x')).toBe(-4);
    });
  });

  describe('DISCONNECT (§6.12)', () => {
    it('sends DISCONNECT without duration and is Disconnected when the gateway answers DISCONNECT', async () => {
      rig = await Rig.create(gw);
      await rig.connect(gw);
      expect(rig.c.disconnect()).toBe(0);
      expect(rig.c.state()).toBe(SnState.Disconnecting);
      rig.poll();
      const d = await gw.expect(MsgType.DISCONNECT);
      expect(d.m.hasDuration).toBe(false);
      await rig.deliver(gw, { type: MsgType.DISCONNECT });
      expect(rig.c.state()).toBe(SnState.Disconnected);
      rig.quiet(3_600_000); // no keep-alive when disconnected
    });

    it('gives up waiting for the DISCONNECT answer after N_RETRY and is Disconnected', async () => {
      rig = await Rig.create(gw, { nRetry: 1 });
      await rig.connect(gw);
      rig.c.disconnect();
      rig.poll();
      await gw.expect(MsgType.DISCONNECT);
      rig.poll(10_000);
      await gw.expect(MsgType.DISCONNECT);
      rig.poll(10_000);
      expect(rig.c.state()).toBe(SnState.Disconnected);
      expect(rig.take()).toEqual([]);
    });

    it('an unsolicited DISCONNECT from the gateway reports Closed and sets the connection up again', async () => {
      rig = await Rig.create(gw);
      await rig.connect(gw);
      await rig.deliver(gw, { type: MsgType.DISCONNECT });
      expect(rig.take()).toEqual([['error', -15]]);
      expect(rig.c.state()).toBe(SnState.Connecting);
      rig.poll();
      await gw.expect(MsgType.CONNECT);
      await rig.deliver(gw, { type: MsgType.CONNACK, returnCode: 0 });
      expect(rig.c.state()).toBe(SnState.Active);
    });

    it("a DISCONNECT from the gateway while ours is pending ends the session the same way", async () => {
      rig = await Rig.create(gw);
      await rig.connect(gw);
      rig.c.disconnect();
      await rig.deliver(gw, { type: MsgType.DISCONNECT });
      expect(rig.c.state()).toBe(SnState.Disconnected);
      expect(rig.take()).toEqual([]);
      rig.quiet(100_000);
    });

    it('disconnect() before the session is up drops the attempt without sending anything', async () => {
      rig = await Rig.create(gw);
      rig.c.connect();
      rig.c.disconnect();
      expect(rig.c.state()).toBe(SnState.Disconnected);
      rig.quiet(100_000);
    });
  });
});
