import { isSecretOption, redactUrl, REMOTE_NAME, shownOptionValue, type RemoteConfig } from '../formats/config.js';
import { DirRemote } from '../remote/dir-remote.js';
import { canonicalOptionName, openRemote, parseRemoteSpec, type RemoteOptionValue } from '../remote/open-remote.js';
import type { Remote } from '../remote/remote.js';
import { MlxError, badConfig } from '../util/errors.js';
import { loadConfig, readConfigFile, writeConfigFile } from '../workspace/config-file.js';
import type { Repo } from '../workspace/repo.js';

export interface RemoteListing {
  name: string;
  url: string;
  isDefault: boolean;
  options: Record<string, string | boolean | number>;
}

/** `mlx remote add`: records a named remote (and makes it the default with `makeDefault`). */
export async function addRemote(repo: Repo, name: string, url: string, opts: { makeDefault?: boolean; local?: boolean; options?: Record<string, string> } = {}): Promise<void> {
  if (!REMOTE_NAME.test(name)) throw badConfig(`invalid remote name ${JSON.stringify(name)}: use letters, digits, . _ -`);
  const merged = loadConfig(repo.layout);
  if (merged.remotes?.[name]) throw badConfig(`remote ${name} exists already`, { hint: `mlx remote modify ${name} url ${url}, or mlx remote remove ${name}` });
  const local = !!opts.local;
  const config = readConfigFile(repo.layout, local);
  const entry: RemoteConfig = { url, ...opts.options };
  if (!local) assertNotSecret(Object.keys(opts.options ?? {}));
  // The url and options are checked, and a directory remote is created, before anything is written:
  // a remote that cannot be used never reaches the config.
  const remote = await openRemote(url, opts.options ?? {}, repo.root);
  if (remote instanceof DirRemote) await remote.create();
  config.remotes = { ...config.remotes, [name]: entry };
  if (opts.makeDefault) config.core = { ...config.core, remote: name };
  writeConfigFile(repo.layout, local, config);
}

/**
 * `mlx remote modify`: sets (or with `value` undefined, removes) one option of a remote, or its url.
 * The remote as it will be read (committed entry with the local one laid over it) is checked exactly
 * as `remote add` checks its options, and nothing is written when it is refused.
 */
export function modifyRemote(repo: Repo, name: string, key: string, value: string | undefined, local: boolean): void {
  if (!loadConfig(repo.layout).remotes?.[name]) throw unknownRemote(repo, name);
  if (!local) assertNotSecret([key]);
  if (key === 'url' && value === undefined) {
    throw badConfig(`remote ${name} cannot lose its url`, { hint: `mlx remote modify ${name} url <new url>, or mlx remote remove ${name}` });
  }
  const config = readConfigFile(repo.layout, local);
  const entry: Record<string, RemoteOptionValue> = { ...config.remotes?.[name] };
  // One spelling per option in a file: `max_attempts` replaces an earlier `maxAttempts`.
  const canonical = canonicalOptionName(key);
  for (const k of Object.keys(entry)) if (k !== 'url' && canonicalOptionName(k) === canonical) delete entry[k];
  if (value !== undefined) entry[key] = value;

  const other = readConfigFile(repo.layout, !local).remotes?.[name] ?? {};
  const { url, ...options } = local ? { ...other, ...entry } : { ...entry, ...other };
  if (typeof url !== 'string') throw badConfig(`remote ${name} has no url`, { hint: `mlx remote modify ${name} url <url>` });
  parseRemoteSpec(url, options, repo.root);
  // Stored as what it means, not as typed: `force_path_style yes` is true, `max_attempts 5` is 5.
  if (value !== undefined && key !== 'url') {
    const one = parseRemoteSpec(url, { [key]: value }, repo.root);
    if (one.kind === 's3') entry[key] = (one.options as unknown as Record<string, RemoteOptionValue>)[canonical]!;
  }

  config.remotes = { ...config.remotes, [name]: entry as RemoteConfig };
  if (Object.keys(entry).length === 0) delete config.remotes[name];
  writeConfigFile(repo.layout, local, config);
}

