/**
 * The firmware of one simulated sensor node, written as device code: an {@link SnClient} on
 * whatever {@link DatagramTransport} the board has, advanced only by {@link Sensor.poll} with
 * the time the board's clock gives, every buffer allocated in the constructor. It uses only the
 * public SDK (`src/index.ts`) and only syntax and built-ins Espruino runs (DESIGN.md §4), so the
 * same file runs on a board; the Node glue (sockets, serial port, timers) is in `node.ts`.
 *
 * What the node does (MQTT-SN 1.2 section numbers in brackets):
 *
 * - **Connects** [§6.2] with a Will (`sensors/<id>/status` = `offline`, retained, QoS 1) and a
 *   persistent session (CleanSession off, so topic ids and the command subscription survive
 *   sleep cycles [§6.3]); an always-on node then publishes `online` there (retained, QoS 1).
 * - **Publishes readings** every `interval` ms: temperature, humidity and battery voltage as
 *   decimal text (`21.7`, `48.3`, `3.297`), on registered topic names [§6.5], predefined topic
 *   ids or 2-character short topic names [§6.7], at QoS 0, 1 or 2 [§6.6] — or at QoS -1 [§6.8],
 *   which needs no connection at all (predefined or short topics only; such a node hears no
 *   commands).
 * - **Obeys commands** on `cmd/<id>/#` (subscribed at QoS 1; the gateway REGISTERs each command
 *   topic before it delivers it [§6.10]):
 *   `cmd/<id>/interval` `<ms>` sets the period (100 .. 3,600,000 ms);
 *   `cmd/<id>/sleep` `<s>` makes it a sleeping node with an `s`-second cycle, `0` makes it an
 *   always-on node again, an empty payload makes it sleep with its current period. Each command
 *   is answered on `sensors/<id>/ack` (QoS 1): `interval 500`, `sleep 5`, `awake`, or an error.
 * - **Sleeps** [§6.14] when it is a sleeping node: after each batch of readings it publishes
 *   `asleep` on its status topic (retained, QoS 1); once that is acknowledged — requests are
 *   served in order, so everything before it went out too — it sends DISCONNECT with the sleep
 *   duration. The client wakes after the duration with a PINGREQ, the gateway sends what it
 *   buffered (commands), PINGRESP ends the awake period; the node then CONNECTs, publishes the
 *   next readings, and sleeps again.
 *
 * @example
 * ```ts
 * const s = new Sensor({ transport: udp, clientId: 'node-1', qos: 1, interval: 5000,
 *   topics: sensorTopics(TopicStyle.Name, 'node-1', '1', 0) });
 * s.start();
 * setInterval(() => s.poll(clock.now()), 20);
 * ```
 */
import { SnClient, SnState, Status, elapsed, statusName } from '../src/index';
import type { DatagramTransport } from '../src/index';
import { DECIMALS, QUANTITIES, Signal, parseUint, writeFixed } from './signal';

/** How a node names the topics of its readings. */
export const enum TopicStyle {
  /** Topic names, registered with REGISTER (`sensors/<id>/temp`). */
  Name = 0,
  /** Predefined topic ids both sides know from configuration. */
  Predefined = 1,
  /** Two-character short topic names (`t1`), sent in the topic id field. */
  Short = 2,
}

/** Last path segment of each reading's topic name, by quantity. */
export const QUANTITY_NAMES: readonly string[] = ['temp', 'humidity', 'battery'];

/** The topic name of a reading: `sensors/<clientId>/<temp|humidity|battery>`. */
export function readingTopicName(clientId: string, quantity: number): string {
  return 'sensors/' + clientId + '/' + QUANTITY_NAMES[quantity];
}

/**
 * The three reading topics of a node in `style`: names (`sensors/<id>/temp` ...), predefined
 * ids (`predefinedBase`, `+1`, `+2`: configure the gateway with {@link predefinedTopicsFor}), or
 * short names (`t`, `h`, `b` followed by the one-character `tag`).
 */
