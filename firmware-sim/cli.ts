/**
 * `tsx firmware-sim/cli.ts`: runs simulated sensor nodes against an MQTT-SN gateway, over UDP
 * or a serial device. See {@link HELP}.
 */
import { pathToFileURL } from 'node:url';
import { SensorHost, UNITS, parseTopicStyle, predefinedTopicsFor, topicStyleName, type NodeSpec } from './node';
import { MAX_INTERVAL, MIN_INTERVAL, TopicStyle } from './sensor';

export const HELP = `firmware-sim: simulated MQTT-SN sensor nodes running the fieldmq SDK

Usage:
  tsx firmware-sim/cli.ts [options]

Each node connects (with a Will on sensors/<id>/status), publishes temperature, humidity and
battery voltage every --interval ms, and obeys commands on cmd/<id>/#:
  cmd/<id>/interval <ms>     change the reading period
  cmd/<id>/sleep <s>         become a sleeping node with an s-second cycle (0: stay awake)
Answers go to sensors/<id>/ack.

Options:
  --gateway HOST:PORT        the gateway's UDP address (default 127.0.0.1:1884)
  --serial PATH              attach one node over this serial device instead (raw MQTT-SN
                             framing, as mqtt-sn-tools' serial bridge), e.g. /dev/pts/3
  --baud N                   serial baud rate (default 9600)
  --count N                  number of nodes (default 1; 1 with --serial)
  --id-prefix TEXT           ClientIds are <prefix>1, <prefix>2, ... (default node-)
  --qos Q                    -1, 0, 1 or 2 (default 1); -1 needs --topic-style predefined or short
  --topic-style STYLE        name (registered topic names, default), predefined (ids from
                             --predefined-base: configure the gateway, see --print-predefined)
                             or short (2-character names t<n>, h<n>, b<n>)
  --predefined-base N        first predefined topic id; node k uses base+3(k-1) .. +2 (default 100)
  --interval MS              reading period (default 5000)
  --sleep                    run as sleeping nodes (MQTT-SN sleep, one cycle per interval)
  --keep-alive S             keep-alive in seconds (default 60)
  --duration S               stop after S seconds (default: until Ctrl-C)
  --print-predefined         print predefinedTopic.conf lines for these nodes and exit
  --quiet                    no line per reading
  --help                     this text

Examples:
  tsx firmware-sim/cli.ts --gateway 127.0.0.1:1884 --count 3 --qos 1
  tsx firmware-sim/cli.ts --serial /dev/pts/4 --qos 2 --sleep --interval 3000
`;

/** Parsed command line. */
export interface CliOptions {
  gateway: { host: string; port: number };
  serial: string | null;
  baud: number;
  count: number;
  idPrefix: string;
  qos: number;
  style: TopicStyle;
  predefinedBase: number;
  interval: number;
  sleep: boolean;
  keepAlive: number;
  duration: number | null;
  printPredefined: boolean;
  quiet: boolean;
  help: boolean;
}

/** A command line that cannot run; the message says why. */
export class UsageError extends Error {
  override name = 'UsageError';
}

