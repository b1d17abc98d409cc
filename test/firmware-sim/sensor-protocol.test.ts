/**
 * firmware-sim › Sensor against a scripted MQTT-SN gateway over real UDP on 127.0.0.1, with a
 * test clock the test advances: the exact messages a node sends for each behaviour (connect with
 * Will, readings per topic style and QoS, commands, the sleep cycle). The end-to-end suite runs
 * the same firmware against the real gateway; this one pins the protocol down message by message.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MsgType, TopicIdType, msgTypeName } from '../../src/mqttsn';
import { NodeUdpTransport } from '../../src/platform/node/udp';
import { SnState } from '../../src/mqttsn/client';
import { Sensor, TopicStyle, sensorTopics, type SensorOptions } from '../../firmware-sim/sensor';
import { ScriptedGateway, shortId, type Rx, type Tx } from '../mqttsn-client/harness';

/** A PUBLISH the gateway received, resolved to its topic. */
interface Pub {
  topic: string;
  payload: string;
  qos: number;
  retain: boolean;
  topicIdType: number;
}

/**
 * The scripted gateway with routine answers: the Will flow, REGACK with fresh ids, PUBACK /
 * PUBREC / PUBCOMP, SUBACK, DISCONNECT, and on a wake-up PINGREQ the buffered commands
 * (REGISTER + PUBLISH each) followed by PINGRESP. Everything received is kept in order.
 */
class AutoGateway {
  readonly seen: Rx[] = [];
  readonly pubs: Pub[] = [];
  /** Commands buffered for the sleeping node: [topic name, payload]. */
  readonly buffered: [string, string][] = [];
  private readonly names = new Map<number, string>();
  private nextId = 1;
  private gwMsgId = 100;
  constructor(readonly gw: ScriptedGateway) {}

  /** Topic id the gateway uses for `name` (registering it on first use). */
  idFor(name: string): number {
    for (const [id, n] of this.names) if (n === name) return id;
    const id = this.nextId++;
    this.names.set(id, name);
    return id;
  }

  /** Answers one message; returns how many datagrams it sent. */
  answer(r: Rx): number {
    const m = r.m;
    const out: Tx[] = [];
    switch (m.type) {
      case MsgType.CONNECT:
        out.push(m.will ? { type: MsgType.WILLTOPICREQ } : { type: MsgType.CONNACK, returnCode: 0 });
        break;
      case MsgType.WILLTOPIC:
        out.push({ type: MsgType.WILLMSGREQ });
        break;
      case MsgType.WILLMSG:
        out.push({ type: MsgType.CONNACK, returnCode: 0 });
        break;
      case MsgType.REGISTER:
        out.push({ type: MsgType.REGACK, topicId: this.idFor(r.text), msgId: m.msgId, returnCode: 0 });
        break;
      case MsgType.PUBLISH: {
        const topic =
          m.topicIdType === TopicIdType.Short
            ? String.fromCharCode(m.topicId >> 8, m.topicId & 0xff)
            : m.topicIdType === TopicIdType.Predefined
              ? `predefined:${m.topicId}`
              : (this.names.get(m.topicId) ?? `unknown:${m.topicId}`);
        this.pubs.push({ topic, payload: r.text, qos: m.qos, retain: m.retain, topicIdType: m.topicIdType });
        if (m.qos === 1) out.push({ type: MsgType.PUBACK, topicId: m.topicId, msgId: m.msgId, returnCode: 0 });
        if (m.qos === 2) out.push({ type: MsgType.PUBREC, msgId: m.msgId });
        break;
      }
      case MsgType.PUBREL:
        out.push({ type: MsgType.PUBCOMP, msgId: m.msgId });
        break;
      case MsgType.SUBSCRIBE:
        out.push({ type: MsgType.SUBACK, qos: m.qos, topicId: 0, msgId: m.msgId, returnCode: 0 });
        break;
      case MsgType.DISCONNECT:
        out.push({ type: MsgType.DISCONNECT });
        break;
      case MsgType.PINGREQ:
        for (const [name, payload] of this.buffered.splice(0)) {
          const id = this.idFor(name);
          out.push({ type: MsgType.REGISTER, topicId: id, msgId: ++this.gwMsgId, text: name });
          out.push({ type: MsgType.PUBLISH, qos: 1, topicId: id, msgId: ++this.gwMsgId, text: payload });
        }
        out.push({ type: MsgType.PINGRESP });
        break;
      default:
        break; // REGACK, PUBACK, PUBCOMP from the node: nothing to answer
    }
    for (const f of out) this.gw.send(f);
    return out.length;
  }
}

