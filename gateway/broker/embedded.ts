/**
 * The embedded MQTT broker: Aedes 1.x in the gateway's own process, behind a `node:net` TCP
 * listener. `main.ts` starts it when the configuration names no broker (`config.broker: null`),
 * so `npx fieldmq-gateway` works with nothing else installed.
 *
 * - **MQTT 3.1.1 only**: Aedes 1.x accepts protocol levels 3 and 4, not 5.
 * - **Anonymous, plain TCP**, on every interface by default (`::`, dual-stack, or `0.0.0.0` where
 *   the machine has no IPv6), so other machines on the LAN can subscribe. Pass `host: '127.0.0.1'`
 *   to keep it local. For TLS, authentication or persistence, run a real broker and use `--broker`.
 * - **In memory**: retained messages and sessions do not survive a restart of the gateway.
 * - **`$SYS/`**: Aedes refuses client publishes under `$SYS/` (and drops the connection of the
 *   client that tried). The gateway publishes its own counters under `$SYS/fieldmq/...`
 *   (`observability/sys.ts`), so the prefixes in {@link EmbeddedBrokerOptions.sysPublishPrefixes}
 *   are allowed; every other `$SYS/` topic stays reserved. As on any broker, `#` does not match
 *   `$SYS/…` topics: subscribe to `$SYS/fieldmq/#`.
 *
 * @example
 * ```ts
 * const broker = await startEmbeddedBroker({ port: 1883 });
 * console.log(broker.url);          // mqtt://localhost:1883
 * await broker.stop();
 * ```
 */
import net from 'node:net';
import { Aedes } from 'aedes';
import type { Logger } from '../log';

/** Default port of the embedded broker (IANA "mqtt"). */
export const EMBEDDED_DEFAULT_PORT = 1883;

/** Options of {@link startEmbeddedBroker}. */
export interface EmbeddedBrokerOptions {
  /** TCP port; 0 lets the OS choose (tests). Default {@link EMBEDDED_DEFAULT_PORT}. */
  port?: number;
  /** Address to bind; default every interface (`::` dual-stack, else `0.0.0.0`). */
  host?: string;
  /**
   * Topic prefixes under `$SYS/` that clients may publish to (the gateway's counters). Default
   * `['$SYS/fieldmq/']`. Any other `$SYS/` publish is refused, as Aedes does by default.
   */
  sysPublishPrefixes?: readonly string[];
  /** Where connects, disconnects and client errors are logged (debug level). */
  log?: Logger;
}

/** A running embedded broker. */
export interface EmbeddedBroker {
  /** The address bound: `::`, `0.0.0.0`, or the `host` option. */
  readonly host: string;
  /** The port bound (the OS's choice when the option was 0). */
  readonly port: number;
  /** A URL for people: `mqtt://localhost:<port>` when bound to every interface or loopback. */
  readonly url: string;
  /** A URL the gateway's own broker link connects to (loopback when bound to every interface). */
  readonly connectUrl: string;
  /** The host part of {@link EmbeddedBroker.connectUrl}, without brackets. */
  readonly connectHost: string;
  /** Clients connected now. */
  clientCount(): number;
  /** Closes the listener, every client connection and the broker. Idempotent. */
  stop(): Promise<void>;
}

/**
 * The embedded broker's port is taken. `name` is `'BrokerPortInUseError'`; the message says
 * what to do: use the broker already there (`--broker mqtt://localhost:<port>`) when one answers
 * MQTT on that port, or move the embedded broker (`--embedded-port`).
 */
export class BrokerPortInUseError extends Error {
  /** The port that was asked for. */
  readonly port: number;
  /** True when an MQTT broker answered a CONNECT on that port. */
  readonly brokerAnswers: boolean;

  constructor(host: string, port: number, brokerAnswers: boolean) {
    const where = `${displayHost(host)}:${port}`;
    super(
      brokerAnswers
        ? `cannot start the embedded MQTT broker: port ${port} is already in use, and an MQTT broker answers there ` +
            `(Mosquitto?). Use it instead: --broker mqtt://localhost:${port} ; or run the embedded broker on ` +
            `another port: --embedded-port ${port === 1883 ? 1885 : port + 1}`
        : `cannot start the embedded MQTT broker: ${where} is already in use by another program. ` +
            `Run the embedded broker on another port (--embedded-port ${port === 1883 ? 1885 : port + 1}), ` +
            `or name an external broker with --broker mqtt://host:port`,
    );
    this.name = 'BrokerPortInUseError';
    this.port = port;
    this.brokerAnswers = brokerAnswers;
  }
}

/** The embedded broker could not start for another reason (no permission for a port < 1024, bad address). */
export class EmbeddedBrokerError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'EmbeddedBrokerError';
  }
}

function displayHost(host: string): string {
  return host.includes(':') ? `[${host}]` : host;
}

function isWildcard(host: string): boolean {
  return host === '::' || host === '0.0.0.0' || host === '';
}

