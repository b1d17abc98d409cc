/**
 * The Espruino adapters (src/platform/espruino) in Node, against FAKES of
 * Espruino's `net`, `dgram`, `LoopbackA/B` serial and `E`
 * (./fakes/espruino.ts — Espruino's objects do not exist in Node). The
 * network fakes run over real Node sockets, so the bytes cross a real local
 * TCP connection / UDP socket. The last suite loads the adapters from an
 * esbuild CJS/es2015 bundle in a V8 context stripped to what Espruino offers
 * (test/build/helpers.ts) and runs a TCP round trip there.
 */
import dgram from 'node:dgram';
import vm from 'node:vm';
import * as esbuild from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Status } from '../../src/core/status';
import { EspruinoSerialTransport } from '../../src/platform/espruino/serial';
import { EspruinoTcpTransport } from '../../src/platform/espruino/tcp';
import { EspruinoUdpTransport } from '../../src/platform/espruino/udp';
import { BROADCAST, TransportState } from '../../src/transport';
import { addCached, espruinoContext } from '../build/helpers';
import { freePort } from '../support/peers';
import { FakeEspruinoDgram, FakeEspruinoNet, fakeE, loopbackPair } from './fakes/espruino';
import { drain, expectGwAddRoundTrip, localServer, pattern, TransportEvents, type LocalServer } from './helpers';

describe('EspruinoTcpTransport (fake net over a real TCP socket)', () => {
  let srv: LocalServer;
  beforeAll(async () => {
    srv = await localServer();
  });
  afterAll(async () => srv.close());

  const make = (extra: Partial<ConstructorParameters<typeof EspruinoTcpTransport>[0]> = {}) =>
    new EspruinoTcpTransport({ net: new FakeEspruinoNet(), E: fakeE, host: '127.0.0.1', port: srv.port, ...extra });

  async function opened(t: EspruinoTcpTransport): Promise<TransportEvents> {
    const ev = new TransportEvents(t);
    expect(t.open()).toBe(Status.Ok);
    expect(t.state()).toBe(TransportState.Opening);
    await ev.until('Open', () => (t.state() === TransportState.Open ? true : undefined));
    return ev;
  }

  it('open › Open when connect calls back, onWritable fires; bytes cross both ways', async () => {
    const t = make();
    const ev = await opened(t);
    expect(ev.writable).toBe(1);
    const peer = await srv.accept();
    const got: Buffer[] = [];
    peer.on('data', (d: Buffer) => {
      got.push(d);
      ev.emit();
    });
    const bytes = new Uint8Array([0x10, 0x00, 0xff, 0x80, 0x7f]);
    expect(t.send(bytes, 1, 4)).toBe(4);
    await ev.until('4 bytes at the server', () => (Buffer.concat(got).length === 4 ? true : undefined));
    expect([...Buffer.concat(got)]).toEqual([0x00, 0xff, 0x80, 0x7f]);
    peer.write(Buffer.from([0x20, 0x02, 0x00, 0x00, 0xfe]));
    const { bytes: rx } = await drain(t, ev, 5, 2);
    expect([...rx]).toEqual([0x20, 0x02, 0x00, 0x00, 0xfe]);
    t.close();
  });

  it('open › passes TLS ca/key/cert through to connect (for net: require("tls"))', async () => {
    const net = new FakeEspruinoNet();
    const t = new EspruinoTcpTransport({ net, E: fakeE, host: '127.0.0.1', port: srv.port, ca: 'CA', key: 'K', cert: 'C' });
    await opened(t);
    await srv.accept();
    expect(net.options[0]).toEqual({ host: '127.0.0.1', port: srv.port, ca: 'CA', key: 'K', cert: 'C' });
    t.close();
  });

  it('open › no E object › Unsupported', () => {
    const t = new EspruinoTcpTransport({ net: new FakeEspruinoNet(), host: '127.0.0.1', port: 1 });
    expect(t.open()).toBe(Status.Unsupported);
    expect(t.state()).toBe(TransportState.Closed);
  });

  it('recv › ring smaller than the data › overflow waits as strings, 200 KB arrive whole and in order', async () => {
    const t = make({ rxCapacity: 64 });
    const ev = await opened(t);
    const peer = await srv.accept();
    const data = pattern(200_000);
    peer.write(data);
    await ev.until('all bytes buffered', () => (t.buffered === data.length ? true : undefined), 10_000);
    const { bytes } = await drain(t, ev, data.length, 50);
    expect(Buffer.compare(bytes, data)).toBe(0);
    expect(t.buffered).toBe(0);
    t.close();
  });

  it('send › more than txHighWaterMark unsent › returns 0 until drain, then onWritable; nothing lost', async () => {
    const t = make({ txHighWaterMark: 300 });
    const ev = await opened(t);
    const peer = await srv.accept();
    let received = 0;
    peer.on('data', (d: Buffer) => {
      received += d.length;
      ev.emit();
    });
    const chunk = pattern(200);
    expect(t.send(chunk, 0, 200)).toBe(200);
    expect(t.send(chunk, 0, 200)).toBe(0); // 200 unsent + 200 > 300
    const w = ev.writable;
    await ev.until('onWritable after drain', () => (ev.writable > w ? true : undefined));
    expect(t.send(chunk, 0, 200)).toBe(200);
    await ev.until('400 bytes at the server', () => (received === 400 ? true : undefined));
    t.close();
  });

  it('send › one packet bigger than the high-water mark › goes when nothing is unsent', async () => {
    const t = make({ txHighWaterMark: 16 });
    const ev = await opened(t);
    const peer = await srv.accept();
    let received = 0;
    peer.on('data', (d: Buffer) => {
      received += d.length;
      ev.emit();
    });
    expect(t.send(pattern(1000), 0, 1000)).toBe(1000);
    await ev.until('1000 bytes', () => (received === 1000 ? true : undefined));
    t.close();
  });

  it('close › peer ends › bytes first, then Closed; send says Closed', async () => {
    const t = make();
    const ev = await opened(t);
    const peer = await srv.accept();
    peer.end(Buffer.from('bye'));
    await ev.until('Closed', () => (t.state() === TransportState.Closed ? true : undefined));
    const buf = new Uint8Array(8);
    expect(t.recv(buf, 0, 8)).toBe(3);
    expect(t.recv(buf, 0, 8)).toBe(Status.Closed);
    expect(t.send(buf, 0, 1)).toBe(Status.Closed);
    t.close();
  });

  it('error › connection refused › Closed with Espruino code -9', async () => {
    const t = new EspruinoTcpTransport({ net: new FakeEspruinoNet(), E: fakeE, host: '127.0.0.1', port: await freePort() });
    const ev = new TransportEvents(t);
    t.open();
    await ev.until('Closed', () => (t.state() === TransportState.Closed ? true : undefined));
    expect(t.errorCode).toBe(-9);
    expect(t.recv(new Uint8Array(1), 0, 1)).toBe(Status.Closed);
  });

  it('close › local close() › idempotent, a later open() reconnects, old socket events ignored', async () => {
    const net = new FakeEspruinoNet();
    const t = new EspruinoTcpTransport({ net, E: fakeE, host: '127.0.0.1', port: srv.port });
    await opened(t);
    const p1 = await srv.accept();
    t.close();
    t.close();
    expect(t.state()).toBe(TransportState.Closed);
    p1.write('late'); // to a socket we closed: must not show up
    const ev = await opened(t);
    const p2 = await srv.accept();
    p2.write('new');
    const { bytes } = await drain(t, ev, 3);
    expect(Buffer.from(bytes).toString()).toBe('new');
    expect(net.sockets.length).toBe(2);
    t.close();
  });
});

