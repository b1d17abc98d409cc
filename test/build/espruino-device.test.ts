/**
 * What an Espruino device loads, end to end: a lean client bundle and an
 * Espruino adapter bundle from `dist/espruino/`, uploaded into the
 * Espruino-like context the way the Web IDE does (`Modules.addCached`), their
 * `net` / `dgram` the Espruino API fakes over REAL sockets
 * (test/platform/fakes/espruino.ts), talking to real peers:
 *
 * - `fieldmq-mqtt311-client` + `fieldmq-espruino-tcp` → the aedes broker, with
 *   MQTT.js on the other side;
 * - `fieldmq-mqttsn-client` + `fieldmq-espruino-udp` → the fieldmq gateway →
 *   aedes, with an MQTT.js watcher.
 *
 * The device publishes a reading at QoS 1 and must receive a command through
 * its subscription.
 */
import { readFileSync } from 'node:fs';
import vm from 'node:vm';
import mqtt from 'mqtt';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { addCached, buildToTemp, espruinoContext, type TempBuild } from './helpers';
import { FakeEspruinoDgram, FakeEspruinoNet, fakeE } from '../platform/fakes/espruino';
import { startAedes, type AedesBroker } from '../support/aedes';
import { Rig, until } from '../gateway/core/harness';

let b: TempBuild;
beforeAll(async () => {
  b = await buildToTemp();
});
afterAll(() => b?.dispose());

const stops: (() => unknown)[] = [];
afterEach(async () => {
  for (const f of stops.splice(0).reverse()) await f();
});

/** An Espruino-like context holding the bundles of `specifiers`, with `E` and `host` (the fakes) as globals. */
function device(specifiers: string[], host: object): vm.Context {
  const ctx = espruinoContext();
  for (const s of specifiers) {
    const x = b.result.bundles.find((y) => y.platform === 'espruino' && y.specifier === s)!;
    addCached(ctx, s, readFileSync(x.file, 'utf8'));
  }
  ctx.E = fakeE;
  ctx.host = host;
  return ctx;
}

/** Polls the device's client (`device.c` in the context) every few ms until stopped. */
function run(ctx: vm.Context): () => void {
  const poll = vm.runInContext('(function (now) { device.c.poll(now); })', ctx) as (now: number) => void;
  const t = setInterval(() => poll(Math.floor(performance.now()) >>> 0), 2);
  return () => clearInterval(t);
}

describe('Espruino device bundles against real peers', () => {
  it('fieldmq-mqtt311-client + fieldmq-espruino-tcp: publishes a QoS 1 reading to aedes and gets a command through its subscription', async () => {
    const broker: AedesBroker = await startAedes();
    stops.push(() => broker.stop());
    const js = await mqtt.connectAsync(broker.url, { clientId: 'host-tcp', reconnectPeriod: 0 });
    stops.push(() => js.endAsync(true));
    const readings: string[] = [];
    await js.subscribeAsync('esp/data', { qos: 1 });
    js.on('message', (topic, payload) => {
      readings.push(`${topic}=${payload.toString()}`);
      void js.publishAsync('esp/cmd/led', 'on', { qos: 1 });
    });

    const net = new FakeEspruinoNet();
    const ctx = device(['fieldmq/mqtt311-client', 'fieldmq/espruino-tcp'], { net, port: broker.port });
    vm.runInContext(
      `var m = require('fieldmq/mqtt311-client'), a = require('fieldmq/espruino-tcp'), log = [];
      var c = m.createMqttLite({
        transport: new a.EspruinoTcpTransport({ net: host.net, host: '127.0.0.1', port: host.port }),
        clientId: 'esp-lite', keepAlive: 30,
        onConnect: function (code) { log.push('connack ' + code); if (code === 0) c.publish('esp/data', '21.5', 1, false); },
        onSubscribed: function (f, code) { log.push('suback ' + f + ' ' + code); },
        onPublished: function (id, code) { log.push('puback ' + code); }
      });
      c.subscribe('esp/cmd/#', 1, function (msg) { log.push('cmd ' + msg.topic() + ' ' + msg.text() + ' q' + msg.qos); });
      c.start(0);
      var device = { c: c, log: log };`,
      ctx,
    );
    stops.push(run(ctx));
    const log = vm.runInContext('log', ctx) as string[];
    await until('the command at the device', () => log.some((l) => l.startsWith('cmd')), 10_000);
    expect(readings).toEqual(['esp/data=21.5']);
    // aedes may acknowledge the PUBLISH before the SUBSCRIBE: the order of those two is the broker's.
    expect([...log].sort()).toEqual(['cmd esp/cmd/led on q1', 'connack 0', 'puback 0', 'suback esp/cmd/# 1']);
    expect(log[0]).toBe('connack 0');
    expect(net.sockets).toHaveLength(1);
  });

  it('fieldmq-mqttsn-client + fieldmq-espruino-udp: through the fieldmq gateway to aedes, a QoS 1 reading out and a command in', async () => {
    const rig = await Rig.start({ mode: 'transparent' });
    stops.push(() => rig.stop());
    const w = await rig.watcher([['esp-sn/data', 1]]);
    const dgram = new FakeEspruinoDgram();
    const ctx = device(['fieldmq/mqttsn-client', 'fieldmq/espruino-udp'], { dgram, port: rig.port });
    vm.runInContext(
      `var sn = require('fieldmq/mqttsn-client'), a = require('fieldmq/espruino-udp'), log = [];
      var t = new a.EspruinoUdpTransport({ dgram: host.dgram, address: '127.0.0.1', port: host.port });
      t.open(); // a datagram link is opened by the application
      var c = sn.createSnLite({
        transport: t,
        clientId: 'esp-sn', gateway: 0, keepAlive: 30,
        onConnect: function (rc) { log.push('connack ' + rc); if (rc === 0) { c.subscribe('esp-sn/cmd/#', 1); c.publish('esp-sn/data', '21.5', 1, false); } },
        onAck: function (type, id, rc) { log.push('suback ' + rc); },
        onPublished: function (id, rc) { log.push('puback ' + rc); },
        onMessage: function (name, id, type, buf, off, len, qos) { log.push('cmd ' + name + ' ' + E.toString(buf.subarray(off, off + len)) + ' q' + qos); }
      });
      c.connect();
      var device = { c: c, log: log };`,
      ctx,
    );
    stops.push(run(ctx));
    const log = vm.runInContext('log', ctx) as string[];
    await w.message('esp-sn/data', '21.5');
    await until('the subscription and the reading acknowledged', () => log.includes('suback 0') && log.includes('puback 0'), 10_000);
    await w.publish('esp-sn/cmd/led', 'on', 1);
    await until('the command at the device', () => log.some((l) => l.startsWith('cmd')), 10_000);
    expect(log).toEqual(['connack 0', 'suback 0', 'puback 0', 'cmd esp-sn/cmd/led on q1']);
    expect(dgram.sockets).toHaveLength(1);
  });
});
