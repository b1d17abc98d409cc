/**
 * BrokerLink › subscribe / unsubscribe, both modes, MQTT 3.1.1 and 5: granted QoS, delivery to
 * `handlers.onMessage`, the aggregating link's reference counting (observed at the broker with
 * Aedes' `subscribe` / `unsubscribe` events), and subscriptions asked while the link is down.
 */
import { describe, expect, it } from 'vitest';
import type { Client as AedesClient, Subscription } from 'aedes';
import type { BrokerLink } from '../../../gateway/broker/link';
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
  startProxy,
  subscribe,
  setWill,
  unsubscribe,
  uniq,
  until,
  untilTrue,
  useCleanups,
  will,
  type LinkProbe,
  type Peer,
} from './helpers';

useCleanups();

const MODES = ['aggregating', 'transparent'] as const;

/**
 * Makes sure everything the broker sent the link before now has arrived: the observer
 * publishes a marker (QoS 1) to a topic `holder` is subscribed to through the link, and the
 * probe waits for it.
 */
async function linkRoundTrip(obs: Observer, probe: LinkProbe, markerTopic: string): Promise<void> {
  const payload = uniq('marker');
  await obs.publish(markerTopic, payload, 1);
  await untilTrue(`marker ${payload} at the link`, () => probe.messages.some((m) => m.topic === markerTopic && m.payload === payload));
}

