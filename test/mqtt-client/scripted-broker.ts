/**
 * A scripted MQTT server for client tests that need a broker to misbehave or
 * to show exactly what it received: redelivering a QoS 2 message, going
 * silent, dropping the link at a chosen moment, announcing small limits. A
 * real TCP server on 127.0.0.1:0; packets are decoded and encoded with
 * fieldmq's codec (itself cross-checked against mqtt-packet).
 */
import net from 'node:net';
import { MqttPacket, decodePacket, decodeProperties, encodePacket, packetLength, packetSize, type AnyPacketInfo, type MqttProperties } from '../../src/mqtt/index';
import { utf8Decode } from '../../src/core/utf8';

export interface Received {
  type: number;
  packetId: number;
  qos: number;
  dup: boolean;
  retain: boolean;
  topic: string;
  topicAlias: number;
  payload: string;
  reasonCode: number;
  /** Which connection (1, 2, ...) it came on. */
  conn: number;
  /** The whole packet as received. */
  bytes: Uint8Array;
  /** MQTT 5 properties of the packet, decoded (empty for 3.1.1 or none). */
  properties: MqttProperties;
}

export class ScriptedBroker {
  readonly server: net.Server;
  port = 0;
  readonly received: Received[] = [];
  connections = 0;
  private socket: net.Socket | null = null;
  private waiters: (() => void)[] = [];
  /** Reply to CONNECT with this (or nothing when null). */
  connack: AnyPacketInfo | null = { type: 2, sessionPresent: false, reasonCode: 0 };
  /** Answer PINGREQ. */
  answerPings = true;
  /** Acknowledge QoS 1 / 2 PUBLISHes (PUBACK, PUBREC→PUBCOMP). */
  autoAck = true;
  /** Answer UNSUBSCRIBE with UNSUBACK (MQTT 5: reason code 0). */
  answerUnsubscribes = true;
  /** Answer SUBSCRIBE with SUBACK (granting QoS 1). */
  answerSubscribes = true;

  constructor(readonly version: number) {
    this.server = net.createServer((s) => this.accept(s));
  }

  async listen(): Promise<void> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.port = (this.server.address() as net.AddressInfo).port;
  }

  async close(): Promise<void> {
    this.socket?.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  /** Sends `p` to the connected client. */
  send(p: AnyPacketInfo): void {
    this.socket?.write(this.encode(p));
  }

  /** `p` encoded with fieldmq's codec, any size. */
  encode(p: AnyPacketInfo): Uint8Array {
    const size = packetSize(p, this.version);
    if (size < 0) throw new Error('scripted broker could not size packet type ' + p.type + ': ' + size);
    const buf = new Uint8Array(size);
    const end = encodePacket(p, this.version, buf, 0);
    if (end < 0) throw new Error('scripted broker could not encode packet type ' + p.type + ': ' + end);
    return buf.subarray(0, end);
  }

  /** Sends raw bytes to the connected client. */
  sendRaw(bytes: Uint8Array): void {
    this.socket?.write(bytes);
  }

  /** Drops the current connection (no DISCONNECT). */
  drop(): void {
    this.socket?.destroy();
    this.socket = null;
  }

  /** Packets of `type` received so far. */
  of(type: number): Received[] {
    return this.received.filter((r) => r.type === type);
  }

  /** Calls `f` whenever something is received or a connection opens. */
  onChange(f: () => void): () => void {
    this.waiters.push(f);
    return () => {
      this.waiters = this.waiters.filter((w) => w !== f);
    };
  }

  private changed(): void {
    for (const w of this.waiters.slice()) w();
  }

  private accept(s: net.Socket): void {
    this.socket?.destroy();
    this.socket = s;
    const conn = ++this.connections;
    let pending = new Uint8Array(0);
    const view = new MqttPacket();
    s.on('error', () => {});
    s.on('data', (chunk: Buffer) => {
      const all = new Uint8Array(pending.length + chunk.length);
      all.set(pending, 0);
      all.set(chunk, pending.length);
      let off = 0;
      for (;;) {
        const len = packetLength(all, off, all.length - off, 1 << 20);
        if (len < 0 || off + len > all.length) break;
        const st = decodePacket(all, off, len, this.version, view, 0);
        if (st < 0) throw new Error('scripted broker got a bad packet: ' + st);
        this.record(all, off, len, view, conn);
        off += len;
      }
      pending = all.slice(off);
      this.changed();
    });
    this.changed();
  }

  private record(buf: Uint8Array, off: number, len: number, v: MqttPacket, conn: number): void {
    const properties: MqttProperties = {};
    if (this.version === 5 && v.propertiesLength > 0) {
      const st = decodeProperties(buf, v.propertiesOffset, v.propertiesOffset + v.propertiesLength, v.type, properties);
      if (st < 0) throw new Error('scripted broker could not decode properties: ' + st);
    }
    const r: Received = {
      type: v.type,
      packetId: v.packetId,
      qos: v.qos,
      dup: v.dup,
      retain: v.retain,
      topic: utf8Decode(buf, v.topicOffset, v.topicOffset + v.topicLength),
      topicAlias: v.topicAlias,
      payload: utf8Decode(buf, v.payloadOffset, v.payloadOffset + v.payloadLength),
      reasonCode: v.reasonCode,
      conn,
      bytes: buf.slice(off, off + len),
      properties,
    };
    this.received.push(r);
    switch (v.type) {
      case 1:
        if (this.connack) this.send(this.connack);
        break;
      case 3:
        if (!this.autoAck || v.qos === 0) break;
        this.send(v.qos === 1 ? { type: 4, packetId: v.packetId } : { type: 5, packetId: v.packetId });
        break;
      case 6:
        if (this.autoAck) this.send({ type: 7, packetId: v.packetId });
        break;
      case 8:
        if (this.answerSubscribes) this.send({ type: 9, packetId: v.packetId, reasonCodes: [1] });
        break;
      case 10:
        if (this.answerUnsubscribes) this.send(this.version === 5 ? { type: 11, packetId: v.packetId, reasonCodes: [0] } : { type: 11, packetId: v.packetId });
        break;
      case 12:
        if (this.answerPings) this.send({ type: 13 });
        break;
    }
  }
}