let gw: ScriptedGateway;
let auto: AutoGateway;
let tr: NodeUdpTransport;
let sensor: Sensor;
let t: number;
const events: string[] = [];

async function makeSensor(o: Partial<SensorOptions>): Promise<void> {
  tr = new NodeUdpTransport({ localAddress: '127.0.0.1', address: '127.0.0.1', port: gw.port });
  await tr.ready();
  gw.client = tr.localPort();
  sensor = new Sensor({
    transport: tr,
    clientId: 'node-7',
    topics: sensorTopics(TopicStyle.Name, 'node-7', '7', 100),
    qos: 1,
    interval: 1000,
    tRetry: 60_000,
    onEvent: (e) => events.push(e),
    ...o,
  });
}

/** Resolves once the node's transport has received `n` datagrams in all (deadline 2 s). */
function received(n: number): Promise<void> {
  if (tr.received >= n) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`node: ${n - tr.received} datagram(s) missing`)), 2000);
    tr.onReadable = () => {
      if (tr.received >= n) {
        clearTimeout(timer);
        tr.onReadable = null;
        resolve();
      }
    };
  });
}

/**
 * Polls at the current time and serves the node (answering each message, delivering the
 * answers, polling again) until `done()` holds; fails when the node goes quiet first.
 */
async function serve(done: () => boolean): Promise<void> {
  sensor.poll(t);
  while (!done()) {
    const r = await gw.next().catch((e: Error) => {
      throw new Error(`${e.message}; node state ${sensor.state()}; gateway saw ${typesSince(0).join(' ')}; node events: ${events.join(' | ')}`);
    });
    auto.seen.push(r);
    const n = auto.answer(r);
    if (n > 0) await received(tr.received + n);
    sensor.poll(t);
  }
}

/** Types received since index `from`, by name. */
function typesSince(from: number): string[] {
  return auto.seen.slice(from).map((r) => msgTypeName(r.m.type));
}

const lastOf = (type: MsgType): Rx | undefined => [...auto.seen].reverse().find((r) => r.m.type === type);

beforeEach(async () => {
  gw = await ScriptedGateway.start();
  auto = new AutoGateway(gw);
  events.length = 0;
  t = 5000;
});
afterEach(() => {
  tr?.close();
  gw.close();
});

describe('firmware-sim › Sensor › connecting', () => {
  it('connects with a Will on its status topic and a persistent session, subscribes to cmd/<id>/#, says online, then publishes its readings', async () => {
    await makeSensor({});
    sensor.start();
    await serve(() => auto.pubs.filter((p) => p.topic.startsWith('sensors/node-7/') && !p.topic.endsWith('status')).length === 3);
    const connect = auto.seen.find((r) => r.m.type === MsgType.CONNECT)!;
    expect(connect.m.will).toBe(true);
    expect(connect.m.cleanSession).toBe(false);
    expect(connect.text).toBe('node-7');
    expect(connect.m.duration).toBe(60);
    const willTopic = auto.seen.find((r) => r.m.type === MsgType.WILLTOPIC)!;
    expect([willTopic.text, willTopic.m.qos, willTopic.m.retain]).toEqual(['sensors/node-7/status', 1, true]);
    expect(auto.seen.find((r) => r.m.type === MsgType.WILLMSG)!.text).toBe('offline');
    const sub = auto.seen.find((r) => r.m.type === MsgType.SUBSCRIBE)!;
    expect([sub.text, sub.m.qos]).toEqual(['cmd/node-7/#', 1]);
    expect(auto.pubs[0]).toMatchObject({ topic: 'sensors/node-7/status', payload: 'online', qos: 1, retain: true });
    const readings = auto.pubs.slice(1);
    expect(readings.map((p) => p.topic)).toEqual(['sensors/node-7/temp', 'sensors/node-7/humidity', 'sensors/node-7/battery']);
    expect(readings.every((p) => p.qos === 1 && !p.retain)).toBe(true);
    const [temp, hum, batt] = readings.map((p) => Number(p.payload));
    expect(temp).toBeGreaterThan(10);
    expect(temp).toBeLessThan(30);
    expect(readings[0]!.payload).toMatch(/^-?\d+\.\d$/);
    expect(hum).toBeGreaterThan(0);
    expect(hum).toBeLessThan(100);
    expect(readings[2]!.payload).toMatch(/^\d\.\d{3}$/);
    expect(batt).toBeGreaterThan(3.2);
    expect(batt).toBeLessThanOrEqual(3.3);
    expect(sensor.state()).toBe(SnState.Active);
  });
});

