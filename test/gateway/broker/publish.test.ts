/**
 * BrokerLink › publish, both modes, MQTT 3.1.1 and 5, against real brokers and an independent
 * MQTT.js observer: what arrives, when `done` runs, what is refused, and that a full outbox
 * says so instead of losing anything.
 */
import { describe, expect, it } from 'vitest';
import type { AedesPublishPacket, Client as AedesClient, PublishPacket } from 'aedes';
import { LINK_FULL, LINK_NO_CLIENT, LINK_REJECTED, type BrokerLink } from '../../../gateway/broker/link';
import {
  Calls,
  HAVE_MOSQUITTO,
  Observer,
  aedes,
  changed,
  connectClient,
  forEachPeer,
  mosquitto,
  onCleanup,
  startLink,
  text,
  uniq,
  untilTrue,
  useCleanups,
  type Peer,
} from './helpers';

useCleanups();

const MODES = ['aggregating', 'transparent'] as const;

/** A started link and the client id to publish for (a connected sensor in transparent mode). */
async function sender(p: Peer, mode: (typeof MODES)[number], opts = {}): Promise<{ link: BrokerLink; id: string; gatewayId: string }> {
  const { link, gatewayId } = await startLink(p, mode, opts);
  const id = uniq('sensor');
  expect(await connectClient(link, { clientId: id })).toBe(0);
  return { link, id, gatewayId };
}

forEachPeer((peer) => {
  for (const mode of MODES) {
    describe(mode, () => {
      it('QoS 0, 1 and 2 arrive with topic and payload; done runs once per QoS 1/2 message, after the exchange, never for QoS 0', async () => {
        const p = peer();
        const obs = await Observer.connect(p);
        const base = uniq('data');
        await obs.subscribe(`${base}/#`, 2);
        const { link, id } = await sender(p, mode);
        const dones = [new Calls(), new Calls(), new Calls()];
        for (const qos of [0, 1, 2]) {
          expect(link.publish(id, `${base}/q${qos}`, text(`payload ${qos}`), qos, false, dones[qos].fn)).toBe(0);
        }
        for (const qos of [0, 1, 2]) {
          const [m] = await obs.messagesOn(`${base}/q${qos}`, 1);
          expect(m).toMatchObject({ payload: `payload ${qos}`, qos, retain: false });
        }
        expect(await dones[1].first('QoS 1 done')).toBe(0);
        expect(await dones[2].first('QoS 2 done')).toBe(0);
        await obs.roundTrip();
        expect(dones.map((d) => d.count)).toEqual([0, 1, 1]);
        expect(obs.seen.filter((s) => s.topic.startsWith(base)).length).toBe(3); // nothing twice
      });

      it('the payload is copied: the caller may reuse its buffer at once', async () => {
        const p = peer();
        const obs = await Observer.connect(p);
        const topic = uniq('copy');
        await obs.subscribe(topic, 1);
        const { link, id } = await sender(p, mode);
        const buf = text('first');
        expect(link.publish(id, topic, buf, 1, false, null)).toBe(0);
        buf.set(text('XXXXX'));
        expect(link.publish(id, topic, buf, 1, false, null)).toBe(0);
        const got = await obs.messagesOn(topic, 2);
        expect(got.map((m) => m.payload)).toEqual(['first', 'XXXXX']);
      });

      it('the retain flag reaches the broker (a later subscriber gets the retained message)', async () => {
        const p = peer();
        const topic = uniq('retained');
        const { link, id } = await sender(p, mode);
        const done = new Calls();
        expect(link.publish(id, topic, text('kept'), 1, true, done.fn)).toBe(0);
        expect(await done.first('retained publish done')).toBeLessThan(0x80); // MQTT 5: 0x10 "no matching subscribers" is a success
        onCleanup(() => new Promise<number>((r) => link.publish(id, topic, new Uint8Array(0), 1, true, r))); // clear it
        const late = await Observer.connect(p);
        await late.subscribe(topic, 1);
        const [m] = await late.messagesOn(topic, 1);
        expect(m).toMatchObject({ payload: 'kept', retain: true });
      });

      it('a topic MQTT cannot carry (wildcard, empty) is refused with LINK_REJECTED and done is not called', async () => {
        const p = peer();
        const obs = await Observer.connect(p);
        const topic = uniq('after-bad');
        await obs.subscribe(topic, 1);
        const { link, id } = await sender(p, mode);
        const done = new Calls();
        for (const bad of ['a/+/b', 'a/#', '+', '#', '']) {
          for (const qos of [0, 1, 2]) expect(link.publish(id, bad, text('x'), qos, false, done.fn), `"${bad}" QoS ${qos}`).toBe(LINK_REJECTED);
        }
        expect(link.publish(id, topic, new Uint8Array(2048), 1, false, done.fn), 'over the packet size').toBe(LINK_REJECTED);
        // The link still works, and the refused messages never got anywhere.
        const ok = new Calls();
        expect(link.publish(id, topic, text('fine'), 1, false, ok.fn)).toBe(0);
        expect(await ok.first('valid publish done')).toBe(0);
        await obs.messagesOn(topic, 1);
        await obs.roundTrip();
        expect(done.count).toBe(0);
        expect(obs.on(topic).map((m) => m.payload)).toEqual(['fine']);
      });
    });
  }

  describe('transparent', () => {
    it('publish(null, …) goes out on the gateway’s own connection; an unknown client gets LINK_NO_CLIENT', async () => {
      const p = peer();
      const obs = await Observer.connect(p);
      const topic = uniq('own');
      await obs.subscribe(topic, 1);
      const { link, gatewayId } = await startLink(p, 'transparent');
      const from: string[] = [];
      const onPublish = (packet: AedesPublishPacket, client: AedesClient | null): void => {
        if (packet.topic === topic && client) from.push(client.id);
      };
      p.aedes?.on('publish', onPublish);
      onCleanup(() => p.aedes?.off('publish', onPublish));
      const done = new Calls();
      expect(link.publish(null, topic, text('from the gateway'), 1, false, done.fn)).toBe(0);
      expect(await done.first('done')).toBe(0);
      expect((await obs.messagesOn(topic, 1))[0].payload).toBe('from the gateway');
      if (p.aedes) expect(from).toEqual([gatewayId]);
      expect(link.publish('nobody', topic, text('x'), 1, false, done.fn)).toBe(LINK_NO_CLIENT);
    });
  });
});

