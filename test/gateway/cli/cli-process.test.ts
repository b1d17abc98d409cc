/**
 * `fieldmq-gateway` as users run it: the launcher in a child process, real UDP datagrams from an
 * MQTT-SN sensor, MQTT.js subscribers on the embedded broker or a real Mosquitto, real HTTP
 * scrapes. Ports are chosen by the OS (`0`); every wait has a deadline.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startEmbeddedBroker } from '../../../gateway/broker/embedded';
import { validateConfig } from '../../../gateway/config/schema';
import { MsgType } from '../../../src/mqttsn';
import { requireMosquitto, startMosquitto, type MosquittoBroker } from '../../support/mosquitto';
import { freePort } from '../../support/peers';
import { watch, type Watcher } from '../observability/mqtt-watch';
import { runCli, type CliProcess } from './child';
import { SnUdpSensor } from './sn-udp';

const dir = mkdtempSync(join(tmpdir(), 'fieldmq-cli-proc-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function file(name: string, text: string): string {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
}

const VERSION = (JSON.parse(await import('node:fs').then((fs) => fs.readFileSync(new URL('../../../package.json', import.meta.url), 'utf8'))) as { version: string }).version;

/** What the start-up summary says. */
interface Started {
  udpPort: number;
  brokerPort: number | null;
  metricsUrl: string | null;
  line: string;
}

async function started(p: CliProcess): Promise<Started> {
  const m = await p.waitForStderr(/[^\n]*running: MQTT-SN on [^\n]*\n/);
  const line = m[0];
  const udp = /udp 0\.0\.0\.0:(\d+)/.exec(line);
  const broker = /embedded broker at mqtt:\/\/localhost:(\d+)/.exec(line);
  const metrics = /metrics at (http:\/\/\S+\/metrics)/.exec(line);
  if (!udp) throw new Error(`no UDP port in the summary: ${line}`);
  return { udpPort: Number(udp[1]), brokerPort: broker ? Number(broker[1]) : null, metricsUrl: metrics ? metrics[1]! : null, line };
}

/** Whether TCP 1883 and UDP 1884 (IPv4 and, where there is IPv6, IPv6) can be bound on every interface. */
async function portsFree(): Promise<{ ok: true } | { ok: false; why: string }> {
  const net = await import('node:net');
  const dgram = await import('node:dgram');
  const tcp = await new Promise<string | null>((resolve) => {
    const srv = net.createServer();
    srv.once('error', (e: NodeJS.ErrnoException) => resolve(`TCP 1883: ${e.code}`));
    srv.listen(1883, () => srv.close(() => resolve(null)));
  });
  if (tcp) return { ok: false, why: tcp };
  for (const type of ['udp4', 'udp6'] as const) {
    const why = await new Promise<string | null>((resolve) => {
      const sock = dgram.createSocket(type);
      sock.once('error', (e: NodeJS.ErrnoException) => {
        sock.close();
        // No IPv6 on this machine is not a taken port: the gateway warns and carries on.
        resolve(type === 'udp6' && e.code === 'EAFNOSUPPORT' ? null : `${type} 1884: ${e.code}`);
      });
      sock.bind(1884, () => sock.close(() => resolve(null)));
    });
    if (why) return { ok: false, why };
  }
  return { ok: true };
}

/** The gateways, watchers and sensors a running test starts: closed (gateways SIGKILLed) after each test. */
function useRunning(): { procs: CliProcess[]; watchers: Watcher[]; sensors: SnUdpSensor[] } {
  const procs: CliProcess[] = [];
  const watchers: Watcher[] = [];
  const sensors: SnUdpSensor[] = [];
  afterEach(async () => {
    await Promise.all(sensors.splice(0).map((s) => s.close()));
    await Promise.all(watchers.splice(0).map((w) => w.close()));
    for (const p of procs.splice(0)) {
      p.signal('SIGKILL');
      await p.exited;
    }
  });
  return { procs, watchers, sensors };
}

