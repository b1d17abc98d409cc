/**
 * BrokerLink › start and stop, both modes, against real brokers: `start` resolves once the
 * broker accepted the connection and rejects with a message a user can act on; `stop` closes
 * with DISCONNECT (no Will) and waits for it.
 */
import { describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { freePort } from '../../support/peers';
import { brokerAt, createBrokerLink } from '../../../gateway/broker/index';
import { defaultConfig } from '../../../gateway/config/schema';
import {
  DEADLINE,
  HAVE_MOSQUITTO,
  Observer,
  aedes,
  connectClient,
  forEachPeer,
  makeLink,
  mosquitto,
  onCleanup,
  silentServer,
  startLink,
  uniq,
  useCleanups,
  will,
} from './helpers';

useCleanups();

const MODES = ['aggregating', 'transparent'] as const;

forEachPeer((peer) => {
  for (const mode of MODES) {
    describe(mode, () => {
      it('start resolves once the broker accepted the connection', async () => {
        const p = peer();
        const { link, probe, metrics, gatewayId } = makeLink(p, mode);
        const seen = p.watchConnected(gatewayId);
        await link.start();
        await seen(); // the broker has the gateway's connection under the expected client id
        expect(metrics.brokerConnections).toBe(1);
        expect(probe.connections).toEqual([{ clientId: null, up: true }]);
      });

      it('stop sends DISCONNECT and resolves after the broker handled it', async () => {
        const p = peer();
        const { link, metrics, gatewayId } = await startLink(p, mode);
        const gone = p.watchGone(gatewayId);
        await link.stop();
        await gone();
        expect(metrics.brokerConnections).toBe(0);
        if (p.mosquitto) expect(p.mosquitto.log()).toMatch(new RegExp(`Client ${gatewayId} disconnected\\.`)); // DISCONNECT, not a dropped socket
      });

      it('stop publishes no Will of a connected client', async () => {
        const p = peer();
        const obs = await Observer.connect(p);
        const topic = uniq('will');
        await obs.subscribe(topic, 1);
        const { link } = await startLink(p, mode);
        const id = uniq('sensor');
        expect(await connectClient(link, { clientId: id, will: will(topic, 'gone') })).toBe(0);
        const gone = mode === 'transparent' ? p.watchGone(id) : null;
        await link.stop();
        await gone?.();
        await obs.roundTrip();
        expect(obs.on(topic)).toEqual([]);
      });
    });
  }
});

describe('BrokerLink › start fails with a message saying why', () => {
  for (const mode of MODES) {
    it(`${mode}: nothing listens (closed port) → rejects at the first refused attempt, naming the broker and the socket error`, async () => {
      const port = await freePort();
      const { link } = makeLink({ host: '127.0.0.1', port, version: 4 }, mode, { connectTimeout: 10_000 });
      const t0 = performance.now();
      const err = await link.start().then(
        () => null,
        (e: Error) => e,
      );
      const ms = performance.now() - t0;
      expect(err).toBeInstanceOf(Error);
      expect(err!.message).toContain(`broker mqtt://127.0.0.1:${port} cannot be reached`);
      expect(err!.message).toMatch(/connect ECONNREFUSED 127\.0\.0\.1:\d+/);
      expect(ms).toBeLessThan(2000); // not the 10 s timeout
    });

    it(`${mode}: a host name that does not resolve → rejects at once with the resolver's error`, async () => {
      const host = 'fieldmq-no-such-broker.invalid'; // RFC 6761: never resolves
      const dns = await import('node:dns/promises');
      const d0 = performance.now();
      const code = await dns.lookup(host).then(
        () => 'resolved',
        (e: NodeJS.ErrnoException) => e.code,
      );
      const lookupMs = performance.now() - d0;
      expect(code, 'this machine must answer ENOTFOUND for a .invalid name').toBe('ENOTFOUND');
      const { link } = makeLink({ host, port: 1883, version: 4 }, mode, { connectTimeout: 10_000 });
      const t0 = performance.now();
      const err = await link.start().then(
        () => null,
        (e: Error) => e,
      );
      expect(err?.message).toContain(`broker mqtt://${host}:1883 cannot be reached: its host name does not resolve`);
      expect(err!.message).toContain(`getaddrinfo ENOTFOUND ${host}`);
      expect(performance.now() - t0).toBeLessThan(lookupMs + 2000);
    });

    it(`${mode}: a broker that accepts TCP but never answers → rejects at the timeout`, async () => {
      const { port } = await silentServer();
      const { link } = makeLink({ host: '127.0.0.1', port, version: 4 }, mode, { connectTimeout: 1500 });
      const t0 = performance.now();
      const err = await link.start().then(
        () => null,
        (e: Error) => e,
      );
      expect(err?.message).toContain(`mqtt://127.0.0.1:${port}`);
      expect(err!.message).toMatch(/did not accept a connection within 1500 ms/);
      expect(performance.now() - t0).toBeGreaterThanOrEqual(1400);
    });

    it(`${mode}: credentials refused (aedes authenticate) → rejects with the reason and a hint`, async () => {
      const a = await aedes();
      onCleanup(() => a.stop());
      let tried = 0;
      a.aedes!.authenticate = (_client, _user, _pass, done) => {
        tried++;
        const e = Object.assign(new Error('bad user name or password'), { returnCode: 4 as const });
        done(e, false);
      };
      const { link } = makeLink(a, mode, { connectTimeout: 5000 });
      const t0 = performance.now();
      await expect(link.start()).rejects.toThrow(/refused .*CONNACK: bad user name or password; check the user name and password/);
      expect(performance.now() - t0).toBeLessThan(4000); // the refusal, not the timeout
      expect(tried).toBe(1); // and it does not keep knocking
    });
  }

  describe.runIf(HAVE_MOSQUITTO)('mosquitto with a password file', () => {
    for (const version of [4, 5] as const) {
      for (const mode of MODES) {
        it(`${mode}, MQTT ${version}: a wrong password → rejects with "not authorized" or "bad user name or password"`, async () => {
          const { writeFileSync, mkdtempSync, rmSync } = await import('node:fs');
          const { tmpdir } = await import('node:os');
          const { join } = await import('node:path');
          const { execFileSync } = await import('node:child_process');
          const dir = mkdtempSync(join(tmpdir(), 'fieldmq-pw-'));
          onCleanup(() => rmSync(dir, { recursive: true, force: true }));
          const pwfile = join(dir, 'passwd');
          writeFileSync(pwfile, '');
          execFileSync('mosquitto_passwd', ['-b', pwfile, 'gateway', 'right']);
          const m = await mosquitto(version, { config: `allow_anonymous false\npassword_file ${pwfile}` });
          onCleanup(() => m.stop());
          const config = defaultConfig();
          config.mode = mode;
          config.gatewayName = uniq('gw');
          const wrong = { ...brokerAt(m.host, m.port, version), username: 'gateway', password: 'wrong' };
          const bad = createBrokerLink(config, { broker: wrong, connectTimeout: 5000 });
          onCleanup(() => bad.stop());
          await expect(bad.start()).rejects.toThrow(/refused .*CONNACK: (not authorized|bad user name or password); check the user name and password/);
          const good = createBrokerLink(config, { broker: { ...wrong, password: 'right' }, connectTimeout: 5000 });
          onCleanup(() => good.stop());
          await good.start(); // the same broker accepts the right password: the refusal was the credentials
        });
      }
    }
  });
});

describe('BrokerLink › stop', () => {
  for (const mode of MODES) {
    it(`${mode}: stop during a pending start rejects the start at once`, async () => {
      const port = await freePort();
      const { link } = makeLink({ host: '127.0.0.1', port, version: 4 }, mode, { connectTimeout: 30_000 });
      const started = link.start().then(
        () => null,
        (e: Error) => e,
      );
      await link.stop();
      const err = await started;
      expect(err?.message).toMatch(/stopped before it connected/);
    });
  }
});

/**
 * Runs `exit-child.ts` in its own Node process: it starts a link, uses it, stops it and then
 * simply returns. The process must exit by itself, promptly: nothing (timer, socket) keeps its
 * event loop alive after `stop()`. The link's timeouts are set to 30 s, so a leaked timer
 * would hold the child far beyond the deadline.
 */
describe('BrokerLink › after stop() nothing keeps the event loop alive', () => {
  const child = fileURLToPath(new URL('./exit-child.ts', import.meta.url));
  const run = (args: string[]): Promise<{ code: number | null; out: string; ms: number }> =>
    new Promise((resolve, reject) => {
      const t0 = performance.now();
      const c = spawn(process.execPath, ['--import', 'tsx', child, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      c.stdout.on('data', (d) => (out += d));
      c.stderr.on('data', (d) => (out += d));
      const timer = setTimeout(() => {
        c.kill('SIGKILL');
        reject(new Error(`the child did not exit within ${DEADLINE} ms after stop(); output:\n${out}`));
      }, DEADLINE);
      c.once('exit', (code) => {
        clearTimeout(timer);
        resolve({ code, out, ms: performance.now() - t0 });
      });
    });

  for (const mode of MODES) {
    it(`${mode}: after use (connect, subscribe, publish QoS 1, Will) the process exits by itself`, async () => {
      const a = await aedes();
      onCleanup(() => a.stop());
      const r = await run([mode, 'use', String(a.port)]);
      expect(r.out).toContain('stopped');
      expect(r.code).toBe(0);
      expect(r.out).toMatch(/active after stop: \[\]/);
    });

    const what: Record<string, string> = {
      'stop-pending': 'stop() during a start that cannot connect',
      'start-timeout': 'a start that timed out (a broker that never answers), without stop()',
      'start-refused': 'a start refused at once (closed port), without stop()',
    };
    for (const scenario of ['stop-pending', 'start-timeout', 'start-refused']) {
      it(`${mode}: ${what[scenario]} leaves nothing running`, async () => {
        let port = await freePort();
        if (scenario === 'start-timeout') port = (await silentServer()).port;
        const r = await run([mode, scenario, String(port)]);
        expect(r.out).toMatch(/start rejected: /);
        expect(r.out).toContain('stopped');
        expect(r.code).toBe(0);
        expect(r.out).toMatch(/active after stop: \[\]/);
      });
    }
  }
});
