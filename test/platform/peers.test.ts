/** PeerTable (src/platform/peers.ts): handles for datagram peers in a fixed table. */
import { describe, expect, it } from 'vitest';
import { Status } from '../../src/core/status';
import { PeerTable } from '../../src/platform/peers';

describe('PeerTable', () => {
  it('add › same address and port › same handle; different port › new handle', () => {
    const t = new PeerTable(4);
    const a = t.add('10.0.0.1', 1883);
    expect(t.add('10.0.0.1', 1883)).toBe(a);
    const b = t.add('10.0.0.1', 1884);
    expect(b).not.toBe(a);
    expect([t.address(b), t.port(b)]).toEqual(['10.0.0.1', 1884]);
    expect(t.find('10.0.0.2', 1883)).toBe(Status.NotFound);
  });

  it('add › table full › evicts the least recently used unpinned peer, never a pinned one', () => {
    const t = new PeerTable(3);
    expect(t.set(0, 'gw', 1)).toBe(Status.Ok);
    const x = t.add('x', 1);
    const y = t.add('y', 1);
    t.add('x', 1); // x used again: y is now the oldest unpinned
    const z = t.add('z', 1);
    expect(z).toBe(y);
    expect(t.find('y', 1)).toBe(Status.NotFound);
    expect(t.find('x', 1)).toBe(x);
    expect(t.address(0)).toBe('gw');
  });

  it('add › every slot pinned › Full', () => {
    const t = new PeerTable(1);
    t.set(0, 'gw', 1);
    expect(t.add('other', 2)).toBe(Status.Full);
  });

  it('set › moves an existing entry into the pinned slot; bad handle or port › BadParameter', () => {
    const t = new PeerTable(4);
    const h = t.add('a', 5);
    expect(t.set(2, 'a', 5)).toBe(Status.Ok);
    expect(t.find('a', 5)).toBe(2);
    if (h !== 2) expect(t.has(h)).toBe(false);
    expect(t.set(4, 'b', 1)).toBe(Status.BadParameter);
    expect(t.set(0, 'b', 70000)).toBe(Status.BadParameter);
  });

  it('remove › frees the slot; address and port of a free slot are empty / NotFound', () => {
    const t = new PeerTable(2);
    const h = t.add('a', 1);
    t.remove(h);
    expect(t.has(h)).toBe(false);
    expect(t.address(h)).toBe('');
    expect(t.port(h)).toBe(Status.NotFound);
  });

  it('constructor › capacity outside 1..0xfffe › throws', () => {
    expect(() => new PeerTable(0)).toThrow(RangeError);
    expect(() => new PeerTable(0xffff)).toThrow(RangeError);
  });
  it('octets / addOctets › GwAdd (§5.4.3) as IPv4 address and port, big-endian, round trip to the same handle', () => {
    const t = new PeerTable(4);
    t.set(0, '192.168.1.10', 1884);
    const b = new Uint8Array(8);
    expect(t.octets(0, b, 1, 7)).toBe(6);
    expect([...b]).toEqual([0, 192, 168, 1, 10, 0x07, 0x5c, 0]);
    expect(t.addOctets(b, 1, 6)).toBe(0);
    const h = t.addOctets(Uint8Array.of(10, 0, 0, 7, 0x04, 0xd2), 0, 6);
    expect([h, t.address(h), t.port(h)]).toEqual([1, '10.0.0.7', 1234]);
  });

  it('octets › free slot NotFound, no room NoMemory, not an IPv4 address Unsupported', () => {
    const t = new PeerTable(4);
    const b = new Uint8Array(6);
    expect(t.octets(1, b, 0, 6)).toBe(Status.NotFound);
    t.set(1, '10.0.0.1', 1);
    expect(t.octets(1, b, 0, 5)).toBe(Status.NoMemory);
    expect(t.octets(1, b, 1, 6)).toBe(Status.NoMemory);
    for (const a of ['::1', 'fe80::1', 'gateway.local', '10.0.0', '10.0.0.256', '10.0.0.1.2', '1e1.0.0.1', '10..0.1', '10.0.0.-1', '010.0.0.1']) {
      t.set(2, a, 1884);
      expect(t.octets(2, b, 0, 6), a).toBe(Status.Unsupported);
    }
  });

  it('addOctets › not 6 octets, past the buffer, or port 0 › BadParameter; table full of pinned peers › Full', () => {
    const t = new PeerTable(1);
    expect(t.addOctets(new Uint8Array(5), 0, 5)).toBe(Status.BadParameter);
    expect(t.addOctets(new Uint8Array(18), 0, 18)).toBe(Status.BadParameter);
    expect(t.addOctets(new Uint8Array(6), 1, 6)).toBe(Status.BadParameter);
    expect(t.addOctets(Uint8Array.of(127, 0, 0, 1, 0, 0), 0, 6)).toBe(Status.BadParameter);
    t.set(0, '127.0.0.1', 1);
    expect(t.addOctets(Uint8Array.of(127, 0, 0, 1, 0, 2), 0, 6)).toBe(Status.Full);
  });
});
