import { show } from '../../commands/show.js';
import type { Output } from '../output.js';
import { formatDetails, formatSummary } from '../render/output-format.js';
import { flatten, historyLine, seedSummary } from '../render/values.js';

export async function runShow(out: Output, ref: string): Promise<void> {
  const { entry: e, key, sameInputs } = await show({ cwd: out.cwd, run: ref });
  const r = e.run;
  const same = sameInputs.map((s) => ({ id: s.run.id, name: s.name, record: s.run.record, started: s.run.started, commit: s.commit }));
  // Executions an old lockfile recorded under one id are told apart by their record.
  const named = same.slice(0, 5).map((s) => (s.id === r.id ? s.record.slice(0, 15) : s.id));
  out.result({ name: e.name, commit: e.commit, branches: e.branches, refs: e.refs, ...r, key, same_inputs: same }, () => [
    `run ${e.name} (${r.id})`,
    `  key:       ${key} (${same.length ? `same inputs as ${named.join(', ')}${same.length > 5 ? ` and ${same.length - 5} more` : ''}` : 'no other run with the same inputs'})`,
    `  command:   ${r.cmd.join(' ')}`,
    `  seed:      ${seedSummary(r)}`,
    `  started:   ${r.started} (${r.duration_s} s)`,
    `  git:       ${r.git.commit ? r.git.commit.slice(0, 12) : 'no commit'}${r.git.dirty ? ' (dirty work tree)' : ''}; recorded in ${e.commit ? e.commit.slice(0, 12) : 'the uncommitted mlx.lock'}`,
    ...(e.refs.length ? [`  refs:      ${e.refs.join(', ')}`] : []),
    ...Object.entries(r.params).map(([f, v]) => `  params:    ${f}: ${flatten(v).join(', ')}`),
    ...(r.overrides ?? []).map((o) => `  override:  -S ${o}`),
    ...Object.entries(r.deps).map(([p, a]) => `  dep:       ${p}  ${a.oid.slice(0, 11)}  ${a.size} B`),
    ...Object.entries(r.outs).map(([p, a]) => `  out:       ${p}  ${a.oid.slice(0, 11)}  ${a.size} B`),
    ...Object.entries(r.metrics).map(([f, m]) => `  metrics:   ${f}: ${flatten(m).join(', ')}`),
    ...Object.entries(r.histories ?? {}).map(([f, h]) => `  history:   ${historyLine(f, h)}`),
    ...Object.entries(r.checkpoints ?? {}).map(([o, m]) => `  checkpoint: ${o}: ${flatten(m).join(', ')} (from data ${Object.entries(r.deps).map(([d, a]) => `${d}@${a.oid.slice(3, 11)}`).join(', ') || '-'})`),
    ...Object.entries(r.formats ?? {}).flatMap(([p, f]) => [`  format:    ${p}: ${formatSummary(f)}`, ...formatDetails(f).map((l) => `             ${l}`)]),
    `  env:       ${r.env} (mlx env show ${r.env.slice(0, 11)})`,
    `  record:    ${r.record}`,
  ]);
}
