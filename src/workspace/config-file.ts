import fs from 'node:fs';
import path from 'node:path';
import { CONFIG_KEYS, isSecretOption, parseConfig, shownOptionValue, urlHasCredentials, serializeConfig, type Config, type RemoteConfig } from '../formats/config.js';
import { badConfig } from '../util/errors.js';
import { readFileIfExists, writeFileAtomicSync } from '../util/fs.js';
import type { Layout } from './layout.js';

/** The config mlx acts on: every remote has its url. */
export type MergedConfig = Omit<Config, 'remotes'> & { remotes?: Record<string, RemoteConfig & { url: string }> };

/**
 * The user-wide config, with the committed config laid over it and the git-ignored local config over
 * both: the repository wins, key by key.
 */
export function loadConfig(layout: Layout): MergedConfig {
  const global = readGlobalConfig(layout);
  const shared = parseConfig(readFileIfExists(layout.configFile) ?? '', layout.configFile);
  assertNoSecrets(shared, layout.configFile);
  const local = parseConfig(readFileIfExists(layout.localConfigFile) ?? '', layout.localConfigFile);
  const merged = mergeConfig(mergeConfig(global, shared), local);
  for (const [name, remote] of Object.entries(merged.remotes ?? {})) {
    if (remote.url === undefined) {
      throw badConfig(`remote ${name} has no url (${layout.localConfigFile} sets options of a remote that ${layout.configFile} does not define)`, {
        hint: `mlx remote add ${name} <url>, or remove it from ${layout.localConfigFile}`,
      });
    }
  }
  return merged as MergedConfig;
}

/** Credentials in a committed file would end up in git history: refuse them there. */
export function assertNoSecrets(config: Config, file: string): void {
  for (const [name, remote] of Object.entries(config.remotes ?? {})) {
    const secret = Object.keys(remote).find(isSecretOption);
    if (secret) {
      throw badConfig(`${file} holds the credential ${secret} of remote ${name}; credentials must never be committed`, {
        hint: 'move it to .mlx/config.local.yaml (mlx remote modify --local) or use AWS_* environment variables or a profile',
      });
    }
    const inUrl = Object.entries(remote).find(([, v]) => typeof v === 'string' && urlHasCredentials(v))?.[0];
    if (inUrl) {
      throw badConfig(`${file} holds credentials in the ${inUrl} of remote ${name} (user:secret@); credentials must never be committed`, {
        hint: 'remove them from the url and use AWS_* environment variables, a profile, or access_key_id/secret_access_key in .mlx/config.local.yaml',
      });
    }
  }
}

/** The user-wide config file as it is on disk (`{}` when there is none). */
export function readGlobalConfig(layout: Pick<Layout, 'globalConfigFile'>): Config {
  return parseConfig(readFileIfExists(layout.globalConfigFile) ?? '', layout.globalConfigFile);
}

/** Reads one config file (shared or local) as it is on disk, without merging. */
export function readConfigFile(layout: Layout, local: boolean): Config {
  const file = local ? layout.localConfigFile : layout.configFile;
  return parseConfig(readFileIfExists(file) ?? '', file);
}

/** Validates and atomically writes one config file. */
export function writeConfigFile(layout: Layout, local: boolean, config: Config): void {
  const file = local ? layout.localConfigFile : layout.configFile;
  const next = parseConfig(serializeConfig(config), file);
  if (!local) assertNoSecrets(next, file);
  fs.mkdirSync(layout.mlxDir, { recursive: true });
  writeFileAtomicSync(file, serializeConfig(next));
}

function mergeConfig(a: Config, b: Config): Config {
  return {
    ...a,
    ...b,
    cache: { ...a.cache, ...b.cache },
    core: { ...a.core, ...b.core },
    remotes: mergeRemotes(a.remotes, b.remotes),
  };
}

function mergeRemotes(a: Config['remotes'], b: Config['remotes']): Config['remotes'] {
  if (!a && !b) return undefined;
  const out: NonNullable<Config['remotes']> = { ...a };
  for (const [name, r] of Object.entries(b ?? {})) out[name] = { ...out[name], ...r };
  return out;
}

/**
 * `mlx config --list`: every setting of the merged config as `key → value`, with credentials of remotes
 * masked (config.local.yaml may hold them; see {@link shownOptionValue}).
 */
export function listConfig(layout: Layout): Record<string, unknown> {
  return maskCredentials(flattenConfig(loadConfig(layout)));
}

function maskCredentials(rows: Record<string, unknown>): Record<string, unknown> {
  for (const [key, value] of Object.entries(rows)) {
    const m = /^remotes\.[^.]+\.(.+)$/.exec(key);
    if (m && (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean')) rows[key] = shownOptionValue(m[1]!, value);
  }
  return rows;
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

/** The settings of the user-wide file alone, as {@link listConfig} shows them. */
export function listGlobalConfig(layout: Pick<Layout, 'globalConfigFile'>): Record<string, unknown> {
  return maskCredentials(flattenConfig(readGlobalConfig(layout)));
}

export function getGlobalConfigValue(layout: Pick<Layout, 'globalConfigFile'>, key: string): unknown {
  assertKnownKey(key);
  return flattenConfig(readGlobalConfig(layout))[key];
}

/** Sets (or with `value === undefined` removes) one key in the config file `file` (shared, local or user-wide). */
export function setConfigValue(file: string, key: string, value: string | undefined): void {
  assertKnownKey(key);
  const config = parseConfig(readFileIfExists(file) ?? '', file) as Record<string, Record<string, unknown> | undefined>;
  const [section, name] = key.split('.') as [string, string];
  const table = { ...(config[section] ?? {}) };
  if (value === undefined) delete table[name];
  else table[name] = CONFIG_KEYS[key]!(value);
  config[section] = Object.keys(table).length ? table : undefined;
  const next = parseConfig(serializeConfig(config as Config), file); // validate before writing
  fs.mkdirSync(path.dirname(file), { recursive: true });
  writeFileAtomicSync(file, serializeConfig(next));
}

function assertKnownKey(key: string): void {
  if (!(key in CONFIG_KEYS)) {
    throw badConfig(`unknown config key ${JSON.stringify(key)}`, { hint: `known keys: ${Object.keys(CONFIG_KEYS).join(', ')}` });
  }
}
