/**
 * The Prometheus endpoint: the text format 0.0.4 as rendered, and the HTTP server answering real
 * requests (fetch) on a port chosen by the OS.
 */
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { GatewayMetrics, metricFamilies, qosIndex } from '../../../gateway/metrics';
import {
  MetricsServerError,
  PROMETHEUS_CONTENT_TYPE,
  escapeLabelValue,
  formatValue,
  renderPrometheus,
  startMetricsServer,
  type MetricsServer,
} from '../../../gateway/observability/prometheus';

/** A sample line of format 0.0.4: name, optional {labels}, value (no timestamps here). */
const SAMPLE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)\{((?:[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\\\|\\"|\\n)*",?)*)\} (\S+)$/;

function samples(text: string): { name: string; labels: string; value: string }[] {
  return text
    .split('\n')
    .filter((l) => l !== '' && !l.startsWith('#'))
    .map((l) => {
      const m = SAMPLE.exec(l);
      if (!m) throw new Error(`not a 0.0.4 sample line: ${JSON.stringify(l)}`);
      return { name: m[1]!, labels: m[2]!, value: m[3]! };
    });
}

describe('renderPrometheus', () => {
  it('writes HELP and TYPE once per family, before its samples, with the fieldmq_ prefix', () => {
    const text = renderPrometheus(new GatewayMetrics(), 'gw1');
    const families = metricFamilies(new GatewayMetrics());
    for (const f of families) {
      const name = `fieldmq_${f.name}`;
      const help = text.indexOf(`# HELP ${name} ${f.help}\n`);
      const type = text.indexOf(`# TYPE ${name} ${f.type}\n`);
      const first = text.indexOf(`\n${name}{`);
      expect(help, name).toBeGreaterThanOrEqual(0);
      expect(type, name).toBeGreaterThan(help);
      expect(first, name).toBeGreaterThan(type);
      expect(text.split(`# TYPE ${name} `).length, name).toBe(2);
    }
    expect(text.endsWith('\n')).toBe(true);
  });

  it('labels every sample with the gateway first, then the family labels', () => {
    const m = new GatewayMetrics();
    m.messagesIn[qosIndex(-1)] = 3;
    m.drop('malformed');
    m.drop('malformed');
    m.clients.asleep = 4;
    m.packetsIn = 12;
    const text = renderPrometheus(m, 'gw1');
    expect(text).toContain('fieldmq_messages_in_total{gateway="gw1",qos="-1"} 3\n');
    expect(text).toContain('fieldmq_messages_in_total{gateway="gw1",qos="2"} 0\n');
    expect(text).toContain('fieldmq_drops_total{gateway="gw1",reason="malformed"} 2\n');
    expect(text).toContain('fieldmq_clients{gateway="gw1",state="asleep"} 4\n');
    expect(text).toContain('fieldmq_packets_in_total{gateway="gw1"} 12\n');
    for (const s of samples(text)) expect(s.labels.startsWith('gateway="gw1"')).toBe(true);
  });

  it('has one sample per family sample, every line in the 0.0.4 grammar', () => {
    const m = new GatewayMetrics();
    const expected = metricFamilies(m).reduce((n, f) => n + f.samples.length, 0);
    expect(samples(renderPrometheus(m, 'gw1'))).toHaveLength(expected);
  });

  it('escapes backslash, double quote and line feed in the gateway label', () => {
    expect(escapeLabelValue('a"b\\c\nd')).toBe('a\\"b\\\\c\\nd');
    const text = renderPrometheus(new GatewayMetrics(), 'pi "north"\\1\nx');
    expect(text).toContain('fieldmq_retransmissions_total{gateway="pi \\"north\\"\\\\1\\nx"} 0\n');
    expect(() => samples(text)).not.toThrow();
  });

  it('writes NaN and infinities as Prometheus spells them', () => {
    expect([formatValue(NaN), formatValue(Infinity), formatValue(-Infinity), formatValue(1.5), formatValue(0)]).toEqual([
      'NaN',
      '+Inf',
      '-Inf',
      '1.5',
      '0',
    ]);
  });

  it('renders families given directly (extra families appended by a caller)', () => {
    const text = renderPrometheus([{ name: 'up', help: 'Up', type: 'gauge', samples: [{ labels: {}, value: 1 }] }], 'g');
    expect(text).toBe('# HELP fieldmq_up Up\n# TYPE fieldmq_up gauge\nfieldmq_up{gateway="g"} 1\n');
  });
});

describe('startMetricsServer', () => {
  const servers: MetricsServer[] = [];
  afterEach(async () => {
    await Promise.all(servers.splice(0).map((s) => s.stop()));
  });

  async function serve(metrics = new GatewayMetrics(), gatewayName = 'gw-http'): Promise<MetricsServer> {
    const s = await startMetricsServer({ port: 0, host: '127.0.0.1', metrics, gatewayName });
    servers.push(s);
    return s;
  }

  it('GET /metrics answers 200 with the 0.0.4 content type and the live counters', async () => {
    const m = new GatewayMetrics();
    const s = await serve(m);
    expect(s.url).toBe(`http://127.0.0.1:${s.port}/metrics`);
    let res = await fetch(s.url);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe(PROMETHEUS_CONTENT_TYPE);
    expect(await res.text()).toContain('fieldmq_retransmissions_total{gateway="gw-http"} 0\n');
    m.retransmissions = 7;
    res = await fetch(s.url);
    expect(await res.text()).toContain('fieldmq_retransmissions_total{gateway="gw-http"} 7\n');
  });

  it('ignores a query string on /metrics', async () => {
    const s = await serve();
    const res = await fetch(`${s.url}?name[]=fieldmq_clients`);
    expect(res.status).toBe(200);
  });

  it('HEAD /metrics answers the headers without a body', async () => {
    const s = await serve();
    const res = await fetch(s.url, { method: 'HEAD' });
    expect(res.status).toBe(200);
    expect(Number(res.headers.get('content-length'))).toBeGreaterThan(100);
    expect(await res.text()).toBe('');
  });

  it('answers 404 on any other path and 405 on other methods', async () => {
    const s = await serve();
    const base = `http://127.0.0.1:${s.port}`;
    expect((await fetch(`${base}/`)).status).toBe(404);
    expect((await fetch(`${base}/metrics/x`)).status).toBe(404);
    const post = await fetch(s.url, { method: 'POST', body: 'x' });
    expect(post.status).toBe(405);
    expect(post.headers.get('allow')).toBe('GET, HEAD');
  });

  it('binds 0.0.0.0 by default and shows localhost in its URL', async () => {
    const s = await startMetricsServer({ port: 0, metrics: new GatewayMetrics(), gatewayName: 'g' });
    servers.push(s);
    expect(s.host).toBe('0.0.0.0');
    expect(s.url).toBe(`http://localhost:${s.port}/metrics`);
    expect((await fetch(`http://127.0.0.1:${s.port}/metrics`)).status).toBe(200);
  });

  it('a port in use is a MetricsServerError naming the port and --metrics-port', async () => {
    const blocker = net.createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', r));
    const port = (blocker.address() as net.AddressInfo).port;
    try {
      const err = await startMetricsServer({ port, host: '127.0.0.1', metrics: new GatewayMetrics(), gatewayName: 'g' }).then(
        () => null,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(MetricsServerError);
      expect((err as Error).name).toBe('MetricsServerError');
      expect((err as Error).message).toContain(`127.0.0.1:${port}`);
      expect((err as Error).message).toContain('already in use');
      expect((err as Error).message).toContain('--metrics-port');
    } finally {
      await new Promise<void>((r) => blocker.close(() => r()));
    }
  });

  it('stop closes keep-alive connections and frees the port; a second stop is harmless', async () => {
    const s = await serve();
    await fetch(s.url, { keepalive: true });
    await s.stop();
    await s.stop();
    await expect(fetch(s.url)).rejects.toThrow();
    const again = await startMetricsServer({ port: s.port, host: '127.0.0.1', metrics: new GatewayMetrics(), gatewayName: 'g' });
    servers.push(again);
    expect(again.port).toBe(s.port);
  });
});
