import path from 'node:path';
import { envCapture, envCheck, envDiff, envExport, envShow } from '../../commands/env.js';
import { shortOid } from '../../hash/oid.js';
import { verifyFailed } from '../../util/errors.js';
import type { Output } from '../output.js';
import { envCheckLines, envDiffLines, envRecordLines, envSummary } from '../render/env.js';

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

/** `mlx env export <run|oid> --format F [-o FILE]`: the file that rebuilds a recorded environment, on stdout or into FILE. */
export async function runEnvExport(out: Output, ref: string, opts: { format: string; output?: string }): Promise<void> {
  const res = await envExport({ cwd: out.cwd, ref, format: opts.format, output: opts.output });
  if (res.written === undefined) {
    out.result(res, () => res.text.replace(/\n$/, '').split('\n'));
    return;
  }
  out.result(res, () => [`wrote ${path.relative(out.cwd, res.written!) || res.written} (${res.format}) from environment ${shortOid(res.plan.env)}`]);
}

/** `mlx env check <run|oid>`: this machine against a recorded environment; exit 1 when they differ. */
export async function runEnvCheck(out: Output, ref: string): Promise<void> {
  const res = await envCheck({ cwd: out.cwd, ref });
  for (const w of res.warnings) out.warn(w);
  out.result(res, () => envCheckLines(res, res.run));
  if (!res.same) {
    throw verifyFailed(`this machine differs from the recorded environment in ${res.changes.length} place(s)`, {
      hint: `mlx env export ${ref} --format requirements writes what rebuilds it`,
    });
  }
}
