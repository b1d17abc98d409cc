/**
 * `npm run bench`: every fieldmq benchmark, each beside a peer measured in
 * the same run. `npm run bench -- --quick` runs shorter rounds.
 */
import { runCodecBench } from './codec';
import { runClientBench } from './client';

const quick = process.argv.includes('--quick');
console.log(`fieldmq benchmarks on Node ${process.version}, ${process.arch}${quick ? ' (quick)' : ''}`);
const only = process.argv.includes('--client') ? 'client' : process.argv.includes('--codec') ? 'codec' : '';
let ok = true;
if (only !== 'client') ok = (await runCodecBench(quick)) && ok;
if (only !== 'codec') ok = (await runClientBench(quick)) && ok;
console.log(ok ? '\nAll benchmark targets met.' : '\nSome benchmark targets were missed (see above).');
