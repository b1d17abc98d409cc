/**
 * BrokerLink › Wills, both modes, MQTT 3.1.1 and 5. Transparent: the broker publishes a lost
 * client's Will (its connection is dropped without DISCONNECT) and no Will for a DISCONNECT.
 * Aggregating: the link publishes the Will itself. "No Will" is checked deterministically: the
 * broker has handled the end of the connection (or the link's own later message), and a marker
 * sent through the broker afterwards came back first.
 */
import { describe, expect, it } from 'vitest';
import type { BrokerLink } from '../../../gateway/broker/link';
import { createLogger } from '../../../gateway/log';
import {
  Calls,
  Observer,
  connectClient,
  aedes,
  forEachPeer,
  makeLink,
  onCleanup,
  setWill,
  startLink,
  startProxy,
  text,
  uniq,
  untilTrue,
  useCleanups,
  will,
  type Peer,
} from './helpers';

useCleanups();

interface Fixture {
  p: Peer;
  link: BrokerLink;
  obs: Observer;
  id: string;
  topic: string;
}

async function fixture(p: Peer, mode: 'transparent' | 'aggregating', w: (topic: string) => ReturnType<typeof will> | null): Promise<Fixture> {
  const obs = await Observer.connect(p);
  const topic = uniq('will');
  await obs.subscribe(`${topic}/#`, 1);
  const { link } = await startLink(p, mode);
  const id = uniq('sensor');
  expect(await connectClient(link, { clientId: id, will: w(`${topic}/status`) })).toBe(0);
  return { p, link, obs, id, topic };
}

/**
 * Everything the end of `id`'s session could have published has been seen: transparent, the
 * broker handled the end of the connection; aggregating, a message the link sent afterwards
 * on the same connection arrived. Then a marker round trip.
 */
async function settled(f: Fixture, mode: 'transparent' | 'aggregating', gone: (() => Promise<void>) | null): Promise<void> {
  if (mode === 'transparent') await gone!();
  else {
    const after = new Calls();
    expect(f.link.publish(null, `${f.topic}/after`, text('after'), 1, false, after.fn)).toBe(0);
    await f.obs.messagesOn(`${f.topic}/after`, 1);
  }
  await f.obs.roundTrip();
}

