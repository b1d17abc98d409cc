/**
 * Signal handling of the CLI (`stopOnSignals`): graceful stop on the first SIGINT / SIGTERM, a
 * forced exit on the second, a deadline on a stop that hangs. Signals are delivered through the
 * injected `io`, so the test process keeps its own handlers.
 */
import { describe, expect, it } from 'vitest';
import { EXIT, stopOnSignals } from '../../../gateway/cli';
import { createLogger } from '../../../gateway/log';

function harness() {
  const handlers = new Map<string, () => void>();
  const exits: number[] = [];
  const lines: string[] = [];
  const io = {
    onSignal: (signal: NodeJS.Signals, h: () => void) => {
      handlers.set(signal, h);
      return () => handlers.delete(signal);
    },
    exit: ((code: number) => {
      exits.push(code);
    }) as (code: number) => never,
  };
  const log = createLogger({ level: 'debug', write: (l) => lines.push(l) });
  const send = (signal: string): void => handlers.get(signal)!();
  return { handlers, exits, lines, io, log, send };
}

describe('stopOnSignals', () => {
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    it(`${signal} stops gracefully, removes its handlers and resolves 0`, async () => {
      const h = harness();
      let stops = 0;
      const done = stopOnSignals({ stop: async () => void stops++ }, h.log, h.io);
      expect([...h.handlers.keys()]).toEqual(['SIGINT', 'SIGTERM']);
      h.send(signal);
      expect(await done).toBe(EXIT.ok);
      expect(stops).toBe(1);
      expect(h.handlers.size).toBe(0);
      expect(h.lines.join('\n')).toContain(`${signal}: stopping (send it again to force)`);
    });
  }

  it('a second signal during the stop forces the exit with 128 + its number', () => {
    const h = harness();
    void stopOnSignals({ stop: () => new Promise<void>(() => {}) }, h.log, h.io, 60_000);
    h.send('SIGINT');
    h.send('SIGINT');
    expect(h.exits).toEqual([130]);
    h.send('SIGTERM');
    expect(h.exits).toEqual([130, 143]);
    expect(h.lines.join('\n')).toContain('exiting without finishing the graceful stop');
  });

  it('a stop that outlasts the deadline resolves with the failure code', async () => {
    const h = harness();
    const done = stopOnSignals({ stop: () => new Promise<void>(() => {}) }, h.log, h.io, 20);
    h.send('SIGTERM');
    expect(await done).toBe(EXIT.failure);
    expect(h.lines.join('\n')).toContain('graceful stop took longer than 0.02 s');
  });
});
