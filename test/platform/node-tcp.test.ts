/**
 * The Node stream adapters (src/platform/node/{tcp,tls,clock}.ts) against real
 * local servers (`net.createServer` / `tls.createServer` on port 0): partial
 * reads, receive backpressure without loss, send backpressure, close and error
 * statuses, TLS with a self-signed certificate made by the `openssl` CLI at
 * test time (the TLS suite is skipped with a warning, or fails on CI, when
 * `openssl` is missing).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import net from 'node:net';
import tls from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Status } from '../../src/core/status';
import { elapsed } from '../../src/core/clock';
import { NodeClock, nodeClock } from '../../src/platform/node/clock';
import { NodeTcpTransport } from '../../src/platform/node/tcp';
import { CLOSE_LINGER_MS } from '../../src/platform/node/socket';
import { NodeTlsTransport } from '../../src/platform/node/tls';
import { TransportState } from '../../src/transport';
import { findExecutable, freePort, requirePeer } from '../support/peers';
import { drain, localServer, pattern, TransportEvents, type LocalServer } from './helpers';

describe('NodeClock', () => {
  it('returns uint32 milliseconds that never go backwards', () => {
    let prev = nodeClock.now();
    for (let i = 0; i < 1000; i++) {
      const n = nodeClock.now();
      expect(Number.isInteger(n) && n >= 0 && n <= 0xffffffff).toBe(true);
      expect(elapsed(n, prev)).toBeLessThan(1000);
      prev = n;
    }
  });

  it('wraps past 0xffffffff and elapsed() still measures across the wrap', () => {
    const start = new NodeClock(0x100000000 - performance.now() - 1000);
    const a = start.now();
    expect(a).toBeGreaterThan(0xfffff000);
    const later = new NodeClock(0x100000000 - performance.now() + 5);
    const b = later.now();
    expect(b).toBeLessThan(1000);
    expect(elapsed(b, a)).toBeGreaterThanOrEqual(1005);
    expect(elapsed(b, a)).toBeLessThan(10_000);
  });
});

/** Opens a transport and waits for Open. */
async function openOf<T extends NodeTcpTransport | NodeTlsTransport>(t: T): Promise<TransportEvents> {
  const ev = new TransportEvents(t);
  expect(t.open()).toBe(Status.Ok);
  await ev.until('Open', () => (t.state() === TransportState.Open ? true : t.state() === TransportState.Closed ? fail(t) : undefined));
  return ev;
}

function fail(t: NodeTcpTransport | NodeTlsTransport): never {
  throw new Error('transport closed while opening: ' + String(t.lastError));
}

/** The transport's socket (protected), to count its `write` calls. */
function socketOf(t: NodeTcpTransport | NodeTlsTransport): net.Socket {
  return (t as unknown as { socket: net.Socket }).socket;
}

/** Counts `socket.write` calls from now on. */
function countWrites(t: NodeTcpTransport | NodeTlsTransport): { calls: number } {
  const s = socketOf(t);
  const write = s.write;
  const counter = { calls: 0 };
  s.write = function (this: net.Socket, ...args: unknown[]) {
    counter.calls++;
    return (write as (...a: unknown[]) => boolean).apply(this, args);
  } as typeof s.write;
  return counter;
}

/** Collects what a peer socket receives. */
function collect(peer: net.Socket, ev: TransportEvents): { bytes: () => Buffer; length: () => number } {
  const got: Buffer[] = [];
  let n = 0;
  peer.on('data', (d: Buffer) => {
    got.push(d);
    n += d.length;
    ev.emit();
  });
  return { bytes: () => Buffer.concat(got), length: () => n };
}

/**
 * Sends `data` in `chunk`-byte calls from one reused buffer (overwritten after
 * each call: the transport must have copied), taking partial sends and waiting
 * for `onWritable` after a 0. Stops early, returning the bytes accepted, when
 * `stopAtZero` and a send returns 0.
 */
async function sendAll(t: NodeTcpTransport | NodeTlsTransport, ev: TransportEvents, data: Uint8Array, chunk: number, stopAtZero = false): Promise<number> {
  const src = new Uint8Array(chunk);
  let off = 0;
  while (off < data.length) {
    const len = Math.min(chunk, data.length - off);
    src.set(data.subarray(off, off + len));
    const w = ev.writable;
    const n = t.send(src, 0, len);
    expect(n).toBeGreaterThanOrEqual(0);
    expect(n).toBeLessThanOrEqual(len);
    src.fill(0xee);
    off += n;
    if (n === 0) {
      if (stopAtZero) return off;
      await ev.until(`onWritable after send returned 0 at ${off}`, () => (ev.writable > w ? true : undefined), 20_000);
    }
  }
  return off;
}

