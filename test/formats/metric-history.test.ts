import { describe, expect, it } from 'vitest';
import { historyFormatOf, parseMetricHistory } from '../../src/formats/metric-history.js';

const fail = (why: string) => new Error(why);

describe('metric history format', () => {
  it('is told by the extension', () => {
    expect(['a.jsonl', 'b.ndjson', 'c.CSV', 'd/e.tsv', 'm.json', 'm.yaml', 'csv'].map(historyFormatOf)).toEqual(['jsonl', 'jsonl', 'csv', 'tsv', undefined, undefined, undefined]);
  });

  it('reads a DVCLive TSV: timestamp is no metric, step is the step', () => {
    const h = parseMetricHistory('timestamp\tstep\tloss\n1700000000000\t0\t2.5\n1700000000100\t1\t1.25\n', 'tsv', fail);
    expect(h).toEqual({ step: 'step', steps: 2, metrics: { loss: [[0, 2.5], [1, 1.25]] } });
  });

  it('reads CSV with CRLF lines, quoted cells and gaps (a metric logged every other step, a nan)', () => {
    const text = 'Step,loss,val_loss,"note, free"\r\n10,1.0,,"a, b"\r\n20,0.5,0.75,x\r\n30,nan,0.5,\r\n';
    expect(parseMetricHistory(text, 'csv', fail)).toEqual({
      step: 'Step',
      steps: 3,
      metrics: { loss: [[10, 1], [20, 0.5]], val_loss: [[20, 0.75], [30, 0.5]] },
    });
  });

  it('reads JSON lines, nested maps as dotted names, and prefers step over epoch', () => {
    const text = '{"epoch": 0, "step": 5, "train": {"loss": 3}, "lr": 0.1}\n\n{"epoch": 1, "step": 9, "train": {"loss": 2}, "eval": {"acc": 0.5}, "tags": [1]}\n';
    expect(parseMetricHistory(text, 'jsonl', fail)).toEqual({
      step: 'step',
      steps: 2,
      metrics: { 'train.loss': [[5, 3], [9, 2]], lr: [[5, 0.1]], 'eval.acc': [[9, 0.5]] },
    });
  });

  it('reads past the byte-order mark a spreadsheet writes', () => {
    expect(parseMetricHistory('\uFEFFstep,loss\n1,2\n', 'csv', fail)).toEqual({ step: 'step', steps: 1, metrics: { loss: [[1, 2]] } });
  });

  it('counts rows from 0 when no column names a step, and takes epoch when it is the only counter', () => {
    expect(parseMetricHistory('loss\n3\n2\n', 'csv', fail)).toEqual({ step: null, steps: 2, metrics: { loss: [[0, 3], [1, 2]] } });
    expect(parseMetricHistory('epoch,acc\n1,0.5\n2,0.75\n', 'csv', fail).step).toBe('epoch');
  });

  it('an empty log has no rows and no metrics', () => {
    expect(parseMetricHistory('', 'jsonl', fail)).toEqual({ step: null, steps: 0, metrics: {} });
    expect(parseMetricHistory('step,loss\n', 'csv', fail)).toEqual({ step: 'step', steps: 0, metrics: {} });
  });

  it('refuses what is no history, naming the line', () => {
    expect(() => parseMetricHistory('{"step": 1}\n{"step": 2\n', 'jsonl', fail)).toThrow('line 2 is not valid JSON');
    expect(() => parseMetricHistory('[1, 2]\n', 'jsonl', fail)).toThrow('line 1 is not a JSON object');
    expect(() => parseMetricHistory('1,2\n3,4\n', 'csv', fail)).toThrow('line 1: expected a header row');
    expect(() => parseMetricHistory('step,loss\n1,2\n,3\n', 'csv', fail)).toThrow('line 3: the step (step) is missing, not a number');
    expect(() => parseMetricHistory('{"step": "x", "loss": 1}\n', 'jsonl', fail)).toThrow('line 1: the step (step) is "x", not a number');
  });
});
