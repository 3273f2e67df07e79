import { openRepo } from '../../workspace/repo.js';
import { addRemote, listRemotes, modifyRemote, removeRemote, setDefaultRemote } from '../../repository/remotes.js';
import { E, MlxError } from '../../util/errors.js';
import type { Output } from '../output.js';

export async function add(out: Output, name: string, url: string, opts: { default?: boolean; local?: boolean; option?: string[] }): Promise<void> {
  const repo = await openRepo(out.cwd);
  const options: Record<string, string> = {};
  for (const kv of opts.option ?? []) {
    const i = kv.indexOf('=');
    if (i <= 0) throw new MlxError(E.USAGE, `option ${JSON.stringify(kv)} must look like key=value`);
    options[kv.slice(0, i)] = kv.slice(i + 1);
  }
  await addRemote(repo, name, url, { makeDefault: opts.default, local: opts.local, options });
  out.result({ name, url, default: !!opts.default }, () => [`added remote ${name} → ${url}${opts.default ? ' (default)' : ''}`]);
}

export async function list(out: Output): Promise<void> {
  const repo = await openRepo(out.cwd);
  const remotes = listRemotes(repo);
  out.result(remotes, () => remotes.map((r) => `${r.isDefault ? '*' : ' '} ${r.name}\t${r.url}${Object.keys(r.options).length ? `\t${Object.entries(r.options).map(([k, v]) => `${k}=${v}`).join(' ')}` : ''}`));
}

export async function remove(out: Output, name: string): Promise<void> {
  removeRemote(await openRepo(out.cwd), name);
  out.result({ removed: name }, () => [`removed remote ${name}`]);
}

export async function setDefault(out: Output, name: string): Promise<void> {
  setDefaultRemote(await openRepo(out.cwd), name);
  out.result({ default: name }, () => [`default remote: ${name}`]);
}

export async function modify(out: Output, name: string, key: string, value: string | undefined, opts: { local?: boolean; unset?: boolean }): Promise<void> {
  if (value === undefined && !opts.unset) throw new MlxError(E.USAGE, 'give a value, or --unset to remove the option');
  modifyRemote(await openRepo(out.cwd), name, key, opts.unset ? undefined : value, !!opts.local);
}
