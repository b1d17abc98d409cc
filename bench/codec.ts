/**
 * Codec benchmark (issue #2): PUBLISH (QoS 0/1, 16 B and 1 KB) and CONNECT
 * encode and decode throughput of fieldmq beside mqtt-packet in the same
 * run, and the garbage each produces per million messages.
 */
import { createRequire } from 'node:module';
import mqttPacket from 'mqtt-packet';
import { MqttPacket, decodePacket, encodeConnect, encodePublish, type ConnectInfo, type PublishInfo } from '../src/mqtt/index';
import { utf8Decode } from '../src/core/utf8';
import { compare, garbage, num, table } from './lib/measure';

const PEER_VERSION: string = createRequire(import.meta.url)('mqtt-packet/package.json').version;

interface Case {
  name: string;
  fieldmqEncode: (n: number) => void;
  fieldmqDecode: (n: number) => void;
  fieldmqRoundTrip: (n: number) => void;
  peerEncode: (n: number) => void;
  peerDecode: (n: number) => void;
  peerRoundTrip: (n: number) => void;
}

// Results are folded into `sink` so the JIT cannot drop the work. `| 0` keeps it
// a small integer: a growing float would allocate a heap number per update.
let sink = 0;

function publishCase(qos: 0 | 1, size: number): Case {
  const payload = new Uint8Array(size).fill(0x41);
  const topic = 'sensors/greenhouse-7/temperature';
  const info: PublishInfo = { topic, payload, qos, packetId: qos ? 1 : undefined };
  const tx = new Uint8Array(size + 128);
  const pkt = new MqttPacket();
  const len = encodePublish(info, 4, tx, 0);
  if (len < 0) throw new Error('encode failed');

  const peerObj = { cmd: 'publish' as const, topic, payload: Buffer.from(payload), qos, messageId: qos ? 1 : undefined, retain: false, dup: false };
  const peerBytes = mqttPacket.generate(peerObj);
  const parser = mqttPacket.parser({ protocolVersion: 4 });
  parser.on('packet', (p) => {
    sink = (sink + (p as unknown as { length: number }).length) | 0;
  });

  return {
    name: `PUBLISH QoS ${qos} ${size >= 1024 ? size / 1024 + ' KB' : size + ' B'}`,
    fieldmqEncode: (n) => {
      for (let i = 0; i < n; i++) {
        if (qos) info.packetId = (i & 0x7fff) + 1;
        sink = (sink + encodePublish(info, 4, tx, 0)) | 0;
      }
    },
    fieldmqDecode: (n) => {
      for (let i = 0; i < n; i++) {
        sink = (sink + decodePacket(tx, 0, len, 4, pkt, 0)) | 0;
        sink = (sink + pkt.payloadLength) | 0;
      }
    },
    fieldmqRoundTrip: (n) => {
      for (let i = 0; i < n; i++) {
        if (qos) info.packetId = (i & 0x7fff) + 1;
        const end = encodePublish(info, 4, tx, 0);
        sink = (sink + decodePacket(tx, 0, end, 4, pkt, 0) + pkt.packetId) | 0;
      }
    },
    peerEncode: (n) => {
      for (let i = 0; i < n; i++) {
        if (qos) peerObj.messageId = (i & 0x7fff) + 1;
        sink = (sink + mqttPacket.generate(peerObj).length) | 0;
      }
    },
    peerDecode: (n) => {
      for (let i = 0; i < n; i++) parser.parse(peerBytes);
    },
    peerRoundTrip: (n) => {
      for (let i = 0; i < n; i++) {
        if (qos) peerObj.messageId = (i & 0x7fff) + 1;
        parser.parse(mqttPacket.generate(peerObj));
      }
    },
  };
}

