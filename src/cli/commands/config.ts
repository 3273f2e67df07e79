import { getConfigValue, listConfig, setConfigValue } from '../../workspace/config-file.js';
import { layoutOf } from '../../workspace/layout.js';
import { openRepo } from '../../workspace/repo.js';
import { E, MlxError } from '../../util/errors.js';
import type { Output } from '../output.js';

export async function run(out: Output, key: string | undefined, value: string | undefined, opts: { local?: boolean; unset?: boolean; list?: boolean }): Promise<void> {
  const repo = await openRepo(out.cwd);
  const layout = layoutOf(repo.root);
  if (opts.list || key === undefined) {
    const all = listConfig(layout);
    out.result(all, () => Object.entries(all).map(([k, v]) => `${k}=${String(v)}`));
    return;
  }
  if (opts.unset) {
    setConfigValue(layout, key, undefined, !!opts.local);
    return;
  }
  if (value === undefined) {
    const v = getConfigValue(layout, key);
    if (v === undefined) throw new MlxError(E.BAD_CONFIG, `${key} is not set`);
    out.result({ [key]: v }, () => [String(v)]);
    return;
  }
  setConfigValue(layout, key, value, !!opts.local);
}
