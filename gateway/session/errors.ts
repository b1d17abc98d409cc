/**
 * Errors of the gateway core (DESIGN.md §3: "in the gateway, error classes with a stable
 * `name` and the MQTT-SN return code they map to"). They are thrown only outside the packet
 * path (constructor, `start`/`stop` misuse) or inside a handler, where the dispatcher catches
 * them: no packet ever throws to the event loop.
 */

/** MQTT-SN 1.2 §5.3.10, Table 5 (repeated here as plain numbers: the codec's enum is `const`). */
export const RC_ACCEPTED = 0;
/** "Rejected: congestion" (§5.3.10). */
export const RC_CONGESTION = 1;
/** "Rejected: invalid topic ID" (§5.3.10). */
export const RC_INVALID_TOPIC_ID = 2;
/** "Rejected: not supported" (§5.3.10). */
export const RC_NOT_SUPPORTED = 3;

/** Base class: a stable `name`, and the MQTT-SN ReturnCode (§5.3.10) it maps to, or null. */
export class GatewayError extends Error {
  /** MQTT-SN ReturnCode this error is answered with on the wire, or null when it has none. */
  readonly returnCode: number | null;

  constructor(message: string, returnCode: number | null = null) {
    super(message);
    this.name = 'GatewayError';
    this.returnCode = returnCode;
  }
}

/** A limit was reached (clients, topics, queue, broker link full): "rejected: congestion" (§5.3.10). */
export class CongestionError extends GatewayError {
  constructor(message: string) {
    super(message, RC_CONGESTION);
    this.name = 'CongestionError';
  }
}

/** Unknown or unusable topic id (§6.6, §6.7): "rejected: invalid topic ID" (§5.3.10). */
export class InvalidTopicIdError extends GatewayError {
  constructor(message: string) {
    super(message, RC_INVALID_TOPIC_ID);
    this.name = 'InvalidTopicIdError';
  }
}

/** A request the gateway refuses (bad topic name, not authorised): "rejected: not supported" (§5.3.10). */
export class NotSupportedError extends GatewayError {
  constructor(message: string) {
    super(message, RC_NOT_SUPPORTED);
    this.name = 'NotSupportedError';
  }
}

/** The Gateway was used in the wrong state (`start` twice, `start` after `stop`). No return code. */
export class GatewayStateError extends GatewayError {
  constructor(message: string) {
    super(message, null);
    this.name = 'GatewayStateError';
  }
}

/** An unexpected exception inside a packet handler, caught by the dispatcher and logged. */
export class HandlerError extends GatewayError {
  /** The original exception. */
  readonly cause: unknown;
  /** Spec name of the message type being handled. */
  readonly messageType: string;

  constructor(messageType: string, cause: unknown) {
    super(`handler for ${messageType} failed: ${cause instanceof Error ? cause.message : String(cause)}`, null);
    this.name = 'HandlerError';
    this.cause = cause;
    this.messageType = messageType;
  }
}
