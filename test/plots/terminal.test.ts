import { describe, expect, it } from 'vitest';
import { plainBars, plainLineSummary, plainScatter } from '../../src/plots/plain.js';
import { terminalBarChart, terminalLineChart, terminalScatterChart } from '../../src/plots/terminal.js';
import { lossHistories } from './fixtures.js';

describe('terminal charts', () => {
  it('draw lines in braille within the width, with axis values and a legend', async () => {
    const lines = terminalLineChart('loss', lossHistories(2, 200), { width: 60, height: 8 });
    for (const l of lines) expect([...l].length).toBeLessThanOrEqual(60);
    expect(lines.at(-2)).toBe('━━ train lr=0.001');
    await expect(lines.join('\n')).toMatchFileSnapshot('__snapshots__/terminal-line.txt');
  });

  it('colour each series when asked, and only then', () => {
    const series = lossHistories(2, 50);
    expect(terminalLineChart('loss', series, { width: 40, height: 4, color: true }).join('\n')).toContain('\x1b[33m');
    expect(terminalLineChart('loss', series, { width: 40, height: 4 }).join('\n')).not.toContain('\x1b[');
  });

  it('draw bars with eighths, the longest bar filling the room', async () => {
    const lines = terminalBarChart('accuracy', [{ label: 'a', value: 1 }, { label: 'bb', value: 0.5 }, { label: 'c', value: 0.0625 }], { width: 30 });
    expect(lines).toEqual(['accuracy', 'a  ████████████████████ 1', 'bb ██████████           0.5', 'c  █▎                   0.0625']);
  });

  it('draw dots for a scatter chart', async () => {
    const lines = terminalScatterChart('acc vs lr', [{ x: 0, y: 0, label: 'a', group: 'g' }, { x: 1, y: 1, label: 'b', group: 'g' }], { width: 30, height: 4 });
    await expect(lines.join('\n')).toMatchFileSnapshot('__snapshots__/terminal-scatter.txt');
  });

  it('say so when there is nothing to draw', () => {
    expect(terminalLineChart('loss', [{ name: 'x', points: [] }], { width: 40 })).toEqual(['loss', '  (no data)']);
  });
});

describe('plain text', () => {
  it('summarises each history in columns', () => {
    expect(plainLineSummary('loss', [{ name: 'train', points: [[0, 2], [1, 0.5], [2, 0.7]] }, { name: 'empty', points: [] }])).toEqual([
      'loss',
      '  series  steps  from  to  first  min  max  last',
      '  train   3      0     2   2      0.5  2    0.7',
      '  empty   0',
    ]);
  });

  it('lists bars and points as values', () => {
    expect(plainBars('acc', [{ label: 'a', value: 0.5 }, { label: 'long', value: 1 }])).toEqual(['acc', '  a     0.5', '  long  1']);
    expect(plainScatter('acc vs lr', 'lr', 'acc', [{ x: 0.1, y: 0.9, label: 'r-1', group: 'g' }])).toEqual(['acc vs lr', '  run  lr   acc', '  r-1  0.1  0.9']);
  });
});
