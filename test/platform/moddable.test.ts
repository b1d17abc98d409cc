/**
 * The Moddable adapters (src/platform/moddable) in Node, against FAKES of
 * the ECMA-419 IO classes (./fakes/moddable.ts — `embedded:io/...` exists
 * only in a Moddable host). The TCP and UDP fakes run over real Node
 * sockets and copy the Moddable SDK's stricter behaviours (read beyond the
 * available count throws, write beyond the send buffer throws, onError only
 * after the last byte was read, UDP `write(address, port, buffer)`).
 */
import dgram from 'node:dgram';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Status } from '../../src/core/status';
import { ModdableSerialTransport } from '../../src/platform/moddable/serial';
import { ModdableTcpTransport } from '../../src/platform/moddable/tcp';
import { ModdableUdpTransport } from '../../src/platform/moddable/udp';
import { BROADCAST, TransportState } from '../../src/transport';
import { freePort } from '../support/peers';
import { fakeSerialPair, fakeTcpClass, fakeUdpClass } from './fakes/moddable';
import { drain, expectGwAddRoundTrip, localServer, pattern, TransportEvents, type LocalServer } from './helpers';

describe('ModdableTcpTransport (fake ECMA-419 TCP over a real TCP socket)', () => {
  let srv: LocalServer;
  beforeAll(async () => {
    srv = await localServer();
  });
  afterAll(async () => srv.close());

  async function opened(t: ModdableTcpTransport): Promise<TransportEvents> {
    const ev = new TransportEvents(t);
    expect(t.open()).toBe(Status.Ok);
    expect(t.state()).toBe(TransportState.Opening);
    expect(t.send(new Uint8Array(1), 0, 1)).toBe(Status.IllegalState);
    await ev.until('Open', () => (t.state() === TransportState.Open ? true : undefined));
    return ev;
  }

  it('open › Opening until the first onWritable, then Open; constructor gets address, port, noDelay, format buffer', async () => {
    const TCP = fakeTcpClass();
    const t = new ModdableTcpTransport({ TCP, address: '127.0.0.1', port: srv.port });
    const ev = await opened(t);
    expect(ev.writable).toBe(1);
    const o = TCP.instances[0].options;
    expect([o.address, o.port, o.noDelay, o.nodelay, o.format]).toEqual(['127.0.0.1', srv.port, true, true, 'buffer']);
    await srv.accept();
    t.close();
  });

  it('open › constructor throws (not an IP address) › BadParameter, Closed, error kept', () => {
    const t = new ModdableTcpTransport({ TCP: fakeTcpClass(), address: 'broker.example', port: 1883 });
    expect(t.open()).toBe(Status.BadParameter);
    expect(t.state()).toBe(TransportState.Closed);
    expect(String(t.lastError)).toMatch(/invalid address/);
  });

  it('recv › small ring, 1 MB from the peer › reads only what is available (never throws), socket window closes, no loss', async () => {
    const TCP = fakeTcpClass({ window: 4096 });
    const t = new ModdableTcpTransport({ TCP, address: '127.0.0.1', port: srv.port, rxCapacity: 256 });
    const ev = await opened(t);
    const peer = await srv.accept();
    const data = pattern(1 << 20);
    peer.write(data);
    await ev.until('the fake socket paused (window closed)', () => (TCP.instances[0].paused ? true : undefined));
    const { bytes } = await drain(t, ev, data.length, 300, 20_000);
    expect(Buffer.compare(bytes, data)).toBe(0);
    t.close();
  });

  it('send › bigger than the send buffer › partial, then 0, then onWritable; 200 KB arrive whole', async () => {
    const TCP = fakeTcpClass({ sndbuf: 1000 });
    const t = new ModdableTcpTransport({ TCP, address: '127.0.0.1', port: srv.port });
    const ev = await opened(t);
    const peer = await srv.accept();
    const got: Buffer[] = [];
    let received = 0;
    peer.on('data', (d: Buffer) => {
      got.push(d);
      received += d.length;
      ev.emit();
    });
    const data = pattern(200_000);
    expect(t.send(data, 0, 5000)).toBe(1000); // partial: the writable count
    expect(t.send(data, 1000, 4000)).toBe(0); // nothing left until onWritable
    let sent = 1000;
    const w0 = ev.writable;
    await ev.until('onWritable', () => (ev.writable > w0 ? true : undefined));
    await ev.until(
      'everything sent',
      () => {
        while (sent < data.length) {
          const n = t.send(data, sent, data.length - sent);
          if (n < 0) throw new Error('send failed: ' + n);
          if (n === 0) return undefined;
          sent += n;
        }
        return true;
      },
      20_000,
    );
    await ev.until('all at the peer', () => (received === data.length ? true : undefined), 20_000);
    expect(Buffer.compare(Buffer.concat(got), data)).toBe(0);
    t.close();
  });

  it('close › peer ends › every byte first (onError comes after the last read), then Closed', async () => {
    const t = new ModdableTcpTransport({ TCP: fakeTcpClass(), address: '127.0.0.1', port: srv.port, rxCapacity: 64 });
    const ev = await opened(t);
    const peer = await srv.accept();
    const data = pattern(3000);
    peer.end(data);
    const { bytes, status } = await drain(t, ev, data.length + 1, 100);
    expect(Buffer.compare(bytes, data)).toBe(0);
    expect(status).toBe(Status.Closed);
    expect(t.state()).toBe(TransportState.Closed);
    expect(t.send(data, 0, 1)).toBe(Status.Closed);
  });

  it('error › connection refused › onError, Closed', async () => {
    const t = new ModdableTcpTransport({ TCP: fakeTcpClass(), address: '127.0.0.1', port: await freePort() });
    const ev = new TransportEvents(t);
    t.open();
    await ev.until('Closed', () => (t.state() === TransportState.Closed ? true : undefined));
    expect(t.recv(new Uint8Array(1), 0, 1)).toBe(Status.Closed);
  });

  it('close › local close() › no callbacks afterwards, reopen makes a new socket', async () => {
    const TCP = fakeTcpClass();
    const t = new ModdableTcpTransport({ TCP, address: '127.0.0.1', port: srv.port });
    await opened(t);
    await srv.accept();
    t.close();
    t.close();
    expect(t.recv(new Uint8Array(1), 0, 1)).toBe(Status.Closed);
    const ev = await opened(t);
    const p2 = await srv.accept();
    p2.write('ok');
    const { bytes } = await drain(t, ev, 2);
    expect(Buffer.from(bytes).toString()).toBe('ok');
    expect(TCP.instances.length).toBe(2);
    t.close();
  });
});

