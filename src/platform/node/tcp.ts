/**
 * MQTT over plain TCP on Node.js (MQTT 3.1.1 §4.2 / 5.0 §4.2 network
 * connections, TCP/IP port 1883), as a fieldmq {@link Transport}.
 *
 * @example
 * ```ts
 * const t = new NodeTcpTransport({ host: '127.0.0.1', port: 1883, onReadable: wake, onWritable: wake });
 * t.open();
 * // in poll(now): if (t.state() === TransportState.Open) n = t.recv(rx, 0, rx.length) ...
 * ```
 */
import net from 'node:net';
import { NodeSocketTransport, type NodeStreamOptions } from './socket';

export { DEFAULT_HIGH_WATER_MARK, DEFAULT_RX_CAPACITY, DEFAULT_WRITE_BATCH } from './socket';
export type { NodeStreamOptions } from './socket';

/** Options of {@link NodeTcpTransport}: see {@link NodeStreamOptions}. */
export type NodeTcpOptions = NodeStreamOptions;

/**
 * A `node:net` socket (Node docs, `net.connect(options)`) behind the
 * {@link Transport} contract: receive ring with backpressure, non-blocking
 * `send` with a high-water mark. Open after `'connect'`.
 */
export class NodeTcpTransport extends NodeSocketTransport {
  protected readonly openEvent = 'connect';
  private readonly host: string;
  private readonly port: number;

  constructor(options: NodeTcpOptions) {
    super(options);
    this.host = options.host;
    this.port = options.port;
  }

  protected connect(): net.Socket {
    return net.connect({ host: this.host, port: this.port });
  }
}