/** A remote defined only in the user-wide config is the user's to change there, not this repository's. */
function assertInRepository(repo: Repo, name: string): void {
  if ([false, true].some((local) => readConfigFile(repo.layout, local).remotes?.[name])) return;
  throw badConfig(`remote ${name} is defined in the user-wide config ${repo.layout.globalConfigFile}, not in this repository`, { hint: `edit ${repo.layout.globalConfigFile}` });
}

/** Credentials in the committed config would end up in git history. */
function assertNotSecret(keys: string[]): void {
  const secret = keys.find(isSecretOption);
  if (secret !== undefined) {
    throw badConfig(`refusing to write the credential ${secret} into the committed config`, { hint: 'add --local, or use AWS_* environment variables or a profile' });
  }
}

export function removeRemote(repo: Repo, name: string): void {
  if (!loadConfig(repo.layout).remotes?.[name]) throw unknownRemote(repo, name);
  assertInRepository(repo, name);
  for (const local of [false, true]) {
    const config = readConfigFile(repo.layout, local);
    if (config.remotes?.[name]) delete config.remotes[name];
    if (config.core?.remote === name) delete config.core.remote;
    writeConfigFile(repo.layout, local, config);
  }
}

/**
 * `mlx remote rename`: renames a remote in both config files (the committed entry and the local
 * options laid over it), keeping its place among the remotes; the default follows it. Both files are
 * built and checked before either is written.
 */
export function renameRemote(repo: Repo, from: string, to: string): void {
  if (!REMOTE_NAME.test(to)) throw badConfig(`invalid remote name ${JSON.stringify(to)}: use letters, digits, . _ -`);
  const merged = loadConfig(repo.layout);
  if (!merged.remotes?.[from]) throw unknownRemote(repo, from);
  if (from === to) return;
  if (merged.remotes[to]) throw badConfig(`remote ${to} exists already`, { hint: `mlx remote remove ${to} first, or choose another name` });
  assertInRepository(repo, from);
  const renamed = [false, true].map((local) => {
    const config = readConfigFile(repo.layout, local);
    const touched = !!config.remotes?.[from] || config.core?.remote === from;
    if (config.remotes?.[from]) config.remotes = Object.fromEntries(Object.entries(config.remotes).map(([name, r]) => [name === from ? to : name, r]));
    if (config.core?.remote === from) config.core = { ...config.core, remote: to };
    return { local, config, touched };
  });
  for (const { local, config, touched } of renamed) if (touched) writeConfigFile(repo.layout, local, config);
}

export function setDefaultRemote(repo: Repo, name: string): void {
  if (!loadConfig(repo.layout).remotes?.[name]) throw unknownRemote(repo, name);
  const config = readConfigFile(repo.layout, false);
  config.core = { ...config.core, remote: name };
  writeConfigFile(repo.layout, false, config);
}

export function listRemotes(repo: Repo): RemoteListing[] {
  const config = loadConfig(repo.layout);
  return Object.entries(config.remotes ?? {}).map(([name, r]) => {
    const { url, ...rest } = r;
    const options = Object.fromEntries(Object.entries(rest).map(([k, v]) => [k, shownOptionValue(k, v)]));
    return { name, url: redactUrl(url), isDefault: config.core?.remote === name, options };
  });
}

/** Opens the named remote, or the default one. */
export async function resolveRemote(repo: Repo, name: string | undefined): Promise<{ name: string; remote: Remote }> {
  const config = loadConfig(repo.layout);
  const chosen = name ?? config.core?.remote;
  if (!chosen) {
    throw badConfig('no remote given and no default remote set', { hint: 'mlx remote add -d <name> <url>, or pass -r <name>' });
  }
  const entry = config.remotes?.[chosen];
  if (!entry) throw unknownRemote(repo, chosen);
  const { url, ...options } = entry;
  return { name: chosen, remote: await openRemote(url, options, repo.root) };
}

function unknownRemote(repo: Repo, name: string): MlxError {
  const known = Object.keys(loadConfig(repo.layout).remotes ?? {});
  return badConfig(`unknown remote ${JSON.stringify(name)}`, { hint: known.length ? `known remotes: ${known.join(', ')}` : 'add one with mlx remote add <name> <url>' });
}
