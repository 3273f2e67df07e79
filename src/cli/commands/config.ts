import { getSetting, listSettings, setSetting } from '../../commands/config.js';
import type { Output } from '../output.js';

export async function runConfig(out: Output, key: string | undefined, value: string | undefined, opts: { local?: boolean; global?: boolean; unset?: boolean; list?: boolean }): Promise<void> {
  const where = { cwd: out.cwd, local: opts.local, global: opts.global };
  if (opts.list || key === undefined) {
    const all = await listSettings(where);
    out.result(all, () => Object.entries(all).map(([k, v]) => `${k}=${String(v)}`));
    return;
  }
  if (opts.unset) return setSetting({ ...where, key, value: undefined });
  if (value === undefined) {
    const got = await getSetting({ ...where, key });
    out.result(got, () => [String(got[key])]);
    return;
  }
  return setSetting({ ...where, key, value });
}