describe('firmware-sim › Sensor › readings', () => {
  it('publishes the next readings only once the interval has passed, then an interval command changes the period', async () => {
    await makeSensor({});
    sensor.start();
    const batch = (n: number) => () => auto.pubs.filter((p) => /temp$/.test(p.topic)).length === n;
    await serve(batch(1));
    const sent = tr.sent;
    t += 999;
    sensor.poll(t);
    expect(tr.sent, 'nothing before the interval').toBe(sent);
    t += 1;
    await serve(batch(2));

    // The command, as the gateway delivers one: REGISTER of the command topic, then PUBLISH.
    const id = auto.idFor('cmd/node-7/interval');
    const base = tr.received;
    gw.send({ type: MsgType.REGISTER, topicId: id, msgId: 7, text: 'cmd/node-7/interval' });
    gw.send({ type: MsgType.PUBLISH, qos: 1, topicId: id, msgId: 8, text: '250' });
    await received(base + 2);
    await serve(() => auto.pubs.some((p) => p.topic === 'sensors/node-7/ack'));
    expect(auto.pubs.find((p) => p.topic === 'sensors/node-7/ack')!.payload).toBe('interval 250');
    expect(auto.seen.some((r) => r.m.type === MsgType.REGACK && r.m.topicId === id && r.m.msgId === 7)).toBe(true);
    expect(auto.seen.some((r) => r.m.type === MsgType.PUBACK && r.m.msgId === 8)).toBe(true);
    expect(sensor.interval()).toBe(250);
    const before = tr.sent;
    t += 249;
    sensor.poll(t);
    expect(tr.sent, 'nothing before the new interval').toBe(before);
    t += 1;
    await serve(batch(3));
  });

  it('at QoS -1 with short topics publishes without connecting', async () => {
    await makeSensor({ qos: -1, topics: sensorTopics(TopicStyle.Short, 'node-7', '7', 100) });
    sensor.start();
    sensor.poll(t);
    const got = [await gw.next(), await gw.next(), await gw.next()];
    expect(got.map((r) => [msgTypeName(r.m.type), r.m.qos, r.m.topicIdType, r.m.topicId])).toEqual([
      ['PUBLISH', -1, TopicIdType.Short, shortId('t7')],
      ['PUBLISH', -1, TopicIdType.Short, shortId('h7')],
      ['PUBLISH', -1, TopicIdType.Short, shortId('b7')],
    ]);
    expect(sensor.state()).toBe(SnState.Disconnected);
    expect(gw.queued).toBe(0);
  });

  it('at QoS 2 with predefined ids publishes by id through PUBREC / PUBREL / PUBCOMP', async () => {
    await makeSensor({ qos: 2, topics: sensorTopics(TopicStyle.Predefined, 'node-7', '7', 100) });
    sensor.start();
    await serve(() => auto.seen.filter((r) => r.m.type === MsgType.PUBREL).length === 3);
    const readings = auto.pubs.filter((p) => p.topicIdType === TopicIdType.Predefined);
    expect(readings.map((p) => [p.topic, p.qos])).toEqual([
      ['predefined:100', 2],
      ['predefined:101', 2],
      ['predefined:102', 2],
    ]);
    // No REGISTER for the readings (only the status topic is registered).
    expect(auto.seen.filter((r) => r.m.type === MsgType.REGISTER).map((r) => r.text)).toEqual(['sensors/node-7/status']);
  });

  it('rejects QoS -1 with registered topic names at construction', async () => {
    await expect(makeSensor({ qos: -1 })).rejects.toThrow(/QoS -1 needs predefined or short topics/);
  });
});

