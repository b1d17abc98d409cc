/**
 * MqttClient behaviour that needs a broker to act on cue (redeliver, go
 * silent, drop the link, announce limits): a scripted TCP server, and a
 * manual clock the test advances, so timers fire exactly when stated. The
 * MQTT 3.1.1 cases run against the lean MqttLite too.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { MqttClient, ClientState, type MqttClientOptions } from '../../src/mqtt/client';
import { NodeTcpTransport } from '../../src/platform/node/tcp';
import { Status } from '../../src/core/status';
import { ScriptedBroker, type Received } from './scripted-broker';
import { IMPLS, type MqttLite } from '../support/impls';

const brokers: ScriptedBroker[] = [];
const clients: MqttLite[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) c.disconnect();
  await Promise.all(brokers.splice(0).map((b) => b.close()));
});

async function scripted(version: number): Promise<ScriptedBroker> {
  const b = new ScriptedBroker(version);
  await b.listen();
  brokers.push(b);
  return b;
}

/** The filter of a one-filter 3.1.1 SUBSCRIBE (short: a 1-byte Remaining Length). */
function filterOf(r: Received): string {
  return Buffer.from(r.bytes.subarray(6, 6 + ((r.bytes[4] << 8) | r.bytes[5]))).toString();
}

/**
 * A transport to `b` that, once armed, takes the next CONNECT and then nothing for 20 calls
 * (a link whose buffers are full just as the session comes back), then everything again.
 */
function stallingTransport(b: ScriptedBroker): { transport: NodeTcpTransport; stallAfterConnect: () => void; stalls: () => number } {
  const transport = new NodeTcpTransport({ host: '127.0.0.1', port: b.port });
  const send = transport.send.bind(transport);
  let armed = false;
  let stalled = -1;
  transport.send = (buf, off, len) => {
    if (armed && buf[off] >> 4 === 1) {
      armed = false;
      stalled = 0;
      return send(buf, off, len);
    }
    if (stalled >= 0 && stalled < 20) {
      stalled++;
      return 0;
    }
    return send(buf, off, len);
  };
  return { transport, stallAfterConnect: () => (armed = true), stalls: () => stalled };
}

/**
 * A transport to `b` that takes at most `gate.budget` more bytes: Infinity (the start) takes
 * everything, 0 nothing (a link whose buffers are full); the test sets it as it goes.
 */
function gatedTransport(b: ScriptedBroker): { transport: NodeTcpTransport; gate: { budget: number } } {
  const transport = new NodeTcpTransport({ host: '127.0.0.1', port: b.port });
  const send = transport.send.bind(transport);
  const gate = { budget: Infinity };
  transport.send = (buf, off, len) => {
    const n = Math.min(len, gate.budget);
    gate.budget -= n;
    return n > 0 ? send(buf, off, n) : 0;
  };
  return { transport, gate };
}

/** A client on a manual clock: `t.now` is what poll sees. */
function make<C extends MqttLite = MqttClient>(
  b: ScriptedBroker,
  opts: Partial<MqttClientOptions> = {},
  build: (o: MqttClientOptions) => C = (o) => new MqttClient(o) as unknown as C,
) {
  const t = { now: 1000 };
  const c = build({
    transport: new NodeTcpTransport({ host: '127.0.0.1', port: b.port }),
    clientId: 'scripted',
    version: b.version,
    keepAlive: 10,
    random: () => 0.5,
    ...opts,
  });
  clients.push(c);
  /** Polls (without moving the clock) until `check()` holds. */
  const until = (check: () => boolean, what: string, ms = 5000): Promise<void> =>
    new Promise((resolve, reject) => {
      const deadline = Date.now() + ms;
      const tick = (): void => {
        c.poll(t.now);
        if (check()) return resolve();
        if (Date.now() > deadline) return reject(new Error('timed out waiting for ' + what));
        setImmediate(tick);
      };
      tick();
    });
  const connect = async (): Promise<void> => {
    c.start(t.now);
    await until(() => c.state === ClientState.Connected, 'CONNACK');
  };
  return { c, t, until, connect };
}

