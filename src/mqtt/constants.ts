/**
 * MQTT 3.1.1 and 5.0 constants: control packet types, protocol levels,
 * CONNACK return codes (3.1.1) and reason codes (5.0), property identifiers.
 */

/** Control packet types (MQTT 3.1.1 §2.2.1, MQTT 5.0 §2.1.2). */
export const enum PacketType {
  CONNECT = 1,
  CONNACK = 2,
  PUBLISH = 3,
  PUBACK = 4,
  PUBREC = 5,
  PUBREL = 6,
  PUBCOMP = 7,
  SUBSCRIBE = 8,
  SUBACK = 9,
  UNSUBSCRIBE = 10,
  UNSUBACK = 11,
  PINGREQ = 12,
  PINGRESP = 13,
  DISCONNECT = 14,
  /** MQTT 5.0 only (§3.15); reserved in 3.1.1. */
  AUTH = 15,
}

/** Protocol Level byte of CONNECT (MQTT 3.1.1 §3.1.2.2, MQTT 5.0 §3.1.2.2). */
export const enum ProtocolVersion {
  V311 = 4,
  V5 = 5,
}

/** CONNACK return codes of MQTT 3.1.1 (§3.2.2.3). */
export const enum ConnectReturnCode {
  Accepted = 0,
  UnacceptableProtocolVersion = 1,
  IdentifierRejected = 2,
  ServerUnavailable = 3,
  BadUserNameOrPassword = 4,
  NotAuthorized = 5,
}

/** Reason codes of MQTT 5.0 (§2.4, table 2-6). */
export const enum ReasonCode {
  Success = 0x00,
  /** Same value as Success, in DISCONNECT. */
  NormalDisconnection = 0x00,
  /** Same value as Success, in SUBACK. */
  GrantedQoS0 = 0x00,
  GrantedQoS1 = 0x01,
  GrantedQoS2 = 0x02,
  DisconnectWithWillMessage = 0x04,
  NoMatchingSubscribers = 0x10,
  NoSubscriptionExisted = 0x11,
  ContinueAuthentication = 0x18,
  ReAuthenticate = 0x19,
  UnspecifiedError = 0x80,
  MalformedPacket = 0x81,
  ProtocolError = 0x82,
  ImplementationSpecificError = 0x83,
  UnsupportedProtocolVersion = 0x84,
  ClientIdentifierNotValid = 0x85,
  BadUserNameOrPassword = 0x86,
  NotAuthorized = 0x87,
  ServerUnavailable = 0x88,
  ServerBusy = 0x89,
  Banned = 0x8a,
  ServerShuttingDown = 0x8b,
  BadAuthenticationMethod = 0x8c,
  KeepAliveTimeout = 0x8d,
  SessionTakenOver = 0x8e,
  TopicFilterInvalid = 0x8f,
  TopicNameInvalid = 0x90,
  PacketIdentifierInUse = 0x91,
  PacketIdentifierNotFound = 0x92,
  ReceiveMaximumExceeded = 0x93,
  TopicAliasInvalid = 0x94,
  PacketTooLarge = 0x95,
  MessageRateTooHigh = 0x96,
  QuotaExceeded = 0x97,
  AdministrativeAction = 0x98,
  PayloadFormatInvalid = 0x99,
  RetainNotSupported = 0x9a,
  QoSNotSupported = 0x9b,
  UseAnotherServer = 0x9c,
  ServerMoved = 0x9d,
  SharedSubscriptionsNotSupported = 0x9e,
  ConnectionRateExceeded = 0x9f,
  MaximumConnectTime = 0xa0,
  SubscriptionIdentifiersNotSupported = 0xa1,
  WildcardSubscriptionsNotSupported = 0xa2,
}

/** Property identifiers of MQTT 5.0 (§2.2.2.2, table 2-4). */
export const enum PropertyId {
  PayloadFormatIndicator = 0x01,
  MessageExpiryInterval = 0x02,
  ContentType = 0x03,
  ResponseTopic = 0x08,
  CorrelationData = 0x09,
  SubscriptionIdentifier = 0x0b,
  SessionExpiryInterval = 0x11,
  AssignedClientIdentifier = 0x12,
  ServerKeepAlive = 0x13,
  AuthenticationMethod = 0x15,
  AuthenticationData = 0x16,
  RequestProblemInformation = 0x17,
  WillDelayInterval = 0x18,
  RequestResponseInformation = 0x19,
  ResponseInformation = 0x1a,
  ServerReference = 0x1c,
  ReasonString = 0x1f,
  ReceiveMaximum = 0x21,
  TopicAliasMaximum = 0x22,
  TopicAlias = 0x23,
  MaximumQoS = 0x24,
  RetainAvailable = 0x25,
  UserProperty = 0x26,
  MaximumPacketSize = 0x27,
  WildcardSubscriptionAvailable = 0x28,
  SubscriptionIdentifierAvailable = 0x29,
  SharedSubscriptionAvailable = 0x2a,
}

/** Largest Remaining Length a 4-byte variable byte integer holds (MQTT 3.1.1 §2.2.3). */
export const MAX_REMAINING_LENGTH = 268435455;

/** Largest whole packet: 1 type byte + 4 length bytes + {@link MAX_REMAINING_LENGTH}. */
export const MAX_PACKET_SIZE = 268435460;

/** Names of packet types, for logs: `packetTypeName(3) === 'PUBLISH'`. */
export function packetTypeName(type: number): string {
  const names = [
    'RESERVED',
    'CONNECT',
    'CONNACK',
    'PUBLISH',
    'PUBACK',
    'PUBREC',
    'PUBREL',
    'PUBCOMP',
    'SUBSCRIBE',
    'SUBACK',
    'UNSUBSCRIBE',
    'UNSUBACK',
    'PINGREQ',
    'PINGRESP',
    'DISCONNECT',
    'AUTH',
  ];
  return type >= 0 && type < 16 ? names[type] : 'UNKNOWN';
}