describe('ModdableUdpTransport (fake ECMA-419 UDP over real UDP sockets)', () => {
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

  const watchGw = (ev: TransportEvents) => {
    const f = (): void => ev.emit();
    gw.on('message', f);
    return () => gw.off('message', f);
  };

  it('addressOf / peerAt › the gateway as GwAdd octets (IPv4, port); a handle from octets reaches that peer', async () => {
    const UDP = fakeUdpClass('address-first');
    const t = new ModdableUdpTransport({ UDP, address: '127.0.0.1', port: 1884 });
    const ev = new TransportEvents(t);
    const off = watchGw(ev);
    expect(t.open()).toBe(Status.Ok);
    gwGot.length = 0;
    await expectGwAddRoundTrip(t, gwPort, async () => (await ev.until('datagram at the peer named by octets', () => gwGot[0])).msg);
    off();
    t.close();
  });

  for (const order of ['address-first', 'buffer-first'] as const) {
    it(`send/recv › writeOrder ${order} › datagram reaches the gateway, reply comes from handle 0`, async () => {
      const UDP = fakeUdpClass(order);
      const t = new ModdableUdpTransport({ UDP, address: '127.0.0.1', port: gwPort, writeOrder: order });
      const ev = new TransportEvents(t);
      const off = watchGw(ev);
      expect(t.open()).toBe(Status.Ok);
      expect(t.state()).toBe(TransportState.Open);
      gwGot.length = 0;
      expect(t.send(new Uint8Array([0, 2, 0x16, 0]), 1, 2)).toBe(2);
      const m = await ev.until('datagram at the gateway', () => gwGot[0]);
      off();
      expect([...m.msg]).toEqual([2, 0x16]);
      expect(m.port).toBe(await UDP.instances[0].port());
      gw.send(Buffer.from([2, 0x17]), m.port, '127.0.0.1');
      const buf = new Uint8Array(8);
      await ev.until('reply', () => {
        const n = t.recv(buf, 0, 8);
        return n > 0 ? n : undefined;
      });
      expect([...buf.subarray(0, 2)]).toEqual([2, 0x17]);
      expect(t.from()).toBe(0);
      t.close();
      expect(t.recv(buf, 0, 8)).toBe(Status.Closed);
    });
  }

  it('recv › datagram longer than the buffer › cut to len; another sender gets a new handle', async () => {
    const UDP = fakeUdpClass();
    const t = new ModdableUdpTransport({ UDP, address: '127.0.0.1', port: gwPort });
    const ev = new TransportEvents(t);
    t.open();
    const port = await UDP.instances[0].port();
    const other = dgram.createSocket('udp4');
    other.send(Buffer.from([1, 2, 3, 4, 5, 6]), port, '127.0.0.1');
    const buf = new Uint8Array(8);
    const n = await ev.until('datagram', () => {
      const k = t.recv(buf, 0, 3);
      return k > 0 ? k : undefined;
    });
    expect(n).toBe(3);
    expect([...buf.subarray(0, 3)]).toEqual([1, 2, 3]);
    expect(t.from()).toBe(1);
    expect(t.peers.port(1)).toBe(other.address().port);
    other.close();
    t.close();
  });

  it('sendTo › BROADCAST to the configured address; none configured › Unsupported; multicast group joined', async () => {
    const UDP = fakeUdpClass();
    const t = new ModdableUdpTransport({ UDP, address: '127.0.0.1', port: gwPort, broadcast: { address: '127.0.0.1', port: gwPort }, multicastGroup: '225.1.1.1' });
    const ev = new TransportEvents(t);
    const off = watchGw(ev);
    t.open();
    expect(UDP.instances[0].groups).toEqual(['225.1.1.1']);
    gwGot.length = 0;
    expect(t.sendTo(new Uint8Array([3, 1, 0]), 0, 3, BROADCAST, 0)).toBe(3);
    await ev.until('broadcast at the gateway', () => gwGot[0]);
    off();
    t.close();
    const u = new ModdableUdpTransport({ UDP: fakeUdpClass(), address: '127.0.0.1', port: gwPort });
    u.open();
    expect(u.sendTo(new Uint8Array([1]), 0, 1, BROADCAST, 0)).toBe(Status.Unsupported);
    expect(u.sendTo(new Uint8Array([1]), 0, 1, 2, 0)).toBe(Status.NotFound);
    u.close();
  });

  it('sendTo › host write throws › returns 0, error kept', () => {
    const t = new ModdableUdpTransport({ UDP: fakeUdpClass(), address: 'not-an-ip', port: 1 });
    t.open();
    expect(t.send(new Uint8Array([1]), 0, 1)).toBe(0);
    expect(String(t.lastError)).toMatch(/invalid IP address/);
    t.close();
  });
});

