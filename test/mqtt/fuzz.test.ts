import { describe, expect, it } from 'vitest';
import { fuzz } from '../fuzz/engine';
import { mqttTargets } from '../fuzz/mqtt-targets';
import { mqttClientTargets } from '../fuzz/client-targets';

describe('MQTT decoders › 200,000 random and mutated inputs each', () => {
  for (const target of mqttTargets()) {
    it(`${target.name} › never throws, statuses only, views inside the input`, () => {
      const report = fuzz(target, 200_000, 0x5eed + target.name.length * 7919);
      expect(report.failures).toEqual([]);
      expect(report.accepted + report.rejected).toBe(200_000);
      // Mutated seeds must reach the accepting paths too, or the run proves little.
      if (target.seeds.length > 0) expect(report.accepted).toBeGreaterThan(0);
    });
  }
});

describe('MQTT clients › 200,000 random and mutated inputs each from their server', () => {
  for (const target of mqttClientTargets()) {
    it(`${target.name} › never throws, stays within its bounds, and connects again afterwards`, () => {
      const report = fuzz(target, 200_000, 0xc11e + target.name.length * 7919);
      expect(report.failures).toEqual([]);
      // Every input is accepted: the check (back to Connected) holds for each.
      expect(report.accepted).toBe(200_000);
    });
  }
});
