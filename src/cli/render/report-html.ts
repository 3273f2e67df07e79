import type { PathChange } from '../../commands/diff.js';
import type { Report } from '../../commands/report.js';
import { shortOid } from '../../hash/oid.js';
import { chartSvg, type Chart } from '../../plots/chart.js';
import type { HistoryChart } from '../../run/history-chart.js';
import type { ValueDelta } from '../../run/report.js';
import { importNote } from './diff.js';
import { chartsHtml, codeHtml, esc, htmlPage, htmlTable, lineageSvg, type Cell } from './html-page.js';
import { delta, envLines, headDetail, headLabel, remoteLine, runIds, runNote, summary, value } from './report.js';
import { sizeChange } from './sizes.js';

/** `mlx report --html`: the review as one self-contained page, with the charts and the lineage graph drawn inline. */
export function reportHtml(res: Report): string {
  const title = `mlx report: ${res.base.rev} → ${headLabel(res)}`;
  const body = [
    `<h1>${esc(title)}</h1>`,
    `<p class="meta">base ${codeHtml(res.base.rev)} at ${codeHtml(res.base.commit.slice(0, 8))} (${esc(res.base.how)})</p>`,
    `<p class="meta">head ${esc(headLabel(res))} (${esc(headDetail(res))})</p>`,
    `<p class="meta">${esc(remoteLine(res))}</p>`,
    `<p id="summary">${esc(summary(res))}.</p>`,
    ...res.warnings.map((w) => `<div class="warning">${esc(w)}</div>`),
  ];
  const shown = res.runs.filter((r) => r.status !== 'unchanged');
  body.push('<h2>Runs</h2>');
  body.push(shown.length ? htmlTable(['run', 'status', 'id', 'what changed'], shown.map((r) => [{ html: codeHtml(r.name) }, r.status, { html: codeHtml(runIds(r)) }, runNote(r)]), ' id="runs"') : '<p>No run changed.</p>');
  if (res.runs.length > shown.length) body.push(`<p>${res.runs.length - shown.length} run(s) unchanged.</p>`);
  if (res.params.length) body.push('<h2>Params</h2>', htmlTable(['run', 'param', 'base', 'head', 'Δ'], res.params.map(valueRow), ' id="params"'));
  if (res.metrics.length) body.push('<h2>Metrics</h2>', htmlTable(['run', 'metric', 'base', 'head', 'Δ'], res.metrics.map(valueRow), ' id="metrics"'));
  const charts = pageCharts(res);
  if (charts.length) body.push('<h2>Charts</h2>', chartsHtml(charts.map(chartSvg)));
  if (res.chartsLeftOut) body.push(`<p class="meta">${res.chartsLeftOut} more history chart(s) left out (mlx plots draws them all).</p>`);
  if (res.environment.length) {
    body.push('<h2>Environment</h2>');
    for (const e of res.environment) {
      body.push(`<details><summary>${codeHtml(e.run)}: environment ${codeHtml(shortOid(e.base))} → ${codeHtml(shortOid(e.head))}</summary>`, `<ul>${envLines(e).map((l) => `<li>${esc(l)}</li>`).join('')}</ul>`, '</details>');
    }
  }
  body.push('<h2>Data</h2>', res.data.length ? htmlTable(['change', 'path', 'size', 'files'], res.data.map(dataRow), ' id="data"') : '<p>No tracked data changed.</p>');
  if (res.lineage) {
    body.push('<h2>Lineage of the changed outputs</h2>', `<div class="graph-box" id="lineage">${lineageSvg(res.lineage, res.changedNodes).trimEnd()}</div>`);
    if (res.changedNodes.length) body.push('<p class="meta">Outlined: new or changed at head. Cylinders: source data no recorded run produced.</p>');
  }
  return htmlPage(title, body);
}

function valueRow(d: ValueDelta): Array<string | Cell> {
  return [{ html: codeHtml(d.run) }, { html: `${codeHtml(d.file)} ${codeHtml(d.key)}` }, { html: esc(value(d.base)), num: true }, { html: esc(value(d.head)), num: true }, { html: esc(delta(d) || (d.change === 'same' ? '' : d.change)), num: true }];
}

function dataRow(c: PathChange): Array<string | Cell> {
  const files = c.files ? (['added', 'modified', 'deleted'] as const).map((k) => `${c.files!.filter((f) => f.change === k).length} ${k}`).join(', ') : c.filesUnknown ? 'unknown' : '';
  const where = c.change === 'renamed' ? `${codeHtml(c.from!)} → ${codeHtml(c.path)}` : codeHtml(`${c.path}${c.kind === 'dir' ? '/' : ''}`);
  const note = importNote(c).trim();
  return [c.change, { html: `${where}${note ? `<br>${esc(note)}` : ''}` }, { html: esc(sizeChange(c)), num: true }, files];
}

/**
 * The page's charts: the report's metric histories (base against head, on the grid the report
 * downsampled them to) as lines, then each changed final metric that is a number on both sides as
 * two bars.
 */
export function pageCharts(res: Pick<Report, 'charts' | 'metrics'>): Chart[] {
  const lines = res.charts.map(historyLineChart);
  const bars = res.metrics
    .filter((d) => d.change !== 'same' && typeof d.base === 'number' && typeof d.head === 'number')
    .map((d): Chart => ({ kind: 'bar', title: `${d.run}: ${d.key}`, valueLabel: `${d.file}:${d.key}`, bars: [{ label: 'base', value: d.base as number }, { label: 'head', value: d.head as number }], width: 480 }));
  return [...lines, ...bars];
}

function historyLineChart(c: HistoryChart): Chart {
  const step = (i: number, n: number) => (n < 2 ? c.x.min : c.x.min + ((c.x.max - c.x.min) * i) / (n - 1));
  const series = c.lines.map((l) => ({ name: `${l.side} ${l.id}`, points: l.values.map((v, i) => [step(i, l.values.length), v] as const) }));
  return { kind: 'line', title: `${c.run}: ${c.metric}`, xLabel: c.step ?? 'row', yLabel: c.metric, series, width: 520, height: 260 };
}