describe('NodeTcpTransport', () => {
  let srv: LocalServer;
  beforeAll(async () => {
    srv = await localServer();
  });
  afterAll(async () => srv.close());

  it('open › Opening at once, Open on connect, onWritable fires', async () => {
    const t = new NodeTcpTransport({ host: '127.0.0.1', port: srv.port });
    const ev = new TransportEvents(t);
    expect(t.state()).toBe(TransportState.Closed);
    expect(t.open()).toBe(Status.Ok);
    expect(t.state()).toBe(TransportState.Opening);
    expect(t.open()).toBe(Status.IllegalState);
    expect(t.send(new Uint8Array(1), 0, 1)).toBe(Status.IllegalState);
    await ev.until('Open', () => (t.state() === TransportState.Open ? true : undefined));
    expect(ev.writable).toBe(1);
    await srv.accept();
    t.close();
  });

  it('recv › nothing buffered › returns 0 without blocking', async () => {
    const t = new NodeTcpTransport({ host: '127.0.0.1', port: srv.port });
    await openOf(t);
    await srv.accept();
    expect(t.recv(new Uint8Array(8), 0, 8)).toBe(0);
    t.close();
  });

  it('recv › partial reads › hands out a burst in caller-sized pieces, in order', async () => {
    const t = new NodeTcpTransport({ host: '127.0.0.1', port: srv.port });
    const ev = await openOf(t);
    const peer = await srv.accept();
    peer.write(Buffer.from([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]));
    await ev.until('10 bytes', () => (t.buffered === 10 ? true : undefined));
    const buf = new Uint8Array(16).fill(0xee);
    expect(t.recv(buf, 2, 3)).toBe(3);
    expect(t.recv(buf, 5, 3)).toBe(3);
    expect(t.recv(buf, 8, 3)).toBe(3);
    expect(t.recv(buf, 11, 3)).toBe(1);
    expect(t.recv(buf, 12, 3)).toBe(0);
    expect([...buf]).toEqual([0xee, 0xee, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 0xee, 0xee, 0xee, 0xee]);
    t.close();
  });

  it('recv › a packet split over many segments › arrives whole and in order', async () => {
    const t = new NodeTcpTransport({ host: '127.0.0.1', port: srv.port });
    const ev = await openOf(t);
    const peer = await srv.accept();
    peer.setNoDelay(true);
    const data = pattern(5000);
    for (let i = 0; i < data.length; i += 700) peer.write(data.subarray(i, Math.min(data.length, i + 700)));
    const { bytes } = await drain(t, ev, data.length, 333);
    expect(Buffer.compare(bytes, data)).toBe(0);
    t.close();
  });

  it('recv › range outside the buffer › BadParameter', async () => {
    const t = new NodeTcpTransport({ host: '127.0.0.1', port: srv.port });
    expect(t.recv(new Uint8Array(4), 2, 3)).toBe(Status.BadParameter);
    expect(t.recv(new Uint8Array(4), -1, 1)).toBe(Status.BadParameter);
    expect(t.send(new Uint8Array(4), 0, 5)).toBe(Status.BadParameter);
  });

  it('backpressure › ring full › socket paused, and 1 MB arrives without loss', async () => {
    const capacity = 1024;
    const t = new NodeTcpTransport({ host: '127.0.0.1', port: srv.port, rxCapacity: capacity });
    const ev = await openOf(t);
    const peer = await srv.accept();
    const total = 1 << 20;
    const data = pattern(total);
    let peerDone = false;
    peer.write(data, () => {
      peerDone = true;
      ev.emit();
    });
    // Nobody reads: the ring fills and the adapter pauses the socket.
    await ev.until('paused', () => (t.paused ? true : undefined));
    expect(t.paused).toBe(true);
    expect(t.buffered).toBeGreaterThanOrEqual(capacity);
    // Bounded: the ring plus the chunk that did not fit, not the whole 1 MB.
    expect(t.buffered).toBeLessThan(total);
    const { bytes } = await drain(t, ev, total, 700, 20_000);
    expect(bytes.length).toBe(total);
    expect(Buffer.compare(bytes, data)).toBe(0);
    expect(t.paused).toBe(false);
    await ev.until('the peer flushed', () => (peerDone ? true : undefined));
    t.close();
  });

  it('send › socket buffer above the high-water mark › returns 0, then onWritable on drain, nothing lost', async () => {
    const t = new NodeTcpTransport({ host: '127.0.0.1', port: srv.port, highWaterMark: 64 * 1024 });
    const ev = await openOf(t);
    const peer = await srv.accept();
    peer.pause(); // the peer stops reading: kernel buffers fill, then Node's
    const chunk = pattern(64 * 1024);
    let accepted = 0;
    let zero = false;
    while (accepted < 512 * 1024 * 1024) {
      const n = t.send(chunk, 0, chunk.length);
      if (n === 0) {
        zero = true;
        break;
      }
      expect(n).toBe(chunk.length);
      accepted += n;
    }
    expect(zero).toBe(true);
    const writableBefore = ev.writable;
    let received = 0;
    let mismatch = -1;
    peer.on('data', (d: Buffer) => {
      for (let i = 0; i < d.length && mismatch < 0; i++) {
        if (d[i] !== chunk[(received + i) % chunk.length]) mismatch = received + i;
      }
      received += d.length;
      ev.emit();
    });
    peer.resume();
    await ev.until('onWritable after drain', () => (ev.writable > writableBefore ? true : undefined), 20_000);
    expect(t.send(chunk, 0, chunk.length)).toBe(chunk.length);
    accepted += chunk.length;
    await ev.until(`peer received ${accepted} bytes (has ${received})`, () => (received >= accepted ? true : undefined), 20_000);
    expect(received).toBe(accepted);
    expect(mismatch).toBe(-1);
    t.close();
  });

  it('send › copies the bytes: the caller may reuse its buffer at once', async () => {
    const t = new NodeTcpTransport({ host: '127.0.0.1', port: srv.port });
    const ev = await openOf(t);
    const peer = await srv.accept();
    const got: Buffer[] = [];
    peer.on('data', (d: Buffer) => {
      got.push(d);
      ev.emit();
    });
    const buf = new Uint8Array([0, 1, 2, 3]);
    expect(t.send(buf, 1, 2)).toBe(2);
    buf.fill(9);
    expect(t.send(buf, 0, 1)).toBe(1);
    await ev.until('3 bytes', () => (Buffer.concat(got).length === 3 ? true : undefined));
    expect([...Buffer.concat(got)]).toEqual([1, 2, 9]);
    t.close();
  });

  it('send › many small sends in one tick › one socket write at the end of the tick, bytes in order', async () => {
    const t = new NodeTcpTransport({ host: '127.0.0.1', port: srv.port });
    const ev = await openOf(t);
    const peer = collect(await srv.accept(), ev);
    const writes = countWrites(t);
    const data = pattern(200 * 50);
    const src = new Uint8Array(50);
    for (let i = 0; i < 200; i++) {
      src.set(data.subarray(i * 50, i * 50 + 50));
      expect(t.send(src, 0, 50)).toBe(50);
    }
    expect(writes.calls).toBe(0); // staged, not written yet
    await ev.until('10,000 bytes at the peer', () => (peer.length() >= data.length ? true : undefined));
    expect(writes.calls).toBe(1);
    expect(Buffer.compare(peer.bytes(), data)).toBe(0);
    t.close();
  });

  it('send › writeBatch reached › written at once; the rest at the end of the tick', async () => {
    const t = new NodeTcpTransport({ host: '127.0.0.1', port: srv.port, writeBatch: 1000 });
    const ev = await openOf(t);
    const peer = collect(await srv.accept(), ev);
    const writes = countWrites(t);
    const data = pattern(2500);
    for (let i = 0; i < 25; i++) expect(t.send(data, i * 100, 100)).toBe(100);
    expect(writes.calls).toBe(2);
    await ev.until('2,500 bytes at the peer', () => (peer.length() >= data.length ? true : undefined));
    expect(writes.calls).toBe(3);
    expect(Buffer.compare(peer.bytes(), data)).toBe(0);
    t.close();
  });

  it('send › writeBatch 0 › one socket write per send, as before batching', async () => {
    const t = new NodeTcpTransport({ host: '127.0.0.1', port: srv.port, writeBatch: 0 });
    const ev = await openOf(t);
    const peer = collect(await srv.accept(), ev);
    const writes = countWrites(t);
    const data = pattern(1000);
    await sendAll(t, ev, data, 100);
    expect(writes.calls).toBe(10);
    await ev.until('1,000 bytes at the peer', () => (peer.length() >= data.length ? true : undefined));
    expect(Buffer.compare(peer.bytes(), data)).toBe(0);
    t.close();
  });

  it('send › peer stops reading › staging stays bounded, sends may be partial, onWritable, nothing lost or reordered', async () => {
    const t = new NodeTcpTransport({ host: '127.0.0.1', port: srv.port, writeBatch: 4096, highWaterMark: 16384 });
    const ev = await openOf(t);
    const sock = await srv.accept();
    sock.pause();
    const peer = collect(sock, ev);
    const data = pattern(64 * 1024 * 1024);
    // Fill the kernel buffers and the transport until it takes nothing more.
    let accepted = 0;
    for (let round = 0; round < 1000 && accepted < data.length; round++) {
      const before = accepted;
      accepted = before + (await sendAll(t, ev, data.subarray(before), 1000, true));
      if (t.send(data, accepted, 1) === 0) break;
      accepted++;
      await new Promise((r) => setImmediate(r)); // let staged bytes go out, the kernel fill up
    }
    expect(accepted).toBeLessThan(data.length);
    const stage = (t as unknown as { stage: Buffer[] }).stage;
    expect(stage.length).toBeLessThanOrEqual(Math.ceil(16384 / 4096) + 1);
    sock.resume();
    const total = Math.min(data.length, accepted + 2 * 1024 * 1024);
    await sendAll(t, ev, data.subarray(accepted, total), 1000);
    await ev.until(`peer received ${total} bytes (has ${peer.length()})`, () => (peer.length() >= total ? true : undefined), 20_000);
    expect(peer.length()).toBe(total);
    expect(Buffer.compare(peer.bytes(), data.subarray(0, total))).toBe(0);
    t.close();
  });

  it('close › bytes staged in this tick (a final DISCONNECT) still go out', async () => {
    const t = new NodeTcpTransport({ host: '127.0.0.1', port: srv.port });
    const ev = await openOf(t);
    const sock = await srv.accept();
    const peer = collect(sock, ev);
    const ended = new Promise<void>((resolve) => sock.once('end', () => resolve()));
    expect(t.send(new Uint8Array([0xe0, 0x00]), 0, 2)).toBe(2);
    t.close();
    await ended;
    expect([...peer.bytes()]).toEqual([0xe0, 0x00]);
  });

  // The FIN-and-linger close exists for peers like Mosquitto, which drop a connection's unread
  // bytes (our last PUBRECs) when a RST arrives: test/mqtt-client/inbound-window.test.ts shows it.
  it('close › a peer that never closes its side › the socket lingers, then is destroyed after CLOSE_LINGER_MS', async () => {
    const halfOpen = await localServer(net.createServer({ allowHalfOpen: true }));
    try {
      const t = new NodeTcpTransport({ host: '127.0.0.1', port: halfOpen.port });
      await openOf(t);
      const peer = await halfOpen.accept();
      const own = socketOf(t);
      const ended = new Promise<number>((resolve) => peer.once('end', () => resolve(performance.now()))); // our FIN
      const destroyed = new Promise<number>((resolve) => own.once('close', () => resolve(performance.now())));
      t.close();
      const endAt = await ended;
      expect(own.destroyed).toBe(false); // lingering: waiting for the peer's FIN
      expect((await destroyed) - endAt).toBeGreaterThanOrEqual(CLOSE_LINGER_MS - 100);
      peer.destroy();
    } finally {
      await halfOpen.close();
    }
  });

  it('close › reopened while the old socket still writes from staging › neither stream is corrupted', async () => {
    const t = new NodeTcpTransport({ host: '127.0.0.1', port: srv.port, writeBatch: 4096, highWaterMark: 16384 });
    const ev = await openOf(t);
    const sock1 = await srv.accept();
    sock1.pause();
    const peer1 = collect(sock1, ev);
    const ended1 = new Promise<void>((resolve) => sock1.once('end', () => resolve()));
    const data1 = pattern(64 * 1024 * 1024);
    let accepted = 0;
    for (let round = 0; round < 1000; round++) {
      accepted += await sendAll(t, ev, data1.subarray(accepted), 1000, true);
      if (t.send(data1, accepted, 1) === 0) break;
      accepted++;
      await new Promise((r) => setImmediate(r));
    }
    t.close(); // the old socket still holds staged bytes it has not written
    const ev2 = await openOf(t);
    const sock2 = await srv.accept();
    const peer2 = collect(sock2, ev2);
    const data2 = pattern(300_000, 17);
    await sendAll(t, ev2, data2, 700);
    await ev2.until('the new peer has everything', () => (peer2.length() >= data2.length ? true : undefined), 20_000);
    expect(Buffer.compare(peer2.bytes(), data2)).toBe(0);
    sock1.resume();
    await ended1;
    expect(peer1.length()).toBe(accepted);
    expect(Buffer.compare(peer1.bytes(), data1.subarray(0, accepted))).toBe(0);
    t.close();
  });

  it('close › peer ends the link › buffered bytes first, then Closed', async () => {
    const t = new NodeTcpTransport({ host: '127.0.0.1', port: srv.port });
    const ev = await openOf(t);
    const peer = await srv.accept();
    peer.end(Buffer.from('bye'));
    await ev.until('Closed state', () => (t.state() === TransportState.Closed ? true : undefined));
    const buf = new Uint8Array(8);
    expect(t.recv(buf, 0, 8)).toBe(3);
    expect(Buffer.from(buf.subarray(0, 3)).toString()).toBe('bye');
    expect(t.recv(buf, 0, 8)).toBe(Status.Closed);
    expect(t.send(buf, 0, 1)).toBe(Status.Closed);
    t.close();
  });

  it('close › peer ends the link while backpressured › every byte received before the reset is still read', async () => {
    const t = new NodeTcpTransport({ host: '127.0.0.1', port: srv.port, rxCapacity: 256 });
    const ev = await openOf(t);
    const peer = await srv.accept();
    const data = pattern(10_000);
    peer.end(data);
    await ev.until('paused', () => (t.paused ? true : undefined));
    const { bytes, status } = await drain(t, ev, data.length + 1, 100);
    expect(Buffer.compare(bytes, data)).toBe(0);
    expect(status).toBe(Status.Closed);
  });

  it('close › local close() › Closed at once, unread bytes dropped, idempotent, reopen works', async () => {
    const t = new NodeTcpTransport({ host: '127.0.0.1', port: srv.port });
    const ev = await openOf(t);
    const peer = await srv.accept();
    peer.write('xyz');
    await ev.until('3 bytes', () => (t.buffered === 3 ? true : undefined));
    t.close();
    t.close();
    expect(t.state()).toBe(TransportState.Closed);
    expect(t.recv(new Uint8Array(4), 0, 4)).toBe(Status.Closed);
    const peerClosed = new Promise<void>((resolve) => peer.once('close', () => resolve()));
    await peerClosed;
    const ev2 = await openOf(t);
    const peer2 = await srv.accept();
    peer2.write('ok');
    const { bytes } = await drain(t, ev2, 2);
    expect(Buffer.from(bytes).toString()).toBe('ok');
    t.close();
  });

  it('error › connection refused › Closed with the error, recv and send say Closed', async () => {
    const port = await freePort(); // nobody listens there now
    const t = new NodeTcpTransport({ host: '127.0.0.1', port });
    const ev = new TransportEvents(t);
    expect(t.open()).toBe(Status.Ok);
    await ev.until('Closed', () => (t.state() === TransportState.Closed ? true : undefined));
    expect((t.lastError as NodeJS.ErrnoException | null)?.code).toBe('ECONNREFUSED');
    expect(t.recv(new Uint8Array(4), 0, 4)).toBe(Status.Closed);
    expect(t.send(new Uint8Array(4), 0, 4)).toBe(Status.Closed);
  });

  it('error › invalid port › open returns BadParameter and stays Closed', () => {
    const t = new NodeTcpTransport({ host: '127.0.0.1', port: 70000 });
    expect(t.open()).toBe(Status.BadParameter);
    expect(t.state()).toBe(TransportState.Closed);
    expect(t.lastError).not.toBeNull();
  });
});