forEachPeer((peer) => {
  for (const mode of MODES) {
    describe(mode, () => {
      it(`grants the QoS asked for and delivers at ${mode === 'transparent' ? 'min(published, granted)' : 'the published QoS (the core downgrades)'}, with the client id (transparent) or null (aggregating)`, async () => {
        const p = peer();
        const obs = await Observer.connect(p);
        const { link, probe } = await startLink(p, mode);
        const id = uniq('sensor');
        expect(await connectClient(link, { clientId: id })).toBe(0);
        const base = uniq('cmd');
        for (const qos of [0, 1, 2]) expect(await subscribe(link, id, `${base}/q${qos}/#`, qos)).toBe(qos);
        for (const qos of [0, 1, 2]) await obs.publish(`${base}/q${qos}/x`, `to q${qos}`, 2);
        for (const qos of [0, 1, 2]) {
          const topic = `${base}/q${qos}/x`;
          await untilTrue(`message on ${topic} at the link`, () => probe.on(topic).length > 0);
          // Aggregating: the shared connection holds every filter at QoS 2. Transparent: Aedes 1.2
          // delivers a QoS 2 message at QoS 2 even to a QoS 1 subscription (seen with MQTT.js
          // alone too): there the QoS is only known to be at least the granted one.
          const delivered = mode === 'aggregating' ? 2 : p.kind === 'aedes' && qos === 1 ? probe.on(topic)[0]?.qos : qos;
          expect(delivered).toBeGreaterThanOrEqual(qos);
          expect(probe.on(topic)).toEqual([{ clientId: mode === 'transparent' ? id : null, topic, payload: `to q${qos}`, qos: delivered, retain: false }]);
        }
      });

      it('a retained message arrives at a new subscription with retain set', async () => {
        const p = peer();
        const obs = await Observer.connect(p);
        const topic = uniq('state');
        await obs.publish(topic, 'on', 1, true);
        onCleanup(() => obs.publish(topic, '', 1, true));
        const { link, probe } = await startLink(p, mode);
        const id = uniq('sensor');
        expect(await connectClient(link, { clientId: id })).toBe(0);
        expect(await subscribe(link, id, topic, 1)).toBe(1);
        await untilTrue('the retained message at the link', () => probe.on(topic).length > 0);
        expect(probe.on(topic)[0]).toMatchObject({ payload: 'on', retain: true });
      });

      it('after unsubscribe (answered once the broker confirmed) messages on the filter stop', async () => {
        const p = peer();
        const obs = await Observer.connect(p);
        const { link, probe } = await startLink(p, mode);
        const id = uniq('sensor');
        expect(await connectClient(link, { clientId: id })).toBe(0);
        const topic = uniq('gone');
        const marker = uniq('marker');
        expect(await subscribe(link, id, topic, 1)).toBe(1);
        expect(await subscribe(link, id, marker, 1)).toBe(1);
        await obs.publish(topic, 'before', 1);
        await untilTrue('the message before unsubscribing', () => probe.on(topic).length === 1);
        await unsubscribe(link, id, topic);
        await obs.publish(topic, 'after', 1);
        await linkRoundTrip(obs, probe, marker);
        expect(probe.on(topic).map((m) => m.payload)).toEqual(['before']);
      });
    });
  }

  it('aggregating: each run starts the shared session afresh: filters an earlier run left at the broker bring nothing', async () => {
    const p = peer();
    const obs = await Observer.connect(p);
    const name = uniq('gw');
    const base = uniq('fresh');
    const first = await startLink(p, 'aggregating', {}, name);
    const id = uniq('sensor');
    expect(await connectClient(first.link, { clientId: id })).toBe(0);
    expect(await subscribe(first.link, id, `${base}/old/#`, 1)).toBe(1);
    await linkRoundTrip(obs, first.probe, `${base}/old/x`); // the broker holds the filter
    await first.link.stop(); // the persistent session keeps it

    const second = await startLink(p, 'aggregating', {}, name);
    expect(second.gatewayId).toBe(first.gatewayId);
    expect(await connectClient(second.link, { clientId: id })).toBe(0);
    expect(await subscribe(second.link, id, `${base}/new/#`, 1)).toBe(1);
    await obs.publish(`${base}/old/x`, 'stale', 1);
    await linkRoundTrip(obs, second.probe, `${base}/new/x`); // anything for old/# would be here by now
    expect(second.probe.messages.filter((m) => m.topic.startsWith(`${base}/old/`))).toEqual([]);
  });

  it('transparent: two clients on one filter each get the message on their own connection', async () => {
    const p = peer();
    const obs = await Observer.connect(p);
    const { link, probe } = await startLink(p, 'transparent');
    const [a, b] = [uniq('a'), uniq('b')];
    const topic = uniq('both');
    for (const id of [a, b]) {
      expect(await connectClient(link, { clientId: id })).toBe(0);
      expect(await subscribe(link, id, topic, 1)).toBe(1);
    }
    await obs.publish(topic, 'hello', 1);
    await untilTrue('the message for both clients', () => probe.on(topic).length === 2);
    expect(probe.on(topic).map((m) => m.clientId).sort()).toEqual([a, b].sort());
  });

  it('aggregating: two clients on one filter get one delivery (the core fans out)', async () => {
    const p = peer();
    const obs = await Observer.connect(p);
    const { link, probe } = await startLink(p, 'aggregating');
    const [a, b] = [uniq('a'), uniq('b')];
    const topic = uniq('shared');
    const marker = uniq('marker');
    for (const id of [a, b]) {
      expect(await connectClient(link, { clientId: id })).toBe(0);
      expect(await subscribe(link, id, topic, 1)).toBe(1);
    }
    expect(await subscribe(link, a, marker, 1)).toBe(1);
    await obs.publish(topic, 'once', 1);
    await linkRoundTrip(obs, probe, marker);
    expect(probe.on(topic)).toEqual([{ clientId: null, topic, payload: 'once', qos: 1, retain: false }]);
  });

  it('aggregating: a client subscribing to a filter another client holds gets the retained message again', async () => {
    const p = peer();
    const obs = await Observer.connect(p);
    const topic = uniq('kept');
    await obs.publish(topic, 'state', 1, true);
    onCleanup(() => obs.publish(topic, '', 1, true));
    const { link, probe } = await startLink(p, 'aggregating');
    const [a, b] = [uniq('a'), uniq('b')];
    for (const id of [a, b]) expect(await connectClient(link, { clientId: id })).toBe(0);
    expect(await subscribe(link, a, topic, 1)).toBe(1);
    await untilTrue('the retained message for the first holder', () => probe.on(topic).length === 1);
    expect(await subscribe(link, b, topic, 0)).toBe(0);
    await untilTrue('the retained message again, for the second holder', () => probe.on(topic).length === 2, undefined, () => JSON.stringify(probe.on(topic)));
    expect(probe.on(topic)).toEqual([
      { clientId: null, topic, payload: 'state', qos: 1, retain: true },
      { clientId: null, topic, payload: 'state', qos: 1, retain: true },
    ]);
  });

  it('aggregating: overlapping filters (a/x at QoS 0, a/# at QoS 1) do not lower the QoS a QoS 1 message arrives with', async () => {
    const p = peer();
    const obs = await Observer.connect(p);
    const { link, probe } = await startLink(p, 'aggregating');
    const [a, b] = [uniq('a'), uniq('b')];
    for (const id of [a, b]) expect(await connectClient(link, { clientId: id })).toBe(0);
    const base = uniq('ov');
    const marker = uniq('marker');
    expect(await subscribe(link, a, `${base}/x`, 0)).toBe(0);
    expect(await subscribe(link, b, `${base}/#`, 1)).toBe(1);
    expect(await subscribe(link, b, marker, 1)).toBe(1);
    await obs.publish(`${base}/x`, 'for a at QoS 0, for b at QoS 1', 1);
    await linkRoundTrip(obs, probe, marker);
    const got = probe.on(`${base}/x`);
    // MQTT 3.1.1 (Aedes, Mosquitto): one copy. Mosquitto with MQTT 5: one copy per matching
    // subscription (§3.3.4 allows both). Either way every copy comes at the published QoS.
    expect(got.length).toBe(p.kind === 'mosquitto' && p.version === 5 ? 2 : 1);
    for (const m of got) expect(m).toEqual({ clientId: null, topic: `${base}/x`, payload: 'for a at QoS 0, for b at QoS 1', qos: 1, retain: false });
  });

  it('transparent: subscribing for an unknown client answers 0x80', async () => {
    const { link } = await startLink(peer(), 'transparent');
    expect(await subscribe(link, 'nobody', 'x/#', 1)).toBe(0x80);
  });
});

