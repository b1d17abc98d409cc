/**
 * The gateway's counters and gauges: one registry, read by the Prometheus endpoint and the
 * `$SYS/fieldmq/<gateway>/…` publisher. The core increments fields directly (a property
 * increment per event, nothing allocated); the renderers walk {@link METRICS}.
 *
 * @example
 * ```ts
 * const m = new GatewayMetrics();
 * m.messagesIn[qosIndex(-1)]++;          // a QoS -1 PUBLISH arrived
 * m.drop('malformed');                   // a datagram that did not decode
 * renderPrometheus(m, 'gw1');            // "fieldmq_messages_in_total{gateway="gw1",qos="-1"} 1 ..."
 * ```
 */

/** Why a packet or message was dropped; the label of `fieldmq_drops_total`. */
export type DropReason =
  /** Did not decode (MQTT-SN 1.2 §5): bad length, bad field, truncated. */
  | 'malformed'
  /** Decoded but a type the gateway never takes (GWINFO from a client is fine; CONNACK is not). */
  | 'unexpected_type'
  /** A session message from an address with no connected client. */
  | 'not_connected'
  /** PUBLISH / SUBSCRIBE with an unknown or unregistered topic id (answered "invalid topic ID"). */
  | 'invalid_topic_id'
  /** Refused with "congestion": client, topic or buffer limit, or the broker link full. */
  | 'congestion'
  /** A message for a sleeping client beyond its buffer limit. */
  | 'sleep_buffer_full'
  /** A gateway→client message given up after N_RETRY retransmissions. */
  | 'retries_exhausted'
  /** Refused by authentication or the QoS -1 clients list. */
  | 'unauthorized'
  /** Larger than the link MTU or the gateway's packet limit. */
  | 'too_large'
  /** Link-level framing error (serial, XBee). */
  | 'framing'
  /** The broker refused a message (PUBACK reason >= 0x80) or the link was lost for good. */
  | 'broker';

/** Every {@link DropReason}, in the order they are rendered. */
export const DROP_REASONS: readonly DropReason[] = [
  'malformed',
  'unexpected_type',
  'not_connected',
  'invalid_topic_id',
  'congestion',
  'sleep_buffer_full',
  'retries_exhausted',
  'unauthorized',
  'too_large',
  'framing',
  'broker',
];

/** Client states counted by the `fieldmq_clients` gauge (MQTT-SN 1.2 §6.14, Fig. 4). */
export type ClientStateName = 'active' | 'asleep' | 'awake' | 'lost' | 'disconnected';

export const CLIENT_STATES: readonly ClientStateName[] = ['active', 'asleep', 'awake', 'lost', 'disconnected'];

/** Index into the per-QoS arrays for QoS -1, 0, 1, 2. */
export function qosIndex(qos: number): number {
  return qos < 0 ? 0 : qos + 1;
}

/** QoS label of a per-QoS array index. */
export const QOS_LABELS: readonly string[] = ['-1', '0', '1', '2'];

/** The gateway's counters (monotonic) and gauges (current values). */
export class GatewayMetrics {
  /** Datagrams / frames received from sensor links, all types, before decoding. */
  packetsIn = 0;
  /** Datagrams / frames sent to sensor links. */
  packetsOut = 0;
  /** Octets received from / sent to sensor links (MQTT-SN messages as on the wire). */
  bytesIn = 0;
  bytesOut = 0;
  /** PUBLISH accepted from clients, by QoS (index {@link qosIndex}). */
  readonly messagesIn = new Float64Array(4);
  /** PUBLISH sent to clients (first transmissions only), by QoS. */
  readonly messagesOut = new Float64Array(4);
  /** Messages published to / received from the broker. */
  brokerOut = 0;
  brokerIn = 0;
  /** Gateway→client retransmissions (T_RETRY expired, MQTT-SN 1.2 §6.13). */
  retransmissions = 0;
  /** Dropped packets and messages by reason. */
  readonly drops: Record<DropReason, number>;
  /** Clients by state (gauge). */
  readonly clients: Record<ClientStateName, number>;
  /** Messages held for sleeping clients (gauge). */
  buffered = 0;
  /** 1 while the (aggregating) broker link is connected; transparent: connections up (gauge). */
  brokerConnections = 0;

  constructor() {
    this.drops = {} as Record<DropReason, number>;
    for (const r of DROP_REASONS) this.drops[r] = 0;
    this.clients = {} as Record<ClientStateName, number>;
    for (const s of CLIENT_STATES) this.clients[s] = 0;
  }

  /** Counts one drop. */
  drop(reason: DropReason): void {
    this.drops[reason]++;
  }
}

/** One rendered metric: name (without prefix), help, type, and its samples. */
export interface MetricFamily {
  name: string;
  help: string;
  type: 'counter' | 'gauge';
  samples: { labels: Record<string, string>; value: number }[];
}

/** The registry's metrics as families, in a stable order (Prometheus text and $SYS both use it). */
export function metricFamilies(m: GatewayMetrics): MetricFamily[] {
  const perQos = (a: Float64Array) => QOS_LABELS.map((qos, i) => ({ labels: { qos }, value: a[i]! }));
  return [
    { name: 'packets_in_total', help: 'Packets received from sensor links', type: 'counter', samples: [{ labels: {}, value: m.packetsIn }] },
    { name: 'packets_out_total', help: 'Packets sent to sensor links', type: 'counter', samples: [{ labels: {}, value: m.packetsOut }] },
    { name: 'bytes_in_total', help: 'Octets received from sensor links', type: 'counter', samples: [{ labels: {}, value: m.bytesIn }] },
    { name: 'bytes_out_total', help: 'Octets sent to sensor links', type: 'counter', samples: [{ labels: {}, value: m.bytesOut }] },
    { name: 'messages_in_total', help: 'PUBLISH accepted from clients, by QoS', type: 'counter', samples: perQos(m.messagesIn) },
    { name: 'messages_out_total', help: 'PUBLISH sent to clients, by QoS', type: 'counter', samples: perQos(m.messagesOut) },
    { name: 'broker_messages_out_total', help: 'Messages published to the broker', type: 'counter', samples: [{ labels: {}, value: m.brokerOut }] },
    { name: 'broker_messages_in_total', help: 'Messages received from the broker', type: 'counter', samples: [{ labels: {}, value: m.brokerIn }] },
    { name: 'retransmissions_total', help: 'Gateway to client retransmissions (T_RETRY)', type: 'counter', samples: [{ labels: {}, value: m.retransmissions }] },
    {
      name: 'drops_total',
      help: 'Dropped packets and messages, by reason',
      type: 'counter',
      samples: DROP_REASONS.map((reason) => ({ labels: { reason }, value: m.drops[reason] })),
    },
    {
      name: 'clients',
      help: 'Clients by state',
      type: 'gauge',
      samples: CLIENT_STATES.map((state) => ({ labels: { state }, value: m.clients[state] })),
    },
    { name: 'buffered_messages', help: 'Messages held for sleeping clients', type: 'gauge', samples: [{ labels: {}, value: m.buffered }] },
    { name: 'broker_connections', help: 'Broker connections up', type: 'gauge', samples: [{ labels: {}, value: m.brokerConnections }] },
  ];
}
