/** fieldmq MQTT 3.1.1 / 5.0 codec. */
export {
  PacketType,
  ProtocolVersion,
  ConnectReturnCode,
  ReasonCode,
  PropertyId,
  MAX_REMAINING_LENGTH,
  MAX_PACKET_SIZE,
  packetTypeName,
} from './constants';
export { varintSize, writeVarint, readVarint } from './varint';
export { frameLength, packetLength } from './frame';
export { topicNameLength, topicFilterLength, checkTopicName, checkTopicFilter, topicMatches } from './topic';
export type { MqttProperties } from './properties';
export {
  WILL_PROPERTIES,
  propertiesDataLength,
  propertiesSize,
  writeProperties,
  readPropertiesLength,
  scanProperties,
  readPacketProperties,
  subscriptionIds,
  decodeProperties,
} from './properties';
export { MqttPacket } from './packet';
export type { ConnectInfo, ConnackInfo, WillInfo } from './connect';
export { connectSize, encodeConnect, connackSize, encodeConnack } from './connect';
export type { PublishInfo } from './publish';
export { publishSize, encodePublish } from './publish';
export type { AckInfo } from './ack';
export { ackSize, encodeAck, encodeShortAck } from './ack';
export type { Subscription, SubscribeInfo, SubackInfo, UnsubscribeInfo, UnsubackInfo } from './subscribe';
export {
  SubscriptionView,
  subscribeSize,
  encodeSubscribe,
  subackSize,
  encodeSuback,
  unsubscribeSize,
  encodeUnsubscribe,
  unsubackSize,
  encodeUnsuback,
  nextSubscription,
} from './subscribe';
export type { ReasonInfo } from './control';
export {
  encodePingreq,
  encodePingresp,
  disconnectSize,
  encodeDisconnect,
  authSize,
  encodeAuth,
} from './control';
export { decodePacket, decodeFixedHeader, decodeServerBody } from './decode';
export type { AnyPacketInfo } from './encode';
export { packetSize, encodePacket } from './encode';
export type { MqttClientOptions, MessageHandler, SubscribeOptions } from './client';
export { MqttClient, MqttMessage, ClientState } from './client';
export type { MqttLite } from './lite';
export { createMqttLite } from './lite';