/** Records what Aedes' SUBSCRIBE / UNSUBSCRIBE handling saw for topics starting with `prefix`. */
function brokerSubscriptions(p: Peer, prefix: string): { subs: { topic: string; qos: number }[]; unsubs: string[] } {
  const rec = { subs: [] as { topic: string; qos: number }[], unsubs: [] as string[] };
  const onSub = (subs: Subscription[], _c: AedesClient): void => {
    for (const s of subs) if (s.topic.startsWith(prefix)) rec.subs.push({ topic: s.topic, qos: s.qos });
    changed();
  };
  const onUnsub = (topics: string[], _c: AedesClient): void => {
    for (const t of topics) if (t.startsWith(prefix)) rec.unsubs.push(t);
    changed();
  };
  p.aedes!.on('subscribe', onSub);
  p.aedes!.on('unsubscribe', onUnsub);
  onCleanup(() => {
    p.aedes!.off('subscribe', onSub);
    p.aedes!.off('unsubscribe', onUnsub);
  });
  return rec;
}

describe('BrokerLink › aggregating › reference counting per filter (aedes)', () => {
  async function setup(): Promise<{ p: Peer; link: BrokerLink; probe: LinkProbe; obs: Observer; rec: ReturnType<typeof brokerSubscriptions>; prefix: string; marker: string; ids: string[] }> {
    const p = await aedes();
    onCleanup(() => p.stop());
    const prefix = uniq('rc');
    const rec = brokerSubscriptions(p, prefix);
    const obs = await Observer.connect(p);
    const { link, probe } = await startLink(p, 'aggregating');
    const ids = [uniq('a'), uniq('b'), uniq('c')];
    for (const id of ids) expect(await connectClient(link, { clientId: id })).toBe(0);
    const marker = `${prefix}-marker`;
    expect(await subscribe(link, ids[2], marker, 1)).toBe(1);
    return { p, link, probe, obs, rec, prefix, marker, ids };
  }

  it('the broker sees a SUBSCRIBE at QoS 2 per subscribe; unsubscribing one holder keeps the filter; the last one removes it', async () => {
    const { link, probe, obs, rec, prefix, marker, ids } = await setup();
    const [a, b] = ids;
    const f = `${prefix}/t/#`;
    expect(await subscribe(link, a, f, 1)).toBe(1);
    expect(await subscribe(link, b, f, 1)).toBe(1);
    expect(rec.subs.filter((s) => s.topic === f)).toEqual([
      { topic: f, qos: 2 },
      { topic: f, qos: 2 },
    ]);

    await unsubscribe(link, a, f);
    await obs.publish(`${prefix}/t/1`, 'still held', 1);
    await linkRoundTrip(obs, probe, marker);
    expect(rec.unsubs).toEqual([]);
    expect(probe.on(`${prefix}/t/1`).map((m) => m.payload)).toEqual(['still held']);

    await unsubscribe(link, b, f);
    expect(rec.unsubs).toEqual([f]); // confirmed by the broker before done
    await obs.publish(`${prefix}/t/1`, 'nobody holds it', 1);
    await linkRoundTrip(obs, probe, marker);
    expect(probe.on(`${prefix}/t/1`).map((m) => m.payload)).toEqual(['still held']);
  });

  it('every filter is held at QoS 2: each client is answered the QoS it asked for, messages come at the published QoS', async () => {
    const { link, probe, obs, rec, prefix, marker, ids } = await setup();
    const [a, b, c] = ids;
    const f = `${prefix}/up`;
    expect(await subscribe(link, a, f, 0)).toBe(0);
    expect(await subscribe(link, b, f, 2)).toBe(2);
    expect(await subscribe(link, c, f, 1)).toBe(1);
    expect(rec.subs.filter((s) => s.topic === f).map((s) => s.qos)).toEqual([2, 2, 2]);
    await unsubscribe(link, b, f); // the QoS 2 holder goes: the others still get QoS 2 messages at QoS 2 (the core downgrades)
    await obs.publish(f, 'q2', 2);
    await linkRoundTrip(obs, probe, marker);
    expect(probe.on(f)).toEqual([{ clientId: null, topic: f, payload: 'q2', qos: 2, retain: false }]);
  });

  it('concurrent subscribes of one filter are each answered by their SUBACK', async () => {
    const { link, rec, prefix, ids } = await setup();
    const [a, b, c] = ids;
    const f = `${prefix}/burst`;
    const answers = [new Calls(), new Calls(), new Calls()];
    link.subscribe(a, f, 1, answers[0].fn);
    link.subscribe(b, f, 0, answers[1].fn);
    link.subscribe(c, f, 2, answers[2].fn);
    const got = await Promise.all(answers.map((x) => x.first('SUBACK')));
    expect(got).toEqual([1, 0, 2]);
    expect(rec.subs.filter((s) => s.topic === f).map((s) => s.qos)).toEqual([2, 2, 2]);
  });

  it('a client connecting again with CleanSession drops its references', async () => {
    const { link, rec, prefix, ids } = await setup();
    const [a] = ids;
    const f = `${prefix}/clean`;
    expect(await subscribe(link, a, f, 1)).toBe(1);
    expect(await connectClient(link, { clientId: a, cleanSession: true })).toBe(0);
    await untilTrue('the broker to drop the filter', () => rec.unsubs.includes(f));
  });
});

