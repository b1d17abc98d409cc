/**
 * The gateway's counters as Prometheus text (exposition format 0.0.4) on an HTTP port.
 *
 * `GET /metrics` (also `HEAD`, and with any query string) answers every family of
 * {@link metricFamilies}, named `fieldmq_<name>` and labelled `gateway="<gatewayName>"` first;
 * any other path is 404, any other method 405. The server binds `0.0.0.0` unless told otherwise
 * (a Prometheus server scrapes the Pi over the LAN); it serves nothing but counters.
 *
 * @example
 * ```ts
 * const server = await startMetricsServer({ port: 9100, metrics, gatewayName: 'gw1' });
 * // curl http://pi:9100/metrics
 * // # HELP fieldmq_messages_in_total PUBLISH accepted from clients, by QoS
 * // # TYPE fieldmq_messages_in_total counter
 * // fieldmq_messages_in_total{gateway="gw1",qos="-1"} 12
 * await server.stop();
 * ```
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { metricFamilies, type GatewayMetrics, type MetricFamily } from '../metrics';

/** Prefix of every metric name. */
export const METRIC_PREFIX = 'fieldmq_';

/** The Content-Type of exposition format 0.0.4. */
export const PROMETHEUS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

/** Escapes a label value: backslash, double quote and line feed (format 0.0.4). */
export function escapeLabelValue(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

/** Escapes `# HELP` text: backslash and line feed (format 0.0.4). */
export function escapeHelp(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
}

/** A sample value as Prometheus writes it (`NaN`, `+Inf`, `-Inf`, or the number). */
export function formatValue(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  return String(v);
}

/**
 * Renders metric families as Prometheus text format 0.0.4: per family `# HELP`, `# TYPE`, then
 * one line per sample, `fieldmq_<name>{gateway="<gatewayName>",<labels>} <value>`. Ends with a
 * line feed.
 * @param source - the registry, or families already built (e.g. with extra ones appended).
 * @param gatewayName - the value of the `gateway` label on every sample.
 */
export function renderPrometheus(source: GatewayMetrics | readonly MetricFamily[], gatewayName: string): string {
  const families = Array.isArray(source) ? (source as readonly MetricFamily[]) : metricFamilies(source as GatewayMetrics);
  const gw = `gateway="${escapeLabelValue(gatewayName)}"`;
  let out = '';
  for (const f of families) {
    const name = METRIC_PREFIX + f.name;
    out += `# HELP ${name} ${escapeHelp(f.help)}\n# TYPE ${name} ${f.type}\n`;
    for (const s of f.samples) {
      let labels = gw;
      for (const k of Object.keys(s.labels)) labels += `,${k}="${escapeLabelValue(s.labels[k]!)}"`;
      out += `${name}{${labels}} ${formatValue(s.value)}\n`;
    }
  }
  return out;
}

/** Options of {@link startMetricsServer}. */
export interface MetricsServerOptions {
  /** TCP port; 0 lets the OS choose (tests). */
  port: number;
  /** Address to bind. Default `0.0.0.0`. */
  host?: string;
  /** The registry to render on each scrape. */
  metrics: GatewayMetrics;
  /** Value of the `gateway` label. */
  gatewayName: string;
}

/** A running metrics endpoint. */
export interface MetricsServer {
  /** The address bound. */
  readonly host: string;
  /** The port bound. */
  readonly port: number;
  /** `http://<host>:<port>/metrics` (`localhost` when bound to every interface). */
  readonly url: string;
  /** Closes the listener and open connections. Idempotent. */
  stop(): Promise<void>;
}

/** The metrics endpoint could not listen (port in use, no permission). `name` is `'MetricsServerError'`. */
export class MetricsServerError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'MetricsServerError';
  }
}

/**
 * Starts the HTTP endpoint; resolves once it listens.
 * @throws {@link MetricsServerError} with a message naming the port and `--metrics-port`.
 */
export async function startMetricsServer(options: MetricsServerOptions): Promise<MetricsServer> {
  const host = options.host ?? '0.0.0.0';
  const server = http.createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (path !== '/metrics') {
      res.writeHead(404, { 'Content-Type': 'text/plain; charset=utf-8' });
      res.end('Not found: the metrics are at /metrics\n');
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { 'Content-Type': 'text/plain; charset=utf-8', Allow: 'GET, HEAD' });
      res.end('Method not allowed\n');
      return;
    }
    const body = renderPrometheus(options.metrics, options.gatewayName);
    res.writeHead(200, { 'Content-Type': PROMETHEUS_CONTENT_TYPE, 'Content-Length': Buffer.byteLength(body) });
    res.end(req.method === 'HEAD' ? undefined : body);
  });
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.port, host, () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    const where = `${host.includes(':') ? `[${host}]` : host}:${options.port}`;
    const why =
      err.code === 'EADDRINUSE'
        ? 'the port is already in use; choose another with --metrics-port'
        : err.code === 'EACCES'
          ? 'permission denied (ports below 1024 need privileges); choose another with --metrics-port'
          : err.code === 'EADDRNOTAVAIL'
            ? `${host} is not an address of this machine`
            : err.message;
    throw new MetricsServerError(`cannot start the metrics endpoint on ${where}: ${why}`, { cause: e });
  }
  const addr = server.address() as AddressInfo;
  const shown = addr.address === '0.0.0.0' || addr.address === '::' ? 'localhost' : addr.address.includes(':') ? `[${addr.address}]` : addr.address;
  let stopped: Promise<void> | null = null;
  return {
    host: addr.address,
    port: addr.port,
    url: `http://${shown}:${addr.port}/metrics`,
    stop() {
      stopped ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      return stopped;
    },
  };
}
