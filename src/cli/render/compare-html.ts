import type { Comparison } from '../../commands/runs.js';
import type { PlotsResult } from '../../commands/plots.js';
import { chartSvg } from '../../plots/chart.js';
import { commitText, header, legend, valueText } from './compare.js';
import { chartsHtml, codeHtml, esc, htmlPage, htmlTable, type Cell } from './html-page.js';

/** `mlx runs --compare --html`: the comparison table (best values marked) and the runs' charts, as one self-contained page. */
export function compareHtml(cmp: Comparison, plots: PlotsResult | undefined): string {
  const title = `mlx runs --compare: ${cmp.rows.length} run(s)`;
  const body = [`<h1>${esc(title)}</h1>`];
  if (cmp.rows.length === 0) return htmlPage(title, [...body, '<p>No runs recorded yet.</p>']);
  const numeric = (name: string) => cmp.rows.every((r) => r.values[name] === null || typeof r.values[name] === 'number');
  const rows = cmp.rows.map((r): Array<string | Cell> => [
    { html: codeHtml(r.name) },
    { html: codeHtml(r.id) },
    { html: codeHtml(commitText(r)) },
    ...cmp.columns.map((c) => ({ html: esc(valueText(r.values[c.name])), num: numeric(c.name), ...(r.best.includes(c.name) ? { class: 'best' } : {}) })),
  ]);
  body.push(htmlTable(['run', 'id', 'commit', ...cmp.columns.map(header)], rows, ' id="compare"'));
  if (cmp.columns.some((c) => c.best)) body.push(`<p class="meta">${esc(legend(cmp, 'Highlighted'))}</p>`);
  for (const w of plots?.warnings ?? []) body.push(`<div class="warning">${esc(w)}</div>`);
  if (plots?.charts.length) body.push('<h2>Charts</h2>', chartsHtml(plots.charts.map((c) => chartSvg(c.chart))));
  return htmlPage(title, body);
}
