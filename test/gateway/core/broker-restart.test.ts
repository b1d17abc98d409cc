/**
 * Gateway core › the broker goes away and comes back (issue #4: "QoS 1/2 messages in flight to
 * or from the broker are not lost across a broker restart"), end to end over real UDP:
 * fieldmq `SnClient`s → gateway → Eclipse Mosquitto, with independent MQTT.js clients on the
 * broker side, in both modes.
 *
 * - Upstream: two devices stream QoS 1 and QoS 2 messages; Mosquitto is restarted (SIGTERM, it
 *   saves its sessions, then starts again on the same port) once a third of each stream is
 *   acknowledged. A persistent MQTT.js subscriber must receive every message, QoS 2 exactly
 *   once. The devices are configured to ride out the restart (T_RETRY 200 ms, N_RETRY 100): the
 *   gateway acknowledges a message only once the broker has it, so a PUBACK waits for the broker.
 * - Downstream: the link's way to the broker is cut (a relay in front of Mosquitto), Mosquitto is
 *   restarted while it is cut, and MQTT.js publishes QoS 1 and QoS 2 messages while the link is
 *   still down: the broker queues them for the gateway's persistent session (aggregating: the
 *   shared connection; transparent: the device's own, CleanSession=0), and once the link is back
 *   the device gets every one, QoS 2 exactly once.
 */
import { afterEach, describe, expect, it } from 'vitest';
import mqtt from 'mqtt';
import { requireMosquitto, startMosquitto, type MosquittoBroker } from '../../support/mosquitto';
import { CutProxy, Rig, until, type Device } from './harness';

const cleanups: (() => Promise<unknown> | unknown)[] = [];
afterEach(async () => {
  for (const f of cleanups.splice(0).reverse()) await f();
});

/** A device publishing `n` messages `<prefix><i>` on `topic` as fast as its request queue takes them. */
class Stream {
  device: Device | null = null;
  next = 0;
  acked = 0;
  /** Return codes of failed publishes (none expected). */
  readonly failed: number[] = [];
  private readonly timer: NodeJS.Timeout;

  constructor(
    readonly topic: string,
    readonly prefix: string,
    readonly qos: number,
    readonly n: number,
  ) {
    this.timer = setInterval(() => this.feed(), 2);
  }

  /** `onPublished` of the device. */
  ack(rc: number): void {
    if (rc === 0) this.acked++;
    else this.failed.push(rc);
  }

  stop(): void {
    clearInterval(this.timer);
  }

  private feed(): void {
    const d = this.device;
    if (d === null) return;
    while (this.next < this.n && d.c.publish(this.topic, `${this.prefix}${this.next}`, this.qos, false) > 0) this.next++;
    d.poll();
  }
}

