import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BIN, cliEnv, mlx, mlxJson, mlxOk } from '../helpers/cli.js';
import { gitCommitAll, tempDir, useTempRepo, write } from '../helpers/repo.js';

const ROOT = path.resolve(__dirname, '../..');
/** How a script started by `mlx run` (or a test) finds the module and the built CLI. */
const PYTHON_ENV = { PYTHONPATH: path.join(ROOT, 'python'), MLX_COMMAND: `${JSON.stringify(process.execPath)} ${JSON.stringify(BIN)}`, PYTHONDONTWRITEBYTECODE: '1' };

function python(cwd: string, ...args: string[]) {
  return spawnSync('python3', args, { cwd, encoding: 'utf8', env: { ...process.env, ...PYTHON_ENV } });
}

describe('python/mlx_client with the machine python3', () => {
  it('passes its unittest suite (test/python/test_mlx_client.py) against the built CLI', () => {
    const r = python(__dirname, '-m', 'unittest', 'test_mlx_client');
    expect(r.stderr).toMatch(/\nRan 18 tests in [\d.]+s\n\nOK\n$/);
    expect(r.status).toBe(0);
  });
});

const repo = useTempRepo((d) => mlxOk(d, 'init'));

describe('a training script using mlx_client under mlx run (fixtures/python-training)', () => {
  beforeEach(() => Object.assign(cliEnv, PYTHON_ENV));
  afterEach(() => {
    for (const k of Object.keys(PYTHON_ENV)) delete cliEnv[k];
  });

  it('reads params as -S set them, gets the seeds, logs JSON lines per step, and its checkpoint metadata is recorded', async () => {
    const dir = repo();
    fs.cpSync(path.join(ROOT, 'fixtures/python-training'), dir, { recursive: true });
    mlxOk(dir, 'add', 'data');
    await gitCommitAll(dir, 'data and script');
    write(dir, 'data/labels.txt', 'changed after the commit\n');

    mlxOk(dir, 'run', '-n', 'train', '-d', 'data', '-p', 'params.yaml:train.lr,train.steps', '-S', 'train.lr=0.2', '--seed', '42', '--seed', 'data=7', '-o', 'model.bin', '-M', 'metrics.json', '--', 'python3', 'train.py');

    const run = mlxJson(dir, 'show', 'train');
    expect(run.params).toEqual({ 'params.yaml': { 'train.lr': 0.2, 'train.steps': 3 } });
    // Three labels: the script read data/labels.txt at HEAD, not the work tree's one line.
    expect(run.metrics).toEqual({ 'metrics.json': { loss: 0.512, labels: 3, seed: 42, seeds: { data: 7 } } });
    expect(run.checkpoints).toEqual({ 'model.bin': { step: 3, lr: 0.2 } });
    const lines = fs.readFileSync(path.join(dir, 'logs/train.jsonl'), 'utf8').trimEnd().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines.map(({ step, loss }) => ({ step, loss }))).toEqual([{ step: 0, loss: 0.8 }, { step: 1, loss: 0.64 }, { step: 2, loss: 0.512 }]);
    expect(new Set(lines.map((l) => l.label))).toEqual(new Set(['cat', 'dog', 'bird']));

    const recorded = python(dir, '-c', 'import json, mlx_client; print(json.dumps(mlx_client.recorded_run("train")["checkpoints"]))');
    expect(JSON.parse(recorded.stdout)).toEqual({ 'model.bin': { step: 3, lr: 0.2 } });
  });
});

