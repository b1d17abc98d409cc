/**
 * UdpSensorTransport against real node:dgram peers on 127.0.0.1 and ::1, multicast where the
 * machine routes it, and the failure paths (port in use, multicast join failing, OS send errors).
 */
import dgram from 'node:dgram';
import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import {
  UdpSensorTransport,
  formatUdpAddress,
  parseUdpAddress,
  snFramingError,
  UDP_DEFAULT_RECV_BUFFER,
  type UdpTransportOptions,
} from '../../../gateway/transports/udp';
import { DEADLINE, TransportProbe, hex, runComplianceSuite, type ComplianceHarness } from './compliance';
import { UdpPeer, canBind, freeUdpPort, multicastWorks } from './udp-peers';

const GROUP4 = '239.255.42.99';
const GROUP6 = 'ff1e::4242';

const hasV6 = await canBind(true, '::1');
if (!hasV6) console.warn('\n!!! SKIPPED: udp6 tests: this machine has no ::1 (IPv6 loopback) !!!\n');
const mc4 = await multicastWorks(false, GROUP4);
const mc6 = hasV6 && (await multicastWorks(true, GROUP6));
if (!mc4) console.warn(`\n!!! SKIPPED: IPv4 multicast delivery tests: ${GROUP4} does not loop back here (no multicast route?) !!!\n`);
if (hasV6 && !mc6) console.warn(`\n!!! SKIPPED: IPv6 multicast delivery tests: ${GROUP6} does not loop back here !!!\n`);

/** Transports and peers made by a test, closed after it. */
const opened: Array<{ stop(): Promise<void> } | UdpPeer> = [];
afterEach(async () => {
  for (const o of opened.splice(0).reverse()) await ('close' in o ? o.close() : o.stop());
});

function track<T extends { stop(): Promise<void> } | UdpPeer>(o: T): T {
  opened.push(o);
  return o;
}

function udpHarness(v6: boolean, multicast: boolean): ComplianceHarness {
  // peers live on loopback; the transport binds the wildcard, as a gateway does, so that its
  // multicast sends leave through a real interface (a loopback-bound socket cannot send them)
  const host = v6 ? '::1' : '127.0.0.1';
  const bindHost = v6 ? '::' : '0.0.0.0';
  const group = v6 ? GROUP6 : GROUP4;
  let port = 0;
  let mcPort = 0;
  let current: UdpSensorTransport | null = null;
  const peers: UdpPeer[] = [];
  const peer = async (t: UdpSensorTransport): Promise<UdpPeer> => {
    const p = await UdpPeer.bind(v6, host);
    peers.push(p);
    return p;
  };
  const linkPeer = (t: UdpSensorTransport, p: UdpPeer) => ({
    address: p.address,
    sendPacket: (bytes: Uint8Array) => p.send(bytes, t.port, host),
    // a datagram whose Length field (9) disagrees with its size (3)
    sendGarbage: () => p.send(Uint8Array.of(9, 0x0c, 0x00), t.port, host),
    nextPacket: async (timeoutMs: number) => {
      const d = await p.next(timeoutMs);
      if (d.port !== t.port) throw new Error(`reply came from port ${d.port}, not the transport's port ${t.port}`);
      return d.bytes;
    },
  });
  return {
    async setUp() {
      port = await freeUdpPort(v6, bindHost);
      mcPort = multicast ? await freeUdpPort(v6, v6 ? '::' : '0.0.0.0') : 0;
    },
    async tearDown() {
      for (const p of peers.splice(0)) await p.close();
      await current?.stop();
    },
    createTransport() {
      current = new UdpSensorTransport({
        type: v6 ? 'udp6' : 'udp4',
        port,
        host: bindHost,
        multicast: multicast ? { group, port: mcPort } : null,
      });
      return current;
    },
    connectPeer: async (t) => linkPeer(t as UdpSensorTransport, await peer(t as UdpSensorTransport)),
    connectSecondPeer: async (t) => linkPeer(t as UdpSensorTransport, await peer(t as UdpSensorTransport)),
    listenBroadcast: multicast
      ? async () => {
          // a client listening for ADVERTISE on the group port, as sensors do
          const l = await UdpPeer.bind(v6, v6 ? '::' : '0.0.0.0', mcPort, true);
          peers.push(l);
          l.socket.addMembership(group);
          return async (timeoutMs) => (await l.next(timeoutMs)).bytes;
        }
      : undefined,
    rejectedAddresses: v6
      ? ['', 'nonsense', '127.0.0.1:5000', '[::1]', '[::1]:0', '[::1]:65536', '[::1]:50a', '[zz::1]:5000', '::1:5000']
      : ['', 'nonsense', '127.0.0.1', '127.0.0.1:0', '127.0.0.1:65536', '127.0.0.1:-1', '256.1.1.1:5000', '[::1]:5000', 'localhost:5000', '127.0.0.1:5000:1'],
    garbageKinds: ['framing'],
    async assertReleased() {
      // the ports are free again: bind them exclusively
      const a = await UdpPeer.bind(v6, bindHost, port);
      await a.close();
      if (multicast) {
        const b = await UdpPeer.bind(v6, v6 ? '::' : '0.0.0.0', mcPort);
        await b.close();
      }
    },
  };
}

