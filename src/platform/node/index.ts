/**
 * Node.js runtime adapters (DESIGN.md §2 `src/platform`): TCP and TLS
 * transports over `node:net` / `node:tls`, and the monotonic clock.
 */
export { NodeTcpTransport } from './tcp';
export type { NodeTcpOptions } from './tcp';
export { NodeTlsTransport } from './tls';
export type { NodeTlsOptions } from './tls';
export { NodeSocketTransport, DEFAULT_HIGH_WATER_MARK, DEFAULT_RX_CAPACITY, DEFAULT_WRITE_BATCH } from './socket';
export type { NodeStreamOptions } from './socket';
export { NodeClock, nodeClock } from './clock';
export { NodeUdpTransport } from './udp';
export type { NodeUdpOptions } from './udp';
