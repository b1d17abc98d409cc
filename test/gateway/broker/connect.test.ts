/**
 * BrokerLink › connect. Transparent: each MQTT-SN client gets a broker connection of its own,
 * with its ClientId and CleanSession; refusals and an unreachable broker map to MQTT-SN return
 * codes; a reconnecting client replaces its connection without its Will being published.
 * Aggregating: `connect` answers from the shared connection's state.
 */
import { describe, expect, it } from 'vitest';
import { freePort } from '../../support/peers';
import {
  Calls,
  HAVE_MOSQUITTO,
  Observer,
  PEERS,
  aedes,
  connectClient,
  forEachPeer,
  makeLink,
  mosquitto,
  onCleanup,
  setWill,
  startLink,
  startProxy,
  subscribe,
  text,
  uniq,
  untilTrue,
  useCleanups,
  will,
} from './helpers';

useCleanups();

forEachPeer((peer) => {
  describe('transparent', () => {
    for (const clean of [true, false]) {
      it(`the broker sees the sensor's own ClientId with CleanSession ${clean}`, async () => {
        const p = peer();
        const { link } = await startLink(p, 'transparent');
        const id = uniq('sensor');
        const seen = p.watchConnected(id);
        expect(await connectClient(link, { clientId: id, cleanSession: clean })).toBe(0);
        expect(await seen()).toEqual({ clean });
      });
    }

    it('a second connect for the same id replaces the first without publishing its Will', async () => {
      const p = peer();
      const obs = await Observer.connect(p);
      const topic = uniq('will');
      await obs.subscribe(`${topic}/#`, 1);
      const { link, metrics } = await startLink(p, 'transparent');
      const id = uniq('sensor');
      expect(await connectClient(link, { clientId: id, will: will(`${topic}/status`, 'first') })).toBe(0);
      // Several reconnects in a row: a takeover at the broker would publish the old Will.
      for (let i = 2; i <= 4; i++) {
        const gone = p.watchGone(id);
        const seen = p.watchConnected(id);
        expect(await connectClient(link, { clientId: id, will: will(`${topic}/status`, `connection ${i}`) })).toBe(0);
        await gone();
        await seen();
      }
      await obs.roundTrip();
      expect(obs.on(`${topic}/status`)).toEqual([]);
      expect(metrics.brokerConnections).toBe(2); // the gateway's own and the client's
      // The connection in place is the last one, with its Will.
      const done = new Calls();
      expect(link.publish(id, `${topic}/data`, text('via the new connection'), 1, false, done.fn)).toBe(0);
      expect(await done.first('publish done')).toBe(0);
      link.disconnect(id, true);
      const [m] = await obs.messagesOn(`${topic}/status`, 1);
      expect(m.payload).toBe('connection 4');
    });

    it('a client that sent DISCONNECT and connects again at once: no Will, the new connection works', async () => {
      const p = peer();
      const obs = await Observer.connect(p);
      const topic = uniq('will');
      await obs.subscribe(`${topic}/#`, 1);
      const { link } = await startLink(p, 'transparent');
      const id = uniq('sensor');
      expect(await connectClient(link, { clientId: id, will: will(`${topic}/status`, 'gone') })).toBe(0);
      const gone = p.watchGone(id);
      link.disconnect(id, false);
      expect(await connectClient(link, { clientId: id, will: will(`${topic}/status`, 'gone') })).toBe(0);
      await gone();
      expect(await subscribe(link, id, `${topic}/cmd`, 1)).toBe(1);
      await obs.roundTrip();
      expect(obs.on(`${topic}/status`)).toEqual([]);
    });

    it('a lost client that connects again at once: its Will is published once', async () => {
      const p = peer();
      const obs = await Observer.connect(p);
      const topic = uniq('will');
      await obs.subscribe(`${topic}/#`, 1);
      const { link } = await startLink(p, 'transparent');
      const id = uniq('sensor');
      expect(await connectClient(link, { clientId: id, will: will(`${topic}/status`, 'lost') })).toBe(0);
      const gone = p.watchGone(id);
      link.disconnect(id, true);
      expect(await connectClient(link, { clientId: id })).toBe(0);
      await gone();
      await obs.messagesOn(`${topic}/status`, 1);
      await obs.roundTrip();
      expect(obs.on(`${topic}/status`).map((m) => m.payload)).toEqual(['lost']);
    });

    it('broker connections are counted once each, also across setWill', async () => {
      const p = peer();
      const { link, metrics } = await startLink(p, 'transparent');
      const [a, b] = [uniq('a'), uniq('b')];
      for (const id of [a, b]) expect(await connectClient(link, { clientId: id })).toBe(0);
      expect(metrics.brokerConnections).toBe(3);
      expect(await setWill(link, a, will('w/a', 'x'))).toBe(0);
      // A message through the re-opened connection: its CONNACK has been handled by then.
      const done = new Calls();
      expect(link.publish(a, 'w/data', text('x'), 1, false, done.fn)).toBe(0);
      expect(await done.first('publish done')).toBeLessThan(0x80); // MQTT 5: 0x10, nobody subscribed
      expect(metrics.brokerConnections).toBe(3);
      link.disconnect(a, false);
      link.disconnect(b, true);
      expect(metrics.brokerConnections).toBe(1);
    });
  });
});

