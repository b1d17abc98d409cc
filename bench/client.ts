/**
 * Client benchmark (issue #3): QoS 0 and QoS 1 publish throughput of the
 * fieldmq MqttClient beside MQTT.js, against the same local broker in the
 * same run; garbage per 100,000 messages; RAM held by one client.
 *
 * Throughput counts a run as done when the broker has everything: for QoS 1,
 * every PUBACK; for QoS 0, a final QoS 1 publish acknowledged after the last
 * one (the broker handles a connection's packets in order).
 */
import v8 from 'node:v8';
import mqtt from 'mqtt';
import { createRequire } from 'node:module';
import { MqttClient, ClientState } from '../src/mqtt/client';
import { NodeTcpTransport } from '../src/platform/node/tcp';
import { mosquittoPath, startMosquitto } from '../test/support/mosquitto';
import { startAedes } from '../test/support/aedes';
import { num, table } from './lib/measure';

const PEER_VERSION: string = createRequire(import.meta.url)('mqtt/package.json').version;
const payload = new Uint8Array(16).fill(0x41);
const topic = 'bench/greenhouse/7/temperature';

function nowMs(): number {
  return Math.floor(performance.now()) >>> 0;
}

function turn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

async function fieldmqClient(host: string, port: number): Promise<MqttClient> {
  const c = new MqttClient({
    transport: new NodeTcpTransport({ host, port }),
    clientId: 'bench-fieldmq-' + process.pid,
    keepAlive: 60,
    maxPacketSize: 8192,
    maxInflight: 64,
    queueSize: 256,
  });
  c.start(nowMs());
  while (c.state !== ClientState.Connected) {
    c.poll(nowMs());
    await turn();
  }
  return c;
}

/** Publishes `n` messages with the fieldmq client; resolves when the broker has them all. */
async function fieldmqRun(c: MqttClient, n: number, qos: number): Promise<void> {
  const o = (c as unknown as { o: { onPublished?: (id: number, code: number) => void } }).o;
  let acked = 0;
  o.onPublished = () => acked++;
  let sent = 0;
  while (sent < n) {
    while (sent < n && c.publish(topic, payload, qos, false) >= 0) sent++;
    c.poll(nowMs());
    await turn();
  }
  const want = qos === 1 ? n : 1;
  if (qos === 0) while (c.publish(topic, payload, 1, false) < 0) (c.poll(nowMs()), await turn());
  while (acked < want) {
    c.poll(nowMs());
    await turn();
  }
  o.onPublished = undefined;
}

/**
 * MQTT.js at its best: batches of 500 publishes, each batch awaited (firing
 * all n at once makes it add a 'drain' listener per write and crawl).
 */
async function mqttjsRun(js: mqtt.MqttClient, n: number, qos: 0 | 1): Promise<void> {
  const buf = Buffer.from(payload);
  for (let start = 0; start < n; start += 500) {
    const k = Math.min(500, n - start);
    let done = 0;
    await new Promise<void>((resolve, reject) => {
      const cb = (err?: Error): void => {
        if (err) return reject(err);
        if (++done === k) resolve();
      };
      for (let i = 0; i < k; i++) js.publish(topic, buf, { qos }, cb);
    });
  }
  if (qos === 0) await js.publishAsync(topic, buf, { qos: 1 });
}

/** A transport that takes every byte and allocates nothing: the client measured alone. */
function nullTransport() {
  return {
    open: () => 0,
    close: () => {},
    state: () => 2,
    recv: () => 0,
    send: (_b: Uint8Array, _o: number, len: number) => len,
  };
}

async function rateOf(run: (n: number) => Promise<void>, n: number): Promise<number> {
  const t0 = performance.now();
  await run(n);
  return (n * 1000) / (performance.now() - t0);
}

function median(xs: number[]): number {
  const s = xs.slice().sort((a, b) => a - b);
  return s[s.length >> 1];
}

