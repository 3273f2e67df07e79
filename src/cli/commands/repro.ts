import { repro, reproVerify } from '../../commands/repro.js';
import { verifyFailed } from '../../util/errors.js';
import type { Output } from '../output.js';
import { envCheckLines } from '../render/env.js';

export async function runRepro(out: Output, names: string[], opts: { verify?: boolean; force?: boolean }): Promise<void> {
  const quiet = out.opts.json || out.opts.quiet;
  if (opts.verify) {
    // The environment comparison is printed before the run starts; --json carries it in the result.
    const res = await reproVerify({
      cwd: out.cwd,
      names,
      quiet,
      onWarning: (w) => out.warn(w),
      onEnvironment: (check) => {
        if (check && !out.opts.json) out.result(check, () => envCheckLines(check, { name: names[0]! }));
      },
    });
    const envDiffers = res.environment !== null && !res.environment.same;
    out.result(res, () => [
      ...res.outputs.map((o) => `${o.identical ? 'identical' : 'DIFFERS  '}  ${o.path}${o.identical ? '' : `  (recorded ${o.recorded.slice(0, 11)}, now ${o.now.slice(0, 11)})`}`),
      res.identical
        ? `${res.name}: every output is byte-for-byte identical to the recorded run`
        : envDiffers
          ? `${res.name}: outputs differ, on a machine whose environment differs from the recorded one`
          : `${res.name}: the run is not deterministic`,
    ]);
    if (!res.identical) {
      throw verifyFailed(`${res.outputs.filter((o) => !o.identical).length} output(s) of ${res.name} differ from the recorded run`, {
        hint: envDiffers
          ? 'this machine also differs from the recorded environment (listed first): rebuild it with mlx env export, or verify where the run was recorded'
          : 'the command is not deterministic: check seeds, threads and non-deterministic kernels',
      });
    }
    return;
  }
  const res = await repro({ cwd: out.cwd, names, force: opts.force, quiet, onWarning: (w) => out.warn(w) });
  out.result(res, () =>
    res.runs.flatMap((r) => [
      ...(r.updatedPointers ?? []).map((p) => `stored the changed input ${p} and updated ${p}.mlx`),
      r.reran ? `re-ran ${r.name} (${r.reasons.join('; ') || 'forced'}) → ${r.id}` : `up to date: ${r.name}`,
    ]),
  );
}
