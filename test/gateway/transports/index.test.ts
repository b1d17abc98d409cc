/** createTransports: one SensorTransport per enabled link of a GatewayConfig. */
import { describe, expect, it } from 'vitest';
import { defaultConfig, DEFAULT_UDP6, type GatewayConfig } from '../../../gateway/config/schema';
import {
  SerialSensorTransport,
  UdpSensorTransport,
  XBeeSensorTransport,
  createTransports,
  type SensorTransport,
} from '../../../gateway/transports/index';
import { TransportProbe, hex } from './compliance';
import { UdpPeer, freeUdpPort } from './udp-peers';

function config(patch: Partial<GatewayConfig>): GatewayConfig {
  return { ...defaultConfig(), ...patch };
}

describe('createTransports', () => {
  it('builds the default config as one udp link with MTU 1024, not started', () => {
    const ts = createTransports(defaultConfig());
    expect(ts.map((t) => [t.name, t.mtu])).toEqual([['udp', 1024]]);
    expect(ts[0]).toBeInstanceOf(UdpSensorTransport);
    expect((ts[0] as UdpSensorTransport).port).toBe(0);
  });

  it('builds every enabled link, in the order udp, udp6, serial, xbee', () => {
    const ts = createTransports(
      config({
        udp6: { ...DEFAULT_UDP6 },
        serial: { path: '/dev/ttyS9', baud: 9600 },
        xbee: { path: '/dev/ttyUSB9', baud: 38400, apiMode: 1 },
      }),
      { xbeeMtu: 84 },
    );
    expect(ts.map((t) => t.name)).toEqual(['udp', 'udp6', 'serial', 'xbee']);
    expect(ts[2]).toBeInstanceOf(SerialSensorTransport);
    expect(ts[3]).toBeInstanceOf(XBeeSensorTransport);
    expect(ts[3]!.mtu).toBe(84);
    expect(new Set(ts.map((t) => t.name)).size).toBe(4);
  });

  it('builds nothing when every link is off', () => {
    expect(createTransports(config({ udp: null }))).toEqual([]);
  });

  it('refuses serial and xbee on the same device', () => {
    expect(() =>
      createTransports(config({ serial: { path: '/dev/ttyUSB0', baud: 9600 }, xbee: { path: '/dev/ttyUSB0', baud: 9600, apiMode: 2 } })),
    ).toThrow(/"serial\.path" and "xbee\.path" are both \/dev\/ttyUSB0/);
  });

  it('starts udp and udp6 from one config on the same port and serves both families', async () => {
    const port = await freeUdpPort(false, '0.0.0.0');
    const mc4 = await freeUdpPort(false, '0.0.0.0');
    const mc6 = await freeUdpPort(true, '::');
    const ts = createTransports(
      config({
        udp: { port, multicastIp: '239.255.42.98', multicastPort: mc4, multicastTtl: 1 },
        udp6: { ...DEFAULT_UDP6, port, multicastPort: mc6 },
      }),
    );
    const probes = ts.map((t) => new TransportProbe(t));
    const peers: UdpPeer[] = [];
    try {
      for (const t of ts) await t.start();
      expect(ts.map((t) => (t as UdpSensorTransport).port)).toEqual([port, port]);
      const p4 = await UdpPeer.bind(false, '127.0.0.1');
      const p6 = await UdpPeer.bind(true, '::1');
      peers.push(p4, p6);
      await p4.send(Uint8Array.of(2, 0x16), port, '127.0.0.1');
      await p6.send(Uint8Array.of(2, 0x16), port, '::1');
      const [a] = await probes[0]!.packetsAt(1);
      const [b] = await probes[1]!.packetsAt(1);
      expect([a!.address, b!.address]).toEqual([p4.address, p6.address]);
      expect(ts[0]!.send(Uint8Array.of(2, 0x17), a!.address)).toBe(true);
      expect(ts[1]!.send(Uint8Array.of(2, 0x17), b!.address)).toBe(true);
      expect(hex((await p4.next(5000)).bytes)).toBe('0217');
      expect(hex((await p6.next(5000)).bytes)).toBe('0217');
    } finally {
      for (const p of peers) await p.close();
      for (const t of ts as SensorTransport[]) await t.stop();
    }
  });
});