describe('BrokerLink › subscribe › broker answers (aedes authorizeSubscribe)', () => {
  for (const mode of MODES) {
    describe(mode, () => {
      it('a refused subscription is answered 0x80', async () => {
        const p = await aedes();
        onCleanup(() => p.stop());
        p.aedes!.authorizeSubscribe = (_c, sub, cb) => cb(null, sub.topic.startsWith('denied/') ? null : sub);
        const { link } = await startLink(p, mode);
        const id = uniq('sensor');
        expect(await connectClient(link, { clientId: id })).toBe(0);
        expect(await subscribe(link, id, 'denied/x', 1)).toBe(0x80);
        expect(await subscribe(link, id, 'allowed/x', 1)).toBe(1);
      });

      it('a refused filter holds nothing: subscribing again once allowed reaches the broker', async () => {
        const p = await aedes();
        onCleanup(() => p.stop());
        let deny = true;
        let asked = 0;
        p.aedes!.authorizeSubscribe = (_c, sub, cb) => {
          if (sub.topic === 'acl/x') asked++;
          cb(null, deny && sub.topic === 'acl/x' ? null : sub);
        };
        const { link } = await startLink(p, mode);
        const id = uniq('sensor');
        expect(await connectClient(link, { clientId: id })).toBe(0);
        expect(await subscribe(link, id, 'acl/x', 1)).toBe(0x80);
        deny = false;
        expect(await subscribe(link, id, 'acl/x', 1)).toBe(1);
        expect(asked).toBe(2);
      });

      it('a subscribe still waiting for its SUBACK at stop() is answered 0x80, once', async () => {
        const p = await aedes();
        onCleanup(() => p.stop());
        let held = 0;
        p.aedes!.authorizeSubscribe = (_c, sub, cb) => {
          if (sub.topic !== 'never/x') return cb(null, sub);
          held++; // never answered
          changed();
        };
        const { link } = await startLink(p, mode);
        const id = uniq('sensor');
        expect(await connectClient(link, { clientId: id })).toBe(0);
        const sub = new Calls();
        link.subscribe(id, 'never/x', 1, sub.fn);
        await untilTrue('the broker to hold the SUBSCRIBE', () => held === 1);
        await link.stop();
        expect(await sub.first('the answer')).toBe(0x80);
        await new Promise((r) => setImmediate(r));
        expect(sub.count).toBe(1);
      });

      it('unsubscribing before the SUBACK came answers both, the subscribe first', async () => {
        const p = await aedes();
        onCleanup(() => p.stop());
        const held: (() => void)[] = [];
        p.aedes!.authorizeSubscribe = (_c, sub, cb) => {
          if (sub.topic === 'slow/x') {
            held.push(() => cb(null, sub));
            changed();
          } else cb(null, sub);
        };
        const { link } = await startLink(p, mode);
        const id = uniq('sensor');
        expect(await connectClient(link, { clientId: id })).toBe(0);
        const order: string[] = [];
        const sub = new Calls();
        const unsub = new Calls<[]>();
        link.subscribe(id, 'slow/x', 1, (g) => {
          order.push(`subscribe ${g}`);
          sub.fn(g);
        });
        await untilTrue('the broker to hold the SUBSCRIBE', () => held.length === 1);
        link.unsubscribe(id, 'slow/x', () => {
          order.push('unsubscribe');
          unsub.fn();
        });
        held[0]();
        await untilTrue('both answered', () => sub.count === 1 && unsub.count === 1);
        expect(order).toEqual(['subscribe 1', 'unsubscribe']);
      });
    });
  }
});

