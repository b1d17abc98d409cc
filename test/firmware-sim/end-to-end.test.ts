/**
 * firmware-sim › end to end: simulated nodes running the real SDK → the real gateway
 * (`startGateway`, gateway/main.ts) over UDP on 127.0.0.1 and over a socat pseudo-terminal pair
 * into its serial transport → a real broker (Aedes in process; Mosquitto) → MQTT.js, which
 * checks that readings arrive and sends commands back that change what the nodes do.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { RunningGateway } from '../../gateway/main';
import { TopicStyle, type NodeSpec, type ReadingEvent } from '../../firmware-sim/node';
import type { SensorHost } from '../../firmware-sim/node';
import { SnState } from '../../src/mqttsn/client';
import { startAedes } from '../support/aedes';
import { requireMosquitto, startMosquitto } from '../support/mosquitto';
import { requirePeer } from '../support/peers';
import { createPtyPair, socatPath, type PtyPair } from '../support/pty';
import { DEADLINE, Watcher, recordingHost, startTestGateway } from './helpers';

interface Broker {
  host: string;
  port: number;
  url: string;
  stop(): Promise<void>;
}

const brokers: [string, () => Promise<Broker>, boolean][] = [
  ['Aedes', () => startAedes(), true],
  ['Mosquitto', () => startMosquitto(), requireMosquitto()],
];

/** Per test: the gateway, the watcher and the nodes, stopped afterwards in reverse. */
let running: RunningGateway | null = null;
let watcher: Watcher | null = null;
let host: SensorHost | null = null;
let gwLog: string[] = [];
let nodeEvents: string[] = [];
let hostEvents: ReturnType<typeof recordingHost> | null = null;

afterEach(async (ctx) => {
  if (ctx.task.result?.state === 'fail') {
    console.error(`gateway log:\n${gwLog.slice(-60).join('\n')}\nnode events:\n${nodeEvents.slice(-40).join('\n')}`);
  }
  await host?.stop(1000);
  await watcher?.end();
  await running?.stop();
  host = watcher = running = null;
});

/** The first reading the firmware handed to the SDK for `clientId` and quantity `q`. */
function firstReading(readings: ReadingEvent[], clientId: string, q: number): ReadingEvent {
  const r = readings.find((x) => x.node.spec.clientId === clientId && x.quantity === q);
  if (!r) throw new Error(`${clientId} took no reading of quantity ${q}`);
  return r;
}

