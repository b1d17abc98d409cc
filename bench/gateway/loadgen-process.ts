/**
 * The load generator, in its own process (forked by `bench/gateway.ts`): many simulated
 * MQTT-SN sensors, each its own UDP socket (so its own source address `127.0.0.1:<port>`, as
 * distinct sensors are), CONNECTed with a registered topic, publishing real MQTT-SN datagrams
 * to the gateway at a controlled rate.
 *
 * Why a separate process and not a worker thread: the gateway runs in a third process and
 * Mosquitto in a fourth, and each process's CPU time is then read on its own
 * (`process.cpuUsage()` of a worker covers the whole process); the generator's garbage
 * collections and event-loop stalls cannot pause the orchestrator that reads the counters.
 *
 * Rate control: a token bucket refilled from the monotonic clock at every tick of a 1 ms
 * timer (the generator sleeps between ticks, leaving the CPU to the gateway and the broker);
 * the bucket holds at most 8 ms of tokens (one late timer tick or a short collection), so
 * when the generator falls further behind it does not catch up with a burst: the achieved offered rate is then lower than the nominal one, and
 * the bench reports the achieved one. "Flat out" sends batches back to back, yielding to
 * the event loop between batches (PUBACKs must be read).
 *
 * QoS 1 follows MQTT-SN (§6.13): each client has at most one PUBLISH in flight; the next one
 * waits for its PUBACK; a PUBLISH without PUBACK after `retryMs` is sent again with DUP.
 *
 * Sockets are `connect()`ed to the gateway, so `send` skips the per-datagram address lookup.
 */
import dgram from 'node:dgram';
import mqtt from 'mqtt';
import { serve } from './rpc';
import * as sn from './sn';

interface Client {
  index: number;
  id: string;
  sock: dgram.Socket;
  topicId: number;
  /** CONNACK / REGACK waiters during setup. */
  waiter: ((type: number, msg: Buffer) => void) | null;
  /** Prebuilt QoS 0 and QoS 1 PUBLISH datagrams (payload patched in place where allowed). */
  pub0: Buffer;
  pub1: Buffer;
  msgId: number;
  inflight: boolean;
  sentAt: number;
  /** Index in the clients of the current run, or -1. */
  slot: number;
}

const clients: Client[] = [];
let gatewayPort = 0;
let gatewayHost = '127.0.0.1';
let payloadSize = 16;

/** Hooks of the running measurement, called by the sockets' message handlers. */
let onPuback: ((c: Client, msgId: number, rc: number) => void) | null = null;
let unexpected = 0;
let disconnects = 0;

function onDatagram(c: Client, msg: Buffer): void {
  if (msg.length < 2) return;
  const type = msg[1]!;
  if (type === sn.SN.PUBACK && msg.length >= 7) {
    if (onPuback) onPuback(c, (msg[4]! << 8) | msg[5]!, msg[6]!);
    return;
  }
  if (type === sn.SN.DISCONNECT) disconnects++;
  if (c.waiter) {
    c.waiter(type, msg);
    return;
  }
  unexpected++;
}

function openSocket(c: Client): Promise<void> {
  return new Promise((resolve, reject) => {
    const s = c.sock;
    s.once('error', reject);
    s.bind({ address: '127.0.0.1', port: 0 }, () => {
      s.connect(gatewayPort, gatewayHost, () => {
        s.removeListener('error', reject);
        s.on('error', () => {}); // ICMP port unreachable after the gateway stops, etc.
        resolve();
      });
    });
  });
}

/** Sends `pkt` and waits for a datagram of `want` (retrying after `timeoutMs`, `tries` times). */
function exchange(c: Client, pkt: Buffer, want: number, timeoutMs: number, tries: number): Promise<Buffer | null> {
  return new Promise((resolve) => {
    let left = tries;
    let timer: NodeJS.Timeout;
    const attempt = (): void => {
      if (left-- <= 0) {
        c.waiter = null;
        resolve(null);
        return;
      }
      c.sock.send(pkt);
      timer = setTimeout(attempt, timeoutMs);
    };
    c.waiter = (type, msg) => {
      if (type !== want) return;
      clearTimeout(timer);
      c.waiter = null;
      resolve(msg);
    };
    attempt();
  });
}

export interface SetupArgs {
  host: string;
  port: number;
  count: number;
  idPrefix: string;
  topicPrefix: string;
  /** CONNECT Duration, s. */
  keepAliveS: number;
  payload: number;
  /** CONNECTs outstanding at once. */
  window: number;
}

