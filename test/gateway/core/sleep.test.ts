/** Gateway core › sleeping clients (MQTT-SN 1.2 §6.14) and PINGREQ (§6.11). */
import { afterEach, describe, expect, it } from 'vitest';
import { MsgType } from '../../../src/mqttsn';
import { Rig, until } from './harness';
import { SN_IMPLS } from '../../support/impls';

let rig: Rig;
afterEach(async () => {
  await rig?.stop();
});

for (const mode of ['transparent', 'aggregating'] as const) {
  describe(`sleeping clients (${mode})`, () => {
    it('buffers while asleep; on PINGREQ with the ClientId sends everything, QoS 1 retransmitted until acknowledged, then PINGRESP', async () => {
      rig = await Rig.start({ mode, timers: { tRetry: 1_000 } });
      const w = await rig.watcher();
      const c = await rig.raw();
      await c.connect('sleeper', { duration: 10 });
      const s = await c.subscribe('sl/x', 1);
      c.send({ type: MsgType.DISCONNECT, hasDuration: true, duration: 60 });
      const ack = await c.expect(MsgType.DISCONNECT);
      expect(ack.bytes.length).toBe(2); // without Duration (§5.4.21)
      expect(rig.state('sleeper')).toBe('asleep');
      await w.publish('sl/x', 'a', 1);
      await w.publish('sl/x', 'b', 0);
      await until('both buffered', () => rig.metrics.buffered === 2);
      expect(c.queued).toBe(0);
      rig.advance(30_000); // past keep-alive × 1.5: the sleep timer is the client's own
      expect(rig.state('sleeper')).toBe('asleep');
      c.send({ type: MsgType.PINGREQ, text: 'sleeper' });
      const a = await c.expect(MsgType.PUBLISH);
      expect([a.m.topicId, a.m.qos, a.text]).toEqual([s.topicId, 1, 'a']);
      expect(rig.state('sleeper')).toBe('awake');
      rig.advance(1_000);
      const again = await c.expect(MsgType.PUBLISH); // not acknowledged: retransmitted as usual
      expect([again.m.dup, again.m.msgId]).toEqual([true, a.m.msgId]);
      c.send({ type: MsgType.PUBACK, topicId: a.m.topicId, msgId: a.m.msgId, returnCode: 0 });
      expect((await c.expect(MsgType.PUBLISH)).text).toBe('b');
      await c.expect(MsgType.PINGRESP); // only after the buffer is empty
      expect(rig.state('sleeper')).toBe('asleep');
      expect(rig.metrics.buffered).toBe(0);
      // nothing buffered: PINGRESP at once, still asleep
      c.send({ type: MsgType.PINGREQ, text: 'sleeper' });
      await c.expect(MsgType.PINGRESP);
      expect(rig.state('sleeper')).toBe('asleep');
    });

    it('a sleeping client silent for longer than its sleep duration × grace is lost: its Will is published', async () => {
      rig = await Rig.start({ mode });
      const w = await rig.watcher([['will/#', 0]]);
      const c = await rig.raw();
      c.send({ type: MsgType.CONNECT, will: true, cleanSession: true, duration: 10, text: 'dozer' });
      await c.expect(MsgType.WILLTOPICREQ);
      c.send({ type: MsgType.WILLTOPIC, qos: 0, text: 'will/dozer' });
      await c.expect(MsgType.WILLMSGREQ);
      c.send({ type: MsgType.WILLMSG, text: 'overslept' });
      expect((await c.expect(MsgType.CONNACK)).m.returnCode).toBe(0);
      c.send({ type: MsgType.DISCONNECT, hasDuration: true, duration: 100 });
      await c.expect(MsgType.DISCONNECT);
      rig.advance(149_999);
      expect(rig.state('dozer')).toBe('asleep');
      rig.advance(1);
      expect(rig.state('dozer')).toBe('lost');
      await w.message('will/dozer', 'overslept');
    });

    it('a CONNECT from a sleeping client makes it active and delivers what was buffered', async () => {
      rig = await Rig.start({ mode });
      const w = await rig.watcher();
      const c = await rig.raw();
      await c.connect('waker', { clean: false });
      const s = await c.subscribe('wk/x', 0);
      c.send({ type: MsgType.DISCONNECT, hasDuration: true, duration: 60 });
      await c.expect(MsgType.DISCONNECT);
      await w.publish('wk/x', 'while asleep', 0);
      await until('buffered', () => rig.metrics.buffered === 1);
      await c.connect('waker', { clean: false });
      const p = await c.expect(MsgType.PUBLISH);
      expect([p.m.topicId, p.text]).toEqual([s.topicId, 'while asleep']);
      expect(rig.state('waker')).toBe('active');
      await c.barrier();
    });
  });
}

