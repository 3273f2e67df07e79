import { shortOid } from '../../hash/oid.js';
import type { PathChange } from '../../commands/diff.js';
import type { Report } from '../../commands/report.js';
import type { EnvDelta, RunDelta, ValueDelta } from '../../run/report.js';
import type { HistoryChart } from '../../run/history-chart.js';
import { toMermaid, toTree } from './lineage.js';
import { plainNumber, xyChartCaption, xyChartLines } from './xychart.js';
import { importNote } from './diff.js';
import { formatSummary } from './output-format.js';
import { sizeChange } from './sizes.js';

/** `mlx report` as text (terminal) and as GitHub-flavoured Markdown (a pull request comment). */

// ---- shared formatting ----

export function value(v: unknown): string {
  if (v === undefined) return '—';
  if (typeof v === 'number') return String(+v.toPrecision(6));
  return typeof v === 'string' ? v : JSON.stringify(v);
}

function number(n: number): string {
  return String(+n.toPrecision(4));
}

/** `+0.05 (+12.5%)`, or empty when there is nothing numeric to compare. */
export function delta(d: ValueDelta): string {
  if (d.delta === undefined) return '';
  if (d.delta === 0) return '±0';
  const sign = d.delta > 0 ? '+' : '−';
  const pct = d.pct === undefined ? '' : ` (${sign}${number(Math.abs(d.pct))}%)`;
  return `${sign}${number(Math.abs(d.delta))}${pct}`;
}


export function runIds(r: RunDelta): string {
  if (r.status === 'added') return r.head!.id;
  if (r.status === 'removed' || r.base!.id === r.head!.id) return r.base!.id;
  return `${r.base!.id} → ${r.head!.id}`;
}

export function runNote(r: RunDelta): string {
  const note = runChange(r);
  const formats = Object.entries(r.formats ?? {}).map(([p, f]) => `${p}: ${formatSummary(f)}`);
  return [note, ...formats].filter(Boolean).join('; ');
}

function runChange(r: RunDelta): string {
  if (r.status === 'changed') return [r.inputs.length ? `inputs: ${r.inputs.join(', ')}` : '', r.outputs.length ? `outputs: ${r.outputs.join(', ')}` : ''].filter(Boolean).join('; ');
  if (r.status === 'rerun') return r.outputs.length ? `same inputs, different outputs (${r.outputs.join(', ')}): not deterministic?` : 'same inputs, same outputs';
  if (r.status === 'added') return r.outputs.length ? `outputs: ${r.outputs.join(', ')}` : '';
  return '';
}

export function headLabel(res: Report): string {
  return res.head.rev === 'workspace' ? 'the work tree' : res.head.rev;
}

export function headDetail(res: Report): string {
  const { rev, commit, dirty, uncommitted } = res.head;
  if (rev !== 'workspace') return commit!.slice(0, 8);
  if (!commit) return 'no commits yet';
  if (dirty === false) return `HEAD ${commit.slice(0, 8)}, no uncommitted changes`;
  if (dirty) return `HEAD ${commit.slice(0, 8)} and ${uncommitted} uncommitted change(s)`;
  return `HEAD ${commit.slice(0, 8)} and the work tree as it is`;
}

/** One line: whether the mlx remote holds what the head side brings. */
export function remoteLine(res: Report): string {
  const r = res.remote;
  const where = `mlx remote ${r.remote ?? ''}`.trimEnd();
  if (r.state === 'no-remote') return 'mlx remote: none configured, nothing checked (mlx remote add -d <name> <url>)';
  if (r.state === 'unreachable') return `${where}: unreachable, nothing checked (${r.error})`;
  if (r.checked === 0) return `${where}: nothing new to check`;
  if (r.state === 'missing') return `${where}: ${r.missing} of ${r.checked} new object(s) missing (mlx push sends them)`;
  return `${where}: all ${r.checked} new object(s) present`;
}

export function envLines(e: EnvDelta): string[] {
  if (!e.changes) return [`(${e.note})`];
  if (e.changes.length === 0) return ['(the records differ only in fields mlx does not compare)'];
  return e.changes.map((c) => `${c.path}: ${value(c.from ?? undefined)} → ${value(c.to ?? undefined)}`);
}

