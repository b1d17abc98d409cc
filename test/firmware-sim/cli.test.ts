/**
 * firmware-sim › the command line (`tsx firmware-sim/cli.ts`): option parsing, the node specs it
 * builds, and a run as a child process against the real gateway and Aedes.
 */
import { spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HELP, UsageError, nodeSpecs, parseCli } from '../../firmware-sim/cli';
import { TopicStyle } from '../../firmware-sim/sensor';
import type { RunningGateway } from '../../gateway/main';
import { startAedes, type AedesBroker } from '../support/aedes';
import { Watcher, startTestGateway } from './helpers';

const ROOT = resolve(__dirname, '../..');
const TSX = resolve(ROOT, 'node_modules/.bin/tsx');

describe('firmware-sim › cli › parsing', () => {
  it('has defaults for everything', () => {
    const o = parseCli([]);
    expect(o).toMatchObject({ gateway: { host: '127.0.0.1', port: 1884 }, count: 1, qos: 1, style: TopicStyle.Name, interval: 5000, sleep: false, serial: null });
  });

  it('reads values after a space or an equals sign, and --qos -1', () => {
    const o = parseCli(['--gateway', '10.0.0.2:2000', '--count=3', '--qos', '-1', '--topic-style', 'short', '--interval=250', '--sleep']);
    expect(o).toMatchObject({ gateway: { host: '10.0.0.2', port: 2000 }, count: 3, qos: -1, style: TopicStyle.Short, interval: 250, sleep: true });
  });

  it('takes an IPv6 gateway in brackets', () => {
    expect(parseCli(['--gateway', '[::1]:1884']).gateway).toEqual({ host: '::1', port: 1884 });
  });

  it.each([
    [['--qos', '3'], /--qos: expected a whole number -1..2, got "3"/],
    [['--gateway', 'nohost'], /--gateway: expected HOST:PORT/],
    [['--topic-style', 'long'], /expected name, predefined or short/],
    [['--qos', '-1'], /--qos -1 needs --topic-style predefined or short/],
    [['--serial', '/dev/pts/9', '--count', '2'], /--serial runs one node/],
    [['--interval', '5'], /--interval: expected a whole number 100\.\.3600000/],
    [['--bogus'], /unknown option --bogus/],
    [['--count'], /--count needs a value/],
  ])('rejects %j', (argv, message) => {
    expect(() => parseCli(argv)).toThrow(UsageError);
    expect(() => parseCli(argv)).toThrow(message);
  });

  it('gives each node its own ClientId, short-topic tag and predefined id range', () => {
    const specs = nodeSpecs(parseCli(['--count', '3', '--topic-style', 'predefined', '--predefined-base', '10', '--id-prefix', 'gh-']));
    expect(specs.map((s) => [s.clientId, s.tag, s.predefinedBase])).toEqual([
      ['gh-1', '1', 10],
      ['gh-2', '2', 13],
      ['gh-3', '3', 16],
    ]);
  });
});

function runCli(args: string[], timeoutMs = 20_000): Promise<{ code: number | null; out: string }> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(TSX, ['firmware-sim/cli.ts', ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (out += c.toString()));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`cli did not exit within ${timeoutMs} ms; output:\n${out}`));
    }, timeoutMs);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolvePromise({ code, out });
    });
  });
}

describe('firmware-sim › cli › as a process', () => {
  it('--help prints the usage and exits 0', async () => {
    const r = await runCli(['--help']);
    expect(r.code).toBe(0);
    expect(r.out).toContain(HELP.split('\n')[0]);
    expect(r.out).toContain('--serial PATH');
  });

  it('--print-predefined prints predefinedTopic.conf lines for the nodes', async () => {
    const r = await runCli(['--print-predefined', '--count', '2', '--predefined-base', '40']);
    expect(r.code).toBe(0);
    expect(r.out).toContain('node-1,sensors/node-1/temp,40');
    expect(r.out).toContain('node-2,sensors/node-2/battery,45');
  });

  describe('against the real gateway and Aedes', () => {
    let broker: AedesBroker;
    let running: RunningGateway;
    let udpPort: number;
    let watcher: Watcher;
    beforeAll(async () => {
      broker = await startAedes();
      const gw = await startTestGateway({ broker });
      running = gw.running;
      udpPort = gw.udpPort;
      watcher = await Watcher.connect(broker.url);
    });
    afterAll(async () => {
      await watcher?.end();
      await running?.stop();
      await broker?.stop();
    });

    it('--count 2 --qos 2 --duration 2: both nodes publish, the readings it prints are the ones the broker got, and it disconnects cleanly', async () => {
      const r = await runCli(['--gateway', `127.0.0.1:${udpPort}`, '--count', '2', '--qos', '2', '--id-prefix', 'cli-', '--interval', '500', '--duration', '2']);
      expect(r.code, r.out).toBe(0);
      for (const id of ['cli-1', 'cli-2']) {
        const printed = [...r.out.matchAll(new RegExp(`${id} → sensors/${id}/temp (\\S+) °C \\(QoS 2\\)`, 'g'))].map((m) => m[1]);
        expect(printed.length).toBeGreaterThanOrEqual(2);
        const atBroker = watcher.matching((m) => m.topic === `sensors/${id}/temp`).map((m) => m.payload);
        expect(atBroker.slice(0, 2)).toEqual(printed.slice(0, 2));
      }
      expect(r.out).toMatch(/stopped after \d+ reading\(s\)/);
      // It ended with DISCONNECT: the gateway holds both sessions as disconnected, not active.
      const states = Object.fromEntries(running.gateway.clients().map((c) => [c.clientId, c.state]));
      expect(states).toMatchObject({ 'cli-1': 'disconnected', 'cli-2': 'disconnected' });
    });
  });
});
