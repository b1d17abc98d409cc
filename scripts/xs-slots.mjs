// XS slots one lean client holds, measured in the real Moddable XS engine (@agoric/xsnap).
// Forked by scripts/boards.ts: xsnap needs `import '@endo/init'` (SES lockdown), so it runs in
// a process of its own.
//
// Job (one IPC message): { code, make } — `code` defines `globalThis.fq` (the client module as
// an IIFE); `make` is an expression building one client from `T` (an idle transport).
// Reply: { slots } — the live slots (xsnap's currentHeapCount after a full GC) the client adds,
// or { error }.
import '@endo/init';
import { startXsnap } from './xsnap-worker.mjs';

process.once('message', async (job) => {
  let worker = null;
  try {
    worker = await startXsnap('fieldmq-xs-slots', async () => new Uint8Array(0));
    await worker.evaluate(job.code);
    // An idle transport: what the client is built with, nothing more.
    const idle = `globalThis.T = { onReadable: null, onWritable: null, open() { return 0; }, close() {}, state() { return 0; },
      send() { return 0; }, recv() { return 0; }, sendTo() { return 0; }, from() { return 0; } }; gc(); 1`;
    const before = (await worker.evaluate(idle)).meterUsage.currentHeapCount;
    const after = (await worker.evaluate(`globalThis.C = ${job.make}; gc(); 1`)).meterUsage.currentHeapCount;
    process.send({ slots: after - before });
  } catch (e) {
    process.send({ error: String(e && e.message ? e.message : e) });
  } finally {
    if (worker) await worker.close().catch(() => {});
    process.disconnect();
  }
});
