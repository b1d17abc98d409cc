/**
 * fieldmq MQTT-SN 1.2 codec: message types and flags, the reusable
 * {@link SnMessage}, the Length field, the table-driven decoder and encoder,
 * and the forwarder encapsulation (MQTT-SN 1.2 §5).
 */
export { MsgType, ReturnCode, TopicIdType, Flag, PROTOCOL_ID, msgTypeName } from './constants';
export { SnMessage } from './message';
export { totalLength, readLength, headerLength, writeLength } from './header';
export { decodeMessage } from './decode';
export { messageSize, encodeMessage } from './encode';
export {
  SnForwarderHeader,
  decodeForwarder,
  forwarderHeaderSize,
  encodeForwarderHeader,
} from './forwarder';
export { SnClient, SnState } from './client';
export type { SnClientOptions, SnWill } from './client';
export { SnTopics, SnGateways, snTag, snTagTopic, snIdIndex } from './state';
export type { SnLite } from './lite';
export { createSnLite } from './lite';
export { SerialDatagramTransport } from './serial-datagram';
export type { SerialDatagramOptions } from './serial-datagram';
