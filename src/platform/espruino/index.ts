/**
 * Espruino runtime adapters (DESIGN.md §2 `src/platform`, §4): the fieldmq
 * transport contract over Espruino's `net`/`tls`, `dgram` and `Serial`
 * objects, which the application passes in (`{ net: require('net') }`).
 */
export { EspruinoTcpTransport } from './tcp';
export type { EspruinoTcpOptions } from './tcp';
export { EspruinoUdpTransport } from './udp';
export type { EspruinoUdpOptions } from './udp';
export { EspruinoSerialTransport } from './serial';
export type { EspruinoSerialOptions } from './serial';
export { StringRx, fillFromString } from './rx';
export { PeerTable } from '../peers';
export type * from './types';
