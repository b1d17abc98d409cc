/**
 * Node.js glue that stands in for the boards: it builds the transport each simulated node is
 * attached by (UDP through {@link NodeUdpTransport}, or a serial device through
 * {@link NodeSerialTransport} wrapped in {@link SerialDatagramTransport}), runs every node's
 * `poll(now)` from one timer and whenever a datagram arrives, with the SDK's Node clock, and
 * stops them in order. Everything a board would do differently lives here, not in `sensor.ts`.
 *
 * @example
 * ```ts
 * const host = new SensorHost({ log: console.log });
 * await host.addUdp({ clientId: 'node-1', qos: 1, style: TopicStyle.Name, interval: 2000 }, { host: '127.0.0.1', port: 1884 });
 * host.start();
 * // ...
 * await host.stop();
 * ```
 */
import type { Clock, DatagramTransport } from '../src/index';
import { SnState, TransportState } from '../src/index';
import { NodeUdpTransport, nodeClock } from '../src/platform/node/index';
import { NodeSerialTransport } from './node-serial';
import { SerialDatagramTransport } from '../src/mqttsn/serial-datagram';
import { QUANTITY_NAMES, Sensor, TopicStyle, predefinedTopicsFor, sensorTopics } from './sensor';
import { DECIMALS } from './signal';

/** What one simulated node is. */
export interface NodeSpec {
  /** ClientId, also the `<id>` in its topics. */
  clientId: string;
  /** QoS of its readings: -1, 0, 1, 2. */
  qos: number;
  /** How it names its reading topics. */
  style: TopicStyle;
  /** Milliseconds between readings (sleeping node: its cycle). */
  interval: number;
  /** Start as a sleeping node. */
  sleeper?: boolean;
  /** Short topic names end in this character (`t1`, `h1`, `b1`); default the last character of the ClientId. */
  tag?: string;
  /** First predefined topic id (style Predefined); default 100. */
  predefinedBase?: number;
  /** Keep-alive, seconds; default 60. */
  keepAlive?: number;
  /** T_RETRY, ms; default 5000. */
  tRetry?: number;
  /** Signal seed. */
  seed?: number;
}

/** A node the host runs. */
export interface SimNode {
  readonly spec: NodeSpec;
  readonly sensor: Sensor;
  readonly transport: DatagramTransport;
  /** Its reading topics as the broker sees them: names (predefined ids resolved) or short names. */
  readonly brokerTopics: readonly string[];
  /** `udp 127.0.0.1:1884` or `serial /dev/pts/3`. */
  readonly attachment: string;
}

/** One reading handed to the SDK, for logs and tests. */
export interface ReadingEvent {
  node: SimNode;
  /** 0 temperature, 1 humidity, 2 battery. */
  quantity: number;
  /** Topic at the broker. */
  topic: string;
  /** Payload as published (`21.7`). */
  text: string;
  qos: number;
}

/** Options of {@link SensorHost}. */
export interface SensorHostOptions {
  /** The clock; default the SDK's Node clock. */
  clock?: Clock;
  /** Poll period, ms; default 20. */
  tick?: number;
  /** Lines for people: connects, commands, sleep, errors. */
  log?: ((line: string) => void) | null;
  /** Every reading handed to the SDK. */
  onReading?: ((r: ReadingEvent) => void) | null;
}

/** Runs simulated nodes in this process. */
export class SensorHost {
  /** The nodes, in the order they were added. */
  readonly nodes: SimNode[] = [];
  private readonly clock: Clock;
  private readonly tick: number;
  private readonly log: ((line: string) => void) | null;
  private readonly onReading: ((r: ReadingEvent) => void) | null;
  private timer: NodeJS.Timeout | null = null;
  private soon: NodeJS.Immediate | null = null;
  private readonly closers: (() => Promise<void>)[] = [];
  /** Woken after every poll pass (stop() waits on it). */
  private passWaiters: (() => void)[] = [];

  constructor(o: SensorHostOptions = {}) {
    this.clock = o.clock ?? nodeClock;
    this.tick = o.tick ?? 20;
    this.log = o.log ?? null;
    this.onReading = o.onReading ?? null;
  }

  /** Adds a node attached over UDP to the gateway at `gateway`; its socket is bound when this resolves. */
  async addUdp(spec: NodeSpec, gateway: { host: string; port: number }): Promise<SimNode> {
    const t = new NodeUdpTransport({ address: gateway.host, port: gateway.port, onReadable: () => this.kick() });
    await t.ready();
    this.closers.push(async () => t.close());
    return this.add(spec, t, `udp ${gateway.host}:${gateway.port}`);
  }