describe.each(brokers)('firmware-sim › end to end over UDP via %s', (_name, start, available) => {
  let broker: Broker;
  beforeAll(async () => {
    if (available) broker = await start();
  });
  afterAll(async () => {
    await broker?.stop();
  });

  async function setUp(specs: NodeSpec[], edit?: Parameters<typeof startTestGateway>[0]['edit']): Promise<{ readings: ReadingEvent[] }> {
    const gw = await startTestGateway({ broker, ...(edit ? { edit } : {}) });
    running = gw.running;
    gwLog = gw.log;
    watcher = await Watcher.connect(broker.url);
    const rec = recordingHost();
    hostEvents = rec;
    host = rec.host;
    nodeEvents = rec.events;
    for (const s of specs) await host.addUdp(s, { host: '127.0.0.1', port: gw.udpPort });
    host.start();
    return { readings: rec.readings };
  }

  it.skipIf(!available)('readings of every QoS and topic style reach the broker as the firmware wrote them', async () => {
    const specs: NodeSpec[] = [
      { clientId: 'e2e-name-q1', qos: 1, style: TopicStyle.Name, interval: 60_000 },
      { clientId: 'e2e-short-q0', qos: 0, style: TopicStyle.Short, interval: 60_000, tag: 'x' },
      { clientId: 'e2e-pre-q2', qos: 2, style: TopicStyle.Predefined, interval: 60_000, predefinedBase: 501 },
      { clientId: 'e2e-pre-qm1', qos: -1, style: TopicStyle.Predefined, interval: 60_000, predefinedBase: 601 },
    ];
    const { readings } = await setUp(specs, (c) => {
      for (const [base, id] of [
        [501, 'e2e-pre-q2'],
        [601, 'e2e-pre-qm1'],
      ] as const) {
        ['temp', 'humidity', 'battery'].forEach((q, i) => c.predefinedTopics.push({ clientId: '*', topic: `sensors/${id}/${q}`, id: base + i }));
      }
    });
    const expected: [string, number][] = [];
    for (const s of specs) for (let q = 0; q < 3; q++) expected.push([s.clientId, q]);
    for (const [id, q] of expected) {
      const topic = host!.nodes.find((n) => n.spec.clientId === id)!.brokerTopics[q]!;
      const got = await watcher!.nth(`${id} quantity ${q} on ${topic}`, (m) => m.topic === topic);
      expect(got.payload, `${topic}`).toBe(firstReading(readings, id, q).text);
      expect(got.payload).toMatch(/^-?\d+\.\d+$/);
    }
    // Topic styles as the broker sees them.
    expect(host!.nodes.map((n) => n.brokerTopics[0])).toEqual([
      'sensors/e2e-name-q1/temp',
      'tx',
      'sensors/e2e-pre-q2/temp',
      'sensors/e2e-pre-qm1/temp',
    ]);
    // Connected nodes announced themselves; the QoS -1 node never connected.
    await watcher!.nth('online status', (m) => m.topic === 'sensors/e2e-name-q1/status' && m.payload === 'online');
    expect(host!.nodes[3]!.sensor.state()).toBe(SnState.Disconnected);
  });

  it.skipIf(!available)('an interval command sent through the broker changes the period of a node', async () => {
    await setUp([{ clientId: 'e2e-cmd', qos: 1, style: TopicStyle.Name, interval: 60_000 }]);
    const isTemp = (m: { topic: string }) => m.topic === 'sensors/e2e-cmd/temp';
    await watcher!.nth('the first reading', isTemp);
    // Wait until the node's subscription is in place (its SUBACK), then command it.
    await waitEvent('subscribed to cmd/e2e-cmd/#');
    await watcher!.publish('cmd/e2e-cmd/interval', '200');
    const ack = await watcher!.nth('the ack', (m) => m.topic === 'sensors/e2e-cmd/ack');
    expect(ack.payload).toBe('interval 200');
    // With the old period (60 s) no second reading could come within the deadline.
    await watcher!.nth('three more readings', isTemp, 4, DEADLINE);
    expect(host!.nodes[0]!.sensor.interval()).toBe(200);
  });

  it.skipIf(!available)('a sleeping node gets a command buffered while it slept when it wakes, and no Will is published for its sleep', async () => {
    await setUp([{ clientId: 'e2e-sleep', qos: 1, style: TopicStyle.Name, interval: 1000, sleeper: true }]);
    const node = host!.nodes[0]!;
    await watcher!.nth('the node saying it sleeps', (m) => m.topic === 'sensors/e2e-sleep/status' && m.payload === 'asleep');
    await waitEvent('asleep for 1 s');
    expect(node.sensor.state()).toBe(SnState.Asleep);
    const wakeupsBefore = node.sensor.wakeups;
    await watcher!.publish('cmd/e2e-sleep/interval', '2000');
    const ack = await watcher!.nth('the ack after waking', (m) => m.topic === 'sensors/e2e-sleep/ack', 1, 3 * DEADLINE);
    expect(ack.payload).toBe('interval 2000');
    expect(node.sensor.wakeups, 'the command came with a wake-up').toBeGreaterThan(wakeupsBefore);
    expect(node.sensor.sleeper()).toBe(true);
    // It keeps publishing a batch per cycle, and the gateway never published its Will.
    await watcher!.nth('a later batch', (m) => m.topic === 'sensors/e2e-sleep/temp', 3, 3 * DEADLINE);
    expect(watcher!.matching((m) => m.topic === 'sensors/e2e-sleep/status' && m.payload === 'offline')).toEqual([]);
  });

  it.skipIf(!available)('a node that vanishes without DISCONNECT has its Will published by the gateway', async () => {
    await setUp([{ clientId: 'e2e-will', qos: 1, style: TopicStyle.Name, interval: 60_000, keepAlive: 1 }]);
    await watcher!.nth('online', (m) => m.topic === 'sensors/e2e-will/status' && m.payload === 'online');
    host!.nodes[0]!.transport.close(); // the battery falls out
    const will = await watcher!.nth('the Will', (m) => m.topic === 'sensors/e2e-will/status' && m.payload === 'offline', 1, 3 * DEADLINE);
    expect(will.payload).toBe('offline');
  });
});

const runSerial = requirePeer('socat', socatPath() !== null, 'install socat (apt-get install socat) for the serial-line tests');

describe.skipIf(!runSerial)('firmware-sim › end to end over a serial line (socat PTY pair) via Aedes', () => {
  let broker: Broker;
  let pair: PtyPair;
  beforeAll(async () => {
    broker = await startAedes();
    pair = await createPtyPair();
  });
  afterAll(async () => {
    await pair?.close();
    await broker?.stop();
  });

  it('a node on the gateway\'s serial port publishes readings and obeys an interval command', async () => {
    const gw = await startTestGateway({ broker, udp: false, serial: pair.transportEnd });
    running = gw.running;
    gwLog = gw.log;
    watcher = await Watcher.connect(broker.url);
    const rec = recordingHost();
    hostEvents = rec;
    host = rec.host;
    nodeEvents = rec.events;
    await host.addSerial({ clientId: 'e2e-serial', qos: 2, style: TopicStyle.Name, interval: 60_000 }, pair.peerEnd);
    host.start();
    const isTemp = (m: { topic: string }) => m.topic === 'sensors/e2e-serial/temp';
    const first = await watcher.nth('the first reading over serial', isTemp);
    expect(first.payload).toBe(firstReading(rec.readings, 'e2e-serial', 0).text);
    await waitEvent('subscribed to cmd/e2e-serial/#');
    await watcher.publish('cmd/e2e-serial/interval', '300');
    expect((await watcher.nth('the ack', (m) => m.topic === 'sensors/e2e-serial/ack')).payload).toBe('interval 300');
    await watcher.nth('two more readings at the new period', isTemp, 3);
    expect(host.nodes[0]!.attachment).toBe(`serial ${pair.peerEnd}`);
  });
});

/** Waits until a node logged an event containing `text`. */
function waitEvent(text: string, ms = DEADLINE): Promise<void> {
  return hostEvents!.until(text, ms);
}
