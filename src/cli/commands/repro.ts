import { repro, reproVerify } from '../../commands/repro.js';
import { verifyFailed } from '../../util/errors.js';
import type { Output } from '../output.js';

export async function runRepro(out: Output, names: string[], opts: { verify?: boolean; force?: boolean }): Promise<void> {
  const quiet = out.opts.json || out.opts.quiet;
  if (opts.verify) {
    const res = await reproVerify({ cwd: out.cwd, names, quiet });
    out.result(res, () => [
      ...res.outputs.map((o) => `${o.identical ? 'identical' : 'DIFFERS  '}  ${o.path}${o.identical ? '' : `  (recorded ${o.recorded.slice(0, 11)}, now ${o.now.slice(0, 11)})`}`),
      res.identical ? `${res.name}: every output is byte-for-byte identical to the recorded run` : `${res.name}: the run is not deterministic`,
    ]);
    if (!res.identical) {
      throw verifyFailed(`${res.outputs.filter((o) => !o.identical).length} output(s) of ${res.name} differ from the recorded run`, {
        hint: 'the command is not deterministic: check seeds, threads and non-deterministic kernels',
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