/** Parses `argv` (without node and script). Values may follow as the next word or after `=`; `--qos -1` works. */
export function parseCli(argv: readonly string[]): CliOptions {
  const o: CliOptions = {
    gateway: { host: '127.0.0.1', port: 1884 },
    serial: null,
    baud: 9600,
    count: 1,
    idPrefix: 'node-',
    qos: 1,
    style: TopicStyle.Name,
    predefinedBase: 100,
    interval: 5000,
    sleep: false,
    keepAlive: 60,
    duration: null,
    printPredefined: false,
    quiet: false,
    help: false,
  };
  const flags = new Set(['--sleep', '--print-predefined', '--quiet', '--help', '-h']);
  const VALUED = new Set(['--gateway', '--serial', '--baud', '--count', '--id-prefix', '--qos', '--topic-style', '--predefined-base', '--interval', '--keep-alive', '--duration']);
  for (let i = 0; i < argv.length; i++) {
    let a = argv[i]!;
    let v: string | undefined;
    const eq = a.indexOf('=');
    if (a.startsWith('--') && eq > 0) {
      v = a.slice(eq + 1);
      a = a.slice(0, eq);
    }
    if (flags.has(a)) {
      if (v !== undefined) throw new UsageError(`${a} takes no value`);
      if (a === '--sleep') o.sleep = true;
      else if (a === '--print-predefined') o.printPredefined = true;
      else if (a === '--quiet') o.quiet = true;
      else o.help = true;
      continue;
    }
    if (!VALUED.has(a)) throw new UsageError(`unknown option ${a} (see --help)`);
    if (v === undefined) {
      v = argv[++i];
      if (v === undefined) throw new UsageError(`${a} needs a value`);
    }
    const int = (lo: number, hi: number): number => {
      const n = Number(v);
      if (!Number.isInteger(n) || n < lo || n > hi) throw new UsageError(`${a}: expected a whole number ${lo}..${hi}, got "${v}"`);
      return n;
    };
    switch (a) {
      case '--gateway': {
        const m = /^(.+):(\d+)$/.exec(v);
        const port = m ? Number(m[2]) : NaN;
        if (!m || port < 1 || port > 65535) throw new UsageError(`--gateway: expected HOST:PORT, got "${v}"`);
        o.gateway = { host: m[1]!.replace(/^\[(.*)\]$/, '$1'), port };
        break;
      }
      case '--serial':
        o.serial = v;
        break;
      case '--baud':
        o.baud = int(50, 4000000);
        break;
      case '--count':
        o.count = int(1, 1000);
        break;
      case '--id-prefix':
        o.idPrefix = v;
        break;
      case '--qos':
        o.qos = int(-1, 2);
        break;
      case '--topic-style': {
        const s = parseTopicStyle(v);
        if (s === null) throw new UsageError(`--topic-style: expected name, predefined or short, got "${v}"`);
        o.style = s;
        break;
      }
      case '--predefined-base':
        o.predefinedBase = int(1, 65000);
        break;
      case '--interval':
        o.interval = int(MIN_INTERVAL, MAX_INTERVAL);
        break;
      case '--keep-alive':
        o.keepAlive = int(0, 65535);
        break;
      case '--duration':
        o.duration = int(1, 31536000);
        break;
      default:
        throw new UsageError(`unknown option ${a} (see --help)`);
    }
  }
  if (o.serial !== null && o.count !== 1) throw new UsageError('--serial runs one node: leave out --count');
  if (o.qos < 0 && o.style === TopicStyle.Name) throw new UsageError('--qos -1 needs --topic-style predefined or short (QoS -1 cannot register topic names)');
  if (o.idPrefix.length + String(o.count).length > 23) throw new UsageError('--id-prefix: ClientIds must stay within 23 characters');
  return o;
}

/** The node specs the options describe. */
export function nodeSpecs(o: CliOptions): NodeSpec[] {
  const out: NodeSpec[] = [];
  for (let k = 1; k <= o.count; k++) {
    out.push({
      clientId: `${o.idPrefix}${k}`,
      qos: o.qos,
      style: o.style,
      interval: o.interval,
      sleeper: o.sleep,
      tag: String.fromCharCode(k <= 9 ? 0x30 + k : k <= 35 ? 0x61 + k - 10 : 0x41 + ((k - 36) % 26)),
      predefinedBase: o.predefinedBase + 3 * (k - 1),
      keepAlive: o.keepAlive,
    });
  }
  return out;
}

/** Runs the CLI; resolves with the exit code. */
export async function main(argv: readonly string[], out: (line: string) => void = console.log): Promise<number> {
  let o: CliOptions;
  try {
    o = parseCli(argv);
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    console.error(`firmware-sim: ${e.message}`);
    return 2;
  }
  if (o.help) {
    out(HELP);
    return 0;
  }
  const specs = nodeSpecs(o);
  if (o.printPredefined) {
    out('# predefinedTopic.conf: ClientId,TopicName,TopicId');
    for (const s of specs) for (const [name, id] of predefinedTopicsFor(s.clientId, s.predefinedBase!)) out(`${s.clientId},${name},${id}`);
    return 0;
  }
  let readings = 0;
  const host = new SensorHost({
    log: (l) => out(l),
    onReading: (r) => {
      readings++;
      if (!o.quiet) out(`${r.node.spec.clientId} → ${r.topic} ${r.text} ${UNITS[r.quantity]} (QoS ${r.qos})`);
    },
  });
  try {
    for (const s of specs) {
      if (o.serial !== null) await host.addSerial(s, o.serial, o.baud);
      else await host.addUdp(s, o.gateway);
    }
  } catch (e) {
    console.error(`firmware-sim: cannot attach: ${e instanceof Error ? e.message : String(e)}`);
    await host.stop(0);
    return 1;
  }
  const where = o.serial !== null ? `serial ${o.serial} at ${o.baud} baud` : `UDP gateway ${o.gateway.host}:${o.gateway.port}`;
  out(
    `firmware-sim: ${specs.length} node(s) → ${where}; QoS ${o.qos}, ${topicStyleName(o.style)} topics, every ${o.interval} ms` +
      `${o.sleep ? ', sleeping' : ''}. Ctrl-C stops.`,
  );
  host.start();
  await new Promise<void>((resolve) => {
    const done = (): void => {
      process.off('SIGINT', done);
      process.off('SIGTERM', done);
      if (timer) clearTimeout(timer);
      resolve();
    };
    const timer = o.duration !== null ? setTimeout(done, o.duration * 1000) : null;
    process.on('SIGINT', done);
    process.on('SIGTERM', done);
  });
  await host.stop();
  out(`firmware-sim: stopped after ${readings} reading(s)`);
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
