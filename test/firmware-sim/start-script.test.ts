/**
 * `npm start` (scripts/start.ts) as a user runs it: a child process through tsx, the gateway
 * with its embedded broker and the simulated nodes inside it. The ports the test asks for are
 * held by the test itself, so the script must notice and move to free ones — which also keeps
 * this test away from 1883/1884 and any broker already running there.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import dgram from 'node:dgram';
import { EventEmitter } from 'node:events';
import net from 'node:net';
import { resolve } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { waitFor } from '../support/peers';

const ROOT = resolve(__dirname, '../..');
const TSX = resolve(ROOT, 'node_modules/.bin/tsx');

/** A UDP and a TCP port, both bound by this test until `release()`. */
async function holdPorts(): Promise<{ udp: number; tcp: number; release(): Promise<void> }> {
  const u = dgram.createSocket('udp4');
  await new Promise<void>((r) => u.bind(0, '0.0.0.0', () => r()));
  const t = net.createServer();
  await new Promise<void>((r) => t.listen(0, () => r()));
  const tcp = (t.address() as net.AddressInfo).port;
  return {
    udp: u.address().port,
    tcp,
    release: async () => {
      await new Promise<void>((r) => u.close(() => r()));
      await new Promise<void>((r) => t.close(() => r()));
    },
  };
}

/** The child with its output collected; `until(re)` waits for a line matching `re`. */
function run(args: string[]): { child: ChildProcess; out: () => string; until(re: RegExp, ms: number): Promise<void>; exited: Promise<number | null> } {
  const child = spawn(TSX, ['scripts/start.ts', ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, FORCE_COLOR: '0' } });
  let text = '';
  const ev = new EventEmitter();
  const take = (c: Buffer) => {
    text += c.toString();
    ev.emit('change');
  };
  child.stdout!.on('data', take);
  child.stderr!.on('data', take);
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  return {
    child,
    out: () => text,
    exited,
    until: (re, ms) =>
      waitFor(
        `output matching ${re}`,
        () => (re.test(text) ? true : undefined),
        (changed) => {
          ev.on('change', changed);
          return () => ev.off('change', changed);
        },
        ms,
        () => `output so far:\n${text}`,
      ).then(() => undefined),
  };
}

let children: ChildProcess[] = [];
afterEach(() => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  children = [];
});

describe('npm start (scripts/start.ts)', () => {
  it('with --duration, runs the gateway, broker and sensors, prints readings from every node, moves off taken ports and exits 0', async () => {
    const held = await holdPorts();
    try {
      const r = run(['--duration', '4', '--udp-port', String(held.udp), '--mqtt-port', String(held.tcp)]);
      children.push(r.child);
      expect(await r.exited).toBe(0);
      const out = r.out();
      expect(out).toMatch(new RegExp(`UDP port ${held.udp} is taken: the gateway listens on \\d+ instead`));
      expect(out).toMatch(new RegExp(`TCP port ${held.tcp} is taken: the embedded broker listens on \\d+ instead`));
      const brokerPort = /broker listens on (\d+)/.exec(out)![1];
      expect(out).toContain(`mosquitto_sub -h localhost -p ${brokerPort} -t '#' -v`);
      // A reading line per node, each with its QoS and topic style.
      expect(out).toMatch(/\d\d:\d\d:\d\d {2}sensors\/node-1\/temp +-?\d+\.\d °C +\(QoS 1, via MQTT-SN\)/);
      expect(out).toMatch(/t2 +-?\d+\.\d °C +\(QoS 0, via MQTT-SN, short topic of node-2\)/);
      expect(out).toMatch(/sensors\/node-3\/humidity +\d+\.\d % +\(QoS 2, via MQTT-SN\)/);
      expect(out).toMatch(/sensors\/node-4\/battery +\d\.\d{3} V +\(QoS -1, via MQTT-SN\)/);
      expect(out).toMatch(/sensors\/node-5\/temp .*\(QoS 1, via MQTT-SN\)/);
      expect(out).toMatch(/sensors\/node-5\/status +asleep/);
      const n = Number(/stopped; (\d+) reading\(s\) reached the broker/.exec(out)![1]);
      expect(n).toBeGreaterThanOrEqual(15);
    } finally {
      await held.release();
    }
  });

  it('stops gracefully on SIGINT (Ctrl-C) and exits 0', async () => {
    const held = await holdPorts();
    try {
      const r = run(['--udp-port', String(held.udp), '--mqtt-port', String(held.tcp)]);
      children.push(r.child);
      await r.until(/sensors\/node-1\/temp/, 20_000);
      expect(r.out()).toContain('Ctrl-C stops everything.');
      r.child.kill('SIGINT');
      expect(await r.exited).toBe(0);
      expect(r.out()).toMatch(/stopping: sensors disconnect[\s\S]*stopped; \d+ reading\(s\) reached the broker/);
    } finally {
      await held.release();
    }
  });

  it('rejects an unknown option with exit code 2 and a pointer to --help', async () => {
    const r = run(['--frobnicate']);
    children.push(r.child);
    expect(await r.exited).toBe(2);
    expect(r.out()).toContain('unknown option --frobnicate (see --help)');
  });
});
