import { describe, expect, it } from 'vitest';
import { fuzz } from '../fuzz/engine';
import { mqttTargets } from '../fuzz/mqtt-targets';

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