/**
 * The old connection's DISCONNECT is slow to reach the broker (a proxy holds it, as a lossy
 * path would) while the client connects again: the new connection must not reach the broker
 * first, or the broker takes the session over and publishes the old Will.
 */
describe('BrokerLink › transparent › a reconnect never overtakes the old connection’s DISCONNECT', () => {
  for (const spec of PEERS) {
    it.runIf(spec.kind === 'aedes' || HAVE_MOSQUITTO)(`${spec.label}`, async () => {
      const p = spec.kind === 'aedes' ? await aedes() : await mosquitto(spec.version);
      onCleanup(() => p.stop());
      const proxy = await startProxy(p);
      onCleanup(() => proxy.close());
      const obs = await Observer.connect(p);
      const topic = uniq('will');
      await obs.subscribe(`${topic}/#`, 1);
      const { link } = await startLink({ host: proxy.host, port: proxy.port, version: spec.version }, 'transparent');
      const id = uniq('sensor');
      expect(await connectClient(link, { clientId: id, will: will(`${topic}/status`, 'old') })).toBe(0);
      proxy.hold(); // every connection open now: the gateway's own and the client's
      const gone = p.watchGone(id);
      const seen = p.watchConnected(id);
      const answer = new Calls();
      link.connect({ clientId: id, cleanSession: true, will: null }, answer.fn);
      await untilTrue('the DISCONNECT to be held on the way', () => proxy.held >= 2);
      // Had the new connection gone ahead, its CONNECT would be at the broker by now: a
      // round trip through the broker on another connection.
      await obs.roundTrip();
      proxy.release();
      expect(await answer.first('the reconnect')).toBe(0);
      await gone();
      await seen();
      await obs.roundTrip();
      expect(obs.on(`${topic}/status`)).toEqual([]);
    });
  }
});

describe('BrokerLink › transparent › connect refused or unreachable', () => {
  it('the broker refuses that client (aedes authenticate) → done(3); the others are unaffected', async () => {
    const a = await aedes();
    onCleanup(() => a.stop());
    a.aedes!.authenticate = (client, _u, _p, cb) => {
      if (client.id.startsWith('banned')) cb(Object.assign(new Error('not authorized'), { returnCode: 5 as const }), false);
      else cb(null, true);
    };
    const { link } = await startLink(a, 'transparent');
    const t0 = performance.now();
    expect(await connectClient(link, { clientId: uniq('banned') })).toBe(3);
    expect(performance.now() - t0).toBeLessThan(4000); // the refusal, not the 5 s timeout
    expect(await connectClient(link, { clientId: uniq('allowed') })).toBe(0);
    const done = new Calls();
    expect(link.publish(null, 'gw/x', text('x'), 1, false, done.fn)).toBe(0);
    expect(await done.first('own connection still publishes')).toBe(0);
  });

  it('the broker is unreachable → done(1) (congestion) after connectTimeout', async () => {
    const port = await freePort();
    const { link } = makeLink({ host: '127.0.0.1', port, version: 4 }, 'transparent', { connectTimeout: 800 });
    const t0 = performance.now();
    expect(await connectClient(link, { clientId: uniq('sensor') })).toBe(1);
    const ms = performance.now() - t0;
    expect(ms).toBeGreaterThanOrEqual(790);
    expect(ms).toBeLessThan(4000);
  });
});

describe('BrokerLink › aggregating › connect', () => {
  it('answers 0 while the shared connection is up, 1 (congestion) while it is down', async () => {
    const a = await aedes();
    onCleanup(() => a.stop());
    const proxy = await startProxy(a);
    onCleanup(() => proxy.close());
    const { link, probe } = await startLink({ host: proxy.host, port: proxy.port, version: 4 }, 'aggregating');
    expect(await connectClient(link, { clientId: uniq('sensor') })).toBe(0);
    proxy.cut();
    await untilTrue('the link to notice the outage', () => probe.connections.some((c) => !c.up));
    expect(await connectClient(link, { clientId: uniq('sensor') })).toBe(1);
    proxy.restore();
    await untilTrue('the link to come back', () => probe.connections.filter((c) => c.up).length === 2, 15_000);
    expect(await connectClient(link, { clientId: uniq('sensor') })).toBe(0);
  });
});