describe('sleep details', () => {
  it('keeps at most maxBufferedPerSleeper messages, dropping the oldest QoS 0 first', async () => {
    rig = await Rig.start({ config: { maxBufferedPerSleeper: 2 } });
    const w = await rig.watcher();
    const c = await rig.raw();
    await c.connect('tiny');
    await c.subscribe('tb/x', 1);
    c.send({ type: MsgType.DISCONNECT, hasDuration: true, duration: 60 });
    await c.expect(MsgType.DISCONNECT);
    await w.publish('tb/x', 'q1', 1);
    await w.publish('tb/x', 'old0', 0);
    await w.publish('tb/x', 'new0', 0);
    await until('three arrived', () => rig.metrics.brokerIn === 3);
    expect(rig.metrics.drops.sleep_buffer_full).toBe(1);
    expect(rig.metrics.buffered).toBe(2);
    c.send({ type: MsgType.PINGREQ, text: 'tiny' });
    const a = await c.expect(MsgType.PUBLISH);
    expect(a.text).toBe('q1');
    c.send({ type: MsgType.PUBACK, topicId: a.m.topicId, msgId: a.m.msgId, returnCode: 0 });
    expect((await c.expect(MsgType.PUBLISH)).text).toBe('new0');
    await c.expect(MsgType.PINGRESP);
  });

  it('an awake client that stops answering is asleep again after N_RETRY; the unacknowledged message goes again (DUP) at its next wake-up, before PINGRESP', async () => {
    rig = await Rig.start({ timers: { tRetry: 1_000, nRetry: 2 } });
    const w = await rig.watcher();
    const c = await rig.raw();
    await c.connect('drowsy', { duration: 10 });
    await c.subscribe('dr/x', 1);
    c.send({ type: MsgType.DISCONNECT, hasDuration: true, duration: 60 });
    await c.expect(MsgType.DISCONNECT);
    await w.publish('dr/x', 'kept', 1);
    await w.publish('dr/x', 'next', 1);
    await until('both buffered', () => rig.metrics.buffered === 2);
    c.send({ type: MsgType.PINGREQ, text: 'drowsy' });
    const p = await c.expect(MsgType.PUBLISH);
    expect([p.m.dup, p.text]).toEqual([false, 'kept']);
    expect(rig.state('drowsy')).toBe('awake');
    // the client dozes off without answering: two retransmissions, then asleep
    rig.advance(1_000);
    expect((await c.expect(MsgType.PUBLISH)).m.dup).toBe(true);
    rig.advance(1_000);
    expect((await c.expect(MsgType.PUBLISH)).m.dup).toBe(true);
    rig.advance(1_000);
    expect(rig.state('drowsy')).toBe('asleep');
    expect(rig.metrics.drops.retries_exhausted).toBe(0);
    await c.barrier(); // a plain PINGREQ of an asleep client: PINGRESP, nothing else was sent
    rig.advance(30_000); // no retransmission while it sleeps
    await c.barrier();
    c.send({ type: MsgType.PINGREQ, text: 'drowsy' });
    const again = await c.expect(MsgType.PUBLISH);
    expect([again.m.dup, again.m.msgId, again.text]).toEqual([true, p.m.msgId, 'kept']);
    c.send({ type: MsgType.PUBACK, topicId: again.m.topicId, msgId: again.m.msgId, returnCode: 0 });
    const n = await c.expect(MsgType.PUBLISH);
    expect([n.m.dup, n.text]).toEqual([false, 'next']);
    c.send({ type: MsgType.PUBACK, topicId: n.m.topicId, msgId: n.m.msgId, returnCode: 0 });
    await c.expect(MsgType.PINGRESP);
    expect(rig.state('drowsy')).toBe('asleep');
    expect(rig.metrics.buffered).toBe(0);
  });

  it('PINGREQ with an unknown ClientId, or from an address with no session, is answered with DISCONNECT', async () => {
    rig = await Rig.start();
    const c = await rig.raw();
    c.send({ type: MsgType.PINGREQ, text: 'nobody' });
    await c.expect(MsgType.DISCONNECT);
    c.send({ type: MsgType.PINGREQ });
    await c.expect(MsgType.DISCONNECT);
    expect(rig.metrics.drops.not_connected).toBe(2);
  });

  it('a sleeping client may change its sleep duration with another DISCONNECT(Duration)', async () => {
    rig = await Rig.start();
    const c = await rig.raw();
    await c.connect('resleep');
    c.send({ type: MsgType.DISCONNECT, hasDuration: true, duration: 10 });
    await c.expect(MsgType.DISCONNECT);
    c.send({ type: MsgType.DISCONNECT, hasDuration: true, duration: 100 });
    await c.expect(MsgType.DISCONNECT);
    rig.advance(100_000);
    expect(rig.state('resleep')).toBe('asleep');
    c.send({ type: MsgType.DISCONNECT });
    await c.expect(MsgType.DISCONNECT);
    expect(rig.state('resleep')).toBe('disconnected');
  });

  for (const { name, make } of SN_IMPLS)
    it(`${name}: sleep, wake up, receive what was buffered before PINGRESP, sleep again`, async () => {
      rig = await Rig.start({ mode: 'aggregating' });
      const w = await rig.watcher();
      const d = await rig.device({ clientId: 'sn-sleeper', keepAlive: 60 }, make);
      await d.connect();
      d.c.subscribe('snsl/x', 1);
      d.poll();
      await d.event('ack');
      d.c.sleep(1);
      d.poll();
      await d.event('sleep');
      expect(rig.state('sn-sleeper')).toBe('asleep');
      await w.publish('snsl/x', 'buffered', 1);
      await until('buffered', () => rig.metrics.buffered === 1);
      // the client wakes by itself after 1 s (its own clock), fetches, and sleeps again
      await d.event('wake', () => true, 5_000);
      const m = await d.event('message', () => true, 5_000);
      expect([m[1], m[4], m[5]]).toEqual(['snsl/x', 'buffered', 1]);
      await d.event('sleep', () => true, 5_000);
      await until('asleep again', () => rig.state('sn-sleeper') === 'asleep' && rig.metrics.buffered === 0);
    });
});
