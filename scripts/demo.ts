/**
 * `npm start`: what fieldmq's codecs do for a sensor on a slow link, in one
 * screen. A greenhouse node reports a temperature; the same reading is encoded
 * as MQTT 3.1.1, MQTT 5.0 (with a topic alias) and MQTT-SN 1.2 (registered,
 * predefined and short topic ids, QoS -1 .. 2), each decoded back and
 * checked, with the bytes each costs on the wire.
 *
 * Until the gateway lands (issue #4) this is the project's main demo; then
 * `npm start` runs the gateway, the embedded broker and simulated sensors.
 */
import { statusName } from '../src/core/status';
import { utf8Decode } from '../src/core/utf8';
import { MqttPacket, decodePacket, encodePublish, type PublishInfo } from '../src/mqtt/index';
import { MsgType, SnMessage, TopicIdType, decodeMessage, encodeMessage, msgTypeName } from '../src/mqttsn/index';

const topic = 'greenhouse/7/temperature';
const reading = '21.5';
const buf = new Uint8Array(256);

function hex(b: Uint8Array, end: number): string {
  return Array.from(b.subarray(0, end), (v) => v.toString(16).padStart(2, '0')).join(' ');
}

function must(n: number, what: string): number {
  if (n < 0) {
    console.error(`${what} failed: ${statusName(n)}`);
    process.exit(1);
  }
  return n;
}

interface Row {
  how: string;
  bytes: number;
  wire: string;
  check: string;
}
const rows: Row[] = [];

function mqtt(how: string, info: PublishInfo, version: number): void {
  const end = must(encodePublish(info, version, buf, 0), how);
  const pkt = new MqttPacket();
  must(decodePacket(buf, 0, end, version, pkt, 0), 'decode ' + how);
  const t = utf8Decode(buf, pkt.topicOffset, pkt.topicOffset + pkt.topicLength);
  const p = utf8Decode(buf, pkt.payloadOffset, pkt.payloadOffset + pkt.payloadLength);
  rows.push({ how, bytes: end, wire: hex(buf, end), check: `topic '${t || '(alias ' + pkt.topicAlias + ')'}' payload '${p}' QoS ${pkt.qos}` });
}

function sn(how: string, setup: (m: SnMessage) => void): void {
  const m = new SnMessage();
  setup(m);
  const end = must(encodeMessage(m, buf, 0), how);
  const back = new SnMessage();
  must(decodeMessage(buf, 0, end, back), 'decode ' + how);
  const p = back.data ? utf8Decode(back.data, back.dataOffset, back.dataOffset + back.dataLength) : '';
  rows.push({
    how,
    bytes: end,
    wire: hex(buf, end),
    check: `${msgTypeName(back.type)} topicId 0x${back.topicId.toString(16).padStart(4, '0')} payload '${p}' QoS ${back.qos}`,
  });
}

mqtt('MQTT 3.1.1 PUBLISH QoS 0', { topic, payload: reading, qos: 0 }, 4);
mqtt('MQTT 3.1.1 PUBLISH QoS 1', { topic, payload: reading, qos: 1, packetId: 1 }, 4);
mqtt('MQTT 5.0 PUBLISH, alias set', { topic, payload: reading, qos: 0, properties: { topicAlias: 1 } }, 5);
mqtt('MQTT 5.0 PUBLISH, alias reused', { topic: '', payload: reading, qos: 0, properties: { topicAlias: 1 } }, 5);
sn('MQTT-SN REGISTER (once)', (m) => {
  m.type = MsgType.REGISTER;
  m.msgId = 1;
  m.text = topic;
});
sn('MQTT-SN PUBLISH QoS 0, registered id', (m) => {
  m.type = MsgType.PUBLISH;
  m.qos = 0;
  m.topicId = 1;
  m.text = reading;
});
sn('MQTT-SN PUBLISH QoS 1, registered id', (m) => {
  m.type = MsgType.PUBLISH;
  m.qos = 1;
  m.topicId = 1;
  m.msgId = 2;
  m.text = reading;
});
sn('MQTT-SN PUBLISH QoS -1, predefined id', (m) => {
  m.type = MsgType.PUBLISH;
  m.qos = -1;
  m.topicIdType = TopicIdType.Predefined;
  m.topicId = 7;
  m.text = reading;
});
sn("MQTT-SN PUBLISH QoS -1, short topic 'gt'", (m) => {
  m.type = MsgType.PUBLISH;
  m.qos = -1;
  m.topicIdType = TopicIdType.Short;
  m.topicId = 0x6774;
  m.text = reading;
});

console.log(`fieldmq codec demo: one temperature reading ('${reading}' on '${topic}'), every way fieldmq can send it.\n`);
const w = Math.max(...rows.map((r) => r.how.length));
for (const r of rows) {
  console.log(`${r.how.padEnd(w)}  ${String(r.bytes).padStart(3)} bytes  ${r.wire}`);
  console.log(`${''.padEnd(w)}  decoded back: ${r.check}`);
}
const mqtt0 = rows[0].bytes;
const snQm1 = rows[rows.length - 1].bytes;
console.log(`\nPer reading, MQTT-SN QoS -1 with a short topic costs ${snQm1} bytes against MQTT's ${mqtt0} (${Math.round((100 * (mqtt0 - snQm1)) / mqtt0)}% less), before TCP/IP headers, which MQTT-SN over UDP or a radio also avoids.`);
console.log('Every packet above was encoded into one reused buffer and decoded without copying; see README for the API.');
