import { describe, expect, it } from 'vitest';
import { fuzz } from '../fuzz/engine';
import { mqttsnTargets } from '../fuzz/mqttsn-targets';
import { mqttsnClientTargets } from '../fuzz/client-targets';

describe('fuzz', () => {
  it('has a seeded target for every message type and the forwarder', () => {
    expect(mqttsnTargets.length).toBe(28);
    for (const t of mqttsnTargets) expect(t.seeds.length, t.name).toBeGreaterThan(0);
  });

  mqttsnTargets.forEach((target, i) => {
    it(`${target.name} › never throws, and accepted input stays inside the datagram and re-encodes`, () => {
      const report = fuzz(target, 200_000, 0x5eed0000 + i);
      expect(report.failures).toEqual([]);
      expect(report.accepted + report.rejected).toBe(200_000);
      expect(report.accepted).toBeGreaterThan(0);
    });
  });
});

describe('MQTT-SN clients › 200,000 random and mutated datagrams each from their gateway', () => {
  for (const target of mqttsnClientTargets()) {
    it(`${target.name} › never throws, and is Active again afterwards`, () => {
      const report = fuzz(target, 200_000, 0x5c11e + target.name.length * 7919);
      expect(report.failures).toEqual([]);
      expect(report.accepted).toBe(200_000);
    });
  }
});
