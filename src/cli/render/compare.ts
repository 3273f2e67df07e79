import type { CompareColumn, CompareRow, Comparison } from '../../commands/runs.js';

/*
 * `mlx runs --compare` as text (aligned columns, params | metrics), Markdown (a table for a pull request
 * or a notebook) and CSV (values only, for a spreadsheet). A metric's header carries ↑ (higher is
 * better) or ↓; its best value is starred in text and bold in Markdown.
 */

const NO_RUNS = 'no runs recorded yet (mlx run -n <name> ... -- <command>)';

/** One value as a cell: numbers to 6 significant digits, text as is, lists and maps as JSON, none as `-`. */
export function valueText(v: unknown): string {
  if (v === null || v === undefined) return '-';
  if (typeof v === 'number') return String(+v.toPrecision(6));
  return typeof v === 'string' ? v : JSON.stringify(v);
}

export function header(c: CompareColumn): string {
  return c.best ? `${c.name} ${c.best.direction === 'max' ? '↑' : '↓'}` : c.name;
}

export function commitText(r: CompareRow): string {
  return r.commit ? r.commit.slice(0, 8) : 'uncommitted';
}

/** What the marks mean, and which metrics had their direction from a flag. */
export function legend(cmp: Comparison, mark: string): string {
  const flagged = cmp.columns.filter((c) => c.best?.by === 'flag').map((c) => c.name);
  const sorted = cmp.sort ? `; sorted by ${cmp.sort.column} (${cmp.sort.order === 'asc' ? 'ascending' : 'descending'})` : '';
  const told = flagged.length ? `as --metrics says for ${flagged.join(', ')}, as the name suggests for the others` : 'as the name suggests; --metrics name:min|max says otherwise';
  return `${mark}: the best value of each metric (↑ higher is better, ↓ lower, ${told})${sorted}`;
}

export function compareText(cmp: Comparison): string[] {
  if (cmp.rows.length === 0) return [NO_RUNS];
  const params = cmp.columns.filter((c) => c.kind === 'param');
  const metrics = cmp.columns.filter((c) => c.kind === 'metric');
  const cell = (r: CompareRow, c: CompareColumn) => valueText(r.values[c.name]) + (r.best.includes(c.name) ? '*' : c.best ? ' ' : '');
  const lead = [['run', ...cmp.rows.map((r) => r.name)], ['id', ...cmp.rows.map((r) => r.id)], ['commit', ...cmp.rows.map(commitText)]];
  const group = (cols: CompareColumn[]) => cols.map((c) => ({ cells: [header(c), ...cmp.rows.map((r) => cell(r, c))], right: cmp.rows.every((r) => r.values[c.name] === null || typeof r.values[c.name] === 'number') }));
  const blocks = [lead.map((cells) => ({ cells, right: false })), group(params), group(metrics)].filter((b) => b.length);
  const lines: string[] = [];
  for (let i = 0; i <= cmp.rows.length; i++) {
    const parts = blocks.map((b) => b.map(({ cells, right }) => pad(cells[i]!, Math.max(...cells.map(width)), right)).join('  '));
    lines.push(parts.join(' | ').trimEnd());
  }
  if (metrics.length) lines.push('', legend(cmp, '*'));
  return lines;
}

/** Characters as a terminal shows them (the arrows are one each). */
function width(s: string): number {
  return [...s].length;
}

function pad(s: string, w: number, right: boolean): string {
  const fill = ' '.repeat(Math.max(0, w - width(s)));
  return right ? fill + s : s + fill;
}

export function compareMarkdown(cmp: Comparison): string[] {
  if (cmp.rows.length === 0) return [NO_RUNS];
  const esc = (s: string) => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');
  const code = (s: string) => `\`${s.replace(/`/g, "'")}\``;
  const head = ['run', 'id', 'commit', ...cmp.columns.map(header)];
  const lines = [`| ${head.map(esc).join(' | ')} |`, `| ${head.map((_, i) => (i < 3 ? '---' : '---:')).join(' | ')} |`];
  for (const r of cmp.rows) {
    const cells = cmp.columns.map((c) => {
      const t = esc(valueText(r.values[c.name]));
      return r.best.includes(c.name) ? `**${t}**` : t;
    });
    lines.push(`| ${[code(r.name), code(r.id), code(commitText(r)), ...cells].join(' | ')} |`);
  }
  if (cmp.columns.some((c) => c.best)) lines.push('', legend(cmp, 'Bold'));
  return lines;
}

/** RFC 4180: one header row, then a row per run; no marks (the data only). */
export function compareCsv(cmp: Comparison): string[] {
  const quote = (s: string) => (/[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s);
  const raw = (v: unknown) => (v === null || v === undefined ? '' : typeof v === 'string' ? v : typeof v === 'number' ? String(v) : JSON.stringify(v));
  return [
    ['run', 'id', 'commit', 'started', ...cmp.columns.map((c) => c.name)].map(quote).join(','),
    ...cmp.rows.map((r) => [r.name, r.id, r.commit ?? '', r.started, ...cmp.columns.map((c) => raw(r.values[c.name]))].map(quote).join(',')),
  ];
}
