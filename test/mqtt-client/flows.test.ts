/**
 * MqttClient and the lean MqttLite (MQTT 3.1.1) against real brokers (a private
 * Mosquitto and the embedded aedes broker), over real TCP on loopback, with an
 * independent MQTT.js client on the other side checking what arrives and
 * publishing back.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import mqtt, { type MqttClient as MqttJs } from 'mqtt';
import { ClientState, type MqttClientOptions, type MqttMessage } from '../../src/mqtt/client';
import { NodeTcpTransport } from '../../src/platform/node/tcp';
import { requireMosquitto, startMosquitto } from '../support/mosquitto';
import { startAedes } from '../support/aedes';
import { nowMs, until } from './driver';
import { IMPLS, type MqttLite } from '../support/impls';

interface Broker {
  host: string;
  port: number;
  url: string;
  stop(): Promise<void>;
}

const BROKERS: { name: string; versions: number[]; start: () => Promise<Broker>; available: () => boolean }[] = [
  { name: 'Mosquitto', versions: [4, 5], start: () => startMosquitto(), available: requireMosquitto },
  // aedes speaks MQTT 3.1.1 only.
  { name: 'aedes', versions: [4], start: () => startAedes(), available: () => true },
];

let seq = 0;
function uniqueId(prefix: string): string {
  return `${prefix}-${process.pid}-${++seq}`;
}

for (const impl of IMPLS) for (const b of BROKERS) {
  for (const version of b.versions) {
    if (version === 5 && !impl.mqtt5) continue;
    describe.runIf(b.available())(`${impl.name} › ${b.name} › MQTT ${version === 4 ? '3.1.1' : '5.0'}`, () => {
      let broker: Broker;
      const clients: MqttLite[] = [];
      const observers: MqttJs[] = [];

      beforeAll(async () => {
        broker = await b.start();
      });
      afterAll(async () => {
        await broker?.stop();
      });
      afterEach(async () => {
        for (const c of clients.splice(0)) c.disconnect();
        await Promise.all(observers.splice(0).map((o) => o.endAsync(true)));
      });

      function client(opts: Partial<MqttClientOptions> = {}): MqttLite {
        const transport = new NodeTcpTransport({ host: broker.host, port: broker.port });
        const c = impl.make({ transport, clientId: uniqueId('fmq'), version, keepAlive: 30, ...opts });
        clients.push(c);
        return c;
      }

      async function observer(topics: string[] = []): Promise<{ js: MqttJs; got: { topic: string; payload: string; qos: number; retain: boolean }[] }> {
        const js = await mqtt.connectAsync(broker.url, { protocolVersion: version as 4 | 5, clientId: uniqueId('js'), reconnectPeriod: 0 });
        observers.push(js);
        const got: { topic: string; payload: string; qos: number; retain: boolean }[] = [];
        js.on('message', (topic, payload, packet) => got.push({ topic, payload: payload.toString(), qos: packet.qos, retain: packet.retain }));
        if (topics.length) await js.subscribeAsync(topics, { qos: 2 });
        return { js, got };
      }

      async function connected(c: MqttLite): Promise<void> {
        c.start(nowMs());
        await until([c], () => c.state === ClientState.Connected, 'CONNACK');
      }

      it('connects and reports an accepted CONNACK', async () => {
        const seen: number[] = [];
        const c = client({ onConnect: (code) => seen.push(code) });
        await connected(c);
        expect(seen).toEqual([0]);
      });

      it('publishes QoS 0, 1 and 2 to an MQTT.js subscriber and completes QoS 1 and 2', async () => {
        const topic = uniqueId('t') + '/out';
        const { got } = await observer([topic]);
        const done: [number, number][] = [];
        const c = client({ onPublished: (id, code) => done.push([id, code]) });
        await connected(c);
        expect(c.publish(topic, 'zero', 0, false)).toBe(0);
        const id1 = c.publish(topic, 'one', 1, false);
        const id2 = c.publish(topic, 'two', 2, false);
        expect(id1).toBeGreaterThan(0);
        expect(id2).toBeGreaterThan(0);
        await until([c], () => got.length === 3 && done.length === 2 && c.pending === 0, 'three deliveries and two completions');
        expect(got.map((m) => [m.payload, m.qos])).toEqual([
          ['zero', 0],
          ['one', 1],
          ['two', 2],
        ]);
        expect(done).toEqual([
          [id1, 0],
          [id2, 0],
        ]);
      });

      it('receives QoS 0, 1 and 2 from MQTT.js, each exactly once', async () => {
        const topic = uniqueId('t') + '/in';
        const got: [string, number][] = [];
        let subscribed = false;
        const c = client({ onMessage: (m: MqttMessage) => got.push([m.text(), m.qos]), onSubscribed: () => (subscribed = true) });
        await connected(c);
        c.subscribe(topic, 2, null);
        await until([c], () => subscribed, 'SUBACK');
        const { js } = await observer();
        await js.publishAsync(topic, 'q0', { qos: 0 });
        await js.publishAsync(topic, 'q1', { qos: 1 });
        await js.publishAsync(topic, 'q2', { qos: 2 });
        await until([c], () => got.length >= 3, 'three messages');
        expect(got).toEqual([
          ['q0', 0],
          ['q1', 1],
          ['q2', 2],
        ]);
      });

      it('dispatches each message to the handlers whose filters match (+ and #)', async () => {
        const base = uniqueId('w');
        const plus: string[] = [];
        const hash: string[] = [];
        const rest: string[] = [];
        const subs: string[] = [];
        const c = client({ onMessage: (m) => rest.push(m.topic()), onSubscribed: (f) => subs.push(f) });
        await connected(c);
        // Overlapping filters: a message under both must reach each handler once.
        c.subscribe(`${base}/+/temp`, 1, (m) => plus.push(m.topic()));
        c.subscribe(`${base}/#`, 1, (m) => hash.push(m.topic()));
        await until([c], () => subs.length === 2, 'two SUBACKs');
        const { js } = await observer();
        await js.publishAsync(`${base}/a/temp`, '1', { qos: 1 });
        await js.publishAsync(`${base}/a/hum`, '2', { qos: 1 });
        await js.publishAsync(`${base}/b/temp`, '3', { qos: 1 });
        await until([c], () => hash.length === 3 && plus.length === 2, 'three messages under #, two under +');
        // Let a duplicate (one copy per matching subscription, MQTT 5 §3.3.4) show up if one were misrouted.
        const probe = uniqueId('p');
        c.subscribe(probe, 0, null);
        await until([c], () => subs.length === 3, 'a later SUBACK');
        expect(plus).toEqual([`${base}/a/temp`, `${base}/b/temp`]);
        expect(hash).toEqual([`${base}/a/temp`, `${base}/a/hum`, `${base}/b/temp`]);
        expect(rest).toEqual([]);
      });

      it('unsubscribes: UNSUBACK names the filter and no more messages arrive for it', async () => {
        const topic = uniqueId('u') + '/t';
        const got: string[] = [];
        const events: string[] = [];
        const c = client({
          onMessage: (m) => got.push(m.text()),
          onSubscribed: (f) => events.push('sub ' + f),
          onUnsubscribed: (f, code) => events.push(`unsub ${f} ${code}`),
        });
        await connected(c);
        c.subscribe(topic, 1, null);
        await until([c], () => events.length === 1, 'SUBACK');
        const { js } = await observer();
        await js.publishAsync(topic, 'before', { qos: 1 });
        await until([c], () => got.length === 1, 'the first message');
        expect(c.unsubscribe(topic)).toBe(0);
        await until([c], () => events.length === 2, 'UNSUBACK');
        expect(events).toEqual([`sub ${topic}`, `unsub ${topic} 0`]);
        // A message after the UNSUBACK must not come: prove it with a later one on a live subscription.
        c.subscribe(topic + '/marker', 1, null);
        await until([c], () => events.length === 3, 'marker SUBACK');
        await js.publishAsync(topic, 'after', { qos: 1 });
        await js.publishAsync(topic + '/marker', 'marker', { qos: 1 });
        await until([c], () => got.length === 2, 'the marker');
        expect(got).toEqual(['before', 'marker']);
      });

      it('gets a retained message with the retain flag when it subscribes later', async () => {
        const topic = uniqueId('r') + '/state';
        const pub = client();
        await connected(pub);
        pub.publish(topic, 'on', 1, true);
        await until([pub], () => pub.pending === 0, 'retained publish acknowledged');
        const got: [string, boolean][] = [];
        const sub = client({ onMessage: (m) => got.push([m.text(), m.retain]) });
        await connected(sub);
        sub.subscribe(topic, 1, null);
        await until([sub], () => got.length === 1, 'retained message');
        expect(got).toEqual([['on', true]]);
        pub.publish(topic, '', 1, true); // clear it
        await until([pub], () => pub.pending === 0, 'retained message cleared');
      });

      it('has its will published when the link drops without DISCONNECT', async () => {
        const willTopic = uniqueId('will') + '/status';
        const { got } = await observer([willTopic]);
        const transport = new NodeTcpTransport({ host: broker.host, port: broker.port });
        const c = impl.make({
          transport,
          clientId: uniqueId('fmq'),
          version,
          keepAlive: 30,
          reconnect: false,
          will: { topic: willTopic, payload: 'offline', qos: 1, retain: false },
        });
        await connected(c);
        transport.close(); // the socket goes away, no DISCONNECT was sent
        await until([], () => got.length === 1, 'the will at the subscriber');
        expect(got[0]).toMatchObject({ topic: willTopic, payload: 'offline', qos: 1 });
      });

      it('queues publishes made before it connects and sends them in order once connected', async () => {
        const topic = uniqueId('q') + '/early';
        const { got } = await observer([topic]);
        const c = client();
        for (let i = 0; i < 5; i++) expect(c.publish(topic, `m${i}`, i % 2, false)).toBeGreaterThanOrEqual(0);
        expect(c.pending).toBe(5);
        await connected(c);
        await until([c], () => got.length === 5 && c.pending === 0, 'five queued messages delivered');
        // Brokers keep order per QoS level (aedes lets QoS 0 overtake QoS 1);
        // the exact wire order is checked against the scripted broker.
        expect(got.filter((m) => m.qos === 0).map((m) => m.payload)).toEqual(['m0', 'm2', 'm4']);
        expect(got.filter((m) => m.qos === 1).map((m) => m.payload)).toEqual(['m1', 'm3']);
      });

      it('sends PINGREQ when idle and stays connected across keep-alive periods', async () => {
        const disconnects: number[] = [];
        const c = client({ keepAlive: 1, onDisconnect: (r) => disconnects.push(r) });
        await connected(c);
        const t0 = nowMs();
        await until([c], () => nowMs() - t0 > 2600, 'two and a half keep-alive periods', 5000);
        expect(c.state).toBe(ClientState.Connected);
        expect(disconnects).toEqual([]);
      });
    });
  }
}
