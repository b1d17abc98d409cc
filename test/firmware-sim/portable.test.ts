/**
 * firmware-sim › portability: the sensor core is device code. It passes
 * the project's portability check (no Node modules, Buffer, timers, Date, process) and, bundled
 * as a board would get it (esbuild, CommonJS, es2015), the Espruino syntax check; the sensor
 * then runs a whole connect-and-publish session inside an Espruino-like V8 context (no Map, Set,
 * Symbol, Date, TextEncoder; modules loaded through `Modules.addCached`).
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import vm from 'node:vm';
import * as esbuild from 'esbuild';
import { describe, expect, it } from 'vitest';
import { checkEspruinoSource } from '../../scripts/check-espruino';
import { checkPortableSource } from '../../scripts/check-portable';
import { MsgType, SnMessage, decodeMessage, msgTypeName } from '../../src/mqttsn';
import { addCached, espruinoContext } from '../build/helpers';
import { encode, type Tx } from '../mqttsn-client/harness';

const ROOT = resolve(__dirname, '../..');
const DEVICE_FILES = ['firmware-sim/sensor.ts', 'firmware-sim/signal.ts'];

async function bundle(entry: string): Promise<string> {
  const r = await esbuild.build({
    entryPoints: [resolve(ROOT, entry)],
    bundle: true,
    format: 'cjs',
    target: 'es2015',
    platform: 'neutral',
    write: false,
  });
  return r.outputFiles[0]!.text;
}

describe('firmware-sim › portability', () => {
  it.each(DEVICE_FILES)('%s uses no Node module, Buffer, timer, Date or process', (file) => {
    const code = readFileSync(resolve(ROOT, file), 'utf8');
    expect(checkPortableSource(resolve(ROOT, file), code, ROOT)).toEqual([]);
  });

  it('the check does see Node APIs: the Node glue (node.ts) is reported', () => {
    const file = resolve(ROOT, 'firmware-sim/node.ts');
    const rules = checkPortableSource(file, readFileSync(file, 'utf8'), ROOT).map((v) => v.rule);
    expect(rules).toContain('timer');
  });

  it.each(['firmware-sim/sensor.ts'])('%s bundled for Espruino (cjs, es2015) passes the Espruino check', async (file) => {
    expect(checkEspruinoSource(await bundle(file))).toEqual([]);
  });
});

describe('firmware-sim › Sensor in an Espruino-like context', () => {
  it('connects with its Will, subscribes to its commands and publishes three readings', async () => {
    const ctx = espruinoContext();
    addCached(ctx, 'sensor', await bundle('firmware-sim/sensor.ts'));
    const mod = vm.runInContext('require("sensor")', ctx) as typeof import('../../firmware-sim/sensor');

    // A datagram transport over two arrays; the test answers as a gateway would.
    const inbox: Uint8Array[] = [];
    const sent: Uint8Array[] = [];
    const transport = {
      open: () => 0,
      close: () => undefined,
      state: () => 2,
      from: () => 0,
      recv(buf: Uint8Array, off: number, len: number) {
        const d = inbox.shift();
        if (!d) return 0;
        const n = Math.min(len, d.length);
        for (let i = 0; i < n; i++) buf[off + i] = d[i]!;
        return n;
      },
      send: () => -1,
      sendTo(buf: Uint8Array, off: number, len: number) {
        sent.push(buf.slice(off, off + len));
        return len;
      },
    };
    const readings: number[][] = [];
    const s = new mod.Sensor({
      transport,
      clientId: 'esp-1',
      topics: mod.sensorTopics(0, 'esp-1', '1', 100),
      qos: 1,
      interval: 1000,
      onReading: (q, v, qos) => readings.push([q, v, qos]),
    });
    s.start();

    const names = new Map<number, string>();
    const published: [string, string][] = [];
    let t = 1;
    for (let step = 0; step < 50 && published.filter(([n]) => !n.endsWith('status')).length < 3; step++) {
      s.poll(t++);
      for (const bytes of sent.splice(0)) {
        const m = new SnMessage();
        expect(decodeMessage(bytes, 0, bytes.length, m)).toBe(bytes.length);
        const text = m.data ? Buffer.from(bytes.subarray(m.dataOffset, m.dataOffset + m.dataLength)).toString() : '';
        const answer = (f: Tx) => inbox.push(encode(f));
        switch (m.type) {
          case MsgType.CONNECT:
            expect(m.will).toBe(true);
            answer({ type: MsgType.WILLTOPICREQ });
            break;
          case MsgType.WILLTOPIC:
            expect(text).toBe('sensors/esp-1/status');
            answer({ type: MsgType.WILLMSGREQ });
            break;
          case MsgType.WILLMSG:
            answer({ type: MsgType.CONNACK, returnCode: 0 });
            break;
          case MsgType.SUBSCRIBE:
            expect(text).toBe('cmd/esp-1/#');
            answer({ type: MsgType.SUBACK, msgId: m.msgId, qos: 1, topicId: 0, returnCode: 0 });
            break;
          case MsgType.REGISTER:
            names.set(names.size + 1, text);
            answer({ type: MsgType.REGACK, msgId: m.msgId, topicId: names.size, returnCode: 0 });
            break;
          case MsgType.PUBLISH:
            published.push([names.get(m.topicId)!, text]);
            answer({ type: MsgType.PUBACK, msgId: m.msgId, topicId: m.topicId, returnCode: 0 });
            break;
          default:
            throw new Error(`unexpected ${msgTypeName(m.type)}`);
        }
      }
    }
    expect(published.map(([n]) => n)).toEqual([
      'sensors/esp-1/status',
      'sensors/esp-1/temp',
      'sensors/esp-1/humidity',
      'sensors/esp-1/battery',
    ]);
    expect(published[0]![1]).toBe('online');
    expect(published.slice(1).map(([, p]) => p)).toEqual(readings.map(([q, v]) => (q === 2 ? (v! / 1000).toFixed(3) : (v! / 10).toFixed(1))));
    expect(s.published).toBe(3);
  });
});
