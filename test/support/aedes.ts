/**
 * An in-process Aedes broker (MQTT 3.1.1 / 5.0, aedes 1.x) for tests: a
 * `node:net` server on 127.0.0.1, port 0, handing each connection to
 * `broker.handle` (aedes docs/Aedes.md, "aedes.handle(stream)"). Memory
 * persistence only: it does not survive a stop, so restart tests use
 * Mosquitto (./mosquitto.ts).
 */
import net from 'node:net';
import { Aedes } from 'aedes';

export interface AedesBroker {
  /** Always `127.0.0.1`. */
  readonly host: string;
  /** The port the OS chose. */
  readonly port: number;
  /** `mqtt://127.0.0.1:<port>`. */
  readonly url: string;
  /** The broker itself, for event hooks (`publish`, `client`, ...) in tests. */
  readonly broker: Aedes;
  /** Closes the listener, every client connection and the broker. Idempotent. */
  stop(): Promise<void>;
}

/**
 * Starts Aedes (`Aedes.createBroker`, aedes docs/Aedes.md) behind a TCP
 * server on a port chosen by the OS.
 */
export async function startAedes(): Promise<AedesBroker> {
  const broker = await Aedes.createBroker();
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    broker.handle(socket);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const addr = server.address();
  if (addr === null || typeof addr !== 'object') throw new Error('aedes harness: no bound address');
  let stopped: Promise<void> | null = null;
  return {
    host: '127.0.0.1',
    port: addr.port,
    url: `mqtt://127.0.0.1:${addr.port}`,
    broker,
    stop() {
      if (stopped) return stopped;
      stopped = (async () => {
        const closed = new Promise<void>((resolve) => server.close(() => resolve()));
        for (const s of sockets) s.destroy();
        await closed;
        await new Promise<void>((resolve) => broker.close(() => resolve()));
      })();
      return stopped;
    },
  };
}
