import { envCapture, envDiff } from '../../commands/env.js';
import type { Output } from '../output.js';
import { envDiffLines, envSummary } from '../render/env.js';

/** `mlx env capture`: records this machine's environment in the cache and prints it with its oid. */
export async function runEnvCapture(out: Output): Promise<void> {
  const { oid, record, warnings } = await envCapture({ cwd: out.cwd });
  for (const w of warnings) out.warn(w);
  out.result({ oid, record }, () => [...envSummary(record), `environment ${oid}`]);
}

/** `mlx env diff <a> <b>`: what changed between two environment records. */
export async function runEnvDiff(out: Output, a: string, b: string): Promise<void> {
  const d = await envDiff({ cwd: out.cwd, a, b });
  out.result(d, () => envDiffLines(d));
}
