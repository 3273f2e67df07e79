import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { mlx, mlxJson, mlxOk } from '../helpers/cli.js';
import { gitCommitAll, gitInit, tempDir } from '../helpers/repo.js';
import { readRunLock } from '../../src/run/lockfile.js';
import { openRepo } from '../../src/workspace/repo.js';

// `mlx report --md` of a re-run whose per-epoch history changed (the fixture experiment at lr 0.05,
// then 0.1): the Mermaid xychart blocks are compared whole against a stored snapshot
// (test/e2e/__snapshots__/report-histories/), run ids replaced by placeholders.

const FIXTURE = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../fixtures/tiny-experiment');
const train = (...set: string[]) => ['run', '-n', 'train', ...set, '-d', 'data/train', '-p', 'params.yaml:lr,epochs', '-o', 'out/model.json', '-M', 'out/metrics.json', '-M', 'out/history.csv', '--seed', '42', '--', 'node', 'train.mjs'];

let dir: string;
const ids: Record<string, string> = {};
const clean = (s: string) => s.split(ids.base!).join('<base run>').split(ids.head!).join('<head run>');

beforeAll(async () => {
  dir = path.join(tempDir('mlx-report-histories-'), 'repo');
  fs.cpSync(FIXTURE, dir, { recursive: true });
  await gitInit(dir);
  mlxOk(dir, 'init');
  ids.base = mlxJson(dir, ...train()).run.id;
  await gitCommitAll(dir, 'lr 0.05');
  ids.head = mlxJson(dir, ...train('-S', 'lr=0.1')).run.id;
}, 120_000);

describe('mlx report: metric histories', () => {
  it('--md draws each metric of the changed run, base and head on one chart, as stored', async () => {
    const md = mlxOk(dir, 'report', 'HEAD', '--md').stdout;
    const section = md.slice(md.indexOf('### Metric histories'), md.indexOf('### Data'));
    expect(section.match(/```mermaid\nxychart-beta|```mermaid\n%%\{init/g)).toHaveLength(2);
    await expect(clean(section)).toMatchFileSnapshot('./__snapshots__/report-histories/md.txt');
  });

  it('text lists them; --json holds the downsampled lines', () => {
    const text = mlxOk(dir, 'report', 'HEAD').stdout;
    expect(clean(text.slice(text.indexOf('Metric histories'), text.indexOf('Environment') >= 0 ? text.indexOf('Environment') : text.indexOf('Data')))).toBe(
      'Metric histories\n  train loss: base 20 points, last 0.1969 → head 20 points, last 0.2245\n  train accuracy: base 20 points, last 0.9229 → head 20 points, last 0.9125\n\n',
    );
    const json = mlxJson(dir, 'report', 'HEAD');
    expect(json.charts.map((c: any) => [c.run, c.metric, c.step, c.x, c.lines.map((l: any) => [l.side, l.values.length])])).toEqual([
      ['train', 'loss', 'step', { min: 1, max: 20 }, [['base', 20], ['head', 20]]],
      ['train', 'accuracy', 'step', { min: 1, max: 20 }, [['base', 20], ['head', 20]]],
    ]);
    expect(json.chartsLeftOut).toBe(0);
  });

  it('a side whose history is not in the cache is left out with a warning; the report still succeeds', async () => {
    const repo = await openRepo(dir);
    const lock = fs.readFileSync(path.join(dir, 'mlx.lock'), 'utf8');
    const headHistory = /history\.csv:\n\s+format: csv\n\s+oid: (b3:[0-9a-f]+)/.exec(lock)![1]!;
    const stored = repo.store.pathOf(headHistory as never);
    const saved = fs.readFileSync(stored);
    fs.rmSync(stored, { force: true });
    try {
      const r = mlx(dir, 'report', 'HEAD', '--md');
      expect(r.code).toBe(0);
      expect(clean(r.stderr)).toBe(`mlx: warning: metrics history out/history.csv of run train (<head run>) is not in the cache (${headHistory}): its chart is left out (mlx fetch brings it)\n`);
      expect(r.stdout).toContain('grey: base `');
      expect(r.stdout).not.toContain('orange: head');
    } finally {
      fs.writeFileSync(stored, saved);
    }
  });

  it('keeps the comment short: 6 charts a run, 12 in all, the rest counted (runs past the limit from their summaries)', async () => {
    const sweep = path.join(tempDir('mlx-report-many-'), 'repo');
    fs.mkdirSync(sweep, { recursive: true });
    await gitInit(sweep);
    mlxOk(sweep, 'init');
    // Seven metrics a run, logged over three steps.
    fs.writeFileSync(path.join(sweep, 'log.mjs'), "import fs from 'node:fs'; const m = ['a','b','c','d','e','f','g']; fs.writeFileSync('h.jsonl', [1,2,3].map((s) => JSON.stringify(Object.fromEntries([['step', s], ...m.map((k, i) => [k, s * i + Number(process.env.MLX_SEED)])]))).join('\\n'));");
    await gitCommitAll(sweep, 'script');
    for (const n of [1, 2, 3]) mlxOk(sweep, 'run', '-n', `r${n}`, '--seed', `${n}`, '-M', 'h.jsonl', '--', 'node', 'log.mjs');
    // The third run's log is not even read: gone from the cache, it draws no warning.
    const r = await openRepo(sweep);
    fs.rmSync(r.store.pathOf(readRunLock(r).runs.r3!.histories!['h.jsonl']!.oid));
    expect(mlxOk(sweep, 'report', 'HEAD').stderr).toBe('');
    const json = mlxJson(sweep, 'report', 'HEAD');
    expect(json.charts.map((c: any) => `${c.run}:${c.metric}`)).toEqual([...['a', 'b', 'c', 'd', 'e', 'f'].map((m) => `r1:${m}`), ...['a', 'b', 'c', 'd', 'e', 'f'].map((m) => `r2:${m}`)]);
    expect(json.chartsLeftOut).toBe(1 + 1 + 7);
    expect(mlxOk(sweep, 'report', 'HEAD', '--md').stdout).toContain('\n9 more chart(s) left out to keep the report short (mlx plots draws them all).\n');
  });
});