const openssl = findExecutable('openssl');
const runTls = requirePeer('openssl', openssl !== null, 'no openssl CLI on PATH to make a self-signed certificate (apt-get install openssl)');

describe.skipIf(!runTls)('NodeTlsTransport', () => {
  let dir: string;
  let cert: string;
  let key: string;
  let srv: LocalServer;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'fieldmq-tls-'));
    execFileSync(
      openssl!,
      [
        'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1',
        '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'),
        '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1',
      ],
      { stdio: 'pipe' },
    );
    cert = readFileSync(join(dir, 'cert.pem'), 'utf8');
    key = readFileSync(join(dir, 'key.pem'), 'utf8');
    const server = tls.createServer({ cert, key });
    server.on('tlsClientError', () => {});
    srv = await localServer(server, 'secureConnection');
  });
  afterAll(async () => {
    await srv?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('open › trusted self-signed CA › Open after the handshake, bytes both ways', async () => {
    const t = new NodeTlsTransport({ host: '127.0.0.1', port: srv.port, ca: cert, servername: 'localhost' });
    const ev = new TransportEvents(t);
    expect(t.open()).toBe(Status.Ok);
    expect(t.state()).toBe(TransportState.Opening);
    await ev.until('Open', () => (t.state() === TransportState.Open ? true : t.state() === TransportState.Closed ? fail(t) : undefined));
    const peer = await srv.accept();
    const got: Buffer[] = [];
    peer.on('data', (d: Buffer) => {
      got.push(d);
      ev.emit();
    });
    expect(t.send(new Uint8Array([0x10, 0x00]), 0, 2)).toBe(2);
    await ev.until('2 bytes at the server', () => (Buffer.concat(got).length === 2 ? true : undefined));
    expect([...Buffer.concat(got)]).toEqual([0x10, 0x00]);
    const data = pattern(100_000);
    peer.end(data);
    const { bytes, status } = await drain(t, ev, data.length + 1, 999);
    expect(Buffer.compare(bytes, data)).toBe(0);
    expect(status).toBe(Status.Closed);
  });

  it('backpressure › small ring over TLS › 256 KB without loss', async () => {
    const t = new NodeTlsTransport({ host: '127.0.0.1', port: srv.port, ca: cert, servername: 'localhost', rxCapacity: 512 });
    const ev = await openOf(t);
    const peer = await srv.accept();
    const data = pattern(256 * 1024);
    peer.write(data);
    await ev.until('paused', () => (t.paused ? true : undefined));
    const { bytes } = await drain(t, ev, data.length, 500);
    expect(Buffer.compare(bytes, data)).toBe(0);
    t.close();
  });

  it('send › many small sends over TLS, with backpressure › batched, intact and in order', async () => {
    const t = new NodeTlsTransport({ host: '127.0.0.1', port: srv.port, ca: cert, servername: 'localhost', writeBatch: 4096 });
    const ev = await openOf(t);
    const peer = collect(await srv.accept(), ev);
    const data = pattern(1024 * 1024, 3);
    await sendAll(t, ev, data, 333);
    await ev.until(`1 MB at the server (has ${peer.length()})`, () => (peer.length() >= data.length ? true : undefined), 20_000);
    expect(Buffer.compare(peer.bytes(), data)).toBe(0);
    t.close();
  });

  it('open › untrusted certificate › Closed, with the verification error', async () => {
    const t = new NodeTlsTransport({ host: '127.0.0.1', port: srv.port, servername: 'localhost' });
    const ev = new TransportEvents(t);
    expect(t.open()).toBe(Status.Ok);
    await ev.until('Closed', () => (t.state() === TransportState.Closed ? true : undefined));
    expect(String(t.lastError)).toMatch(/self[- ]signed/i);
    expect(t.recv(new Uint8Array(4), 0, 4)).toBe(Status.Closed);
  });

  it('open › wrong server name › Closed, with the host-name error', async () => {
    const t = new NodeTlsTransport({ host: '127.0.0.1', port: srv.port, ca: cert, servername: 'broker.invalid' });
    const ev = new TransportEvents(t);
    t.open();
    await ev.until('Closed', () => (t.state() === TransportState.Closed ? true : undefined));
    expect((t.lastError as NodeJS.ErrnoException | null)?.code).toBe('ERR_TLS_CERT_ALTNAME_INVALID');
  });
});