describe('UdpSensorTransport over IPv4 (127.0.0.1)', () => {
  runComplianceSuite(udpHarness(false, mc4));
});

describe.skipIf(!hasV6)('UdpSensorTransport over IPv6 (::1)', () => {
  runComplianceSuite(udpHarness(true, mc6));
});

async function started(opts: UdpTransportOptions): Promise<{ t: UdpSensorTransport; probe: TransportProbe }> {
  const t = track(new UdpSensorTransport(opts));
  const probe = new TransportProbe(t);
  await t.start();
  return { t, probe };
}

describe('UdpSensorTransport › start', () => {
  it('rejects a port in use, naming the port and the config key to change', async () => {
    const holder = track(await UdpPeer.bind(false, '127.0.0.1'));
    const t = new UdpSensorTransport({ type: 'udp4', port: holder.port, host: '127.0.0.1' });
    const err = await t.start().then(
      () => null,
      (e: Error) => e,
    );
    expect(err).toBeInstanceOf(Error);
    expect(err!.message).toContain(`UDP port ${holder.port} is already in use`);
    expect(err!.message).toContain('"udp.port" in the config file');
    expect(t.port).toBe(0);
    expect(t.send(Uint8Array.of(2, 0x17), holder.address)).toBe(false);
  });

  it('names the hint it is given (a CLI flag) in the port-in-use error', async () => {
    const holder = track(await UdpPeer.bind(true, '::'));
    const t = new UdpSensorTransport({ type: 'udp6', port: holder.port, portHint: '--udp6-port' });
    await expect(t.start()).rejects.toThrow(/udp6: UDP port \d+ is already in use.*--udp6-port/);
  });

  it('reports the port the OS chose for port 0, and 0 once stopped', async () => {
    const { t } = await started({ type: 'udp4', port: 0, host: '127.0.0.1' });
    expect(t.port).toBeGreaterThan(0);
    const p = t.port;
    await t.stop();
    expect(t.port).toBe(0);
    const again = track(await UdpPeer.bind(false, '127.0.0.1', p)); // released
    expect(again.port).toBe(p);
  });

  it('binds udp and udp6 to the same port side by side (udp6 is IPv6-only)', async () => {
    const port = await freeUdpPort(false, '0.0.0.0');
    await started({ type: 'udp4', port });
    await started({ type: 'udp6', port });
  });

  it('uses udp / udp6 as default names and 1024 as default MTU', () => {
    expect(new UdpSensorTransport({ type: 'udp4', port: 0 }).name).toBe('udp');
    expect(new UdpSensorTransport({ type: 'udp6', port: 0 }).name).toBe('udp6');
    expect(new UdpSensorTransport({ type: 'udp4', port: 0 }).mtu).toBe(1024);
    expect(new UdpSensorTransport({ type: 'udp4', port: 0, mtu: 512, name: 'lan' })).toMatchObject({ mtu: 512, name: 'lan' });
  });
});

