/**
 * The fieldmq codec and a transport bridge running in the REAL Moddable XS
 * engine (@agoric/xsnap's xsnap-worker, built from Moddable's XS sources),
 * driven by the XS harness (test/support/xs.ts) against a real Mosquitto
 * (test/support/mosquitto.ts). Nothing is faked in the MQTT path: XS encodes
 * CONNECT and PUBLISH with the bundled codec, the bridge moves the bytes over
 * a real TCP socket, Mosquitto answers, XS decodes CONNACK and PUBACK, and an
 * MQTT.js subscriber on the host receives the message. The second exchange
 * runs the Moddable adapter (src/platform/moddable/tcp.ts) in XS over
 * `BridgeTCP`, an ECMA-419 TCP socket class built on the same bridge (the
 * one stand-in: xsnap has no `embedded:io/socket/tcp`).
 */
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requireMosquitto, startMosquitto, type MosquittoBroker } from '../support/mosquitto';
import { bundleForXs, requireXs, runInXs, XsRunError } from '../support/xs';

const runXs = requireXs();
const runBroker = requireMosquitto();

let fieldmq = '';
beforeAll(async () => {
  if (runXs) fieldmq = await bundleForXs('src/index.ts', 'fieldmq');
});

describe.skipIf(!runXs)('XS harness', () => {
  it('runs code in XS: print and xsHost.log reach output, done returns the result, the clock is the host clock', async () => {
    const code = `
      globalThis.basics = (host) => {
        let first = -1, polls = 0;
        return {
          poll(now) {
            if (first < 0) { first = now; print('engine', typeof harden, typeof setTimeout); }
            polls++;
            if (((now - first) >>> 0) >= 20) {
              host.log('polls ' + polls);
              host.done({ elapsed: (now - first) >>> 0, polls, uint32: now === (now >>> 0) });
            }
          },
        };
      };`;
    const r = await runInXs(code, 'basics', { timeoutMs: 10_000 });
    expect(r.output[0]).toBe('engine function undefined'); // XS under SES: harden, no setTimeout
    expect(r.output[1]).toMatch(/^polls \d+$/);
    const res = r.result as { elapsed: number; polls: number; uint32: boolean };
    expect(res.elapsed).toBeGreaterThanOrEqual(20);
    expect(res.uint32).toBe(true);
  });

  it('clock › started just below 2^32 › wraps, and elapsed() from the bundle measures across it', async () => {
    const code =
      fieldmq +
      `
      globalThis.wrap = (host) => {
        let first = -1;
        return {
          poll(now) {
            if (first < 0) first = now;
            if (now < first) host.done({ first, now, elapsed: fieldmq.elapsed(now, first) });
          },
        };
      };`;
    const r = await runInXs(code, 'wrap', { clockStart: 2 ** 32 - 30, timeoutMs: 10_000 });
    const res = r.result as { first: number; now: number; elapsed: number };
    expect(res.first).toBeGreaterThanOrEqual(2 ** 32 - 30);
    expect(res.now).toBeLessThan(1000);
    expect(res.elapsed).toBeGreaterThan(0);
    expect(res.elapsed).toBeLessThan(5000);
  });

  it('errors › code that throws › XsRunError with the message and what was logged', async () => {
    const code = `globalThis.boom = (host) => ({ poll() { host.log('before'); throw new Error('kaput'); } });`;
    const err = await runInXs(code, 'boom', { timeoutMs: 10_000 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(XsRunError);
    expect((err as XsRunError).message).toMatch(/kaput/);
    expect((err as XsRunError).output).toEqual(['before']);
  });

  it('errors › never calls done › stopped at the deadline', async () => {
    const code = `globalThis.forever = () => ({ poll() {} });`;
    const err = await runInXs(code, 'forever', { timeoutMs: 300 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(XsRunError);
    expect((err as XsRunError).message).toMatch(/deadline of 300 ms/);
  });
});

/**
 * XS-side MQTT 3.1.1 exchange, as a script defining `globalThis.<name>`:
 * CONNECT → CONNACK → PUBLISH QoS 1 → PUBACK → DISCONNECT, with the bundled
 * fieldmq codec, over the transport `makeTransport` (a JS expression) makes.
 */
function mqttScenario(name: string, makeTransport: string, clientId: string, topic: string): string {
  return `
    globalThis.${name} = (host) => {
      const fm = globalThis.fieldmq;
      const t = ${makeTransport};
      const tx = new Uint8Array(256), rx = new Uint8Array(256);
      const pkt = new fm.MqttPacket();
      let phase = 'open', rxLen = 0, start = 0;
      const result = {};
      const sendAll = (end) => {
        let off = 0;
        while (off < end) {
          const n = t.send(tx, off, end - off);
          if (n < 0) throw new Error('send: ' + fm.statusName(n));
          if (n === 0) throw new Error('send: transport full');
          off += n;
        }
      };
      // Reads what has arrived; true once one whole packet is decoded into pkt.
      const readPacket = () => {
        const n = t.recv(rx, rxLen, rx.length - rxLen);
        if (n < 0) throw new Error('link closed in ' + phase + ': ' + fm.statusName(n));
        rxLen += n;
        const used = fm.decodePacket(rx, 0, rxLen, 4, pkt, 0);
        if (used === fm.Status.NeedMoreBytes) return false;
        if (used < 0) throw new Error('decode: ' + fm.statusName(used));
        rx.copyWithin(0, used, rxLen);
        rxLen -= used;
        return true;
      };
      return {
        poll(now) {
          if (phase === 'open') {
            start = now;
            const s = t.open();
            if (s !== 0) throw new Error('open: ' + fm.statusName(s));
            phase = 'connecting';
            return;
          }
          if (fm.elapsed(now, start) > 5000) throw new Error('timeout in phase ' + phase);
          if (phase === 'connecting') {
            const st = t.state();
            if (st === TransportState.Closed) throw new Error('connection refused');
            if (st !== TransportState.Open) return;
            const end = fm.encodeConnect({ clientId: ${JSON.stringify(clientId)}, cleanSession: true, keepAlive: 30 }, 4, tx, 0);
            sendAll(end);
            host.log('CONNECT ' + end + ' bytes');
            phase = 'connack';
          }
          if (phase === 'connack') {
            if (!readPacket()) return;
            result.connack = { type: fm.packetTypeName(pkt.type), returnCode: pkt.reasonCode, sessionPresent: pkt.sessionPresent };
            const end = fm.encodePublish({ topic: ${JSON.stringify(topic)}, payload: 'hello from XS', qos: 1, packetId: 7 }, 4, tx, 0);
            sendAll(end);
            host.log('PUBLISH ' + end + ' bytes');
            phase = 'puback';
          }
          if (phase === 'puback') {
            if (!readPacket()) return;
            result.puback = { type: fm.packetTypeName(pkt.type), packetId: pkt.packetId };
            const end = fm.encodeDisconnect({}, 4, tx, 0);
            sendAll(end);
            t.close();
            host.done(result);
          }
        },
      };
    };`;
}

describe.skipIf(!runXs || !runBroker)('fieldmq in XS › MQTT 3.1.1 to Mosquitto', () => {
  let broker: MosquittoBroker;
  beforeAll(async () => {
    broker = await startMosquitto();
  });
  afterAll(async () => broker?.stop());

  /** Subscribes an MQTT.js client to `topic` and resolves with the first message. */
  async function subscriber(topic: string) {
    const sub = await mqtt.connectAsync(broker.url, { reconnectPeriod: 0 });
    await sub.subscribeAsync(topic, { qos: 1 });
    const got = new Promise<{ topic: string; payload: string; qos: number }>((resolve) =>
      sub.on('message', (t, payload, packet) => resolve({ topic: t, payload: payload.toString(), qos: packet.qos })),
    );
    return { sub, got };
  }

  const expected = {
    connack: { type: 'CONNACK', returnCode: 0, sessionPresent: false },
    puback: { type: 'PUBACK', packetId: 7 },
  };

  it('bridged Transport › XS encodes CONNECT + PUBLISH (QoS 1), decodes CONNACK and PUBACK; an MQTT.js subscriber gets the message', async () => {
    const { sub, got } = await subscriber('fieldmq/xs/#');
    try {
      const code = fieldmq + mqttScenario('viaBridge', 'new BridgeTransport()', 'fieldmq-xs', 'fieldmq/xs/temp');
      const r = await runInXs(code, 'viaBridge', { tcp: { host: broker.host, port: broker.port }, timeoutMs: 15_000 });
      expect(r.result).toEqual(expected);
      expect(r.output).toEqual([expect.stringMatching(/^CONNECT \d+ bytes$/), expect.stringMatching(/^PUBLISH \d+ bytes$/)]);
      expect(await got).toEqual({ topic: 'fieldmq/xs/temp', payload: 'hello from XS', qos: 1 });
      expect(broker.log()).toMatch(/New client connected from .* as fieldmq-xs \(p2, c1, k30\)/);
    } finally {
      await sub.endAsync();
    }
  });

  it('ModdableTcpTransport over an ECMA-419 TCP class (BridgeTCP) › the same exchange, with the Moddable adapter running in XS', async () => {
    const { sub, got } = await subscriber('fieldmq/xs-moddable/#');
    try {
      const adapters = await bundleForXs('src/platform/moddable/index.ts', 'fieldmqModdable');
      const make = `new fieldmqModdable.ModdableTcpTransport({ TCP: BridgeTCP, address: '127.0.0.1', port: ${broker.port}, rxCapacity: 64 })`;
      const code = fieldmq + adapters + mqttScenario('viaModdable', make, 'fieldmq-xs-moddable', 'fieldmq/xs-moddable/temp');
      const r = await runInXs(code, 'viaModdable', { tcp: { host: broker.host, port: broker.port }, timeoutMs: 15_000 });
      expect(r.result).toEqual(expected);
      expect(await got).toEqual({ topic: 'fieldmq/xs-moddable/temp', payload: 'hello from XS', qos: 1 });
    } finally {
      await sub.endAsync();
    }
  });
});
