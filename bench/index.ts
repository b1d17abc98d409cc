/**
 * `npm run bench`: every fieldmq benchmark, each beside a peer measured in
 * the same run. `npm run bench -- --quick` runs shorter rounds; `--codec`, `--client` or
 * `--gateway` runs one of them.
 */
import { runCodecBench } from './codec';
import { runClientBench } from './client';
import { runGatewayBench } from './gateway';

const quick = process.argv.includes('--quick');
console.log(`fieldmq benchmarks on Node ${process.version}, ${process.arch}${quick ? ' (quick)' : ''}`);
// --codec, --client, --gateway pick one; with none, all three run (the gateway one takes ~3 min, ~70 s with --quick).
const only = ['codec', 'client', 'gateway'].find((k) => process.argv.includes(`--${k}`)) ?? '';
let ok = true;
if (only === '' || only === 'codec') ok = (await runCodecBench(quick)) && ok;
if (only === '' || only === 'client') ok = (await runClientBench(quick)) && ok;
if (only === '' || only === 'gateway') ok = (await runGatewayBench(quick)) && ok;
console.log(ok ? '\nAll benchmark targets met.' : '\nSome benchmark targets were missed (see above).');
