/**
 * `npm run bench`: every fieldmq benchmark, each beside a peer measured in
 * the same run. `npm run bench -- --quick` runs shorter rounds.
 */
import { runCodecBench } from './codec';

const quick = process.argv.includes('--quick');
console.log(`fieldmq benchmarks on Node ${process.version}, ${process.arch}${quick ? ' (quick)' : ''}`);
const ok = await runCodecBench(quick);
console.log(ok ? '\nAll benchmark targets met.' : '\nSome benchmark targets were missed (see above).');