describe.runIf(HAVE_MOSQUITTO)('BrokerLink › aggregating › a broker granting less than QoS 2 (mosquitto max_qos 1)', () => {
  for (const version of [4, 5] as const) {
    it(`MQTT ${version === 5 ? '5' : '3.1.1'}: each client is answered min(QoS asked for, QoS granted)`, async () => {
      const p = await mosquitto(version, { config: 'max_qos 1' });
      onCleanup(() => p.stop());
      const { link } = await startLink(p, 'aggregating');
      const ids = [uniq('a'), uniq('b'), uniq('c')];
      for (const id of ids) expect(await connectClient(link, { clientId: id })).toBe(0);
      const f = uniq('capped');
      expect(await subscribe(link, ids[0], f, 2)).toBe(1);
      expect(await subscribe(link, ids[1], f, 0)).toBe(0);
      expect(await subscribe(link, ids[2], f, 1)).toBe(1);
    });
  }
});

describe('BrokerLink › forget', () => {
  it('aggregating (aedes): forget drops the record without its Will, and the filters only it held', async () => {
    const p = await aedes();
    onCleanup(() => p.stop());
    const prefix = uniq('fg');
    const rec = brokerSubscriptions(p, prefix);
    const obs = await Observer.connect(p);
    await obs.subscribe(`${prefix}/will`, 1);
    const { link, probe } = await startLink(p, 'aggregating');
    const [gone, other] = [uniq('gone'), uniq('other')];
    expect(await connectClient(link, { clientId: gone, cleanSession: false, will: will(`${prefix}/will`, 'lost') })).toBe(0);
    expect(await connectClient(link, { clientId: other })).toBe(0);
    const [own, shared, marker] = [`${prefix}/own`, `${prefix}/shared`, `${prefix}/marker`];
    expect(await subscribe(link, gone, own, 1)).toBe(1);
    expect(await subscribe(link, gone, shared, 1)).toBe(1);
    expect(await subscribe(link, other, shared, 1)).toBe(1);
    expect(await subscribe(link, other, marker, 1)).toBe(1);
    link.disconnect(gone, false); // CleanSession=0: the link keeps its record (and references)
    expect(await setWill(link, gone, will(`${prefix}/will`, 'lost again'))).toBe(0);

    link.forget(gone);
    await untilTrue('the broker to drop the filter only the forgotten client held', () => rec.unsubs.includes(own));
    expect(await setWill(link, gone, null)).toBe(3); // no record any more
    link.disconnect(gone, true); // unknown now: nothing to publish
    await obs.publish(own, 'nobody', 1);
    await obs.publish(shared, 'still held', 1);
    await linkRoundTrip(obs, probe, marker);
    expect(rec.unsubs).toEqual([own]);
    expect(probe.on(own)).toEqual([]);
    expect(probe.on(shared).map((m) => m.payload)).toEqual(['still held']);
    await obs.roundTrip();
    expect(obs.on(`${prefix}/will`)).toEqual([]);
    link.forget('never-seen'); // unknown ids are ignored
  });

  it('transparent (aedes): forget closes a connection still open, without its Will', async () => {
    const p = await aedes();
    onCleanup(() => p.stop());
    const obs = await Observer.connect(p);
    const topic = uniq('will');
    await obs.subscribe(topic, 1);
    const { link, metrics } = await startLink(p, 'transparent');
    const id = uniq('sensor');
    expect(await connectClient(link, { clientId: id, cleanSession: false, will: will(topic, 'lost') })).toBe(0);
    const gone = p.watchGone(id);
    link.forget(id);
    await gone();
    await obs.roundTrip();
    expect(obs.on(topic)).toEqual([]);
    expect(metrics.brokerConnections).toBe(1); // the gateway's own
    expect(await subscribe(link, id, 'x/#', 1)).toBe(0x80); // no connection for it any more
    link.forget('never-seen');
  });
});