describe('firmware-sim › Sensor › sleeping', () => {
  it('a sleep command makes it say asleep, sleep with DISCONNECT(duration), wake with PINGREQ, take a buffered command, then reconnect and publish', async () => {
    await makeSensor({});
    sensor.start();
    await serve(() => auto.pubs.some((p) => /temp$/.test(p.topic)));

    const id = auto.idFor('cmd/node-7/sleep');
    let base = tr.received;
    gw.send({ type: MsgType.REGISTER, topicId: id, msgId: 9, text: 'cmd/node-7/sleep' });
    gw.send({ type: MsgType.PUBLISH, qos: 1, topicId: id, msgId: 10, text: '2' });
    await received(base + 2);
    const from = auto.seen.length;
    await serve(() => sensor.state() === SnState.Asleep);
    expect(auto.pubs.find((p) => p.topic === 'sensors/node-7/ack')!.payload).toBe('sleep 2');
    expect(auto.pubs.at(-1)).toMatchObject({ topic: 'sensors/node-7/status', payload: 'asleep', retain: true, qos: 1 });
    const disc = lastOf(MsgType.DISCONNECT)!;
    expect([disc.m.hasDuration, disc.m.duration]).toEqual([true, 2]);
    expect(typesSince(from).at(-1)).toBe('DISCONNECT');

    // Asleep: silent until the duration has passed.
    auto.buffered.push(['cmd/node-7/interval', '3000']);
    const sent = tr.sent;
    t += 1999;
    sensor.poll(t);
    expect(tr.sent, 'silent while asleep').toBe(sent);
    expect(sensor.state()).toBe(SnState.Asleep);

    t += 1;
    const wake = auto.seen.length;
    const pubsBefore = auto.pubs.length;
    await serve(() => sensor.state() === SnState.Asleep && auto.seen.length > wake + 4 && lastOf(MsgType.DISCONNECT) !== disc);
    const ping = auto.seen[wake]!;
    expect([msgTypeName(ping.m.type), ping.text]).toEqual(['PINGREQ', 'node-7']);
    // The buffered command was taken before the PINGRESP, then the node connected again.
    expect(typesSince(wake).slice(0, 4)).toEqual(['PINGREQ', 'REGACK', 'PUBACK', 'CONNECT']);
    expect(sensor.interval()).toBe(3000);
    const cycle = auto.pubs.slice(pubsBefore);
    expect(cycle.map((p) => p.topic)).toEqual([
      'sensors/node-7/ack',
      'sensors/node-7/temp',
      'sensors/node-7/humidity',
      'sensors/node-7/battery',
      'sensors/node-7/status',
    ]);
    expect(cycle[0]!.payload).toBe('interval 3000');
    expect(lastOf(MsgType.DISCONNECT)!.m.duration).toBe(3);
    expect(sensor.wakeups).toBe(1);
    base = tr.received;
    expect(base).toBeGreaterThan(0);
  });

  it('a node started as a sleeper publishes once per cycle and re-subscribes nothing after waking', async () => {
    await makeSensor({ sleeper: true, interval: 1000 });
    sensor.start();
    await serve(() => sensor.state() === SnState.Asleep);
    expect(auto.pubs.map((p) => p.topic)).toEqual([
      'sensors/node-7/temp',
      'sensors/node-7/humidity',
      'sensors/node-7/battery',
      'sensors/node-7/status',
    ]);
    t += 1000;
    const before = auto.seen.length;
    await serve(() => sensor.state() === SnState.Asleep && auto.pubs.length === 8);
    expect(auto.seen.slice(before).filter((r) => r.m.type === MsgType.SUBSCRIBE)).toHaveLength(0);
    expect(auto.seen.slice(before).filter((r) => r.m.type === MsgType.REGISTER)).toHaveLength(0);
  });
});
