// Host-side half of the XS harness (see test/support/xs.ts, which forks this
// file). It runs in its own Node process because @agoric/xsnap needs
// `import '@endo/init'` first, which locks down this realm (SES lockdown):
// the test process must not be locked down.
//
// Job (one IPC message from the parent):
//   { prelude, code, entry, tcp?: { host, port }, deadlineMs, clockStart? }
// Replies (IPC messages):
//   { type: 'log', text } for every xsHost.log / print in XS
//   { type: 'done', result, stats } when XS calls xsHost.done
//   { type: 'error', message } when evaluation fails or the deadline passes
//
// Commands from XS (issueCommand; first byte = op, see test/xs/bridge.ts):
//   1 Now → 0x00 + u32 ms (or 0xff + reason once the deadline passed)
//   2 Log, 3 Done, 4 Wait(u16 ms: until socket activity or ms)
//   10 TcpOpen → i8 status, 11 TcpState → u8, 12 TcpSend → i32,
//   13 TcpRecv(u32 max) → i32 n + n bytes, 14 TcpClose, 15 TcpAvailable → u32
//   20 UdpOpen → i8 status, 21 UdpSend(u16 port, u8 n, n address octets, datagram) → i32,
//   22 UdpRecv → empty, or u16 port + u8 n + address + datagram, 23 UdpAvailable → u32 datagrams,
//   24 UdpClose
import '@endo/init';
import dgram from 'node:dgram';
import net from 'node:net';
import { performance } from 'node:perf_hooks';
import { startXsnap } from '../../scripts/xsnap-worker.mjs';

const Status = { Ok: 0, IllegalState: -4, BadParameter: -5, Closed: -15 };
const State = { Closed: 0, Opening: 1, Open: 2 };
const RX_HIGH_WATER = 256 * 1024;

const send = (m) => process.send && process.send(m);
const dec = new TextDecoder();
const enc = new TextEncoder();

function u32(n) {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, n >>> 0);
  return b;
}
function i32(n) {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setInt32(0, n | 0);
  return b;
}

