/**
 * Moddable XS runtime adapters (DESIGN.md §2 `src/platform`, §4): the
 * fieldmq transport contract over the ECMA-419 IO classes (TCP socket, TLS
 * Client socket, UDP socket, Serial), whose constructors the application
 * passes in (`import TCP from "embedded:io/socket/tcp"`, then `{ TCP }`).
 */
export { ModdableTcpTransport } from './tcp';
export type { ModdableTcpOptions } from './tcp';
export { ModdableUdpTransport } from './udp';
export type { ModdableUdpOptions } from './udp';
export { ModdableSerialTransport } from './serial';
export type { ModdableSerialOptions } from './serial';
export { PeerTable } from '../peers';
export type * from './types';
