/** fieldmq core: containers, byte access, UTF-8, statuses and the clock type. */
export { Status, statusName } from './status';
export { elapsed } from './clock';
export type { Clock } from './clock';
export { readU16, readU32, writeU16, writeU32, copyBytes, bytesEqual } from './bytes';
export { utf8Length, utf8Encode, utf8Decode, utf8Validate, utf8Equals } from './utf8';
export { ByteRing } from './ring';
export { ByteReader, ByteWriter } from './cursor';
export { MessageQueue } from './queue';
