/**
 * The broker harnesses (test/support/mosquitto.ts, test/support/aedes.ts)
 * against MQTT.js: each broker accepts a connection and routes a message, and
 * a private Mosquitto keeps a persistent session's queued QoS 1 message across
 * SIGKILL + restart (what the persistence config in mosquitto.ts is for).
 */
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { startAedes, type AedesBroker } from '../support/aedes';
import { requireMosquitto, startMosquitto, type MosquittoBroker } from '../support/mosquitto';
import { MissingPeerError, requirePeer } from '../support/peers';

const runMosquitto = requireMosquitto();

/** Connects, subscribes, publishes, and resolves with the message the subscriber got. */
async function roundTrip(url: string): Promise<{ topic: string; payload: string }> {
  const sub = await mqtt.connectAsync(url, { reconnectPeriod: 0, connectTimeout: 5_000 });
  const pub = await mqtt.connectAsync(url, { reconnectPeriod: 0, connectTimeout: 5_000 });
  try {
    await sub.subscribeAsync('harness/+/temp', { qos: 1 });
    const msg = new Promise<{ topic: string; payload: string }>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error('the routed message did not arrive in 5 s')), 5_000);
      sub.once('message', (topic, payload) => {
        clearTimeout(t);
        resolve({ topic, payload: payload.toString() });
      });
    });
    await pub.publishAsync('harness/7/temp', '21.5', { qos: 1 });
    return await msg;
  } finally {
    await Promise.all([sub.endAsync(), pub.endAsync()]);
  }
}

describe('requirePeer', () => {
  afterEach(() => {
    vi.unstubAllEnvs();
    vi.restoreAllMocks();
  });

  it('peer present › runs, silently', () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    expect(requirePeer('thing', true, 'n/a')).toBe(true);
    expect(warn).not.toHaveBeenCalled();
  });

  it('peer missing, local run › skips with a loud warning naming the peer and the reason', () => {
    vi.stubEnv('CI', '');
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    expect(requirePeer('thing', false, 'install thing')).toBe(false);
    expect(String(warn.mock.calls[0][0])).toMatch(/SKIPPED: peer "thing" is not available: install thing/);
  });

  it('peer missing, CI=true › fails', () => {
    vi.stubEnv('CI', 'true');
    expect(() => requirePeer('thing', false, 'install thing')).toThrow(MissingPeerError);
  });
});

describe('aedes harness', () => {
  let b: AedesBroker;
  afterAll(async () => b?.stop());

  it('accepts an MQTT.js connection and routes a message', async () => {
    b = await startAedes();
    expect(b.port).toBeGreaterThan(0);
    expect(await roundTrip(b.url)).toEqual({ topic: 'harness/7/temp', payload: '21.5' });
  });

  it('stop is idempotent and closes the port', async () => {
    await b.stop();
    await b.stop();
    await expect(mqtt.connectAsync(b.url, { reconnectPeriod: 0, connectTimeout: 2_000 })).rejects.toThrow();
  });
});

describe.skipIf(!runMosquitto)('mosquitto harness', () => {
  let b: MosquittoBroker;
  afterAll(async () => b?.stop());

  it('accepts an MQTT.js connection and routes a message', async () => {
    b = await startMosquitto();
    expect(b.port).toBeGreaterThan(0);
    expect(await roundTrip(b.url)).toEqual({ topic: 'harness/7/temp', payload: '21.5' });
  });

  it('kill() + restart() keeps a persistent session and its queued QoS 1 message', async () => {
    // Persistent subscriber (clean session false, QoS 1), then offline.
    const opts = { clientId: 'harness-persistent', clean: false, reconnectPeriod: 0, connectTimeout: 5_000 };
    const sub1 = await mqtt.connectAsync(b.url, opts);
    await sub1.subscribeAsync('harness/queued', { qos: 1 });
    await sub1.endAsync();

    // Publish QoS 1 while it is away: the broker queues it for the session.
    const payload = 'queued-' + Math.random().toString(36).slice(2);
    const pub = await mqtt.connectAsync(b.url, { reconnectPeriod: 0 });
    await pub.publishAsync('harness/queued', payload, { qos: 1 });
    await pub.endAsync();

    // SIGKILL skips the shutdown save, so this relies on autosave_on_changes
    // having written the queued message: wait until the database holds it.
    await b.waitForPersisted(payload);
    const logBefore = b.log().length;
    await b.kill();
    await b.restart();
    expect(b.log().slice(logBefore)).toMatch(/running/);

    // Listen before the CONNACK: the broker sends the queued PUBLISH right
    // after it, possibly in the same TCP segment.
    const sub2: MqttClient = mqtt.connect(b.url, opts);
    try {
      const [topic, body] = await new Promise<[string, Buffer]>((resolve, reject) => {
        const t = setTimeout(() => reject(new Error('queued message not delivered after restart\n' + b.log())), 5_000);
        sub2.once('message', (tp, pl) => {
          clearTimeout(t);
          resolve([tp, pl]);
        });
        sub2.once('error', reject);
      });
      expect(topic).toBe('harness/queued');
      expect(body.toString()).toBe(payload);
    } finally {
      await sub2.endAsync();
    }
  });

  it('config › extra lines are appended to the generated mosquitto.conf', async () => {
    const c = await startMosquitto({ config: 'max_queued_messages 7' });
    try {
      const conf = readFileSync(join(c.dir, 'mosquitto.conf'), 'utf8');
      expect(conf).toMatch(/^listener \d+ 127\.0\.0\.1$/m);
      expect(conf).toMatch(/^max_queued_messages 7$/m);
    } finally {
      await c.stop();
    }
    expect(existsSync(c.dir)).toBe(false);
  });

  it('config › a bad option › start rejects at once with the broker\'s own error', async () => {
    await expect(startMosquitto({ config: 'bogus_option 1' })).rejects.toThrow(/bogus_option/);
  });

  it('restart() keeps the port', async () => {
    const port = b.port;
    await b.restart();
    expect(b.port).toBe(port);
    expect(await roundTrip(b.url)).toEqual({ topic: 'harness/7/temp', payload: '21.5' });
  });
});
