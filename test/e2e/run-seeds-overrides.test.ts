import fs from 'node:fs';
import path from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { expectCleanError, mlx, mlxJson, mlxOk } from '../helpers/cli.js';
import { gitCommitAll, useTempRepo, write } from '../helpers/repo.js';

const PARAMS = '# training\nlr: 0.05 # learning rate\nepochs: 2\nmodel:\n  layers: [64, 128]\n';
// The command writes out what it was given: the seed variables and the params file it read.
const STEP = [
  "import fs from 'node:fs';",
  "fs.mkdirSync('out', { recursive: true });",
  "const seeds = Object.keys(process.env).filter((k) => k.startsWith('MLX_SEED')).sort().map((k) => `${k}=${process.env[k]}`);",
  "fs.writeFileSync('out/seeds.txt', seeds.join('\\n') + '\\n');",
  "fs.writeFileSync('out/params.yaml', fs.readFileSync('params.yaml'));",
  '',
].join('\n');

const repo = useTempRepo((d) => {
  mlxOk(d, 'init');
  write(d, 'params.yaml', PARAMS);
  write(d, 'step.mjs', STEP);
});
let dir: string;
beforeEach(() => {
  dir = repo();
});
const read = (rel: string) => fs.readFileSync(path.join(dir, rel), 'utf8');
const run = (name: string, ...flags: string[]) => mlxJson(dir, 'run', '-n', name, '-d', 'step.mjs', '-o', 'out', ...flags, '--', 'node', 'step.mjs').run;

describe('seeds per phase', () => {
  it('records the plain seed and named ones, gives each to the command, and shows them', async () => {
    const r = run('train', '--seed', '42', '--seed', 'init=3', '--seed', 'data=7');
    expect(read('out/seeds.txt')).toBe('MLX_SEED=42\nMLX_SEED_DATA=7\nMLX_SEED_INIT=3\n');
    expect(r.seed).toBe(42);
    expect(r.seeds).toEqual({ data: 7, init: 3 });
    expect(read('mlx.lock')).toContain('    seed: 42\n    seeds:\n      data: 7\n      init: 3\n    params:');
    expect(mlxOk(dir, 'show', 'train').stdout).toContain('  seed:      42, data=7, init=3\n');
    expect(mlxOk(dir, 'runs').stdout).toContain('seed=42,data=7,init=3');
    // Only named seeds: no MLX_SEED; another data seed is another input.
    const other = run('train', '--seed', 'init=3', '--seed', 'data=8');
    expect(read('out/seeds.txt')).toBe('MLX_SEED_DATA=8\nMLX_SEED_INIT=3\n');
    expect(other.seed).toBeNull();
    expect(other.key).not.toBe(r.key);
    await gitCommitAll(dir, 'runs');
    // A reviewer sees which input changed: only a named seed.
    run('train', '--seed', 'init=3', '--seed', 'data=9');
    expect(mlxJson(dir, 'report', 'HEAD').runs[0]).toMatchObject({ name: 'train', status: 'changed', inputs: ['seeds'] });
    // repro gives the command the recorded seeds again.
    fs.rmSync(path.join(dir, 'out'), { recursive: true });
    expect(mlxJson(dir, 'repro', '--force').runs[0]).toMatchObject({ name: 'train', reran: true });
    expect(read('out/seeds.txt')).toBe('MLX_SEED_DATA=9\nMLX_SEED_INIT=3\n');
  });

  it('a run with only a plain seed is recorded as before: no seeds field, the same key', () => {
    const a = run('train', '--seed', '5');
    expect(a.seeds).toBeUndefined();
    expect(read('mlx.lock')).not.toContain('seeds:');
    expect(read('out/seeds.txt')).toBe('MLX_SEED=5\n');
    expect(run('train', '--seed', '5').key).toBe(a.key);
  });
});

