/** NodeUdpTransport › the DatagramTransport contract over node:dgram (src/transport.ts). */
import dgram from 'node:dgram';
import { describe, expect, it } from 'vitest';
import { BROADCAST, TransportState } from '../../src/transport';
import { NodeUdpTransport } from '../../src/platform/node/udp';
import { DEADLINE, useOpen } from './harness';

const track = useOpen();

interface Peer {
  sock: dgram.Socket;
  port: number;
  got: { bytes: number[]; port: number }[];
  next(): Promise<{ bytes: number[]; port: number }>;
}

async function peer(type: 'udp4' | 'udp6' = 'udp4'): Promise<Peer> {
  const sock = dgram.createSocket(type);
  const host = type === 'udp4' ? '127.0.0.1' : '::1';
  await new Promise<void>((r) => sock.bind(0, host, () => r()));
  track(sock);
  const got: Peer['got'] = [];
  let wake: (() => void) | null = null;
  sock.on('message', (m, ri) => {
    got.push({ bytes: Array.from(m), port: ri.port });
    if (wake) wake();
  });
  return {
    sock,
    port: sock.address().port,
    got,
    async next() {
      if (!got.length) {
        await new Promise<void>((resolve, reject) => {
          const t = setTimeout(() => reject(new Error('peer: nothing within the deadline')), DEADLINE);
          wake = () => {
            clearTimeout(t);
            wake = null;
            resolve();
          };
        });
      }
      return got.shift()!;
    },
  };
}

async function transport(opts: ConstructorParameters<typeof NodeUdpTransport>[0]): Promise<NodeUdpTransport> {
  const t = new NodeUdpTransport({ localAddress: '127.0.0.1', ...opts });
  track(t);
  expect(t.state()).toBe(TransportState.Closed);
  await t.ready();
  expect(t.state()).toBe(TransportState.Open);
  return t;
}

/**
 * Waits until `t` has received `n` datagrams in total. `onReadable` fires for
 * queued datagrams only, so a dropped one is seen by re-checking on a short
 * interval; the deadline bounds the wait.
 */
function received(t: NodeUdpTransport, n: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const start = Date.now();
    const check = () => {
      if (t.received >= n) {
        clearInterval(iv);
        t.onReadable = null;
        resolve();
      } else if (Date.now() - start > DEADLINE) {
        clearInterval(iv);
        reject(new Error('transport: datagrams missing at the deadline'));
      }
    };
    const iv = setInterval(check, 2);
    t.onReadable = check;
    check();
  });
}

