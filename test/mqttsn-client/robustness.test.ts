/** SnClient › bad datagrams, strangers, long messages (MQTT-SN 1.2 §5.2, §5.4, §6.13). */
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
    rig = await Rig.create(gw, { keepAlive: 0 });
    await rig.connect(gw);
  });
  afterEach(() => {
    rig?.close();
    gw.close();
  });

  /** Proves the client still works: a QoS 1 PUBLISH round trip. */
  async function stillWorks(): Promise<void> {
    const id = rig.c.publish('ok', 'alive', 1, false);
    rig.poll();
    const p = await gw.expect(MsgType.PUBLISH);
    expect(p.m.msgId).toBe(id);
    await rig.deliver(gw, { type: MsgType.PUBACK, topicId: shortId('ok'), msgId: id, returnCode: 0 });
    expect(rig.take()).toEqual([['published', id, 0]]);
  }

  describe('malformed datagrams are counted and ignored (§5)', () => {
    const cases: [string, number[], number][] = [
      ['Length 0', [0x00, 0x17], -3],
      ['3-octet Length below the header', [0x01, 0x00, 0x03, 0x17], -3],
      ['declared Length longer than the datagram', [0x07, 0x0c, 0x00, 0x00, 0x01], -1],
      ['reserved MsgType 0x03', [0x02, 0x03], -7],
      ['reserved MsgType 0xff', [0x02, 0xff], -7],
      ['ENCAPSULATED to a client', [0x04, 0xfe, 0x01, 0x00], -7],
      ['PINGRESP with a body', [0x03, 0x17, 0x00], -3],
      ['octets after the declared Length', [0x02, 0x17, 0x99], -3],
      ['CONNACK without ReturnCode', [0x02, 0x05], -3],
      ['PUBLISH with TopicIdType 0b11', [0x07, 0x0c, 0x03, 0x00, 0x01, 0x00, 0x00], -7],
      ['QoS -1 PUBLISH with a normal topic id', [0x07, 0x0c, 0x60, 0x00, 0x01, 0x00, 0x00], -3],
      ['REGISTER with an empty topic name', [0x06, 0x0a, 0x00, 0x01, 0x00, 0x01], -3],
      ['REGISTER with invalid UTF-8', [0x07, 0x0a, 0x00, 0x01, 0x00, 0x01, 0xc0], -9],
      ['SUBACK too short', [0x05, 0x13, 0x00, 0x00, 0x01], -3],
      ['SUBACK granting QoS -1', [0x08, 0x13, 0x60, 0x00, 0x01, 0x00, 0x01, 0x00], -3],
    ];
    // The lean client does not validate the UTF-8 of a name the gateway REGISTERs (see below).
    for (const [name, bytes, status] of cases.filter((c) => impl.full || !c[0].includes('UTF-8'))) {
      it(`${name}: dropped (${status}), counted, reported, and the client carries on`, async () => {
        await rig.deliver(gw, new Uint8Array(bytes));
        expect(rig.c.dropped).toBe(1);
        expect(rig.take()).toEqual([['error', status]]);
        expect(rig.c.state()).toBe(SnState.Active);
        rig.quiet(); // nothing is answered
        await stillWorks();
      });
    }

    it('WILLTOPICRESP and WILLMSGRESP nobody asked for are ignored, not counted as bad', async () => {
      await rig.deliver(gw, new Uint8Array([0x03, 0x1b, 0x00]));
      await rig.deliver(gw, new Uint8Array([0x03, 0x1d, 0x00]));
      expect(rig.c.dropped).toBe(0);
      expect(rig.take()).toEqual([]);
      rig.quiet();
      await stillWorks();
    });

    if (!impl.full)
      it('REGISTER with invalid UTF-8: the lean client takes the name as decoded and acknowledges it', async () => {
        await rig.deliver(gw, new Uint8Array([0x07, 0x0a, 0x00, 0x01, 0x00, 0x01, 0xc0]));
        const r = await gw.expect(MsgType.REGACK);
        expect([r.m.topicId, r.m.msgId, r.m.returnCode]).toEqual([1, 1, 0]);
        expect(rig.c.dropped).toBe(0);
        await stillWorks();
      });

    it('survives 2,000 random datagrams without throwing and still works', async () => {
      let seed = 12345;
      const rnd = () => (seed = (seed * 69069 + 1) >>> 0) / 4294967296;
      for (let i = 0; i < 2000; i++) {
        const len = 1 + Math.floor(rnd() * 12);
        const b = new Uint8Array(len);
        for (let k = 0; k < len; k++) b[k] = Math.floor(rnd() * 256);
        if (rnd() < 0.5) b[0] = len; // a plausible Length most of the time
        if (b[1] === MsgType.DISCONNECT || b[1] === MsgType.CONNACK) b[1] = 0x03; // keep the session
        expect(() => rig.c.poll(rig.t)).not.toThrow();
        const base = rig.tr.received;
        gw.send(b, rig.port);
        await rig.arrived(base);
        expect(() => rig.poll()).not.toThrow();
        // Drain whatever the client answered (PUBACK for unknown ids, REGACK, PUBREC, ...).
        while (gw.queued) await gw.next();
      }
      expect(rig.c.dropped).toBeGreaterThan(500);
      rig.take();
      expect(rig.c.state()).toBe(SnState.Active);
      await stillWorks();
    });
  });

  describe('only the gateway in use is listened to', () => {
    it('ignores session messages from another peer (CONNACK, PUBLISH, DISCONNECT, PUBACK)', async () => {
      const stranger = await ScriptedGateway.start();
      try {
        const id = rig.c.publish('ab', 'x', 1, false);
        rig.poll();
        await gw.expect(MsgType.PUBLISH);
        await rig.deliver(stranger, { type: MsgType.PUBACK, topicId: shortId('ab'), msgId: id, returnCode: 0 });
        await rig.deliver(stranger, { type: MsgType.PUBLISH, topicIdType: TopicIdType.Short, topicId: shortId('ab'), text: 'spoof' });
        await rig.deliver(stranger, { type: MsgType.DISCONNECT });
        await rig.deliver(stranger, { type: MsgType.PINGREQ });
        expect(rig.take()).toEqual([]);
        expect(rig.c.state()).toBe(SnState.Active);
        expect(stranger.queued).toBe(0);
        await rig.deliver(gw, { type: MsgType.PUBACK, topicId: shortId('ab'), msgId: id, returnCode: 0 });
        expect(rig.take()).toEqual([['published', id, 0]]);
      } finally {
        stranger.close();
      }
    });
  });

  describe('long messages (3-octet Length, §5.2.1)', () => {
    it('patches the topic id and sets DUP at the right offsets of a 3-octet-Length PUBLISH', async () => {
      rig.close();
      rig = await Rig.create(gw, { packetSize: 600 });
      await rig.connect(gw);
      const body = 'x'.repeat(400);
      const id = rig.c.publish('long/topic', body, 1, false);
      rig.poll();
      const r = await gw.expect(MsgType.REGISTER);
      await rig.deliver(gw, { type: MsgType.REGACK, topicId: 0x1234, msgId: r.m.msgId, returnCode: 0 });
      const p = await gw.expect(MsgType.PUBLISH);
      expect(p.bytes[0]).toBe(0x01);
      expect([p.m.topicId, p.m.msgId, p.m.dup, p.text]).toEqual([0x1234, id, false, body]);
      rig.poll(10_000);
      const again = await gw.expect(MsgType.PUBLISH);
      expect([again.m.topicId, again.m.msgId, again.m.dup, again.m.qos]).toEqual([0x1234, id, true, 1]);
    });

    it('receives a 3-octet-Length PUBLISH', async () => {
      rig.close();
      rig = await Rig.create(gw, { packetSize: 600 });
      await rig.connect(gw);
      const body = 'y'.repeat(300);
      await rig.deliver(gw, { type: MsgType.PUBLISH, topicIdType: TopicIdType.Short, topicId: shortId('lg'), text: body });
      expect(rig.take()).toEqual([['message', null, shortId('lg'), 2, body, 0, false]]);
    });

    it('drops a datagram longer than packetSize (truncated: NeedMoreBytes)', async () => {
      await rig.deliver(gw, { type: MsgType.PUBLISH, topicIdType: TopicIdType.Short, topicId: shortId('lg'), text: 'z'.repeat(200) });
      expect(rig.take()).toEqual([['error', -1]]);
      expect(rig.c.dropped).toBe(1);
    });
  });
});
