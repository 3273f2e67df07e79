import { addRemote, listRemotes, makeDefaultRemote, modifyRemote, removeRemote, renameRemote } from '../../commands/remote-config.js';
import { parseKeyValues } from '../flags.js';
import type { Output } from '../output.js';

export async function runRemoteAdd(out: Output, name: string, url: string, opts: { default?: boolean; local?: boolean; option?: string[] }): Promise<void> {
  const res = await addRemote({ cwd: out.cwd, name, url, makeDefault: opts.default, local: opts.local, options: parseKeyValues(opts.option) });
  out.result(res, () => [`added remote ${name} → ${url}${res.default ? ' (default)' : ''}`]);
}

export async function runRemoteList(out: Output): Promise<void> {
  const remotes = await listRemotes({ cwd: out.cwd });
  out.result(remotes, () => remotes.map((r) => `${r.isDefault ? '*' : ' '} ${r.name}\t${r.url}${Object.keys(r.options).length ? `\t${Object.entries(r.options).map(([k, v]) => `${k}=${v}`).join(' ')}` : ''}`));
}

export async function runRemoteRemove(out: Output, name: string): Promise<void> {
  const res = await removeRemote({ cwd: out.cwd, name });
  out.result(res, () => [`removed remote ${name}`]);
}

export async function runRemoteRename(out: Output, from: string, to: string): Promise<void> {
  const res = await renameRemote({ cwd: out.cwd, from, to });
  out.result(res, () => [`renamed remote ${from} to ${to}`]);
}

export async function runRemoteDefault(out: Output, name: string): Promise<void> {
  const res = await makeDefaultRemote({ cwd: out.cwd, name });
  out.result(res, () => [`default remote: ${name}`]);
}

export async function runRemoteModify(out: Output, name: string, key: string, value: string | undefined, opts: { local?: boolean; unset?: boolean }): Promise<void> {
  await modifyRemote({ cwd: out.cwd, name, key, value, unset: opts.unset, local: opts.local });
}
