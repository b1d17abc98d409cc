/** The fieldmq version, from the package.json at the repository (package) root. */
import { readFileSync } from 'node:fs';

let cached: string | null = null;

/** `version` of fieldmq's package.json, or `unknown` when it cannot be read. */
export function fieldmqVersion(): string {
  if (cached === null) {
    try {
      const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version?: unknown };
      cached = typeof pkg.version === 'string' ? pkg.version : 'unknown';
    } catch {
      cached = 'unknown';
    }
  }
  return cached;
}
