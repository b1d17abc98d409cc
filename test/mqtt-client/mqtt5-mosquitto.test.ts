/**
 * MQTT 5.0 features of MqttClient against a real Mosquitto configured with
 * small limits (max_inflight_messages → Receive Maximum, max_packet_size →
 * Maximum Packet Size in CONNACK), with an MQTT.js 5 client on the other side.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import mqtt, { type MqttClient as MqttJs } from 'mqtt';
import { MqttClient, ClientState, type MqttClientOptions } from '../../src/mqtt/client';
import { NodeTcpTransport } from '../../src/platform/node/tcp';
import { requireMosquitto, startMosquitto, type MosquittoBroker } from '../support/mosquitto';
import { nowMs, until } from './driver';

describe.runIf(requireMosquitto())('MqttClient › MQTT 5.0 features against Mosquitto', () => {
  let broker: MosquittoBroker;
  const clients: MqttClient[] = [];
  const observers: MqttJs[] = [];
  let n = 0;

  beforeAll(async () => {
    broker = await startMosquitto({ config: 'max_inflight_messages 2\nmax_packet_size 512\n' });
  });
  afterAll(async () => {
    await broker?.stop();
  });
  afterEach(async () => {
    for (const c of clients.splice(0)) c.disconnect();
    await Promise.all(observers.splice(0).map((o) => o.endAsync(true)));
  });

  function client(opts: Partial<MqttClientOptions> = {}): MqttClient {
    const c = new MqttClient({
      transport: new NodeTcpTransport({ host: broker.host, port: broker.port }),
      clientId: `m5-${process.pid}-${++n}`,
      version: 5,
      keepAlive: 30,
      ...opts,
    });
    clients.push(c);
    return c;
  }

  async function observer(topic: string) {
    const js = await mqtt.connectAsync(broker.url, { protocolVersion: 5, clientId: `m5js-${process.pid}-${++n}`, reconnectPeriod: 0 });
    observers.push(js);
    const got: { topic: string; payload: string; user?: unknown; contentType?: string }[] = [];
    js.on('message', (t, payload, packet) =>
      got.push({ topic: t, payload: payload.toString(), user: packet.properties?.userProperties, contentType: packet.properties?.contentType }),
    );
    await js.subscribeAsync(topic, { qos: 1 });
    return { js, got };
  }

  async function connected(c: MqttClient): Promise<void> {
    c.start(nowMs());
    await until([c], () => c.state === ClientState.Connected, 'CONNACK');
  }

  it('user properties and content type reach the subscriber', async () => {
    const { got } = await observer('m5/props');
    const c = client();
    await connected(c);
    c.publish('m5/props', '{"t":21.5}', 1, false, { contentType: 'application/json', userProperties: ['unit', 'C', 'site', 'north'] });
    await until([c], () => got.length === 1, 'the message');
    expect(got[0]).toEqual({ topic: 'm5/props', payload: '{"t":21.5}', user: { unit: 'C', site: 'north' }, contentType: 'application/json' });
  });

  it('topic aliases it assigns are accepted and resolved by the broker', async () => {
    const { got } = await observer('m5/alias/#');
    const c = client();
    await connected(c);
    for (let i = 0; i < 6; i++) expect(c.publish(`m5/alias/${i % 2}`, String(i), 0, false)).toBe(0);
    await until([c], () => got.length === 6, 'six messages');
    expect(got.map((m) => `${m.topic}=${m.payload}`)).toEqual([
      'm5/alias/0=0',
      'm5/alias/1=1',
      'm5/alias/0=2',
      'm5/alias/1=3',
      'm5/alias/0=4',
      'm5/alias/1=5',
    ]);
  });

  it("honours the broker's Receive Maximum (max_inflight_messages 2) and still completes a burst in order", async () => {
    const { got } = await observer('m5/recvmax');
    let done = 0;
    const c = client({ onPublished: () => done++, queueSize: 32 });
    await connected(c);
    for (let i = 0; i < 20; i++) expect(c.publish('m5/recvmax', `m${i}`, 1, false)).toBeGreaterThan(0);
    await until([c], () => done === 20 && got.length === 20, 'twenty acknowledged and delivered');
    expect(got.map((m) => m.payload)).toEqual(Array.from({ length: 20 }, (_, i) => `m${i}`));
  });

  it("refuses a publish over the broker's Maximum Packet Size (max_packet_size 512) before sending it", async () => {
    const c = client();
    await connected(c);
    expect(c.publish('m5/big', 'x'.repeat(600), 1, false)).toBe(-8); // Status.TooLarge
    expect(c.publish('m5/big', 'x'.repeat(100), 1, false)).toBeGreaterThan(0);
    await until([c], () => c.pending === 0, 'the small one acknowledged');
    expect(c.state).toBe(ClientState.Connected);
  });

  it('subscription options reach the broker: No Local keeps its own messages away, Retain Handling 2 skips retained ones', async () => {
    const got: string[] = [];
    let subs = 0;
    const c = client({ onMessage: (m) => got.push(m.text()), onSubscribed: () => subs++ });
    await connected(c);
    c.publish('m5/opts/retained', 'old', 1, true);
    await until([c], () => c.pending === 0, 'retained publish stored');
    c.subscribe('m5/opts/#', 1, null, { noLocal: true, retainHandling: 2, userProperties: ['purpose', 'test'] });
    await until([c], () => subs === 1, 'SUBACK');
    c.publish('m5/opts/own', 'mine', 1, false);
    const js = await mqtt.connectAsync(broker.url, { protocolVersion: 5, clientId: `m5o-${process.pid}`, reconnectPeriod: 0 });
    observers.push(js);
    await until([c], () => c.pending === 0, 'own publish acknowledged');
    await js.publishAsync('m5/opts/other', 'theirs', { qos: 1 });
    await until([c], () => got.length >= 1, "the other client's message");
    expect(got).toEqual(['theirs']);
    c.publish('m5/opts/retained', '', 1, true); // clear it
    await until([c], () => c.pending === 0, 'retained cleared');
  });

  it('unsubscribe with User Properties (§3.10.2.1.2): Mosquitto accepts the packet, answers UNSUBACK 0, and no more messages arrive', async () => {
    const got: string[] = [];
    const events: string[] = [];
    const lost: number[] = [];
    const c = client({
      onMessage: (m) => got.push(m.text()),
      onSubscribed: (f, code) => events.push(`sub ${f} ${code}`),
      onUnsubscribed: (f, code) => events.push(`unsub ${f} ${code}`),
      onDisconnect: (r) => lost.push(r),
    });
    await connected(c);
    c.subscribe('m5/unsub', 1, null);
    await until([c], () => events.length === 1, 'SUBACK');
    const js = await mqtt.connectAsync(broker.url, { protocolVersion: 5, clientId: `m5u-${process.pid}`, reconnectPeriod: 0 });
    observers.push(js);
    await js.publishAsync('m5/unsub', 'before', { qos: 1 });
    await until([c], () => got.length === 1, 'the first message');
    expect(c.unsubscribe('m5/unsub', ['reason', 'shutdown', 'reason', 'twice'])).toBe(0);
    await until([c], () => events.length === 2, 'UNSUBACK');
    await js.publishAsync('m5/unsub', 'after', { qos: 1 });
    // A later round trip proves nothing more is on the way for the old filter.
    c.subscribe('m5/unsub/probe', 0, null);
    await until([c], () => events.length === 3, 'a later SUBACK');
    expect(events).toEqual(['sub m5/unsub 1', 'unsub m5/unsub 0', 'sub m5/unsub/probe 0']);
    expect(got).toEqual(['before']);
    expect(lost).toEqual([]);
    expect(c.state).toBe(ClientState.Connected);
  });

  it('a session kept by Session Expiry Interval delivers what was published while the client was away', async () => {
    const id = `m5-session-${process.pid}`;
    let subscribed = false;
    const first = client({ clientId: id, cleanSession: false, properties: { sessionExpiryInterval: 300 }, onSubscribed: () => (subscribed = true) });
    await connected(first);
    first.subscribe('m5/session', 1, null);
    await until([first], () => subscribed, 'SUBACK');
    first.disconnect();
    const js = await mqtt.connectAsync(broker.url, { protocolVersion: 5, clientId: `m5pub-${process.pid}`, reconnectPeriod: 0 });
    observers.push(js);
    await js.publishAsync('m5/session', 'while away', { qos: 1 });
    const got: string[] = [];
    let present: boolean | null = null;
    const second = client({
      clientId: id,
      cleanSession: false,
      properties: { sessionExpiryInterval: 300 },
      onConnect: (_code, sp) => (present = sp),
      onMessage: (m) => got.push(m.text()),
    });
    await connected(second);
    await until([second], () => got.length === 1, 'the queued message');
    expect(present).toBe(true);
    expect(got).toEqual(['while away']);
  });
});