export function sensorTopics(style: number, clientId: string, tag: string, predefinedBase: number): (string | number)[] {
  const out: (string | number)[] = [];
  for (let q = 0; q < QUANTITIES; q++) {
    if (style === TopicStyle.Predefined) out.push(predefinedBase + q);
    else if (style === TopicStyle.Short) out.push('thb'.charAt(q) + tag.charAt(0));
    else out.push(readingTopicName(clientId, q));
  }
  return out;
}

/** The `[topicName, topicId]` pairs a gateway needs for a node using predefined ids from `base`. */
export function predefinedTopicsFor(clientId: string, base: number): [string, number][] {
  const out: [string, number][] = [];
  for (let q = 0; q < QUANTITIES; q++) out.push([readingTopicName(clientId, q), base + q]);
  return out;
}

/** Options of {@link Sensor}. */
export interface SensorOptions {
  /** The link to the gateway: open (or opening); handle 0 must be the gateway. */
  transport: DatagramTransport;
  /** MQTT-SN ClientId, also the `<id>` in every topic. 1..23 characters. */
  clientId: string;
  /** Topics of temperature, humidity and battery, as {@link sensorTopics} makes them. */
  topics: (string | number)[];
  /** QoS of the readings: -1, 0, 1 or 2. */
  qos: number;
  /** Milliseconds between readings (a sleeping node: its sleep cycle, rounded to seconds). */
  interval: number;
  /** Start as a sleeping node. Default false. */
  sleeper?: boolean;
  /** Keep-alive in seconds. Default 60. */
  keepAlive?: number;
  /** T_RETRY in ms (MQTT-SN §6.13). Default 5000. */
  tRetry?: number;
  /** N_RETRY. Default 3. */
  nRetry?: number;
  /** Seed of the simulated signal; the same seed gives the same readings. Default: from the ClientId. */
  seed?: number;
  /** A reading was handed to the client: quantity (0 temp, 1 humidity, 2 battery), value in fixed point, QoS. */
  onReading?: ((quantity: number, value: number, qos: number) => void) | null;
  /** Something a log should show (connected, a command, asleep, an error). Rare: never per reading. */
  onEvent?: ((what: string) => void) | null;
}

/** Shortest and longest accepted reading period, ms. */
export const MIN_INTERVAL = 100;
export const MAX_INTERVAL = 3600000;

/** Longest payload a reading can have (`-200.0`, `3.297`). */
const PAYLOAD_MAX = 12;

/** A simulated sensor node. Build it, call {@link Sensor.start}, then {@link Sensor.poll} often. */
export class Sensor {
  /** Readings handed to the client. */
  published: number;
  /** Readings the client refused (queue full, not connected). */
  dropped: number;
  /** Commands received and applied. */
  commands: number;
  /** Completed sleep cycles (woke up and fetched buffered messages). */
  wakeups: number;

  private readonly c: SnClient;
  private readonly topics: (string | number)[];
  private readonly qos: number;
  private readonly signal: Signal;
  /** Payload buffer and one view of it per length, made once: no allocation per reading. */
  private readonly pb: Uint8Array;
  private readonly views: Uint8Array[];
  private readonly statusTopic: string;
  private readonly ackTopic: string;
  private readonly cmdFilter: string;
  private readonly cmdInterval: string;
  private readonly cmdSleep: string;
  private readonly onReading: ((quantity: number, value: number, qos: number) => void) | null;
  private readonly onEvent: ((what: string) => void) | null;
  private ms: number;
  private sleepy: boolean;
  /** Running: connect (or, at QoS -1, publish) until stopped. */
  private on: boolean;
  /** A reading has been taken; {@link Sensor.last} is valid. */
  private had: boolean;
  private last: number;
  /** Sleeping node: readings are due in this awake period. */
  private need: boolean;
  /** MsgId of the `asleep` status publish that precedes DISCONNECT(duration), or 0. */
  private sleepId: number;
  /** The client woke up (PINGREQ sent); the next onSleep ends an awake period. */
  private woke: boolean;
  /** The command subscription is in place. */
  private subscribed: boolean;

