/**
 * Board profiles (hardware/boards.json, scripts/boards.ts).
 *
 * - Each profile's options make a client (on Node) that works against real peers: the MQTT
 *   profile against Mosquitto, publishing a QoS 1 reading as large as its `maxPacketSize` allows
 *   and taking a command through its subscription; the MQTT-SN profile through the fieldmq
 *   gateway whose UDP MTU is the profile's link MTU (the radio's payload limit), with a QoS 1
 *   reading and a command each as large as its `packetSize` holds.
 * - Each profile fits its board by the footprint scripts/boards.ts computes (client buffers
 *   measured, XS slots measured in the real engine, Espruino variables estimated), and
 *   hardware/README.md shows the current table.
 */
import { readFileSync } from 'node:fs';
import mqtt from 'mqtt';
import { afterEach, describe, expect, it } from 'vitest';
import { allFootprints, boardsTable, loadBoards, withTable, xsSlots, README_FILE, type Board } from '../../scripts/boards';
import { ClientState, MqttClient, type MqttClientOptions } from '../../src/mqtt/client';
import { createMqttLite, type MqttLite } from '../../src/mqtt/lite';
import { createSnLite } from '../../src/mqttsn/lite';
import { totalLength } from '../../src/mqttsn/header';
import { NodeTcpTransport } from '../../src/platform/node/tcp';
import { requireMosquitto, startMosquitto } from '../support/mosquitto';
import { requireXs } from '../support/xs';
import { nowMs, until as pollUntil } from '../mqtt-client/driver';
import { Rig } from '../gateway/core/harness';

const BOARDS = loadBoards();

const stops: (() => unknown)[] = [];
afterEach(async () => {
  for (const f of stops.splice(0).reverse()) await f();
});

/**
 * The largest PUBLISH payload a datagram of `size` octets holds: its body is Flags, TopicId and
 * MsgId (5 octets, §5.4.12) and the payload; {@link totalLength} adds MsgType and the Length (§5.2.1).
 */
function snMaxPayload(size: number): number {
  let pl = size;
  for (let t = totalLength(pl + 5); t < 0 || t > size; t = totalLength(pl + 5)) pl--;
  return pl;
}

describe('board profiles › hardware/boards.json', () => {
  it('names its sources, and every option set is complete and within its link', () => {
    const ids = new Set<string>();
    for (const b of BOARDS) {
      expect(ids.has(b.id), `duplicate id ${b.id}`).toBe(false);
      ids.add(b.id);
      expect(b.sources.length, b.id).toBeGreaterThan(0);
      expect(b.mqtt ?? b.mqttsn, `${b.id} has no client profile`).toBeDefined();
      if (b.runtime === 'espruino') expect([b.jsVars, b.varBytes, b.upload].every((x) => x !== undefined), b.id).toBe(true);
      else expect(b.xsStaticBytes !== undefined || (b.xsSlots !== undefined && b.xsChunkBytes !== undefined), b.id).toBe(true);
      // A datagram larger than the link carries is lost on the way.
      if (b.mqttsn) expect(b.mqttsn.packetSize, b.id).toBeLessThanOrEqual(b.link.mtu);
      // Espruino's UDP adapter cuts what does not fit its receive slots (maxDatagram, default 256).
      if (b.mqttsn && b.runtime === 'espruino' && b.link.kind !== 'serial') expect(b.udp?.maxDatagram ?? 256, b.id).toBeGreaterThanOrEqual(b.mqttsn.packetSize);
      // MQTT 3.1.1 cannot tell the broker its limit: the inbound QoS 2 table must cover Mosquitto's window (20).
      if (b.mqtt) expect(b.mqtt.maxInbound, b.id).toBeGreaterThanOrEqual(20);
    }
  });
});

describe.runIf(requireXs())('board profiles › footprint', () => {
  it('every profile fits its board, and hardware/README.md shows the current table', async () => {
    const fs = await allFootprints();
    expect(fs.filter((f) => !f.fits).map((f) => `${f.board.id}/${f.protocol}`)).toEqual([]);
    expect(fs.length).toBe(BOARDS.reduce((n, b) => n + (b.mqtt ? 1 : 0) + (b.mqttsn ? 1 : 0), 0));
    const readme = readFileSync(README_FILE, 'utf8');
    expect(withTable(readme, boardsTable(fs)), 'run: npx tsx scripts/boards.ts --write').toBe(readme);
  }, 120_000);

  it('the lean clients\' XS slots the READMEs quote (to the nearest ten) are what the engine measures', async () => {
    const b = BOARDS.find((x) => x.id === 'moddable-esp8266')!;
    const mqttSlots = Math.round((await xsSlots('lean', 'mqtt', b.mqtt!)) / 10) * 10;
    const snSlots = Math.round((await xsSlots('lean', 'mqttsn', b.mqttsn!)) / 10) * 10;
    const flat = (f: string) => readFileSync(f, 'utf8').replace(/\s+/g, ' ');
    expect(flat(README_FILE)).toContain(`about ${mqttSlots} XS slots (MQTT) and ${snSlots} (MQTT-SN) per client`);
    expect(flat(README_FILE.replace('hardware/README.md', 'README.md'))).toContain(`about ${mqttSlots} XS slots per lean client`);
  }, 60_000);
});