describe('fieldmq-gateway › options that do not start the gateway', () => {
  it('--help exits 0 and prints the usage on stdout', async () => {
    const p = runCli(['--help']);
    expect(await p.waitForExit()).toBe(0);
    expect(p.stdout()).toContain('Usage: fieldmq-gateway [options]');
    expect(p.stdout()).toContain('--broker URL');
  });

  it('npx fieldmq-gateway --help works from the repository root, exactly as written', async () => {
    const p = runCli(['fieldmq-gateway', '--help'], { command: ['npx'] });
    expect(await p.waitForExit(60_000)).toBe(0);
    expect(p.stdout()).toContain('Usage: fieldmq-gateway [options]');
  });

  it('--version prints the package version', async () => {
    const p = runCli(['--version']);
    expect(await p.waitForExit()).toBe(0);
    expect(p.stdout()).toBe(`fieldmq-gateway ${VERSION}\n`);
  });

  it('an unknown option exits 2 with a "did you mean" hint', async () => {
    const p = runCli(['--brocker', 'mqtt://x']);
    expect(await p.waitForExit()).toBe(2);
    expect(p.stderr()).toContain('fieldmq-gateway: error: --brocker: unknown option (did you mean --broker?)');
    expect(p.stdout()).toBe('');
  });

  it('a bad Paho gateway.conf exits 2 naming the file, the line and the key', async () => {
    const conf = file('bad-gateway.conf', '# Paho\nGatewayID=1\nBrokerName=localhost\nBrokerPortNo=abc\n');
    const p = runCli(['--config', conf]);
    expect(await p.waitForExit()).toBe(2);
    expect(p.stderr()).toContain(`${conf}:4: BrokerPortNo: expected a port number 1..65535, got "abc"`);
  });

  it('an unknown key in a JSON config exits 2 naming its line, with a suggestion', async () => {
    const json = file('bad.json', JSON.stringify({ broker: { url: 'mqtt://h', usrname: 'x' } }, null, 2));
    const p = runCli(['-c', json]);
    expect(await p.waitForExit()).toBe(2);
    expect(p.stderr()).toContain(`${json}:4: broker.usrname: unknown key (did you mean "username"?)`);
  });

  it('--print-config prints a config the gateway reads back, the password hidden, warnings on stderr', async () => {
    const conf = file('print.conf', 'GatewayID=9\nMaxNumberOfClients=5;\nBrokerName=localhost\nLoginID=pi\n');
    const p = runCli(['-c', conf, '--udp-port', '2001', '--print-config'], { env: { FIELDMQ_BROKER_PASSWORD: 'top-secret' } });
    expect(await p.waitForExit()).toBe(0);
    expect(p.stdout()).not.toContain('top-secret');
    const printed = JSON.parse(p.stdout()) as Record<string, unknown>;
    const cfg = validateConfig(printed, 'printed');
    expect(cfg).toMatchObject({ gatewayId: 9, maxClients: 5, udp: { port: 2001 } });
    expect(cfg.broker).toMatchObject({ host: 'localhost', username: 'pi', password: '(hidden)' });
    expect(p.stderr()).toContain('warning: ');
    expect(p.stderr()).toContain('MaxNumberOfClients: trailing ";" ignored');
  });
});