  /** Builds the node and allocates everything it uses. Throws on a configuration that cannot work. */
  constructor(o: SensorOptions) {
    const id = o.clientId;
    const qos = o.qos;
    if (!(qos >= -1 && qos <= 2)) throw new Error('qos must be -1, 0, 1 or 2');
    if (o.topics.length !== QUANTITIES) throw new Error('topics: one per quantity');
    if (qos < 0) {
      for (let i = 0; i < QUANTITIES; i++) {
        const t = o.topics[i];
        if (typeof t === 'string' && t.length !== 2) throw new Error('QoS -1 needs predefined or short topics');
      }
    }
    this.qos = qos;
    this.topics = o.topics;
    this.ms = clampInterval(o.interval);
    this.sleepy = !!o.sleeper;
    this.statusTopic = 'sensors/' + id + '/status';
    this.ackTopic = 'sensors/' + id + '/ack';
    this.cmdFilter = 'cmd/' + id + '/#';
    this.cmdInterval = 'cmd/' + id + '/interval';
    this.cmdSleep = 'cmd/' + id + '/sleep';
    this.onReading = o.onReading || null;
    this.onEvent = o.onEvent || null;
    this.signal = new Signal(o.seed !== undefined ? o.seed : hash(id));
    this.pb = new Uint8Array(PAYLOAD_MAX);
    this.views = [];
    for (let n = 0; n <= PAYLOAD_MAX; n++) this.views.push(this.pb.subarray(0, n));
    this.published = this.dropped = this.commands = this.wakeups = 0;
    this.on = this.had = this.woke = this.subscribed = false;
    this.need = true;
    this.last = this.sleepId = 0;
    this.c = new SnClient({
      transport: o.transport,
      clientId: id,
      keepAlive: o.keepAlive !== undefined ? o.keepAlive : 60,
      cleanSession: false,
      will: { topic: this.statusTopic, payload: 'offline', qos: 1, retain: true },
      gateway: 0,
      maxTopics: 16,
      maxInflight: 8,
      tRetry: o.tRetry || 5000,
      nRetry: o.nRetry !== undefined ? o.nRetry : 3,
      onConnect: (rc) => this.connected(rc),
      onMessage: (name, _id, _type, buf, off, len) => this.command(name, buf, off, len),
      onPublished: (msgId, rc) => this.acked(msgId, rc),
      onAck: (_type, _msgId, rc) => {
        // The only SUBSCRIBE is the command filter.
        this.subscribed = rc === 0;
        this.event(rc === 0 ? 'subscribed to ' + this.cmdFilter : 'subscribe refused: ' + code(rc));
      },
      onSleep: () => this.asleep(),
      onWake: () => {
        this.woke = true;
      },
      onError: (s) => {
        if (s === Status.Closed || s === Status.Timeout) this.subscribed = false;
        this.event('link: ' + statusName(s));
      },
    });
  }

  /** The client's {@link SnState}. */
  state(): number {
    return this.c.state();
  }

  /** Milliseconds between readings now (commands change it). */
  interval(): number {
    return this.ms;
  }

  /** True while this is a sleeping node. */
  sleeper(): boolean {
    return this.sleepy;
  }

  /** Starts the node: CONNECT (QoS 0–2), or the first QoS -1 reading at the next poll. */
  start(): number {
    this.on = true;
    return this.qos < 0 ? Status.Ok : this.c.connect();
  }

  /** Stops the node: DISCONNECT without a duration (so the gateway does not publish the Will). */
  stop(): number {
    this.on = false;
    return this.qos < 0 ? Status.Ok : this.c.disconnect();
  }

  /** Does all the work at time `now` (uint32 ms from the board's clock). */
  poll(now: number): void {
    const c = this.c;
    c.poll(now);
    if (!this.on) return;
    if (this.qos < 0) {
      if (this.due(now)) this.readings(now);
      return;
    }
    if (c.state() !== SnState.Active) return;
    let queued = false;
    if (!this.sleepy) {
      if (this.due(now)) {
        this.readings(now);
        queued = true;
      }
    } else if (this.sleepId === 0) {
      if (this.need) {
        this.need = false;
        this.readings(now);
      }
      // Requests are served in order: once this is acknowledged, everything before it went out.
      const id = c.publish(this.statusTopic, 'asleep', 1, true);
      if (id > 0) this.sleepId = id;
      queued = true;
    }
    // Send what was just queued now rather than at the next poll.
    if (queued) c.poll(now);
  }