for (const impl of IMPLS) {
  describe(`${impl.name} › inbound QoS 2 (MQTT 3.1.1 §4.3.3)`, () => {
    it('a redelivered PUBLISH (DUP) before PUBREL is acknowledged again but delivered once', async () => {
      const b = await scripted(4);
      const got: string[] = [];
      const { c, until, connect } = make(b, { onMessage: (m) => got.push(m.text()) }, impl.make);
      await connect();
      b.send({ type: 3, topic: 'x', payload: 'once', qos: 2, packetId: 7 });
      await until(() => b.of(5).length === 1, 'first PUBREC');
      b.send({ type: 3, topic: 'x', payload: 'once', qos: 2, packetId: 7, dup: true });
      await until(() => b.of(5).length === 2, 'second PUBREC');
      expect(got).toEqual(['once']);
      b.send({ type: 6, packetId: 7 });
      await until(() => b.of(7).length === 1, 'PUBCOMP');
      // Released: the same packet id now carries a new message.
      b.send({ type: 3, topic: 'x', payload: 'again', qos: 2, packetId: 7 });
      await until(() => got.length === 2, 'the new message');
      expect(got).toEqual(['once', 'again']);
      expect(c.state).toBe(ClientState.Connected);
    });
  });

  describe(`${impl.name} › resend on reconnect (MQTT 3.1.1 §4.4, §4.6)`, () => {
    it('with a session present, unacknowledged PUBLISHes go again with DUP in original order, and PUBREL is re-sent', async () => {
      const b = await scripted(4);
      b.autoAck = false;
      const { c, t, until, connect } = make(b, { cleanSession: false }, impl.make);
      await connect();
      const a = c.publish('t/a', 'A', 1, false);
      const q2 = c.publish('t/b', 'B', 2, false);
      const q3 = c.publish('t/c', 'C', 2, false);
      await until(() => b.of(3).length === 3, 'three PUBLISHes');
      b.send({ type: 5, packetId: q3 }); // PUBREC for the last one only
      await until(() => b.of(6).length === 1, 'PUBREL');
      b.connack = { type: 2, sessionPresent: true, reasonCode: 0 };
      b.drop();
      await until(() => c.state === ClientState.Waiting, 'the loss noticed');
      t.now += 60_000; // past any reconnect delay
      await until(() => b.connections === 2 && c.state === ClientState.Connected, 'reconnected');
      await until(() => b.received.filter((r) => r.conn === 2 && r.type !== 1).length === 3, 'the resends');
      const resent = b.received.filter((r) => r.conn === 2 && r.type !== 1);
      expect(resent.map((r) => [r.type, r.packetId, r.dup])).toEqual([
        [3, a, true],
        [3, q2, true],
        [6, q3, false],
      ]);
      expect(resent.map((r) => r.payload).slice(0, 2)).toEqual(['A', 'B']);
    });

    it('with a session present and a transport that takes nothing for a while after the CONNECT, every unacknowledged PUBLISH still goes again, in order', async () => {
      const b = await scripted(4);
      b.autoAck = false;
      const { transport, stallAfterConnect, stalls } = stallingTransport(b);
      const { c, t, until, connect } = make(b, { transport, cleanSession: false, maxPacketSize: 64, queueSize: 8, maxInflight: 8 }, impl.make);
      await connect();
      const ids: number[] = [];
      for (let i = 0; i < 8; i++) ids.push(c.publish(`t/${i}`, 'x'.repeat(40), 1, false));
      await until(() => b.of(3).length === 8, 'eight PUBLISHes');
      b.connack = { type: 2, sessionPresent: true, reasonCode: 0 };
      b.drop();
      await until(() => c.state === ClientState.Waiting, 'the loss noticed');
      stallAfterConnect();
      t.now += 60_000;
      await until(() => b.connections === 2 && b.received.filter((r) => r.conn === 2 && r.type === 3).length === 8, 'all eight sent again', 10_000);
      const resent = b.received.filter((r) => r.conn === 2 && r.type === 3);
      expect(resent.map((r) => [r.packetId, r.dup])).toEqual(ids.map((id) => [id, true]));
      expect(stalls()).toBe(20); // the transport did refuse everything for a while
    });

    it('with a session present and a transport that takes nothing for a while after the CONNECT, unanswered SUBSCRIBEs and every due PUBREL still go again', async () => {
      const b = await scripted(4);
      b.autoAck = false;
      b.answerSubscribes = false;
      const { transport, stallAfterConnect, stalls } = stallingTransport(b);
      const { c, t, until, connect } = make(b, { transport, cleanSession: false, maxPacketSize: 64, queueSize: 8, maxInflight: 8 }, impl.make);
      await connect();
      const filters = ['f/' + 'a'.repeat(55), 'f/' + 'b'.repeat(55)]; // 64-byte SUBSCRIBEs: two fill the output
      for (const f of filters) expect(c.subscribe(f, 1, null)).toBe(0);
      const ids: number[] = [];
      for (let i = 0; i < 6; i++) ids.push(c.publish(`t/${i}`, 'x', 2, false));
      await until(() => b.of(3).length === 6 && b.of(8).length === 2, 'six PUBLISHes and two SUBSCRIBEs');
      for (const id of ids) b.send({ type: 5, packetId: id }); // PUBREC each
      await until(() => b.of(6).length === 6, 'six PUBRELs');
      b.connack = { type: 2, sessionPresent: true, reasonCode: 0 };
      b.drop();
      await until(() => c.state === ClientState.Waiting, 'the loss noticed');
      stallAfterConnect();
      t.now += 60_000;
      await until(() => b.received.filter((r) => r.conn === 2 && (r.type === 6 || r.type === 8)).length === 8, 'both SUBSCRIBEs and all six PUBRELs again', 10_000);
      const again = b.received.filter((r) => r.conn === 2 && r.type !== 1);
      expect(again.map((r) => r.type)).toEqual([8, 8, 6, 6, 6, 6, 6, 6]);
      expect(again.slice(2).map((r) => r.packetId)).toEqual(ids);
      expect(stalls()).toBe(20);
    });

    it('without a session, unacknowledged messages are sent again as new ones and subscriptions renewed', async () => {
      const b = await scripted(4);
      b.autoAck = false;
      const { c, t, until, connect } = make(b, {}, impl.make);
      await connect();
      c.subscribe('cmd/#', 1, null);
      const id = c.publish('t/a', 'A', 1, false);
      await until(() => b.of(3).length === 1 && b.of(8).length === 1, 'PUBLISH and SUBSCRIBE');
      b.autoAck = true;
      b.drop();
      await until(() => c.state === ClientState.Waiting, 'the loss noticed');
      t.now += 60_000;
      await until(() => c.state === ClientState.Connected && c.pending === 0, 'reconnected and acknowledged');
      const second = b.received.filter((r) => r.conn === 2);
      expect(second.map((r) => r.type)).toEqual([1, 8, 3]);
      expect(second[2]).toMatchObject({ packetId: id, payload: 'A', dup: false });
    });
  });

  describe(`${impl.name} › order on the wire (MQTT 3.1.1 §4.6)`, () => {
    it('publishes queued before connecting go out in the order they were made, whatever their QoS', async () => {
      const b = await scripted(4);
      const { c, until, connect } = make(b, {}, impl.make);
      for (let i = 0; i < 6; i++) c.publish('t', 'm' + i, i % 3, false);
      await connect();
      await until(() => b.of(3).length === 6, 'six PUBLISHes');
      expect(b.of(3).map((r) => r.payload)).toEqual(['m0', 'm1', 'm2', 'm3', 'm4', 'm5']);
    });
  });

  describe(`${impl.name} › keep-alive (MQTT 3.1.1 §3.1.2.10)`, () => {
    /** Still connected `ms` from now, and 1 ms later the link declared dead (Status.Timeout). */
    function deadAfter(c: MqttLite, t: { now: number }, reasons: number[], ms: number): void {
      t.now += ms;
      c.poll(t.now);
      expect(c.state).toBe(ClientState.Connected);
      t.now += 1;
      c.poll(t.now);
      expect(c.state).toBe(ClientState.Waiting);
      expect(reasons).toEqual([-13]); // Status.Timeout
    }

    it('sends PINGREQ after a keep-alive period of silence and declares the link dead without PINGRESP', async () => {
      const b = await scripted(4);
      b.answerPings = false;
      const reasons: number[] = [];
      const { c, t, until, connect } = make(b, { keepAlive: 2, onDisconnect: (r) => reasons.push(r) }, impl.make);
      await connect();
      t.now += 1999;
      c.poll(t.now);
      expect(b.of(12)).toHaveLength(0);
      t.now += 1;
      await until(() => b.of(12).length === 1, 'PINGREQ');
      deadAfter(c, t, reasons, 2000);
    });

    it('declares the link dead when the output is so stuck that not even the PINGREQ can be written: one keep-alive period after it was due', async () => {
      const b = await scripted(4);
      const { transport, gate } = gatedTransport(b);
      const reasons: number[] = [];
      const { c, t, connect } = make(b, { transport, keepAlive: 2, maxPacketSize: 64, onDisconnect: (r) => reasons.push(r) }, impl.make);
      await connect();
      gate.budget = 0;
      // 62 + 62 bytes: all the 128-byte output takes but the 4 bytes kept for acknowledgements.
      c.publish('t', 'a'.repeat(57), 0, false);
      c.publish('t', 'b'.repeat(57), 0, false);
      c.poll(t.now);
      t.now += 2000; // the PINGREQ is due, and does not fit
      c.poll(t.now);
      deadAfter(c, t, reasons, 2000);
      expect(b.of(12)).toHaveLength(0);
    });
  });

  describe(`${impl.name} › reconnect back-off`, () => {
    it('waits a doubling, jittered delay between attempts and resets it after a success', async () => {
      const b = await scripted(4);
      b.connack = { type: 2, sessionPresent: false, reasonCode: 5 }; // not authorized
      const codes: number[] = [];
      const { c, t, until } = make(b, { reconnectMin: 1000, reconnectMax: 4000, onConnect: (code) => codes.push(code) }, impl.make);
      c.start(t.now);
      // random() = 0.5 gives delays of 3/4 of 1000, 2000, 4000, 4000 ms.
      for (const [n, delay] of [
        [1, 750],
        [2, 1500],
        [3, 3000],
        [4, 3000],
      ]) {
        await until(() => b.connections === n && c.state === ClientState.Waiting, `refusal ${n}`);
        t.now += delay - 1;
        c.poll(t.now);
        expect(c.state).toBe(ClientState.Waiting);
        t.now += 1;
        c.poll(t.now);
        expect(c.state).not.toBe(ClientState.Waiting);
      }
      expect(codes.slice(0, 4)).toEqual([5, 5, 5, 5]);
      b.connack = { type: 2, sessionPresent: false, reasonCode: 0 };
      await until(() => c.state === ClientState.Connected, 'accepted');
      b.drop();
      await until(() => c.state === ClientState.Waiting, 'loss');
      t.now += 749;
      c.poll(t.now);
      expect(c.state).toBe(ClientState.Waiting);
      t.now += 1;
      c.poll(t.now);
      expect(c.state).not.toBe(ClientState.Waiting);
    });
  });

  describe(`${impl.name} › offline queue overflow`, () => {
    it('drops the oldest queued QoS 0 message first, counts it, and refuses QoS 1 when only QoS 1/2 remain', async () => {
      const b = await scripted(4);
      const drops: number[] = [];
      const { c } = make(b, { queueSize: 3, onDropped: (n) => drops.push(n) }, impl.make);
      expect(c.publish('t', 'a0', 0, false)).toBe(0);
      expect(c.publish('t', 'b1', 1, false)).toBeGreaterThan(0);
      expect(c.publish('t', 'c0', 0, false)).toBe(0);
      expect(c.publish('t', 'd1', 1, false)).toBeGreaterThan(0); // drops a0
      expect(drops).toEqual([1]);
      expect(c.publish('t', 'e1', 1, false)).toBeGreaterThan(0); // drops c0
      expect(drops).toEqual([1, 2]);
      expect(c.publish('t', 'f1', 1, false)).toBe(-11); // Status.Full: b1, d1, e1 are kept
      expect(c.publish('t', 'g0', 0, false)).toBe(-11);
      expect(c.droppedCount).toBe(2);
      expect(c.pending).toBe(3);
    });

    it('a message too large to send is refused (TooLarge) before anything queued is dropped for it', async () => {
      const b = await scripted(4);
      const drops: number[] = [];
      const { c } = make(b, { queueSize: 2, maxPacketSize: 64, onDropped: (n) => drops.push(n) }, impl.make);
      expect(c.publish('t', 'a0', 0, false)).toBe(0);
      expect(c.publish('t', 'b0', 0, false)).toBe(0);
      expect(c.publish('t', 'x'.repeat(100), 0, false)).toBe(-8);
      expect(drops).toEqual([]);
      expect(c.pending).toBe(2);
    });
  });

  describe(`${impl.name} › subscriptions with a kept session (3.1.1 §3.2.2.2)`, () => {
    it('a subscription made before the CONNACK is sent even when the server says it kept the session', async () => {
      const b = await scripted(4);
      b.connack = { type: 2, sessionPresent: true, reasonCode: 0 };
      const subs: string[] = [];
      const { c, until } = make(b, { cleanSession: false, onSubscribed: (f, code) => subs.push(`${f} ${code}`) }, impl.make);
      c.start(1000);
      expect(c.subscribe('cmd/#', 1, null)).toBe(0);
      await until(() => subs.length === 1, 'the SUBACK');
      expect(b.of(8).map(filterOf)).toEqual(['cmd/#']);
      expect(subs).toEqual(['cmd/# 1']);
    });

    it('a SUBSCRIBE whose SUBACK the lost link took is sent again after the reconnect, session or not; an acknowledged one is not', async () => {
      const b = await scripted(4);
      b.connack = { type: 2, sessionPresent: true, reasonCode: 0 };
      const subs: string[] = [];
      const { c, t, until, connect } = make(b, { cleanSession: false, onSubscribed: (f, code) => subs.push(`${f} ${code}`) }, impl.make);
      await connect();
      c.subscribe('done/#', 1, null);
      await until(() => subs.length === 1, 'the first SUBACK');
      b.answerSubscribes = false;
      c.subscribe('lost/#', 1, null);
      await until(() => b.of(8).length === 2, 'the second SUBSCRIBE');
      b.answerSubscribes = true;
      b.drop();
      await until(() => c.state === ClientState.Waiting, 'the link dropped');
      t.now += 60_000;
      await until(() => subs.length === 2, 'the SUBACK after the reconnect');
      expect(b.of(8).map((r) => `${r.conn} ${filterOf(r)}`)).toEqual(['1 done/#', '1 lost/#', '2 lost/#']);
      expect(subs).toEqual(['done/# 1', 'lost/# 1']);
    });

    it('a late SUBACK for a SUBSCRIBE replaced offline is not reported', async () => {
      const b = await scripted(4);
      b.connack = { type: 2, sessionPresent: true, reasonCode: 0 };
      b.answerSubscribes = false;
      const subs: string[] = [];
      const { c, t, until, connect } = make(b, { cleanSession: false, onSubscribed: (f, code) => subs.push(`${f} ${code}`) }, impl.make);
      await connect();
      c.subscribe('a/#', 1, null);
      await until(() => b.of(8).length === 1, 'the SUBSCRIBE');
      const old = b.of(8)[0].packetId;
      b.drop();
      await until(() => c.state === ClientState.Waiting, 'the link dropped');
      c.subscribe('a/#', 0, null); // replaced while offline: the old SUBSCRIBE's answer means nothing now
      t.now += 60_000;
      await until(() => b.of(8).length === 2 && c.state === ClientState.Connected, 'the new SUBSCRIBE');
      b.send({ type: 9, packetId: old, reasonCodes: [1] });
      b.send({ type: 9, packetId: b.of(8)[1].packetId, reasonCodes: [0] });
      await until(() => subs.length > 0, 'a SUBACK reported');
      c.poll(t.now);
      expect(subs).toEqual(['a/# 0']);
    });
  });

  describe(`${impl.name} › an UNSUBSCRIBE the lost link left unanswered`, () => {
    for (const present of [true, false]) {
      it(present ? 'is sent again to a kept session, and its UNSUBACK reported once' : 'is done when the session is gone: reported, not sent again', async () => {
        const b = await scripted(4);
        b.connack = { type: 2, sessionPresent: present, reasonCode: 0 };
        const events: string[] = [];
        const { c, t, until, connect } = make(
          b,
          { cleanSession: !present, onSubscribed: (f) => events.push('sub ' + f), onUnsubscribed: (f, code) => events.push(`unsub ${f} ${code}`) },
          impl.make,
        );
        await connect();
        c.subscribe('a/#', 1, null);
        await until(() => events.length === 1, 'the SUBACK');
        b.answerUnsubscribes = false;
        expect(c.unsubscribe('a/#')).toBe(0);
        await until(() => b.of(10).length === 1, 'the UNSUBSCRIBE');
        b.answerUnsubscribes = true;
        b.drop();
        await until(() => c.state === ClientState.Waiting, 'the link dropped');
        t.now += 60_000;
        await until(() => c.state === ClientState.Connected && events.length === 2, 'the UNSUBSCRIBE done');
        c.poll(t.now);
        expect(events).toEqual(['sub a/#', 'unsub a/# 0']);
        expect(b.of(10).map((r) => r.conn)).toEqual(present ? [1, 2] : [1]);
        expect(b.of(8).map((r) => r.conn)).toEqual([1]); // and the subscription is not renewed
      });
    }
  });

  describe(`${impl.name} › the application inside its callbacks`, () => {
    it('poll() called from onMessage, with another message waiting: the QoS 1 message is still acknowledged', async () => {
      const b = await scripted(4);
      const got: string[] = [];
      const holder: { c?: { poll(n: number): void } } = {};
      const { c, t, until, connect } = make(b, { onMessage: (m) => (got.push(m.text()), holder.c!.poll(t.now)) }, impl.make);
      holder.c = c;
      await connect();
      // Two PUBLISHes in one write: the poll inside the first callback does not read (no re-entry); the loop it returns to handles the second.
      b.sendRaw(Uint8Array.from([...b.encode({ type: 3, topic: 'x', payload: 'one', qos: 1, packetId: 7 }), ...b.encode({ type: 3, topic: 'x', payload: 'two', qos: 0 })]));
      await until(() => got.length === 2 && b.of(4).length === 1, 'both messages and the PUBACK');
      expect(got).toEqual(['one', 'two']);
      expect(b.of(4)[0].packetId).toBe(7);
    });

    it('disconnect() called from onMessage: the client stays idle, it does not reconnect', async () => {
      const b = await scripted(4);
      const holder: { c?: { disconnect(): number } } = {};
      const { c, t, until, connect } = make(b, { onMessage: () => holder.c!.disconnect() }, impl.make);
      holder.c = c;
      await connect();
      b.send({ type: 3, topic: 'x', payload: 'bye', qos: 1, packetId: 9 });
      await until(() => c.state === ClientState.Idle, 'idle');
      t.now += 120_000;
      for (let i = 0; i < 20; i++) c.poll(t.now);
      expect(c.state).toBe(ClientState.Idle);
      expect(b.connections).toBe(1);
    });
  });

  describe(`${impl.name} › backpressure (writable, onWritable)`, () => {
    it('while the transport takes nothing, writable is false and publishes wait; when it takes again, onWritable fires once and everything goes out in order', async () => {
      const b = await scripted(4);
      const { transport, gate } = gatedTransport(b);
      let writable = 0;
      const { c, until, connect } = make(b, { transport, maxPacketSize: 64, queueSize: 8, onWritable: () => writable++ }, impl.make);
      await connect();
      expect(c.writable).toBe(true);
      gate.budget = 0;
      const ids: number[] = [];
      for (let i = 0; i < 8; i++) ids.push(c.publish(`t/${i}`, 'y'.repeat(30), i % 2, false));
      for (let i = 0; i < 5; i++) c.poll(1000);
      expect(c.writable).toBe(false);
      expect(writable).toBe(0);
      expect(b.of(3)).toHaveLength(0);
      gate.budget = Infinity;
      await until(() => b.of(3).length === 8, 'the eight PUBLISHes');
      expect(writable).toBe(1);
      expect(c.writable).toBe(true);
      expect(b.of(3).map((r) => r.topic)).toEqual([...Array(8).keys()].map((i) => `t/${i}`));
      expect(b.of(3).filter((r) => r.qos === 1).map((r) => r.packetId)).toEqual(ids.filter((_, i) => i % 2));
    });
  });

  describe(`${impl.name} › publishing from onWritable`, () => {
    it('a publish inside onWritable, while queued messages wait, sends each message once', async () => {
      const b = await scripted(4);
      b.autoAck = false;
      const { transport, gate } = gatedTransport(b);
      let extra = -1;
      const holder: { c: MqttLite | null } = { c: null };
      const { c, until, connect } = make(
        b,
        { transport, maxPacketSize: 64, queueSize: 8, maxInflight: 8, onWritable: () => extra < 0 && (extra = holder.c!.publish('w', 'z', 1, false)) },
        impl.make,
      );
      holder.c = c;
      await connect();
      gate.budget = 70; // one and a bit of the first 64-byte PUBLISHes
      const ids: number[] = [];
      for (let i = 0; i < 4; i++) ids.push(c.publish(`t/${i}`, 'y'.repeat(54), 1, false));
      for (let i = 0; i < 5; i++) c.poll(1000);
      gate.budget = Infinity;
      await until(() => extra > 0 && b.of(3).length >= 5, 'the four messages and the one from onWritable');
      // A marker behind them: once it is in, any duplicate sent before it is in too (one TCP stream).
      c.publish('marker', 'm', 0, false);
      await until(() => b.of(3).some((r) => r.topic === 'marker'), 'the marker');
      const got = b.of(3)
        .filter((r) => r.topic !== 'marker')
        .map((r) => r.packetId);
      expect([...got].sort((x, y) => x - y)).toEqual([...ids, extra].sort((x, y) => x - y));
    });
  });

  describe(`${impl.name} › acknowledging inbound messages under backpressure (MQTT 3.1.1 §4.3)`, () => {
    const cases: [string, (c: MqttLite) => void][] = [
      ['', () => undefined],
      [', with poll() called from onMessage and from onWritable', (c) => c.poll(1000)],
    ];
    for (const [how, reenter] of cases) {
      it(`while the transport takes nothing and the output is full but for 4 bytes, every inbound QoS 1/2 message is still acknowledged, once, in order, without a reconnect${how}`, async () => {
        const b = await scripted(4);
        const { transport, gate } = gatedTransport(b);
        const got: string[] = [];
        const holder: { c: MqttLite | null } = { c: null };
        // Each message is answered with a QoS 0 reply from inside the callback: it wants output room too.
        const { c, until, connect } = make(
          b,
          {
            transport,
            maxPacketSize: 64,
            queueSize: 4,
            onMessage: (m) => {
              got.push(m.text());
              holder.c!.publish('r', 'ok', 0, false);
              reenter(holder.c!);
            },
            onWritable: () => reenter(holder.c!),
          },
          impl.make,
        );
        holder.c = c;
        await connect();
        gate.budget = 0;
        // 62 + 62 bytes: the 128-byte output (twice maxPacketSize) as full as anything but an acknowledgement may make it.
        expect(c.publish('t', 'a'.repeat(57), 0, false)).toBe(0);
        expect(c.publish('t', 'b'.repeat(57), 0, false)).toBe(0);
        c.poll(1000);
        // 24 messages need 96 bytes of acknowledgements: all but one wait until the output drains.
        const n = 24;
        for (let i = 1; i <= n; i++) b.send({ type: 3, topic: 'in', payload: `m${i}`, qos: i % 3 === 0 ? 2 : 1, packetId: i });
        await until(() => got.length > 0, 'the first inbound message read while the output is stuck');
        for (let i = 0; i < 20; i++) {
          c.poll(1000);
          await new Promise((r) => setImmediate(r));
        }
        expect(got).toEqual(['m1']); // the others wait unread: no room for their acknowledgements
        gate.budget = Infinity;
        await until(() => b.of(4).length + b.of(5).length === n, 'an acknowledgement for each of the 24 messages');
        const acks = b.received.filter((r) => r.type === 4 || r.type === 5);
        expect(acks.map((r) => r.packetId)).toEqual([...Array(n).keys()].map((i) => i + 1));
        expect(acks.map((r) => r.type)).toEqual([...Array(n).keys()].map((i) => ((i + 1) % 3 === 0 ? 5 : 4)));
        for (const r of b.of(5)) b.send({ type: 6, packetId: r.packetId });
        await until(() => b.of(7).length === n / 3, 'a PUBCOMP for each PUBREL');
        expect(got).toEqual([...Array(n).keys()].map((i) => `m${i + 1}`));
        expect(b.connections).toBe(1);
        expect(c.state).toBe(ClientState.Connected);
      });
    }

    it('a resend the transport makes room for inside onMessage does not take the room its acknowledgement was read with', async () => {
      const b = await scripted(4);
      b.autoAck = false;
      b.answerSubscribes = false;
      const { transport, gate } = gatedTransport(b);
      const gated = transport.send.bind(transport);
      let armed = false;
      transport.send = (buf, off, len) => {
        if (armed && buf[off] >> 4 === 1) {
          armed = false; // the CONNECT goes whole; then nothing, until onMessage lets 8 bytes through
          const n = gated(buf, off, len);
          gate.budget = 0;
          return n;
        }
        return gated(buf, off, len);
      };
      const got: string[] = [];
      const holder: { c: MqttLite | null } = { c: null };
      const { c, t, until, connect } = make(
        b,
        {
          transport,
          cleanSession: false,
          maxPacketSize: 64,
          queueSize: 4,
          onMessage: (m) => {
            got.push(m.text());
            gate.budget = 8;
            holder.c!.publish('r', 'k', 0, false);
          },
        },
        impl.make,
      );
      holder.c = c;
      await connect();
      // Two 34-byte SUBSCRIBEs, never answered, and a 62-byte PUBLISH, never acknowledged.
      expect(c.subscribe('f/' + 'a'.repeat(25), 1, null)).toBe(0);
      expect(c.subscribe('f/' + 'b'.repeat(25), 1, null)).toBe(0);
      const a = c.publish('t', 'a'.repeat(57), 1, false);
      // And a QoS 2 message whose PUBCOMP never came: its PUBREL is due again after the reconnect.
      const q2 = c.publish('u', 'b', 2, false);
      await until(() => b.of(8).length === 2 && b.of(3).length === 2, 'the SUBSCRIBEs and the PUBLISHes');
      b.send({ type: 5, packetId: q2 });
      await until(() => b.of(6).length === 1, 'the PUBREL');
      b.connack = { type: 2, sessionPresent: true, reasonCode: 0 };
      b.drop();
      await until(() => c.state === ClientState.Waiting, 'the loss noticed');
      armed = true;
      t.now += 60_000;
      await until(() => c.state === ClientState.Connected, 'the second CONNACK');
      // The SUBSCRIBEs are sent again into the stuck output (68 of 128 bytes); the resend of the
      // PUBLISH, and the PUBREL behind it, wait for room. Then a QoS 1 message comes: inside its
      // callback the transport takes 8 bytes, and neither the resend nor the PUBREL may fill the
      // room its PUBACK was read with.
      b.send({ type: 3, topic: 'in', payload: 'm', qos: 1, packetId: 9 });
      await until(() => got.length === 1, 'the message');
      for (let i = 0; i < 10; i++) c.poll(t.now);
      gate.budget = Infinity;
      await until(() => ['4', '3', '6'].every((ty) => b.received.some((r) => r.conn === 2 && r.type === +ty)), 'the PUBACK, the resend and the PUBREL');
      expect(b.received.filter((r) => r.conn === 2 && r.type === 4).map((r) => r.packetId)).toEqual([9]);
      expect(b.received.filter((r) => r.conn === 2 && r.type === 6).map((r) => r.packetId)).toEqual([q2]);
      const resent = b.received.filter((r) => r.conn === 2 && r.type === 3 && r.topic === 't');
      expect(resent.map((r) => [r.packetId, r.dup])).toEqual([[a, true]]);
      expect(b.connections).toBe(2);
    });
  });

  describe(`${impl.name} › what the application gives it`, () => {
    it('a CONNECT the transport takes a few bytes at a time still goes out whole, and the session comes up', async () => {
      const b = await scripted(4);
      const transport = new NodeTcpTransport({ host: '127.0.0.1', port: b.port });
      const send = transport.send.bind(transport);
      let calls = 0;
      // 5 bytes, then "full" until the next try: the rest waits for the client's next flush.
      transport.send = (buf, off, len) => (calls++ % 2 ? 0 : send(buf, off, Math.min(len, 5)));
      const { c, until } = make(b, { transport, username: 'user-name', password: 'secret' }, impl.make);
      c.start(1000);
      await until(() => c.state === ClientState.Connected, 'CONNACK');
      expect(b.of(1)).toHaveLength(1);
    });

    it('refuses a bad filter or QoS before it connects too, and what it was given offline goes out once connected', async () => {
      const b = await scripted(4);
      const { c, until, connect } = make(b, {}, impl.make);
      expect(c.subscribe('a/#/b', 1, null)).toBe(-10); // InvalidTopic
      expect(c.subscribe('a/+', 3, null)).toBe(-5); // BadParameter
      expect(c.subscribe('a/+', 1, null)).toBe(0);
      const id = c.publish('t', 'x', 1, false);
      await connect();
      await until(() => b.of(8).length === 1 && b.of(3).length === 1, 'the SUBSCRIBE and the PUBLISH');
      expect(b.of(3)[0].packetId).toBe(id);
    });

    it('refuses filters with misplaced wildcards and a QoS out of range; a publish above QoS 2 goes as QoS 2', async () => {
      const b = await scripted(4);
      const { c, until, connect } = make(b, {}, impl.make);
      await connect();
      expect(['a/#/b', 'a+', 'a/b#', '#/a', 'x\u0000'].map((f) => c.subscribe(f, 1, null))).toEqual([-10, -10, -10, -10, -10]); // InvalidTopic
      expect(c.subscribe('a/+', 3, null)).toBe(-5); // BadParameter
      expect(c.subscribe('+/a/#', 2, null)).toBe(0);
      expect(c.publish('t', 'x', 3, false)).toBeGreaterThan(0);
      await until(() => b.of(3).length === 1 && b.of(8).length === 1, 'the PUBLISH and the one SUBSCRIBE');
      expect(b.of(3)[0].qos).toBe(2);
      expect(c.state).toBe(ClientState.Connected);
    });

    it('a CONNECT that can never be written (a lone surrogate; larger than the send buffer) is not sent, and the client gives up and says why', async () => {
      for (const [opts, why] of [
        [{ username: 'bad\ud800' }, Status.InvalidUtf8],
        [{ maxPacketSize: 64, will: { topic: 'w', payload: 'x'.repeat(120), qos: 0, retain: false } }, Status.TooLarge],
      ] as [Partial<MqttClientOptions>, number][]) {
        const b = await scripted(4);
        const reasons: number[] = [];
        const { c, t, until } = make(b, { ...opts, onDisconnect: (r) => reasons.push(r) }, impl.make);
        c.start(1000);
        await until(() => c.state === ClientState.Idle, 'the attempt given up');
        t.now += 120_000;
        for (let i = 0; i < 5; i++) c.poll(t.now);
        expect(c.state).toBe(ClientState.Idle);
        expect(reasons).toEqual([why]);
        expect(b.of(1)).toEqual([]);
        expect(b.connections).toBe(1); // opened once, never again
      }
    });

    it('maxInbound 0 takes no inbound QoS 2 message: the connection ends with Full', async () => {
      const b = await scripted(4);
      const reasons: number[] = [];
      const { c, until, connect } = make(b, { maxInbound: 0, onDisconnect: (r) => reasons.push(r) }, impl.make);
      await connect();
      b.send({ type: 3, topic: 'x', payload: 'q2', qos: 2, packetId: 3 });
      await until(() => c.state === ClientState.Waiting, 'the link dropped');
      expect(reasons).toEqual([-11]); // Status.Full
    });
  });

  describe(`${impl.name} › bad input from the server (MQTT 3.1.1)`, () => {
    const cases: [string, number[]][] = [
      ['SUBACK with packet id 0', [0x90, 0x03, 0x00, 0x00, 0x00]],
      ['UNSUBACK with packet id 0', [0xb0, 0x02, 0x00, 0x00]],
      ['PUBREL with packet id 0', [0x62, 0x02, 0x00, 0x00]],
      ['SUBACK with return code 0x03', [0x90, 0x03, 0x00, 0x01, 0x03]],
      ['PUBLISH QoS 0 with DUP', [0x38, 0x05, 0x00, 0x01, 0x74, 0x68, 0x69]],
      ['PUBLISH with + in its topic name', [0x30, 0x05, 0x00, 0x02, 0x61, 0x2b, 0x78]],
      ['PUBLISH with # in its topic name', [0x30, 0x05, 0x00, 0x02, 0x61, 0x23, 0x78]],
      ['PUBLISH with an empty topic name', [0x30, 0x03, 0x00, 0x00, 0x78]],
      ['Remaining Length not in its shortest form', [0xd0, 0x80, 0x00]],
      ['a second CONNACK', [0x20, 0x02, 0x00, 0x00]],
      ['a packet only a client sends (SUBSCRIBE)', [0x82, 0x06, 0x00, 0x01, 0x00, 0x01, 0x61, 0x00]],
      // One filter per SUBSCRIBE: one return code (§3.9.3), whatever the packet id.
      ['SUBACK with two return codes', [0x90, 0x04, 0x00, 0x07, 0x01, 0x01]],
      ['DISCONNECT (a 3.1.1 server never sends one, §3.14)', [0xe0, 0x00]],
    ];
    for (const [name, bytes] of cases) {
      it(`${name}: the connection ends, nothing is reported from it, and the client reconnects`, async () => {
        const b = await scripted(4);
        const seen: string[] = [];
        const reasons: number[] = [];
        const { c, t, until, connect } = make(
          b,
          {
            onDisconnect: (r) => reasons.push(r),
            onMessage: (m) => seen.push('message ' + m.topic()),
            onSubscribed: (f, code) => seen.push(`suback ${f} ${code}`),
            onUnsubscribed: (f) => seen.push('unsuback ' + f),
          },
          impl.make,
        );
        await connect();
        c.subscribe('a/b', 1, null);
        await until(() => seen.length === 1, 'the real SUBACK');
        seen.length = 0;
        b.sendRaw(Uint8Array.from(bytes));
        await until(() => c.state === ClientState.Waiting, 'the link dropped');
        expect(reasons).toHaveLength(1);
        expect(reasons[0]).toBeLessThan(0);
        expect(seen).toEqual([]);
        t.now += 60_000;
        await until(() => c.state === ClientState.Connected && b.connections === 2, 'reconnected');
      });
    }

    for (const [name, connack] of [
      ['a CONNACK with return code 9', [0x20, 0x02, 0x00, 0x09]],
      ['a CONNACK refusing with Session Present set', [0x20, 0x02, 0x01, 0x05]],
    ] as const) {
      it(`${name}: malformed, not reported as a refusal`, async () => {
        const b = await scripted(4);
        b.connack = null;
        const codes: number[] = [];
        const reasons: number[] = [];
        const { c, until } = make(b, { reconnect: false, onConnect: (code) => codes.push(code), onDisconnect: (r) => reasons.push(r) }, impl.make);
        c.start(1000);
        await until(() => b.of(1).length === 1, 'CONNECT');
        b.sendRaw(Uint8Array.from(connack));
        await until(() => c.state === ClientState.Idle, 'the attempt ended');
        expect(codes).toEqual([]);
        expect(reasons).toHaveLength(1);
      });
    }
  });
}

