/**
 * Configuration errors for the fieldmq gateway.
 *
 * Every problem found in a configuration file is reported as a {@link ConfigError} whose message
 * starts with `file:line:` (or `file:` when the problem is not tied to one line) and names the key,
 * e.g. `gateway.conf:12: BrokerPortNo: expected a port number 1..65535, got "abc"`.
 */

/** A problem in a configuration file. `name` is always `'ConfigError'`. */
export class ConfigError extends Error {
  /** The file as the caller named it (a path, or a bare name in tests). */
  readonly file: string;
  /** 1-based line number (JSON: the line of the key, `json-lines.ts`), or 0 when the problem is not tied to one line (a missing key of the whole file). */
  readonly line: number;
  /** The key (Paho key, clients.conf/predefinedTopic.conf column, or JSON dotted path). */
  readonly key: string;
  /** The problem without the `file:line: key:` prefix. */
  readonly detail: string;

  constructor(file: string, line: number, key: string, detail: string) {
    super(formatLocation(file, line, key) + detail);
    this.name = 'ConfigError';
    this.file = file;
    this.line = line;
    this.key = key;
    this.detail = detail;
  }
}

/** A non-fatal remark about a configuration (an ignored or unsupported key, a quirk kept for Paho). */
export interface ConfigWarning {
  file: string;
  line: number;
  key: string;
  message: string;
}

export function makeWarning(file: string, line: number, key: string, detail: string): ConfigWarning {
  return { file, line, key, message: formatLocation(file, line, key) + detail };
}

function formatLocation(file: string, line: number, key: string): string {
  const where = line > 0 ? `${file}:${line}: ` : `${file}: `;
  return key ? `${where}${key}: ` : where;
}

/** Quote a value for an error message: `"abc"`. */
export function quote(value: unknown): string {
  return typeof value === 'string' ? JSON.stringify(value) : JSON.stringify(value) ?? String(value);
}

/** Levenshtein distance, case-insensitive (so `gatewayid` is a near miss of `GatewayID`). */
function distance(a: string, b: string): number {
  const x = a.toLowerCase();
  const y = b.toLowerCase();
  let prev = new Array<number>(y.length + 1);
  let cur = new Array<number>(y.length + 1);
  for (let j = 0; j <= y.length; j++) prev[j] = j;
  for (let i = 1; i <= x.length; i++) {
    cur[0] = i;
    for (let j = 1; j <= y.length; j++) {
      const cost = x.charCodeAt(i - 1) === y.charCodeAt(j - 1) ? 0 : 1;
      cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + cost);
    }
    const t = prev;
    prev = cur;
    cur = t;
  }
  return prev[y.length]!;
}

/** The closest known name to `name`, if it is close enough to be a likely typo. */
export function suggest(name: string, known: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestD = Infinity;
  for (const k of known) {
    const d = distance(name, k);
    if (d < bestD) {
      bestD = d;
      best = k;
    }
  }
  const limit = Math.max(2, Math.floor(name.length / 3));
  return bestD <= limit ? best : undefined;
}

/** `unknown key` detail with a "did you mean" suggestion when one is close. */
export function unknownKeyDetail(name: string, known: readonly string[], what = 'unknown key'): string {
  const s = suggest(name, known);
  return s ? `${what} (did you mean "${s}"?)` : what;
}
