import { run } from '../../commands/run.js';
import type { Output } from '../output.js';
import { flatten, historyLine } from '../render/values.js';

export interface RunFlags {
  name?: string;
  dep?: string[];
  param?: string[];
  out?: string[];
  metrics?: string[];
  seed?: string[];
  setParam?: string[];
}

export async function runRun(out: Output, cmd: string[], flags: RunFlags): Promise<void> {
  const res = await run({
    cwd: out.cwd,
    cmd,
    name: flags.name,
    deps: flags.dep,
    params: flags.param,
    outs: flags.out,
    metrics: flags.metrics,
    seed: flags.seed,
    setParams: flags.setParam,
    quiet: out.opts.json || out.opts.quiet,
    onWarning: (w) => out.warn(w),
  });
  out.result(res, () => [
    ...res.updatedPointers.map((p) => `stored the changed input ${p} and updated ${p}.mlx`),
    `recorded run ${res.name} (${res.run.id}) in mlx.lock: ${Object.keys(res.run.outs).length} output(s), ${res.run.duration_s.toFixed(1)} s`,
    ...Object.entries(res.run.metrics).map(([f, m]) => `  ${f}: ${flatten(m).join(', ')}`),
    ...Object.entries(res.run.histories ?? {}).map(([f, h]) => `  ${historyLine(f, h)}`),
    'Commit mlx.lock and the pointer files of the outputs to keep it.',
  ]);
}
