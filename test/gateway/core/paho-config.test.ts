/**
 * Gateway core › a gateway built from Paho MQTT-SN gateway files (issue #4, DESIGN.md §6),
 * end to end: `gateway.conf` + `predefinedTopic.conf` + `clients.conf` written to a temp dir,
 * pointing at the test broker and at free local ports, loaded with `loadConfig`, and the
 * gateway built from the result as `main.ts` does (`createTransports`, `createBrokerLink`).
 * Raw MQTT-SN clients on the addresses the clients list names check that the configuration
 * is what the gateway does; an MQTT.js client on the broker checks what arrives.
 */
import dgram from 'node:dgram';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { MsgType, TopicIdType } from '../../../src/mqttsn';
import { loadConfig } from '../../../gateway/config/load';
import { startAedes } from '../../support/aedes';
import { RawClient, Rig, until, Watcher } from './harness';

const cleanups: (() => Promise<unknown> | unknown)[] = [];
afterEach(async () => {
  for (const f of cleanups.splice(0).reverse()) await f();
});

/** A UDP port that was free a moment ago on 127.0.0.1. */
async function freeUdpPort(): Promise<number> {
  const s = dgram.createSocket('udp4');
  await new Promise<void>((resolve) => s.bind(0, '127.0.0.1', () => resolve()));
  const port = s.address().port;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}

