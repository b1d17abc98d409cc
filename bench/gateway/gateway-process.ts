/**
 * The gateway under test, in its own process (forked by `bench/gateway.ts`): the real
 * `startGateway` of `gateway/main.ts` (UdpSensorTransport + createBrokerLink + Gateway),
 * log level error, no metrics endpoint, no `$SYS` publisher (it would add to Mosquitto's
 * received count). Answers requests for its counters, its CPU time, its memory after forced
 * collections, and CPU profiles of a window (node:inspector, written as .cpuprofile).
 */
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';
import { startGateway, type RunningGateway } from '../../gateway/main';
import { brokerAt } from '../../gateway/broker/index';
import { defaultConfig, type GatewayConfig } from '../../gateway/config/schema';
import { createLogger } from '../../gateway/log';
import { DROP_REASONS } from '../../gateway/metrics';
import { serve } from './rpc';

export interface GatewayStartArgs {
  mode: 'aggregating' | 'transparent';
  brokerHost: string;
  brokerPort: number;
  maxClients: number;
  /**
   * Experiment only (default off): SO_RCVBUF of the gateway's UDP socket, set from outside
   * the gateway after start, to show what the setting changes. The gateway itself sets none.
   */
  rcvbuf?: number;
}

export interface GatewaySnapshot {
  /** Datagrams handed to the core, PUBLISH accepted by QoS (-1, 0, 1, 2), messages handed to the broker link. */
  packetsIn: number;
  packetsOut: number;
  messagesIn: number[];
  brokerOut: number;
  drops: Record<string, number>;
  clients: Record<string, number>;
  /** process.cpuUsage(), µs. */
  cpuUser: number;
  cpuSystem: number;
  /** Wall clock of the snapshot (performance.timeOrigin + now), ms. */
  at: number;
}

export interface GatewayMemory {
  heapUsed: number;
  heapTotal: number;
  external: number;
  arrayBuffers: number;
  rss: number;
}

let running: RunningGateway | null = null;
let profiler: Session | null = null;

function gc(): void {
  const g = (globalThis as { gc?: () => void }).gc;
  if (!g) throw new Error('the gateway process needs --expose-gc');
  g();
}

function post(session: Session, method: string, params?: object): Promise<unknown> {
  return new Promise((resolve, reject) => {
    session.post(method, params ?? {}, (err, res) => (err ? reject(err) : resolve(res)));
  });
}

serve(
  {
    async start(a: GatewayStartArgs) {
      const cfg: GatewayConfig = {
        ...defaultConfig(),
        gatewayName: 'fieldmq-bench',
        // Port 0: the OS picks; multicast port 0 likewise (nothing in the bench uses it).
        udp: { port: 0, multicastIp: '225.1.1.1', multicastPort: 0, multicastTtl: 1 },
        broker: brokerAt(a.brokerHost, a.brokerPort, 4),
        mode: a.mode,
        maxClients: a.maxClients,
        logLevel: 'error',
        sysInterval: 0,
        metricsPort: null,
      };
      running = await startGateway(cfg, { log: createLogger({ level: 'error' }) });
      const udp = running.listening.find((l) => l.name === 'udp');
      if (!udp || !udp.port) throw new Error('the gateway has no UDP port');
      let rcvbuf = 0;
      const sock = (running.transports[0] as unknown as { unicast?: { setRecvBufferSize(n: number): void; getRecvBufferSize(): number } }).unicast;
      if (sock) {
        if (a.rcvbuf) sock.setRecvBufferSize(a.rcvbuf);
        rcvbuf = sock.getRecvBufferSize();
      }
      return { port: udp.port, pid: process.pid, rcvbuf, summary: running.summary };
    },
    snapshot(): GatewaySnapshot {
      const m = running!.metrics;
      const cpu = process.cpuUsage();
      const drops: Record<string, number> = {};
      for (const r of DROP_REASONS) drops[r] = m.drops[r];
      return {
        packetsIn: m.packetsIn,
        packetsOut: m.packetsOut,
        messagesIn: Array.from(m.messagesIn),
        brokerOut: m.brokerOut,
        drops,
        clients: { ...m.clients },
        cpuUser: cpu.user,
        cpuSystem: cpu.system,
        at: performance.timeOrigin + performance.now(),
      };
    },
    async memory(): Promise<GatewayMemory> {
      // Let pending socket work settle, then collect until the heap stops shrinking.
      await new Promise((r) => setTimeout(r, 200));
      let prev = Infinity;
      for (let i = 0; i < 6; i++) {
        gc();
        const h = process.memoryUsage().heapUsed;
        if (h >= prev - 1024) break;
        prev = h;
        await new Promise((r) => setImmediate(r));
      }
      const u = process.memoryUsage();
      return { heapUsed: u.heapUsed, heapTotal: u.heapTotal, external: u.external, arrayBuffers: u.arrayBuffers, rss: u.rss };
    },
    async profileStart() {
      profiler = new Session();
      profiler.connect();
      await post(profiler, 'Profiler.enable');
      await post(profiler, 'Profiler.setSamplingInterval', { interval: 250 });
      await post(profiler, 'Profiler.start');
      return true;
    },
    async profileStop(a: { file: string }) {
      if (!profiler) throw new Error('no profile running');
      const res = (await post(profiler, 'Profiler.stop')) as { profile: unknown };
      profiler.disconnect();
      profiler = null;
      writeFileSync(a.file, JSON.stringify(res.profile));
      return a.file;
    },
    clientCount() {
      return running!.gateway.clients().length;
    },
  },
  async () => {
    if (running) await running.stop();
  },
);