/** Holds aedes' authorizePublish for topics under `prefix` until released: the broker has the PUBLISH but does not acknowledge it. */
function holdPublishes(p: Peer, prefix: string): { held: () => number; release: () => void } {
  const pending: (() => void)[] = [];
  let held = 0;
  let open = false;
  p.aedes!.authorizePublish = (_client: AedesClient | null, packet: PublishPacket, cb: (e?: Error | null) => void) => {
    if (open || !packet.topic.startsWith(prefix)) return cb(null);
    held++;
    pending.push(() => cb(null));
    changed();
  };
  return {
    held: () => held,
    release: () => {
      open = true;
      for (const f of pending.splice(0)) f();
    },
  };
}

describe('BrokerLink › publish › acknowledgement and back-pressure (aedes hooks)', () => {
  for (const mode of MODES) {
    describe(mode, () => {
      for (const qos of [1, 2]) {
        it(`QoS ${qos}: done waits for the broker's acknowledgement`, async () => {
          const a = await aedes();
          onCleanup(() => a.stop());
          const prefix = uniq('held');
          const hold = holdPublishes(a, prefix);
          const obs = await Observer.connect(a);
          await obs.subscribe(`${prefix}/#`, 2);
          const { link, id } = await sender(a, mode);
          const done = new Calls();
          expect(link.publish(id, `${prefix}/m`, text('m'), qos, false, done.fn)).toBe(0);
          await untilTrue('the broker to hold the PUBLISH', () => hold.held() === 1);
          await obs.roundTrip(); // a few more turns of both event loops
          expect(done.count).toBe(0);
          hold.release();
          expect(await done.first('done after the release')).toBe(0);
          await obs.messagesOn(`${prefix}/m`, 1);
        });
      }

      it('stop() lets the broker acknowledge what is in flight, then disconnects: delivered, done(0)', async () => {
        const a = await aedes();
        onCleanup(() => a.stop());
        const prefix = uniq('drain');
        const hold = holdPublishes(a, prefix);
        const obs = await Observer.connect(a);
        await obs.subscribe(`${prefix}/#`, 2);
        const { link, id, gatewayId } = await sender(a, mode);
        const dones = [new Calls(), new Calls()];
        expect(link.publish(id, `${prefix}/m`, text('1'), 1, false, dones[0].fn)).toBe(0);
        expect(link.publish(id, `${prefix}/m`, text('2'), 2, false, dones[1].fn)).toBe(0);
        await untilTrue('the broker to hold the first', () => hold.held() >= 1);
        const gone = a.watchGone(mode === 'transparent' ? id : gatewayId);
        const stopped = link.stop();
        hold.release();
        await stopped;
        await gone();
        expect(dones[0].args).toEqual([[0]]);
        expect(dones[1].args).toEqual([[0]]);
        await obs.messagesOn(`${prefix}/m`, 2);
      });

      it('stop() gives up on a broker that never acknowledges (bounded): done(0x80), once', async () => {
        const a = await aedes();
        onCleanup(() => a.stop());
        const prefix = uniq('stuck');
        const hold = holdPublishes(a, prefix);
        const { link, id } = await sender(a, mode);
        const done = new Calls();
        expect(link.publish(id, `${prefix}/m`, text('1'), 1, false, done.fn)).toBe(0);
        await untilTrue('the broker to hold it', () => hold.held() === 1);
        const t0 = performance.now();
        await link.stop();
        expect(performance.now() - t0).toBeLessThan(8000);
        expect(await done.first('done after stop')).toBe(0x80);
        hold.release();
        expect(done.count).toBe(1);
      });

      it('a full outbox answers LINK_FULL (QoS 0 and 1) and loses nothing it accepted', async () => {
        const a = await aedes();
        onCleanup(() => a.stop());
        const prefix = uniq('full');
        const hold = holdPublishes(a, prefix);
        const obs = await Observer.connect(a);
        await obs.subscribe(`${prefix}/#`, 2);
        const sizes = { queueSize: 4, maxInflight: 2 };
        const { link, id } = await sender(a, mode, mode === 'aggregating' ? { sharedSizes: sizes } : { clientSizes: sizes });
        const dones = [new Calls(), new Calls(), new Calls()];
        // Two QoS 1 in flight (held by the broker), one queued behind them, and a QoS 0 queued
        // behind that (order is kept): the outbox's 4 slots are taken.
        expect(link.publish(id, `${prefix}/m`, text('1'), 1, false, dones[0].fn)).toBe(0);
        expect(link.publish(id, `${prefix}/m`, text('2'), 1, false, dones[1].fn)).toBe(0);
        await untilTrue('both in flight at the broker', () => hold.held() === 2);
        expect(link.publish(id, `${prefix}/m`, text('3'), 1, false, dones[2].fn)).toBe(0);
        expect(link.publish(id, `${prefix}/m`, text('4'), 0, false, null)).toBe(0);
        expect(link.publish(id, `${prefix}/m`, text('5'), 0, false, null)).toBe(LINK_FULL);
        expect(link.publish(id, `${prefix}/m`, text('5'), 1, false, null)).toBe(LINK_FULL);
        hold.release();
        await obs.messagesOn(`${prefix}/m`, 4);
        for (const d of dones) expect(await d.first('done')).toBe(0);
        // Room again: the refused message can be handed over now.
        expect(link.publish(id, `${prefix}/m`, text('5'), 1, false, null)).toBe(0);
        await obs.messagesOn(`${prefix}/m`, 5);
        await obs.roundTrip();
        // Every accepted message exactly once (Aedes may reorder a QoS 0 message against QoS 1 ones).
        expect(obs.on(`${prefix}/m`).map((m) => m.payload).sort()).toEqual(['1', '2', '3', '4', '5']);
      });
    });
  }
});

