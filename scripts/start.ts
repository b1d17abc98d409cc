/**
 * `npm start`: the main job, in one process.
 *
 * - the MQTT-SN gateway (`gateway/main.ts` `startGateway`) on UDP port 1884, with its embedded
 *   MQTT broker (Aedes) on TCP port 1883 — any free ports when those are taken, and it says so;
 * - five simulated sensor nodes (`firmware-sim/`) running the real SDK over UDP: every QoS
 *   (-1, 0, 1, 2), every topic style (registered names, predefined ids, short names) and one
 *   sleeping node;
 * - an MQTT.js subscriber on the embedded broker printing each reading as it arrives there.
 *
 * Once the sleeping node has gone to sleep, the demo sends it a command through the broker; the
 * gateway buffers it until the node wakes, and the node's answer shows up on `sensors/<id>/ack`.
 *
 * Runs until Ctrl-C (graceful stop: the nodes DISCONNECT, the gateway closes its broker
 * connections, the broker stops). `--duration S` stops after S seconds and exits non-zero when
 * no reading reached the broker.
 */
import dgram from 'node:dgram';
import net from 'node:net';
import { pathToFileURL } from 'node:url';
import mqtt from 'mqtt';
import { defaultConfig, type GatewayConfig, type LogLevel } from '../gateway/config/schema';
import { createLogger } from '../gateway/log';
import { startGateway, type RunningGateway } from '../gateway/main';
import { SensorHost, TopicStyle, UNITS, predefinedTopicsFor, type NodeSpec } from '../firmware-sim/node';
import { QUANTITY_NAMES } from '../firmware-sim/sensor';

export const HELP = `npm start [-- options]   (or: npx tsx scripts/start.ts [options])

Runs an MQTT-SN gateway with its embedded MQTT broker, five simulated sensor nodes attached
over UDP, and a subscriber printing every reading that reaches the broker.

Options:
  --duration S       stop after S seconds; exit 1 if no reading reached the broker
  --udp-port N       gateway UDP port (default 1884; a free one if taken)
  --mqtt-port N      embedded broker TCP port (default 1883; a free one if taken)
  --log-level L      gateway log level: error, warn (default), info, debug, trace
  --help             this text
`;

/** Parsed options. */
export interface StartOptions {
  duration: number | null;
  udpPort: number;
  mqttPort: number;
  logLevel: LogLevel;
  help: boolean;
}

/** Parses the command line; throws an Error whose message is meant for people. */
export function parseStartArgs(argv: readonly string[]): StartOptions {
  const o: StartOptions = { duration: null, udpPort: 1884, mqttPort: 1883, logLevel: 'warn', help: false };
  for (let i = 0; i < argv.length; i++) {
    let a = argv[i]!;
    let v: string | undefined;
    const eq = a.indexOf('=');
    if (a.startsWith('--') && eq > 0) {
      v = a.slice(eq + 1);
      a = a.slice(0, eq);
    }
    if (a === '--help' || a === '-h') {
      o.help = true;
      continue;
    }
    if (!['--duration', '--udp-port', '--mqtt-port', '--log-level'].includes(a)) throw new Error(`unknown option ${a} (see --help)`);
    v ??= argv[++i];
    if (v === undefined) throw new Error(`${a} needs a value (see --help)`);
    const n = Number(v);
    switch (a) {
      case '--duration':
        if (!(n > 0) || !Number.isFinite(n)) throw new Error(`--duration: expected seconds > 0, got "${v}"`);
        o.duration = n;
        break;
      case '--udp-port':
      case '--mqtt-port':
        if (!Number.isInteger(n) || n < 1 || n > 65535) throw new Error(`${a}: expected a port 1..65535, got "${v}"`);
        if (a === '--udp-port') o.udpPort = n;
        else o.mqttPort = n;
        break;
      case '--log-level':
        if (!['error', 'warn', 'info', 'debug', 'trace'].includes(v)) throw new Error(`--log-level: expected error, warn, info, debug or trace, got "${v}"`);
        o.logLevel = v as LogLevel;
        break;
      default:
        throw new Error(`unknown option ${a} (see --help)`);
    }
  }
  return o;
}

