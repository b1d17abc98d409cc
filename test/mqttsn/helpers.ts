/** Shared helpers for the MQTT-SN codec tests. */
import { SnMessage } from '../../src/mqttsn/message';
import type { SnFields, SnVector } from '../fixtures/mqttsn-vectors';
import { fromHex } from '../support/hex';

export { fromHex, toHex, normHex } from '../support/hex';

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