forEachPeer((peer) => {
  for (const mode of ['transparent', 'aggregating'] as const) {
    describe(mode, () => {
      it('a lost client (disconnect(id, true)): its Will is published, once, as given', async () => {
        const f = await fixture(peer(), mode, (t) => will(t, 'offline', 1));
        const gone = mode === 'transparent' ? f.p.watchGone(f.id) : null;
        f.link.disconnect(f.id, true);
        const [m] = await f.obs.messagesOn(`${f.topic}/status`, 1);
        expect(m).toMatchObject({ payload: 'offline', qos: 1 });
        await settled(f, mode, gone);
        expect(f.obs.on(`${f.topic}/status`).length).toBe(1);
      });

      it('a client that sent DISCONNECT (disconnect(id, false)): no Will', async () => {
        const f = await fixture(peer(), mode, (t) => will(t, 'offline', 1));
        const gone = mode === 'transparent' ? f.p.watchGone(f.id) : null;
        f.link.disconnect(f.id, false);
        await settled(f, mode, gone);
        expect(f.obs.on(`${f.topic}/status`)).toEqual([]);
      });

      it('setWill replaces the Will (and does not publish the old one)', async () => {
        const f = await fixture(peer(), mode, (t) => will(t, 'old', 1));
        expect(await setWill(f.link, f.id, will(`${f.topic}/status`, 'new', 1))).toBe(0);
        await f.obs.roundTrip();
        expect(f.obs.on(`${f.topic}/status`)).toEqual([]); // replacing it is not losing the client
        const gone = mode === 'transparent' ? f.p.watchGone(f.id) : null;
        f.link.disconnect(f.id, true);
        await f.obs.messagesOn(`${f.topic}/status`, 1);
        await settled(f, mode, gone);
        expect(f.obs.on(`${f.topic}/status`).map((m) => m.payload)).toEqual(['new']);
      });

      it('setWill, then the client is lost right after the answer: the new Will is published', async () => {
        const f = await fixture(peer(), mode, (t) => will(t, 'old', 1));
        expect(await setWill(f.link, f.id, will(`${f.topic}/status`, 'new', 1))).toBe(0);
        const gone = mode === 'transparent' ? f.p.watchGone(f.id) : null;
        f.link.disconnect(f.id, true);
        await f.obs.messagesOn(`${f.topic}/status`, 1);
        await settled(f, mode, gone);
        expect(f.obs.on(`${f.topic}/status`).map((m) => m.payload)).toEqual(['new']);
      });

      it('setWill(null) removes the Will', async () => {
        const f = await fixture(peer(), mode, (t) => will(t, 'old', 1));
        expect(await setWill(f.link, f.id, null)).toBe(0);
        const gone = mode === 'transparent' ? f.p.watchGone(f.id) : null;
        f.link.disconnect(f.id, true);
        await settled(f, mode, gone);
        expect(f.obs.on(`${f.topic}/status`)).toEqual([]);
      });

      it('setWill on a client without a Will adds one; its topic may differ', async () => {
        const f = await fixture(peer(), mode, () => null);
        expect(await setWill(f.link, f.id, will(`${f.topic}/other`, 'added', 0))).toBe(0);
        f.link.disconnect(f.id, true);
        const [m] = await f.obs.messagesOn(`${f.topic}/other`, 1);
        expect(m.payload).toBe('added');
      });

      it('a retained Will is kept by the broker', async () => {
        const f = await fixture(peer(), mode, (t) => will(t, 'dead', 1, true));
        f.link.disconnect(f.id, true);
        await f.obs.messagesOn(`${f.topic}/status`, 1);
        const late = await Observer.connect(f.p);
        await late.subscribe(`${f.topic}/status`, 1);
        const [m] = await late.messagesOn(`${f.topic}/status`, 1);
        expect(m).toMatchObject({ payload: 'dead', retain: true });
        await f.obs.publish(`${f.topic}/status`, '', 1, true); // clear it
      });

      it('the Will payload is copied: the caller may reuse its buffer', async () => {
        const p = peer();
        const obs = await Observer.connect(p);
        const topic = uniq('willcopy');
        await obs.subscribe(topic, 1);
        const { link } = await startLink(p, mode);
        const id = uniq('sensor');
        const w = will(topic, 'orig', 1);
        expect(await connectClient(link, { clientId: id, will: w })).toBe(0);
        w.payload.set(text('XXXX'));
        link.disconnect(id, true);
        const [m] = await obs.messagesOn(topic, 1);
        expect(m.payload).toBe('orig');
      });
    });
  }
});

/**
 * The gateway's own connection (aggregating: the shared one) with `createBrokerLink`'s `will`
 * and `birth`: the broker publishes the Will when that connection ends without DISCONNECT (a
 * proxy in front of the broker drops it, as a dead gateway or a network failure would); the
 * link publishes the birth message once it is back; `stop` publishes no Will.
 */
forEachPeer((peer) => {
  for (const mode of ['transparent', 'aggregating'] as const) {
    it(`${mode}: the gateway's own connection: Will when it is lost, birth when it is back, no Will at stop`, async () => {
      const p = peer();
      const proxy = await startProxy(p);
      onCleanup(() => proxy.close());
      const obs = await Observer.connect(p);
      const topic = uniq('gwstate');
      await obs.subscribe(topic, 1);
      const { link, probe } = await startLink({ host: proxy.host, port: proxy.port, version: p.version }, mode, {
        will: will(topic, 'offline', 1),
        birth: will(topic, 'online', 1),
      });
      await obs.roundTrip();
      expect(obs.on(topic)).toEqual([]); // no birth at start: the caller publishes what it wants then
      const ups = (): number => probe.connections.filter((c) => c.clientId === null && c.up).length;
      proxy.cut();
      const [w] = await obs.messagesOn(topic, 1);
      expect(w).toMatchObject({ payload: 'offline', qos: 1 });
      proxy.restore();
      await untilTrue('the link back', () => ups() === 2, 15_000);
      await obs.messagesOn(topic, 2, 15_000);
      expect(obs.on(topic).map((m) => m.payload)).toEqual(['offline', 'online']);
      await link.stop();
      await obs.roundTrip();
      expect(obs.on(topic).map((m) => m.payload)).toEqual(['offline', 'online']);
    });
  }
});

