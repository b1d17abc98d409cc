/**
 * The per-client Espruino bundles (each profile of issue #3) run a session in
 * the Espruino-like context (test/build/helpers.ts): loaded as the Web IDE
 * loads a module, driven through their public API only, against a peer written
 * with the codec from `src/`. This is what shows that the compile-time
 * switches and the mangled private names left a working client behind.
 */
import { readFileSync } from 'node:fs';
import vm from 'node:vm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addCached, buildToTemp, espruinoContext, type TempBuild } from './helpers';
import { ENTRIES, SWITCH_PROFILES, formatModules } from '../../scripts/build';
import { decodePacket, encodePacket, MqttPacket, type AnyPacketInfo } from '../../src/mqtt';
import { decodeMessage, encodeMessage, MsgType, SnMessage, TopicIdType } from '../../src/mqttsn';
import { utf8Decode } from '../../src/core/utf8';
import type { MqttClient, MqttClientOptions, MqttMessage } from '../../src/mqtt/client';
import type { createMqttLite } from '../../src/mqtt/lite';
import type { SnClient, SnClientOptions } from '../../src/mqttsn/client';
import type { createSnLite } from '../../src/mqttsn/lite';

let b: TempBuild;
beforeAll(async () => {
  // The shipped bundles, and the full clients with their compile-time switches off.
  b = await buildToTemp([...ENTRIES, ...SWITCH_PROFILES]);
});
afterAll(() => b?.dispose());

describe('where the bytes come from (`npm run build -- --modules`)', () => {
  it('names every source module of each client bundle, largest first, their bytes within the bundle', () => {
    for (const specifier of ['fieldmq/mqtt311-client', 'fieldmq/mqttsn-client']) {
      const x = b.result.bundles.find((y) => y.platform === 'espruino' && y.specifier === specifier)!;
      const sizes = x.modules.map((m) => m.bytes);
      expect(sizes).toEqual([...sizes].sort((p, q) => q - p));
      expect(sizes.reduce((p, q) => p + q, 0)).toBeLessThanOrEqual(x.bytes);
      expect(sizes.reduce((p, q) => p + q, 0)).toBeGreaterThan(0.9 * x.bytes);
      expect(x.modules[0]!.path).toBe(specifier.endsWith('mqttsn-client') ? 'src/mqttsn/lite.ts' : 'src/mqtt/lite.ts');
    }
    const text = formatModules(b.result);
    expect(text).toMatch(/fieldmq-mqttsn-client\.min\.js \(\d+ bytes\):\n {2}src\/mqttsn\/lite\.ts +\d+ +\d+\.\d %/);
  });
});

/** Loads the Espruino bundle of `specifier` and returns its exports. */
function load<T>(specifier: string): T {
  const x = b.result.bundles.find((y) => y.platform === 'espruino' && y.specifier === specifier);
  if (!x) throw new Error(`no bundle ${specifier}`);
  const ctx = espruinoContext();
  addCached(ctx, specifier, readFileSync(x.file, 'utf8'));
  return vm.runInContext(`require(${JSON.stringify(specifier)})`, ctx) as T;
}

/**
 * An open in-memory transport. Stream: `toClient` / `fromClient` hold bytes.
 * Datagram (peer 0 is the gateway): `inbox` / `sent` hold whole datagrams.
 */
class FakeLink {
  readonly toClient: number[] = [];
  readonly fromClient: number[] = [];
  readonly inbox: Uint8Array[] = [];
  readonly sent: Uint8Array[] = [];
  open = () => 0;
  close = () => undefined;
  state = () => 2;
  from = () => 0;
  send = (buf: Uint8Array, off: number, len: number) => {
    this.fromClient.push(...buf.subarray(off, off + len));
    return len;
  };
  sendTo = (buf: Uint8Array, off: number, len: number) => {
    this.sent.push(buf.slice(off, off + len));
    return len;
  };
  recv = (buf: Uint8Array, off: number, len: number) => {
    const d = this.inbox.length > 0 ? this.inbox.shift()! : Uint8Array.from(this.toClient.splice(0, len));
    buf.set(d.subarray(0, len), off);
    return Math.min(len, d.length);
  };
}
const streamPair = () => new FakeLink();
const datagrams = () => new FakeLink();

