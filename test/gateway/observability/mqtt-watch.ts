/**
 * An MQTT.js subscriber that records what it receives, with waits on deadlines (no sleeps), for
 * the observability and CLI tests.
 */
import mqtt, { type MqttClient } from 'mqtt';
import { waitFor } from '../../support/peers';

/** One message as received. */
export interface Seen {
  topic: string;
  payload: string;
  retain: boolean;
}

/** A connected subscriber and what it saw. */
export interface Watcher {
  readonly client: MqttClient;
  readonly seen: Seen[];
  /** The latest payload per topic. */
  latest(topic: string): string | undefined;
  /** Waits until `check` over the seen messages returns a value. */
  until<T>(what: string, check: (seen: readonly Seen[]) => T | undefined, timeoutMs?: number): Promise<T>;
  /** Waits for a message on `topic` (optionally with `payload`), seen after the call or before. */
  message(topic: string, payload?: string, timeoutMs?: number): Promise<Seen>;
  close(): Promise<void>;
}

/** Connects to `url`, subscribes to `filters` (QoS 1) and records every message. */
export async function watch(url: string, filters: string | string[], options: mqtt.IClientOptions = {}): Promise<Watcher> {
  const client = await mqtt.connectAsync(url, { reconnectPeriod: 0, connectTimeout: 5_000, ...options });
  const seen: Seen[] = [];
  const listeners = new Set<() => void>();
  client.on('message', (topic, payload, packet) => {
    seen.push({ topic, payload: payload.toString(), retain: packet.retain });
    for (const l of listeners) l();
  });
  await client.subscribeAsync(filters, { qos: 1 });
  const w: Watcher = {
    client,
    seen,
    latest(topic) {
      for (let i = seen.length - 1; i >= 0; i--) if (seen[i]!.topic === topic) return seen[i]!.payload;
      return undefined;
    },
    until(what, check, timeoutMs = 10_000) {
      return waitFor(
        what,
        () => check(seen),
        (f) => {
          listeners.add(f);
          return () => listeners.delete(f);
        },
        timeoutMs,
        () => `received so far:\n${seen.map((s) => `  ${s.topic} = ${s.payload}${s.retain ? ' (retained)' : ''}`).join('\n')}`,
      );
    },
    message(topic, payload, timeoutMs) {
      return w.until(
        `a message on ${topic}${payload === undefined ? '' : ` = ${payload}`}`,
        (s) => s.find((m) => m.topic === topic && (payload === undefined || m.payload === payload)),
        timeoutMs,
      );
    },
    close: () => client.endAsync(true),
  };
  return w;
}