describe('EspruinoUdpTransport (fake dgram over real UDP sockets)', () => {
  let gw: dgram.Socket;
  let gwPort: number;
  const gwGot: { msg: Buffer; port: number }[] = [];
  beforeAll(async () => {
    gw = dgram.createSocket('udp4');
    gw.on('message', (msg, rinfo) => gwGot.push({ msg, port: rinfo.port }));
    await new Promise<void>((r) => gw.bind(0, '127.0.0.1', () => r()));
    gwPort = gw.address().port;
  });
  afterAll(() => gw.close());

  function until<T>(ev: TransportEvents, what: string, f: () => T | undefined): Promise<T> {
    const onMsg = (): void => ev.emit();
    gw.on('message', onMsg);
    return ev.until(what, f).finally(() => gw.off('message', onMsg));
  }

  it('addressOf / peerAt › the gateway as GwAdd octets (IPv4, port); a handle from octets reaches that peer', async () => {
    const dg = new FakeEspruinoDgram();
    const t = new EspruinoUdpTransport({ dgram: dg, E: fakeE, address: '127.0.0.1', port: 1884 });
    const ev = new TransportEvents(t);
    expect(t.open()).toBe(Status.Ok);
    gwGot.length = 0;
    await expectGwAddRoundTrip(t, gwPort, async () => (await until(ev, 'datagram at the peer named by octets', () => gwGot[0])).msg);
    t.close();
  });

  it('send › reaches the default peer; the reply comes back from handle 0', async () => {
    const dg = new FakeEspruinoDgram();
    const t = new EspruinoUdpTransport({ dgram: dg, E: fakeE, address: '127.0.0.1', port: gwPort });
    const ev = new TransportEvents(t);
    expect(t.open()).toBe(Status.Ok);
    expect(t.state()).toBe(TransportState.Open);
    gwGot.length = 0;
    expect(t.send(new Uint8Array([2, 0x16]), 0, 2)).toBe(2); // PINGREQ-ish
    const m = await until(ev, 'datagram at the gateway', () => gwGot[0]);
    expect([...m.msg]).toEqual([2, 0x16]);
    gw.send(Buffer.from([2, 0x17, 0xff]), m.port, '127.0.0.1');
    await ev.until('a datagram', () => (t.pending > 0 ? true : undefined));
    const buf = new Uint8Array(16);
    expect(t.recv(buf, 0, 16)).toBe(3);
    expect([...buf.subarray(0, 3)]).toEqual([2, 0x17, 0xff]);
    expect(t.from()).toBe(0);
    expect(t.recv(buf, 0, 16)).toBe(0);
    t.close();
    expect(t.recv(buf, 0, 16)).toBe(Status.Closed);
  });

  it('recv › a second sender gets its own handle, and sendTo answers it', async () => {
    const t = new EspruinoUdpTransport({ dgram: new FakeEspruinoDgram(), E: fakeE, address: '127.0.0.1', port: gwPort, localPort: await freeUdpPort() });
    const ev = new TransportEvents(t);
    t.open();
    await ev.until('Open (bound)', () => (t.state() === TransportState.Open ? true : undefined));
    const other = dgram.createSocket('udp4');
    const otherGot: Buffer[] = [];
    other.on('message', (m) => {
      otherGot.push(m);
      ev.emit();
    });
    await new Promise<void>((r) => other.bind(0, '127.0.0.1', () => r()));
    other.send(Buffer.from([3, 0x01, 0x05]), (t as unknown as { localPort: number }).localPort, '127.0.0.1');
    await ev.until('a datagram', () => (t.pending > 0 ? true : undefined));
    const buf = new Uint8Array(8);
    expect(t.recv(buf, 0, 8)).toBe(3);
    const h = t.from();
    expect(h).toBeGreaterThan(0);
    expect(t.peers.port(h)).toBe(other.address().port);
    expect(t.sendTo(new Uint8Array([9]), 0, 1, h, 0)).toBe(1);
    await ev.until('reply at the other sender', () => (otherGot.length > 0 ? true : undefined));
    expect([...otherGot[0]]).toEqual([9]);
    other.close();
    t.close();
  });

  it('recv › receive slots full › new datagrams dropped and counted; long ones cut and counted', async () => {
    const port = await freeUdpPort();
    const dg = new FakeEspruinoDgram();
    const t = new EspruinoUdpTransport({ dgram: dg, E: fakeE, address: '127.0.0.1', port: gwPort, localPort: port, slots: 2, maxDatagram: 4 });
    const ev = new TransportEvents(t);
    t.open();
    await ev.until('Open', () => (t.state() === TransportState.Open ? true : undefined));
    // A dropped datagram wakes nobody (nothing to read): watch the socket too.
    dg.sockets[0].node.on('message', () => ev.emit());
    const s = dgram.createSocket('udp4');
    for (const d of [[1], [2, 2, 2, 2, 2, 2], [3]]) s.send(Buffer.from(d), port, '127.0.0.1');
    await ev.until('3 datagrams seen', () => (t.pending + t.dropped === 3 ? true : undefined));
    expect(t.dropped).toBe(1);
    expect(t.truncated).toBe(1);
    const buf = new Uint8Array(8);
    expect(t.recv(buf, 0, 8)).toBe(1);
    expect(t.recv(buf, 0, 8)).toBe(4);
    expect([...buf.subarray(0, 4)]).toEqual([2, 2, 2, 2]);
    s.close();
    t.close();
  });

  it('sendTo › BROADCAST › goes to the configured broadcast address; unknown handles and no address are refused', async () => {
    const t = new EspruinoUdpTransport({ dgram: new FakeEspruinoDgram(), E: fakeE, address: '127.0.0.1', port: gwPort, broadcast: { address: '127.0.0.1', port: gwPort } });
    const ev = new TransportEvents(t);
    t.open();
    gwGot.length = 0;
    expect(t.sendTo(new Uint8Array([3, 1, 0]), 0, 3, BROADCAST, 1)).toBe(3); // SEARCHGW radius 0
    await until(ev, 'broadcast at the gateway', () => gwGot[0]);
    expect(t.sendTo(new Uint8Array([1]), 0, 1, 3, 0)).toBe(Status.NotFound);
    t.close();
    const u = new EspruinoUdpTransport({ dgram: new FakeEspruinoDgram(), E: fakeE, address: '127.0.0.1', port: gwPort });
    u.open();
    expect(u.sendTo(new Uint8Array([1]), 0, 1, BROADCAST, 0)).toBe(Status.Unsupported);
    u.close();
  });

  it('open › multicast group › joined after bind', async () => {
    const dg = new FakeEspruinoDgram();
    const t = new EspruinoUdpTransport({ dgram: dg, E: fakeE, address: '127.0.0.1', port: gwPort, localPort: await freeUdpPort(), multicast: { group: '225.1.1.1', ip: '127.0.0.1' } });
    const ev = new TransportEvents(t);
    t.open();
    expect(t.state()).toBe(TransportState.Opening);
    await ev.until('Open', () => (t.state() === TransportState.Open ? true : undefined));
    expect((dg.sockets[0] as unknown as { memberships: string[][] }).memberships).toEqual([['225.1.1.1', '127.0.0.1']]);
    t.close();
  });
});