/** Linux's cap on a receive buffer an unprivileged setsockopt may ask for (null elsewhere). */
function rmemMax(): number | null {
  try {
    return Number(readFileSync('/proc/sys/net/core/rmem_max', 'utf8').trim());
  } catch {
    return null;
  }
}

describe('UdpSensorTransport › receive buffer (bursts are not dropped by the kernel)', () => {
  const cap = rmemMax();
  it.runIf(cap !== null && cap >= UDP_DEFAULT_RECV_BUFFER)('asks for a 4 MiB receive buffer by default instead of the OS default', async () => {
    const os = track(await UdpPeer.bind(false, '127.0.0.1'));
    const osDefault = os.socket.getRecvBufferSize();
    const { t, probe } = await started({ type: 'udp4', port: 0, host: '127.0.0.1' });
    expect(t.recvBufferSize).toBeGreaterThanOrEqual(UDP_DEFAULT_RECV_BUFFER);
    expect(t.recvBufferSize).toBeGreaterThan(osDefault);
    expect(probe.errors).toEqual([]);
  });

  it('keeps the OS default with recvBufferSize 0', async () => {
    const os = track(await UdpPeer.bind(false, '127.0.0.1'));
    const { t } = await started({ type: 'udp4', port: 0, host: '127.0.0.1', recvBufferSize: 0 });
    expect(t.recvBufferSize).toBe(os.socket.getRecvBufferSize());
  });

  it.runIf(cap !== null && cap < 256 * 1024 * 1024)('says how to raise net.core.rmem_max when the kernel caps the buffer', async () => {
    const { t, probe } = await started({ type: 'udp4', port: 0, host: '127.0.0.1', recvBufferSize: 512 * 1024 * 1024 });
    expect(t.recvBufferSize).toBeLessThan(512 * 1024 * 1024);
    const e = probe.errors.find((x) => x.kind === 'io');
    expect(e?.detail).toMatch(/net\.core\.rmem_max=536870912/);
    // still serving
    const peer = track(await UdpPeer.bind(false, '127.0.0.1'));
    await peer.send(Uint8Array.of(2, 0x16), t.port, '127.0.0.1');
    const [got] = await probe.packetsAt(1);
    expect(hex(got!.bytes)).toBe('0216');
  });
});

describe('UdpSensorTransport › host', () => {
  it('binds to a host name given as `host` (resolved once; destinations are IP literals)', async () => {
    const { t, probe } = await started({ type: 'udp4', port: 0, host: 'localhost' });
    const peer = track(await UdpPeer.bind(false, '127.0.0.1'));
    await peer.send(Uint8Array.of(2, 0x16), t.port, '127.0.0.1');
    const [got] = await probe.packetsAt(1);
    expect(got!.address).toBe(peer.address);
    expect(t.send(Uint8Array.of(2, 0x17), peer.address)).toBe(true);
    expect(hex((await peer.next(DEADLINE)).bytes)).toBe('0217');
  });
});

describe('UdpSensorTransport › address cache (bounded)', () => {
  it('more peers than the cache holds: each datagram still names its sender, and replies reach each peer', async () => {
    const { t, probe } = await started({ type: 'udp4', port: 0, host: '127.0.0.1', peerCache: 2 });
    const peers: UdpPeer[] = [];
    for (let i = 0; i < 5; i++) peers.push(track(await UdpPeer.bind(false, '127.0.0.1')));
    for (let round = 0; round < 2; round++) {
      for (let i = 0; i < peers.length; i++) await peers[i]!.send(Uint8Array.of(3, 0x16, i), t.port, '127.0.0.1');
    }
    const got = await probe.packetsAt(2 * peers.length);
    expect(got.map((p) => p.address)).toEqual([...peers, ...peers].map((p) => p.address));
    for (let round = 0; round < 2; round++) {
      for (let i = 0; i < peers.length; i++) expect(t.send(Uint8Array.of(3, 0x17, i), peers[i]!.address)).toBe(true);
    }
    for (let i = 0; i < peers.length; i++) {
      for (let round = 0; round < 2; round++) expect(hex((await peers[i]!.next(DEADLINE)).bytes)).toBe(`0317${hex(Uint8Array.of(i))}`);
    }
  });
});