export interface SetupResult {
  connected: number;
  failed: number;
  ms: number;
  /** CONNACK / REGACK with a return code other than 0. */
  refused: number;
}

async function setup(a: SetupArgs): Promise<SetupResult> {
  gatewayHost = a.host;
  gatewayPort = a.port;
  payloadSize = a.payload;
  const t0 = performance.now();
  let failed = 0;
  let refused = 0;
  const start = clients.length;
  const todo: Client[] = [];
  for (let i = 0; i < a.count; i++) {
    const index = start + i;
    const size = sn.publishSize(payloadSize);
    const c: Client = {
      index,
      id: `${a.idPrefix}${index}`,
      sock: dgram.createSocket({ type: 'udp4' }),
      topicId: 0,
      waiter: null,
      pub0: Buffer.alloc(size),
      pub1: Buffer.alloc(size),
      msgId: 0,
      inflight: false,
      sentAt: 0,
      slot: -1,
    };
    c.sock.on('message', (m) => onDatagram(c, m));
    todo.push(c);
  }
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < todo.length) {
      const c = todo[next++]!;
      await openSocket(c);
      const ack = await exchange(c, sn.connect(c.id, a.keepAliveS), sn.SN.CONNACK, 3000, 5);
      if (ack === null) {
        failed++;
        c.sock.close();
        continue;
      }
      if (ack[2] !== 0) {
        refused++;
        c.sock.close();
        continue;
      }
      const topic = `${a.topicPrefix}/${c.index}`;
      const reg = await exchange(c, sn.register(1, topic), sn.SN.REGACK, 3000, 5);
      if (reg === null || reg[6] !== 0) {
        if (reg === null) failed++;
        else refused++;
        c.sock.close();
        continue;
      }
      c.topicId = (reg[2]! << 8) | reg[3]!;
      sn.writePublishHeader(c.pub0, 0, sn.TOPIC_NORMAL, c.topicId, 0);
      sn.writePublishHeader(c.pub1, 1, sn.TOPIC_NORMAL, c.topicId, 1);
      for (let k = sn.PUBLISH_DATA; k < c.pub0.length; k++) c.pub0[k] = c.pub1[k] = 0x61 + (k % 26);
      clients.push(c);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, a.window) }, worker));
  return { connected: clients.length - start, failed, ms: performance.now() - t0, refused };
}

// ── measurement windows ───────────────────────────────────────────────────────

export interface RunArgs {
  qos: 0 | 1;
  /** Messages per second; 0 = flat out. */
  rate: number;
  durationMs: number;
  /** After the window: how long to wait for the last PUBACKs (QoS 1). */
  drainMs: number;
  /** QoS 1: resend with DUP after this long without PUBACK. */
  retryMs: number;
  /** Use the first `clients` clients (0 = all). */
  clients: number;
  /** Put a timestamp (performance.now(), float64) at the start of each payload. Latency runs. */
  stamp: boolean;
}

export interface RunResult {
  /** Distinct PUBLISH sent (retransmissions not counted). */
  sent: number;
  /** Window length as run, ms. */
  elapsedMs: number;
  /** QoS 1: PUBACK accepted (0), refused (≠ 0), retransmissions, still unacknowledged after the drain. */
  acked: number;
  refused: number;
  refusedCodes: Record<string, number>;
  retransmissions: number;
  outstanding: number;
  /** QoS 1: send (the last transmission) → PUBACK, ms. */
  ackP50: number;
  ackP99: number;
  /** How far the generator lagged behind its schedule at the end (tokens it could not spend). */
  behind: number;
  /** Generator CPU over the window, % of one core. */
  cpuPct: number;
  /** DISCONNECTs received from the gateway (a client dropped). */
  disconnects: number;
}

/** Token bucket depth, seconds of the rate: how much a late tick may catch up (see the module comment). */
const BUCKET_S = 0.008;

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