describe('fieldmq-gateway › running with the embedded broker', () => {
  const { procs, watchers, sensors } = useRunning();

  function start(args: string[], env?: Record<string, string>): CliProcess {
    const p = runCli(args, env ? { env } : {});
    procs.push(p);
    return p;
  }

  it('carries QoS -1 and QoS 1 PUBLISH from a UDP sensor to a subscriber, counts them, and stops on SIGTERM', async () => {
    const p = start([
      '--udp-port', '0', '--no-udp6',
      '--embedded-port', '0', '--embedded-host', '127.0.0.1',
      '--metrics-port', '0', '--metrics-host', '127.0.0.1',
      '--sys-interval', '1', '--gateway-name', 'e2e-gw',
    ]);
    const s = await started(p);
    expect(s.line).toContain('embedded broker at mqtt://localhost:');
    expect(s.line).toContain(`mosquitto_sub -h localhost -p ${s.brokerPort} -t '#' -v`);
    expect(s.line).toContain('transparent mode');
    const url = `mqtt://127.0.0.1:${s.brokerPort}`;
    const data = await watch(url, '#');
    const sys = await watch(url, '$SYS/fieldmq/e2e-gw/#');
    watchers.push(data, sys);

    const sensor = await SnUdpSensor.open('127.0.0.1', s.udpPort);
    sensors.push(sensor);
    // QoS -1: no connection, short topic name.
    sensor.publishMinus1Short('t1', '21.5');
    await data.message('t1', '21.5');
    // QoS 1: CONNECT, REGISTER, PUBLISH, PUBACK.
    expect(await sensor.connect('e2e-sensor')).toBe(0);
    const regack = await sensor.register('e2e/temp', 1);
    expect(regack.returnCode).toBe(0);
    const puback = await sensor.publishQos1(regack.topicId, 2, '22.0');
    expect([puback.returnCode, puback.msgId, puback.topicId]).toEqual([0, 2, regack.topicId]);
    await data.message('e2e/temp', '22.0');

    // Prometheus, over HTTP.
    const text = await (await fetch(s.metricsUrl!)).text();
    expect(text).toContain('fieldmq_messages_in_total{gateway="e2e-gw",qos="-1"} 1\n');
    expect(text).toContain('fieldmq_messages_in_total{gateway="e2e-gw",qos="1"} 1\n');
    expect(text).toMatch(/fieldmq_clients\{gateway="e2e-gw",state="active"\} 1\n/);
    // $SYS, through the broker (published every second).
    await sys.message('$SYS/fieldmq/e2e-gw/messages_in/1', '1');
    expect(sys.latest('$SYS/fieldmq/e2e-gw/state')).toBe('online');
    expect(sys.latest('$SYS/fieldmq/e2e-gw/version')).toBe(VERSION);

    // Graceful stop.
    const from = p.stderr().length;
    p.signal('SIGTERM');
    expect(await p.waitForExit()).toBe(0);
    expect(p.stderr().slice(from)).toContain('SIGTERM: stopping');
    expect(p.stderr().slice(from)).toMatch(/INFO {2}stopped\n$/);
    await sys.message('$SYS/fieldmq/e2e-gw/state', 'offline');
  });

  it('SIGINT stops it too, and --log-format json writes one JSON object per line', async () => {
    const p = start(['--udp-port', '0', '--no-udp6', '--embedded-port', '0', '--embedded-host', '127.0.0.1', '--log-format', 'json']);
    await p.waitForStderr(/"msg":"fieldmq-gateway .* running: /);
    p.signal('SIGINT');
    expect(await p.waitForExit()).toBe(0);
    const lines = p.stderr().trim().split('\n');
    for (const l of lines) expect(() => JSON.parse(l), l).not.toThrow();
    expect(lines.map((l) => (JSON.parse(l) as { msg: string }).msg)).toContain('stopped');
  });

  it('with no arguments: MQTT-SN on UDP 1884, the embedded broker on 1883, said at start, and a sensor\'s reading gets through (or, with those ports taken on this machine, exit 1 naming the port)', async () => {
    const free = await portsFree();
    const p = start([]);
    if (!free.ok) {
      // Someone else holds a default port here: the no-argument start must say which, and fail.
      console.warn(`[fieldmq] the default ports are taken on this machine (${free.why}): checking the failure message instead of a run`);
      expect(await p.waitForExit(30_000)).toBe(1);
      expect(p.stderr()).toMatch(/188[34]/);
      return;
    }
    const s = await started(p);
    expect(s.udpPort).toBe(1884);
    expect(s.brokerPort).toBe(1883);
    expect(s.line).toContain('embedded broker at mqtt://localhost:1883');
    if (!s.line.includes('udp6 [::]:1884')) expect(p.stderr()).toMatch(/WARN .*IPv6/); // IPv6 as well, or a warning saying why not
    const data = await watch('mqtt://127.0.0.1:1883', '#');
    watchers.push(data);
    const sensor = await SnUdpSensor.open('127.0.0.1', 1884);
    sensors.push(sensor);
    sensor.publishMinus1Short('n0', '4.2');
    await data.message('n0', '4.2');
    p.signal('SIGINT');
    expect(await p.waitForExit()).toBe(0);
  });

  it('exits 1 with a clear message when the embedded broker\'s port is taken by a broker', async () => {
    const other = await startEmbeddedBroker({ port: 0, host: '127.0.0.1' });
    try {
      const p = start(['--udp-port', '0', '--no-udp6', '--embedded-port', String(other.port), '--embedded-host', '127.0.0.1']);
      expect(await p.waitForExit()).toBe(1);
      expect(p.stderr()).toContain(`port ${other.port} is already in use, and an MQTT broker answers there`);
      expect(p.stderr()).toContain(`--broker mqtt://localhost:${other.port}`);
      expect(p.stderr()).toContain('--embedded-port');
    } finally {
      await other.stop();
    }
  });

  it('exits 1 naming the option when the UDP port is taken', async () => {
    const dgram = await import('node:dgram');
    const blocker = dgram.createSocket('udp4');
    await new Promise<void>((r) => blocker.bind(0, '0.0.0.0', r));
    const udpPort = blocker.address().port;
    const brokerPort = await freePort();
    try {
      const p = start(['--udp-port', String(udpPort), '--no-udp6', '--embedded-port', String(brokerPort), '--embedded-host', '127.0.0.1']);
      expect(await p.waitForExit()).toBe(1);
      expect(p.stderr()).toMatch(new RegExp(`cannot start: .*${udpPort}`));
      expect(p.stderr()).toContain('--udp-port');
    } finally {
      await new Promise<void>((r) => blocker.close(() => r()));
    }
  });
});

describe('fieldmq-gateway › start failures', () => {
  it('exits 1 when the serial device does not exist', async () => {
    const p = runCli(['--serial', '/dev/ttyFIELDMQ-NONE', '--no-udp', '--no-udp6', '--embedded-port', '0', '--embedded-host', '127.0.0.1']);
    expect(await p.waitForExit()).toBe(1);
    expect(p.stderr()).toMatch(/ERROR cannot start: serial: no such device \/dev\/ttyFIELDMQ-NONE/);
  });

  it('exits 1 naming the broker when it cannot be reached', async () => {
    const port = await freePort();
    const t0 = performance.now();
    const p = runCli(['--broker', `mqtt://127.0.0.1:${port}`, '--udp-port', '0', '--no-udp6']);
    expect(await p.waitForExit(30_000)).toBe(1);
    expect(performance.now() - t0).toBeLessThan(9_000); // the refused connection, not the 10 s connect timeout (launch included)
    expect(p.stderr()).toContain(`cannot start: broker mqtt://127.0.0.1:${port} cannot be reached`);
    expect(p.stderr()).toContain('ECONNREFUSED');
  });
});

describe('fieldmq-gateway › killed (SIGKILL) with an external broker', () => {
  for (const mode of ['transparent', 'aggregating'] as const) {
    it(`${mode} mode: the broker publishes $SYS/…/state = offline, the Will of the gateway's connection`, async () => {
      const broker = await startEmbeddedBroker({ port: 0, host: '127.0.0.1' }); // Aedes, allowing $SYS/fieldmq/
      let p: CliProcess | null = null;
      let w: Watcher | null = null;
      try {
        const name = `kill-gw-${mode}`;
        w = await watch(broker.connectUrl, `$SYS/fieldmq/${name}/state`);
        p = runCli(['--broker', broker.connectUrl, '--mode', mode, '--gateway-name', name, '--udp-port', '0', '--no-udp6', '--sys-interval', '1']);
        await started(p);
        await w.message(`$SYS/fieldmq/${name}/state`, 'online');
        p.signal('SIGKILL');
        expect(await p.waitForExit()).toBe(137);
        const m = await w.until('state offline after the online', (seen) => {
          const states = seen.filter((x) => x.topic === `$SYS/fieldmq/${name}/state`);
          return states.length >= 2 ? states : undefined;
        });
        expect(m.map((x) => x.payload)).toEqual(['online', 'offline']);
        // retained: a dashboard connecting now sees it
        const late = await watch(broker.connectUrl, `$SYS/fieldmq/${name}/state`);
        try {
          expect((await late.message(`$SYS/fieldmq/${name}/state`)).payload).toBe('offline');
        } finally {
          await late.close();
        }
      } finally {
        if (p) {
          p.signal('SIGKILL');
          await p.exited;
        }
        await w?.close();
        await broker.stop();
      }
    });
  }
});

describe.runIf(requireMosquitto())('fieldmq-gateway › with Mosquitto', () => {
  let mosquitto: MosquittoBroker;
  const { procs, watchers, sensors } = useRunning();
  beforeAll(async () => {
    mosquitto = await startMosquitto();
  });
  afterAll(async () => {
    await mosquitto?.stop();
  });

  it('aggregating mode: data and fieldmq/sys counters arrive; SIGTERM sends DISCONNECT', async () => {
    const data = await watch(mosquitto.url, ['agg/#', 'fieldmq/sys/agg-gw/#']);
    watchers.push(data);
    const p = runCli([
      '--broker', mosquitto.url, '--mode', 'aggregating', '--gateway-name', 'agg-gw',
      '--udp-port', '0', '--no-udp6', '--sys-interval', '1', '--sys-prefix', 'fieldmq/sys',
    ]);
    procs.push(p);
    const s = await started(p);
    expect(s.line).toContain(`broker ${mosquitto.url} (MQTT 3.1.1)`);
    expect(s.line).toContain('aggregating mode');
    const sensor = await SnUdpSensor.open('127.0.0.1', s.udpPort);
    sensors.push(sensor);
    expect(await sensor.connect('agg-sensor')).toBe(0);
    const regack = await sensor.register('agg/humidity', 1);
    expect((await sensor.publishQos1(regack.topicId, 2, '55')).returnCode).toBe(0);
    await data.message('agg/humidity', '55');
    await data.message('fieldmq/sys/agg-gw/messages_in/1', '1');
    const from = mosquitto.log().length;
    p.signal('SIGTERM');
    expect(await p.waitForExit()).toBe(0);
    await mosquitto.waitForLog(/Client agg-gw-1 disconnected\./, { from });
    expect(data.latest('fieldmq/sys/agg-gw/state')).toBe('offline');
  });

  it('a Paho gateway.conf with predefinedTopic.conf: a QoS -1 PUBLISH on a predefined id arrives under its name', async () => {
    const confDir = mkdtempSync(join(dir, 'paho-'));
    writeFileSync(
      join(confDir, 'gateway.conf'),
      [
        '# as the Paho gateway ships it, broker and lists changed',
        'GatewayID=5',
        'GatewayName=PahoGateway-05',
        'BrokerName=127.0.0.1',
        `BrokerPortNo=${mosquitto.port}`,
        'QoS-1=YES',
        'PredefinedTopic=YES',
        'PredefinedTopicList=predefinedTopic.conf',
        'GatewayPortNo=10000',
        '',
      ].join('\n'),
    );
    writeFileSync(join(confDir, 'predefinedTopic.conf'), '# ClientId,TopicName,TopicId\n*,paho/alarm,1\n');
    const data = await watch(mosquitto.url, 'paho/#');
    watchers.push(data);
    const p = runCli(['--config', join(confDir, 'gateway.conf'), '--udp-port', '0']);
    procs.push(p);
    const s = await started(p);
    expect(s.line).toContain('"PahoGateway-05" (id 5)');
    const sensor = await SnUdpSensor.open('127.0.0.1', s.udpPort);
    sensors.push(sensor);
    sensor.send(MsgType.PUBLISH, (m) => {
      m.qos = -1;
      m.topicIdType = 1; // predefined
      m.topicId = 1;
      m.text = 'fire';
    });
    await data.message('paho/alarm', 'fire');
    p.signal('SIGINT');
    expect(await p.waitForExit()).toBe(0);
  });
});