/** Runs the client benchmark; returns whether the targets were met. */
export async function runClientBench(quick: boolean): Promise<boolean> {
  const useMosquitto = mosquittoPath() !== null;
  const broker = useMosquitto ? await startMosquitto() : await startAedes();
  const brokerName = useMosquitto ? 'Mosquitto' : 'aedes (Mosquitto not installed)';
  const c = await fieldmqClient(broker.host, broker.port);
  const js = await mqtt.connectAsync(broker.url, { clientId: 'bench-mqttjs-' + process.pid, protocolVersion: 4, reconnectPeriod: 0 });
  const rounds = quick ? 3 : 5;
  const n = quick ? 20_000 : 100_000;
  console.log(`\n## MQTT client: fieldmq vs MQTT.js ${PEER_VERSION}, publishing to ${brokerName} on loopback (16-byte payloads, messages/s, median of ${rounds} paired rounds)\n`);

  const rows: string[][] = [];
  let qos0Ratio = 0;
  for (const qos of [0, 1] as const) {
    await fieldmqRun(c, 2000, qos); // warm up both
    await mqttjsRun(js, 2000, qos);
    const f: number[] = [];
    const p: number[] = [];
    const r: number[] = [];
    for (let i = 0; i < rounds; i++) {
      const a = await rateOf((k) => fieldmqRun(c, k, qos), n);
      const b = await rateOf((k) => mqttjsRun(js, k, qos), n);
      f.push(a);
      p.push(b);
      r.push(a / b);
    }
    if (qos === 0) qos0Ratio = median(r);
    rows.push([`QoS ${qos} publish`, num(median(f)), num(median(p)), median(r).toFixed(1) + '×']);
  }
  table(['', 'fieldmq', 'MQTT.js', 'ratio'], rows);

  // Garbage per 100,000 QoS 0 messages: collections seen while publishing.
  console.log('\n## Garbage per 100,000 QoS 0 messages (publisher side)\n');
  const gRows: string[][] = [];
  for (const [name, run] of [
    ['fieldmq', (k: number) => fieldmqRun(c, k, 0)],
    ['MQTT.js', (k: number) => mqttjsRun(js, k, 0)],
  ] as const) {
    (globalThis as { gc?: () => void }).gc?.();
    const profiler = new v8.GCProfiler();
    profiler.start();
    const before = process.memoryUsage().heapUsed;
    await run(100_000);
    const after = process.memoryUsage().heapUsed;
    const gcs = profiler.stop().statistics;
    const freed = gcs.reduce((s, g) => s + Math.max(0, g.beforeGC.heapStatistics.usedHeapSize - g.afterGC.heapStatistics.usedHeapSize), 0);
    gRows.push([name, num(Math.max(0, after - before) + freed), num(gcs.length, 6)]);
  }
  // The client alone: a connected client on a transport that allocates nothing.
  {
    const alone = new MqttClient({ transport: nullTransport(), clientId: 'alone', keepAlive: 0, maxPacketSize: 8192 });
    alone.start(nowMs());
    alone.poll(nowMs());
    const connack = Uint8Array.of(0x20, 0x02, 0x00, 0x00);
    let fed = false;
    (alone as unknown as { t: { recv: (b: Uint8Array, o: number) => number } }).t.recv = (b: Uint8Array, o: number) => {
      if (fed) return 0;
      fed = true;
      b.set(connack, o);
      return 4;
    };
    alone.poll(nowMs());
    const burst = (k: number): void => {
      for (let i = 0; i < k; i++) {
        alone.publish(topic, payload, 0, false);
        if ((i & 63) === 0) alone.poll(1);
      }
    };
    // Warm up until the JIT has settled (code and feedback allocation end after a few 100k runs).
    for (let w = 0; w < 4; w++) burst(100_000);
    (globalThis as { gc?: () => void }).gc?.();
    const profiler = new v8.GCProfiler();
    profiler.start();
    const before = process.memoryUsage().heapUsed;
    burst(100_000);
    const after = process.memoryUsage().heapUsed;
    const gcs = profiler.stop().statistics.length;
    gRows.push(['fieldmq client alone (null transport)', num(Math.max(0, after - before)), num(gcs, 6)]);
  }
  table(['client', 'bytes allocated', 'GCs'], gRows);
  console.log('(bytes allocated = heap growth + what collections freed during the run. Over TCP the fieldmq figure is');
  console.log(" Node's socket layer, which allocates per write; the client alone allocates nothing per message)");

  // RAM held by one client with its default buffers.
  (globalThis as { gc?: () => void }).gc?.();
  const h0 = process.memoryUsage().heapUsed;
  const a0 = process.memoryUsage().arrayBuffers;
  const keep: MqttClient[] = [];
  for (let i = 0; i < 200; i++) keep.push(new MqttClient({ transport: new NodeTcpTransport({ host: '127.0.0.1', port: 1 }), clientId: 'ram' + i }));
  (globalThis as { gc?: () => void }).gc?.();
  const perClient = (process.memoryUsage().heapUsed - h0 + process.memoryUsage().arrayBuffers - a0) / keep.length;
  console.log(`\n## RAM held by one client with default buffers (1 KB packets, 16-slot outbox)\n\n${num(perClient, 0)} bytes per client (Node heap + typed-array storage, average of ${keep.length})`);

  c.disconnect();
  await js.endAsync(true);
  await broker.stop();
  const ok = qos0Ratio >= 2;
  console.log(`\nTarget: QoS 0 publish ≥ 2× MQTT.js → ${qos0Ratio.toFixed(1)}× ${ok ? 'MET' : 'MISSED'}`);
  return ok;
}
