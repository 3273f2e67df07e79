import { badConfig } from '../util/errors.js';
import { getConfigValue, listConfig, setConfigValue } from '../workspace/config-file.js';
import { layoutOf } from '../workspace/layout.js';
import { openRepo } from '../workspace/repo.js';

/** `mlx config`: get, set, unset or list settings of the committed or the local configuration. */

export async function listSettings(opts: { cwd: string }): Promise<Record<string, unknown>> {
  return listConfig(layoutOf((await openRepo(opts.cwd)).root));
}

export async function getSetting(opts: { cwd: string; key: string }): Promise<Record<string, unknown>> {
  const v = getConfigValue(layoutOf((await openRepo(opts.cwd)).root), opts.key);
  if (v === undefined) throw badConfig(`${opts.key} is not set`);
  return { [opts.key]: v };
}

/** Sets `key` to `value`, or removes it when `value` is undefined; `local` writes the git-ignored file. */
export async function setSetting(opts: { cwd: string; key: string; value: string | undefined; local?: boolean }): Promise<void> {
  setConfigValue(layoutOf((await openRepo(opts.cwd)).root), opts.key, opts.value, !!opts.local);
}
