import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { expectCleanError, mlx, mlxJson, mlxOk } from '../helpers/cli.js';
import { gitCommitAll, gitInit, tempDir } from '../helpers/repo.js';

// `mlx runs --compare` on a learning-rate sweep of the fixture experiment (each run logs a per-epoch
// history too), its text compared whole against stored snapshots (test/e2e/__snapshots__/runs-compare/),
// run ids and times replaced by placeholders. After a deliberate change: npx vitest run <this file> -u.

const FIXTURE = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../fixtures/tiny-experiment');
const train = (lr: string) => ['run', '-n', `lr-${lr}`, '-S', `lr=${lr}`, '-d', 'data/train', '-p', 'params.yaml:lr,epochs', '-o', 'out/model.json', '-M', 'out/metrics.json', '-M', 'out/history.csv', '--seed', '42', '--', 'node', 'train.mjs'];

let dir: string;
const ids = new Map<string, string>();
const commits = new Map<string, string>();
/** Run ids and commits as placeholders, padded to the width of what they replace so text columns stay aligned. */
const clean = (s: string, pad: boolean) => {
  const put = (from: string, to: string) => (s = s.split(from).join(pad ? to.padEnd(from.length) : to));
  for (const [id, name] of ids) put(id, `<${name}>`);
  for (const [c, name] of commits) put(c, `<${name}>`), put(c.slice(0, 8), `<${name}>`);
  return s.replace(/\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+Z/g, '<time>');
};

beforeAll(async () => {
  dir = path.join(tempDir('mlx-runs-compare-'), 'repo');
  fs.cpSync(FIXTURE, dir, { recursive: true });
  await gitInit(dir);
  mlxOk(dir, 'init');
  // Committed one by one: mlx.lock holds a name's newest run, the history the one before.
  for (const [lr, n] of [['0.01', 1], ['0.2', 1], ['0.05', 1], ['0.05', 2]] as const) {
    ids.set(mlxJson(dir, ...train(lr)).run.id, `lr-${lr} #${n}`);
    commits.set(await gitCommitAll(dir, `lr ${lr}`), `c${commits.size + 1}`);
  }
}, 120_000);

describe('mlx runs --compare', () => {
  it('compares the newest run of each name by default, every run with --all', () => {
    const res = mlxJson(dir, 'runs', '--compare');
    expect(res.rows.map((r: any) => ids.get(r.id))).toEqual(['lr-0.05 #2', 'lr-0.2 #1', 'lr-0.01 #1']);
    expect(res.columns.map((c: any) => [c.kind, c.name, c.best?.direction])).toEqual([
      ['param', 'lr', undefined],
      ['param', 'epochs', undefined],
      ['metric', 'accuracy', 'max'],
      ['metric', 'rows', 'max'],
    ]);
    expect(res.rows.find((r: any) => r.best.includes('accuracy')).values.lr).toBe(0.01);
    expect(mlxJson(dir, 'runs', '--compare', '--all').rows).toHaveLength(4);
  });

  it('text, Markdown and CSV, as stored', async () => {
    const out = (...args: string[]) => clean(mlxOk(dir, 'runs', '--compare', ...args).stdout, !args.includes('--md') && !args.includes('--csv'));
    await expect(out('--sort', 'accuracy')).toMatchFileSnapshot('./__snapshots__/runs-compare/text.txt');
    await expect(out('--md', '--metrics', 'accuracy', '--params', 'lr')).toMatchFileSnapshot('./__snapshots__/runs-compare/md.txt');
    await expect(out('--csv', '--all', '--sort', 'lr')).toMatchFileSnapshot('./__snapshots__/runs-compare/csv.txt');
  });

  it('takes runs by name and id prefix, each once', () => {
    const first = [...ids].find(([, n]) => n === 'lr-0.05 #1')![0];
    const res = mlxJson(dir, 'runs', '--compare', first.slice(0, 8), 'lr-0.01', 'lr-0.01');
    expect(res.rows.map((r: any) => ids.get(r.id))).toEqual(['lr-0.05 #1', 'lr-0.01 #1']);
  });

  it('bad input is one error line', () => {
    expect(expectCleanError(mlx(dir, 'runs', '--compare', '--all', 'lr-0.01'))).toBe('mlx: error: give runs to compare or --all, not both');
    expect(expectCleanError(mlx(dir, 'runs', '--compare', 'nope'))).toBe('mlx: error: no run "nope" in mlx.lock or in the history of any branch (hint: mlx runs lists them)');
    expect(expectCleanError(mlx(dir, 'runs', '--md'))).toBe('mlx: error: --md goes with --compare: mlx runs --compare');
    expect(expectCleanError(mlx(dir, 'runs', '--compare', '--md', '--csv'))).toBe('mlx: error: --md or --csv, not both');
    expect(expectCleanError(mlx(dir, 'runs', '--compare', '--sort', 'loss'))).toBe('mlx: error: --sort loss: names no column (lr, epochs, accuracy, rows)');
  });
});