describe.runIf(requireMosquitto())('gateway core › Mosquitto restarted mid-stream', () => {
  for (const mode of ['aggregating', 'transparent'] as const) {
    it(`${mode}: QoS 1 and QoS 2 from devices all arrive across a broker restart, QoS 2 exactly once`, async () => {
      const broker: MosquittoBroker = await startMosquitto();
      cleanups.push(() => broker.stop());
      const N = 90;
      const topic = (q: number) => `up/${mode}/q${q}`;

      // An independent subscriber with a persistent session, reconnecting by itself.
      const counts = [new Map<string, number>(), new Map<string, number>(), new Map<string, number>()];
      const sub = await mqtt.connectAsync(broker.url, { clientId: `sub-${mode}`, clean: false, reconnectPeriod: 50, protocolVersion: 4 });
      cleanups.push(() => sub.endAsync(true));
      sub.on('message', (t, payload) => {
        const q = t === topic(1) ? 1 : t === topic(2) ? 2 : 0;
        const m = counts[q]!;
        m.set(payload.toString(), (m.get(payload.toString()) ?? 0) + 1);
      });
      await sub.subscribeAsync(`up/${mode}/#`, { qos: 2 });

      const rig = await Rig.start({ mode, brokerUrl: broker.url });
      cleanups.push(() => rig.stop());
      const streams = [1, 2].map((qos) => new Stream(topic(qos), `m${qos}-`, qos, N));
      cleanups.push(() => streams.forEach((s) => s.stop()));
      for (const s of streams) {
        const d = await rig.device({
          clientId: `dev-${mode}-q${s.qos}`,
          cleanSession: false,
          tRetry: 200, // retransmits (DUP) while the broker is away
          nRetry: 100,
          tWait: 1_000,
          maxInflight: 8,
          onPublished: (_id, rc) => s.ack(rc),
        });
        await d.connect();
        s.device = d;
      }

      await until('a third of both streams acknowledged', () => streams.every((s) => s.acked >= N / 3), 20_000);
      expect(streams.map((s) => s.acked < N)).toEqual([true, true]); // still streaming when it goes down
      await broker.restart();
      await until('both streams acknowledged', () => streams.every((s) => s.acked === N), 30_000);
      expect(streams.map((s) => s.failed)).toEqual([[], []]);
      await until(`all ${2 * N} messages at the subscriber`, () => counts[1]!.size === N && counts[2]!.size === N, 30_000);

      for (const qos of [1, 2]) {
        const missing = [...Array(N).keys()].map((i) => `m${qos}-${i}`).filter((m) => !counts[qos]!.has(m));
        expect(missing).toEqual([]);
      }
      const twice = [...counts[2]!].filter(([, n]) => n > 1).map(([m]) => m);
      expect(twice).toEqual([]);
      expect(rig.metrics.messagesIn[2] + rig.metrics.messagesIn[3]).toBeGreaterThanOrEqual(2 * N);
      expect(rig.state(`dev-${mode}-q1`)).toBe('active');
      expect(rig.state(`dev-${mode}-q2`)).toBe('active');
    });

    it(`${mode}: messages published while the link is down (and the broker restarted) reach the device once it is back, QoS 2 exactly once`, async () => {
      const broker: MosquittoBroker = await startMosquitto();
      cleanups.push(() => broker.stop());
      const proxy = await CutProxy.start({ host: broker.host, port: broker.port });
      cleanups.push(() => proxy.close());
      const rig = await Rig.start({ mode, brokerUrl: broker.url, linkUrl: proxy.url });
      cleanups.push(() => rig.stop());
      const got = new Map<string, number>();
      const d = await rig.device({
        clientId: `down-${mode}`,
        cleanSession: false, // transparent: its own broker session persists while the link is down
        maxInbound: 8,
        onMessage: (_name, _id, _type, buf, off, len) => {
          const p = Buffer.from(buf.subarray(off, off + len)).toString();
          got.set(p, (got.get(p) ?? 0) + 1);
        },
      });
      await d.connect();
      d.c.subscribe(`down/${mode}/q1`, 1);
      d.c.subscribe(`down/${mode}/q2`, 2);
      d.poll();
      await d.event('ack', (e) => e[4] === 1);
      await d.event('ack', (e) => e[4] === 2);

      const pub = await mqtt.connectAsync(broker.url, { clientId: `pub-${mode}`, reconnectPeriod: 50, protocolVersion: 4 });
      cleanups.push(() => pub.endAsync(true));
      await pub.publishAsync(`down/${mode}/q1`, 'before', { qos: 1 });
      await until('the first message at the device', () => got.get('before') === 1);

      const t0 = Date.now();
      const timeline: string[] = [];
      const mark = (what: string) => timeline.push(`${what} +${Date.now() - t0} ms`);
      proxy.cut();
      await until('the broker link down', () => rig.metrics.brokerConnections === 0, 10_000);
      mark('link down');
      await broker.restart();
      mark('broker restarted');
      await until('the publisher back', () => pub.connected, 10_000);
      const K = 20;
      for (let i = 0; i < K; i++) {
        await pub.publishAsync(`down/${mode}/q1`, `d1-${i}`, { qos: 1 });
        await pub.publishAsync(`down/${mode}/q2`, `d2-${i}`, { qos: 2 });
      }
      // All 2K are with the broker (PUBACK / PUBCOMP) while the gateway's link is still down.
      expect(rig.metrics.brokerConnections).toBe(0);
      expect([...got.keys()]).toEqual(['before']);

      mark('published');
      const relayedBefore = proxy.relayed;
      proxy.heal();
      mark('healed');
      void until('the link back', () => rig.metrics.brokerConnections > 0, 60_000).then(() => mark('link back'), () => undefined);
      await until(
        `all ${2 * K} messages at the device`,
        () => [...Array(K).keys()].every((i) => got.has(`d1-${i}`) && got.has(`d2-${i}`)),
        30_000,
        () => `${[...got.keys()].length} arrived: ${[...got.keys()].join(' ')}; ${timeline.join(', ')}; relayed ${proxy.relayed}`,
      );
      // A marker published after proves nothing else (a second copy) is still on the way.
      await pub.publishAsync(`down/${mode}/q2`, 'marker', { qos: 2 });
      await until('the marker at the device', () => got.has('marker'), 10_000);
      const twice = [...got].filter(([p, n]) => p.startsWith('d2-') && n > 1).map(([p]) => p);
      expect(twice).toEqual([]);
      expect(rig.state(`down-${mode}`)).toBe('active');
      // The link came back once and stayed up: the backlog (more QoS 2 messages than the broker's
      // in-flight window) did not make it drop and reconnect over and over.
      expect(proxy.relayed - relayedBefore).toBeLessThanOrEqual(mode === 'transparent' ? 2 : 1);
    });
  }
});
