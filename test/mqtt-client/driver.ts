/**
 * Drives an MqttClient the way an application does: `poll(now)` with a real
 * monotonic clock on every turn of the event loop, while a test waits for a
 * condition. Waiting is on conditions with a deadline, never on sleeps.
 */
import { performance } from 'node:perf_hooks';

export function nowMs(): number {
  return Math.floor(performance.now()) >>> 0;
}

/** Polls every client in `clients` until `check()` returns true, or fails after `timeoutMs`. */
export function until(clients: { poll(now: number): void }[], check: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  return new Promise((resolve, reject) => {
    const tick = (): void => {
      try {
        for (const c of clients) c.poll(nowMs());
        if (check()) return resolve();
      } catch (e) {
        return reject(e);
      }
      if (performance.now() > deadline) return reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`));
      setImmediate(tick);
    };
    tick();
  });
}