describe('MqttClient › MQTT 5 maxInbound 0 (no Receive Maximum 0, §3.1.2.11.3)', () => {
  it('announces Receive Maximum 1 and takes one inbound QoS 2 message at a time', async () => {
    const b = await scripted(5);
    const got: string[] = [];
    const { c, until, connect } = make(b, { maxInbound: 0, onMessage: (m) => got.push(m.text()) });
    await connect();
    expect(b.of(1)[0].properties.receiveMaximum).toBe(1);
    b.send({ type: 3, topic: 'x', payload: 'q2', qos: 2, packetId: 3 });
    await until(() => b.of(5).length === 1, 'the PUBREC');
    b.send({ type: 6, packetId: 3 });
    await until(() => b.of(7).length === 1, 'the PUBCOMP');
    b.send({ type: 3, topic: 'x', payload: 'again', qos: 2, packetId: 4 });
    await until(() => b.of(5).length === 2, 'the second PUBREC');
    expect(got).toEqual(['q2', 'again']);
    expect(c.state).toBe(ClientState.Connected);
    expect(b.connections).toBe(1);
  });
});

describe('MqttClient › MQTT 5 limits from CONNACK', () => {
  it('keeps no more QoS 1 messages in flight than the server Receive Maximum', async () => {
    const b = await scripted(5);
    b.connack = { type: 2, sessionPresent: false, reasonCode: 0, properties: { receiveMaximum: 2 } };
    b.autoAck = false;
    const { c, until, connect } = make(b);
    await connect();
    const ids = [1, 2, 3, 4, 5].map((i) => c.publish('t', 'm' + i, 1, false));
    await until(() => b.of(3).length === 2, 'two PUBLISHes');
    for (let i = 0; i < 20; i++) c.poll(1000);
    expect(b.of(3)).toHaveLength(2);
    b.send({ type: 4, packetId: ids[0] });
    await until(() => b.of(3).length === 3, 'the third after one PUBACK');
    expect(b.of(3).map((r) => r.payload)).toEqual(['m1', 'm2', 'm3']);
  });

  it('refuses a publish larger than the server Maximum Packet Size', async () => {
    const b = await scripted(5);
    b.connack = { type: 2, sessionPresent: false, reasonCode: 0, properties: { maximumPacketSize: 64 } };
    const { c, connect } = make(b);
    await connect();
    expect(c.publish('t', 'x'.repeat(100), 1, false)).toBe(-8); // Status.TooLarge
    expect(c.publish('t', 'x'.repeat(10), 0, false)).toBe(0);
  });

  it('assigns outbound Topic Aliases up to the server maximum and then sends topics in full', async () => {
    const b = await scripted(5);
    b.connack = { type: 2, sessionPresent: false, reasonCode: 0, properties: { topicAliasMaximum: 2 } };
    const { c, until, connect } = make(b);
    await connect();
    for (const topic of ['t/1', 't/1', 't/2', 't/2', 't/3', 't/1']) c.publish(topic, 'v', 0, false);
    await until(() => b.of(3).length === 6, 'six PUBLISHes');
    expect(b.of(3).map((r) => [r.topic, r.topicAlias])).toEqual([
      ['t/1', 1],
      ['', 1],
      ['t/2', 2],
      ['', 2],
      ['t/3', 0],
      ['', 1],
    ]);
  });

  it('resolves inbound Topic Aliases set by the server', async () => {
    const b = await scripted(5);
    const got: string[] = [];
    const { until, connect } = make(b, { onMessage: (m) => got.push(m.topic() + '=' + m.text()) });
    await connect();
    b.send({ type: 3, topic: 'sensors/a', payload: '1', qos: 0, properties: { topicAlias: 3 } });
    b.send({ type: 3, topic: '', payload: '2', qos: 0, properties: { topicAlias: 3 } });
    await until(() => got.length === 2, 'two messages');
    expect(got).toEqual(['sensors/a=1', 'sensors/a=2']);
  });
});

