/**
 * Gateway core › the gateway process restarts under a running sensor, end to end over real UDP:
 * fieldmq `SnClient` (and the lean `createSnLite`) → gateway → Aedes, with an MQTT.js watcher on the broker.
 *
 * Nothing of the first gateway survives (no persistence): the new one knows neither the
 * device's session nor its topic ids. The device's next PUBLISH comes from an address with no
 * session and is answered DISCONNECT (§6.12 handling of unknown senders), the device connects
 * again keeping its topic ids (CleanSession=0), the gateway rejects the stale id with PUBACK
 * "invalid topic ID" (§6.6), and the device registers the name again and resends: the reading
 * arrives once, and nothing the device was told was delivered is lost. The device also
 * subscribes again (the gateway's DISCONNECT said it did not know the device), so commands
 * reach it through the new gateway.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { startAedes } from '../../support/aedes';
import { SN_IMPLS } from '../../support/impls';
import { Device, Rig, until } from './harness';

const cleanups: (() => Promise<unknown> | unknown)[] = [];
afterEach(async () => {
  for (const f of cleanups.splice(0).reverse()) await f();
});

for (const client of SN_IMPLS) describe(`gateway core › the gateway restarts under a running sensor (${client.name})`, () => {
  for (const mode of ['aggregating', 'transparent'] as const) {
    it(`${mode}: a CleanSession=0 device reconnects, registers its topic again, its next QoS 1 reading arrives once, and its subscription is renewed`, async () => {
      const broker = await startAedes();
      cleanups.push(() => broker.stop());
      const topic = `gr/${mode}/t`;
      const first = await Rig.start({ mode, brokerUrl: broker.url });
      const w1 = await first.watcher([[topic, 1]]);
      const published = new Map<number, number>();
      // The device outlives the first gateway: it is not the rig's.
      const d = await Device.open(first.port, { clientId: `gr-${mode}`, cleanSession: false, tRetry: 300, onPublished: (id, rc) => published.set(id, rc) }, client.make);
      cleanups.push(() => d.close());
      await d.connect();
      d.c.subscribe(`gr/${mode}/cmd`, 1);
      d.poll();
      expect((await d.event('ack', (e) => e[1] === 'SUBSCRIBE'))[3]).toBe(0);
      const a = d.c.publish(topic, 'before', 1, false);
      d.poll();
      await until('the first reading acknowledged', () => published.get(a) === 0);
      await w1.message(topic, 'before');
      const port = first.port;
      await first.stop();

      const second = await Rig.start({ mode, brokerUrl: broker.url, udpPort: port });
      cleanups.push(() => second.stop());
      const w2 = await second.watcher([[topic, 1]]);
      const b = d.c.publish(topic, 'after', 1, false); // with the topic id the first gateway gave
      d.poll();
      await until('the reading after the restart acknowledged', () => published.has(b), 15_000);
      expect(published.get(b)).toBe(0);
      await w2.message(topic, 'after');
      const c = d.c.publish(topic, 'marker', 1, false);
      d.poll();
      await w2.message(topic, 'marker');
      expect(published.get(c)).toBe(0);
      expect(w2.seen.filter((m) => m.payload === 'after')).toEqual([]); // taken once above; no second copy came before the marker
      expect(second.state(`gr-${mode}`)).toBe('active');
      // Downlink too: the device subscribed again after the gateway's DISCONNECT (§6.12).
      await d.event('ack', (e) => e[1] === 'SUBSCRIBE');
      await w2.publish(`gr/${mode}/cmd`, 'interval 5000', 1);
      const m = await d.event('message');
      expect([m[1], m[4]]).toEqual([`gr/${mode}/cmd`, 'interval 5000']);
    });
  }
});
