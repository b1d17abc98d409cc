/**
 * Where a client is on the sensor side: a transport, the address that transport gave, and,
 * when the client talks through a forwarder (MQTT-SN 1.2 §5.5), the Wireless Node Id the
 * forwarder put in front of its messages.
 */
import type { Session } from './session';
import type { SensorTransport } from '../transports/transport';

/**
 * One sensor transport as the core sees it: the transport, and the index from address key
 * to session — the one Map lookup of the hot path.
 */
export class Port {
  /** The transport. */
  readonly transport: SensorTransport;
  /** Sessions bound on this transport, by {@link Peer.key}. */
  readonly sessions = new Map<string, Session>();
  /** When the last GWINFO was broadcast on this transport (gateway clock), or null (§6.1, see `discovery.ts`). */
  lastGwinfoBroadcast: number | null = null;

  constructor(transport: SensorTransport) {
    this.transport = transport;
  }
}

/**
 * A reply address (MQTT-SN 1.2 §5.5): the transport, its address string and, for a client
 * behind a forwarder, the Wireless Node Id (a copy) to wrap replies with.
 */
export class Peer {
  readonly port: Port;
  /** The address the transport gave (the forwarder's address for a forwarded client). */
  readonly address: string;
  /** Wireless Node Id (§5.5) of a forwarded client, or null for a direct one. */
  readonly nodeId: Uint8Array | null;
  /** Key in {@link Port.sessions}: the address, or `address#<node id hex>` behind a forwarder. */
  readonly key: string;

  constructor(port: Port, address: string, nodeId: Uint8Array | null, key: string) {
    this.port = port;
    this.address = address;
    this.nodeId = nodeId;
    this.key = key;
  }

  /** For logs: `udp 10.0.0.7:50123` or `udp 10.0.0.9:1884#0a0b`. */
  toString(): string {
    return this.port.transport.name + ' ' + this.key;
  }
}

const HEX = '0123456789abcdef';

/** `address#<hex>`: the session key of a client behind a forwarder (§5.5). Allocates. */
export function forwardedKey(address: string, buf: Uint8Array, off: number, len: number): string {
  let s = address + '#';
  for (let i = off; i < off + len; i++) s += HEX[buf[i]! >> 4]! + HEX[buf[i]! & 15]!;
  return s;
}