describe('UdpSensorTransport › errors from the OS', () => {
  it('reports a send the OS refuses through onError("io") instead of throwing', async () => {
    // a socket bound to loopback cannot reach a non-local address: EINVAL from sendto
    const { t, probe } = await started({ type: 'udp4', port: 0, host: '127.0.0.1' });
    expect(t.send(Uint8Array.of(2, 0x17), '192.0.2.1:9')).toBe(true);
    const e = await probe.error('an io error', (x) => x.kind === 'io');
    expect(e.detail).toMatch(/^udp: sending a datagram failed: .*E[A-Z]+.*192\.0\.2\.1:9/);
    // and the transport still serves
    const peer = track(await UdpPeer.bind(false, '127.0.0.1'));
    expect(t.send(Uint8Array.of(2, 0x17), peer.address)).toBe(true);
    expect(hex((await peer.next(DEADLINE)).bytes)).toBe('0217');
  });

  it('keeps serving when onPacket throws, and reports it', async () => {
    const { t, probe } = await started({ type: 'udp4', port: 0, host: '127.0.0.1' });
    const record = t.onPacket!;
    t.onPacket = (bytes, address) => {
      record(bytes, address);
      if (probe.packets.length === 1) throw new Error('handler bug');
    };
    const peer = track(await UdpPeer.bind(false, '127.0.0.1'));
    await peer.send(Uint8Array.of(2, 0x16), t.port, '127.0.0.1');
    await peer.send(Uint8Array.of(2, 0x18), t.port, '127.0.0.1');
    const got = await probe.packetsAt(2);
    expect(got.map((p) => hex(p.bytes))).toEqual(['0216', '0218']);
    expect(probe.errors.map((e) => e.detail).join()).toContain('onPacket threw');
  });
});

