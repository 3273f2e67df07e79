import { graphSvg } from '../../plots/graph.js';
import { escapeXml } from '../../plots/svg.js';
import type { Lineage } from '../../run/lineage.js';
import { labelLines } from './lineage.js';

/**
 * One self-contained HTML page: styles inline, charts as inline SVG, no script, and a content
 * security policy that forbids every fetch, so the file shows the same offline, in a CI artifact or
 * attached to a pull request.
 */

const STYLE = `
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color: #1f2328; margin: 24px auto; max-width: 1100px; padding: 0 16px; }
h1 { font-size: 22px; margin: 0 0 8px; } h2 { font-size: 17px; margin: 28px 0 8px; border-bottom: 1px solid #d0d7de; padding-bottom: 4px; }
p.meta { color: #59636e; margin: 2px 0; }
table { border-collapse: collapse; margin: 8px 0; } th, td { border: 1px solid #d0d7de; padding: 4px 8px; text-align: left; vertical-align: top; }
th { background: #f6f8fa; } td.num { text-align: right; font-variant-numeric: tabular-nums; }
code { font: 12px ui-monospace, SFMono-Regular, Menlo, monospace; background: #f6f8fa; padding: 1px 4px; border-radius: 4px; }
.best { font-weight: bold; background: #dafbe1; }
.charts { display: flex; flex-wrap: wrap; gap: 12px; } figure { margin: 0; border: 1px solid #d0d7de; border-radius: 6px; padding: 4px; }
.graph-box { overflow-x: auto; border: 1px solid #d0d7de; border-radius: 6px; }
.warning { border-left: 4px solid #bf8700; background: #fff8c5; padding: 6px 10px; margin: 4px 0; }
`;

export function esc(s: string): string {
  return escapeXml(s);
}

/** The page around `body` (HTML already escaped by its makers). */
export function htmlPage(title: string, body: string[]): string {
  return [
    '<!doctype html>',
    '<html lang="en">',
    '<head>',
    '<meta charset="utf-8">',
    `<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">`,
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    `<title>${esc(title)}</title>`,
    `<style>${STYLE}</style>`,
    '</head>',
    '<body>',
    ...body,
    '</body>',
    '</html>',
    '',
  ].join('\n');
}

export interface Cell {
  html: string;
  /** Right-aligned figures. */
  num?: boolean;
  class?: string;
}

/** A table; plain strings are escaped, `Cell`s carry HTML. */
export function htmlTable(header: string[], rows: Array<Array<string | Cell>>, attrs = ''): string {
  const cell = (c: string | Cell) => {
    if (typeof c === 'string') return `<td>${esc(c)}</td>`;
    const classes = [c.num ? 'num' : '', c.class ?? ''].filter(Boolean).join(' ');
    return `<td${classes ? ` class="${classes}"` : ''}>${c.html}</td>`;
  };
  return [`<table${attrs}>`, `<thead><tr>${header.map((h) => `<th>${esc(h)}</th>`).join('')}</tr></thead>`, '<tbody>', ...rows.map((r) => `<tr>${r.map(cell).join('')}</tr>`), '</tbody>', '</table>'].join('\n');
}

export function codeHtml(s: string): string {
  return `<code>${esc(s)}</code>`;
}

/** SVG charts side by side, each in a figure (the SVG carries its own title). */
export function chartsHtml(svgs: string[]): string {
  return ['<div class="charts">', ...svgs.map((s) => `<figure>${s.trimEnd()}</figure>`), '</div>'].join('\n');
}

/** A lineage graph drawn as inline SVG: runs rounded, source data as cylinders, `highlight` outlined. */
export function lineageSvg(g: Pick<Lineage, 'nodes' | 'edges'>, highlight: string[] = []): string {
  const marked = new Set(highlight);
  return graphSvg({
    title: 'lineage',
    nodes: g.nodes.map((n) => ({ id: n.id, lines: labelLines(n), shape: n.type === 'run' ? 'rounded' : n.source ? 'cylinder' : 'box', highlight: marked.has(n.id) })),
    edges: g.edges.map((e) => ({ from: e.from, to: e.to, ...(e.kind === 'same' ? { label: 'same content' } : e.kind === 'part' ? { label: 'contains' } : {}) })),
  });
}
