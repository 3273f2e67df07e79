import fs from 'node:fs';
import path from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { readRecordHistories, readRunHistories } from '../../src/run/metric-history.js';
import { readRunLock } from '../../src/run/lockfile.js';
import { isMlxError, E } from '../../src/util/errors.js';
import { openRepo } from '../../src/workspace/repo.js';
import { expectCleanError, mlx, mlxJson, mlxOk } from '../helpers/cli.js';
import { gitCloneLocal, gitCommitAll, tempDir, useTempRepo, write } from '../helpers/repo.js';

// A training loop that logs per step: a CSV (loss every step, val_loss every other) and JSON lines
// whose `loss` collides with the CSV's; the final metrics go to a JSON file as before.
const LOGGER = `
import fs from 'node:fs';
fs.mkdirSync('logs', { recursive: true });
const csv = ['step,loss,val_loss'];
const jsonl = [];
for (let s = 0; s < 5; s++) {
  csv.push(s + ',' + (1 / (s + 1)) + ',' + (s % 2 ? '' : 2 / (s + 1)));
  jsonl.push(JSON.stringify({ epoch: s, loss: s * 10, eval: { acc: s / 10 } }));
}
fs.writeFileSync('logs/train.csv', csv.join('\\n') + '\\n');
fs.writeFileSync('logs/eval.jsonl', jsonl.join('\\n') + '\\n');
fs.writeFileSync('logs/final.json', JSON.stringify({ loss: 0.2 }));
`;
const RUN = ['run', '-n', 'train', '-d', 'log.mjs', '-M', 'logs/train.csv', '-M', 'logs/eval.jsonl', '-M', 'logs/final.json', '--', 'node', 'log.mjs'];

const repo = useTempRepo((d) => {
  write(d, 'log.mjs', LOGGER);
  mlxOk(d, 'init');
});
let dir: string;
beforeEach(() => {
  dir = repo();
});

