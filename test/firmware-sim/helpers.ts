/**
 * Shared by the firmware-sim end-to-end tests: the real gateway (`startGateway` from
 * `gateway/main.ts`) on loopback with short timers, an MQTT.js watcher on the broker side that
 * records every message and waits on them with deadlines, and the simulated nodes' host.
 * Nothing sleeps a fixed time: every wait is an event with a deadline.
 */
import { EventEmitter } from 'node:events';
import mqtt, { type MqttClient } from 'mqtt';
import { brokerAt } from '../../gateway/broker/index';
import { defaultConfig, type GatewayConfig } from '../../gateway/config/schema';
import { createLogger } from '../../gateway/log';
import { startGateway, type RunningGateway } from '../../gateway/main';
import { SensorHost, type ReadingEvent } from '../../firmware-sim/node';
import { waitFor } from '../support/peers';

/** Deadline of one awaited event, ms. */
export const DEADLINE = 5000;

/** A message the watcher received. */
export interface Seen {
  topic: string;
  payload: string;
  qos: number;
  retain: boolean;
  /** `Date.now()` at arrival. */
  at: number;
}

/** An MQTT.js client subscribed to `#` that keeps everything it receives. */
export class Watcher {
  readonly seen: Seen[] = [];
  private readonly events = new EventEmitter();
  private constructor(readonly client: MqttClient) {
    client.on('message', (topic, payload, packet) => {
      this.seen.push({ topic, payload: payload.toString(), qos: packet.qos, retain: packet.retain, at: Date.now() });
      this.events.emit('change');
    });
  }

  /** Connects to `url` and subscribes to `#` at QoS 2; resolves once the SUBACK is in. */
  static async connect(url: string): Promise<Watcher> {
    const client = mqtt.connect(url, { reconnectPeriod: 0, connectTimeout: DEADLINE });
    await new Promise<void>((resolve, reject) => {
      client.once('connect', () => resolve());
      client.once('error', reject);
    });
    await client.subscribeAsync('#', { qos: 2 });
    return new Watcher(client);
  }

  /** Messages matching `pred`. */
  matching(pred: (m: Seen) => boolean): Seen[] {
    return this.seen.filter(pred);
  }

  /** Resolves with the `n`th message (1-based) matching `pred`, waiting up to `ms`. */
  nth(what: string, pred: (m: Seen) => boolean, n = 1, ms = DEADLINE): Promise<Seen> {
    return waitFor(
      what,
      () => this.matching(pred)[n - 1],
      (changed) => {
        this.events.on('change', changed);
        return () => this.events.off('change', changed);
      },
      ms,
      () => `the broker delivered: ${this.seen.map((m) => `${m.topic}=${m.payload}`).join(', ') || 'nothing'}`,
    );
  }

  publish(topic: string, payload: string, qos: 0 | 1 | 2 = 1): Promise<unknown> {
    return this.client.publishAsync(topic, payload, { qos });
  }

  end(): Promise<void> {
    return this.client.endAsync(true);
  }
}

/** Options of {@link startTestGateway}. */
export interface TestGatewayOptions {
  /** The broker the gateway links to. */
  broker: { host: string; port: number };
  /** UDP on 127.0.0.1, port 0 (default true). */
  udp?: boolean;
  /** Raw serial on this device. */
  serial?: string;
  /** Extra config changes. */
  edit?: (c: GatewayConfig) => void;
}

/** The real gateway, as `main.ts` builds it, on loopback with a fast tick; log lines are kept for failure messages. */
export async function startTestGateway(o: TestGatewayOptions): Promise<{ running: RunningGateway; udpPort: number; log: string[] }> {
  const c = defaultConfig();
  c.gatewayName = 'fieldmq-e2e';
  c.broker = brokerAt(o.broker.host, o.broker.port, 4);
  c.udp = o.udp === false ? null : { port: 0, multicastIp: '225.1.1.1', multicastPort: 0, multicastTtl: 1 };
  if (o.serial) c.serial = { path: o.serial, baud: 9600 };
  c.advertiseInterval = 900;
  o.edit?.(c);
  const log: string[] = [];
  const running = await startGateway(c, {
    log: createLogger({ level: 'debug', write: (l) => log.push(l) }),
    timers: { tick: 20, tRetry: 2000 },
  });
  const udpPort = running.listening.find((l) => l.name === 'udp')?.port ?? 0;
  return { running, udpPort, log };
}

/** A host for simulated nodes that records every reading handed to the SDK and every node event. */
export function recordingHost(): {
  host: SensorHost;
  readings: ReadingEvent[];
  events: string[];
  /** Resolves once a node event containing `text` has been logged (deadline `ms`). */
  until(text: string, ms?: number): Promise<void>;
} {
  const readings: ReadingEvent[] = [];
  const events: string[] = [];
  const emitter = new EventEmitter();
  const host = new SensorHost({
    tick: 10,
    log: (l) => {
      events.push(l);
      emitter.emit('change');
    },
    onReading: (r) => readings.push(r),
  });
  const until = (text: string, ms = DEADLINE): Promise<void> =>
    waitFor(
      `node event "${text}"`,
      () => (events.some((e) => e.includes(text)) ? true : undefined),
      (changed) => {
        emitter.on('change', changed);
        return () => emitter.off('change', changed);
      },
      ms,
      () => `node events: ${events.join(' | ')}`,
    ).then(() => undefined);
  return { host, readings, events, until };
}
