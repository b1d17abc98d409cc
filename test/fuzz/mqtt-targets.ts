/**
 * Fuzz targets for the MQTT codec: one per packet type and protocol version
 * (seeded with that type's spec vectors), the stream framer and the property
 * scanner. The check on accepted input: every view lies inside the input, and
 * what the decoder validated can be walked without error.
 */
import { ByteRing } from '../../src/core/ring';
import {
  MqttPacket,
  SubscriptionView,
  decodePacket,
  decodeProperties,
  frameLength,
  nextSubscription,
  scanProperties,
  type MqttProperties,
} from '../../src/mqtt/index';
import { MQTT_VECTORS, hexBytes } from '../fixtures/mqtt-vectors';
import type { FuzzTarget } from './engine';

const PAIRS: [string, string][] = [
  ['topicOffset', 'topicLength'],
  ['payloadOffset', 'payloadLength'],
  ['propertiesOffset', 'propertiesLength'],
  ['clientIdOffset', 'clientIdLength'],
  ['willPropertiesOffset', 'willPropertiesLength'],
  ['willTopicOffset', 'willTopicLength'],
  ['willPayloadOffset', 'willPayloadLength'],
  ['usernameOffset', 'usernameLength'],
  ['passwordOffset', 'passwordLength'],
];

function checkPacket(buf: Uint8Array, len: number, result: number, pkt: MqttPacket): string | null {
  if (result !== pkt.length || result > len || result < 2) return `length ${result} vs input ${len}`;
  const rec = pkt as unknown as Record<string, number>;
  for (const [o, l] of PAIRS) {
    if (rec[l] === 0) continue;
    if (rec[o] < pkt.bodyOffset || rec[o] + rec[l] > result) return `${o}/${l} = ${rec[o]}/${rec[l]} outside packet of ${result}`;
  }
  if (pkt.propertiesLength > 0) {
    const st = decodeProperties(buf, pkt.propertiesOffset, pkt.propertiesOffset + pkt.propertiesLength, pkt.type, {} as MqttProperties);
    if (st !== 0) return `validated properties failed to decode: ${st}`;
  }
  if (pkt.willPropertiesLength > 0) {
    const st = decodeProperties(buf, pkt.willPropertiesOffset, pkt.willPropertiesOffset + pkt.willPropertiesLength, 0, {});
    if (st !== 0) return `validated will properties failed to decode: ${st}`;
  }
  if (pkt.type === 8 || pkt.type === 10) {
    const sv = new SubscriptionView();
    const end = pkt.payloadOffset + pkt.payloadLength;
    let n = 0;
    for (let p = pkt.payloadOffset; (p = nextSubscription(buf, p, end, pkt.type === 8, sv)) >= 0; n++) {
      if (sv.topicOffset + sv.topicLength > end || p > end) return 'subscription entry outside payload';
      if (n > len) return 'subscription walk does not end';
    }
    if (n === 0) return 'accepted a (UN)SUBSCRIBE without filters';
  }
  return null;
}

function packetTargets(): FuzzTarget[] {
  const byKey = new Map<string, Uint8Array[]>();
  for (const v of MQTT_VECTORS) {
    const bytes = hexBytes(v.hex);
    const key = `${v.version}/${bytes[0] >> 4}`;
    if (!byKey.has(key)) byKey.set(key, []);
    byKey.get(key)!.push(bytes);
  }
  const names = ['', 'CONNECT', 'CONNACK', 'PUBLISH', 'PUBACK', 'PUBREC', 'PUBREL', 'PUBCOMP', 'SUBSCRIBE', 'SUBACK',
    'UNSUBSCRIBE', 'UNSUBACK', 'PINGREQ', 'PINGRESP', 'DISCONNECT', 'AUTH'];
  const targets: FuzzTarget[] = [];
  for (const version of [4, 5]) {
    for (let type = 1; type <= 15; type++) {
      const seeds = byKey.get(`${version}/${type}`) ?? byKey.get(`${9 - version}/${type}`) ?? [];
      const pkt = new MqttPacket();
      targets.push({
        name: `mqtt/v${version}/${names[type]}`,
        seeds,
        run: (buf, len) => decodePacket(buf, 0, len, version, pkt, 0),
        check: (buf, len, result) => checkPacket(buf, len, result, pkt),
      });
    }
  }
  return targets;
}

/** Every MQTT fuzz target. */
export function mqttTargets(): FuzzTarget[] {
  const targets = packetTargets();
  const allSeeds = MQTT_VECTORS.map((v) => hexBytes(v.hex));
  const ring = new ByteRing(512);
  targets.push({
    name: 'mqtt/frameLength',
    seeds: allSeeds,
    run: (buf, len) => {
      ring.clear();
      ring.write(buf, 0, Math.min(len, 512));
      return frameLength(ring, 1 << 20);
    },
    check: (_buf, _len, result) => (result >= 2 && result <= 1 << 20 ? null : `framed length ${result}`),
  });
  targets.push({
    name: 'mqtt/scanProperties',
    seeds: allSeeds.map((b) => b.subarray(2)),
    run: (buf, len) => scanProperties(buf, 1, len, buf[0] & 15),
    check: (buf, len) => {
      const st = decodeProperties(buf, 1, len, buf[0] & 15, {});
      return st === 0 ? null : `scan accepted but decode said ${st}`;
    },
  });
  return targets;
}