/** A UDP port free a moment ago. */
async function freeUdpPort(): Promise<number> {
  const s = dgram.createSocket('udp4');
  await new Promise<void>((r) => s.bind(0, '127.0.0.1', () => r()));
  const p = s.address().port;
  await new Promise<void>((r) => s.close(() => r()));
  return p;
}

describe('EspruinoSerialTransport (fake LoopbackA/B)', () => {
  it('open › runs setup with the baud and options, Open at once', () => {
    const [a] = loopbackPair();
    const t = new EspruinoSerialTransport({ serial: a, baud: 9600, setup: { rx: 'B7', tx: 'B6' }, E: fakeE });
    expect(t.open()).toBe(Status.Ok);
    expect(t.state()).toBe(TransportState.Open);
    expect(a.setupCalls).toEqual([[9600, { rx: 'B7', tx: 'B6' }]]);
    expect(t.open()).toBe(Status.IllegalState);
    t.close();
  });

  it('bytes › both ways, all 256 byte values, through a 32-byte ring', async () => {
    const [a, b] = loopbackPair(7);
    const t = new EspruinoSerialTransport({ serial: a, E: fakeE, rxCapacity: 32 });
    const ev = new TransportEvents(t);
    t.open();
    const all = new Uint8Array(256).map((_, i) => i);
    b.write(fakeE.toString(all)!);
    const { bytes } = await drain(t, ev, 256, 10);
    expect([...bytes]).toEqual([...all]);
    expect(t.send(all, 10, 20)).toBe(20);
    expect([...Buffer.from(a.written, 'latin1')]).toEqual([...all.subarray(10, 30)]);
    t.close();
  });

  it('close › removes its data listener, recv/send say Closed', () => {
    const [a] = loopbackPair();
    const t = new EspruinoSerialTransport({ serial: a, E: fakeE });
    t.open();
    expect(a.listenerCount('data')).toBe(1);
    t.close();
    t.close();
    expect(a.listenerCount('data')).toBe(0);
    expect(t.recv(new Uint8Array(1), 0, 1)).toBe(Status.Closed);
    expect(t.send(new Uint8Array(1), 0, 1)).toBe(Status.Closed);
  });
});