/** The demo's nodes: one of each QoS and topic style, and a sleeping node. */
export const DEMO_NODES: readonly NodeSpec[] = [
  { clientId: 'node-1', qos: 1, style: TopicStyle.Name, interval: 3000 },
  { clientId: 'node-2', qos: 0, style: TopicStyle.Short, interval: 2000, tag: '2' },
  { clientId: 'node-3', qos: 2, style: TopicStyle.Predefined, interval: 4000, predefinedBase: 301 },
  { clientId: 'node-4', qos: -1, style: TopicStyle.Predefined, interval: 5000, predefinedBase: 401 },
  { clientId: 'node-5', qos: 1, style: TopicStyle.Name, interval: 5000, sleeper: true },
];

/** True when a UDP/IPv4 socket can bind `port` on every interface now. */
function udpFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = dgram.createSocket('udp4');
    s.once('error', () => {
      s.close();
      resolve(false);
    });
    s.bind(port, () => s.close(() => resolve(true)));
  });
}

/** True when a TCP listener can bind `port` on every interface now. */
function tcpFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = net.createServer();
    srv.once('error', () => resolve(false));
    srv.listen(port, () => srv.close(() => resolve(true)));
  });
}

function describeNode(n: NodeSpec): string {
  const base = n.predefinedBase ?? 100;
  const style =
    n.style === TopicStyle.Short
      ? `short topic names t${n.tag}, h${n.tag}, b${n.tag}`
      : n.style === TopicStyle.Predefined
        ? `predefined topic ids ${base}..${base + 2} = sensors/${n.clientId}/…`
        : `registered topic names sensors/${n.clientId}/…`;
  const how = n.qos < 0 ? ', never connects' : n.sleeper ? `, sleeping node (wakes every ${Math.round(n.interval / 1000)} s)` : '';
  return `${n.clientId}  QoS ${String(n.qos).padEnd(2)}  ${style}${how}`;
}

function clock(): string {
  return new Date().toTimeString().slice(0, 8);
}

