/**
 * The broker goes down in the middle of a QoS 1 and a QoS 2 stream and comes
 * back: the client must lose nothing, and deliver nothing twice at QoS 2.
 *
 * Mosquitto is stopped abruptly with SIGTERM while messages are in flight in
 * both directions: every connection drops without DISCONNECT, and Mosquitto
 * saves its sessions and queued messages as it goes (with SIGKILL, a message
 * it acknowledged in the instant before its next save is the broker's own
 * loss, whatever the client does; see test/support/mosquitto.ts).
 */
import { afterEach, describe, expect, it } from 'vitest';
import mqtt from 'mqtt';
import { ClientState } from '../../src/mqtt/client';
import { NodeTcpTransport } from '../../src/platform/node/tcp';
import { requireMosquitto, startMosquitto, type MosquittoBroker } from '../support/mosquitto';
import { nowMs, until } from './driver';
import { IMPLS } from '../support/impls';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const f of cleanups.splice(0).reverse()) await f();
});

for (const impl of IMPLS) describe.runIf(requireMosquitto())(`${impl.name} › broker restarted mid-stream (MQTT 3.1.1 §4.4)`, () => {
  for (const qos of [1, 2]) {
    it(`QoS ${qos}: every message arrives${qos === 2 ? ' exactly once' : ''} after the broker goes down and comes back`, async () => {
      const broker: MosquittoBroker = await startMosquitto();
      cleanups.push(() => broker.stop());
      const topic = `stream/q${qos}`;
      const N = 300;

      // An independent subscriber with a persistent session, reconnecting by itself.
      const counts = new Map<string, number>();
      const sub = await mqtt.connectAsync(broker.url, { clientId: `sub-q${qos}-${impl.name}`, clean: false, reconnectPeriod: 50, protocolVersion: 4 });
      cleanups.push(() => sub.endAsync(true));
      sub.on('message', (_t, payload) => counts.set(payload.toString(), (counts.get(payload.toString()) ?? 0) + 1));
      await sub.subscribeAsync(topic, { qos: 2 });

      let completed = 0;
      let disconnects = 0;
      const c = impl.make({
        transport: new NodeTcpTransport({ host: broker.host, port: broker.port }),
        clientId: `pub-q${qos}-${impl.name}`,
        cleanSession: false,
        keepAlive: 5,
        queueSize: N + 8,
        maxInflight: 16,
        reconnectMin: 50,
        reconnectMax: 200,
        onPublished: (_id, code) => {
          if (code === 0) completed++;
        },
        onDisconnect: () => disconnects++,
      });
      cleanups.push(async () => void c.disconnect());
      c.start(nowMs());
      await until([c], () => c.state === ClientState.Connected, 'CONNACK');

      for (let i = 0; i < N; i++) expect(c.publish(topic, `m${i}`, qos, false)).toBeGreaterThan(0);
      await until([c], () => completed >= N / 3, 'a third of the stream acknowledged');
      expect(c.pending).toBeGreaterThan(0); // messages are still in flight when it goes down

      const restarted = broker.restart();
      await until([c], () => disconnects > 0, 'the client to notice the broker going down');
      await restarted;
      await until([c], () => c.pending === 0 && counts.size === N, `all ${N} messages at the subscriber`, 30_000);

      const missing = [...Array(N).keys()].map((i) => `m${i}`).filter((m) => !counts.has(m));
      expect(missing).toEqual([]);
      if (qos === 2) {
        const twice = [...counts].filter(([, n]) => n > 1).map(([m]) => m);
        expect(twice).toEqual([]);
      }
      expect(disconnects).toBeGreaterThan(0);
    });
  }
});