  /** Adds a node attached over the serial device `path` (raw MQTT-SN framing); resolves once the device is open. */
  async addSerial(spec: NodeSpec, path: string, baudRate = 9600): Promise<SimNode> {
    const line = new NodeSerialTransport({ path, baudRate });
    const t = new SerialDatagramTransport({ stream: line, onReadable: () => this.kick() });
    t.open();
    await line.ready();
    this.closers.push(() => line.closed());
    return this.add(spec, t, `serial ${path}`);
  }

  /** Starts every node (CONNECT, or QoS -1 readings) and the poll timer. */
  start(): void {
    for (const n of this.nodes) n.sensor.start();
    if (this.timer === null) this.timer = setInterval(() => this.pass(), this.tick);
    this.kick();
  }

  /**
   * Stops every node with DISCONNECT (no Will), waits up to `timeoutMs` for the gateway to
   * answer, then closes the transports and the timer. Sleeping nodes are disconnected too.
   */
  async stop(timeoutMs = 2000): Promise<void> {
    for (const n of this.nodes) n.sensor.stop();
    this.kick();
    const deadline = Date.now() + timeoutMs;
    while (
      this.timer !== null &&
      Date.now() < deadline &&
      this.nodes.some((n) => n.spec.qos >= 0 && n.sensor.state() !== SnState.Disconnected && n.transport.state() === TransportState.Open)
    ) {
      await new Promise<void>((resolve) => this.passWaiters.push(resolve));
    }
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
    if (this.soon !== null) clearImmediate(this.soon);
    this.soon = null;
    for (const w of this.passWaiters.splice(0)) w();
    for (const c of this.closers.splice(0)) await c();
  }

  private add(spec: NodeSpec, transport: DatagramTransport, attachment: string): SimNode {
    const id = spec.clientId;
    const base = spec.predefinedBase ?? 100;
    const tag = spec.tag ?? id.charAt(id.length - 1);
    const topics = sensorTopics(spec.style, id, tag, base);
    const names = spec.style === TopicStyle.Predefined ? predefinedTopicsFor(id, base).map((p) => p[0]) : topics.map(String);
    let node: SimNode;
    const sensor = new Sensor({
      transport,
      clientId: id,
      topics,
      qos: spec.qos,
      interval: spec.interval,
      ...(spec.sleeper ? { sleeper: true } : {}),
      ...(spec.keepAlive !== undefined ? { keepAlive: spec.keepAlive } : {}),
      ...(spec.tRetry !== undefined ? { tRetry: spec.tRetry } : {}),
      ...(spec.seed !== undefined ? { seed: spec.seed } : {}),
      onReading: (q, v, qos) => {
        if (this.onReading) this.onReading({ node, quantity: q, topic: names[q]!, text: formatFixed(v, DECIMALS[q]!), qos });
      },
      onEvent: (what) => {
        if (this.log) this.log(`${id}: ${what}`);
      },
    });
    node = { spec, sensor, transport, brokerTopics: names, attachment };
    this.nodes.push(node);
    return node;
  }

  /** Polls soon (a datagram arrived). */
  private kick(): void {
    if (this.soon === null && this.timer !== null) {
      this.soon = setImmediate(() => {
        this.soon = null;
        this.pass();
      });
    }
  }

  private pass(): void {
    const now = this.clock.now();
    for (const n of this.nodes) n.sensor.poll(now);
    for (const w of this.passWaiters.splice(0)) w();
  }
}

/** `value / 10^decimals` as text, as the node publishes it. */
export function formatFixed(value: number, decimals: number): string {
  const neg = value < 0;
  const s = String(Math.abs(value)).padStart(decimals + 1, '0');
  const out = decimals > 0 ? `${s.slice(0, s.length - decimals)}.${s.slice(s.length - decimals)}` : s;
  return neg ? `-${out}` : out;
}

/** Unit of each quantity, for people. */
export const UNITS: readonly string[] = ['°C', '%', 'V'];

export { QUANTITY_NAMES, TopicStyle, predefinedTopicsFor };

/** `name`, `predefined`, `short` → {@link TopicStyle}; null for anything else. */
export function parseTopicStyle(s: string): TopicStyle | null {
  return s === 'name' ? TopicStyle.Name : s === 'predefined' ? TopicStyle.Predefined : s === 'short' ? TopicStyle.Short : null;
}

/** {@link TopicStyle} → `name`, `predefined`, `short`. */
export function topicStyleName(s: TopicStyle): string {
  return s === TopicStyle.Predefined ? 'predefined' : s === TopicStyle.Short ? 'short' : 'name';
}