process.once('message', async (job) => {
  const deadline = performance.now() + job.deadlineMs;
  // The clock XS sees: job.clockStart at its first now(), then host ms.
  let clockOffset = job.clockStart === undefined || job.clockStart === null ? 0 : null;
  const stats = { commands: 0, sent: 0, received: 0 };
  let doneResult;
  let done = false;

  // ---- the bridged TCP socket ----
  let socket = null;
  let state = State.Closed;
  let rx = []; // Buffers not yet handed to XS
  let rxBytes = 0;
  let wakers = [];
  const wake = () => {
    const w = wakers;
    wakers = [];
    for (const f of w) f();
  };

  const tcpOpen = () => {
    if (!job.tcp) return Status.IllegalState;
    if (state !== State.Closed) return Status.IllegalState;
    rx = [];
    rxBytes = 0;
    state = State.Opening;
    const s = net.connect({ host: job.tcp.host, port: job.tcp.port });
    socket = s;
    s.setNoDelay(true);
    s.on('connect', () => {
      if (socket === s) state = State.Open;
      wake();
    });
    s.on('data', (d) => {
      if (socket !== s) return;
      rx.push(d);
      rxBytes += d.length;
      stats.received += d.length;
      if (rxBytes > RX_HIGH_WATER) s.pause();
      wake();
    });
    s.on('error', () => {
      if (socket === s) state = State.Closed;
      wake();
    });
    s.on('close', () => {
      if (socket === s) state = State.Closed;
      wake();
    });
    return Status.Ok;
  };

  const tcpRecv = (max) => {
    if (rxBytes === 0) return i32(state === State.Closed ? Status.Closed : 0);
    const n = Math.min(max, rxBytes);
    const out = new Uint8Array(4 + n);
    out.set(i32(n), 0);
    let at = 4;
    while (at < 4 + n) {
      const b = rx[0];
      const k = Math.min(b.length, 4 + n - at);
      out.set(b.subarray(0, k), at);
      at += k;
      if (k === b.length) rx.shift();
      else rx[0] = b.subarray(k);
    }
    rxBytes -= n;
    if (socket && socket.isPaused() && rxBytes <= RX_HIGH_WATER) socket.resume();
    return out;
  };

  const tcpSend = (bytes) => {
    if (state === State.Closed || !socket) return i32(Status.Closed);
    if (state !== State.Open) return i32(Status.IllegalState);
    socket.write(Buffer.from(bytes)); // copied: the command buffer is ours only for this call
    stats.sent += bytes.length;
    return i32(bytes.length);
  };

  // ---- the bridged UDP socket (udp4 on 127.0.0.1, any port) ----
  let udp = null;
  let datagrams = [];
  const udpOpen = async () => {
    if (udp) return Status.IllegalState;
    const u = dgram.createSocket('udp4');
    udp = u;
    datagrams = [];
    u.on('message', (msg, rinfo) => {
      if (udp !== u) return;
      datagrams.push({ bytes: new Uint8Array(msg), address: rinfo.address, port: rinfo.port });
      stats.received += msg.length;
      wake();
    });
    const bound = await new Promise((resolve) => {
      u.once('error', () => resolve(false));
      u.bind(0, '127.0.0.1', () => resolve(true));
    });
    // Later errors (a send to an unreachable address) are a lost datagram, as on a board.
    u.on('error', () => {});
    if (!bound) {
      udp = null;
      u.close();
      return Status.BadParameter;
    }
    return Status.Ok;
  };
  const udpSend = (p) => {
    if (!udp) return i32(Status.Closed);
    const port = (p[0] << 8) | p[1];
    const n = p[2];
    const address = dec.decode(p.subarray(3, 3 + n));
    if (port === 0 || !net.isIPv4(address)) return i32(Status.BadParameter);
    const bytes = Buffer.from(p.subarray(3 + n)); // copied: the command buffer is ours only for this call
    udp.send(bytes, port, address, () => {}); // a send error is a lost datagram
    stats.sent += bytes.length;
    return i32(bytes.length);
  };
  const udpRecv = () => {
    const d = datagrams.shift();
    if (!d) return new Uint8Array(0);
    const a = enc.encode(d.address);
    const out = new Uint8Array(3 + a.length + d.bytes.length);
    out[0] = d.port >> 8;
    out[1] = d.port & 0xff;
    out[2] = a.length;
    out.set(a, 3);
    out.set(d.bytes, 3 + a.length);
    return out;
  };

  const handleCommand = async (msg) => {
    stats.commands++;
    const op = msg[0];
    const p = msg.subarray(1);
    switch (op) {
      case 1: {
        if (performance.now() > deadline) {
          const r = enc.encode(`deadline of ${job.deadlineMs} ms passed`);
          const out = new Uint8Array(1 + r.length);
          out[0] = 0xff;
          out.set(r, 1);
          return out;
        }
        if (clockOffset === null) clockOffset = job.clockStart - performance.now();
        const out = new Uint8Array(5);
        out.set(u32(Math.floor(performance.now() + clockOffset)), 1);
        return out;
      }
      case 2:
        send({ type: 'log', text: dec.decode(p) });
        return new Uint8Array(0);
      case 3:
        done = true;
        doneResult = JSON.parse(dec.decode(p));
        return new Uint8Array(0);
      case 4: {
        const ms = (p[0] << 8) | p[1];
        await new Promise((resolve) => {
          const t = setTimeout(resolve, ms);
          wakers.push(() => {
            clearTimeout(t);
            resolve();
          });
        });
        return new Uint8Array(0);
      }
      case 10:
        return new Uint8Array([tcpOpen() & 0xff]);
      case 11:
        return new Uint8Array([state]);
      case 12:
        return tcpSend(p);
      case 13:
        return tcpRecv(new DataView(p.buffer, p.byteOffset, 4).getUint32(0));
      case 14:
        if (socket) socket.destroy();
        socket = null;
        state = State.Closed;
        rx = [];
        rxBytes = 0;
        return new Uint8Array(0);
      case 15:
        return u32(rxBytes);
      case 20:
        return new Uint8Array([(await udpOpen()) & 0xff]);
      case 21:
        return udpSend(p);
      case 22:
        return udpRecv();
      case 23:
        return u32(datagrams.length);
      case 24:
        if (udp) udp.close();
        udp = null;
        datagrams = [];
        return new Uint8Array(0);
      default:
        throw new Error(`xs-runner: unknown op ${op}`);
    }
  };

  let worker;
  try {
    worker = await startXsnap('fieldmq-xs', handleCommand);
    await worker.evaluate(job.prelude);
    await worker.evaluate(job.code);
    await worker.evaluate(`runXsMain(${JSON.stringify(job.entry)})`);
    if (!done) throw new Error('XS returned without calling xsHost.done');
    send({ type: 'done', result: doneResult, stats });
  } catch (e) {
    send({ type: 'error', message: String(e && e.message ? e.message : e), stats });
  } finally {
    if (socket) socket.destroy();
    if (udp) udp.close();
    if (worker) await worker.close().catch(() => {});
    process.disconnect?.();
  }
});