/** Takes every whole packet the client sent so far, decoded. */
function sentPackets(t: FakeLink, version: number): MqttPacket[] {
  const out: MqttPacket[] = [];
  const buf = Uint8Array.from(t.fromClient);
  let off = 0;
  for (;;) {
    const p = new MqttPacket();
    const n = decodePacket(buf, off, buf.length - off, version, p, 0);
    if (n <= 0) break;
    (p as MqttPacket & { bytes: Uint8Array }).bytes = buf.slice(off, off + n);
    out.push(p);
    off += n;
  }
  t.fromClient.splice(0, off);
  return out;
}

function feed(t: FakeLink, p: AnyPacketInfo, version: number): void {
  const buf = new Uint8Array(512);
  const n = encodePacket(p, version, buf, 0);
  expect(n, `encode ${p.type}`).toBeGreaterThan(0);
  for (let i = 0; i < n; i++) t.toClient.push(buf[i]);
}

describe.each([
  ['fieldmq/mqtt311-client', 4],
  ['fieldmq/mqtt5-client', 5],
  ['fieldmq/mqtt5-client', 4],
  ['fieldmq/test-mqttclient-311', 4],
] as const)('%s bundle (MQTT protocol level %i)', (specifier, version) => {
  it('connects, subscribes, publishes QoS 1 and 2, receives through its subscription, and reconnects', () => {
    // The 3.1.1 bundle is the lean client (src/mqtt/lite.ts): same options, same API.
    const mod = load<{ MqttClient?: typeof MqttClient; createMqttLite?: typeof createMqttLite }>(specifier);
    const make = (o: MqttClientOptions) => (mod.createMqttLite ? mod.createMqttLite(o) : new mod.MqttClient!(o));
    const Connected = 4;
    const Waiting = 1;
    const t = streamPair();
    const log: unknown[] = [];
    const c = make({
      transport: t,
      clientId: 'bundle',
      version,
      keepAlive: 10,
      random: () => 0.5,
      onConnect: (code, present) => log.push(['connect', code, present]),
      onSubscribed: (f, code) => log.push(['suback', f, code]),
      onPublished: (id, code) => log.push(['published', id, code]),
      onDisconnect: (r) => log.push(['disconnect', r]),
    });
    let now = 0xfffffff0; // across the uint32 wrap
    const poll = (dt = 5) => c.poll((now = (now + dt) >>> 0));
    expect(c.start(now)).toBe(0);
    poll();
    const [connect] = sentPackets(t, version);
    expect([connect.type, connect.protocolVersion, connect.keepAlive]).toEqual([1, version, 10]);
    feed(t, { type: 2, sessionPresent: false, reasonCode: 0 }, version);
    poll();
    expect(c.state).toBe(Connected);
    expect(c.subscribe('cmd/+/led', 1, (m: MqttMessage) => log.push(['cmd', m.topic(), m.text(), m.qos, m.matches('cmd/#')]))).toBe(0);
    const q1 = c.publish('data/t', '21.5', 1, false);
    const q2 = c.publish('data/t', new Uint8Array([1, 2]), 2, true);
    expect(c.publish('data/+', 'x', 0, false)).toBe(-10); // Status.InvalidTopic
    poll();
    const [sub, p1, p2] = sentPackets(t, version);
    expect([sub.type, p1.type, p1.packetId, p1.qos, p2.type, p2.packetId, p2.qos, p2.retain]).toEqual([8, 3, q1, 1, 3, q2, 2, true]);
    feed(t, { type: 9, packetId: sub.packetId, reasonCodes: [1] }, version);
    feed(t, { type: 4, packetId: q1 }, version);
    feed(t, { type: 5, packetId: q2 }, version);
    feed(t, { type: 3, topic: 'cmd/7/led', payload: 'on', qos: 1, packetId: 40 }, version);
    poll();
    const acks = sentPackets(t, version).map((p) => [p.type, p.packetId]);
    expect(acks).toEqual([
      [6, q2], // PUBREL
      [4, 40], // PUBACK for the command
    ]);
    feed(t, { type: 7, packetId: q2 }, version);
    poll();
    expect(c.pending).toBe(0);
    expect(log).toEqual([
      ['connect', 0, false],
      ['suback', 'cmd/+/led', 1],
      ['published', q1, 0],
      ['cmd', 'cmd/7/led', 'on', 1, true],
      ['published', q2, 0],
    ]);
    // The broker goes silent: PINGREQ after the keep-alive period, then the link is declared dead.
    poll(10_000);
    expect(sentPackets(t, version).map((p) => p.type)).toEqual([12]);
    poll(10_001);
    expect(c.state).toBe(Waiting);
    expect(log[log.length - 1]).toEqual(['disconnect', -13]);
    poll(60_000);
    poll();
    expect(sentPackets(t, version).map((p) => p.type)).toEqual([1]);
    expect(c.disconnect()).toBe(0);
  });
});

