import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeEach, describe, expect, it } from 'vitest';
import { expectCleanError, mlx, mlxJson, mlxOk } from '../helpers/cli.js';
import { gitCloneLocal, gitCommitAll, useTempRepo, write } from '../helpers/repo.js';

const FIXTURE = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../fixtures/tiny-experiment');
const repo = useTempRepo((d) => {
  fs.cpSync(FIXTURE, d, { recursive: true });
  mlxOk(d, 'init');
});
let dir: string;
beforeEach(() => {
  dir = repo();
});

const TRAIN = ['run', '-n', 'train', '-d', 'data/train', '-d', 'train.mjs', '-p', 'params.yaml:lr,epochs', '-o', 'out/model.json', '-M', 'out/metrics.json', '--seed', '42', '--', 'node', 'train.mjs'];

describe('mlx run', () => {
  it('records a run: seed in the environment, deps, params, outputs in the cache, metrics, environment', async () => {
    mlxOk(dir, 'add', 'data/train');
    await gitCommitAll(dir, 'data');
    const res = mlxJson(dir, ...TRAIN);
    const run = res.run;
    expect(run.id).toMatch(/^r-[0-9a-f]{16}$/);
    expect(run.cmd).toEqual(['node', 'train.mjs']);
    expect(run.seed).toBe(42);
    expect(run.params).toEqual({ 'params.yaml': { lr: 0.05, epochs: 20 } });
    expect(Object.keys(run.deps)).toEqual(['data/train', 'train.mjs']);
    expect(run.deps['data/train']).toMatchObject({ kind: 'dir', oid: /oid: (b3:\w+)/.exec(fs.readFileSync(path.join(dir, 'data/train.mlx'), 'utf8'))![1] });
    expect(run.outs['out/model.json'].kind).toBe('file');
    expect(run.metrics['out/metrics.json'].accuracy).toBeGreaterThan(0.5);
    expect(run.git.commit).toMatch(/^[0-9a-f]{40}$/);
    expect(JSON.parse(fs.readFileSync(path.join(dir, 'out/model.json'), 'utf8')).seed).toBe(42); // MLX_SEED reached the script
    expect(fs.existsSync(path.join(dir, 'out/model.json.mlx'))).toBe(true);
    expect(fs.readFileSync(path.join(dir, 'mlx.lock'), 'utf8')).toMatch(/^# mlx run lockfile[\s\S]*runs:\n {2}train:\n {4}id: r-/);
    // Another execution with the same inputs and seed: its own id, the same input key.
    expect(run.key).toMatch(/^k-[0-9a-f]{16}$/);
    const again = mlxJson(dir, ...TRAIN).run;
    expect(again.id).not.toBe(run.id);
    expect(again.key).toBe(run.key);
  });

  it('catalogs runs across commits, shows one, re-runs what is stale, and verifies determinism', async () => {
    mlxOk(dir, 'add', 'data/train');
    mlxJson(dir, ...TRAIN);
    await gitCommitAll(dir, 'run 1');
    write(dir, 'params.yaml', 'lr: 0.1\nepochs: 20\nseed: 42\n');
    expect(mlxJson(dir, 'repro').runs[0]).toMatchObject({ name: 'train', reran: true, reasons: ['param params.yaml:lr changed (0.05 → 0.1)'] });
    await gitCommitAll(dir, 'run 2');
    expect(mlxJson(dir, 'repro').runs[0]).toMatchObject({ reran: false });
    const runs = mlxJson(dir, 'runs').entries;
    expect(runs).toHaveLength(2);
    expect(runs.map((e: any) => e.run.params['params.yaml'].lr)).toEqual([0.1, 0.05]);
    expect(runs.every((e: any) => /^[0-9a-f]{40}$/.test(e.commit))).toBe(true);
    const shown = mlxOk(dir, 'show', runs[1].run.id.slice(0, 8)).stdout;
    expect(shown).toContain('params:    params.yaml: lr=0.05, epochs=20');
    // How the model was produced, and what a reviewer sees for the param change (their text is
    // compared whole in cli-output.test.ts).
    const lineage = mlxJson(dir, 'lineage', 'out/model.json');
    expect(JSON.stringify(lineage)).toContain('data/train');
    expect(mlxOk(dir, 'lineage', 'out/model.json', '--format', 'mermaid').stdout).toMatch(/^graph /);
    expect(mlxJson(dir, 'report', 'HEAD~1', 'HEAD').params).toEqual([{ run: 'train', file: 'params.yaml', key: 'lr', change: 'changed', base: 0.05, head: 0.1, delta: 0.05, pct: 100 }]);
    expect(mlxOk(dir, 'report', 'HEAD~1', 'HEAD', '--md').stdout).toContain('```mermaid');
    // The environments of the two runs are the same machine: env diff by run id finds nothing.
    expect(mlxOk(dir, 'env', 'diff', runs[0].run.id, runs[1].run.id).stdout).toMatch(/no differences|identical|same/i);
    const before = fs.readFileSync(path.join(dir, 'out/model.json'));
    const verified = mlxJson(dir, 'repro', '--verify', 'train');
    expect(verified).toMatchObject({ identical: true, outputs: [{ path: 'out/model.json', identical: true }] });
    expect(fs.readFileSync(path.join(dir, 'out/model.json'))).toEqual(before);
  });

  it('gc keeps what recorded runs need, and push and pull carry it to a fresh clone', async () => {
    mlxOk(dir, 'add', 'data/train');
    const { run } = mlxJson(dir, ...TRAIN);
    await gitCommitAll(dir, 'run');
    const inCache = (root: string, oid: string) => fs.existsSync(path.join(root, '.mlx/cache/objects', oid.slice(3, 5), oid.slice(5)));
    mlxOk(dir, 'gc', '--keep-recent', '0');
    const scriptOid = run.deps['train.mjs'].oid;
    for (const oid of [run.record, run.env, scriptOid]) expect(inCache(dir, oid)).toBe(true);
    const store = path.join(dir, '..', `${path.basename(dir)}-store`);
    const fresh = path.join(dir, '..', `${path.basename(dir)}-fresh`);
    try {
      mlxOk(dir, 'remote', 'add', '-d', 'storage', store);
      mlxOk(dir, 'push');
      await gitCommitAll(dir, 'remote');
      await gitCloneLocal(dir, fresh);
      mlxOk(fresh, 'pull');
      for (const oid of [run.record, run.env, scriptOid]) expect(inCache(fresh, oid)).toBe(true);
      expect(mlxOk(fresh, 'show', 'train').stdout).toContain(run.id);
    } finally {
      fs.rmSync(store, { recursive: true, force: true });
      fs.rmSync(fresh, { recursive: true, force: true });
    }
  });

  it('records checkpoint metadata written beside a checkpoint directory, linked to its data and run', () => {
    mlxOk(dir, 'add', 'data/train');
    write(dir, 'ckpt.mjs', [
      "import fs from 'node:fs';",
      "fs.mkdirSync('ckpt/step_300', { recursive: true });",
      "fs.writeFileSync('ckpt/step_300/weights.bin', 'w' + process.env.MLX_SEED);",
      "fs.writeFileSync('ckpt/step_300.meta.json', JSON.stringify({ step: 300, epoch: 3 }));",
      '',
    ].join('\n'));
    const { run } = mlxJson(dir, 'run', '-n', 'ckpt', '-d', 'data/train', '-d', 'ckpt.mjs', '-o', 'ckpt/step_300', '--seed', '5', '--', 'node', 'ckpt.mjs');
    expect(run.checkpoints).toEqual({ 'ckpt/step_300': { step: 300, epoch: 3 } });
    expect(run.outs['ckpt/step_300'].kind).toBe('dir');
    const shown = mlxOk(dir, 'show', 'ckpt').stdout;
    expect(shown).toMatch(/checkpoint: ckpt\/step_300: step=300, epoch=3 \(from data data\/train@[0-9a-f]{8}, ckpt\.mjs@[0-9a-f]{8}\)/);
    expect(mlxOk(dir, 'lineage', 'ckpt/step_300').stdout).toMatch(/ckpt/);
  });

  it('repro --verify reports a nondeterministic output', () => {
    write(dir, 'noisy.mjs', "import fs from 'node:fs'; fs.writeFileSync('noise.txt', String(Math.random()));\n");
    mlxOk(dir, 'run', '-n', 'noisy', '-d', 'noisy.mjs', '-o', 'noise.txt', '--', 'node', 'noisy.mjs');
    const recorded = fs.readFileSync(path.join(dir, 'noise.txt'), 'utf8');
    const r = mlx(dir, 'repro', '--verify', 'noisy');
    expect(expectCleanError(r)).toMatch(/1 output\(s\) of noisy differ from the recorded run/);
    expect(r.stdout).toMatch(/DIFFERS +noise\.txt +\(recorded b3:\w+, now b3:\w+\)/);
    expect(fs.readFileSync(path.join(dir, 'noise.txt'), 'utf8')).toBe(recorded); // the recorded output is back
  });

  it('bad inputs: a failing command, a missing output, a missing dep, a missing param key, a hand-edited lockfile', () => {
    mlxOk(dir, 'add', 'data/train');
    mlxOk(dir, ...TRAIN);
    const lock = fs.readFileSync(path.join(dir, 'mlx.lock'), 'utf8');
    expect(expectCleanError(mlx(dir, 'run', '-n', 'train', '--', 'node', '-e', 'process.exit(3)'))).toMatch(/exited with code 3; nothing was recorded/);
    expect(expectCleanError(mlx(dir, 'run', '-n', 'x', '-o', 'never.txt', '--', 'node', '-e', '0'))).toMatch(/did not write the output never\.txt/);
    expect(expectCleanError(mlx(dir, 'run', '-n', 'x', '-d', 'nope.csv', '--', 'node', '-e', '0'))).toMatch(/nope\.csv: no such file or directory/);
    expect(expectCleanError(mlx(dir, 'run', '-n', 'x', '-p', 'params.yaml:momentum', '--', 'node', '-e', '0'))).toMatch(/params file params\.yaml has no key momentum/);
    expect(expectCleanError(mlx(dir, 'run', '-n', 'x', '--', 'no-such-program-here'))).toMatch(/cannot start no-such-program-here: no such command/);
    expect(fs.readFileSync(path.join(dir, 'mlx.lock'), 'utf8')).toBe(lock);
    fs.writeFileSync(path.join(dir, 'mlx.lock'), lock.replace(/id: r-[0-9a-f]+/, 'id: hand-edited'));
    expect(expectCleanError(mlx(dir, 'runs'))).toMatch(/malformed run lockfile mlx\.lock: runs\.train\.id/);
    expect(expectCleanError(mlx(dir, ...TRAIN))).toMatch(/malformed run lockfile/);
    expect(expectCleanError(mlx(dir, 'show', 'r-0000000000'))).toMatch(/malformed run lockfile|no run/);
  });
});
