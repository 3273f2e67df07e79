import type { ChartLine, HistoryChart } from '../../run/history-chart.js';

/*
 * A metric history chart as a Mermaid `xychart-beta` block, which GitHub draws inline in a comment.
 * The grammar takes plain decimals only (no exponents) and quoted labels without quotes inside;
 * GitHub's Mermaid draws no legend, so the colours are fixed by an init directive and told in a
 * caption under the chart: base grey, head orange (as the lineage graph marks what changed).
 */

const COLOURS: Record<ChartLine['side'], { hex: string; name: string }> = { base: { hex: '#8a8a8a', name: 'grey' }, head: { hex: '#d9480f', name: 'orange' } };

/** A number as the xychart grammar reads it: at most 4 significant digits, never in exponent form. */
export function plainNumber(v: number): string {
  const n = Number(v.toPrecision(4));
  const s = String(n);
  if (!/e/i.test(s)) return s;
  if (Math.abs(n) >= 1e21) return BigInt(n).toString(); // a whole number at that size; toFixed would keep the exponent
  const digits = Math.min(20, Math.max(0, 3 - Math.floor(Math.log10(Math.abs(n)))));
  return n.toFixed(digits).replace(/(\.\d*?)0+$/, '$1').replace(/\.$/, '');
}

function label(s: string): string {
  return `"${s.replace(/"/g, "'")}"`;
}

/** The lines inside the ```mermaid fence. */
export function xyChartLines(chart: HistoryChart): string[] {
  const palette = chart.lines.map((l) => COLOURS[l.side].hex).join(', ');
  const values = chart.lines.flatMap((l) => l.values);
  const [lo, hi] = [Math.min(...values), Math.max(...values)];
  // A flat line gets a range around it: Mermaid cannot scale an axis of zero height.
  const yRange = lo === hi ? ` ${plainNumber(lo - (Math.abs(lo) || 1) / 10)} --> ${plainNumber(hi + (Math.abs(hi) || 1) / 10)}` : '';
  return [
    `%%{init: {"themeVariables": {"xyChart": {"plotColorPalette": "${palette}"}}}}%%`,
    'xychart-beta',
    `  title ${label(`${chart.run}: ${chart.metric}`)}`,
    `  x-axis ${label(chart.step ?? 'row')} ${plainNumber(chart.x.min)} --> ${plainNumber(chart.x.max)}`,
    `  y-axis ${label(chart.metric)}${yRange}`,
    ...chart.lines.map((l) => `  line [${l.values.map(plainNumber).join(', ')}]`),
  ];
}

/** Under the chart: which colour is which run, how many points each logged, the last value, and how many are drawn. */
export function xyChartCaption(chart: HistoryChart): string {
  const drawn = chart.lines[0]!.values.length;
  const parts = chart.lines.map((l) => `${COLOURS[l.side].name}: ${l.side} \`${l.id}\` (${l.points} points${l.points > drawn ? `, drawn at ${drawn}` : ''}, last ${plainNumber(l.last)})`);
  return `${parts.join('; ')}.`;
}
