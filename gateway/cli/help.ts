/**
 * The `--help` text, built from the option table (`options.ts`) so every option is listed with
 * its default.
 */
import { OPTIONS, OPTION_GROUPS, PASSWORD_ENV, type OptionSpec } from './options';

/** Program name as users type it. */
export const PROGRAM = 'fieldmq-gateway';

const WIDTH = 92;
const COLUMN = 30;

function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/)) {
    if (line && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  if (line) lines.push(line);
  return lines;
}

function usageOf(o: OptionSpec): string {
  const long = `--${o.name}${o.value ? ` ${o.value}` : ''}`;
  return o.short ? `-${o.short}, ${long}` : `    ${long}`;
}

function entry(left: string, text: string): string {
  const body = wrap(text, WIDTH - COLUMN);
  const pad = ' '.repeat(COLUMN);
  const first = `  ${left}`;
  const out: string[] = [];
  if (first.length < COLUMN) out.push(first.padEnd(COLUMN) + (body.shift() ?? ''));
  else out.push(first);
  for (const l of body) out.push(pad + l);
  return out.join('\n');
}

/** The whole `--help` text, ending with a line feed. */
export function helpText(version: string): string {
  const parts: string[] = [];
  parts.push(`${PROGRAM} ${version}: MQTT-SN gateway from sensors (UDP, serial, XBee) to an MQTT broker`);
  parts.push(`Usage: ${PROGRAM} [options]`);
  parts.push(
    wrap(
      'With no options it listens for MQTT-SN on UDP port 1884 (IPv4 and IPv6) and, since no broker is named, ' +
        'runs an embedded MQTT broker on TCP port 1883 that other programs can use. Options override the ' +
        '--config file; everything not given takes the default shown.',
      WIDTH,
    ).join('\n'),
  );
  for (const group of OPTION_GROUPS) {
    const lines = [`${group}:`];
    for (const o of OPTIONS.filter((x) => x.group === group)) {
      lines.push(entry(usageOf(o), o.help + (o.default ? ` (default: ${o.default})` : '')));
    }
    parts.push(lines.join('\n'));
  }
  parts.push(['Environment:', entry(PASSWORD_ENV, 'Password for the external broker; --password overrides it, it overrides the config file.')].join('\n'));
  parts.push(
    [
      'Examples:',
      `  ${PROGRAM}`,
      '      UDP 1884 (IPv4 + IPv6) and an embedded broker on 1883; watch the data with',
      `      mosquitto_sub -h localhost -p 1883 -t '#' -v`,
      `  ${PROGRAM} --broker mqtt://192.168.1.10:1883 --mode aggregating`,
      '      an existing broker (Mosquitto, EMQX, HiveMQ, ...), one shared connection',
      `  ${PROGRAM} --broker mqtts://broker.example.net --username pi --ca /etc/ssl/certs/my-ca.pem`,
      `      TLS on port 8883, password from the ${PASSWORD_ENV} environment variable`,
      `  ${PROGRAM} --config /etc/paho/gateway.conf --sensor-networks udp,xbee`,
      '      an Eclipse Paho gateway.conf with its predefinedTopic.conf and clients.conf, unchanged',
      `  ${PROGRAM} --config gateway.json --metrics-port 9100 --sys-interval 30 --log-format json`,
      '      Prometheus at http://<host>:9100/metrics, counters under $SYS/fieldmq/<name>/ every 30 s',
      `  ${PROGRAM} --config gateway.conf --print-config`,
      '      check a configuration and show what it amounts to',
    ].join('\n'),
  );
  parts.push(
    [
      'Exit codes:',
      '  0    stopped cleanly (SIGINT / SIGTERM), or printed help, version or configuration',
      '  1    could not start (port in use, broker unreachable, device missing) or failed while running',
      '  2    bad command line or configuration file; nothing was started',
      '  130  a second SIGINT (143: SIGTERM) during the graceful stop forced the exit',
    ].join('\n'),
  );
  return parts.join('\n\n') + '\n';
}
