/**
 * Builds MQTT-SN datagrams for tests from a plain object, with the fieldmq codec (used by the
 * client harness's scripted gateway and the gateway harness's raw client).
 */
import { encodeMessage, msgTypeName, SnMessage, type MsgType } from '../../src/mqttsn';

/** Fields of a message to send; `text` / `data` fill the variable field. */
export type Tx = Partial<Omit<SnMessage, 'data' | 'text' | 'reset'>> & { type: MsgType; text?: string; data?: Uint8Array };

/** Encodes `f` with the fieldmq codec (up to the 3-octet-length maximum); throws on a codec status. */
export function encode(f: Tx): Uint8Array {
  const m = new SnMessage();
  const { text, data, ...rest } = f;
  Object.assign(m, rest);
  if (text !== undefined) m.text = text;
  if (data !== undefined) {
    m.data = data;
    m.dataLength = data.length;
  }
  const buf = new Uint8Array(70000);
  const n = encodeMessage(m, buf, 0);
  if (n < 0) throw new Error(`encode ${msgTypeName(f.type)} failed: ${n}`);
  return buf.slice(0, n);
}