export function summary(res: Report): string {
  const count = (s: RunDelta['status']) => res.runs.filter((r) => r.status === s).length;
  const parts = [
    `${count('changed')} run(s) changed`,
    count('added') ? `${count('added')} new` : '',
    count('removed') ? `${count('removed')} removed` : '',
    count('rerun') ? `${count('rerun')} re-run` : '',
    `${res.params.length} param change(s)`,
    `${res.data.length} data path(s) changed`,
    res.environment.length ? `${res.environment.length} environment change(s)` : '',
  ];
  return parts.filter(Boolean).join(', ');
}

// ---- text ----

export function reportText(res: Report): string[] {
  const lines = [
    `report: ${res.base.rev} (${res.base.commit.slice(0, 8)}) → ${headLabel(res)} (${headDetail(res)})`,
    `base: ${res.base.how}`,
    remoteLine(res),
    summary(res),
  ];
  const section = (title: string, body: string[]) => {
    if (body.length) lines.push('', title, ...body.map((l) => `  ${l}`));
  };
  section(
    'Runs',
    res.runs.filter((r) => r.status !== 'unchanged').map((r) => `${r.status.padEnd(8)} ${r.name}  ${runIds(r)}${runNote(r) ? `  (${runNote(r)})` : ''}`),
  );
  const valueLine = (d: ValueDelta) => `${d.run}  ${d.file}:${d.key}  ${value(d.base)} → ${value(d.head)}${delta(d) ? `  ${delta(d)}` : ''}`;
  section('Params', res.params.map(valueLine));
  section('Metrics', res.metrics.map(valueLine));
  section('Metric histories', [...res.charts.map(historyLine), ...leftOut(res)]);
  section('Environment', res.environment.flatMap((e) => [`${e.run}: ${shortOid(e.base)} → ${shortOid(e.head)}`, ...envLines(e).map((l) => `  ${l}`)]));
  section(
    'Data',
    res.data.flatMap((c) => [
      `${c.change.padEnd(9)} ${c.change === 'renamed' ? `${c.from} → ${c.path}` : c.path}${c.kind === 'dir' ? '/' : ''}  ${sizeChange(c)}${importNote(c)}`,
      ...(c.files ?? []).map((f) => `    ${f.change.padEnd(9)} ${c.path}/${f.path}  ${sizeChange(f)}`),
    ]),
  );
  if (res.lineage) section('Lineage of the changed outputs', toTree(res.lineage));
  return lines;
}

/** `train loss: base 20 points, last 0.305 → head 20 points, last 0.29`. */
function historyLine(c: HistoryChart): string {
  return `${c.run} ${c.metric}: ${c.lines.map((l) => `${l.side} ${l.points} points, last ${plainNumber(l.last)}`).join(' → ')}`;
}

function leftOut(res: Report): string[] {
  return res.chartsLeftOut ? [`${res.chartsLeftOut} more chart(s) left out to keep the report short (mlx plots draws them all)`] : [];
}

// ---- Markdown ----

/** Each history chart as a Mermaid xychart GitHub draws inline, with a caption saying which line is which. */
function historiesMarkdown(res: Report): string[] {
  if (res.charts.length === 0) return [];
  const lines = ['### Metric histories', ''];
  for (const c of res.charts) lines.push('```mermaid', ...xyChartLines(c), '```', '', xyChartCaption(c), '');
  const more = leftOut(res);
  if (more.length) lines.push(`${more[0]}.`, '');
  return lines;
}

/** A table cell: pipes escaped, newlines folded, so the row stays one row. */
function cell(s: string): string {
  return s.replace(/\|/g, '\\|').replace(/\r?\n/g, ' ');
}

function code(s: string): string {
  const ticks = s.includes('`') ? '``' : '`';
  return `${ticks}${s.includes('`') ? ` ${s} ` : s}${ticks}`;
}

/** Long tables fold into a details block so the comment stays short. */
function table(title: string, header: string[], rows: string[][], foldAfter = 15): string[] {
  if (rows.length === 0) return [];
  const t = [`| ${header.join(' | ')} |`, `| ${header.map(() => '---').join(' | ')} |`, ...rows.map((r) => `| ${r.map(cell).join(' | ')} |`)];
  if (rows.length <= foldAfter) return [`### ${title}`, '', ...t, ''];
  return [`### ${title}`, '', `<details><summary>${rows.length} rows</summary>`, '', ...t, '', '</details>', ''];
}