describe('gateway from Paho configuration files', () => {
  it('aggregating, authentication, QoS -1 flags and pre-defined topics behave as the files say', async () => {
    const aedes = await startAedes();
    cleanups.push(() => aedes.stop());
    // The clients' sockets first: their addresses go into clients.conf.
    const [sensor, qosm1, plain, stranger] = await Promise.all([RawClient.open(), RawClient.open(), RawClient.open(), RawClient.open()]);
    cleanups.push(() => [sensor, qosm1, plain, stranger].forEach((c) => c.close()));
    const dir = mkdtempSync(join(tmpdir(), 'fieldmq-paho-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const gwPort = await freeUdpPort();
    const mcPort = await freeUdpPort();
    writeFileSync(
      join(dir, 'gateway.conf'),
      [
        '# written by the test, laid out as Paho ships it',
        'GatewayID=21',
        'GatewayName=PahoE2E',
        'MaxNumberOfClients=4',
        'KeepAlive=120',
        '',
        'BrokerName=127.0.0.1',
        `BrokerPortNo=${aedes.port}`,
        '',
        'AggregatingGateway=YES',
        'QoS-1=YES',
        'Forwarder=NO',
        'PredefinedTopic=YES',
        'ClientAuthentication=YES',
        '',
        'ClientsList=clients.conf',
        'PredefinedTopicList=predefinedTopic.conf',
        '',
        `GatewayPortNo=${gwPort}`,
        'MulticastIP=225.1.1.1',
        `MulticastPortNo=${mcPort}`,
        'MulticastTTL=1',
        '',
      ].join('\n'),
    );
    writeFileSync(
      join(dir, 'clients.conf'),
      [
        '# ClientId,SensorNetAddress[,flags]',
        `Sensor01,${sensor.address}`,
        `QoS1Sensor,${qosm1.address},QoS-1`,
        `Plain02, ${plain.address}`,
        '',
      ].join('\n'),
    );
    writeFileSync(
      join(dir, 'predefinedTopic.conf'),
      ['# ClientID, TopicName, TopicID', '*,paho/common, 1', 'Sensor01,paho/sensor01/temp, 10', 'QoS1Sensor,paho/qos1/only,11', ''].join('\n'),
    );

    const { config, warnings } = loadConfig(join(dir, 'gateway.conf'));
    expect(warnings.map((w) => w.message)).toEqual([]);
    expect(config).toMatchObject({
      gatewayId: 21,
      gatewayName: 'PahoE2E',
      mode: 'aggregating',
      qosMinus1: true,
      authentication: true,
      forwarder: false,
      keepAlive: 0, // Paho's KeepAlive is the broker connection's, not a limit on the clients'
      maxClients: 4,
      udp: { port: gwPort, multicastPort: mcPort },
      broker: { host: '127.0.0.1', port: aedes.port, keepAlive: 120 },
    });

    const rig = await Rig.start({ fromConfig: true, config, brokerUrl: aedes.url });
    cleanups.push(() => rig.stop());
    expect(rig.port).toBe(gwPort);
    const [s, q, p, x] = [sensor, qosm1, plain, stranger].map((c) => rig.adopt(c));
    const w = await Watcher.open(aedes.url, [['paho/#', 1]]);
    cleanups.push(() => w.close());

    // Authentication: only listed ClientIds, only from their address.
    await x.connect('Stranger', { rc: 3 });
    await x.connect('Sensor01', { rc: 3 });
    await s.connect('Sensor01', { duration: 300 });
    await p.connect('Plain02');
    expect(rig.metrics.drops.unauthorized).toBe(2);

    // Pre-defined topics: global and Sensor01's own; another client's id is unknown to it.
    const pub = (c: RawClient, topicId: number, text: string, qos = 1) =>
      c.send({ type: MsgType.PUBLISH, qos, topicIdType: TopicIdType.Predefined, topicId, msgId: qos > 0 ? topicId : 0, text });
    pub(s, 10, 'temp');
    expect((await s.expect(MsgType.PUBACK)).m.returnCode).toBe(0);
    pub(s, 1, 'common');
    expect((await s.expect(MsgType.PUBACK)).m.returnCode).toBe(0);
    pub(s, 11, 'not mine');
    expect((await s.expect(MsgType.PUBACK)).m.returnCode).toBe(2);
    pub(p, 10, 'not mine either');
    expect((await p.expect(MsgType.PUBACK)).m.returnCode).toBe(2);
    await w.message('paho/sensor01/temp', 'temp');
    await w.message('paho/common', 'common');

    // QoS -1 with a clients list: only from an address listed with the QoS-1 flag, with that
    // client's pre-defined topics, no connection needed.
    pub(q, 11, 'from qos-1 sensor', -1);
    await w.message('paho/qos1/only', 'from qos-1 sensor');
    pub(x, 1, 'stranger', -1);
    await until('the stranger refused', () => rig.metrics.drops.unauthorized === 3);
    p.send({ type: MsgType.DISCONNECT });
    await p.expect(MsgType.DISCONNECT);
    pub(p, 1, 'listed without the flag', -1);
    await until('the unflagged client refused', () => rig.metrics.drops.unauthorized === 4);

    // Aggregating: one broker connection carries every client; one message reaches both
    // subscribers, each with its own topic id type.
    await p.connect('Plain02');
    s.send({ type: MsgType.SUBSCRIBE, qos: 1, msgId: 20, topicIdType: TopicIdType.Predefined, topicId: 1 });
    expect((await s.expect(MsgType.SUBACK)).m.topicId).toBe(1);
    const byName = await p.subscribe('paho/common', 1, 21);
    expect(byName.returnCode).toBe(0);
    const brokerClients = Object.keys((aedes.broker as unknown as { clients: Record<string, unknown> }).clients).filter((id) => id !== w.client.options.clientId);
    expect(brokerClients).toEqual(['PahoE2E-21']);
    await w.publish('paho/common', 'to both', 1);
    const a = await s.expect(MsgType.PUBLISH);
    expect([a.m.topicIdType, a.m.topicId, a.text]).toEqual([TopicIdType.Predefined, 1, 'to both']);
    const b = await p.expect(MsgType.PUBLISH);
    expect([b.m.topicIdType, b.m.topicId, b.text]).toEqual([TopicIdType.Normal, byName.topicId, 'to both']);
    expect(w.seen.filter((m) => m.topic !== 'paho/common')).toEqual([]);
    expect(rig.errors).toEqual([]);
  });
});
