/**
 * What the bench counts outside the gateway:
 *
 * - **Mosquitto's own received-PUBLISH counter**, `$SYS/broker/publish/messages/received`,
 *   published when it changed, every 2 s with `sys_interval 1` (Mosquitto updates `$SYS` when
 *   `now - sys_interval > last_update`, in whole seconds), read by one subscriber to that one topic.
 *   Why this rather than a subscriber to the benchmark topics: a subscriber would make
 *   Mosquitto forward every message again (doubling its socket work) and would itself need a
 *   core to parse 70,000 messages/s, on a machine with two; the `$SYS` counter costs the
 *   broker one small publication per second and counts exactly the PUBLISH packets it took in
 *   (it is incremented in Mosquitto's PUBLISH handler, before routing). Nothing else
 *   publishes during a window (the gateway's own `$SYS` publisher is off), so its increase
 *   is what the gateway delivered. Its one-second granularity is handled by reading it only
 *   once it has settled (no change for longer than the interval) after a drain period.
 * - **The kernel's UDP counters** (`/proc/net/snmp`: datagrams received, dropped because a
 *   socket's receive buffer was full), which say where a datagram the gateway never saw went.
 * - **CPU time of a process** (`/proc/<pid>/stat`), for Mosquitto.
 */
import { readFileSync, readdirSync } from 'node:fs';
import mqtt from 'mqtt';
import { startMosquitto, type MosquittoBroker } from '../../test/support/mosquitto';

/** A private Mosquitto for the bench: no persistence (a benchmark of the gateway should not time the broker's disk), `$SYS` every second. */
export async function startBenchBroker(): Promise<{ broker: MosquittoBroker; pid: number }> {
  const broker = await startMosquitto({
    config: ['persistence false', 'autosave_on_changes false', 'sys_interval 1', 'max_connections -1'].join('\n'),
  });
  const pid = findPid(`${broker.dir}/mosquitto.conf`);
  return { broker, pid };
}

/** The pid of the process whose command line contains `needle`, or 0. */
function findPid(needle: string): number {
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const cmd = readFileSync(`/proc/${d}/cmdline`, 'utf8');
      if (cmd.includes(needle)) return Number(d);
    } catch {
      /* gone */
    }
  }
  return 0;
}

/** user + system CPU time of `pid`, ms (0 when unreadable). */
export function cpuMs(pid: number): number {
  if (!pid) return 0;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(f[11]) + Number(f[12]); // utime, stime (fields 14, 15)
    return (ticks * 1000) / 100; // USER_HZ is 100 on Linux
  } catch {
    return 0;
  }
}

/** CPU time the whole machine spent busy (every CPU, all but idle and iowait), ms (`/proc/stat`). */
export function machineBusyMs(): number {
  const line = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0]!;
  const f = line.trim().split(/\s+/).slice(1).map(Number);
  // user nice system idle iowait irq softirq steal ...
  const busy = f[0]! + f[1]! + f[2]! + f[5]! + f[6]! + (f[7] ?? 0);
  return (busy * 1000) / 100;
}

/** Resident set size of `pid`, bytes. */
export function rssOf(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

/** System-wide UDP counters (`/proc/net/snmp`). */
export interface UdpCounters {
  inDatagrams: number;
  inErrors: number;
  rcvbufErrors: number;
  noPorts: number;
}

export function udpCounters(): UdpCounters {
  const lines = readFileSync('/proc/net/snmp', 'utf8').split('\n').filter((l) => l.startsWith('Udp:'));
  const keys = lines[0]!.split(/\s+/).slice(1);
  const vals = lines[1]!.split(/\s+/).slice(1).map(Number);
  const get = (k: string) => vals[keys.indexOf(k)] ?? 0;
  return { inDatagrams: get('InDatagrams'), inErrors: get('InErrors'), rcvbufErrors: get('RcvbufErrors'), noPorts: get('NoPorts') };
}

export function udpDelta(a: UdpCounters, b: UdpCounters): UdpCounters {
  return {
    inDatagrams: b.inDatagrams - a.inDatagrams,
    inErrors: b.inErrors - a.inErrors,
    rcvbufErrors: b.rcvbufErrors - a.rcvbufErrors,
    noPorts: b.noPorts - a.noPorts,
  };
}

/** One reading of the broker's counter: its value and when it arrived (performance.now(), ms). */
export interface Sample {
  at: number;
  value: number;
}

/** Follows `$SYS/broker/publish/messages/received` (see the module comment). */
export class BrokerCounter {
  private client: mqtt.MqttClient | null = null;
  readonly samples: Sample[] = [];
  private waiters: (() => void)[] = [];

  async start(url: string): Promise<void> {
    const c = mqtt.connect(url, { clientId: `fieldmq-bench-sys-${process.pid}`, clean: true, reconnectPeriod: 0 });
    await new Promise<void>((resolve, reject) => {
      c.once('connect', () => resolve());
      c.once('error', reject);
    });
    c.on('message', (_topic, payload) => {
      this.samples.push({ at: performance.now(), value: Number(payload.toString()) });
      if (this.samples.length > 4096) this.samples.splice(0, 2048);
      for (const w of this.waiters.splice(0)) w();
    });
    await c.subscribeAsync('$SYS/broker/publish/messages/received', { qos: 0 });
    this.client = c;
  }

  async stop(): Promise<void> {
    await this.client?.endAsync();
    this.client = null;
  }

  /** The last value seen (0 before any). */
  get value(): number {
    return this.samples.length ? this.samples[this.samples.length - 1]!.value : 0;
  }

  /** When the bench last sent traffic towards the broker (performance.now(), ms); see {@link BrokerCounter.settled}. */
  trafficUntil = 0;

  /**
   * Waits until neither the counter nor the bench's traffic ({@link BrokerCounter.trafficUntil})
   * has changed for `quietMs`, at most `maxMs`; returns the settled value. Mosquitto publishes
   * the counter only when it changed, at most every 2 s: after the last change it publishes
   * once more within 2 s, so 3 s of quiet after both means the last value is in.
   */
  async settled(quietMs = 3000, maxMs = 30_000): Promise<number> {
    const until = performance.now() + maxMs;
    for (;;) {
      const sample = this.samples.length ? this.samples[this.samples.length - 1]!.at : 0;
      const last = Math.max(sample, this.trafficUntil);
      const now = performance.now();
      if (now - last >= quietMs || now >= until) return this.value;
      await new Promise((r) => setTimeout(r, Math.min(200, quietMs - (now - last) + 10)));
    }
  }

  /**
   * Rate over [from, to] (performance.now() ms) from the samples inside it: (last − first) /
   * their time apart, per second. NaN with fewer than two samples.
   */
  rate(from: number, to: number): number {
    const s = this.samples.filter((x) => x.at >= from && x.at <= to);
    if (s.length < 2) return NaN;
    const a = s[0]!;
    const b = s[s.length - 1]!;
    return ((b.value - a.value) * 1000) / (b.at - a.at);
  }
}
