import path from 'node:path';
import type { PlotsResult } from '../../commands/plots.js';
import { plainChart, terminalChart } from '../../plots/chart.js';

/** How `mlx plots` prints: charts drawn for a terminal of `columns`, plain text for anything else. */
export interface PlotsDisplay {
  terminal?: { columns: number; color: boolean };
  cwd: string;
}

export function plotsLines(res: PlotsResult, display: PlotsDisplay): string[] {
  if (res.charts.length === 0) return [`nothing to plot: ${res.runs.length} run(s) with no numeric metrics or histories`];
  if (res.written) return res.written.map((f) => `wrote ${path.relative(display.cwd, f) || f}`);
  const t = display.terminal;
  return res.charts.flatMap(({ chart }, i) => [
    ...(i ? [''] : []),
    ...(t ? terminalChart(chart, { width: Math.min(t.columns, 120), height: 12, color: t.color }) : plainChart(chart)),
  ]);
}