describe('UdpSensorTransport › multicast', () => {
  it('returns false from broadcast when no multicast is configured', async () => {
    const { t } = await started({ type: 'udp4', port: 0, host: '127.0.0.1' });
    expect(t.broadcast(Uint8Array.of(2, 0x01), 0)).toBe(false);
    expect(t.multicastPort).toBe(0);
  });

  it('keeps unicast working when joining the group fails, and says how to fix it', async () => {
    // 10.255.255.1 is no interface of this machine: the join fails for real (ENODEV / EADDRNOTAVAIL)
    const { t, probe } = await started({
      type: 'udp4',
      port: 0,
      host: '127.0.0.1',
      multicast: { group: GROUP4, port: 0, interface: '10.255.255.1' },
    });
    const join = await probe.error('the join failure', (e) => /cannot join multicast group/.test(e.detail));
    expect(join.kind).toBe('io');
    expect(join.detail).toContain(GROUP4);
    expect(join.detail).toContain('unicast works');
    expect(join.detail).toContain('To fix:');
    expect(t.broadcast(Uint8Array.of(2, 0x01), 0)).toBe(false);
    const peer = track(await UdpPeer.bind(false, '127.0.0.1'));
    await peer.send(Uint8Array.of(2, 0x16), t.port, '127.0.0.1');
    const [p] = await probe.packetsAt(1);
    expect(t.send(Uint8Array.of(2, 0x17), p!.address)).toBe(true);
    expect(hex((await peer.next(DEADLINE)).bytes)).toBe('0217');
  });

  it('reports an IPv6 multicast interface that does not exist instead of silently using the default', async () => {
    const { probe } = await started({ type: 'udp6', port: 0, multicast: { group: GROUP6, port: 0, interface: 'nosuchif9' } });
    const e = await probe.error('the interface error', (x) => /nosuchif9/.test(x.detail));
    expect(e.kind).toBe('io');
  });

  it('reports a group of the wrong family and keeps unicast', async () => {
    const { t, probe } = await started({ type: 'udp4', port: 0, host: '127.0.0.1', multicast: { group: GROUP6, port: 0 } });
    await probe.error('the group error', (x) => /is not an IPv4 address/.test(x.detail));
    expect(t.port).toBeGreaterThan(0);
    expect(t.broadcast(Uint8Array.of(2, 1), 0)).toBe(false);
  });

  for (const v6 of [false, true]) {
    const family = v6 ? 'IPv6' : 'IPv4';
    const group = v6 ? GROUP6 : GROUP4;
    const works = v6 ? mc6 : mc4;
    describe.skipIf(!works)(`over ${family}`, () => {
      it('hears SEARCHGW sent to the group and answers the sender from the unicast port', async () => {
        const mcPort = await freeUdpPort(v6, v6 ? '::' : '0.0.0.0');
        const { t, probe } = await started({ type: v6 ? 'udp6' : 'udp4', port: 0, multicast: { group, port: mcPort } });
        expect(t.multicastPort).toBe(mcPort);
        const client = track(await UdpPeer.bind(v6, v6 ? '::' : '0.0.0.0'));
        await client.send(Uint8Array.of(3, 0x01, 0x00), mcPort, group); // SEARCHGW radius 0
        const [p] = await probe.packetsAt(1);
        expect(hex(p!.bytes)).toBe('030100');
        expect(p!.address).toMatch(v6 ? new RegExp(`^\\[[0-9a-f:]+(%\\w+)?\\]:${client.port}$`) : new RegExp(`^[0-9.]+:${client.port}$`));
        expect(t.send(Uint8Array.of(3, 0x02, 0x01), p!.address)).toBe(true); // GWINFO
        const reply = await client.next(DEADLINE);
        expect(hex(reply.bytes)).toBe('030201');
        expect(reply.port).toBe(t.port);
      });

      it('does not hear its own broadcasts', async () => {
        const mcPort = await freeUdpPort(v6, v6 ? '::' : '0.0.0.0');
        const { t, probe } = await started({ type: v6 ? 'udp6' : 'udp4', port: 0, multicast: { group, port: mcPort } });
        const listener = track(await UdpPeer.bind(v6, v6 ? '::' : '0.0.0.0', mcPort, true));
        listener.socket.addMembership(group);
        expect(t.broadcast(Uint8Array.of(5, 0x00, 0x01, 0x03, 0x84), 0)).toBe(true);
        await listener.next(DEADLINE); // the group got it (the transport's socket too)
        // a client's SEARCHGW after it is the first packet the gateway hears
        const client = track(await UdpPeer.bind(v6, v6 ? '::' : '0.0.0.0'));
        await client.send(Uint8Array.of(3, 0x01, 0x00), mcPort, group);
        await probe.packetsAt(1);
        expect(probe.packets.map((p) => hex(p.bytes))).toEqual(['030100']);
      });
    });
  }

  it.skipIf(!mc4)('joins the group on the unicast socket when both ports are the same', async () => {
    const port = await freeUdpPort(false, '0.0.0.0');
    const { t, probe } = await started({ type: 'udp4', port, multicast: { group: GROUP4, port } });
    expect(t.multicastPort).toBe(port);
    const client = track(await UdpPeer.bind(false, '0.0.0.0'));
    await client.send(Uint8Array.of(3, 0x01, 0x00), port, GROUP4);
    const [p] = await probe.packetsAt(1);
    expect(hex(p!.bytes)).toBe('030100');
    expect(probe.errors).toEqual([]);
  });
});