async function run(a: RunArgs): Promise<RunResult> {
  const n = a.clients > 0 ? Math.min(a.clients, clients.length) : clients.length;
  if (n === 0) throw new Error('no connected clients');
  const cs = clients.slice(0, n);
  const qos1 = a.qos === 1;
  let sent = 0;
  let acked = 0;
  let refused = 0;
  let retrans = 0;
  const refusedCodes: Record<string, number> = {};
  const ackLat = new Float64Array(1 << 20);
  let ackN = 0;
  disconnects = 0;
  // Ready ring (QoS 1: clients with nothing in flight).
  const ring = new Int32Array(n + 1);
  let head = 0;
  let tail = 0;
  let ready = 0;
  for (const c of clients) c.slot = -1;
  for (let i = 0; i < n; i++) {
    cs[i]!.inflight = false;
    cs[i]!.slot = i;
    ring[tail] = i;
    tail = (tail + 1) % ring.length;
    ready++;
  }
  let rr = 0; // QoS 0 round robin
  onPuback = (c, msgId, rc) => {
    if (!c.inflight || msgId !== c.msgId) return; // late duplicate
    c.inflight = false;
    const now = performance.now();
    if (rc === 0) {
      acked++;
      if (ackN < ackLat.length) ackLat[ackN++] = now - c.sentAt;
    } else {
      refused++;
      refusedCodes[rc] = (refusedCodes[rc] ?? 0) + 1;
    }
    if (c.slot >= 0) {
      ring[tail] = c.slot;
      tail = (tail + 1) % ring.length;
      ready++;
    }
  };
  const stampBuf = Buffer.alloc(8);
  const sendOne = (now: number): boolean => {
    if (!qos1) {
      const c = cs[rr]!;
      rr = rr + 1 === n ? 0 : rr + 1;
      if (a.stamp) {
        const b = Buffer.from(c.pub0); // a fresh datagram: the socket may still hold the last one
        b.writeDoubleLE(now, sn.PUBLISH_DATA);
        c.sock.send(b);
      } else c.sock.send(c.pub0);
      sent++;
      return true;
    }
    if (ready === 0) return false;
    const c = cs[ring[head]!]!;
    head = (head + 1) % ring.length;
    ready--;
    c.msgId = c.msgId >= 0xffff ? 1 : c.msgId + 1;
    sn.setPublishMsgId(c.pub1, c.msgId, false);
    if (a.stamp) {
      stampBuf.writeDoubleLE(now, 0);
      stampBuf.copy(c.pub1, sn.PUBLISH_DATA);
    }
    c.inflight = true;
    c.sentAt = now;
    c.sock.send(c.pub1);
    sent++;
    return true;
  };
  // QoS 1 retransmission sweep.
  const sweep = setInterval(() => {
    const now = performance.now();
    for (const c of cs) {
      if (c.inflight && now - c.sentAt > a.retryMs) {
        sn.setPublishMsgId(c.pub1, c.msgId, true);
        c.sock.send(c.pub1);
        c.sentAt = now;
        retrans++;
      }
    }
  }, Math.max(50, a.retryMs / 4));

  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const end = t0 + a.durationMs;
  let credit = 0;
  let last = t0;
  const bucket = Math.max(8, a.rate * BUCKET_S);
  let behind = 0;
  await new Promise<void>((resolve) => {
    const tick = (): void => {
      const now = performance.now();
      if (now >= end) {
        resolve();
        return;
      }
      if (a.rate > 0) {
        credit += ((now - last) * a.rate) / 1000;
        last = now;
        if (credit > bucket) credit = bucket;
        while (credit >= 1 && sendOne(now)) credit--;
        behind = credit;
        setTimeout(tick, 1);
      } else {
        for (let k = 0; k < 200; k++) if (!sendOne(now)) break;
        setImmediate(tick);
      }
    };
    tick();
  });
  const elapsedMs = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  // Drain: the last PUBACKs (and retransmissions) of QoS 1.
  if (qos1) {
    const until = performance.now() + a.drainMs;
    while (performance.now() < until && cs.some((c) => c.inflight)) await sleep(20);
  }
  clearInterval(sweep);
  const outstanding = qos1 ? cs.filter((c) => c.inflight).length : 0;
  for (const c of cs) c.inflight = false;
  onPuback = null;
  const lat = ackLat.subarray(0, ackN).sort();
  return {
    sent,
    elapsedMs,
    acked,
    refused,
    refusedCodes,
    retransmissions: retrans,
    outstanding,
    ackP50: percentile(lat, 50),
    ackP99: percentile(lat, 99),
    behind,
    cpuPct: ((cpu.user + cpu.system) / 1000 / elapsedMs) * 100,
    disconnects,
  };
}

// ── end-to-end latency ───────────────────────────────────────────────────────