describe('fieldmq/mqtt5-client bundle › MQTT 5 features', () => {
  it('uses the topic alias the server allows and routes by Subscription Identifier', () => {
    const mod = load<{ MqttClient: typeof MqttClient }>('fieldmq/mqtt5-client');
    const t = streamPair();
    const got: string[] = [];
    const c = new mod.MqttClient({ transport: t, clientId: 'v5', version: 5, onMessage: (m) => got.push('other ' + m.topic()) });
    c.start(0);
    c.poll(1);
    sentPackets(t, 5);
    feed(t, { type: 2, sessionPresent: false, reasonCode: 0, properties: { topicAliasMaximum: 4 } }, 5);
    c.poll(2);
    c.subscribe('a/#', 0, (m) => got.push('a ' + m.topic()));
    c.subscribe('a/b', 0, (m) => got.push('ab ' + m.topic()));
    c.publish('s/1', 'x', 0, false);
    c.publish('s/1', 'y', 0, false);
    c.poll(3);
    const out = sentPackets(t, 5).filter((p) => p.type === 3);
    expect(out.map((p) => [p.topicLength, p.topicAlias])).toEqual([
      [3, 1],
      [0, 1],
    ]);
    // One copy, for the second subscription only (identifier 2).
    feed(t, { type: 3, topic: 'a/b', payload: 'z', qos: 0, properties: { subscriptionIdentifier: 2 } }, 5);
    c.poll(4);
    expect(got).toEqual(['ab a/b']);
  });
});

describe('fieldmq/mqtt311-client bundle', () => {
  it('is the lean client alone: it exports createMqttLite and nothing else', () => {
    expect(Object.keys(load<object>('fieldmq/mqtt311-client'))).toEqual(['createMqttLite']);
  });

  it('holds no MQTT 5 code: no property names, no aliases; nor does MqttClient built with FIELDMQ_MQTT5 off', () => {
    for (const specifier of ['fieldmq/mqtt311-client', 'fieldmq/test-mqttclient-311']) {
      const x = b.result.bundles.find((y) => y.platform === 'espruino' && y.specifier === specifier)!;
      const text = readFileSync(x.file, 'utf8');
      for (const name of ['topicAliasMaximum', 'subscriptionIdentifier', 'userProperties', 'maximumPacketSize', 'payloadFormatIndicator']) {
        expect(text.includes(name), `${specifier}: ${name}`).toBe(false);
      }
    }
  });
});

function sn(fields: Partial<SnMessage>): Uint8Array {
  const m = Object.assign(new SnMessage(), fields);
  const buf = new Uint8Array(256);
  const n = encodeMessage(m, buf, 0);
  expect(n).toBeGreaterThan(0);
  return buf.slice(0, n);
}

