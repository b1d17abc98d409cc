/**
 * The far end of the client benchmark, run as a child process
 * (`child_process.fork` with `--import tsx`) so that counting costs the
 * publisher's process nothing. Two roles, picked by `argv[2]`:
 *
 * - `sink`: a `node:net` server that answers CONNECT with CONNACK and then
 *   counts and discards every byte. The client is measured alone: no broker.
 * - `sub <port> <marker> [topic]`: a raw MQTT 3.1.1 subscriber (QoS 0) to
 *   `marker` and, when given, `topic` on a broker, counting the PUBLISH
 *   packets it is delivered on `topic` (frames walked by their fixed header;
 *   nothing decoded, nothing allocated per message). A PUBLISH on `marker`
 *   ends a run. Subscribed to `marker` alone it costs the broker no fan-out:
 *   the marker arriving says the broker has read everything the publisher
 *   sent before it (a broker handles one connection's packets in order).
 *
 * IPC protocol (parent → child): `{ op: 'reset' }` zeroes the counters and
 * answers `{ op: 'reset' }`; sink: `{ op: 'wait', bytes }` answers
 * `{ op: 'reached', bytes }` once that many bytes arrived since the reset.
 * The subscriber sends `{ op: 'marker', count }` (messages on `topic` since
 * the reset) when a marker arrives. On start the child sends `{ op: 'ready', port? }`.
 */
import net from 'node:net';

const send = (m: object): void => {
  process.send!(m);
};

function sink(): void {
  let bytes = 0;
  let want = -1;
  const server = net.createServer((s) => {
    s.setNoDelay(true);
    // The CONNECT is answered and not counted: `connect` is its length once known.
    let connect = -1;
    let seen = 0;
    s.on('data', (chunk: Buffer) => {
      let i = 0;
      if (connect < 0 || seen < connect) {
        if (connect < 0) {
          // Fixed header: type byte, Remaining Length (at most 4 bytes); assumed in the first chunk.
          let rl = 0;
          let p = 1;
          for (let mul = 1; p < 5 && p < chunk.length; p++, mul *= 128) {
            rl += (chunk[p] & 0x7f) * mul;
            if ((chunk[p] & 0x80) === 0) break;
          }
          connect = p + 1 + rl;
        }
        i = Math.min(chunk.length, connect - seen);
        seen += i;
        if (seen === connect) s.write(Buffer.of(0x20, 0x02, 0x00, 0x00)); // CONNACK, accepted
        if (i === chunk.length) return;
      }
      bytes += chunk.length - i;
      if (want >= 0 && bytes >= want) {
        want = -1;
        send({ op: 'reached', bytes });
      }
    });
    s.on('error', () => {});
  });
  server.listen(0, '127.0.0.1', () => send({ op: 'ready', port: (server.address() as net.AddressInfo).port }));
  process.on('message', (m: { op: string; bytes?: number }) => {
    if (m.op === 'reset') {
      bytes = 0;
      want = -1;
      send({ op: 'reset' });
    } else if (m.op === 'wait') {
      want = m.bytes!;
      if (bytes >= want) {
        want = -1;
        send({ op: 'reached', bytes });
      }
    }
  });
}

function str(s: string): number[] {
  const b = Buffer.from(s, 'utf8');
  return [b.length >> 8, b.length & 0xff, ...b];
}

function sub(port: number, marker: string, topic: string | undefined): void {
  const s = net.connect({ host: '127.0.0.1', port });
  s.setNoDelay(true);
  const connect = [0x00, 0x04, 0x4d, 0x51, 0x54, 0x54, 0x04, 0x02, 0x00, 0x3c, ...str('bench-sub-' + process.pid)];
  const subscribe = [0x00, 0x01, ...str(marker), 0x00, ...(topic === undefined ? [] : [...str(topic), 0x00])];
  s.write(Buffer.from([0x10, connect.length, ...connect, 0x82, subscribe.length, ...subscribe]));
  const markerLen = Buffer.byteLength(marker);
  if (topic !== undefined && Buffer.byteLength(topic) === markerLen) throw new Error('bench subscriber: topic and marker need different lengths');
  let count = 0;
  let ready = false;
  // Frame walker state: bytes of the current packet's header seen so far
  // (type byte, Remaining Length, topic length), then bytes left to skip.
  const head = new Uint8Array(8);
  let have = 0;
  let skip = 0;
  s.on('data', (c: Buffer) => {
    let i = 0;
    while (i < c.length) {
      if (skip > 0) {
        const k = Math.min(skip, c.length - i);
        skip -= k;
        i += k;
        continue;
      }
      head[have++] = c[i++];
      // Need the type byte, a complete Remaining Length, then (PUBLISH) 2 topic-length bytes.
      let rl = 0;
      let mul = 1;
      let p = 1;
      let done = false;
      for (; p < have; p++) {
        rl += (head[p] & 0x7f) * mul;
        mul *= 128;
        if ((head[p] & 0x80) === 0) {
          done = true;
          p++;
          break;
        }
      }
      if (!done) continue;
      const type = head[0] >> 4;
      if (type === 3) {
        if (have < p + 2) continue;
        const tl = (head[p] << 8) | head[p + 1];
        if (tl === markerLen) send({ op: 'marker', count });
        else count++;
        skip = rl - 2;
      } else {
        if (type === 9 && !ready) {
          ready = true;
          send({ op: 'ready' });
        }
        skip = rl;
      }
      have = 0;
    }
  });
  s.on('error', (e) => {
    console.error('bench subscriber:', e.message);
    process.exit(1);
  });
  process.on('message', (m: { op: string }) => {
    if (m.op === 'reset') {
      count = 0;
      send({ op: 'reset' });
    }
  });
}

process.on('disconnect', () => process.exit(0));
if (process.argv[2] === 'sink') sink();
else sub(Number(process.argv[3]), process.argv[4], process.argv[5]);
