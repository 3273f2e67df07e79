import { addRemote as addToConfig, listRemotes as listConfigured, modifyRemote as modifyInConfig, removeRemote as removeFromConfig, renameRemote as renameInConfig, setDefaultRemote, type RemoteListing } from '../repository/remotes.js';
import { badUsage } from '../util/errors.js';
import { openRepo } from '../workspace/repo.js';

export type { RemoteListing } from '../repository/remotes.js';

/** `mlx remote add|list|remove|default|modify`: the remotes in the repository's configuration. */

export interface RemoteAddOptions {
  cwd: string;
  name: string;
  /** s3://bucket/prefix, file:///path or a directory path. */
  url: string;
  makeDefault?: boolean;
  /** Write to the git-ignored local config (for credentials). */
  local?: boolean;
  /** Backend options, e.g. endpoint, region, profile. */
  options?: Record<string, string>;
}

export interface RemoteAdded {
  name: string;
  url: string;
  default: boolean;
}

export async function addRemote(opts: RemoteAddOptions): Promise<RemoteAdded> {
  await addToConfig(await openRepo(opts.cwd), opts.name, opts.url, { makeDefault: opts.makeDefault, local: opts.local, options: opts.options ?? {} });
  return { name: opts.name, url: opts.url, default: !!opts.makeDefault };
}

export async function listRemotes(opts: { cwd: string }): Promise<RemoteListing[]> {
  return listConfigured(await openRepo(opts.cwd));
}

export async function removeRemote(opts: { cwd: string; name: string }): Promise<{ removed: string }> {
  removeFromConfig(await openRepo(opts.cwd), opts.name);
  return { removed: opts.name };
}

export async function renameRemote(opts: { cwd: string; from: string; to: string }): Promise<{ renamed: string; to: string }> {
  renameInConfig(await openRepo(opts.cwd), opts.from, opts.to);
  return { renamed: opts.from, to: opts.to };
}

export async function makeDefaultRemote(opts: { cwd: string; name: string }): Promise<{ default: string }> {
  setDefaultRemote(await openRepo(opts.cwd), opts.name);
  return { default: opts.name };
}

export interface RemoteModifyOptions {
  cwd: string;
  name: string;
  key: string;
  /** The new value; with `unset`, none. */
  value?: string;
  unset?: boolean;
  local?: boolean;
}

export async function modifyRemote(opts: RemoteModifyOptions): Promise<void> {
  if (opts.value === undefined && !opts.unset) throw badUsage('give a value, or --unset to remove the option');
  modifyInConfig(await openRepo(opts.cwd), opts.name, opts.key, opts.unset ? undefined : opts.value, !!opts.local);
}