describe('NodeUdpTransport', () => {
  it('sends to the default peer (handle 0) and receives its datagrams with from() === 0', async () => {
    const p = await peer();
    const t = await transport({ address: '127.0.0.1', port: p.port });
    expect(t.send(new Uint8Array([9, 1, 2, 3]), 1, 2)).toBe(2);
    expect((await p.next()).bytes).toEqual([1, 2]);
    p.sock.send(Uint8Array.from([5, 6, 7]), t.localPort(), '127.0.0.1');
    await received(t, 1);
    const buf = new Uint8Array(10);
    expect(t.recv(buf, 2, 8)).toBe(3);
    expect(Array.from(buf.subarray(2, 5))).toEqual([5, 6, 7]);
    expect(t.from()).toBe(0);
    expect(t.recv(buf, 0, 10)).toBe(0);
  });

  it('gives each new sender a handle and sendTo(handle) reaches it', async () => {
    const a = await peer();
    const b = await peer();
    const t = await transport({});
    b.sock.send(Uint8Array.from([2]), t.localPort(), '127.0.0.1');
    await received(t, 1);
    a.sock.send(Uint8Array.from([1]), t.localPort(), '127.0.0.1');
    await received(t, 2);
    const buf = new Uint8Array(4);
    t.recv(buf, 0, 4);
    const hb = t.from();
    t.recv(buf, 0, 4);
    const ha = t.from();
    expect(ha).not.toBe(hb);
    t.sendTo(Uint8Array.from([0xaa]), 0, 1, ha, 0);
    t.sendTo(Uint8Array.from([0xbb]), 0, 1, hb, 0);
    expect((await a.next()).bytes).toEqual([0xaa]);
    expect((await b.next()).bytes).toEqual([0xbb]);
    expect(t.sendTo(Uint8Array.from([1]), 0, 1, 7, 0)).toBe(-14);
  });

  it('addressOf / peerAt: a peer as GwAdd octets (IPv4, port) and back; sendTo the new handle reaches it', async () => {
    const p = await peer();
    const q = await peer();
    const t = await transport({ address: '127.0.0.1', port: p.port });
    const b = new Uint8Array(6);
    expect(t.addressOf(0, b, 0, 6)).toBe(6);
    expect([...b]).toEqual([127, 0, 0, 1, p.port >> 8, p.port & 0xff]);
    const h = t.peerAt(Uint8Array.of(127, 0, 0, 1, q.port >> 8, q.port & 0xff), 0, 6);
    expect(h).toBeGreaterThan(0);
    t.sendTo(Uint8Array.of(0xcc), 0, 1, h, 0);
    expect((await q.next()).bytes).toEqual([0xcc]);
    expect(t.peerAt(b, 0, 5)).toBe(-5); // BadParameter
  });

  it('addressOf / peerAt over udp6: 16 octets of IPv6 address and 2 of port, in the forms RFC 4291 §2.2 allows; a zone has no octets', async () => {
    const cases: [string, string | null][] = [
      ['::1', '00000000000000000000000000000001'],
      ['2001:db8::8:800:200c:417a', '20010db80000000000080800200c417a'],
      ['1:2:3:4:5:6:7:8', '00010002000300040005000600070008'],
      ['fe80::1%lo', null],
    ];
    for (const [address, hex] of cases) {
      const t = new NodeUdpTransport({ type: 'udp6', address, port: 0x1234 });
      const b = new Uint8Array(18);
      expect(t.addressOf(0, b, 0, 18), address).toBe(hex === null ? -7 : 18); // Unsupported for the zone
      if (hex !== null) expect(Buffer.from(b).toString('hex')).toBe(hex + '1234');
      expect(t.addressOf(0, b, 0, 17)).toBe(-2); // NoMemory: 18 octets needed
    }
    // An IPv4 sender on a dual-stack udp6 socket (Node: ::ffff:a.b.c.d) goes as IPv4, 6 octets, and back.
    const m = new NodeUdpTransport({ type: 'udp6', address: '::ffff:192.0.2.1', port: 0x1234 });
    const b6 = new Uint8Array(18);
    expect(m.addressOf(0, b6, 0, 18)).toBe(6);
    expect([...b6.subarray(0, 6)]).toEqual([192, 0, 2, 1, 0x12, 0x34]);
    const hm = m.peerAt(b6, 0, 6);
    expect([m.peers.address(hm), m.peers.port(hm)]).toEqual(['::ffff:192.0.2.1', 0x1234]);
    // 18 octets become a peer in the form Node names senders, so its answers come from that handle.
    const p = await peer('udp6');
    const t = new NodeUdpTransport({ type: 'udp6', localAddress: '::1' });
    await t.ready();
    const h = t.peerAt(Uint8Array.from([...new Array(15).fill(0), 1, p.port >> 8, p.port & 0xff]), 0, 18);
    expect(h).toBeGreaterThanOrEqual(0);
    expect(t.peers.address(h)).toBe('::1');
    t.sendTo(Uint8Array.of(0xdd), 0, 1, h, 0);
    expect((await p.next()).bytes).toEqual([0xdd]);
    p.sock.send(Uint8Array.of(0xee), t.localPort(), '::1');
    await received(t, 1);
    t.recv(new Uint8Array(4), 0, 4);
    expect(t.from()).toBe(h);
    t.close();
    const v4 = await transport({});
    expect(v4.peerAt(new Uint8Array(18), 0, 18)).toBe(-5); // BadParameter: no IPv6 on udp4
  });

  it('sends BROADCAST to the configured address and port', async () => {
    const p = await peer();
    const t = await transport({ broadcast: { address: '127.0.0.1', port: p.port } });
    expect(t.sendTo(Uint8Array.from([3, 1, 1]), 0, 3, BROADCAST, 1)).toBe(3);
    expect((await p.next()).bytes).toEqual([3, 1, 1]);
  });

  it('BROADCAST without any port known is Unsupported', async () => {
    const t = await transport({});
    expect(t.sendTo(Uint8Array.from([1]), 0, 1, BROADCAST, 1)).toBe(-7);
  });

  it('drops the newest datagram when the receive queue is full, and counts it', async () => {
    const p = await peer();
    const t = await transport({ slots: 2 });
    for (let i = 1; i <= 3; i++) p.sock.send(Uint8Array.from([i]), t.localPort(), '127.0.0.1');
    await received(t, 3);
    expect(t.pending).toBe(2);
    expect(t.dropped).toBe(1);
    const buf = new Uint8Array(1);
    t.recv(buf, 0, 1);
    expect(buf[0]).toBe(1);
    t.recv(buf, 0, 1);
    expect(buf[0]).toBe(2);
  });

  it('cuts a datagram longer than a slot (counted) and a read shorter than the datagram', async () => {
    const p = await peer();
    const t = await transport({ maxDatagram: 4 });
    p.sock.send(Uint8Array.from([1, 2, 3, 4, 5, 6]), t.localPort(), '127.0.0.1');
    p.sock.send(Uint8Array.from([7, 8, 9]), t.localPort(), '127.0.0.1');
    await received(t, 2);
    expect(t.truncated).toBe(1);
    const buf = new Uint8Array(8);
    expect(t.recv(buf, 0, 8)).toBe(4);
    expect(t.recv(buf, 0, 2)).toBe(2);
    expect(Array.from(buf.subarray(0, 2))).toEqual([7, 8]);
  });

  it('works over IPv6 (udp6 on ::1)', async () => {
    const p = await peer('udp6');
    const t = new NodeUdpTransport({ type: 'udp6', localAddress: '::1', address: '::1', port: p.port });
    track(t);
    await t.ready();
    t.send(Uint8Array.from([4, 2]), 0, 2);
    expect((await p.next()).bytes).toEqual([4, 2]);
    p.sock.send(Uint8Array.from([1]), t.localPort(), '::1');
    await received(t, 1);
    expect(t.recv(new Uint8Array(2), 0, 2)).toBe(1);
    expect(t.from()).toBe(0);
  });

  it('after close(): recv and send return Closed; open() again works', async () => {
    const t = await transport({ address: '127.0.0.1', port: 9 });
    t.close();
    expect(t.state()).toBe(TransportState.Closed);
    expect(t.recv(new Uint8Array(2), 0, 2)).toBe(-15);
    expect(t.send(new Uint8Array(2), 0, 2)).toBe(-15);
    expect(t.open()).toBe(0);
    await t.ready();
    expect(t.state()).toBe(TransportState.Open);
  });

  it('refuses a bad range (BadParameter)', async () => {
    const t = await transport({ address: '127.0.0.1', port: 9 });
    expect(t.recv(new Uint8Array(2), 1, 2)).toBe(-5);
    expect(t.send(new Uint8Array(2), 0, 3)).toBe(-5);
  });
});