function connectCase(): Case {
  const info: ConnectInfo = {
    clientId: 'greenhouse-7-node-42',
    cleanSession: true,
    keepAlive: 60,
    username: 'sensor',
    password: 'secret',
    will: { topic: 'sensors/greenhouse-7/status', payload: 'offline', qos: 1, retain: true },
  };
  const tx = new Uint8Array(256);
  const pkt = new MqttPacket();
  const len = encodeConnect(info, 4, tx, 0);
  const peerObj: mqttPacket.IConnectPacket = {
    cmd: 'connect',
    protocolId: 'MQTT',
    protocolVersion: 4,
    clientId: info.clientId,
    clean: true,
    keepalive: 60,
    username: 'sensor',
    password: Buffer.from('secret'),
    will: { topic: 'sensors/greenhouse-7/status', payload: Buffer.from('offline'), qos: 1, retain: true },
  };
  const peerBytes = mqttPacket.generate(peerObj);
  const parser = mqttPacket.parser({ protocolVersion: 4 });
  parser.on('packet', (p) => {
    sink = (sink + (p as unknown as { length: number }).length) | 0;
  });
  // A server decoding CONNECT wants the client id as a string: both sides create it.
  return {
    name: 'CONNECT (will, user, password)',
    fieldmqEncode: (n) => {
      for (let i = 0; i < n; i++) sink = (sink + encodeConnect(info, 4, tx, 0)) | 0;
    },
    fieldmqDecode: (n) => {
      for (let i = 0; i < n; i++) {
        sink = (sink + decodePacket(tx, 0, len, 4, pkt, 0)) | 0;
        sink = (sink + utf8Decode(tx, pkt.clientIdOffset, pkt.clientIdOffset + pkt.clientIdLength).length) | 0;
      }
    },
    fieldmqRoundTrip: (n) => {
      for (let i = 0; i < n; i++) {
        const end = encodeConnect(info, 4, tx, 0);
        sink = (sink + decodePacket(tx, 0, end, 4, pkt, 0)) | 0;
        sink = (sink + utf8Decode(tx, pkt.clientIdOffset, pkt.clientIdOffset + pkt.clientIdLength).length) | 0;
      }
    },
    peerEncode: (n) => {
      for (let i = 0; i < n; i++) sink = (sink + mqttPacket.generate(peerObj).length) | 0;
    },
    peerDecode: (n) => {
      for (let i = 0; i < n; i++) parser.parse(peerBytes);
    },
    peerRoundTrip: (n) => {
      for (let i = 0; i < n; i++) parser.parse(mqttPacket.generate(peerObj));
    },
  };
}

function x(ratio: number): string {
  return ratio.toFixed(1) + '×';
}

/** Runs the codec benchmark and prints its tables; returns whether the targets were met. */
export async function runCodecBench(quick: boolean): Promise<boolean> {
  const roundMs = quick ? 50 : 200;
  const cases = [publishCase(0, 16), publishCase(1, 16), publishCase(0, 1024), publishCase(1, 1024), connectCase()];
  console.log('\n## MQTT codec: fieldmq vs mqtt-packet ' + PEER_VERSION + ' (MQTT 3.1.1, messages/s; ratios are medians of 7 paired rounds)\n');
  const rows: string[][] = [];
  let worstPublishRoundTrip = Infinity;
  for (const c of cases) {
    const enc = compare(c.fieldmqEncode, c.peerEncode, roundMs);
    const dec = compare(c.fieldmqDecode, c.peerDecode, roundMs);
    const both = compare(c.fieldmqRoundTrip, c.peerRoundTrip, roundMs);
    if (c.name.startsWith('PUBLISH')) worstPublishRoundTrip = Math.min(worstPublishRoundTrip, both.ratio);
    rows.push([c.name, num(enc.a), num(enc.b), x(enc.ratio), num(dec.a), num(dec.b), x(dec.ratio), num(both.a), num(both.b), x(both.ratio)]);
  }
  table(
    ['packet', 'enc fieldmq', 'enc peer', 'ratio', 'dec fieldmq', 'dec peer', 'ratio', 'enc+dec fieldmq', 'enc+dec peer', 'ratio'],
    rows,
  );

  console.log('\n## Garbage per 1,000,000 messages (encode + decode)\n');
  const gRows: string[][] = [];
  let fieldmqGarbageFree = true;
  for (const c of cases.slice(0, 4)) {
    const f = garbage(c.fieldmqRoundTrip, quick ? 200_000 : 1_000_000, 10_000);
    const p = garbage(c.peerRoundTrip, quick ? 200_000 : 1_000_000, 10_000);
    const scale = quick ? 5 : 1;
    if (f.gcEvents > 0 || f.bytes > 0) fieldmqGarbageFree = false;
    gRows.push([
      c.name,
      num(f.bytes * scale) + (f.exact ? '' : '+'),
      num(f.gcEvents * scale, 6),
      num(p.bytes * scale) + (p.exact ? '' : '+'),
      num(p.gcEvents * scale, 6),
    ]);
  }
  table(['packet', 'fieldmq bytes', 'GCs', 'mqtt-packet bytes', 'GCs'], gRows);
  console.log("('+' marks a lower bound: a collection ran inside a measuring batch.)");

  const okRatio = worstPublishRoundTrip >= 5;
  console.log(`\nTarget: PUBLISH encode+decode ≥ 5× mqtt-packet → worst case ${worstPublishRoundTrip.toFixed(1)}× ${okRatio ? 'MET' : 'MISSED'}`);
  console.log(`Target: zero garbage per message in steady state → ${fieldmqGarbageFree ? 'MET (0 bytes, 0 GCs)' : 'MISSED'}`);
  if (sink === 42) console.log('');
  return okRatio && fieldmqGarbageFree;
}