export interface LatencyArgs extends Omit<RunArgs, 'stamp'> {
  brokerUrl: string;
  /**
   * Control run: no gateway. An MQTT publisher in this process (MQTT.js) publishes the same
   * timestamped payloads straight to the broker at the same rate, to `<filter base>/direct`:
   * the latency floor of this machine, broker and subscriber.
   */
  direct?: boolean;
  /** Filter matching every client's topic. */
  filter: string;
  /** Samples of the first `warmupMs` are not counted. */
  warmupMs: number;
}

export interface LatencyResult {
  run: RunResult;
  /** Messages the subscriber received (all, and after the warm-up). */
  received: number;
  samples: number;
  p50: number;
  p90: number;
  p99: number;
  p999: number;
  max: number;
}

async function latency(a: LatencyArgs): Promise<LatencyResult> {
  const sub = mqtt.connect(a.brokerUrl, { clientId: `fieldmq-bench-sub-${process.pid}`, clean: true, reconnectPeriod: 0 });
  await new Promise<void>((resolve, reject) => {
    sub.once('connect', () => resolve());
    sub.once('error', reject);
  });
  await sub.subscribeAsync(a.filter, { qos: 0 });
  const lat = new Float64Array(1 << 21);
  let n = 0;
  let received = 0;
  let countFrom = Infinity;
  sub.on('message', (_t, payload) => {
    const now = performance.now();
    received++;
    if (payload.length < 8) return;
    const ts = payload.readDoubleLE(0);
    if (ts >= countFrom && n < lat.length) lat[n++] = now - ts;
  });
  countFrom = performance.now() + a.warmupMs;
  const r = a.direct ? await runDirect(a) : await run({ ...a, stamp: true });
  await sleep(500); // the last deliveries
  await sub.endAsync();
  const s = lat.subarray(0, n).sort();
  return {
    run: r,
    received,
    samples: n,
    p50: percentile(s, 50),
    p90: percentile(s, 90),
    p99: percentile(s, 99),
    p999: percentile(s, 99.9),
    max: n ? s[n - 1]! : NaN,
  };
}

/** The control run of {@link LatencyArgs.direct}: same pacing as `run`, MQTT publisher instead of sensors. */
async function runDirect(a: LatencyArgs): Promise<RunResult> {
  const pub = mqtt.connect(a.brokerUrl, { clientId: `fieldmq-bench-pub-${process.pid}`, clean: true, reconnectPeriod: 0 });
  await new Promise<void>((resolve, reject) => {
    pub.once('connect', () => resolve());
    pub.once('error', reject);
  });
  const topic = a.filter.replace(/#$/, 'direct');
  let sent = 0;
  let acked = 0;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const end = t0 + a.durationMs;
  let credit = 0;
  let last = t0;
  const bucket = Math.max(8, a.rate * BUCKET_S);
  await new Promise<void>((resolve) => {
    const tick = (): void => {
      const now = performance.now();
      if (now >= end) {
        resolve();
        return;
      }
      credit += ((now - last) * a.rate) / 1000;
      last = now;
      if (credit > bucket) credit = bucket;
      while (credit >= 1) {
        const b = Buffer.alloc(payloadSize);
        b.writeDoubleLE(now, 0);
        pub.publish(topic, b, { qos: a.qos }, a.qos ? () => acked++ : undefined);
        sent++;
        credit--;
      }
      setTimeout(tick, 1);
    };
    tick();
  });
  const elapsedMs = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  await sleep(200);
  await pub.endAsync();
  return {
    sent,
    elapsedMs,
    acked,
    refused: 0,
    refusedCodes: {},
    retransmissions: 0,
    outstanding: a.qos ? sent - acked : 0,
    ackP50: NaN,
    ackP99: NaN,
    behind: 0,
    cpuPct: ((cpu.user + cpu.system) / 1000 / elapsedMs) * 100,
    disconnects: 0,
  };
}

async function closeAll(): Promise<number> {
  const bye = sn.disconnect();
  for (const c of clients) {
    try {
      c.sock.send(bye);
    } catch {
      /* closed */
    }
  }
  await sleep(100);
  for (const c of clients) c.sock.close();
  const n = clients.length;
  clients.length = 0;
  return n;
}

serve(
  {
    setup,
    run,
    latency,
    close: closeAll,
    count: () => clients.length,
  },
  async () => {
    await closeAll();
  },
);
