/**
 * The fieldmq MQTT-SN clients (SnClient, and the lean createSnLite), bundled, running inside the
 * real Moddable XS engine (@agoric/xsnap) on the Moddable UDP adapter (ModdableUdpTransport)
 * over an ECMA-419 UDP socket class whose datagrams the host carries on a real UDP socket
 * (test/xs/bridge.ts `BridgeUDP`), to the fieldmq gateway in front of aedes. An MQTT.js client
 * on the broker is the other party: it receives the reading XS publishes and answers with a
 * command, which the XS client must receive through its subscription.
 */
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { bundleForXs, requireXs, runInXs } from '../support/xs';
import { Rig } from '../gateway/core/harness';

describe.runIf(requireXs())('MQTT-SN clients in the Moddable XS engine, through the fieldmq gateway', () => {
  let fieldmq = '';
  let rig: Rig | undefined;
  beforeAll(async () => {
    fieldmq = await bundleForXs('src/index.ts', 'fieldmq');
  });
  afterEach(async () => {
    await rig?.stop();
    rig = undefined;
  });

  const cases = [
    { name: 'SnClient', make: 'new fieldmq.SnClient', tag: 'full' },
    { name: 'SnLite', make: 'fieldmq.createSnLite', tag: 'lite' },
  ];
  for (const { name, make, tag } of cases) {
    it(`${name} › on ModdableUdpTransport: connects, publishes QoS 1 on a registered topic, and receives a command through its subscription`, async () => {
      rig = await Rig.start({ mode: 'transparent' });
      const w = await rig.watcher([[`xs-sn-${tag}/data`, 1]]);
      w.client.on('message', (topic) => {
        if (topic === `xs-sn-${tag}/data`) void w.publish(`xs-sn-${tag}/cmd/led`, 'on', 1);
      });
      const code =
        fieldmq +
        `
        globalThis.device = (host) => {
          const log = [];
          const text = (b, off, len) => { let s = ''; for (let i = 0; i < len; i++) s += String.fromCharCode(b[off + i]); return s; };
          const t = new fieldmq.ModdableUdpTransport({ UDP: BridgeUDP, address: '127.0.0.1', port: ${rig.port} });
          log.push('open ' + t.open());
          const c = ${make}({
            transport: t,
            clientId: 'xs-sn-${tag}',
            gateway: 0,
            keepAlive: 30,
            onConnect: (rc) => {
              log.push('connack ' + rc);
              if (rc === 0) {
                c.subscribe('xs-sn-${tag}/cmd/#', 1);
                c.publish('xs-sn-${tag}/data', '21.5', 1, false);
              }
            },
            onAck: (type, id, rc) => log.push('suback ' + rc),
            onPublished: (id, rc) => log.push('puback ' + rc),
            onMessage: (topic, id, type, buf, off, len, qos) => log.push('cmd ' + topic + ' ' + text(buf, off, len) + ' q' + qos),
          });
          c.connect();
          return {
            poll(now) {
              c.poll(now);
              if (log.some((l) => l.startsWith('cmd'))) host.done(log);
            },
          };
        };`;
      const { result, stats } = await runInXs(code, 'device', { timeoutMs: 15_000 });
      expect(result).toEqual(['open 0', 'connack 0', 'suback 0', 'puback 0', `cmd xs-sn-${tag}/cmd/led on q1`]);
      expect(w.seen.map((m) => `${m.topic}=${m.payload} q${m.qos}`)).toEqual([`xs-sn-${tag}/data=21.5 q1`]);
      expect(stats.sent).toBeGreaterThan(0);
      expect(stats.received).toBeGreaterThan(0);
    });
  }
});