/** A client as the profile builds it. */
function mqttClient(b: Board, o: MqttClientOptions): MqttLite {
  return b.client === 'full' ? new MqttClient(o) : createMqttLite(o);
}

describe.runIf(requireMosquitto())('board profiles › MQTT against Mosquitto', () => {
  for (const b of BOARDS.filter((x) => x.mqtt)) {
    it(`${b.id}: a QoS 1 reading of ${b.mqtt!.maxPacketSize} octets (one more refused) out, a command in`, async () => {
      const broker = await startMosquitto();
      stops.push(() => broker.stop());
      const js = await mqtt.connectAsync(broker.url, { clientId: `host-${b.id}`, reconnectPeriod: 0 });
      stops.push(() => js.endAsync(true));
      const got: Buffer[] = [];
      await js.subscribeAsync(`${b.id}/data`, { qos: 1 });
      js.on('message', (_t, p) => got.push(p));

      const cmds: string[] = [];
      const acked: number[] = [];
      const p = b.mqtt!;
      const c = mqttClient(b, {
        transport: new NodeTcpTransport({ host: broker.host, port: broker.port }),
        clientId: `dev-${b.id}`,
        ...p,
        onPublished: (_id, rc) => acked.push(rc),
      });
      stops.push(() => c.disconnect());
      c.subscribe(`${b.id}/cmd/#`, 1, (m) => cmds.push(`${m.topic()} ${m.text()}`));
      c.start(nowMs());
      await pollUntil([c], () => c.state === ClientState.Connected, 'CONNACK');
      // The largest PUBLISH the profile sends: type octet, 2-octet Remaining Length (profiles are 131..16,386 octets), topic, packet id, payload.
      expect(p.maxPacketSize).toBeGreaterThanOrEqual(131);
      expect(p.maxPacketSize).toBeLessThanOrEqual(16386);
      const topic = `${b.id}/data`;
      const payload = new Uint8Array(p.maxPacketSize - 3 - 2 - topic.length - 2).map((_, i) => 48 + (i % 10));
      // One octet more is refused by the client.
      expect(c.publish(topic, new Uint8Array(payload.length + 1), 1, false)).toBeLessThan(0);
      expect(c.publish(topic, payload, 1, false)).toBeGreaterThan(0);
      await pollUntil([c], () => acked.length === 1 && got.length === 1, 'the reading at the host and its PUBACK');
      expect(acked).toEqual([0]);
      expect(new Uint8Array(got[0]!)).toEqual(payload);
      await js.publishAsync(`${b.id}/cmd/led`, 'on', { qos: 1 });
      await pollUntil([c], () => cmds.length === 1, 'the command at the device');
      expect(cmds).toEqual([`${b.id}/cmd/led on`]);
    });
  }
});

describe('board profiles › MQTT-SN through the gateway at the link MTU', () => {
  for (const b of BOARDS.filter((x) => x.mqttsn)) {
    it(`${b.id}: the largest QoS 1 reading ${b.mqttsn!.packetSize} octets hold (one more refused), through a ${b.link.mtu}-octet link, and a command as large`, async () => {
      const rig = await Rig.start({ mode: 'transparent', mtu: b.link.mtu });
      stops.push(() => rig.stop());
      const w = await rig.watcher([[`${b.id}/data`, 1]]);
      const p = b.mqttsn!;
      const d = await rig.device({ clientId: `dev-${b.id}`, ...p }, b.client === 'full' ? undefined : createSnLite);
      await d.connect();
      const text = 'x'.repeat(snMaxPayload(p.packetSize));
      const id = d.c.publish(`${b.id}/data`, text, 1, false);
      expect(id).toBeGreaterThan(0);
      d.poll();
      expect((await w.message(`${b.id}/data`)).payload).toBe(text);
      expect(await d.event('published')).toEqual(['published', id, 0]);
      // One octet more is refused by the client, not sent to be lost on the link.
      expect(d.c.publish(`${b.id}/data`, text + 'x', 1, false)).toBeLessThan(0);

      d.c.subscribe(`${b.id}/cmd/+`, 1);
      d.poll();
      expect((await d.event('ack'))[3]).toBe(0);
      // The command fills the device's packet the other way: the gateway REGISTERs the topic, then sends it.
      const cmd = 'c'.repeat(snMaxPayload(Math.min(p.packetSize, b.link.mtu)));
      await w.publish(`${b.id}/cmd/led`, cmd, 1);
      const m = await d.event('message');
      expect([m[1], m[4], m[5]]).toEqual([`${b.id}/cmd/led`, cmd, 1]);
    });
  }
});
