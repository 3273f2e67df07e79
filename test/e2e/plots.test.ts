import fs from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { expectCleanError, mlx, mlxJson, mlxOk } from '../helpers/cli.js';
import { mlxInPty } from '../helpers/pty.js';
import { sweepRepo } from '../helpers/sweep.js';

// mlx plots over a sweep of three runs of `train` (lr 0.05 and 0.1 committed, 0.2 in the work tree).
let dir: string;
beforeAll(async () => {
  dir = await sweepRepo([0.05, 0.1, 0.2]);
});

/** Run ids in output replaced by <id>, so the text can be compared whole. */
const clean = (s: string) => s.replace(/r-[0-9a-f]{8}/g, '<id>');

describe('mlx plots', () => {
  it('without runs, plots the runs of mlx.lock; piped, it prints what each chart shows as text', () => {
    expect(mlxOk(dir, 'plots').stdout).toBe(
      [
        'acc',
        '  series  steps  from  to   first  min  max     last',
        '  train   200    0     199  0      0    0.9497  0.9497',
        '',
        'loss',
        '  series  steps  from  to   first  min     max  last',
        '  train   200    0     199  2      0.1007  2    0.1007',
        '',
        'accuracy',
        '  train  0.9497',
        '',
        'loss',
        '  train  0.1007',
        '',
      ].join('\n'),
    );
  });

  it('--all -o writes one SVG per chart, the same bytes every time', () => {
    const out = mlxOk(dir, 'plots', '--all', '-o', 'charts').stdout;
    expect(out).toBe(['wrote charts/history-acc.svg', 'wrote charts/history-loss.svg', 'wrote charts/final-accuracy.svg', 'wrote charts/final-loss.svg', ''].join('\n'));
    const first = fs.readFileSync(path.join(dir, 'charts/history-loss.svg'), 'utf8');
    expect(first.match(/class="series"/g)).toHaveLength(3);
    expect(first.match(/<text[^>]*>train r-[0-9a-f]{8}<\/text>/g)).toHaveLength(3);
    expect(fs.readFileSync(path.join(dir, 'charts/final-accuracy.svg'), 'utf8').match(/class="bar"/g)).toHaveLength(3);
    mlxOk(dir, 'plots', '--all', '-o', 'charts');
    expect(fs.readFileSync(path.join(dir, 'charts/history-loss.svg'), 'utf8')).toBe(first);
  });

  it('-x plots a final metric against a param, one point per run', () => {
    expect(clean(mlxOk(dir, 'plots', '--all', '-x', 'lr', '-m', 'accuracy').stdout)).toBe(
      ['accuracy against lr', '  run               lr    accuracy', '  train <id>  0.05  0.8201', '  train <id>  0.1   0.9322', '  train <id>  0.2   0.9497', ''].join('\n'),
    );
    const res = mlxJson(dir, 'plots', '--all', '-x', 'params.yaml:lr', '-m', 'accuracy,loss', '-o', 'x');
    expect(res.charts.map((c: { name: string; chart: { kind: string } }) => `${c.name} ${c.chart.kind}`)).toEqual(['history-loss line', 'accuracy-vs-params.yaml:lr scatter', 'loss-vs-params.yaml:lr scatter']);
    expect(fs.readdirSync(path.join(dir, 'x')).sort()).toEqual(['accuracy-vs-params.yaml_lr.svg', 'history-loss.svg', 'loss-vs-params.yaml_lr.svg']);
  });

  it('named runs are plotted in the order given', () => {
    const { entries } = mlxJson(dir, 'runs');
    const ids: string[] = entries.map((e: { run: { id: string } }) => e.run.id);
    const res = mlxJson(dir, 'plots', ids[2]!, ids[0]!, '-m', 'loss');
    expect(res.runs.map((r: { id: string }) => r.id)).toEqual([ids[2], ids[0]]);
  });

  it('in a terminal, draws the charts in braille with a legend of the runs', () => {
    const r = mlxInPty(dir, ['plots', '--all', '-m', 'loss']);
    expect(r.code).toBe(0);
    const text = r.output.replace(/\x1b\[[0-9;]*m/g, '');
    expect(text).toMatch(/[\u2801-\u28ff]/);
    expect(text.match(/━━ train r-[0-9a-f]{8}/g)).toHaveLength(3);
    expect(r.output).toContain('\x1b[34m');
    for (const line of text.split(/\r?\n/)) expect([...line].length).toBeLessThanOrEqual(120);
  });

  it('bad input is one clear line', () => {
    expect(expectCleanError(mlx(dir, 'plots', '-m', 'nope'))).toBe('mlx: error: no selected run has a metric "nope" (metrics: acc, loss, accuracy)');
    expect(expectCleanError(mlx(dir, 'plots', '-x', 'momentum'))).toBe('mlx: error: no selected run has a param "momentum" (give it as key or file:key, as mlx show lists params)');
    expect(expectCleanError(mlx(dir, 'plots', 'train', '--all'))).toBe('mlx: error: give runs or --all, not both');
    expect(expectCleanError(mlx(dir, 'plots', 'r-ffffffff'))).toMatch(/^mlx: error: no run "r-ffffffff"/);
  });
});