/** What a broker saw of SUBSCRIBE / UNSUBSCRIBE for topics under a prefix: Aedes events, or Mosquitto's `subscribe` / `unsubscribe` log lines. */
interface SeenAtBroker {
  subscribed(topic: string): boolean;
  /** SUBSCRIBEs of `topic` the broker has seen. */
  subscribes(topic: string): number;
  unsubscribed(topic: string): boolean;
  waitSubscribed(topic: string): Promise<void>;
  waitUnsubscribed(topic: string): Promise<void>;
}

function seenAtBroker(p: Peer, prefix: string): SeenAtBroker {
  if (p.aedes) {
    const rec = brokerSubscriptions(p, prefix);
    return {
      subscribed: (t) => rec.subs.some((s) => s.topic === t),
      subscribes: (t) => rec.subs.filter((s) => s.topic === t).length,
      unsubscribed: (t) => rec.unsubs.includes(t),
      waitSubscribed: async (t) => void (await untilTrue(`aedes to see SUBSCRIBE ${t}`, () => rec.subs.some((s) => s.topic === t))),
      waitUnsubscribed: async (t) => void (await untilTrue(`aedes to see UNSUBSCRIBE ${t}`, () => rec.unsubs.includes(t))),
    };
  }
  const m = p.mosquitto!;
  const from = m.log().length;
  const esc = (t: string): string => t.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  // "<time>: <client id> <qos> <topic>" and "<time>: <client id> <topic>" (log_type subscribe / unsubscribe)
  const subRe = (t: string): RegExp => new RegExp(`^\\d+: \\S+ \\d ${esc(t)}$`, 'm');
  const unsubRe = (t: string): RegExp => new RegExp(`^\\d+: \\S+ ${esc(t)}$`, 'm');
  return {
    subscribed: (t) => subRe(t).test(m.log().slice(from)),
    subscribes: (t) => (m.log().slice(from).match(new RegExp(subRe(t).source, 'gm')) ?? []).length,
    unsubscribed: (t) => unsubRe(t).test(m.log().slice(from)),
    waitSubscribed: async (t) => void (await m.waitForLog(subRe(t), { from, timeoutMs: 15_000 })),
    waitUnsubscribed: async (t) => void (await m.waitForLog(unsubRe(t), { from, timeoutMs: 15_000 })),
  };
}

