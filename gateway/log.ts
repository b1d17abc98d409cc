/**
 * Structured logging for the gateway: five levels, one line per event, as text for people or
 * JSON for log shippers. A disabled level costs one comparison: guard expensive fields with
 * {@link Logger.enabled}.
 *
 * @example
 * ```ts
 * const log = createLogger({ level: 'debug' });
 * log.info('client connected', { clientId: 'node1', peer: '10.0.0.7:50123' });
 * // 2026-11-22T10:00:00.000Z INFO  client connected clientId=node1 peer=10.0.0.7:50123
 * if (log.enabled('trace')) log.trace('datagram', { hex: toHex(bytes) });
 * ```
 */
import type { LogLevel } from './config/schema';

export type { LogLevel };

/** Extra key/value pairs of one log event. */
export type LogFields = Record<string, string | number | boolean | null | undefined>;

/** A levelled, structured logger. */
export interface Logger {
  /** The most verbose level written. */
  level: LogLevel;
  /** True when events of `level` are written. */
  enabled(level: LogLevel): boolean;
  error(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  info(message: string, fields?: LogFields): void;
  debug(message: string, fields?: LogFields): void;
  trace(message: string, fields?: LogFields): void;
}

/** Options of {@link createLogger}. */
export interface LoggerOptions {
  /** Most verbose level written. Default `info`. */
  level?: LogLevel;
  /** `text` (default): `time LEVEL message k=v ...`; `json`: one JSON object per line. */
  format?: 'text' | 'json';
  /** Where lines go. Default: stderr. */
  write?: (line: string) => void;
  /** Time source for the timestamp. Default `Date.now`. */
  now?: () => number;
}

const RANK: Record<LogLevel, number> = { error: 0, warn: 1, info: 2, debug: 3, trace: 4 };

function textValue(v: unknown): string {
  const s = String(v);
  return /[\s"=]/.test(s) || s === '' ? JSON.stringify(s) : s;
}

/** A {@link Logger} writing lines (see {@link LoggerOptions}). */
export function createLogger(options: LoggerOptions = {}): Logger {
  const format = options.format ?? 'text';
  const write = options.write ?? ((line: string) => process.stderr.write(line + '\n'));
  const now = options.now ?? Date.now;
  const log = (level: LogLevel, message: string, fields?: LogFields): void => {
    if (RANK[level] > RANK[logger.level]) return;
    const time = new Date(now()).toISOString();
    if (format === 'json') {
      write(JSON.stringify({ time, level, msg: message, ...fields }));
      return;
    }
    let line = `${time} ${level.toUpperCase().padEnd(5)} ${message}`;
    if (fields) {
      for (const k of Object.keys(fields)) {
        const v = fields[k];
        if (v !== undefined) line += ` ${k}=${textValue(v)}`;
      }
    }
    write(line);
  };
  const logger: Logger = {
    level: options.level ?? 'info',
    enabled: (level) => RANK[level] <= RANK[logger.level],
    error: (m, f) => log('error', m, f),
    warn: (m, f) => log('warn', m, f),
    info: (m, f) => log('info', m, f),
    debug: (m, f) => log('debug', m, f),
    trace: (m, f) => log('trace', m, f),
  };
  return logger;
}

/** A logger that writes nothing (tests, benchmarks). */
export function silentLogger(): Logger {
  return createLogger({ level: 'error', write: () => {} });
}