describe('MqttClient › UNSUBSCRIBE properties (MQTT 5.0 §3.10.2.1)', () => {
  it('MQTT 5: the User Properties given to unsubscribe() are on the wire, in order, repeats kept', async () => {
    const b = await scripted(5);
    const done: [string, number][] = [];
    const { c, until, connect } = make(b, { onUnsubscribed: (f, code) => done.push([f, code]) });
    await connect();
    c.subscribe('cmd/#', 1, null);
    await until(() => b.of(8).length === 1, 'SUBSCRIBE');
    expect(c.unsubscribe('cmd/#', ['reason', 'shutdown', 'reason', 'again'])).toBe(0);
    await until(() => done.length === 1, 'UNSUBACK');
    const u = b.of(10)[0];
    expect(u.properties).toEqual({ userProperties: ['reason', 'shutdown', 'reason', 'again'] });
    // Fixed header, packet id, then the properties: 0x26 User Property, name, value, twice.
    const props = [0x26, 0, 6, ...Buffer.from('reason'), 0, 8, ...Buffer.from('shutdown'), 0x26, 0, 6, ...Buffer.from('reason'), 0, 5, ...Buffer.from('again')];
    const rest = [u.packetId >> 8, u.packetId & 0xff, props.length, ...props, 0, 5, ...Buffer.from('cmd/#')];
    expect([...u.bytes]).toEqual([0xa2, rest.length, ...rest]);
    expect(done).toEqual([['cmd/#', 0]]);
  });

  it('MQTT 5 without properties, and MQTT 3.1.1 (which has none), send a plain UNSUBSCRIBE', async () => {
    for (const version of [5, 4]) {
      const b = await scripted(version);
      const { c, until, connect } = make(b);
      await connect();
      c.subscribe('a', 0, null);
      c.subscribe('b', 0, null);
      await until(() => b.of(8).length === 2, 'two SUBSCRIBEs');
      expect(c.unsubscribe('a')).toBe(0);
      expect(c.unsubscribe('b', ['k', 'v'])).toBe(0); // ignored by 3.1.1
      await until(() => b.of(10).length === 2, 'two UNSUBSCRIBEs');
      for (const [i, u] of b.of(10).entries()) {
        const filter = i === 0 ? 'a' : 'b';
        const head = version === 5 ? [u.packetId >> 8, u.packetId & 0xff, ...(i === 0 ? [0] : [7, 0x26, 0, 1, 0x6b, 0, 1, 0x76])] : [u.packetId >> 8, u.packetId & 0xff];
        expect([...u.bytes]).toEqual([0xa2, head.length + 3, ...head, 0, 1, filter.charCodeAt(0)]);
      }
      c.disconnect();
    }
  });
});

