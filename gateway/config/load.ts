/**
 * The thin I/O layer: read a config file (JSON or Paho gateway.conf), read the files it refers
 * to, resolve relative paths against the config file's directory, and hand text to the pure
 * parsers in `schema.ts` / `paho.ts`.
 *
 * Relative paths (ClientsList, PredefinedTopicList, TLS files, JSON `broker.tls.*`) are resolved
 * relative to the directory of the file that names them. Paho resolves its own defaults
 * (`clients.conf`, `predefinedTopic.conf`) against the config directory but explicit relative
 * paths against the process's working directory; fieldmq uses the config directory for both, so a
 * gateway started from systemd finds the same files as one started from a shell.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { ConfigError, makeWarning, type ConfigWarning } from './errors';
import {
  parseClientsConf,
  parsePahoGatewayConf,
  parsePredefinedTopics,
  pahoReferencedFiles,
  pahoToConfig,
  type PahoFileRef,
  type PahoSensorNetwork,
} from './paho';
import { validateConfig, type GatewayConfig, type TlsConfig } from './schema';
import { jsonKeyLine } from './json-lines';

export interface LoadOptions {
  /** For Paho files: which sensor networks to enable (default `['udp']`). */
  sensorNetworks?: readonly PahoSensorNetwork[];
}

export interface LoadedConfig {
  config: GatewayConfig;
  warnings: ConfigWarning[];
}

/**
 * Load a gateway configuration. A file ending in `.json`, or whose text parses as JSON, is a
 * fieldmq JSON config; anything else is read as a Paho gateway.conf.
 * @throws ConfigError (also for unreadable files and JSON syntax errors)
 */
export function loadConfig(path: string, options: LoadOptions = {}): LoadedConfig {
  const text = readText(path, path, 0, '');
  const isJsonName = path.toLowerCase().endsWith('.json');
  let json: unknown;
  let parsed = false;
  try {
    json = JSON.parse(text);
    parsed = true;
  } catch (e) {
    if (isJsonName) throw new ConfigError(path, jsonErrorLine(text, e), '', `invalid JSON: ${(e as Error).message}`);
  }
  if (parsed) {
    const config = withJsonLine(text, () => validateConfig(json, path));
    if (config.broker?.tls) config.broker.tls = resolveTls(config.broker.tls, path);
    return { config, warnings: [] };
  }
  return loadPaho(path, text, options);
}

/** Runs `f`; a {@link ConfigError} it throws without a line gets the line of its key in `text`. */
function withJsonLine<T>(text: string, f: () => T): T {
  try {
    return f();
  } catch (e) {
    if (!(e instanceof ConfigError) || e.line !== 0 || e.key === '') throw e;
    const line = jsonKeyLine(text, e.key);
    if (line === 0) throw e;
    throw new ConfigError(e.file, line, e.key, e.detail);
  }
}

function loadPaho(path: string, text: string, options: LoadOptions): LoadedConfig {
  const conf = parsePahoGatewayConf(text, path);
  const refs = pahoReferencedFiles(conf);
  const extra: ConfigWarning[] = [];
  const readRef = (ref: PahoFileRef | null, key: string): { file: string; text: string } | null => {
    if (!ref) return null;
    const file = resolveFrom(path, ref.path);
    if (!ref.required && !existsSync(file)) {
      extra.push(makeWarning(path, ref.line, key, `${file} not found; no client list loaded`));
      return null;
    }
    return { file, text: readText(file, path, ref.line, key) };
  };
  const topics = readRef(refs.predefinedTopicList, 'PredefinedTopicList');
  const clients = readRef(refs.clientsList, 'ClientsList');
  const { config, warnings } = pahoToConfig(conf, {
    predefinedTopics: topics ? parsePredefinedTopics(topics.text, topics.file) : [],
    clients: clients ? parseClientsConf(clients.text, clients.file) : [],
    ...(options.sensorNetworks ? { sensorNetworks: options.sensorNetworks } : {}),
  });
  if (config.broker?.tls) config.broker.tls = resolveTls(config.broker.tls, path);
  return { config, warnings: [...warnings, ...extra] };
}

/** `p` relative to the directory of `configFile` (absolute paths unchanged). */
export function resolveFrom(configFile: string, p: string): string {
  return isAbsolute(p) ? p : resolve(dirname(configFile), p);
}

function resolveTls(tls: TlsConfig, configFile: string): TlsConfig {
  const r = (p: string | null): string | null => (p === null ? null : resolveFrom(configFile, p));
  return { ca: r(tls.ca), caPath: r(tls.caPath), cert: r(tls.cert), key: r(tls.key) };
}

/** Read a file; failures become a ConfigError pointing at the line that named it. */
function readText(file: string, referrer: string, line: number, key: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'file not found' : code === 'EACCES' ? 'permission denied' : (e as Error).message;
    throw new ConfigError(referrer, line, key, `cannot read ${file}: ${why}`);
  }
}

/** Best-effort line of a JSON.parse error (Node reports "at position N" or "line L"). */
function jsonErrorLine(text: string, e: unknown): number {
  const msg = (e as Error).message;
  const byLine = /line (\d+)/.exec(msg);
  if (byLine) return Number(byLine[1]);
  const byPos = /position (\d+)/.exec(msg);
  if (byPos) return text.slice(0, Number(byPos[1])).split('\n').length;
  return 0;
}