const OFFLINE_PEERS = [
  { kind: 'aedes' as const, version: 4 as const, label: 'aedes, MQTT 3.1.1' },
  { kind: 'mosquitto' as const, version: 4 as const, label: 'mosquitto, MQTT 3.1.1' },
  { kind: 'mosquitto' as const, version: 5 as const, label: 'mosquitto, MQTT 5' },
];

async function offlinePeer(spec: (typeof OFFLINE_PEERS)[number]): Promise<Peer> {
  const p = spec.kind === 'aedes' ? await aedes() : await mosquitto(spec.version, { config: 'log_type subscribe\nlog_type unsubscribe' });
  onCleanup(() => p.stop());
  return p;
}

/**
 * Subscriptions asked while the link is down (a network outage: a proxy between link and
 * broker drops it, the broker stays up), or lost in flight with the connection (the proxy
 * stops forwarding, then drops it), must reach the broker once the link is back, including
 * into a persistent session, where the client does not re-send its table by itself.
 */
for (const how of ['asked while the link is down', 'lost in flight with the connection'] as const) {
  describe(`BrokerLink › subscribe / unsubscribe ${how}`, () => {
    for (const spec of OFFLINE_PEERS) {
      for (const mode of MODES) {
        it.runIf(spec.kind === 'aedes' || HAVE_MOSQUITTO)(`${spec.label}, ${mode}: both reach the broker after the reconnect and are answered then`, async () => {
          const p = await offlinePeer(spec);
          const proxy = await startProxy(p);
          onCleanup(() => proxy.close());
          const prefix = uniq('offline');
          const seen = seenAtBroker(p, prefix);
          const obs = await Observer.connect(p);
          const { link, probe } = await startLink({ host: proxy.host, port: proxy.port, version: spec.version }, mode);
          const id = uniq('sensor');
          expect(await connectClient(link, { clientId: id, cleanSession: false })).toBe(0);
          const kept = `${prefix}/kept`;
          expect(await subscribe(link, id, kept, 1)).toBe(1);
          const who = mode === 'transparent' ? id : null;
          const downs = (): number => probe.connections.filter((c) => c.clientId === who && !c.up).length;
          const ups = (): number => probe.connections.filter((c) => c.clientId === who && c.up).length;
          const upsBefore = ups();
          const added = `${prefix}/added`;
          const sub = new Calls();
          const unsub = new Calls<[]>();

          if (how === 'asked while the link is down') {
            proxy.cut();
            await untilTrue('the link to notice the outage', () => downs() === 1);
            link.subscribe(id, added, 1, sub.fn);
            link.unsubscribe(id, kept, unsub.fn);
          } else {
            proxy.freeze();
            link.subscribe(id, added, 1, sub.fn);
            link.unsubscribe(id, kept, unsub.fn);
            const props = spec.version === 5 ? 2 : 0; // property lengths (SUBSCRIBE: + Subscription Identifier)
            const bytes = 2 + 2 + 2 + added.length + 1 + props + (2 + 2 + 2 + kept.length + (spec.version === 5 ? 1 : 0));
            await untilTrue('both sent into the frozen proxy', () => proxy.dropped >= bytes);
            proxy.cut();
            await untilTrue('the link to notice', () => downs() === 1);
          }
          expect(seen.subscribed(added)).toBe(false); // the broker has not seen either
          expect(seen.unsubscribed(kept)).toBe(false);
          proxy.restore();

          expect(await sub.first('the subscribe', 15_000)).toBe(1);
          await untilTrue('the unsubscribe', () => unsub.count === 1, 15_000);
          expect(ups()).toBe(upsBefore + 1);
          await seen.waitSubscribed(added);
          await seen.waitUnsubscribed(kept);
          // Only its first SUBSCRIBE: nothing subscribes it again to unsubscribe it once more,
          // which let a message through between the two.
          expect(seen.subscribes(kept)).toBe(1);
          await obs.publish(kept, 'not any more', 1);
          await obs.publish(added, 'new', 1);
          await until('the message on the new filter', () => probe.on(added)[0]);
          expect(probe.on(kept)).toEqual([]);
        });
      }
    }
  });
}
