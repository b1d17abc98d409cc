/**
 * Fuzz targets for the clients as a whole: a connected client (`MqttClient`
 * at MQTT 3.1.1 and 5.0, the lean `createMqttLite` at 3.1.1; `SnClient` and
 * the lean `createSnLite`) is given each input as bytes from its server or
 * gateway, through an in-memory stream or datagram link.
 * Seeds are the spec vectors of the packets a server sends. The invariants,
 * on top of the engine's (never throws):
 * - the client stays within its bounds (`pending` never above `queueSize`);
 * - whatever the input did, it can be brought back to Connected by a plain
 *   reconnect (a CONNACK), so bad input costs a connection at most.
 */
import type { DatagramTransport } from '../../src/transport';
import { Status } from '../../src/core/status';
import { MsgType } from '../../src/mqttsn/constants';
import type { SnClientOptions } from '../../src/mqttsn/client';
import type { MqttClientOptions } from '../../src/mqtt/client';
import { snVectors } from '../fixtures/mqttsn-vectors';
import { IMPLS, SN_IMPLS, type MqttLite, type SnLite } from '../support/impls';
import { MQTT_VECTORS, hexBytes } from '../fixtures/mqtt-vectors';
import type { FuzzTarget } from './engine';

/**
 * A link whose other side (server, or gateway as peer 0) sends the current fuzz input: as a byte
 * stream, or as one datagram (cut to the reader's buffer, the rest dropped). Whatever the client
 * sends is taken and dropped.
 */
class InputLink implements DatagramTransport {
  private input: Uint8Array = new Uint8Array(0);
  private at = 0;
  private end = 0;
  onReadable = null;
  onWritable = null;
  constructor(private readonly datagram: boolean) {}
  open(): number {
    return 0;
  }
  close(): void {}
  state(): number {
    return 2;
  }
  from(): number {
    return 0;
  }
  recv(buf: Uint8Array, off: number, len: number): number {
    const n = Math.min(len, this.end - this.at);
    buf.set(this.input.subarray(this.at, this.at + n), off);
    this.at = this.datagram ? this.end : this.at + n;
    return n;
  }
  send(_buf: Uint8Array, _off: number, len: number): number {
    return this.datagram ? Status.Unsupported : len;
  }
  sendTo(_buf: Uint8Array, _off: number, len: number): number {
    return len;
  }
  give(b: Uint8Array, len: number): void {
    this.input = b;
    this.at = 0;
    this.end = len;
  }
}

const CONNACK = Uint8Array.of(0x20, 0x02, 0x00, 0x00);
const CONNACK5 = Uint8Array.of(0x20, 0x03, 0x00, 0x00, 0x00);
const QUEUE = 8;

function clientTarget(name: string, version: number, make: (o: MqttClientOptions) => MqttLite): FuzzTarget {
  const link = new InputLink(false);
  let now = 0;
  const c = make({
    transport: link,
    clientId: 'fuzz',
    version,
    keepAlive: 0,
    queueSize: QUEUE,
    maxInbound: 4,
    maxPacketSize: 256,
    reconnectMin: 1,
    reconnectMax: 1,
    random: () => 0,
    onMessage: (m) => void m.topic(),
  });
  c.subscribe('a/+/c', 2, (m) => void m.text());
  c.subscribe('#', 1, null);
  /** Brings the client back to Connected; its state afterwards. */
  const reconnect = (): number => {
    if (c.state === 0) c.start(now);
    for (let i = 0; i < 8 && c.state !== 4; i++) {
      if (c.state === 3) link.give(version === 5 ? CONNACK5 : CONNACK, version === 5 ? 5 : 4);
      now = (now + 1000) >>> 0;
      c.poll(now);
    }
    return c.state;
  };
  const seeds = MQTT_VECTORS.filter((v) => v.version === version && [2, 3, 4, 5, 6, 7, 9, 11, 13, 14].includes(hexBytes(v.hex)[0] >> 4)).map((v) => hexBytes(v.hex));
  return {
    name,
    seeds,
    run: (buf, len) => {
      reconnect();
      if (c.pending < 4) {
        c.publish('t/1', 'q1', 1, false);
        c.publish('t/2', 'q2', 2, false);
      }
      link.give(buf, len);
      now = (now + 1) >>> 0;
      c.poll(now);
      if (c.pending > QUEUE) return -1000 - c.pending;
      return reconnect();
    },
    check: (_buf, _len, result) => (result === 4 ? null : `client not back to Connected (state ${result})`),
  };
}

/** The client fuzz targets. */
export function mqttClientTargets(): FuzzTarget[] {
  const targets: FuzzTarget[] = [];
  for (const impl of IMPLS) for (const v of impl.mqtt5 ? [4, 5] : [4]) targets.push(clientTarget(`mqtt/client/${impl.name}/v${v}`, v, impl.make));
  return targets;
}

const SN_CONNACK = Uint8Array.of(0x03, 0x05, 0x00);

function snClientTarget(name: string, make: (o: SnClientOptions) => SnLite): FuzzTarget {
  const link = new InputLink(true);
  let now = 0;
  const c = make({
    transport: link,
    clientId: 'fuzz',
    gateway: 0,
    keepAlive: 0,
    maxInflight: 4,
    maxTopics: 4,
    maxSubscriptions: 2,
    packetSize: 128,
    tRetry: 10,
    nRetry: 1,
    tWait: 10,
    predefined: [['pre/t', 7]],
    onMessage: () => undefined,
  });
  /** Brings the client back to Active (3); its state afterwards. */
  const activate = (): number => {
    for (let i = 0; i < 8 && c.state() !== 3; i++) {
      if (c.state() === 0) c.connect();
      now = (now + 100) >>> 0;
      c.poll(now); // sends CONNECT (again)
      link.give(SN_CONNACK, 3);
      c.poll(now);
    }
    return c.state();
  };
  c.subscribe('cmd/#', 1);
  return {
    name,
    seeds: snVectors.filter((v) => v.fields.type !== MsgType.ENCAPSULATED).map((v) => hexBytes(v.hex)),
    run: (buf, len) => {
      activate();
      c.publish('t/x', 'q1', 1, false);
      c.publish('ab', 'q0', 0, false);
      link.give(buf, len);
      now = (now + 1) >>> 0;
      c.poll(now);
      return activate();
    },
    check: (_buf, _len, result) => (result === 3 ? null : `client not back to Active (state ${result})`),
  };
}

/** The MQTT-SN client fuzz targets: one datagram from the gateway per input. */
export function mqttsnClientTargets(): FuzzTarget[] {
  return SN_IMPLS.map((impl) => snClientTarget(`mqttsn/client/${impl.name}`, impl.make));
}