function taken(t: FakeLink): SnMessage[] {
  return t.sent.splice(0).map((d) => {
    const m = new SnMessage();
    expect(decodeMessage(d, 0, d.length, m)).toBe(d.length);
    return m;
  });
}

type SnModule = { SnClient?: typeof SnClient; createSnLite?: typeof createSnLite };

/** The bundle's client: the lean one (`fieldmq/mqttsn-client`) or SnClient, same options, same API. */
function snClient(mod: SnModule, o: SnClientOptions) {
  return mod.createSnLite ? mod.createSnLite(o) : new mod.SnClient!(o);
}

// fieldmq/mqttsn-client is the lean client ("standard" profile); test-snclient-standard is SnClient
// with the same four switches off; -full is SnClient with everything.
describe.each(['fieldmq/mqttsn-client', 'fieldmq/test-snclient-standard', 'fieldmq/mqttsn-client-full'])('%s bundle', (specifier) => {
  const full = specifier.endsWith('-full');

  it('connects, registers and publishes QoS 1, receives QoS 1, and keeps alive', () => {
    const mod = load<SnModule>(specifier);
    const t = datagrams();
    const log: unknown[] = [];
    const c = snClient(mod, {
      transport: t,
      clientId: 'esp',
      gateway: 0,
      keepAlive: 30,
      predefined: [['cfg/led', 7]],
      onConnect: (rc) => log.push(['connect', rc]),
      onPublished: (id, rc) => log.push(['published', id, rc]),
      onMessage: (name, id, type, buf, off, len, qos) => log.push(['message', name, id, type, utf8Decode(buf, off, off + len), qos]),
      onAck: (type, id, rc, topicId) => log.push(['ack', type, rc, topicId]),
    });
    let now = 0xfffffff0;
    const poll = (dt = 5) => c.poll((now = (now + dt) >>> 0));
    expect(c.connect()).toBe(0);
    poll();
    const [connect] = taken(t);
    expect([connect.type, connect.duration, connect.cleanSession]).toEqual([MsgType.CONNECT, 30, true]);
    t.inbox.push(sn({ type: MsgType.CONNACK, returnCode: 0 }));
    poll();
    expect(c.state()).toBe(3); // SnState.Active
    const id = c.publish('esp/temp', '20', 1, false);
    poll();
    const [reg] = taken(t);
    expect(reg.type).toBe(MsgType.REGISTER);
    t.inbox.push(sn({ type: MsgType.REGACK, topicId: 3, msgId: reg.msgId, returnCode: 0 }));
    poll();
    const [pub] = taken(t);
    expect([pub.type, pub.topicId, pub.msgId, pub.qos]).toEqual([MsgType.PUBLISH, 3, id, 1]);
    t.inbox.push(sn({ type: MsgType.PUBACK, topicId: 3, msgId: id, returnCode: 0 }));
    t.inbox.push(sn({ type: MsgType.PUBLISH, qos: 1, topicIdType: TopicIdType.Predefined, topicId: 7, msgId: 9, text: 'on' }));
    poll();
    expect(taken(t).map((m) => [m.type, m.msgId])).toEqual([[MsgType.PUBACK, 9]]);
    const sid = c.subscribe('cmd/#', 1);
    poll();
    const [sub] = taken(t);
    expect([sub.type, sub.msgId, sub.qos]).toEqual([MsgType.SUBSCRIBE, sid, 1]);
    t.inbox.push(sn({ type: MsgType.SUBACK, msgId: sid, qos: 1, returnCode: 0 }));
    poll();
    poll(30_000);
    expect(taken(t).map((m) => m.type)).toEqual([MsgType.PINGREQ]);
    expect(log).toEqual([
      ['connect', 0],
      ['published', id, 0],
      ['message', 'cfg/led', 7, TopicIdType.Predefined, 'on', 1],
      ['ack', MsgType.SUBSCRIBE, 0, 0],
    ]);
  });

  it('a SEARCHGW from the gateway answers nothing: a QoS 1 message held by "congestion" is not reported done', () => {
    const mod = load<SnModule>(specifier);
    const t = datagrams();
    const log: unknown[] = [];
    const c = snClient(mod, { transport: t, clientId: 'esp', gateway: 0, onPublished: (id, rc) => log.push(['published', id, rc]) });
    c.connect();
    c.poll(1);
    t.inbox.push(sn({ type: MsgType.CONNACK, returnCode: 0 }));
    c.poll(2);
    expect(c.publish('ab', 'q0', 0, false)).toBe(0);
    c.poll(3);
    t.inbox.push(sn({ type: MsgType.PUBACK, topicId: 0x6162, msgId: 0, returnCode: 1 })); // rejected: congestion
    c.poll(4);
    const id = c.publish('ab', 'q1', 1, false);
    c.poll(5); // held for T_WAIT: not sent
    t.inbox.push(sn({ type: MsgType.SEARCHGW, radius: 0 }));
    c.poll(6);
    expect(log).toEqual([]);
    expect(taken(t).filter((m) => m.type === MsgType.PUBLISH).map((m) => m.msgId)).toEqual([0]);
    expect(id).toBeGreaterThan(0);
  });

  it(full ? 'has QoS 2, sleep, discovery and the Will' : 'answers Unsupported for what the standard profile leaves out', () => {
    const mod = load<SnModule>(specifier);
    const t = datagrams();
    const c = snClient(mod, { transport: t, clientId: 'esp', gateway: 0, will: { topic: 'w', payload: 'x', qos: 0, retain: false } });
    c.connect();
    c.poll(1);
    const [connect] = taken(t);
    expect(connect.will).toBe(full);
    if (full) {
      t.inbox.push(sn({ type: MsgType.WILLTOPICREQ }));
      c.poll(2);
      expect(taken(t).map((m) => m.type)).toEqual([MsgType.WILLTOPIC]);
    }
    t.inbox.push(sn({ type: MsgType.CONNACK, returnCode: 0 }));
    c.poll(3);
    const unsupported = -7;
    if (full) {
      expect(c.publish('ab', 'x', 2, false)).toBeGreaterThan(0);
      expect(c.searchGateway()).toBe(0);
      expect(c.willMessageUpdate('y')).toBe(0);
      expect(c.sleep(60)).toBe(0);
    } else {
      expect(c.publish('ab', 'x', 2, false)).toBe(unsupported);
      expect(c.subscribe('ab', 2)).toBe(unsupported);
      expect(c.searchGateway()).toBe(unsupported);
      expect(c.willTopicUpdate('w', 0, false)).toBe(unsupported);
      expect(c.willMessageUpdate('y')).toBe(unsupported);
      // The lean client (fieldmq/mqttsn-client) sleeps; SnClient's standard profile does not.
      const lean = specifier === 'fieldmq/mqttsn-client';
      expect(c.sleep(60)).toBe(lean ? 0 : unsupported);
      if (lean) {
        c.poll(4);
        const [bye] = taken(t);
        expect([bye.type, bye.duration]).toEqual([MsgType.DISCONNECT, 60]);
        t.inbox.push(sn({ type: MsgType.DISCONNECT }));
        c.poll(5);
        expect(c.state()).toBe(4); // SnState.Asleep
        c.poll(5 + 60_000);
        const [ping] = taken(t);
        expect([ping.type, utf8Decode(ping.data ?? new Uint8Array(0), ping.dataOffset, ping.dataOffset + ping.dataLength)]).toEqual([MsgType.PINGREQ, 'esp']);
      }
      const none = snClient(mod, { transport: datagrams(), clientId: 'x' });
      expect(none.connect()).toBe(-4); // no gateway, and no discovery to find one
    }
  });
});
