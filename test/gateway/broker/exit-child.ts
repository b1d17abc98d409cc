/**
 * Child process of start-stop.test.ts ("nothing keeps the event loop alive"): uses a broker
 * link, stops it, prints the resources still active and returns without `process.exit`. The
 * parent checks that the process exits by itself, promptly.
 *
 * argv: <mode> <scenario> <port>
 * - `use`: start, connect a client with a Will, subscribe, publish QoS 1 (await done), stop.
 * - `stop-pending`: start against a closed port, stop while start is pending.
 * - `start-timeout`: start against a broker that never answers (the parent's silent server) with
 *   a short timeout; no stop at all (a failed start must not leave a connection retrying).
 * - `start-refused`: start against a closed port (rejected at the first refused attempt, long
 *   before the 30 s timeout); no stop at all.
 */
import { brokerAt, createBrokerLink } from '../../../gateway/broker/index';
import { defaultConfig } from '../../../gateway/config/schema';

const [mode, scenario, port] = process.argv.slice(2);

/** Active resources that would keep the loop alive (ref'd timers, sockets, pending connects). */
function active(): string[] {
  return process.getActiveResourcesInfo().filter((r) => /Timeout|Immediate|TCP|TLS|GetAddrInfo|Connect/.test(r));
}

async function main(): Promise<void> {
  const config = defaultConfig();
  config.mode = mode as 'transparent' | 'aggregating';
  config.gatewayName = `exit-child-${process.pid}`;
  const short = scenario === 'start-timeout';
  const link = createBrokerLink(config, { broker: brokerAt('127.0.0.1', Number(port)), connectTimeout: short ? 700 : 30_000 });
  link.handlers = { onMessage: () => {} };
  if (scenario === 'use') {
    await link.start();
    const rc = await new Promise<number>((resolve) =>
      link.connect({ clientId: `exit-child-sensor-${process.pid}`, cleanSession: true, will: { topic: 'exit/will', payload: new Uint8Array([1]), qos: 1, retain: false } }, resolve),
    );
    if (rc !== 0) throw new Error(`connect answered ${rc}`);
    const granted = await new Promise<number>((resolve) => link.subscribe(`exit-child-sensor-${process.pid}`, 'exit/#', 1, resolve));
    if (granted !== 1) throw new Error(`subscribe answered ${granted}`);
    const sender = mode === 'transparent' ? `exit-child-sensor-${process.pid}` : null;
    const code = await new Promise<number>((resolve) => {
      const r = link.publish(sender, 'exit/data', new Uint8Array([2]), 1, false, resolve);
      if (r !== 0) throw new Error(`publish returned ${r}`);
    });
    if (code !== 0) throw new Error(`publish done(${code})`);
    await link.stop();
  } else if (scenario === 'stop-pending') {
    const started = link.start().catch((e: Error) => console.log(`start rejected: ${e.message}`));
    await link.stop();
    await started;
  } else {
    await link.start().catch((e: Error) => console.log(`start rejected: ${e.message}`));
  }
  console.log('stopped');
  // A handle being closed goes in the close phase of the loop turn after: allow a few turns.
  for (let turn = 0; turn < 10 && active().length > 0; turn++) await new Promise((r) => setImmediate(r));
  console.log(`active after stop: ${JSON.stringify(active())}`);
}

main().catch((e) => {
  console.error(e);
  process.exitCode = 1;
});