describe.runIf(HAVE_MOSQUITTO)('BrokerLink › publish › MQTT 5 broker with Maximum QoS 0 (mosquitto max_qos 0)', () => {
  for (const mode of MODES) {
    it(`${mode}: a QoS 1/2 message downgraded by the broker's Maximum QoS still gets its done, once`, async () => {
      const m = await mosquitto(5, { config: 'max_qos 0' });
      onCleanup(() => m.stop());
      const obs = await Observer.connect(m, { protocolVersion: 5 }); // Mosquitto refuses QoS > 0 from it too
      const topic = uniq('maxqos');
      await obs.subscribe(topic, 0);
      const { link, id } = await sender(m, mode);
      const dones = [new Calls(), new Calls()];
      expect(link.publish(id, topic, text('a'), 1, false, dones[0].fn)).toBe(0);
      expect(link.publish(id, topic, text('b'), 2, false, dones[1].fn)).toBe(0);
      const got = await obs.messagesOn(topic, 2);
      expect(got.map((s) => [s.payload, s.qos])).toEqual([
        ['a', 0],
        ['b', 0],
      ]);
      expect(await dones[0].first('done of the QoS 1 message')).toBe(0);
      expect(await dones[1].first('done of the QoS 2 message')).toBe(0);
      await obs.roundTrip(0);
      expect(dones.map((d) => d.count)).toEqual([1, 1]);
    });
  }
});

describe('BrokerLink › transparent › a client that publishes and then sends DISCONNECT', () => {
  it('what it published before is delivered and acknowledged before the connection closes', async () => {
    const a = await aedes();
    onCleanup(() => a.stop());
    const prefix = uniq('bye');
    const hold = holdPublishes(a, prefix);
    const obs = await Observer.connect(a);
    await obs.subscribe(`${prefix}/#`, 2);
    const { link, id } = await sender(a, 'transparent');
    const done = new Calls();
    expect(link.publish(id, `${prefix}/last`, text('last words'), 1, false, done.fn)).toBe(0);
    await untilTrue('the broker to hold it', () => hold.held() === 1);
    const gone = a.watchGone(id);
    link.disconnect(id, false);
    hold.release();
    expect(await done.first('done')).toBe(0);
    await gone();
    await obs.messagesOn(`${prefix}/last`, 1);
  });
});
