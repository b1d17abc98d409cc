/**
 * A bare MQTT-SN sensor for end-to-end tests: fieldmq's codec (`src/mqttsn`) over a `node:dgram`
 * socket, sending what the test says and waiting (with a deadline) for the gateway's replies.
 */
import dgram from 'node:dgram';
import { MsgType, SnMessage, TopicIdType, decodeMessage, encodeMessage, msgTypeName } from '../../../src/mqttsn';
import { waitFor } from '../../support/peers';

/** A received message, decoded and copied out of the datagram. */
export interface SnReply {
  type: MsgType;
  returnCode: number;
  topicId: number;
  msgId: number;
  qos: number;
  text: string;
}

/** An MQTT-SN client socket talking to one gateway address. */
export class SnUdpSensor {
  readonly received: SnReply[] = [];
  private readonly socket: dgram.Socket;
  private readonly listeners = new Set<() => void>();
  private readonly out = new SnMessage();
  private readonly buf = new Uint8Array(1024);

  private constructor(
    socket: dgram.Socket,
    readonly host: string,
    readonly port: number,
  ) {
    this.socket = socket;
    const m = new SnMessage();
    socket.on('message', (bytes) => {
      const u8 = new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.length);
      if (decodeMessage(u8, 0, u8.length, m) < 0) return;
      const text = m.data ? new TextDecoder().decode(m.data.subarray(m.dataOffset, m.dataOffset + m.dataLength)) : '';
      this.received.push({ type: m.type, returnCode: m.returnCode, topicId: m.topicId, msgId: m.msgId, qos: m.qos, text });
      for (const l of this.listeners) l();
    });
  }

  /** Binds a socket on 127.0.0.1 (any port) towards the gateway at `host:port`. */
  static async open(host: string, port: number): Promise<SnUdpSensor> {
    const socket = dgram.createSocket('udp4');
    await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
    return new SnUdpSensor(socket, host, port);
  }

  /** Encodes and sends one message; `fill` sets its fields on a reset {@link SnMessage}. */
  send(type: MsgType, fill: (m: SnMessage) => void = () => {}): void {
    const m = this.out;
    m.reset();
    m.type = type;
    fill(m);
    const end = encodeMessage(m, this.buf, 0);
    if (end < 0) throw new Error(`encoding ${msgTypeName(type)} failed: ${end}`);
    this.socket.send(this.buf.subarray(0, end), this.port, this.host);
  }

  /** Waits for a message of `type` (the first not yet taken) and takes it. */
  async next(type: MsgType, timeoutMs = 10_000): Promise<SnReply> {
    const r = await waitFor(
      `${msgTypeName(type)} from the gateway`,
      () => {
        const i = this.received.findIndex((x) => x.type === type);
        return i < 0 ? undefined : this.received.splice(i, 1)[0];
      },
      (f) => {
        this.listeners.add(f);
        return () => this.listeners.delete(f);
      },
      timeoutMs,
      () => `received: ${this.received.map((x) => msgTypeName(x.type)).join(', ') || 'nothing'}`,
    );
    return r;
  }

  /** CONNECT with `clientId` (clean session) and waits for the CONNACK's return code. */
  async connect(clientId: string, keepAlive = 60): Promise<number> {
    this.send(MsgType.CONNECT, (m) => {
      m.cleanSession = true;
      m.duration = keepAlive;
      m.text = clientId;
    });
    return (await this.next(MsgType.CONNACK)).returnCode;
  }

  /** REGISTER `topic`; resolves with the REGACK (topic id, return code). */
  async register(topic: string, msgId: number): Promise<SnReply> {
    this.send(MsgType.REGISTER, (m) => {
      m.msgId = msgId;
      m.text = topic;
    });
    return this.next(MsgType.REGACK);
  }

  /** PUBLISH QoS -1 to a short topic name (two characters, MQTT-SN 1.2 §3), no connection needed. */
  publishMinus1Short(shortTopic: string, payload: string): void {
    if (shortTopic.length !== 2) throw new Error('a short topic name has two characters');
    this.send(MsgType.PUBLISH, (m) => {
      m.qos = -1;
      m.topicIdType = TopicIdType.Short;
      m.topicId = (shortTopic.charCodeAt(0) << 8) | shortTopic.charCodeAt(1);
      m.text = payload;
    });
  }

  /** PUBLISH QoS 1 to a registered topic id; resolves with the PUBACK. */
  async publishQos1(topicId: number, msgId: number, payload: string): Promise<SnReply> {
    this.send(MsgType.PUBLISH, (m) => {
      m.qos = 1;
      m.topicIdType = TopicIdType.Normal;
      m.topicId = topicId;
      m.msgId = msgId;
      m.text = payload;
    });
    return this.next(MsgType.PUBACK);
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.socket.close(() => resolve()));
  }
}
