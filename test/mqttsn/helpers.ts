/** Shared helpers for the MQTT-SN codec tests. */
import { SnMessage } from '../../src/mqttsn/message';
import type { SnFields, SnVector } from '../fixtures/mqttsn-vectors';

/** Spaced or unspaced hex to bytes. */
export function fromHex(hex: string): Uint8Array {
  const s = hex.replace(/\s+/g, '');
  const out = new Uint8Array(s.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(s.slice(2 * i, 2 * i + 2), 16);
  return out;
}

/** Bytes to spaced hex. */
export function toHex(buf: Uint8Array, off = 0, end = buf.length): string {
  const parts: string[] = [];
  for (let i = off; i < end; i++) parts.push(buf[i].toString(16).padStart(2, '0'));
  return parts.join(' ');
}

/** Normalises spaced hex for comparisons. */
export function normHex(hex: string): string {
  return toHex(fromHex(hex));
}

/** The numeric / boolean fields of an SnMessage, as a plain object for `toEqual`. */
export function fieldsOf(m: SnMessage): Required<SnFields> {
  return {
    type: m.type,
    dup: m.dup,
    qos: m.qos,
    retain: m.retain,
    will: m.will,
    cleanSession: m.cleanSession,
    topicIdType: m.topicIdType,
    gwId: m.gwId,
    duration: m.duration,
    radius: m.radius,
    protocolId: m.protocolId,
    returnCode: m.returnCode,
    topicId: m.topicId,
    msgId: m.msgId,
    hasDuration: m.hasDuration,
    hasFlags: m.hasFlags,
  };
}

/** The fields a vector expects after decoding: defaults overlaid with the vector's fields. */
export function expectedFields(v: SnVector): Required<SnFields> {
  return Object.assign(fieldsOf(new SnMessage()), v.fields);
}

/** A fresh SnMessage holding a vector's fields, with the variable field as bytes (`data`). */
export function messageFor(v: SnVector, useText = false): SnMessage {
  const m = new SnMessage();
  Object.assign(m, v.fields);
  if (useText && v.text !== undefined) m.text = v.text;
  else if (v.data !== undefined) {
    const d = fromHex(v.data);
    // Put the field at a non-zero offset to prove the encoder honours dataOffset.
    const holder = new Uint8Array(d.length + 3);
    holder.set(d, 2);
    m.data = holder;
    m.dataOffset = 2;
    m.dataLength = d.length;
  }
  return m;
}

/** Message-type name of a vector, for test titles. */
export { msgTypeName } from '../../src/mqttsn/constants';
