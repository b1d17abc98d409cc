/**
 * The `$SYS/fieldmq/<gateway>/…` publisher: topic naming (pure), then the real path — the
 * gateway's broker link (`createBrokerLink`) publishing into the embedded broker and into a
 * real Mosquitto, read back by MQTT.js subscribers.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startEmbeddedBroker, type EmbeddedBroker } from '../../../gateway/broker/embedded';
import { brokerAt, createBrokerLink } from '../../../gateway/broker/index';
import type { BrokerLink } from '../../../gateway/broker/link';
import { defaultConfig } from '../../../gateway/config/schema';
import { createLogger, silentLogger } from '../../../gateway/log';
import { GatewayMetrics, metricFamilies, qosIndex } from '../../../gateway/metrics';
import { SysPublisher, sysBase, sysMessages, topicLevel } from '../../../gateway/observability/sys';
import { waitFor } from '../../support/peers';
import { requireMosquitto, startMosquitto, type MosquittoBroker } from '../../support/mosquitto';
import { watch, type Watcher } from './mqtt-watch';

describe('$SYS topic names', () => {
  it('one topic per sample: the metric name without _total, then one level per label value', () => {
    const m = new GatewayMetrics();
    m.messagesIn[qosIndex(-1)] = 5;
    m.drop('malformed');
    m.clients.active = 2;
    const msgs = new Map(sysMessages(m, '$SYS/fieldmq/gw'));
    expect(msgs.get('$SYS/fieldmq/gw/messages_in/-1')).toBe('5');
    expect(msgs.get('$SYS/fieldmq/gw/messages_in/2')).toBe('0');
    expect(msgs.get('$SYS/fieldmq/gw/drops/malformed')).toBe('1');
    expect(msgs.get('$SYS/fieldmq/gw/clients/active')).toBe('2');
    expect(msgs.get('$SYS/fieldmq/gw/packets_in')).toBe('0');
    expect(msgs.get('$SYS/fieldmq/gw/buffered_messages')).toBe('0');
    expect(msgs.size).toBe(metricFamilies(m).reduce((n, f) => n + f.samples.length, 0));
  });

  it('makes the gateway name one topic level (/ + # become _)', () => {
    expect(topicLevel('site/a+b#c')).toBe('site_a_b_c');
    expect(topicLevel('')).toBe('_');
    expect(sysBase('$SYS/fieldmq/', 'pi/north')).toBe('$SYS/fieldmq/pi_north');
  });

  it('refuses an interval that is not positive', () => {
    const link = { publish: () => 0 };
    expect(() => new SysPublisher({ link, metrics: new GatewayMetrics(), gatewayName: 'g', intervalMs: 0 })).toThrow(RangeError);
  });

  it('publishes nothing after stop but the offline state, and counts what the link refused', () => {
    const sent: string[] = [];
    let full = false;
    const link = {
      publish: (_c: string | null, topic: string, payload: Uint8Array) => {
        if (full) return -1;
        sent.push(`${topic}=${new TextDecoder().decode(payload)}`);
        return 0;
      },
    };
    const p = new SysPublisher({ link, metrics: new GatewayMetrics(), gatewayName: 'g', intervalMs: 60_000 });
    p.start();
    expect(sent[0]).toBe('$SYS/fieldmq/g/state=online');
    full = true;
    p.publishNow();
    expect(p.skipped).toBe(sysMessages(new GatewayMetrics(), p.base).length + 1);
    full = false;
    p.stop();
    const n = sent.length;
    p.stop();
    expect(sent[n - 1]).toBe('$SYS/fieldmq/g/state=offline');
    expect(sent).toHaveLength(n);
  });
});

describe('SysPublisher › through the broker link into the embedded broker', () => {
  let broker: EmbeddedBroker;
  const links: BrokerLink[] = [];
  const watchers: Watcher[] = [];
  const publishers: SysPublisher[] = [];
  let n = 0;

  beforeAll(async () => {
    broker = await startEmbeddedBroker({ port: 0, host: '127.0.0.1' });
  });
  afterAll(async () => {
    await broker?.stop();
  });
  afterEach(async () => {
    for (const p of publishers.splice(0)) p.stop();
    await Promise.all(links.splice(0).map((l) => l.stop()));
    await Promise.all(watchers.splice(0).map((w) => w.close()));
  });

  async function link(mode: 'aggregating' | 'transparent'): Promise<BrokerLink> {
    const cfg = { ...defaultConfig(), mode, gatewayName: `sys-test-${++n}` };
    const l = createBrokerLink(cfg, { broker: brokerAt(broker.connectHost, broker.port), log: silentLogger() });
    l.handlers = { onMessage: () => {} };
    links.push(l);
    await l.start();
    return l;
  }

  async function subscriber(filter: string): Promise<Watcher> {
    const w = await watch(broker.connectUrl, filter);
    watchers.push(w);
    return w;
  }

  function publisher(l: BrokerLink, metrics: GatewayMetrics, gatewayName: string, intervalMs = 60_000): SysPublisher {
    const p = new SysPublisher({ link: l, metrics, gatewayName, intervalMs, version: '9.8.7' });
    publishers.push(p);
    return p;
  }

  for (const mode of ['aggregating', 'transparent'] as const) {
    it(`${mode} link: state, version, uptime and every counter arrive at a subscriber at start`, async () => {
      const w = await subscriber(`$SYS/fieldmq/gw-${mode}/#`);
      const metrics = new GatewayMetrics();
      metrics.messagesIn[qosIndex(1)] = 42;
      publisher(await link(mode), metrics, `gw-${mode}`).start();
      const base = `$SYS/fieldmq/gw-${mode}`;
      const last = sysMessages(metrics, base).at(-1)![0];
      await w.message(last);
      expect(w.latest(`${base}/state`)).toBe('online');
      expect(w.latest(`${base}/version`)).toBe('9.8.7');
      expect(w.latest(`${base}/uptime`)).toBe('0');
      expect(w.latest(`${base}/messages_in/1`)).toBe('42');
      for (const [topic, payload] of sysMessages(metrics, base)) expect(w.latest(topic), topic).toBe(payload);
    });
  }

  it('a subscriber arriving later gets the latest values as retained messages', async () => {
    const first = await subscriber('$SYS/fieldmq/gw-retained/#');
    const metrics = new GatewayMetrics();
    metrics.drop('congestion');
    publisher(await link('aggregating'), metrics, 'gw-retained').start();
    await first.message('$SYS/fieldmq/gw-retained/drops/congestion', '1');
    await first.message(sysMessages(metrics, '$SYS/fieldmq/gw-retained').at(-1)![0]);
    const late = await subscriber('$SYS/fieldmq/gw-retained/#');
    const got = await late.message('$SYS/fieldmq/gw-retained/drops/congestion', '1');
    expect(got.retain).toBe(true);
    expect((await late.message('$SYS/fieldmq/gw-retained/state')).payload).toBe('online');
  });

  it('publishes the current values again every interval', async () => {
    const w = await subscriber('$SYS/fieldmq/gw-interval/#');
    const metrics = new GatewayMetrics();
    publisher(await link('aggregating'), metrics, 'gw-interval', 50).start();
    await w.message('$SYS/fieldmq/gw-interval/retransmissions', '0');
    metrics.retransmissions = 3;
    await w.message('$SYS/fieldmq/gw-interval/retransmissions', '3');
  });

  it('stop publishes state offline, retained', async () => {
    const w = await subscriber('$SYS/fieldmq/gw-stop/state');
    const p = publisher(await link('aggregating'), new GatewayMetrics(), 'gw-stop');
    p.start();
    await w.message('$SYS/fieldmq/gw-stop/state', 'online');
    p.stop();
    await w.message('$SYS/fieldmq/gw-stop/state', 'offline');
    const late = await subscriber('$SYS/fieldmq/gw-stop/state');
    expect((await late.message('$SYS/fieldmq/gw-stop/state', 'offline')).retain).toBe(true);
  });
});

describe.runIf(requireMosquitto())('SysPublisher › against Mosquitto 2', () => {
  let mosquitto: MosquittoBroker;
  const links: BrokerLink[] = [];
  const watchers: Watcher[] = [];
  const publishers: SysPublisher[] = [];

  beforeAll(async () => {
    mosquitto = await startMosquitto({ config: 'log_type debug' });
  });
  afterAll(async () => {
    await mosquitto?.stop();
  });
  afterEach(async () => {
    for (const p of publishers.splice(0)) p.stop();
    await Promise.all(links.splice(0).map((l) => l.stop()));
    await Promise.all(watchers.splice(0).map((w) => w.close()));
  });

  async function setup(gatewayName: string, version: 4 | 5, prefix?: string) {
    const lines: string[] = [];
    let onLine: () => void = () => {};
    const log = createLogger({
      level: 'warn',
      write: (l) => {
        lines.push(l);
        onLine();
      },
    });
    const cfg = { ...defaultConfig(), mode: 'aggregating' as const, gatewayName };
    const link = createBrokerLink(cfg, { broker: brokerAt(mosquitto.host, mosquitto.port, version), log: silentLogger() });
    link.handlers = { onMessage: () => {} };
    links.push(link);
    await link.start();
    const p = new SysPublisher({ link, metrics: new GatewayMetrics(), gatewayName, intervalMs: 60_000, log, ...(prefix ? { prefix } : {}) });
    publishers.push(p);
    const line = (re: RegExp) =>
      waitFor(`a log line matching ${re}`, () => lines.find((l) => re.test(l)), (f) => ((onLine = f), () => (onLine = () => {})), 10_000, () => lines.join('\n'));
    return { p, lines, line };
  }

  it('refuses a client publish under $SYS/ (even QoS 0 over 3.1.1, silently)', async () => {
    const from = mosquitto.log().length;
    const { p } = await setup('gw-m4', 4);
    p.start();
    await mosquitto.waitForLog(/Denied PUBLISH from \S+ \(d0, q1, r1, m\d+, '\$SYS\/fieldmq\/gw-m4\/state'/, { from });
    await mosquitto.waitForLog(/Denied PUBLISH from \S+ \(d0, q0, r1, m0, '\$SYS\/fieldmq\/gw-m4\/uptime'/, { from });
  });

  it('over MQTT 5 the refusal is logged with the --sys-prefix remedy', async () => {
    const { p, line } = await setup('gw-m5', 5);
    p.start();
    const warning = await line(/--sys-prefix/);
    expect(warning).toMatch(/WARN .*refused the gateway's counters under \$SYS\/fieldmq\/gw-m5\/ \(reason code 0x87\)/);
  });

  it('with another prefix (fieldmq/sys) the counters reach Mosquitto subscribers', async () => {
    const w = await watch(mosquitto.url, 'fieldmq/sys/gw-prefix/#');
    watchers.push(w);
    const { p } = await setup('gw-prefix', 4, 'fieldmq/sys');
    p.start();
    await w.message('fieldmq/sys/gw-prefix/state', 'online');
    await w.message('fieldmq/sys/gw-prefix/drops/malformed', '0');
  });
});