/** Transparent: `f`'s client is connected (a QoS 1 message gets through) and losing it publishes the Will `payload`. */
async function upWithWill(f: Fixture, payload: string): Promise<void> {
  const done = new Calls();
  expect(f.link.publish(f.id, `${f.topic}/data`, text('still here'), 1, false, done.fn)).toBe(0);
  await f.obs.messagesOn(`${f.topic}/data`, 1);
  expect(await done.first('the PUBACK')).toBe(0);
  const gone = f.p.watchGone(f.id);
  f.link.disconnect(f.id, true);
  await f.obs.messagesOn(`${f.topic}/status`, 1);
  await settled(f, 'transparent', gone);
  expect(f.obs.on(`${f.topic}/status`).map((m) => m.payload)).toEqual([payload]);
}

/** A Will no CONNECT of the link's client connections can carry: 3,000 octets, over their 2,048-octet send buffer. */
const HUGE = 'w'.repeat(3000);

forEachPeer((peer) => {
  describe('a Will too large for any CONNECT of the connection', () => {
    it('transparent: the client is answered "rejected: not supported" (3) at once, not "congestion" at the timeout, and the reason is logged', async () => {
      const p = peer();
      const lines: string[] = [];
      const { link } = await startLink(p, 'transparent', { connectTimeout: 60_000, log: createLogger({ level: 'warn', write: (l) => lines.push(l) }) });
      const id = uniq('sensor');
      expect(await connectClient(link, { clientId: id, will: will('t/status', HUGE) }, 5000)).toBe(3);
      expect(lines.some((l) => l.includes(id) && l.includes('CONNECT cannot be written') && l.includes('TooLarge'))).toBe(true);
    });

    it('transparent: setWill with it is refused (3), the old Will stays, and the client goes on', async () => {
      const p = peer();
      const f = await fixture(p, 'transparent', (t) => will(t, 'old', 1));
      expect(await setWill(f.link, f.id, will(`${f.topic}/status`, HUGE))).toBe(3);
      await upWithWill(f, 'old');
    });

    for (const mode of ['transparent', 'aggregating'] as const) {
      it(`${mode}: the gateway's own connection with it: start fails at once, saying why`, async () => {
        const p = peer();
        const t = makeLink(p, mode, { will: will('gw/status', HUGE), connectTimeout: 60_000 });
        onCleanup(() => t.link.stop());
        await expect(t.link.start()).rejects.toThrow(/the gateway's connection's CONNECT cannot be written, so it is never sent: TooLarge/);
      });
    }
  });
});

describe('a new Will the broker refuses (aedes, refusing that one Will with CONNACK 5)', () => {
  it('transparent: setWill is answered 3, the old Will is put back, and the connection comes back with it', async () => {
    const p = await aedes();
    onCleanup(() => p.stop());
    p.aedes!.authenticate = (client, _u, _p, cb) => {
      const w = (client as unknown as { _will?: { payload?: Buffer } })._will;
      if (w?.payload && Buffer.from(w.payload).toString() === 'refused') cb(Object.assign(new Error('not this Will'), { returnCode: 5 }), false);
      else cb(null, true);
    };
    const f = await fixture(p, 'transparent', (t) => will(t, 'old', 1));
    expect(await setWill(f.link, f.id, will(`${f.topic}/status`, 'refused'))).toBe(3);
    await upWithWill(f, 'old'); // back up with the old Will
  });
});
