/**
 * MqttClient › a PUBLISH larger than the client's `maxPacketSize`.
 *
 * MQTT 3.1.1 has no way to tell the server the client's limit, and an MQTT 5
 * server may ignore the Maximum Packet Size announced in CONNECT. Dropping the
 * connection is no answer: a server keeping the session sends the message
 * again after every reconnect, so the link would flap forever and deliver
 * nothing else. The client skips the packet's bytes (without buffering them),
 * acknowledges it per its QoS, counts it (`oversizeCount`) and reports it
 * (`onOversize`).
 *
 * Against aedes (3.1.1, which ignores any client limit) with an MQTT.js
 * publisher, then a scripted server for the byte-exact cases (QoS 2 with a
 * redelivery, packets far larger than the receive buffer, arriving in pieces,
 * MQTT 5 topic aliases).
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import mqtt, { type MqttClient as MqttJs } from 'mqtt';
import { ClientState, type MqttClientOptions } from '../../src/mqtt/client';
import { NodeTcpTransport } from '../../src/platform/node/tcp';
import { startAedes, type AedesBroker } from '../support/aedes';
import { nowMs, until } from './driver';
import { ScriptedBroker } from './scripted-broker';
import { IMPLS, type MqttLite } from '../support/impls';

for (const impl of IMPLS) describe(`${impl.name} › oversize inbound PUBLISH › aedes (MQTT 3.1.1)`, () => {
  let broker: AedesBroker;
  const clients: MqttLite[] = [];
  const publishers: MqttJs[] = [];
  let n = 0;

  beforeAll(async () => {
    broker = await startAedes();
  });
  afterAll(async () => {
    await broker?.stop();
  });
  afterEach(async () => {
    for (const c of clients.splice(0)) c.disconnect();
    await Promise.all(publishers.splice(0).map((p) => p.endAsync(true)));
  });

  async function subscriber(filter: string, opts: Partial<MqttClientOptions> = {}) {
    const got: string[] = [];
    const big: [string, number, number][] = [];
    const lost: number[] = [];
    let subscribed = false;
    const c = impl.make({
      transport: new NodeTcpTransport({ host: broker.host, port: broker.port }),
      clientId: `big-${process.pid}-${++n}`,
      keepAlive: 30,
      // A kept session: the broker redelivers an unacknowledged QoS 1 message on every reconnect.
      cleanSession: false,
      reconnectMin: 20,
      reconnectMax: 40,
      onMessage: (m) => got.push(m.text()),
      onOversize: (m, size) => big.push([m.topic(), m.qos, size]),
      onDisconnect: (r) => lost.push(r),
      onSubscribed: () => (subscribed = true),
      ...opts,
    });
    clients.push(c);
    c.start(nowMs());
    await until([c], () => c.state === ClientState.Connected, 'CONNACK');
    c.subscribe(filter, 1, null);
    await until([c], () => subscribed, 'SUBACK');
    const js = await mqtt.connectAsync(broker.url, { clientId: `bigpub-${process.pid}-${n}`, reconnectPeriod: 0 });
    publishers.push(js);
    return { c, js, got, big, lost };
  }

  it('a 2,000-byte QoS 1 publish between small ones: the small ones keep arriving and the connection stays up', async () => {
    const topic = `big/${process.pid}/a`;
    const { c, js, got, big, lost } = await subscriber(topic); // maxPacketSize: the default 1,024
    await js.publishAsync(topic, 'small 1', { qos: 1 });
    await js.publishAsync(topic, 'x'.repeat(2000), { qos: 1 });
    await js.publishAsync(topic, 'small 2', { qos: 1 });
    await until([c], () => got.length >= 2, 'both small messages', 5000);
    // Once more after the oversize one was acknowledged: still nothing redelivered, nothing lost.
    await js.publishAsync(topic, 'small 3', { qos: 1 });
    await until([c], () => got.length >= 3, 'the third small message', 5000);
    expect(got).toEqual(['small 1', 'small 2', 'small 3']);
    expect(lost).toEqual([]);
    expect(c.state).toBe(ClientState.Connected);
    expect(c.oversizeCount).toBe(1);
    // 2,000 payload bytes + 2 + topic + packet id 2 + fixed header 3.
    expect(big).toEqual([[topic, 1, 2000 + 2 + topic.length + 2 + 3]]);
  });

  it('a QoS 1 publish ten times the receive buffer is skipped without buffering it, and the broker does not send it again', async () => {
    const topic = `big/${process.pid}/b`;
    const { c, js, got, big, lost } = await subscriber(topic, { maxPacketSize: 256 }); // receive buffer: 512 bytes
    await js.publishAsync(topic, 'y'.repeat(5120), { qos: 1 });
    await js.publishAsync(topic, 'after', { qos: 0 });
    await until([c], () => got.length >= 1, 'the small message', 5000);
    // A reconnect with the kept session must not bring the big one back (it was acknowledged).
    c.disconnect();
    c.start(nowMs());
    await until([c], () => c.state === ClientState.Connected, 'CONNACK again');
    await js.publishAsync(topic, 'later', { qos: 1 });
    await until([c], () => got.length >= 2, 'the later message', 5000);
    expect(got).toEqual(['after', 'later']);
    expect(big.map((b) => b[0])).toEqual([topic]);
    expect(c.oversizeCount).toBe(1);
    expect(lost).toEqual([]);
  });
});

for (const impl of IMPLS) describe(`${impl.name} › oversize inbound PUBLISH › scripted server`, () => {
  const brokers: ScriptedBroker[] = [];
  const clients: MqttLite[] = [];
  afterEach(async () => {
    for (const c of clients.splice(0)) c.disconnect();
    await Promise.all(brokers.splice(0).map((b) => b.close()));
  });

  async function make(version: number, opts: Partial<MqttClientOptions> = {}) {
    const b = new ScriptedBroker(version);
    await b.listen();
    brokers.push(b);
    const got: string[] = [];
    const big: string[] = [];
    const lost: number[] = [];
    const c = impl.make({
      transport: new NodeTcpTransport({ host: '127.0.0.1', port: b.port }),
      clientId: 'oversize',
      version,
      keepAlive: 0,
      maxPacketSize: 128,
      onMessage: (m) => got.push(m.topic() + '=' + m.text()),
      onOversize: (m, size) => big.push(`${m.topic()} q${m.qos} ${size} ${m.payloadLength}`),
      onDisconnect: (r) => lost.push(r),
      ...opts,
    });
    clients.push(c);
    const wait = (check: () => boolean, what: string) => until([c], check, what, 5000);
    c.start(nowMs());
    await wait(() => c.state === ClientState.Connected, 'CONNACK');
    return { b, c, got, big, lost, wait };
  }

  it('QoS 2: PUBREC, the packet id remembered (a redelivery is acknowledged, not reported twice), PUBCOMP on PUBREL', async () => {
    const { b, c, got, big, lost, wait } = await make(4);
    const pkt = b.encode({ type: 3, topic: 'q2/big', payload: 'z'.repeat(1000), qos: 2, packetId: 9 });
    b.sendRaw(pkt);
    await wait(() => b.of(5).length === 1, 'PUBREC');
    b.sendRaw(b.encode({ type: 3, topic: 'q2/big', payload: 'z'.repeat(1000), qos: 2, packetId: 9, dup: true }));
    await wait(() => b.of(5).length === 2, 'PUBREC for the redelivery');
    b.send({ type: 6, packetId: 9 });
    await wait(() => b.of(7).length === 1, 'PUBCOMP');
    b.send({ type: 3, topic: 'q2/small', payload: 'ok', qos: 2, packetId: 9 }); // the id is free again
    await wait(() => got.length === 1 && b.of(5).length === 3, 'the small one and its PUBREC');
    expect(b.of(5).map((r) => r.packetId)).toEqual([9, 9, 9]);
    expect(b.of(7).map((r) => r.packetId)).toEqual([9]);
    expect(big).toEqual([`q2/big q2 ${pkt.length} 0`]);
    expect(got).toEqual(['q2/small=ok']);
    expect(c.oversizeCount).toBe(1);
    expect(lost).toEqual([]);
    expect(b.connections).toBe(1);
  });

  it('QoS 0 far larger than the receive buffer, in small pieces, glued to the next packet: nothing sent back, the next one delivered', async () => {
    const { b, c, got, big, lost, wait } = await make(4);
    const huge = b.encode({ type: 3, topic: 'q0/big', payload: 'w'.repeat(40_000), qos: 0 });
    const next = b.encode({ type: 3, topic: 'q0/next', payload: 'fine', qos: 1, packetId: 3 });
    const all = new Uint8Array(huge.length + next.length);
    all.set(huge, 0);
    all.set(next, huge.length);
    for (let i = 0; i < all.length; i += 700) {
      b.sendRaw(all.subarray(i, i + 700));
      await new Promise((r) => setTimeout(r, 1));
      c.poll(nowMs());
    }
    await wait(() => got.length === 1 && b.of(4).length === 1, 'the next message and its PUBACK');
    expect(got).toEqual(['q0/next=fine']);
    expect(big).toEqual([`q0/big q0 ${huge.length} 0`]);
    expect(b.of(4).map((r) => r.packetId)).toEqual([3]); // the PUBACK of the small one only
    expect(c.oversizeCount).toBe(1);
    expect(lost).toEqual([]);
  });

  if (impl.mqtt5) it('MQTT 5: a server ignoring the announced Maximum Packet Size gets the same treatment, and a Topic Alias it sets is kept', async () => {
    const { b, c, got, big, lost, wait } = await make(5);
    const connect = b.of(1)[0];
    expect(connect.properties.maximumPacketSize).toBe(128);
    b.sendRaw(b.encode({ type: 3, topic: 'v5/big', payload: 'v'.repeat(500), qos: 1, packetId: 4, properties: { topicAlias: 2 } }));
    b.send({ type: 3, topic: '', payload: 'via alias', qos: 1, packetId: 5, properties: { topicAlias: 2 } });
    await wait(() => got.length === 1 && b.of(4).length === 2, 'the aliased message and two PUBACKs');
    expect(got).toEqual(['v5/big=via alias']);
    expect(big.map((s) => s.split(' ').slice(0, 2).join(' '))).toEqual(['v5/big q1']);
    expect(b.of(4).map((r) => [r.packetId, r.reasonCode])).toEqual([
      [4, 0],
      [5, 0],
    ]);
    expect(c.oversizeCount).toBe(1);
    expect(lost).toEqual([]);
    expect(b.of(14)).toHaveLength(0); // no DISCONNECT 0x95
  });

  if (impl.mqtt5) it('a PUBLISH whose topic alone is over the limit cannot be acknowledged: the connection ends (MQTT 5: DISCONNECT 0x95)', async () => {
    const { b, c, lost, wait } = await make(5, { reconnect: false });
    b.sendRaw(b.encode({ type: 3, topic: 'long/' + 't'.repeat(200), payload: 'p', qos: 1, packetId: 4 }));
    await wait(() => c.state === ClientState.Idle, 'the link dropped');
    await wait(() => b.of(14).length === 1, 'the DISCONNECT');
    expect(b.of(14)[0].reasonCode).toBe(0x95);
    expect(lost).toEqual([-8]); // Status.TooLarge
    expect(c.oversizeCount).toBe(0);
  });

  it('an oversize packet of another type still ends the connection', async () => {
    const { b, c, lost, wait } = await make(4, { reconnect: false });
    // A SUBACK with 300 return codes (a server would never send this to a one-filter SUBSCRIBE).
    b.sendRaw(b.encode({ type: 9, packetId: 1, reasonCodes: new Array(300).fill(0) }));
    await wait(() => c.state === ClientState.Idle, 'the link dropped');
    expect(lost).toEqual([-8]);
  });
});
