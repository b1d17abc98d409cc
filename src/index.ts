/**
 * fieldmq: the device SDK in one import. Runs unchanged on Espruino, Moddable
 * XS and Node.js; the per-protocol entries (`fieldmq/mqtt`, `fieldmq/mqttsn`)
 * are smaller when a device needs only one protocol.
 */
export * from './core';
export * from './mqtt';
export * from './mqttsn';
// Runtime adapters that need no host module at load time (runtime objects come in
// through their options), so one bundle serves both device runtimes.
export * from './platform/espruino';
export * from './platform/moddable';
export { TransportState, BROADCAST } from './transport';
export type { Transport, DatagramTransport } from './transport';
