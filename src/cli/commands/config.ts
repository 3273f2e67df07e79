import { getSetting, listSettings, setSetting } from '../../commands/config.js';
import type { Output } from '../output.js';

export async function runConfig(out: Output, key: string | undefined, value: string | undefined, opts: { local?: boolean; unset?: boolean; list?: boolean }): Promise<void> {
  if (opts.list || key === undefined) {
    const all = await listSettings({ cwd: out.cwd });
    out.result(all, () => Object.entries(all).map(([k, v]) => `${k}=${String(v)}`));
    return;
  }
  if (opts.unset) return setSetting({ cwd: out.cwd, key, value: undefined, local: opts.local });
  if (value === undefined) {
    const got = await getSetting({ cwd: out.cwd, key });
    out.result(got, () => [String(got[key])]);
    return;
  }
  return setSetting({ cwd: out.cwd, key, value, local: opts.local });
}
