import { envCapture, envDiff, envShow } from '../../commands/env.js';
import type { Output } from '../output.js';
import { envDiffLines, envRecordLines, envSummary } from '../render/env.js';

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

/** `mlx env show <oid|run>`: a stored environment record in readable sections (--json: the record). */
export async function runEnvShow(out: Output, ref: string): Promise<void> {
  const res = await envShow({ cwd: out.cwd, ref });
  out.result(res, () => [`environment ${res.oid}${res.run ? ` (run ${res.run.name}, ${res.run.id})` : ''}`, ...envRecordLines(res.record)]);
}
