import { badConfig, badUsage } from '../util/errors.js';
import { getConfigValue, getGlobalConfigValue, listConfig, listGlobalConfig, setConfigValue } from '../workspace/config-file.js';
import { globalConfigFile, layoutOf } from '../workspace/layout.js';
import { openRepo } from '../workspace/repo.js';

/**
 * `mlx config`: get, set, unset or list settings of the committed, the local or the user-wide
 * configuration. Without `--global`, reads see all three merged (repository over user-wide); with it,
 * only the user-wide file, which needs no repository.
 */

export interface ConfigWhere {
  cwd: string;
  local?: boolean;
  global?: boolean;
}

function scopeOf(opts: ConfigWhere): 'shared' | 'local' | 'global' {
  if (opts.local && opts.global) throw badUsage('--local and --global name different files: give one');
  return opts.global ? 'global' : opts.local ? 'local' : 'shared';
}

/** The user-wide file alone: no repository needed. */
const globalLayout = () => ({ globalConfigFile: globalConfigFile() });

export async function listSettings(opts: ConfigWhere): Promise<Record<string, unknown>> {
  if (scopeOf(opts) === 'global') return listGlobalConfig(globalLayout());
  return listConfig(layoutOf((await openRepo(opts.cwd)).root));
}

export async function getSetting(opts: ConfigWhere & { key: string }): Promise<Record<string, unknown>> {
  const v = scopeOf(opts) === 'global' ? getGlobalConfigValue(globalLayout(), opts.key) : getConfigValue(layoutOf((await openRepo(opts.cwd)).root), opts.key);
  if (v === undefined) throw badConfig(`${opts.key} is not set${opts.global ? ` in ${globalConfigFile()}` : ''}`);
  return { [opts.key]: v };
}

/** Sets `key` to `value`, or removes it when `value` is undefined, in the file `local`/`global` names. */
export async function setSetting(opts: ConfigWhere & { key: string; value: string | undefined }): Promise<void> {
  const scope = scopeOf(opts);
  if (scope === 'global') return setConfigValue(globalConfigFile(), opts.key, opts.value);
  const layout = layoutOf((await openRepo(opts.cwd)).root);
  setConfigValue(scope === 'local' ? layout.localConfigFile : layout.configFile, opts.key, opts.value);
}
