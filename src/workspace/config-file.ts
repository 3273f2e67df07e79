import fs from 'node:fs';
import { CONFIG_KEYS, parseConfig, serializeConfig, type Config } from '../formats/config.js';
import { E, MlxError } from '../util/errors.js';
import { readFileIfExists, writeFileAtomicSync } from '../util/fs.js';
import type { Layout } from './layout.js';

/** The committed config with the git-ignored local config laid over it. */
export function loadConfig(layout: Layout): Config {
  const shared = parseConfig(readFileIfExists(layout.configFile) ?? '', layout.configFile);
  const local = parseConfig(readFileIfExists(layout.localConfigFile) ?? '', layout.localConfigFile);
  return mergeConfig(shared, local);
}

function mergeConfig(a: Config, b: Config): Config {
  return {
    ...a,
    ...b,
    cache: { ...a.cache, ...b.cache },
    core: { ...a.core, ...b.core },
  };
}

/** Flattens a config into `key → value` rows for `mlx config --list`. */
export function flattenConfig(config: Config): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const walk = (obj: Record<string, unknown>, prefix: string) => {
    for (const [k, v] of Object.entries(obj)) {
      if (v === undefined) continue;
      if (v && typeof v === 'object' && !Array.isArray(v)) walk(v as Record<string, unknown>, `${prefix}${k}.`);
      else out[`${prefix}${k}`] = v;
    }
  };
  walk(config as Record<string, unknown>, '');
  return out;
}

export function getConfigValue(layout: Layout, key: string): unknown {
  assertKnownKey(key);
  return flattenConfig(loadConfig(layout))[key];
}

/** Sets (or with `value === undefined` removes) one key in the shared or local config file. */
export function setConfigValue(layout: Layout, key: string, value: string | undefined, local: boolean): void {
  assertKnownKey(key);
  const file = local ? layout.localConfigFile : layout.configFile;
  const config = parseConfig(readFileIfExists(file) ?? '', file) as Record<string, Record<string, unknown> | undefined>;
  const [section, name] = key.split('.') as [string, string];
  const table = { ...(config[section] ?? {}) };
  if (value === undefined) delete table[name];
  else table[name] = CONFIG_KEYS[key]!(value);
  config[section] = Object.keys(table).length ? table : undefined;
  const next = parseConfig(serializeConfig(config as Config), file); // validate before writing
  fs.mkdirSync(layout.mlxDir, { recursive: true });
  writeFileAtomicSync(file, serializeConfig(next));
}

function assertKnownKey(key: string): void {
  if (!(key in CONFIG_KEYS)) {
    throw new MlxError(E.BAD_CONFIG, `unknown config key ${JSON.stringify(key)}`, { hint: `known keys: ${Object.keys(CONFIG_KEYS).join(', ')}` });
  }
}