describe('-S params overrides', () => {
  it('applies the override to the params file, records it, and repro applies it again', async () => {
    await gitCommitAll(dir, 'start');
    const a = run('lr01', '-S', 'lr=0.01', '-S', 'params.yaml:model.layers=[32, 32]', '-S', '+opt.beta=0.9');
    // The command read the overridden file; the file keeps its comments and stays as the run left it (as with DVC).
    const overridden = '# training\nlr: 0.01 # learning rate\nepochs: 2\nmodel:\n  layers: [32, 32]\nopt:\n  beta: 0.9\n';
    expect(read('out/params.yaml')).toBe(overridden);
    expect(read('params.yaml')).toBe(overridden);
    expect(a.overrides).toEqual(['params.yaml:lr=0.01', 'params.yaml:model.layers=[32, 32]', 'params.yaml:+opt.beta=0.9']);
    expect(a.params).toEqual({ 'params.yaml': { lr: 0.01, 'model.layers': [32, 32], 'opt.beta': 0.9 } });
    // git.dirty is taken before the override: the commit plus the recorded overrides is what ran.
    expect(a.git.dirty).toBe(false);
    expect(mlxOk(dir, 'show', 'lr01').stdout).toContain('  override:  -S params.yaml:lr=0.01\n');

    // A sweep: the second run leaves its value in the file; neither run is stale, each has its override.
    run('lr02', '-S', 'lr=0.02');
    expect(read('params.yaml')).toContain('lr: 0.02 # learning rate');
    expect(mlxJson(dir, 'repro').runs.map((r: any) => [r.name, r.reran])).toEqual([['lr01', false], ['lr02', false]]);

    // Back to the committed file: the recorded overrides still say what each run used.
    write(dir, 'params.yaml', PARAMS);
    expect(mlxJson(dir, 'repro', 'lr01').runs[0]).toMatchObject({ reran: false });
    // A param not overridden changes: the run is stale, and its re-run applies the override again.
    write(dir, 'params.yaml', PARAMS.replace('lr: 0.05', 'lr: 0.07'));
    expect(mlxJson(dir, 'repro', 'lr02').runs[0]).toMatchObject({ reran: false });
    const res = mlxJson(dir, 'repro', '--force', 'lr01').runs[0];
    expect(res).toMatchObject({ reran: true });
    expect(read('out/params.yaml')).toBe(overridden);
    const again = mlxJson(dir, 'show', 'lr01');
    expect(again.overrides).toEqual(a.overrides);
    expect(again.key).toBe(a.key);
  });

  it('a dep on the params file is the file as the override leaves it', () => {
    const r = run('dep', '-d', 'params.yaml', '-S', 'epochs=3');
    expect(r.deps['params.yaml'].size).toBe(Buffer.byteLength(PARAMS.replace('epochs: 2', 'epochs: 3')));
    expect(read('out/params.yaml')).toBe(PARAMS.replace('epochs: 2', 'epochs: 3'));
  });

  it('bad overrides and seeds are one clear line each, and nothing is written', () => {
    const before = read('params.yaml');
    const bad: [string[], RegExp][] = [
      [['-S', 'lr'], /-S lr: no = value \(expected \[file:\]key=value/],
      [['-S', 'lr='], /-S lr=: no value after =/],
      [['-S', 'lr=[1,'], /-S lr=\[1,: the value is not valid YAML/],
      [['-S', 'momentum=0.9'], /-S params\.yaml:momentum=0\.9: params\.yaml has no key momentum \(hint: add it with -S params\.yaml:\+momentum=0\.9/],
      [['-S', '+lr=1'], /params\.yaml already has lr/],
      [['-S', 'lr.x=1'], /lr in params\.yaml is a value, not a map/],
      // The first override is fine, the second is not: the params file is left as it was.
      [['-S', 'lr=0.5', '-S', 'other.yaml:lr=1'], /params file other\.yaml does not exist/],
      [['-S', 'lr=0.5', '-S', 'epochs.x=1'], /epochs in params\.yaml is a value/],
      // An override that would apply, but the run is refused for another reason: no file changes either.
      [['-S', 'lr=0.5', '-p', 'params.yaml:momentum'], /params file params\.yaml has no key momentum/],
      [['-S', 'lr=0.5', '-d', 'nope.csv'], /nope\.csv: no such file or directory/],
      [['--seed', 'Data=1'], /--seed Data=1: a seed name uses lowercase letters, digits and _/],
      [['--seed', 'data=x'], /--seed expects a whole number of at least 0 \(or name=number\), got data=x/],
      [['--seed', '1', '--seed', '2'], /--seed given twice without a name/],
    ];
    for (const [flags, message] of bad) {
      expect(expectCleanError(mlx(dir, 'run', '-n', 'x', ...flags, '--', 'node', 'step.mjs'))).toMatch(message);
      expect(read('params.yaml')).toBe(before);
    }
    expect(fs.existsSync(path.join(dir, 'mlx.lock'))).toBe(false);
    expect(fs.existsSync(path.join(dir, 'out'))).toBe(false);
  });
});