describe('metrics histories', () => {
  it('mlx run stores each history as an object and summarises it in the run; readers give every point', async () => {
    const res = mlxOk(dir, ...RUN).stdout;
    expect(res).toContain('  logs/train.csv: loss, val_loss over 5 steps\n  logs/eval.jsonl: loss, eval.acc over 5 rows (by epoch)\n');
    const r = await openRepo(dir);
    const run = readRunLock(r).runs.train!;
    expect(run.metrics).toEqual({ 'logs/final.json': { loss: 0.2 } });
    const csvBytes = fs.readFileSync(path.join(dir, 'logs/train.csv'));
    expect(run.histories!['logs/train.csv']).toMatchObject({ format: 'csv', size: csvBytes.length, step: 'step', steps: 5, metrics: ['loss', 'val_loss'] });
    expect(r.store.readBytes(run.histories!['logs/train.csv']!.oid).equals(csvBytes)).toBe(true);
    expect(run.histories!['logs/eval.jsonl']).toMatchObject({ format: 'jsonl', step: 'epoch', steps: 5, metrics: ['loss', 'eval.acc'] });

    // The logs may go away from the work tree: the run's copies are in the cache.
    fs.rmSync(path.join(dir, 'logs'), { recursive: true });
    const h = readRunHistories(r, { name: 'train', run });
    expect(h.run).toEqual({ name: 'train', id: run.id, record: run.record });
    expect(h.metrics).toEqual({
      'logs/train.csv:loss': [[0, 1], [1, 0.5], [2, 1 / 3], [3, 0.25], [4, 0.2]],
      val_loss: [[0, 2], [2, 2 / 3], [4, 0.4]],
      'logs/eval.jsonl:loss': [[0, 0], [1, 10], [2, 20], [3, 30], [4, 40]],
      'eval.acc': [[0, 0], [1, 0.1], [2, 0.2], [3, 0.3], [4, 0.4]],
    });
    expect(h.sources['val_loss']).toEqual({ file: 'logs/train.csv', step: 'step' });
    expect(h.sources['logs/eval.jsonl:loss']).toEqual({ file: 'logs/eval.jsonl', step: 'epoch' });
    // The run record alone leads to the same histories.
    expect(readRecordHistories(r, run.record)).toEqual(h);
    expect(mlxOk(dir, 'show', 'train').stdout).toContain('  history:   logs/train.csv: loss, val_loss over 5 steps\n');
  });

  it('repro records the histories again, and repro --verify runs with them', async () => {
    mlxOk(dir, ...RUN);
    write(dir, 'log.mjs', LOGGER.replace('1 / (s + 1)', '1 / (s + 2)'));
    const again = mlxJson(dir, 'repro');
    expect(again.runs[0]).toMatchObject({ name: 'train', reran: true });
    const r = await openRepo(dir);
    const run = readRunLock(r).runs.train!;
    expect(Object.keys(run.histories ?? {})).toEqual(['logs/train.csv', 'logs/eval.jsonl']);
    expect(readRunHistories(r, { name: 'train', run }).metrics['logs/train.csv:loss']![1]).toEqual([1, 1 / 3]);
    expect(mlx(dir, 'repro', '--verify', 'train').code).toBe(0);
  });

  it('a run without histories reads as none, and its lockfile entry has no histories field', async () => {
    write(dir, 'final.mjs', "import fs from 'node:fs'; fs.writeFileSync('m.json', '{\"acc\": 1}');");
    mlxOk(dir, 'run', '-n', 'eval', '-M', 'm.json', '--', 'node', 'final.mjs');
    expect(fs.readFileSync(path.join(dir, 'mlx.lock'), 'utf8')).not.toContain('histories');
    const r = await openRepo(dir);
    expect(readRunHistories(r, { name: 'eval', run: readRunLock(r).runs.eval! }).metrics).toEqual({});
  });

  it('a history the command did not write, or that does not parse, fails the run and records nothing', () => {
    expect(expectCleanError(mlx(dir, 'run', '-n', 'x', '-M', 'none.csv', '--', 'node', '-e', ''))).toBe(
      'mlx: error: the command did not write the metrics history none.csv; nothing was recorded',
    );
    write(dir, 'bad.mjs', "import fs from 'node:fs'; fs.writeFileSync('h.jsonl', '{\"step\": 1}\\n{oops\\n');");
    expect(expectCleanError(mlx(dir, 'run', '-n', 'x', '-M', 'h.jsonl', '--', 'node', 'bad.mjs'))).toBe(
      'mlx: error: metrics history h.jsonl cannot be read: line 2 is not valid JSON; nothing was recorded',
    );
    expect(fs.existsSync(path.join(dir, 'mlx.lock'))).toBe(false);
  });

  it('gc keeps a history, push sends it and a clone pulls it; one missing from the cache is EOBJECTMISSING naming the run', async () => {
    mlxOk(dir, ...RUN);
    await gitCommitAll(dir, 'run');
    const r = await openRepo(dir);
    const run = readRunLock(r).runs.train!;
    const oid = run.histories!['logs/train.csv']!.oid;
    fs.rmSync(path.join(dir, 'logs'), { recursive: true });
    mlxOk(dir, 'gc', '--keep-recent', '0');
    expect(r.store.has(oid)).toBe(true);

    const store = tempDir('mlx-histories-remote-');
    mlxOk(dir, 'remote', 'add', '-d', 'storage', store);
    mlxOk(dir, 'push');
    await gitCommitAll(dir, 'remote');
    const clone = tempDir('mlx-histories-clone-');
    await gitCloneLocal(dir, clone);
    const c = await openRepo(clone);
    let missing: unknown;
    try {
      readRunHistories(c, { name: 'train', run });
    } catch (err) {
      missing = err;
    }
    expect(isMlxError(missing, E.OBJECT_MISSING) && missing.message).toBe(`metrics history logs/train.csv of run train (${run.id}) is not in the cache (${oid})`);
    mlxOk(clone, 'pull');
    expect(readRunHistories(c, { name: 'train', run }).metrics['val_loss']).toEqual([[0, 2], [2, 2 / 3], [4, 0.4]]);
    expect(mlxJson(clone, 'runs').entries[0].run.histories['logs/eval.jsonl'].metrics).toEqual(['loss', 'eval.acc']);
  });
});