/** Runs the demo; resolves with the exit code. `out` receives every line printed. */
export async function main(argv: readonly string[], out: (line: string) => void = (l) => console.log(l)): Promise<number> {
  let o: StartOptions;
  try {
    o = parseStartArgs(argv);
  } catch (e) {
    console.error(`npm start: ${(e as Error).message}`);
    return 2;
  }
  if (o.help) {
    out(HELP);
    return 0;
  }

  // Ports: the usual ones when free, else whatever the OS gives.
  const notes: string[] = [];
  const udpPort = (await udpFree(o.udpPort)) ? o.udpPort : 0;
  const mqttPort = (await tcpFree(o.mqttPort)) ? o.mqttPort : 0;

  const config: GatewayConfig = defaultConfig();
  config.gatewayName = 'fieldmq-demo';
  config.udp!.port = udpPort;
  config.logLevel = o.logLevel;
  config.advertiseInterval = 60;
  // Predefined ids for every client ('*'): a QoS -1 sender is not connected, so it has no ClientId.
  for (const n of DEMO_NODES) {
    if (n.style === TopicStyle.Predefined) {
      for (const [topic, id] of predefinedTopicsFor(n.clientId, n.predefinedBase!)) config.predefinedTopics.push({ clientId: '*', topic, id });
    }
  }

  const log = createLogger({ level: o.logLevel, write: (l) => process.stderr.write(l + '\n') });
  let running: RunningGateway;
  try {
    running = await startGateway(config, { log, embeddedPort: mqttPort });
  } catch (e) {
    console.error(`npm start: the gateway did not start: ${(e as Error).message}`);
    return 1;
  }
  const gwPort = running.listening.find((l) => l.name === 'udp')?.port ?? udpPort;
  const brokerPort = running.embedded!.port;
  if (gwPort !== o.udpPort) notes.push(`UDP port ${o.udpPort} is taken: the gateway listens on ${gwPort} instead.`);
  if (brokerPort !== o.mqttPort) notes.push(`TCP port ${o.mqttPort} is taken: the embedded broker listens on ${brokerPort} instead.`);

  // What each broker topic is, for the subscriber's lines.
  const topicInfo = new Map<string, { node: NodeSpec; quantity: number }>();
  for (const n of DEMO_NODES) {
    for (let q = 0; q < QUANTITY_NAMES.length; q++) {
      const name =
        n.style === TopicStyle.Short ? `${'thb'[q]}${n.tag}` : `sensors/${n.clientId}/${QUANTITY_NAMES[q]}`;
      topicInfo.set(name, { node: n, quantity: q });
    }
  }

  out('');
  out('fieldmq: an MQTT-SN gateway, its embedded MQTT broker and five simulated sensors, in this process');
  out('');
  out(`  gateway  MQTT-SN 1.2 over UDP, port ${gwPort}, every interface`);
  out(`  broker   embedded (Aedes), MQTT 3.1.1, TCP port ${brokerPort}, every interface, anonymous`);
  DEMO_NODES.forEach((n, i) => out(`${i === 0 ? '  sensors  ' : '           '}${describeNode(n)}`));
  for (const n of notes) out(`  note     ${n}`);
  out('');
  out(`  Watch the broker from another terminal:  mosquitto_sub -h localhost -p ${brokerPort} -t '#' -v`);
  out(`  Send a sensor a command:                 mosquitto_pub -h localhost -p ${brokerPort} -t cmd/node-1/interval -m 1000`);
  out(`  Attach more simulated sensors:           npx tsx firmware-sim/cli.ts --gateway 127.0.0.1:${gwPort} --count 3`);
  out(`  ${o.duration !== null ? `Stops after ${o.duration} s.` : 'Ctrl-C stops everything.'}`);
  out('');
  out('Readings as they reach the broker:');

  // The subscriber, subscribed before any sensor starts so that no reading passes unseen.
  let readings = 0;
  let commandSent = false;
  let echo = false;
  const sub = mqtt.connect(running.embedded!.connectUrl, { clientId: 'fieldmq-demo-subscriber', reconnectPeriod: 500 });
  sub.on('message', (topic, payload, packet) => {
    const text = payload.toString();
    const info = topicInfo.get(topic);
    if (info) {
      readings++;
      const via = info.node.style === TopicStyle.Short ? `, short topic of ${info.node.clientId}` : '';
      out(`${clock()}  ${topic.padEnd(24)} ${`${text} ${UNITS[info.quantity]}`.padEnd(10)} (QoS ${info.node.qos}, via MQTT-SN${via})`);
      return;
    }
    if (echo && topic === 'cmd/node-5/interval') {
      echo = false; // our own command, already shown
      return;
    }
    out(`${clock()}  ${topic.padEnd(24)} ${text}${packet.retain ? '  (retained)' : ''}`);
    // Once the sleeping node sleeps, send it a command: the gateway holds it until the node wakes.
    if (!commandSent && topic === 'sensors/node-5/status' && text === 'asleep') {
      commandSent = echo = true;
      out(`${clock()}  → cmd/node-5/interval 3000   (node-5 is asleep: the gateway buffers this until it wakes)`);
      sub.publish('cmd/node-5/interval', '3000', { qos: 1 });
    }
  });
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no answer within 5 s')), 5000);
      sub.once('connect', () =>
        sub.subscribe('#', { qos: 2 }, (err) => {
          clearTimeout(timer);
          if (err) reject(err);
          else resolve();
        }),
      );
    });
  } catch (e) {
    console.error(`npm start: the subscriber could not subscribe at ${running.embedded!.connectUrl}: ${(e as Error).message}`);
    sub.end(true);
    await running.stop();
    return 1;
  }
  sub.on('error', (e) => out(`subscriber: ${e.message}`));

  // The sensors.
  const host = new SensorHost({
    log: o.logLevel === 'info' || o.logLevel === 'debug' || o.logLevel === 'trace' ? (l) => out(`           ${l}`) : null,
  });
  for (const n of DEMO_NODES) await host.addUdp(n, { host: '127.0.0.1', port: gwPort });
  host.start();

  // Run until Ctrl-C / SIGTERM or the duration.
  await new Promise<void>((resolve) => {
    let timer: NodeJS.Timeout | null = null;
    const done = (): void => {
      process.off('SIGINT', done);
      process.off('SIGTERM', done);
      if (timer !== null) clearTimeout(timer);
      // A second Ctrl-C during the stop ends at once.
      process.once('SIGINT', () => process.exit(130));
      resolve();
    };
    if (o.duration !== null) timer = setTimeout(done, o.duration * 1000);
    process.on('SIGINT', done);
    process.on('SIGTERM', done);
  });

  out('');
  out('stopping: sensors disconnect, then the gateway and the broker…');
  await host.stop();
  await new Promise<void>((resolve) => sub.end(false, {}, () => resolve()));
  await running.stop();
  out(`stopped; ${readings} reading(s) reached the broker.`);
  if (readings === 0) {
    console.error('npm start: no reading reached the broker');
    return 1;
  }
  return 0;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (e: unknown) => {
      console.error(e);
      process.exit(1);
    },
  );
}
