/**
 * The callback log of an `SnClient` under test: every callback becomes one entry, in order,
 * shared by the client harness (`test/mqttsn-client/harness.ts`) and the gateway harness's
 * `Device` (`test/gateway/core/harness.ts`).
 */
import { msgTypeName } from '../../src/mqttsn';
import type { SnClientOptions } from '../../src/mqttsn/client';

/** One callback: its name, then its arguments (a message's payload as text). */
export type Ev = [string, ...unknown[]];

/** `SnClient` callbacks that push an {@link Ev} onto `ev` for each call. */
export function recordEvents(ev: Ev[]): Partial<SnClientOptions> {
  return {
    onConnect: (rc) => ev.push(['connect', rc]),
    onMessage: (name, id, type, buf, off, len, qos, retain) =>
      ev.push(['message', name, id, type, Buffer.from(buf.subarray(off, off + len)).toString(), qos, retain]),
    onPublished: (id, rc) => ev.push(['published', id, rc]),
    onRegister: (name, id, rc) => ev.push(['register', name, id, rc]),
    onAck: (type, id, rc, tid, qos) => ev.push(['ack', msgTypeName(type), id, rc, tid, qos]),
    onSleep: () => ev.push(['sleep']),
    onWake: () => ev.push(['wake']),
    onError: (s) => ev.push(['error', s]),
  };
}
