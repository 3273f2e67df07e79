import { catalog, findRun } from '../../run/catalog.js';
import { parseParamSpec } from '../../run/params.js';
import { runAndRecord } from '../../run/record.js';
import { repro, verifyRun } from '../../run/repro.js';
import { openRepo } from '../../workspace/repo.js';
import { E, MlxError } from '../../util/errors.js';
import type { Output } from '../output.js';

export interface RunFlags {
  name?: string;
  dep?: string[];
  param?: string[];
  out?: string[];
  metrics?: string[];
  seed?: string;
}

export async function runRun(out: Output, cmd: string[], flags: RunFlags): Promise<void> {
  const repo = await openRepo(out.cwd);
  let seed: number | null = null;
  if (flags.seed !== undefined) {
    seed = Number(flags.seed);
    if (!Number.isSafeInteger(seed) || seed < 0) throw new MlxError(E.USAGE, `--seed expects a whole number of at least 0, got ${flags.seed}`);
  }
  const spec = {
    name: flags.name ?? 'default',
    cmd,
    deps: flags.dep ?? [],
    params: (flags.param ?? []).map(parseParamSpec),
    outs: flags.out ?? [],
    metrics: flags.metrics ?? [],
    seed,
  };
  const res = await runAndRecord(repo, out.cwd, spec, { quiet: out.opts.json || out.opts.quiet, onWarning: (w) => out.warn(w) });
  out.result(res, () => [
    `recorded run ${res.name} (${res.run.id}) in mlx.lock: ${Object.keys(res.run.outs).length} output(s), ${res.run.duration_s.toFixed(1)} s`,
    ...Object.entries(res.run.metrics).map(([f, m]) => `  ${f}: ${flatten(m).join(', ')}`),
    'Commit mlx.lock and the pointer files of the outputs to keep it.',
  ]);
}

export async function runRuns(out: Output, opts: { all?: boolean }): Promise<void> {
  const repo = await openRepo(out.cwd);
  const res = await catalog(repo);
  for (const w of res.warnings) out.warn(w);
  const rows = opts.all ? res.entries : res.entries.slice(0, 50);
  out.result(res, () => {
    if (rows.length === 0) return ['no runs recorded yet (mlx run -n <name> ... -- <command>)'];
    return rows.map((e) => {
      const params = Object.values(e.run.params).flatMap((p) => flatten(p));
      const metrics = Object.values(e.run.metrics).flatMap((m) => flatten(m));
      return `${e.run.id}  ${e.name.padEnd(12)} ${e.commit ? e.commit.slice(0, 8) : 'uncommitted'}  ${e.run.started.slice(0, 16).replace('T', ' ')}  seed=${e.run.seed ?? '-'}  ${params.join(' ')}  ${metrics.join(' ')}`.trimEnd();
    });
  });
}

export async function runShow(out: Output, ref: string): Promise<void> {
  const repo = await openRepo(out.cwd);
  const e = await findRun(repo, ref);
  const r = e.run;
  out.result({ name: e.name, commit: e.commit, branches: e.branches, ...r }, () => [
    `run ${e.name} (${r.id})`,
    `  command:   ${r.cmd.join(' ')}`,
    `  seed:      ${r.seed ?? '-'}`,
    `  started:   ${r.started} (${r.duration_s} s)`,
    `  git:       ${r.git.commit ? r.git.commit.slice(0, 12) : 'no commit'}${r.git.dirty ? ' (dirty work tree)' : ''}; recorded in ${e.commit ? e.commit.slice(0, 12) : 'the uncommitted mlx.lock'}`,
    ...Object.entries(r.params).map(([f, v]) => `  params:    ${f}: ${flatten(v).join(', ')}`),
    ...Object.entries(r.deps).map(([p, a]) => `  dep:       ${p}  ${a.oid.slice(0, 11)}  ${a.size} B`),
    ...Object.entries(r.outs).map(([p, a]) => `  out:       ${p}  ${a.oid.slice(0, 11)}  ${a.size} B`),
    ...Object.entries(r.metrics).map(([f, m]) => `  metrics:   ${f}: ${flatten(m).join(', ')}`),
    ...Object.entries(r.checkpoints ?? {}).map(([o, m]) => `  checkpoint: ${o}: ${flatten(m).join(', ')} (from data ${Object.entries(r.deps).map(([d, a]) => `${d}@${a.oid.slice(3, 11)}`).join(', ') || '-'})`),
    `  env:       ${r.env} (mlx env show ${r.env.slice(0, 11)})`,
    `  record:    ${r.record}`,
  ]);
}

export async function runRepro(out: Output, names: string[], opts: { verify?: boolean; force?: boolean }): Promise<void> {
  const repo = await openRepo(out.cwd);
  if (opts.verify) {
    if (names.length !== 1) throw new MlxError(E.USAGE, 'mlx repro --verify takes exactly one run name');
    const res = await verifyRun(repo, names[0]!, { quiet: out.opts.json || out.opts.quiet });
    out.result(res, () => [
      ...res.outputs.map((o) => `${o.identical ? 'identical' : 'DIFFERS  '}  ${o.path}${o.identical ? '' : `  (recorded ${o.recorded.slice(0, 11)}, now ${o.now.slice(0, 11)})`}`),
      res.identical ? `${res.name}: every output is byte-for-byte identical to the recorded run` : `${res.name}: the run is not deterministic`,
    ]);
    if (!res.identical) {
      throw new MlxError(E.VERIFY_FAILED, `${res.outputs.filter((o) => !o.identical).length} output(s) of ${res.name} differ from the recorded run`, {
        hint: 'the command is not deterministic: check seeds, threads and non-deterministic kernels',
      });
    }
    return;
  }
  const res = await repro(repo, names, { force: opts.force, quiet: out.opts.json || out.opts.quiet });
  out.result(res, () => res.runs.map((r) => (r.reran ? `re-ran ${r.name} (${r.reasons.join('; ') || 'forced'}) → ${r.id}` : `up to date: ${r.name}`)));
}

/** `{a: 1, b: {c: 2}}` → `a=1`, `b.c=2`. */
function flatten(v: unknown, prefix = ''): string[] {
  if (v && typeof v === 'object' && !Array.isArray(v)) return Object.entries(v).flatMap(([k, x]) => flatten(x, prefix ? `${prefix}.${k}` : k));
  return [`${prefix || 'value'}=${typeof v === 'number' ? +v.toPrecision(6) : JSON.stringify(v)}`];
}