export function reportMarkdown(res: Report): string[] {
  const lines = [
    `## mlx report: ${code(res.base.rev)} → ${res.head.rev === 'workspace' ? 'work tree' : code(res.head.rev)}`,
    '',
    `**Base** ${code(res.base.rev)} at ${code(res.base.commit.slice(0, 8))} (${res.base.how}) · **head** ${headLabel(res)} (${headDetail(res)})`,
    '',
    `${remoteLine(res)}.`,
    '',
    `${summary(res)}.`,
    '',
  ];
  const shown = res.runs.filter((r) => r.status !== 'unchanged');
  const unchanged = res.runs.length - shown.length;
  lines.push(...table('Runs', ['run', 'status', 'id', 'what changed'], shown.map((r) => [code(r.name), r.status, code(runIds(r)), runNote(r)])));
  if (unchanged) lines.push(`${unchanged} run(s) unchanged.`, '');

  const valueRows = (ds: ValueDelta[]) => ds.map((d) => [code(d.run), `${code(d.file)} ${code(d.key)}`, value(d.base), value(d.head), delta(d) || (d.change === 'same' ? '' : d.change)]);
  lines.push(...table('Params', ['run', 'param', 'base', 'head', 'Δ'], valueRows(res.params)));
  lines.push(...table('Metrics', ['run', 'metric', 'base', 'head', 'Δ'], valueRows(res.metrics)));
  lines.push(...historiesMarkdown(res));

  if (res.environment.length) {
    lines.push('### Environment', '');
    for (const e of res.environment) {
      const changes = envLines(e);
      // Markdown is not rendered inside <summary>: HTML it is.
      lines.push(`<details><summary><code>${html(e.run)}</code>: environment <code>${shortOid(e.base)}</code> → <code>${shortOid(e.head)}</code> (${e.changes ? `${e.changes.length} field(s)` : 'record unavailable'})</summary>`, '');
      if (e.changes?.length) {
        lines.push('| field | base | head |', '| --- | --- | --- |');
        for (const c of e.changes.slice(0, 200)) lines.push(`| ${cell(code(c.path))} | ${cell(value(c.from ?? undefined))} | ${cell(value(c.to ?? undefined))} |`);
        if (e.changes.length > 200) lines.push(`| … | ${e.changes.length - 200} more | |`);
      } else lines.push(changes[0]!);
      lines.push('', '</details>', '');
    }
  }

  lines.push(...dataMarkdown(res.data));

  if (res.lineage) {
    lines.push('### Lineage of the changed outputs', '', '```mermaid', toMermaid(res.lineage, { highlight: res.changedNodes }), '```', '');
    if (res.changedNodes.length) lines.push('Outlined: new or changed at head. Cylinders: source data no recorded run produced.', '');
  }
  if (res.warnings.length) lines.push('> [!WARNING]', ...res.warnings.map((w) => `> ${w}`), '');
  while (lines.at(-1) === '') lines.pop();
  return lines;
}

function html(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function dataMarkdown(changes: PathChange[]): string[] {
  if (changes.length === 0) return ['### Data', '', 'No tracked data changed.', ''];
  const fileCounts = (c: PathChange) =>
    c.files ? (['added', 'modified', 'deleted'] as const).map((k) => `${c.files!.filter((f) => f.change === k).length} ${k}`).join(', ') : c.filesUnknown ? 'unknown' : '';
  const lines = table(
    'Data',
    ['change', 'path', 'size', 'files'],
    changes.map((c) => [c.change, `${c.change === 'renamed' ? `${code(c.from!)} → ${code(c.path)}` : code(`${c.path}${c.kind === 'dir' ? '/' : ''}`)}${importNote(c) ? `<br/>${html(importNote(c).trim())}` : ''}`, sizeChange(c), fileCounts(c)]),
  );
  for (const c of changes.filter((x) => x.files?.length)) {
    lines.push(`<details><summary><code>${html(c.path)}/</code>: ${c.files!.length} file(s) changed</summary>`, '');
    for (const f of c.files!.slice(0, 200)) lines.push(`- ${f.change} ${code(f.path)} ${sizeChange(f)}`);
    if (c.files!.length > 200) lines.push(`- … and ${c.files!.length - 200} more`);
    lines.push('', '</details>', '');
  }
  return lines;
}
