import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { expect } from 'vitest';
import { ConfigError } from '../../../gateway/config/errors';

/** Absolute path of a file in test/fixtures/paho/. */
export function fixturePath(name: string): string {
  return fileURLToPath(new URL(`../../fixtures/paho/${name}`, import.meta.url));
}

export function fixture(name: string): string {
  return readFileSync(fixturePath(name), 'utf8');
}

/** Run `fn`, expect a ConfigError, return it. */
export function configError(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    expect((e as Error).name).toBe('ConfigError');
    return e as ConfigError;
  }
  throw new Error('expected a ConfigError, nothing was thrown');
}
