import { describe, expect, it } from 'vitest';
import { barChartSvg } from '../../src/plots/bar-chart.js';
import { bucketsPerSeries, lineChartSvg } from '../../src/plots/line-chart.js';
import { scatterChartSvg } from '../../src/plots/scatter-chart.js';
import { coord, escapeXml } from '../../src/plots/svg.js';
import { lossHistories } from './fixtures.js';

// The SVG is compared whole against files in __snapshots__/ (open them in a browser to look).
// After a deliberate change of the drawing: npx vitest run test/plots -u, and look at the diff.

const line = () =>
  lineChartSvg({
    title: 'loss <train & eval>',
    xLabel: 'step',
    yLabel: 'loss',
    series: [
      { name: 'base "main"', points: [[0, 2.3], [10, 1.1], [20, 0.7], [30, 0.52], [40, 0.48]] },
      { name: 'head', points: [[0, 2.3], [10, 0.9], [20, 0.5], [30, 0.41], [40, 0.37], [50, 0.36]] },
      { name: 'single step', points: [[25, 1.5]] },
    ],
  });

describe('SVG charts', () => {
  it('a line chart matches its snapshot and is the same bytes every time', async () => {
    const svg = line();
    expect(line()).toBe(svg);
    await expect(svg).toMatchFileSnapshot('__snapshots__/line-chart.svg');
  });

  it('escapes labels in text and attributes', () => {
    const svg = line();
    expect(svg).toContain('loss &lt;train &amp; eval&gt;');
    expect(svg).toContain('data-series="base &quot;main&quot;"');
    expect(svg).not.toContain('<train');
  });

  it('a bar chart matches its snapshot, negative values to the left of zero', async () => {
    const svg = barChartSvg({ title: 'accuracy by run', valueLabel: 'accuracy', bars: [{ label: 'train-a', value: 0.91 }, { label: 'train-b', value: -0.2 }, { label: 'a very long run name that must be shortened', value: 0.5 }, { label: 'nan', value: NaN }] });
    expect(svg.match(/class="bar"/g)).toHaveLength(4);
    await expect(svg).toMatchFileSnapshot('__snapshots__/bar-chart.svg');
  });

  it('a scatter chart matches its snapshot, one legend entry per group', async () => {
    const points = [0.001, 0.003, 0.01, 0.03, 0.1].flatMap((lr, i) => [
      { x: lr, y: 0.7 + i * 0.05, label: `r-${i}`, group: 'train' },
      { x: lr, y: 0.6 + i * 0.04, label: `r-${i + 5}`, group: 'train-small' },
    ]);
    const svg = scatterChartSvg({ title: 'accuracy against lr', xLabel: 'lr', yLabel: 'accuracy', points });
    expect(svg.match(/class="point"/g)).toHaveLength(10);
    expect(svg.match(/class="legend-entry"/g)).toHaveLength(2);
    await expect(svg).toMatchFileSnapshot('__snapshots__/scatter-chart.svg');
  });

  it('50 runs of 10,000 steps come out small: the lines are downsampled, the legend names every run', () => {
    const series = lossHistories(50, 10_000);
    const svg = lineChartSvg({ title: 'loss', series });
    const points = [...svg.matchAll(/ d="([^"]+)"/g)].map((m) => m[1]!.split(/[ML]/).length - 1);
    expect(svg.match(/class="series"/g)).toHaveLength(50);
    expect(svg.match(/class="legend-entry"/g)).toHaveLength(50);
    expect(Math.max(...points)).toBeLessThanOrEqual(2 * bucketsPerSeries(50, 560) + 2);
    expect(svg.length).toBeLessThan(250_000);
  });

  it('an empty chart says so instead of drawing nothing', () => {
    expect(lineChartSvg({ title: 'loss', series: [] })).toContain('>no data</text>');
  });

  it('numbers are written one way: a tenth of a pixel, no -0', () => {
    expect([1.25, -0.04, 3, 2.449, 1e-9].map(coord)).toEqual(['1.3', '0', '3', '2.4', '0']);
    expect(escapeXml(`<a href='x'>&"`)).toBe('&lt;a href=&#39;x&#39;&gt;&amp;&quot;');
  });
});