describe('MqttClient › MQTT 5 reason codes and strings', () => {
  it('a refused publish reports the PUBACK reason code, and reasonString() gives its Reason String in the callback', async () => {
    const b = await scripted(5);
    b.autoAck = false;
    const seen: [number, number, string | null][] = [];
    const holder: { c?: MqttClient } = {};
    const { c, until, connect } = make(b, { onPublished: (id, code) => seen.push([id, code, holder.c!.reasonString()]) });
    holder.c = c;
    await connect();
    const id = c.publish('secret/t', 'x', 1, false);
    await until(() => b.of(3).length === 1, 'PUBLISH');
    b.send({ type: 4, packetId: id, reasonCode: 0x87, properties: { reasonString: 'not authorized to publish' } });
    await until(() => seen.length === 1, 'the completion');
    expect(seen).toEqual([[id, 0x87, 'not authorized to publish']]);
    expect(c.pending).toBe(0);
  });
});

describe('MqttClient › bad input from the server', () => {
  it('a malformed packet ends the connection (MQTT 5: DISCONNECT 0x81) and the client reconnects', async () => {
    const b = await scripted(5);
    const { c, t, until, connect } = make(b);
    await connect();
    b.sendRaw(Uint8Array.of(0x36, 0x03, 0x00, 0x01, 0x74)); // PUBLISH with QoS 3
    await until(() => c.state === ClientState.Waiting, 'the link dropped');
    await until(() => b.of(14).length > 0, 'the DISCONNECT at the server');
    expect(b.of(14).map((r) => r.reasonCode)).toEqual([0x81]);
    t.now += 60_000;
    await until(() => c.state === ClientState.Connected && b.connections === 2, 'reconnected');
  });

  it('a SUBACK with two reason codes for its one filter is a protocol error (DISCONNECT 0x82), properties or not', async () => {
    const b = await scripted(5);
    const reasons: number[] = [];
    const subs: number[] = [];
    const { c, until, connect } = make(b, { onDisconnect: (r) => reasons.push(r), onSubscribed: (_f, code) => subs.push(code) });
    await connect();
    // Packet id 7 (none outstanding), Property Length 0, then two reason codes (§3.9.3: one per filter).
    b.sendRaw(Uint8Array.of(0x90, 0x05, 0x00, 0x07, 0x00, 0x00, 0x00));
    await until(() => c.state === ClientState.Waiting, 'the link dropped');
    await until(() => b.of(14).length > 0, 'the DISCONNECT at the server');
    expect(b.of(14).map((r) => r.reasonCode)).toEqual([0x82]);
    expect(reasons).toEqual([Status.ProtocolError]);
    expect(subs).toEqual([]);
  });
});