/**
 * Starts Aedes behind a TCP listener; resolves once it accepts connections.
 * @throws {@link BrokerPortInUseError} when the port is taken; {@link EmbeddedBrokerError} for
 *   other listen failures (EACCES on ports below 1024, an address not on this machine).
 */
export async function startEmbeddedBroker(options: EmbeddedBrokerOptions = {}): Promise<EmbeddedBroker> {
  const port = options.port ?? EMBEDDED_DEFAULT_PORT;
  const allowed = options.sysPublishPrefixes ?? ['$SYS/fieldmq/'];
  const log = options.log;
  const broker = await Aedes.createBroker({
    id: 'fieldmq-embedded',
    // MQTT 3.1.1 §3.1.3.1 lets a server accept longer ids; transparent mode connects with the sensors' ids.
    maxClientsIdLength: 1024,
    authorizePublish(_client, packet, callback) {
      if (packet.topic.startsWith('$SYS/') && !allowed.some((p) => packet.topic.startsWith(p))) {
        callback(new Error('$SYS/ topic is reserved'));
        return;
      }
      callback(null);
    },
  });
  if (log) {
    broker.on('client', (c) => log.debug('embedded broker: client connected', { clientId: c.id }));
    broker.on('clientDisconnect', (c) => log.debug('embedded broker: client disconnected', { clientId: c.id }));
    broker.on('clientError', (c, e) => log.debug('embedded broker: client error', { clientId: c.id, error: e.message }));
    broker.on('connectionError', (_c, e) => log.debug('embedded broker: connection error', { error: e.message }));
  }
  const closeBroker = () => new Promise<void>((resolve) => broker.close(() => resolve()));

  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    broker.handle(socket);
  });
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.host === undefined ? { port } : { port, host: options.host }, () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (e) {
    await closeBroker();
    const err = e as NodeJS.ErrnoException;
    const host = options.host ?? '0.0.0.0';
    if (err.code === 'EADDRINUSE') {
      throw new BrokerPortInUseError(host, port, await answersMqtt(isWildcard(host) ? '127.0.0.1' : host, port));
    }
    if (err.code === 'EACCES') {
      throw new EmbeddedBrokerError(
        `cannot start the embedded MQTT broker on port ${port}: permission denied (ports below 1024 need privileges); ` +
          `choose another with --embedded-port`,
        { cause: e },
      );
    }
    if (err.code === 'EADDRNOTAVAIL') {
      throw new EmbeddedBrokerError(`cannot start the embedded MQTT broker: ${host} is not an address of this machine`, { cause: e });
    }
    throw new EmbeddedBrokerError(`cannot start the embedded MQTT broker on ${displayHost(host)}:${port}: ${err.message}`, { cause: e });
  }
  server.on('error', (e) => log?.error('embedded broker: listener error', { error: e.message }));

  const addr = server.address() as net.AddressInfo;
  const bound = addr.address;
  const local = isWildcard(bound) || bound === '127.0.0.1' || bound === '::1';
  // A wildcard bind ('::' is dual-stack) accepts loopback IPv4 connections.
  const connectHost = isWildcard(bound) ? '127.0.0.1' : bound;
  let stopped: Promise<void> | null = null;
  return {
    host: bound,
    port: addr.port,
    url: `mqtt://${local ? 'localhost' : displayHost(bound)}:${addr.port}`,
    connectUrl: `mqtt://${displayHost(connectHost)}:${addr.port}`,
    connectHost,
    clientCount: () => broker.connectedClients,
    stop() {
      if (stopped) return stopped;
      stopped = (async () => {
        const closed = new Promise<void>((resolve) => server.close(() => resolve()));
        await closeBroker();
        for (const s of sockets) s.destroy();
        await closed;
      })();
      return stopped;
    },
  };
}

/**
 * True when an MQTT server answers a CONNECT on `host:port` with a CONNACK within `timeoutMs`
 * (then the connection is closed with DISCONNECT). Used to tell "a broker already runs there"
 * from "another program holds the port".
 */
export function answersMqtt(host: string, port: number, timeoutMs = 1000): Promise<boolean> {
  // MQTT 3.1.1 CONNECT (§3.1): protocol "MQTT" level 4, clean session, keep-alive 10 s, client id "fieldmq-probe".
  const id = Buffer.from('fieldmq-probe');
  const variable = Buffer.from([0x00, 0x04, 0x4d, 0x51, 0x54, 0x54, 0x04, 0x02, 0x00, 0x0a, 0x00, id.length]);
  const connect = Buffer.concat([Buffer.from([0x10, variable.length + id.length]), variable, id]);
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    let done = false;
    const finish = (answer: boolean): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      if (answer) socket.end(Buffer.from([0xe0, 0x00]));
      else socket.destroy();
      resolve(answer);
    };
    const timer = setTimeout(() => finish(false), timeoutMs);
    socket.once('connect', () => socket.write(connect));
    socket.once('data', (d: Buffer) => finish(d[0] === 0x20));
    socket.once('error', () => finish(false));
    socket.once('close', () => finish(false));
  });
}
