/**
 * The fieldmq MQTT clients (MqttClient, and the lean MqttLite), bundled, running inside the real Moddable XS
 * engine (@agoric/xsnap), its transport bridged by the host to a real
 * Mosquitto (test/support/xs.ts). An MQTT.js client on the host is the other
 * party: it receives the reading XS publishes and answers with a command,
 * which the XS client must receive through its subscription.
 */
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requireMosquitto, startMosquitto, type MosquittoBroker } from '../support/mosquitto';
import { bundleForXs, requireXs, runInXs } from '../support/xs';

const ready = requireXs() && requireMosquitto();

describe.runIf(ready)('MqttClient in the Moddable XS engine', () => {
  let broker: MosquittoBroker;
  let fieldmq = '';
  beforeAll(async () => {
    broker = await startMosquitto();
    fieldmq = await bundleForXs('src/index.ts', 'fieldmq');
  });
  afterAll(async () => {
    await broker?.stop();
  });

  const cases = [
    { name: 'MqttClient', version: 4, make: 'new fieldmq.MqttClient', tag: '4' },
    { name: 'MqttClient', version: 5, make: 'new fieldmq.MqttClient', tag: '5' },
    { name: 'MqttLite', version: 4, make: 'fieldmq.createMqttLite', tag: 'lite' },
  ];
  for (const { name, version, make, tag } of cases) {
    it(`${name} › MQTT ${version === 4 ? '3.1.1' : '5.0'}: connects, publishes QoS 1, and receives a command through its subscription`, async () => {
      const js = await mqtt.connectAsync(broker.url, { clientId: `host-${tag}`, protocolVersion: version as 4 | 5, reconnectPeriod: 0 });
      try {
        const readings: string[] = [];
        await js.subscribeAsync(`xs${tag}/data`, { qos: 1 });
        js.on('message', (topic, payload) => {
          readings.push(`${topic}=${payload.toString()}`);
          // Answer the device with a command on its command topic.
          void js.publishAsync(`xs${tag}/cmd/led`, 'on', { qos: 1 });
        });

        const code =
          fieldmq +
          `
          globalThis.device = (host) => {
            const log = [];
            let phase = 0;
            let published = -1;
            const c = ${make}({
              transport: new BridgeTransport(),
              clientId: 'xs-device-${tag}',
              version: ${version},
              keepAlive: 10,
              onConnect: (code) => log.push('connack ' + code),
              onSubscribed: (f, code) => log.push('suback ' + f + ' ' + code),
              onPublished: (id, code) => log.push('puback ' + (id === published) + ' ' + code),
            });
            c.subscribe('xs${tag}/cmd/#', 1, (m) => {
              log.push('cmd ' + m.topic() + ' ' + m.text() + ' qos' + m.qos);
              host.done({ log, pending: c.pending });
            });
            return {
              poll(now) {
                if (phase === 0) { c.start(now); phase = 1; }
                c.poll(now);
                if (phase === 1 && c.state === fieldmq.ClientState.Connected) {
                  published = c.publish('xs${tag}/data', '21.5', 1, false);
                  phase = 2;
                }
              },
            };
          };`;
        const r = await runInXs(code, 'device', { tcp: { host: broker.host, port: broker.port }, timeoutMs: 20_000 });
        const res = r.result as { log: string[]; pending: number };
        expect(readings).toEqual([`xs${tag}/data=21.5`]);
        expect(res.log).toEqual([
          'connack 0',
          `suback xs${tag}/cmd/# 1`,
          'puback true 0',
          `cmd xs${tag}/cmd/led on qos1`,
        ]);
        expect(res.pending).toBe(0);
        expect(r.stats.sent).toBeGreaterThan(0);
      } finally {
        await js.endAsync(true);
      }
    });
  }
});
