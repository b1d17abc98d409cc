/**
 * The command-line options of `fieldmq-gateway`, as one table: the parser (`parse.ts`), the
 * help text (`help.ts`) and the "did you mean" hints all read it, so they cannot disagree.
 */

/** Help-text sections, in the order they are printed. */
export const OPTION_GROUPS = ['General', 'Broker', 'Sensor networks', 'Observability'] as const;

/** One option. */
export interface OptionSpec {
  /** Long name without `--`. */
  name: string;
  /** One-letter alias without `-`. */
  short?: string;
  /** Placeholder of the value (`FILE`, `URL`, `N`); absent for flags that take no value. */
  value?: string;
  /** Section of the help text. */
  group: (typeof OPTION_GROUPS)[number];
  /** One or two sentences; wrapped by the help printer. */
  help: string;
  /** The default, as shown in the help text. */
  default?: string;
}

/** Environment variable read for the broker password (so it need not appear in `ps`). */
export const PASSWORD_ENV = 'FIELDMQ_BROKER_PASSWORD';

/** Every option `fieldmq-gateway` takes. */
export const OPTIONS: readonly OptionSpec[] = [
  {
    name: 'config',
    short: 'c',
    value: 'FILE',
    group: 'General',
    help:
      'Configuration file: fieldmq JSON, or an Eclipse Paho gateway.conf (its predefinedTopic.conf and clients.conf ' +
      'are read from beside it, unchanged). Options given on the command line override the file. Without it, the defaults shown here.',
  },
  {
    name: 'sensor-networks',
    value: 'LIST',
    group: 'General',
    help: 'With a Paho gateway.conf: the sensor networks to enable, comma-separated, from udp, udp6, xbee (Paho builds one per binary).',
    default: 'udp',
  },
  { name: 'gateway-id', value: 'N', group: 'General', help: 'Gateway id in ADVERTISE and GWINFO, 1..255.', default: '1' },
  { name: 'gateway-name', value: 'NAME', group: 'General', help: 'Name in logs, $SYS topics, metrics labels and the broker client id.', default: 'fieldmq-gateway' },
  {
    name: 'mode',
    value: 'MODE',
    group: 'General',
    help: 'transparent: one broker connection per sensor client (the broker sees each client); aggregating: one shared connection.',
    default: 'transparent',
  },
  { name: 'print-config', group: 'General', help: 'Print the effective configuration as JSON (password hidden) and exit.' },
  { name: 'help', short: 'h', group: 'General', help: 'Print this help and exit.' },
  { name: 'version', short: 'v', group: 'General', help: 'Print the version and exit.' },

  {
    name: 'broker',
    short: 'b',
    value: 'URL',
    group: 'Broker',
    help: 'External MQTT broker, mqtt://host[:port] or mqtts://host[:port] (TLS). Without it the gateway runs an embedded broker.',
    default: 'embedded broker',
  },
  { name: 'username', value: 'NAME', group: 'Broker', help: 'User name for the external broker.' },
  {
    name: 'password',
    value: 'SECRET',
    group: 'Broker',
    help: `Password for the external broker. Prefer the ${PASSWORD_ENV} environment variable: command lines are visible to every user in ps.`,
  },
  { name: 'ca', value: 'FILE', group: 'Broker', help: 'CA certificate(s) (PEM) to verify an mqtts:// broker; default: the system CAs.' },
  { name: 'cert', value: 'FILE', group: 'Broker', help: 'Client certificate (PEM) for an mqtts:// broker; needs --key.' },
  { name: 'key', value: 'FILE', group: 'Broker', help: 'Private key (PEM) of --cert.' },
  {
    name: 'mqtt-version',
    value: 'V',
    group: 'Broker',
    help: 'MQTT version towards the broker: 4 (or 3.1.1) or 5 (or 5.0). The embedded broker speaks 3.1.1 only.',
    default: '4',
  },
  {
    name: 'embedded-port',
    value: 'N',
    group: 'Broker',
    help: 'TCP port of the embedded broker (0 = any free port).',
    default: '1883',
  },
  {
    name: 'embedded-host',
    value: 'ADDR',
    group: 'Broker',
    help: 'Address the embedded broker listens on; 127.0.0.1 keeps it to this machine. It is anonymous and plain TCP.',
    default: 'every interface',
  },

  { name: 'udp-port', value: 'N', group: 'Sensor networks', help: 'UDP port for MQTT-SN over IPv4 (0 = any free port).', default: '1884' },
  { name: 'no-udp', group: 'Sensor networks', help: 'No MQTT-SN over UDP/IPv4.' },
  {
    name: 'udp6-port',
    value: 'N',
    group: 'Sensor networks',
    help:
      'UDP port for MQTT-SN over IPv6; turns IPv6 on when a config file left it off. Without --config IPv6 is on, ' +
      'and skipped with a warning on a machine without IPv6.',
    default: '1884',
  },
  { name: 'no-udp6', group: 'Sensor networks', help: 'No MQTT-SN over UDP/IPv6.' },
  { name: 'serial', value: 'DEVICE', group: 'Sensor networks', help: 'Raw serial line carrying bare MQTT-SN packets (8N1), e.g. /dev/ttyUSB0.' },
  { name: 'xbee', value: 'DEVICE', group: 'Sensor networks', help: 'XBee (ZigBee) radio in API mode 2, e.g. /dev/ttyAMA0.' },
  { name: 'baud', value: 'N', group: 'Sensor networks', help: 'Baud rate of --serial and --xbee.', default: '9600' },

  {
    name: 'metrics-port',
    value: 'N',
    group: 'Observability',
    help: 'Serve Prometheus metrics at http://<host>:N/metrics (0 = any free port).',
    default: 'off',
  },
  { name: 'metrics-host', value: 'ADDR', group: 'Observability', help: 'Address of the metrics endpoint.', default: '0.0.0.0' },
  {
    name: 'sys-interval',
    value: 'SECONDS',
    group: 'Observability',
    help: 'Publish counters every SECONDS under <sys-prefix>/<gateway-name>/... (retained, QoS 0); 0 = off.',
    default: '0',
  },
  {
    name: 'sys-prefix',
    value: 'PREFIX',
    group: 'Observability',
    help: 'First levels of those topics. Mosquitto 2 refuses client publishes under $SYS/: use e.g. fieldmq/sys there.',
    default: '$SYS/fieldmq',
  },
  { name: 'log-level', value: 'LEVEL', group: 'Observability', help: 'error, warn, info, debug or trace.', default: 'info' },
  { name: 'log-format', value: 'FORMAT', group: 'Observability', help: 'text (for people) or json (one object per line, for log shippers).', default: 'text' },
];

/** The spec of `--name`, or undefined. */
export function findOption(name: string): OptionSpec | undefined {
  return OPTIONS.find((o) => o.name === name);
}

/** The spec of `-x`, or undefined. */
export function findShort(short: string): OptionSpec | undefined {
  return OPTIONS.find((o) => o.short === short);
}
