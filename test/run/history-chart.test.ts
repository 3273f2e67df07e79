import { describe, expect, it } from 'vitest';
import { downsample, historyCharts, MAX_CHART_POINTS } from '../../src/run/history-chart.js';
import type { RunHistories } from '../../src/run/metric-history.js';

const histories = (id: string, metrics: RunHistories['metrics']): RunHistories => ({
  run: { name: 'train', id, record: 'b3:x' },
  metrics,
  sources: Object.fromEntries(Object.keys(metrics).map((m) => [m, { file: 'h.csv', step: 'step' }])),
});
const line = (from: number, to: number, f: (s: number) => number) => Array.from({ length: to - from + 1 }, (_, i): [number, number] => [from + i, f(from + i)]);

describe('downsample', () => {
  it('keeps the values of a short, evenly spaced series', () => {
    expect(downsample([[0, 5], [10, 4], [20, 3]], 0, 20, 3)).toEqual([5, 4, 3]);
  });

  it('averages the points nearest each grid step', () => {
    // 0..99 onto 3 steps (0, 49.5, 99): 0..24 → 0, 25..74 → 1, 75..99 → 2.
    const out = downsample(line(0, 99, (s) => s), 0, 99, 3);
    expect(out).toEqual([12, 49.5, 87]);
  });

  it('fills a grid step no point is near with the line between its neighbours, and reads steps in any order', () => {
    expect(downsample([[10, 1], [0, 0]], 0, 10, 5)).toEqual([0, 0.25, 0.5, 0.75, 1]);
  });

  it('is deterministic, and a 10,000-step history comes out at 50 values', () => {
    const noisy = line(1, 10_000, (s) => 1 / s + ((s * 7919) % 13) / 1000);
    const a = downsample(noisy, 1, 10_000, MAX_CHART_POINTS);
    expect(a).toHaveLength(50);
    expect(downsample(noisy, 1, 10_000, MAX_CHART_POINTS)).toEqual(a);
    expect(a[0]).toBeGreaterThan(a[49]!);
  });
});

describe('historyCharts', () => {
  it('draws base and head on one grid when they log the same steps', () => {
    const charts = historyCharts('train', histories('r-base', { loss: line(1, 20, (s) => 1 / s) }), histories('r-head', { loss: line(1, 20, (s) => 2 / s), acc: line(1, 20, (s) => s / 20) }));
    expect(charts.map((c) => [c.metric, c.x, c.lines.map((l) => [l.side, l.id, l.values.length, l.points, l.last])])).toEqual([
      ['loss', { min: 1, max: 20 }, [['base', 'r-base', 20, 20, 0.05], ['head', 'r-head', 20, 20, 0.1]]],
      ['acc', { min: 1, max: 20 }, [['head', 'r-head', 20, 20, 1]]],
    ]);
  });

  it('gives each side its own chart when their steps differ, and skips a side with fewer than two points', () => {
    const charts = historyCharts('train', histories('r-base', { loss: line(1, 20, (s) => s), acc: [[1, 0.5]] }), histories('r-head', { loss: line(1, 30, (s) => s), acc: line(1, 3, (s) => s) }));
    expect(charts.map((c) => [c.metric, c.x.max, c.lines.map((l) => l.side)])).toEqual([
      ['loss', 20, ['base']],
      ['loss', 30, ['head']],
      ['acc', 3, ['head']],
    ]);
  });

  it('draws a 10,000-step history of 50 runs at 50 points each', () => {
    const big = (id: string) => histories(id, { loss: line(1, 10_000, (s) => 1 / s) });
    const sides = Array.from({ length: 50 }, (_, i) => [big(`r-b${i}`), big(`r-h${i}`)] as const);
    const t0 = process.hrtime.bigint();
    const charts = sides.flatMap(([b, h], i) => historyCharts(`run${i}`, b, h));
    // How long it took is printed, not asserted: the machine's load decides it.
    console.log(`50 runs × 2 sides × 10,000 steps charted in ${Number(process.hrtime.bigint() - t0) / 1e6} ms`);
    expect(charts).toHaveLength(50);
    expect(charts.every((c) => c.lines.every((l) => l.values.length === 50 && l.points === 10_000))).toBe(true);
  });
});
