/**
 * `npm run fuzz`: the long fuzz run, millions of random and mutated inputs
 * per decoder (the quick 200k-per-decoder run is part of `npm test`).
 *
 *   npm run fuzz                      # 2,000,000 inputs per target
 *   npm run fuzz -- --inputs 10000000 # more
 *   npm run fuzz -- --seed 7 --only mqttsn
 *
 * Exits 1 when any target reports a failure (a throw, a non-number result, or
 * a broken invariant), printing the offending inputs in hex.
 */
import { fuzz } from '../test/fuzz/engine';
import { mqttTargets } from '../test/fuzz/mqtt-targets';
import { mqttsnTargets } from '../test/fuzz/mqttsn-targets';
import { mqttClientTargets, mqttsnClientTargets } from '../test/fuzz/client-targets';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(name);
  return i >= 0 && i + 1 < process.argv.length ? process.argv[i + 1] : fallback;
}

const inputs = Number(arg('--inputs', '2000000'));
const seed = Number(arg('--seed', String(Date.now() & 0x7fffffff)));
const only = arg('--only', '');
if (!(inputs > 0) || !Number.isFinite(seed)) {
  console.error('usage: npm run fuzz -- [--inputs N] [--seed S] [--only PREFIX]');
  process.exit(2);
}

const targets = [...mqttTargets(), ...mqttClientTargets(), ...mqttsnTargets, ...mqttsnClientTargets()].filter((t) => t.name.startsWith(only));
console.log(`fuzzing ${targets.length} decoders, ${inputs.toLocaleString('en-US')} inputs each, seed ${seed}`);
let failed = 0;
let total = 0;
const t0 = Date.now();
for (const target of targets) {
  const t = Date.now();
  const r = fuzz(target, inputs, seed ^ (target.name.length * 2654435761));
  total += r.inputs;
  const secs = ((Date.now() - t) / 1000).toFixed(1);
  console.log(
    `${r.failures.length ? 'FAIL' : 'ok  '} ${r.name.padEnd(28)} accepted ${String(r.accepted).padStart(9)}  rejected ${String(r.rejected).padStart(9)}  ${secs}s`,
  );
  for (const f of r.failures) console.log('     ' + f);
  if (r.failures.length) failed++;
}
console.log(`\n${total.toLocaleString('en-US')} inputs in ${((Date.now() - t0) / 1000).toFixed(0)}s; ${failed} of ${targets.length} decoders failed (seed ${seed})`);
process.exit(failed ? 1 : 0);