describe('ModdableSerialTransport (fake ECMA-419 Serial pair)', () => {
  it('open › format number, options passed through, Open at once; first onWritable wakes the user', async () => {
    const pair = fakeSerialPair();
    const t = new ModdableSerialTransport({ Serial: pair.A, baud: 115200, port: 2, receive: 16, transmit: 17, flowControl: 'none' });
    const ev = new TransportEvents(t);
    expect(t.open()).toBe(Status.Ok);
    expect(t.state()).toBe(TransportState.Open);
    const o = pair.port(0)!.options;
    expect([o.baud, o.format, o.port, o.receive, o.transmit, o.flowControl]).toEqual([115200, 'number', 2, 16, 17, 'none']);
    await ev.until('first onWritable', () => (ev.writable > 0 ? true : undefined));
    t.close();
  });

  it('send › more than the TX FIFO › partial, onWritable, the rest; the other end gets every byte', async () => {
    const pair = fakeSerialPair({ fifo: 32, bytesPerTick: 8 });
    const t = new ModdableSerialTransport({ Serial: pair.A, baud: 9600 });
    const u = new ModdableSerialTransport({ Serial: pair.B, baud: 9600, rxCapacity: 64 });
    const ev = new TransportEvents(t);
    const evU = new TransportEvents(u);
    t.open();
    u.open();
    await ev.until('ready', () => (ev.writable > 0 ? true : undefined));
    const data = pattern(300);
    let sent = 0;
    const got: number[] = [];
    const rx = new Uint8Array(40);
    const pump = (): true | undefined => {
      while (sent < data.length) {
        const n = t.send(data, sent, data.length - sent);
        if (n === 0) break;
        sent += n;
      }
      for (;;) {
        const n = u.recv(rx, 0, rx.length);
        if (n <= 0) break;
        for (let i = 0; i < n; i++) got.push(rx[i]);
      }
      return got.length === data.length ? true : undefined;
    };
    const first = t.send(data, 0, data.length);
    expect(first).toBe(32); // the FIFO size: partial
    sent = first;
    evU.subscribe(() => ev.emit());
    await ev.until('all 300 bytes across', pump, 10_000);
    expect(got).toEqual([...data]);
    expect(pair.port(1)!.overruns).toBe(0);
    t.close();
    u.close();
  });

  it('close › recv/send say Closed; the port can be opened again', () => {
    const pair = fakeSerialPair();
    const t = new ModdableSerialTransport({ Serial: pair.A, baud: 9600 });
    t.open();
    t.close();
    t.close();
    expect(t.recv(new Uint8Array(1), 0, 1)).toBe(Status.Closed);
    expect(t.send(new Uint8Array(1), 0, 1)).toBe(Status.Closed);
    expect(t.open()).toBe(Status.Ok);
    t.close();
  });

  it('open › port in use › BadParameter', () => {
    const pair = fakeSerialPair();
    const a = new ModdableSerialTransport({ Serial: pair.A, baud: 9600 });
    const b = new ModdableSerialTransport({ Serial: pair.A, baud: 9600 });
    expect(a.open()).toBe(Status.Ok);
    expect(b.open()).toBe(Status.BadParameter);
    a.close();
  });
});
