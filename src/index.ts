/**
 * fieldmq: the device SDK in one import. Runs unchanged on Espruino, Moddable
 * XS and Node.js; the per-protocol entries (`fieldmq/mqtt`, `fieldmq/mqttsn`)
 * are smaller when a device needs only one protocol.
 */
export * from './core';
export * from './mqtt';
export * from './mqttsn';
