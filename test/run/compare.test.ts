import { describe, expect, it } from 'vitest';
import { compareRuns, directionOf } from '../../src/run/compare.js';
import { sweep } from '../helpers/runs.js';

describe('runs --compare', () => {
  it('tells which way a metric improves by its name', () => {
    const min = ['loss', 'val_loss', 'train/loss', 'eval.rmse', 'error_rate', 'logloss', 'WER', 'latency_ms', 'perplexity', 'runtime'];
    const max = ['accuracy', 'f1', 'bleu', 'auc', 'precision', 'timestamp_count', 'glossary'];
    expect(min.filter((m) => directionOf(m) !== 'min')).toEqual([]);
    expect(max.filter((m) => directionOf(m) !== 'max')).toEqual([]);
  });

  it('lays runs out as rows: a column per param and metric, keys shared by two files named with their file', () => {
    const cmp = compareRuns(sweep());
    expect(cmp.columns.map((c) => [c.kind, c.name, c.best?.direction])).toEqual([
      ['param', 'lr', undefined],
      ['param', 'model.layers', undefined],
      ['metric', 'metrics.json:loss', 'min'],
      ['metric', 'accuracy', 'max'],
      ['metric', 'eval.json:loss', 'min'],
      ['metric', 'bleu', 'max'],
    ]);
    expect(cmp.rows.map((r) => r.values)).toEqual([
      { lr: 0.2, 'model.layers': 2, 'metrics.json:loss': 0.5, accuracy: 0.81, 'eval.json:loss': 0.7, bleu: 'n/a' },
      { lr: 0.05, 'model.layers': 2, 'metrics.json:loss': 0.25, accuracy: 0.93, 'eval.json:loss': 0.4, bleu: null },
      { lr: 0.01, 'model.layers': 2, 'metrics.json:loss': 0.25, accuracy: 0.9, 'eval.json:loss': null, bleu: null },
    ]);
    // Ties are all best; text is never best; the order is the order given.
    expect(cmp.rows.map((r) => [r.name, r.best])).toEqual([
      ['lr-0.2', []],
      ['lr-0.05', ['metrics.json:loss', 'accuracy', 'eval.json:loss']],
      ['lr-0.01', ['metrics.json:loss']],
    ]);
    expect(cmp.sort).toBeUndefined();
  });

  it('picks columns by name, key or file:key, and a flag turns a metric the other way', () => {
    const cmp = compareRuns(sweep(), { params: ['lr'], metrics: ['accuracy:min', 'eval.json:loss'] });
    expect(cmp.columns.map((c) => [c.name, c.best])).toEqual([
      ['lr', undefined],
      ['accuracy', { direction: 'min', by: 'flag' }],
      ['eval.json:loss', { direction: 'min', by: 'name' }],
    ]);
    expect(cmp.rows.map((r) => r.best)).toEqual([['accuracy'], ['eval.json:loss'], []]);
    // `loss` alone names both files' columns.
    expect(compareRuns(sweep(), { metrics: ['loss'] }).columns.filter((c) => c.kind === 'metric').map((c) => c.name)).toEqual(['metrics.json:loss', 'eval.json:loss']);
    expect(compareRuns(sweep(), { params: [] }).columns.filter((c) => c.kind === 'param')).toEqual([]);
  });

  it('sorts by a metric best first, by a param ascending, or as told; missing values go last', () => {
    const names = (sort: string) => compareRuns(sweep(), { sort }).rows.map((r) => r.name);
    expect(names('accuracy')).toEqual(['lr-0.05', 'lr-0.01', 'lr-0.2']);
    expect(names('accuracy:asc')).toEqual(['lr-0.2', 'lr-0.01', 'lr-0.05']);
    expect(names('eval.json:loss')).toEqual(['lr-0.05', 'lr-0.2', 'lr-0.01']);
    expect(names('eval.json:loss:desc')).toEqual(['lr-0.2', 'lr-0.05', 'lr-0.01']);
    expect(names('lr')).toEqual(['lr-0.01', 'lr-0.05', 'lr-0.2']);
    expect(compareRuns(sweep(), { sort: 'lr:desc' }).sort).toEqual({ column: 'lr', order: 'desc' });
  });

  it('all alike is no best; one run is no comparison', () => {
    const same = sweep().map((r) => ({ ...r, run: { ...r.run, metrics: { 'm.json': { rows: 480 } } } }));
    expect(compareRuns(same).rows.every((r) => r.best.length === 0)).toBe(true);
    expect(compareRuns(sweep().slice(0, 1)).rows[0]!.best).toEqual([]);
  });

  it('a column or sort key that names nothing is one usage error listing what there is', () => {
    expect(() => compareRuns(sweep(), { metrics: ['acc'] })).toThrow('--metrics acc: no run compared has a metric acc (they have: metrics.json:loss, accuracy, eval.json:loss, bleu)');
    expect(() => compareRuns(sweep(), { params: ['seed'] })).toThrow('--params seed: no run compared has a param seed (they have: lr, model.layers)');
    expect(() => compareRuns(sweep(), { sort: 'loss' })).toThrow('--sort loss: names 2 columns (metrics.json:loss, eval.json:loss)');
    expect(() => compareRuns(sweep(), { sort: 'f1:desc' })).toThrow('--sort f1:desc: names no column (lr, model.layers, metrics.json:loss, accuracy, eval.json:loss, bleu)');
  });
});