  /** True when a reading is due at `now`. */
  private due(now: number): boolean {
    return !this.had || elapsed(now, this.last) >= this.ms;
  }

  /** Takes one reading of every quantity and hands each to the client. */
  private readings(now: number): void {
    const s = this.signal;
    const c = this.c;
    this.had = true;
    this.last = now;
    s.step();
    for (let q = 0; q < QUANTITIES; q++) {
      const v = s.value[q];
      const end = writeFixedInto(this.pb, v, DECIMALS[q]);
      const r = c.publish(this.topics[q], this.views[end], this.qos, false);
      if (r < 0) {
        this.dropped++;
        this.event('reading dropped: ' + statusName(r));
      } else {
        this.published++;
        if (this.onReading) this.onReading(q, v, this.qos);
      }
    }
  }

  private connected(rc: number): void {
    if (rc !== 0) {
      this.event('connect refused: ' + code(rc));
      return;
    }
    const c = this.c;
    this.event('connected');
    if (!this.subscribed) c.subscribe(this.cmdFilter, 1);
    if (!this.sleepy) c.publish(this.statusTopic, 'online', 1, true);
  }

  private acked(msgId: number, rc: number): void {
    if (msgId !== 0 && msgId === this.sleepId) {
      this.sleepId = 0;
      if (rc === 0 && this.sleepy && this.on) this.c.sleep(sleepSeconds(this.ms));
      return;
    }
    if (rc !== 0) this.event('publish ' + msgId + ' failed: ' + code(rc));
  }

  private asleep(): void {
    if (!this.woke) {
      this.event('asleep for ' + sleepSeconds(this.ms) + ' s');
      return;
    }
    // PINGRESP ended an awake period: the buffered messages are in. Connect to publish.
    this.woke = false;
    this.wakeups++;
    this.need = true;
    if (this.on) this.c.connect();
  }

  /** An application message: a command on `cmd/<id>/...`. */
  private command(name: string | null, buf: Uint8Array, off: number, len: number): void {
    let answer: string;
    if (name === this.cmdInterval) {
      const v = parseUint(buf, off, len);
      if (v >= MIN_INTERVAL && v <= MAX_INTERVAL) {
        this.ms = v;
        answer = 'interval ' + v;
      } else answer = 'error: interval needs ' + MIN_INTERVAL + '..' + MAX_INTERVAL + ' ms';
    } else if (name === this.cmdSleep) {
      const v = len === 0 ? -1 : parseUint(buf, off, len);
      if (len === 0 || (v > 0 && v <= MAX_INTERVAL / 1000)) {
        if (v > 0) this.ms = v * 1000;
        this.sleepy = true;
        answer = 'sleep ' + sleepSeconds(this.ms);
      } else if (v === 0) {
        this.sleepy = false;
        answer = 'awake';
      } else answer = 'error: sleep needs seconds (0: stay awake)';
    } else answer = 'error: unknown command ' + name;
    this.commands++;
    this.event('command ' + name + ': ' + answer);
    this.c.publish(this.ackTopic, answer, 1, false);
  }

  private event(what: string): void {
    if (this.onEvent) this.onEvent(what);
  }
}

/** The sleep duration (whole seconds, 1..65535) for a period of `ms`. */
export function sleepSeconds(ms: number): number {
  const s = Math.round(ms / 1000);
  return s < 1 ? 1 : s > 65535 ? 65535 : s;
}

function clampInterval(ms: number): number {
  return ms < MIN_INTERVAL ? MIN_INTERVAL : ms > MAX_INTERVAL ? MAX_INTERVAL : ms | 0;
}

/** A ReturnCode (> 0) or a Status (< 0) as text. */
function code(rc: number): string {
  return rc < 0 ? statusName(rc) : 'return code ' + rc;
}

/** A 32-bit FNV-1a hash of the ClientId: each node gets its own signal. */
function hash(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i) & 0xff;
    // h * 16777619 (2^24 + 0x193) mod 2^32, exact in doubles without Math.imul.
    h = (h * 0x193 + (h << 24)) >>> 0;
  }
  return h;
}

function writeFixedInto(buf: Uint8Array, v: number, decimals: number): number {
  const end = writeFixed(buf, 0, v, decimals);
  return end < 0 ? 0 : end;
}