describe.skipIf(!hasV6)('UdpSensorTransport › IPv4-mapped senders (dual stack)', () => {
  it('reports an IPv4 sender as [::ffff:a.b.c.d]:port and answers it at that address', async () => {
    const { t, probe } = await started({ type: 'udp6', port: 0, ipv6Only: false });
    const v4 = track(await UdpPeer.bind(false, '127.0.0.1'));
    await v4.send(Uint8Array.of(2, 0x16), t.port, '127.0.0.1');
    const [p] = await probe.packetsAt(1);
    expect(p!.address).toBe(`[::ffff:127.0.0.1]:${v4.port}`);
    expect(t.send(Uint8Array.of(2, 0x17), p!.address)).toBe(true);
    expect(hex((await v4.next(DEADLINE)).bytes)).toBe('0217');
  });

  it('does not hear IPv4 at all by default (ipv6Only), so udp owns IPv4', async () => {
    const { t, probe } = await started({ type: 'udp6', port: 0 });
    const v4 = dgram.createSocket('udp4');
    const err = await new Promise<Error | null>((resolve) => v4.send(Uint8Array.of(2, 0x16), t.port, '127.0.0.1', resolve));
    v4.close();
    expect(err).toBeNull();
    // then an IPv6 packet: it is the only one delivered
    const v6 = track(await UdpPeer.bind(true, '::1'));
    await v6.send(Uint8Array.of(2, 0x18), t.port, '::1');
    await probe.packetsAt(1);
    expect(probe.packets.map((x) => `${hex(x.bytes)} ${x.address}`)).toEqual([`0218 [::1]:${v6.port}`]);
  });
});

describe('UDP addresses', () => {
  it.each([
    ['192.168.1.20:50123', false, { host: '192.168.1.20', port: 50123 }],
    ['[fe80::1%eth0]:50123', true, { host: 'fe80::1%eth0', port: 50123 }],
    ['[::ffff:127.0.0.1]:1', true, { host: '::ffff:127.0.0.1', port: 1 }],
    ['[::1]:65535', true, { host: '::1', port: 65535 }],
    ['1.2.3.4:0', false, null],
    ['1.2.3.4:65536', false, null],
    ['1.2.3.4', false, null],
    ['[::1]:5000', false, null],
    ['1.2.3.4:5000', true, null],
    ['[1.2.3.4]:5000', true, null],
    ['01.2.3.4:5000', false, null],
  ])('parses %s (v6 %s)', (address, v6, want) => {
    expect(parseUdpAddress(address, v6)).toEqual(want);
  });

  it('formats IPv6 senders in lower case, keeping the zone, and round-trips them', () => {
    expect(formatUdpAddress('FE80::ABCD%Eth0', 50123, true)).toBe('[fe80::abcd%Eth0]:50123');
    expect(formatUdpAddress('10.0.0.7', 1884, false)).toBe('10.0.0.7:1884');
    expect(parseUdpAddress(formatUdpAddress('fd00::2', 7, true), true)).toEqual({ host: 'fd00::2', port: 7 });
  });
});

describe('snFramingError (one MQTT-SN message per datagram)', () => {
  const f = (...b: number[]) => snFramingError(Uint8Array.from(b), 0, b.length);
  it.each([
    ['a 1-octet Length that matches', [2, 0x16], null],
    ['a 3-octet Length that matches', [1, 0, 4, 0x16], null],
    ['a forwarder encapsulation with a whole inner message', [3, 0xfe, 0x01, 2, 0x16], null],
  ])('accepts %s', (_name, bytes, want) => expect(f(...(bytes as number[]))).toBe(want));
  it.each([
    ['an empty datagram', []],
    ['one octet', [2]],
    ['a Length longer than the datagram', [9, 0x0c, 0]],
    ['a Length shorter than the datagram', [2, 0x16, 0]],
    ['a Length of 0', [0, 0x16]],
    ['an encapsulation whose inner message is cut', [3, 0xfe, 0x01, 5, 0x0c]],
  ])('rejects %s', (_name, bytes) => expect(f(...(bytes as number[]))).not.toBeNull());
});