describe('the JSON mlx_client reads (spec/cli.md, "JSON for programs")', () => {
  it('mlx --json params prints the file and its whole content', () => {
    const dir = repo();
    write(dir, 'params.yaml', 'train:\n  lr: 0.1\n  layers: [64, 32]\nname: base\n');
    write(dir, 'other.json', '{"a": {"b": true}}');
    expect(mlxJson(dir, 'params')).toEqual({ file: 'params.yaml', params: { train: { lr: 0.1, layers: [64, 32] }, name: 'base' } });
    expect(mlxJson(dir, 'params', 'other.json')).toEqual({ file: 'other.json', params: { a: { b: true } } });
    expect(mlx(dir, 'params').stdout).toBe('train.lr=0.1\ntrain.layers=[64,32]\nname="base"\n');
  });

  it('a failure prints {"error": {code, message, hint, data}} on stdout and its one line on stderr', () => {
    const dir = repo();
    const r = mlx(dir, '--json', 'params', 'missing.yaml');
    expect(r.code).toBe(1);
    expect(JSON.parse(r.stdout)).toEqual({ error: { code: 'EPATHNOTFOUND', message: 'params file missing.yaml does not exist', data: { path: 'missing.yaml' } } });
    expect(r.stderr).toBe('mlx: error: params file missing.yaml does not exist\n');
  });

  it('mlx --json cat -o writes the file and prints path, rev, commit, oid, size, fetched and out; it fetches what the cache lacks', async () => {
    const dir = repo();
    const remote = tempDir('mlx-cat-remote-');
    mlxOk(dir, 'remote', 'add', '-d', 'store', remote);
    write(dir, 'data/a.txt', 'alpha\n');
    mlxOk(dir, 'add', 'data');
    const commit = await gitCommitAll(dir, 'data');
    mlxOk(dir, 'push');
    const out = path.join(dir, 'a-at-head.txt');
    const res = mlxJson(dir, 'cat', '-o', out, '--rev', 'HEAD', 'data/a.txt');
    expect(res).toEqual({ path: 'data/a.txt', rev: 'HEAD', commit, oid: expect.stringMatching(/^b3:[0-9a-f]{64}$/), size: 6, fetched: false, out });
    expect(fs.readFileSync(out, 'utf8')).toBe('alpha\n');

    // A clone that has not pulled: the object comes from the default remote.
    const clone = path.join(tempDir('mlx-cat-clone-'), 'b');
    expect(spawnSync('git', ['clone', '-q', dir, clone]).status).toBe(0);
    const again = mlxJson(clone, 'cat', '-o', 'a.txt', 'data/a.txt');
    expect(again).toEqual({ ...res, rev: 'workspace', commit: null, fetched: true, out: path.join(fs.realpathSync(clone), 'a.txt') });
    expect(mlx(clone, 'cat', 'data/a.txt').stdout).toBe('alpha\n');
    fs.rmSync(remote, { recursive: true, force: true });
    fs.rmSync(path.dirname(clone), { recursive: true, force: true });
  });

  it('mlx cat refuses, one line each: a directory, an untracked path, an existing -o, --json without -o', () => {
    const dir = repo();
    write(dir, 'data/a.txt', 'alpha\n');
    mlxOk(dir, 'add', 'data');
    write(dir, 'taken.txt', 'x');
    const refusals = [['cat', 'data'], ['cat', 'data/b.txt'], ['cat', 'nothing'], ['cat', '-o', 'taken.txt', 'data/a.txt'], ['--json', 'cat', 'data/a.txt']].map((args) => mlx(dir, ...args));
    expect(refusals.map((r) => [r.code, r.stderr])).toEqual([
      [1, 'mlx: error: data is a tracked directory at workspace: name a file inside it\n'],
      [1, 'mlx: error: data/b.txt is not part of data at workspace\n'],
      [1, 'mlx: error: nothing is not tracked at workspace\n'],
      [1, 'mlx: error: cannot write taken.txt: it exists (hint: choose another file with -o, or move it away first)\n'],
      [1, 'mlx: error: mlx --json cat needs -o <file>: without it, stdout holds the file itself\n'],
    ]);
    expect(fs.readFileSync(path.join(dir, 'taken.txt'), 'utf8')).toBe('x');
  });

  it('mlx --json show prints the fields mlx_client.recorded_run documents', () => {
    const dir = repo();
    write(dir, 'params.yaml', 'lr: 0.1\n');
    mlxOk(dir, 'run', '-n', 'eval', '-p', 'params.yaml:lr', '--seed', '3', '-M', 'm.json', '--', process.execPath, '-e', "require('fs').writeFileSync('m.json', '{\"acc\": 1}')");
    const shown = mlxJson(dir, 'show', 'eval');
    expect(shown).toMatchObject({ name: 'eval', id: expect.stringMatching(/^r-[0-9a-f]{16}$/), params: { 'params.yaml': { lr: 0.1 } }, metrics: { 'm.json': { acc: 1 } }, seed: 3, outs: {} });
  });
});
