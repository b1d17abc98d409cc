/**
 * SnClient › the device bundle: bundled as the build ships it, it passes the
 * Espruino syntax check and runs a session in an Espruino-like context (no
 * Map/Set/Symbol/Date/TextEncoder, DESIGN.md §4). The transport here is an
 * in-memory datagram pair, because the Espruino context has no sockets; the
 * protocol itself is covered over real UDP by the other files.
 */
import { readFileSync } from 'node:fs';
import vm from 'node:vm';
import * as esbuild from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkEspruinoSource } from '../../scripts/check-espruino';
import { addCached, buildToTemp, espruinoContext, type TempBuild } from '../build/helpers';
import { decodeMessage, MsgType, SnMessage } from '../../src/mqttsn';
import { encode } from './harness';

let b: TempBuild;
beforeAll(async () => {
  b = await buildToTemp();
});
afterAll(() => b?.dispose());

/** A DatagramTransport over two arrays: what the client sent, what it will receive. */
function memoryTransport() {
  const inbox: Uint8Array[] = [];
  const sent: { bytes: Uint8Array; peer: number }[] = [];
  return {
    inbox,
    sent,
    open: () => 0,
    close: () => undefined,
    state: () => 2,
    from: () => 0,
    recv(buf: Uint8Array, off: number, len: number) {
      const d = inbox.shift();
      if (!d) return 0;
      const n = Math.min(len, d.length);
      for (let i = 0; i < n; i++) buf[off + i] = d[i];
      return n;
    },
    send: () => -7,
    sendTo(buf: Uint8Array, off: number, len: number, peer: number) {
      sent.push({ bytes: buf.slice(off, off + len), peer });
      return len;
    },
  };
}

function decoded(bytes: Uint8Array): SnMessage {
  const m = new SnMessage();
  expect(decodeMessage(bytes, 0, bytes.length, m)).toBe(bytes.length);
  return m;
}

describe('SnClient › Espruino bundle', () => {
  it('client.ts bundled alone (esbuild cjs, es2015) passes the Espruino check', async () => {
    const r = await esbuild.build({
      entryPoints: ['src/mqttsn/client.ts'],
      bundle: true,
      minify: true,
      format: 'cjs',
      target: 'es2015',
      platform: 'neutral',
      write: false,
    });
    const code = r.outputFiles[0].text;
    expect(checkEspruinoSource(code)).toEqual([]);
  });

  it('runs CONNECT, a QoS 1 publish by name (REGISTER first) and an inbound QoS 2 PUBLISH in an Espruino-like context', () => {
    const bundle = b.result.bundles.find((x) => x.platform === 'espruino' && x.specifier === 'fieldmq/mqttsn')!;
    expect(bundle.violations).toEqual([]);
    const ctx = espruinoContext();
    addCached(ctx, 'fieldmq-mqttsn', readFileSync(bundle.file, 'utf8'));
    const mod = vm.runInContext('require("fieldmq-mqttsn")', ctx) as typeof import('../../src/mqttsn');
    const tr = memoryTransport();
    const log: unknown[] = [];
    const c = new mod.SnClient({
      transport: tr,
      clientId: 'esp',
      gateway: 0,
      onConnect: (rc) => log.push(['connect', rc]),
      onPublished: (id, rc) => log.push(['published', id, rc]),
      onMessage: (name, id, type, buf, off, len, qos) => log.push(['message', name, len, qos]),
    });
    let t = 0xfffffff0; // across the uint32 wrap
    c.connect();
    c.poll(t);
    expect(decoded(tr.sent[0].bytes).type).toBe(MsgType.CONNECT);
    tr.inbox.push(encode({ type: MsgType.CONNACK, returnCode: 0 }));
    c.poll((t += 5) >>> 0);
    const id = c.publish('esp/temp', '20', 1, false);
    c.poll((t += 5) >>> 0);
    const reg = decoded(tr.sent[1].bytes);
    expect(reg.type).toBe(MsgType.REGISTER);
    tr.inbox.push(encode({ type: MsgType.REGACK, topicId: 3, msgId: reg.msgId, returnCode: 0 }));
    c.poll((t += 5) >>> 0);
    const pub = decoded(tr.sent[2].bytes);
    expect([pub.type, pub.topicId, pub.msgId]).toEqual([MsgType.PUBLISH, 3, id]);
    tr.inbox.push(encode({ type: MsgType.PUBACK, topicId: 3, msgId: id, returnCode: 0 }));
    tr.inbox.push(encode({ type: MsgType.PUBLISH, qos: 2, topicId: 3, msgId: 9, text: 'x' }));
    tr.inbox.push(encode({ type: MsgType.PUBLISH, qos: 2, dup: true, topicId: 3, msgId: 9, text: 'x' }));
    c.poll((t += 5) >>> 0);
    expect(tr.sent.slice(3).map((s) => decoded(s.bytes).type)).toEqual([MsgType.PUBREC, MsgType.PUBREC]);
    expect(log).toEqual([
      ['connect', 0],
      ['published', id, 0],
      ['message', 'esp/temp', 1, 2],
    ]);
  });
});
