/**
 * SnClient › subscriptions survive a new session (MQTT-SN 1.2 §6.3, §6.9, §6.13, §6.1).
 *
 * A gateway keeps a client's subscriptions only within its session: a CONNECT
 * with CleanSession, or any CONNECT to another gateway after failover, starts
 * with none. The client keeps its subscriptions in a fixed table and sends
 * them again there (its topic ids are registered again lazily, as before), so
 * messages keep arriving. First against scripted gateways (exact datagrams),
 * then against two real fieldmq gateways on one broker (aedes) with an
 * MQTT.js publisher: the first is stopped, the messages arrive via the second.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { MsgType, TopicIdType } from '../../src/mqttsn';
import { SnState } from '../../src/mqttsn/client';
import { Status } from '../../src/core/status';
import { NodeUdpTransport } from '../../src/platform/node/udp';
import { SN_IMPLS, useSnImpl, Rig, ScriptedGateway, shortId, useOpen, type Rx } from './harness';
import { Rig as GatewayRig, Device, until } from '../gateway/core/harness';

for (const impl of SN_IMPLS) describe(impl.name, () => {
  useSnImpl(impl);

  const track = useOpen();

  async function gateway(): Promise<ScriptedGateway> {
    const g = await ScriptedGateway.start();
    track(g);
    return g;
  }

  async function rig(gw: ScriptedGateway, opts: Parameters<typeof Rig.create>[1] = {}): Promise<Rig> {
    const r = await Rig.create(gw, { keepAlive: 60, nRetry: 1, predefined: [['pre/seven', 7]], ...opts });
    track(r);
    return r;
  }

  /** The subscription a SUBSCRIBE asks for: `name`, `'#'+id` for a pre-defined id, `'s:'+name` for a short one; and its QoS. */
  function what(r: Rx): string {
    const m = r.m;
    const t = m.topicIdType === TopicIdType.Predefined ? '#' + m.topicId : m.topicIdType === TopicIdType.Short ? 's:' + String.fromCharCode(m.topicId >> 8, m.topicId & 0xff) : r.text;
    return `${t} q${m.qos}`;
  }

  /** Answers every SUBSCRIBE from `gw` in turn (topic id `100 + n` for a name without wildcards), `n` of them; returns what they asked for. */
  async function acceptSubscribes(r: Rig, gw: ScriptedGateway, n: number): Promise<string[]> {
    const seen: string[] = [];
    for (let i = 0; i < n; i++) {
      r.poll();
      const s = await gw.expect(MsgType.SUBSCRIBE);
      seen.push(what(s));
      const named = s.m.topicIdType === TopicIdType.Normal && !/[+#]/.test(s.text);
      await r.deliver(gw, { type: MsgType.SUBACK, msgId: s.m.msgId, qos: s.m.qos, topicId: named ? 100 + i : 0, returnCode: 0 });
    }
    return seen;
  }

  /** Subscribes to the four kinds of topic and lets `gw` accept them. */
  async function subscribeAll(r: Rig, gw: ScriptedGateway): Promise<void> {
    expect(r.c.subscribe('cmd/+/x', 1)).toBeGreaterThan(0);
    expect(r.c.subscribe('dev/in', 0)).toBeGreaterThan(0);
    expect(r.c.subscribe('ab', 1)).toBeGreaterThan(0);
    expect(r.c.subscribe(7, 0)).toBeGreaterThan(0);
    expect(await acceptSubscribes(r, gw, 4)).toEqual(['cmd/+/x q1', 'dev/in q0', 's:ab q1', '#7 q0']);
    r.take();
  }

  /** Makes the client give up on `gw1` (N_RETRY = 1 unanswered PINGREQs) and connect to `gw2`. */
  async function failOver(r: Rig, gw1: ScriptedGateway, gw2: ScriptedGateway): Promise<void> {
    r.poll(60_000);
    await gw1.expect(MsgType.PINGREQ);
    r.poll(10_000);
    await gw1.expect(MsgType.PINGREQ);
    r.poll(10_000);
    const c = await gw2.expect(MsgType.CONNECT);
    expect(c.text).toBe('dev1');
    await r.deliver(gw2, { type: MsgType.CONNACK, returnCode: 0 });
    expect(r.c.state()).toBe(SnState.Active);
  }

  describe('re-subscribing in a new session', () => {
    if (impl.full) it('after failover (N_RETRY exhausted) every subscription is sent again to the new gateway, and its messages arrive', async () => {
      const gw1 = await gateway();
      const gw2 = await gateway();
      const r = await rig(gw1);
      await r.deliver(gw2, { type: MsgType.ADVERTISE, gwId: 2, duration: 3600 });
      r.take();
      await r.connect(gw1);
      await subscribeAll(r, gw1);
      await failOver(r, gw1, gw2);
      expect(await acceptSubscribes(r, gw2, 4)).toEqual(['cmd/+/x q1', 'dev/in q0', 's:ab q1', '#7 q0']);
      // Each re-subscription is reported like any SUBACK.
      expect(r.take().filter((e) => e[0] === 'ack').map((e) => [e[1], e[3]])).toEqual([
        ['SUBSCRIBE', 0],
        ['SUBSCRIBE', 0],
        ['SUBSCRIBE', 0],
        ['SUBSCRIBE', 0],
      ]);
      r.quiet(1000); // nothing more
      // Messages from the new gateway: the topic id its SUBACK gave, a REGISTER for the wildcard, short, pre-defined.
      await r.deliver(gw2, { type: MsgType.PUBLISH, topicId: 101, msgId: 0, qos: 0, text: 'in' });
      await r.deliver(gw2, { type: MsgType.REGISTER, topicId: 300, msgId: 9, text: 'cmd/4/x' });
      expect((await gw2.expect(MsgType.REGACK)).m.returnCode).toBe(0);
      await r.deliver(gw2, { type: MsgType.PUBLISH, topicId: 300, msgId: 10, qos: 1, text: 'wild' });
      await gw2.expect(MsgType.PUBACK);
      await r.deliver(gw2, { type: MsgType.PUBLISH, topicIdType: TopicIdType.Short, topicId: shortId('ab'), msgId: 11, qos: 1, text: 'short' });
      await gw2.expect(MsgType.PUBACK);
      await r.deliver(gw2, { type: MsgType.PUBLISH, topicIdType: TopicIdType.Predefined, topicId: 7, msgId: 0, qos: 0, text: 'pre' });
      expect(r.take().map((e) => [e[0], e[1], e[4]])).toEqual([
        ['message', 'dev/in', 'in'],
        ['message', 'cmd/4/x', 'wild'],
        ['message', null, 'short'],
        ['message', 'pre/seven', 'pre'],
      ]);
    });

    if (impl.full) it('after failover on lost ADVERTISEs too, and an unsubscribed filter is not renewed', async () => {
      const gw1 = await gateway();
      const gw2 = await gateway();
      const r = await rig(gw1, { keepAlive: 0, nAdv: 2 });
      await r.deliver(gw1, { type: MsgType.ADVERTISE, gwId: 1, duration: 10 });
      await r.deliver(gw2, { type: MsgType.ADVERTISE, gwId: 2, duration: 10 });
      r.take();
      await r.connect(gw1);
      r.c.subscribe('a/#', 1);
      r.c.subscribe('b/#', 1);
      await acceptSubscribes(r, gw1, 2);
      r.c.unsubscribe('a/#');
      r.poll();
      const u = await gw1.expect(MsgType.UNSUBSCRIBE);
      await r.deliver(gw1, { type: MsgType.UNSUBACK, msgId: u.m.msgId });
      const start = r.t;
      for (let i = 1; i <= 2; i++) {
        r.t = start + i * 10_000;
        await r.deliver(gw2, { type: MsgType.ADVERTISE, gwId: 2, duration: 10 });
      }
      r.t = start;
      r.poll(25_001);
      await gw2.expect(MsgType.CONNECT);
      await r.deliver(gw2, { type: MsgType.CONNACK, returnCode: 0 });
      expect(await acceptSubscribes(r, gw2, 1)).toEqual(['b/# q1']);
      r.quiet(0);
    });

    for (const [cleanSession, name] of [
      [true, 'CleanSession: a reconnect to the same gateway (after its DISCONNECT) renews the subscriptions'],
      [false, "without CleanSession, the gateway's unsolicited DISCONNECT (it could not tell who we are: it may have restarted) renews them too"],
    ] as const) {
      it(name, async () => {
        const gw = await gateway();
        const r = await rig(gw, { cleanSession });
        await r.connect(gw);
        r.c.subscribe('x/y', 1);
        await acceptSubscribes(r, gw, 1);
        await r.deliver(gw, { type: MsgType.DISCONNECT });
        r.poll();
        await gw.expect(MsgType.CONNECT);
        await r.deliver(gw, { type: MsgType.CONNACK, returnCode: 0 });
        expect(await acceptSubscribes(r, gw, 1)).toEqual(['x/y q1']);
      });
    }

    it('without CleanSession, the client\'s own DISCONNECT and a new CONNECT to the same gateway keep them: nothing is sent again', async () => {
      const gw = await gateway();
      const r = await rig(gw, { cleanSession: false });
      await r.connect(gw);
      r.c.subscribe('x/y', 1);
      await acceptSubscribes(r, gw, 1);
      expect(r.c.disconnect()).toBe(0);
      r.poll();
      await gw.expect(MsgType.DISCONNECT);
      await r.deliver(gw, { type: MsgType.DISCONNECT });
      expect(r.c.state()).toBe(SnState.Disconnected);
      expect(r.c.connect()).toBe(0);
      r.poll();
      await gw.expect(MsgType.CONNECT);
      await r.deliver(gw, { type: MsgType.CONNACK, returnCode: 0 });
      r.quiet(0);
      r.quiet(1000);
    });

    if (impl.full) it('after an unsolicited DISCONNECT the inbound QoS 2 ids are kept: a gateway that kept the session re-sends an unreleased message (DUP) and it is not delivered twice', async () => {
      const gw = await gateway();
      const r = await rig(gw, { cleanSession: false });
      await r.connect(gw);
      const q2 = { type: MsgType.PUBLISH, qos: 2, topicIdType: TopicIdType.Short, topicId: shortId('ab'), msgId: 7, text: 'once' } as const;
      await r.deliver(gw, q2);
      await gw.expect(MsgType.PUBREC); // lost on its way back
      await r.deliver(gw, { type: MsgType.DISCONNECT });
      r.poll();
      await gw.expect(MsgType.CONNECT);
      await r.deliver(gw, { type: MsgType.CONNACK, returnCode: 0 });
      await r.deliver(gw, { ...q2, dup: true });
      await gw.expect(MsgType.PUBREC);
      expect(r.take().filter((e) => e[0] === 'message').map((e) => e[4])).toEqual(['once']);
    });

    it('a second answer to its sleeping DISCONNECT (it was retransmitted) does not wake the client', async () => {
      const gw = await gateway();
      const r = await rig(gw, { cleanSession: false, nRetry: 3 });
      await r.connect(gw);
      expect(r.c.sleep(60)).toBe(0);
      r.poll();
      await gw.expect(MsgType.DISCONNECT);
      r.poll(10_000); // no answer yet: sent again
      await gw.expect(MsgType.DISCONNECT);
      await r.deliver(gw, { type: MsgType.DISCONNECT });
      expect(r.c.state()).toBe(SnState.Asleep);
      await r.deliver(gw, { type: MsgType.DISCONNECT });
      expect(r.c.state()).toBe(SnState.Asleep);
      r.quiet(0);
    });

    it('after no answer (N_RETRY) from the only gateway, the next session there renews topic ids and subscriptions: it may have restarted', async () => {
      const gw = await gateway();
      const r = await rig(gw, { cleanSession: false, gateway: 0 });
      await r.connect(gw);
      r.c.subscribe('x/y', 1);
      await acceptSubscribes(r, gw, 1);
      r.c.publish('a/b', 'one', 1, false);
      r.poll();
      const reg = await gw.expect(MsgType.REGISTER);
      await r.deliver(gw, { type: MsgType.REGACK, topicId: 1, msgId: reg.m.msgId, returnCode: 0 });
      const p = await gw.expect(MsgType.PUBLISH);
      await r.deliver(gw, { type: MsgType.PUBACK, topicId: 1, msgId: p.m.msgId, returnCode: 0 });
      r.take();
      const two = r.c.publish('a/b', 'two', 1, false);
      r.poll();
      await gw.expect(MsgType.PUBLISH); // the gateway is gone: no answer, N_RETRY = 1
      r.poll(10_000);
      await gw.expect(MsgType.PUBLISH);
      r.poll(10_000);
      expect(r.take()).toEqual([['published', two, Status.Timeout], ['error', Status.Timeout]]);
      expect(r.c.state()).toBe(SnState.Connecting);
      await gw.expect(MsgType.CONNECT);
      await r.deliver(gw, { type: MsgType.CONNACK, returnCode: 0 });
      expect(await acceptSubscribes(r, gw, 1)).toEqual(['x/y q1']);
      r.c.publish('a/b', 'three', 1, false);
      r.poll();
      expect((await gw.expect(MsgType.REGISTER)).text).toBe('a/b'); // its id is asked for again
    });

    it('an application that subscribes again in onConnect causes one SUBSCRIBE per filter, not two', async () => {
      const gw = await gateway();
      const holder: { r?: Rig } = {};
      const r = await rig(gw, {
        onConnect: (rc) => {
          holder.r!.ev.push(['connect', rc]);
          if (rc === 0) holder.r!.c.subscribe('cmd/#', 1);
        },
      });
      holder.r = r;
      await r.connect(gw); // subscribes from onConnect
      expect(await acceptSubscribes(r, gw, 1)).toEqual(['cmd/# q1']);
      await r.deliver(gw, { type: MsgType.DISCONNECT });
      r.poll();
      await gw.expect(MsgType.CONNECT);
      await r.deliver(gw, { type: MsgType.CONNACK, returnCode: 0 });
      expect(await acceptSubscribes(r, gw, 1)).toEqual(['cmd/# q1']);
      r.quiet(0);
    });

    it('a SUBSCRIBE still queued when the session is lost is sent once in the new one', async () => {
      const gw = await gateway();
      const r = await rig(gw);
      await r.connect(gw);
      r.c.subscribe('q/1', 0);
      r.c.subscribe('q/2', 0);
      r.poll();
      await gw.expect(MsgType.SUBSCRIBE); // q/1 in flight, q/2 queued behind it
      await r.deliver(gw, { type: MsgType.DISCONNECT });
      r.poll();
      await gw.expect(MsgType.CONNECT);
      await r.deliver(gw, { type: MsgType.CONNACK, returnCode: 0 });
      expect(await acceptSubscribes(r, gw, 2)).toEqual(['q/1 q0', 'q/2 q0']);
      r.quiet(0);
    });

    it('renews more subscriptions than the request queue holds, as slots free up, after what was already queued', async () => {
      const gw = await gateway();
      const r = await rig(gw, { maxInflight: 2 });
      await r.connect(gw);
      for (const f of ['f/1', 'f/2', 'f/3', 'f/4']) {
        expect(r.c.subscribe(f, 0)).toBeGreaterThan(0);
        await acceptSubscribes(r, gw, 1);
      }
      await r.deliver(gw, { type: MsgType.DISCONNECT });
      r.poll();
      await gw.expect(MsgType.CONNECT);
      expect(r.c.publish('ab', 'queued', 0, false)).toBe(0);
      await r.deliver(gw, { type: MsgType.CONNACK, returnCode: 0 });
      r.poll();
      expect((await gw.expect(MsgType.PUBLISH)).text).toBe('queued');
      expect(await acceptSubscribes(r, gw, 4)).toEqual(['f/1 q0', 'f/2 q0', 'f/3 q0', 'f/4 q0']);
    });

    it('the subscription table is fixed (maxSubscriptions): a new filter beyond it is refused with Full, a known one is updated', async () => {
      const gw = await gateway();
      const r = await rig(gw, { maxSubscriptions: 2, maxInflight: 8 });
      await r.connect(gw);
      expect(r.c.subscribe('s/1', 0)).toBeGreaterThan(0);
      expect(r.c.subscribe('s/2', 0)).toBeGreaterThan(0);
      expect(r.c.subscribe('s/3', 0)).toBe(Status.Full);
      expect(r.c.subscribe('s/1', 1)).toBeGreaterThan(0); // the same filter, new QoS: its entry
      expect(await acceptSubscribes(r, gw, 3)).toEqual(['s/1 q0', 's/2 q0', 's/1 q1']);
      r.c.unsubscribe('s/2');
      expect(r.c.subscribe('s/3', 0)).toBeGreaterThan(0); // room again
      r.poll();
      const u = await gw.expect(MsgType.UNSUBSCRIBE);
      await r.deliver(gw, { type: MsgType.UNSUBACK, msgId: u.m.msgId });
      await acceptSubscribes(r, gw, 1);
      await r.deliver(gw, { type: MsgType.DISCONNECT });
      r.poll();
      await gw.expect(MsgType.CONNECT);
      await r.deliver(gw, { type: MsgType.CONNACK, returnCode: 0 });
      expect(await acceptSubscribes(r, gw, 2)).toEqual(['s/1 q1', 's/3 q0']);
    });
  });

  if (impl.full) describe('failover between two real fieldmq gateways on one broker', () => {
    const rigs: GatewayRig[] = [];
    afterEach(async () => {
      // The second first: the first owns the broker.
      for (const g of rigs.splice(0).reverse()) await g.stop();
    });

    it('the first gateway stops; the client fails over to the second, subscribes again, and MQTT.js messages arrive through it', async () => {
      const g1 = await GatewayRig.start({ config: { gatewayId: 1 } });
      rigs.push(g1);
      const g2 = await GatewayRig.start({ brokerUrl: g1.url, config: { gatewayId: 2 } });
      rigs.push(g2);
      const watcher = await g1.watcher();
      // The device: gateway 1 configured; its SEARCHGW "broadcast" reaches gateway 2.
      const tr = new NodeUdpTransport({ localAddress: '127.0.0.1', address: '127.0.0.1', port: g1.port, broadcast: { address: '127.0.0.1', port: g2.port } });
      await tr.ready();
      track(tr);
      const gateways: number[] = [];
      const d = await Device.open(g1.port, {
        clientId: 'failover-1',
        transport: tr,
        keepAlive: 1,
        tRetry: 200,
        nRetry: 2,
        tSearchGw: 10,
        random: () => 0,
        onGateway: (id, _h, up) => {
          if (up) gateways.push(id);
        },
      });
      g1.devices.push(d);
      await d.connect();
      expect(d.c.subscribe('fo/+/cmd', 1)).toBeGreaterThan(0);
      expect((await d.event('ack'))[3]).toBe(0);
      await watcher.publish('fo/1/cmd', 'via gateway 1', 1);
      const m1 = await d.event('message');
      expect([m1[1], m1[4]]).toEqual(['fo/1/cmd', 'via gateway 1']);
      // Learn gateway 2 (its GWINFO answers the SEARCHGW), then lose gateway 1.
      expect(d.c.searchGateway()).toBe(0);
      await until('GWINFO from gateway 2', () => gateways.includes(2));
      const h1 = d.c.gateway();
      await g1.gw.stop();
      const err = await d.event('error', (e) => e[1] === Status.Timeout, 10_000);
      expect(err).toEqual(['error', Status.Timeout]);
      expect(await d.event('connect', () => true, 5000)).toEqual(['connect', 0]);
      expect(d.c.gateway()).not.toBe(h1);
      const ack = await d.event('ack', () => true, 5000);
      expect([ack[1], ack[3]]).toEqual(['SUBSCRIBE', 0]);
      await watcher.publish('fo/2/cmd', 'via gateway 2', 1);
      const m = await d.event('message', () => true, 5000);
      expect([m[1], m[4], m[5]]).toEqual(['fo/2/cmd', 'via gateway 2', 1]);
    });
  });
});