describe('Espruino bundle (esbuild cjs/es2015, in a V8 context without Map/Set/Symbol/...)', () => {
  it('runs a TCP round trip from the bundled EspruinoTcpTransport', async () => {
    const entry =
      "import { EspruinoTcpTransport } from './src/platform/espruino/index.ts';\n" + 'module.exports = { EspruinoTcpTransport: EspruinoTcpTransport };\n';
    const r = await esbuild.build({
      stdin: { contents: entry, resolveDir: process.cwd(), sourcefile: 'entry.js', loader: 'js' },
      bundle: true,
      write: false,
      format: 'cjs',
      target: 'es2015',
      minify: true,
      platform: 'neutral',
      tsconfigRaw: { compilerOptions: { useDefineForClassFields: false } },
    });
    const ctx = espruinoContext();
    addCached(ctx, 'fieldmq-espruino', r.outputFiles[0].text);
    const srv = await localServer();
    try {
      ctx.net = new FakeEspruinoNet();
      ctx.E = fakeE; // the global E, as on the device
      ctx.port = srv.port;
      const t = vm.runInContext(
        `var m = require('fieldmq-espruino'); var t = new m.EspruinoTcpTransport({ net: net, host: '127.0.0.1', port: port }); t.open(); t`,
        ctx,
      ) as EspruinoTcpTransport;
      const ev = new TransportEvents(t);
      await ev.until('Open', () => (t.state() === TransportState.Open ? true : undefined));
      const peer = await srv.accept();
      peer.on('data', (d: Buffer) => peer.write(d)); // echo
      const msg = new (vm.runInContext('Uint8Array', ctx) as Uint8ArrayConstructor)([0x30, 0x03, 0x00, 0x01, 0x61]);
      expect(t.send(msg, 0, 5)).toBe(5);
      const { bytes } = await drain(t, ev, 5);
      expect([...bytes]).toEqual([0x30, 0x03, 0x00, 0x01, 0x61]);
      t.close();
    } finally {
      await srv.close();
    }
  });
});
