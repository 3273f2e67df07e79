import { describe, expect, it } from 'vitest';
import { plainNumber, xyChartCaption, xyChartLines } from '../../src/cli/render/xychart.js';
import { historyCharts } from '../../src/run/history-chart.js';
import type { RunHistories } from '../../src/run/metric-history.js';

const histories = (id: string, metrics: RunHistories['metrics'], step: string | null = 'step'): RunHistories => ({
  run: { name: 'train', id, record: 'b3:x' },
  metrics,
  sources: Object.fromEntries(Object.keys(metrics).map((m) => [m, { file: 'h.csv', step }])),
});
const line = (from: number, to: number, f: (s: number) => number) => Array.from({ length: to - from + 1 }, (_, i): [number, number] => [from + i, f(from + i)]);

// Mermaid xychart blocks as `mlx report --md` writes them, compared whole against stored files
// (test/cli/__snapshots__/xychart-*.txt). After a deliberate change: npx vitest run <this file> -u.
describe('xychart blocks', () => {
  it('numbers as the grammar reads them: no exponents, 4 significant digits', () => {
    expect([1e-7, -2.5e-5, 0.1 + 0.2, 123456789, 1e21, -0.5, 0, 20].map(plainNumber)).toEqual(['0.0000001', '-0.000025', '0.3', '123500000', '1000000000000000000000', '-0.5', '0', '20']);
  });

  it('base and head on one chart: grey and orange, told in the caption', async () => {
    const [chart] = historyCharts('train "big"', histories('r-1111111111111111', { val_loss: line(1, 12, (s) => 2 / s) }), histories('r-2222222222222222', { val_loss: line(1, 12, (s) => 1.5 / s) }));
    await expect([...xyChartLines(chart!), '', xyChartCaption(chart!)].join('\n') + '\n').toMatchFileSnapshot('./__snapshots__/xychart-base-head.txt');
  });

  it('a 10,000-step history is drawn at 50 points, a flat one gets a y range, the row number labels x when there is no step', async () => {
    const [long] = historyCharts('sweep', undefined, histories('r-3333333333333333', { loss: line(0, 9_999, (s) => 1 / (1 + s / 100)) }, null));
    const [flat] = historyCharts('eval', undefined, histories('r-4444444444444444', { accuracy: line(1, 3, () => 0.5) }));
    expect(long!.lines[0]!.values).toHaveLength(50);
    const text = [long!, flat!].flatMap((c) => [...xyChartLines(c), '', xyChartCaption(c), '']).join('\n');
    await expect(text).toMatchFileSnapshot('./__snapshots__/xychart-long-flat.txt');
  });
});
