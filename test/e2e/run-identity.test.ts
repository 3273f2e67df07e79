import fs from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { expectCleanError, mlx, mlxJson, mlxOk } from '../helpers/cli.js';
import { tempDir, write } from '../helpers/repo.js';
import { commitAll, git, makeTeam, type Team } from '../helpers/team.js';

/*
 * Run identity and consistent records, on real repositories: every execution its own id, a key shared
 * by executions with the same inputs, "dirty" about the user's code only, pointers that match mlx.lock
 * after run and repro (so a clone gets what the lock describes), and stored environments shown.
 */

let store: string;
let team: Team;
let dir: string;
beforeEach(() => {
  store = tempDir('mlx-identity-store-');
  team = makeTeam([store]);
  dir = team.alice;
});
afterEach(() => {
  team.cleanup();
  fs.rmSync(store, { recursive: true, force: true });
});

/** A command whose output differs every time it runs. */
const NOISY = ['run', '-n', 'noisy', '-d', 'noisy.mjs', '-o', 'noise.txt', '--', 'node', 'noisy.mjs'];
const NOISY_SCRIPT = `import fs from 'node:fs';\nfs.writeFileSync('noise.txt', String(Math.random()));\n`;

describe('run identity', () => {
  it('two executions of a nondeterministic command get two ids and one key; show finds each by prefix', () => {
    write(dir, 'noisy.mjs', NOISY_SCRIPT);
    commitAll(dir, 'script');
    const first = mlxJson(dir, ...NOISY).run;
    commitAll(dir, 'first');
    const second = mlxJson(dir, ...NOISY).run;
    commitAll(dir, 'second');
    expect(first.outs['noise.txt'].oid).not.toBe(second.outs['noise.txt'].oid);
    expect(first.id).not.toBe(second.id);
    expect(first.key).toBe(second.key);
    expect(first.key).toMatch(/^k-[0-9a-f]{16}$/);

    // The catalog lists both, each with its key; show finds each by a prefix of its id.
    const listed = mlxJson(dir, 'runs').entries.map((e: any) => [e.run.id, e.run.key]);
    expect(listed).toEqual([
      [second.id, second.key],
      [first.id, first.key],
    ]);
    for (const [run, other] of [
      [first, second],
      [second, first],
    ]) {
      const shown = mlxJson(dir, 'show', run.id.slice(0, 8));
      expect(shown).toMatchObject({ id: run.id, key: run.key, record: run.record });
      expect(shown.same_inputs.map((s: any) => s.id)).toEqual([other.id]);
      expect(mlxOk(dir, 'show', run.id.slice(0, 8)).stdout).toContain(`  key:       ${run.key} (same inputs as ${other.id})`);
    }
    // By name: the newest.
    expect(mlxJson(dir, 'show', 'noisy').id).toBe(second.id);
    // A review sees a re-run with the same inputs (the same key), whose output differs.
    expect(mlxJson(dir, 'report', 'HEAD~1', 'HEAD').runs).toMatchObject([{ name: 'noisy', status: 'rerun', outputs: ['noise.txt'] }]);
  });
});

describe('runs without outputs', () => {
  it('a command that only reports metrics is recorded', () => {
    write(dir, 'eval.mjs', `import fs from 'node:fs';\nfs.writeFileSync('score.json', JSON.stringify({ score: 0.5 }));\n`);
    const { run } = mlxJson(dir, 'run', '-n', 'eval', '-d', 'eval.mjs', '-M', 'score.json', '--', 'node', 'eval.mjs');
    expect(run.outs).toEqual({});
    expect(run.metrics).toEqual({ 'score.json': { score: 0.5 } });
    expect(mlxJson(dir, 'show', 'eval').id).toBe(run.id);
  });
});

describe('the dirty flag', () => {
  it("mlx's own bookkeeping does not make a run dirty; the user's tracked files do", () => {
    write(dir, 'step.mjs', `import fs from 'node:fs';\nfs.writeFileSync(process.argv[2], 'x');\n`);
    write(dir, 'data.txt', 'raw\n');
    mlxOk(dir, 'add', 'data.txt');
    commitAll(dir, 'script and data');
    const run = (name: string) => mlxJson(dir, 'run', '-n', name, '-d', 'step.mjs', '-d', 'data.txt', '-o', `${name}.out`, '--', 'node', 'step.mjs', `${name}.out`).run;
    expect(run('a').git.dirty).toBe(false);
    commitAll(dir, 'run a');
    // b changes the tracked mlx.lock and .gitignore and adds a pointer; c runs in the same commit.
    expect(run('b').git.dirty).toBe(false);
    expect(git(dir, 'status', '--porcelain')).toMatch(/^ M \.gitignore$/m);
    expect(git(dir, 'status', '--porcelain')).toMatch(/^ M mlx\.lock$/m);
    expect(run('c').git.dirty).toBe(false);
    commitAll(dir, 'runs b and c');
    // Configuring mlx changes the tracked .mlx/config.yaml: still mlx's.
    mlxOk(dir, 'remote', 'add', 'spare', path.join(store, 'spare'));
    expect(git(dir, 'status', '--porcelain')).toMatch(/^ M \.mlx\/config\.yaml$/m);
    expect(run('c2').git.dirty).toBe(false);
    commitAll(dir, 'run c2');

    // A pointer edited by hand names data, which the run records by oid: not dirty either.
    const pointer = path.join(dir, 'a.out.mlx');
    fs.writeFileSync(pointer, fs.readFileSync(pointer, 'utf8').replace(/size: 1/, 'size: 1\n'));
    expect(run('d').git.dirty).toBe(false);
    git(dir, 'checkout', '--', 'a.out.mlx');
    commitAll(dir, 'run d');

    // mlx install adds its merge attributes to the committed .gitattributes: mlx's too.
    write(dir, '.gitattributes', '*.png binary\n');
    commitAll(dir, 'attributes');
    mlxOk(dir, 'install');
    expect(git(dir, 'status', '--porcelain')).toMatch(/^ M \.gitattributes$/m);
    expect(run('d2').git.dirty).toBe(false);
    commitAll(dir, 'install');

    // A line the user adds to .gitignore is theirs.
    fs.appendFileSync(path.join(dir, '.gitignore'), '*.tmp\n');
    expect(run('e').git.dirty).toBe(true);
    git(dir, 'checkout', '--', '.gitignore');
    commitAll(dir, 'run e');

    // An edited tracked script is dirty, staged or not.
    fs.appendFileSync(path.join(dir, 'step.mjs'), '// tweak\n');
    expect(run('f').git.dirty).toBe(true);
    git(dir, 'add', 'step.mjs');
    expect(run('g').git.dirty).toBe(true);
    expect(mlxOk(dir, 'show', 'g').stdout).toMatch(/^ {2}git: {7}[0-9a-f]{12} \(dirty work tree\);/m);
  });
});

describe('consistent records after repro', () => {
  it('repro after a dep was edited stores it and updates its pointer: status is clean after committing, and a clone pulls the data the lock describes', () => {
    write(dir, 'raw/data.csv', 'a,b\n1,2\n');
    write(dir, 'prep.mjs', `import fs from 'node:fs';\nfs.mkdirSync('clean', { recursive: true });\nfs.writeFileSync('clean/data.csv', fs.readFileSync('raw/data.csv', 'utf8').toUpperCase());\n`);
    mlxOk(dir, 'add', 'raw');
    mlxOk(dir, 'run', '-n', 'prep', '-d', 'raw', '-d', 'prep.mjs', '-o', 'clean', '--', 'node', 'prep.mjs');
    mlxOk(dir, 'push');
    commitAll(dir, 'prep');

    fs.appendFileSync(path.join(dir, 'raw/data.csv'), '3,4\n');
    const out = mlxOk(dir, 'repro', 'prep').stdout;
    expect(out).toContain('stored the changed input raw and updated raw.mlx');
    expect(out).toMatch(/re-ran prep \(dependency raw changed\) → r-[0-9a-f]{16}/);
    commitAll(dir, 'repro prep');
    const status = mlxJson(dir, 'status');
    expect(status.paths.map((p: any) => [p.path, p.state])).toEqual([
      ['clean', 'clean'],
      ['raw', 'clean'],
    ]);
    const run = mlxJson(dir, 'show', 'prep');
    expect(fs.readFileSync(path.join(dir, 'raw.mlx'), 'utf8')).toContain(`oid: ${run.deps.raw.oid}`);
    expect(mlxJson(dir, 'repro', 'prep').runs[0]).toMatchObject({ reran: false });
    mlxOk(dir, 'push');
    git(dir, 'push', '-q', 'origin', 'main');

    // A fresh clone pulls exactly what mlx.lock says the run read and wrote.
    const bob = team.clone('bob');
    mlxOk(bob, 'pull');
    expect(fs.readFileSync(path.join(bob, 'raw/data.csv'), 'utf8')).toBe('a,b\n1,2\n3,4\n');
    expect(fs.readFileSync(path.join(bob, 'clean/data.csv'), 'utf8')).toBe('A,B\n1,2\n3,4\n');
    const theirs = mlxJson(bob, 'show', 'prep');
    expect(theirs.id).toBe(run.id);
    expect(mlxJson(bob, 'status').paths.every((p: any) => p.state === 'clean')).toBe(true);
    // The data bob has hashes to the oids the lock records for the run's input and output.
    const added = mlxJson(bob, 'add', 'raw', 'clean').paths.map((p: any) => [p.path, p.oid, p.changed]);
    expect(added).toEqual([
      ['raw', theirs.deps.raw.oid, false],
      ['clean', theirs.outs.clean.oid, false],
    ]);
  });
});

describe('mlx env show', () => {
  it('prints the environment of a run (by name or id) or of an oid, as text and as the record with --json', () => {
    write(dir, 'requirements.txt', 'numpy==1.26.0\n');
    write(dir, 'noisy.mjs', NOISY_SCRIPT);
    const run = mlxJson(dir, ...NOISY).run;
    const byName = mlxJson(dir, 'env', 'show', 'noisy');
    expect(byName).toMatchObject({ oid: run.env, run: { name: 'noisy', id: run.id }, record: { v: 2, lockfiles: [{ path: 'requirements.txt', size: 14 }] } });
    expect(byName.record.runtimes.node).toBe(process.versions.node);
    const byOid = mlxJson(dir, 'env', 'show', run.env.slice(0, 11));
    expect(byOid).toEqual({ oid: run.env, record: byName.record });
    expect(mlxJson(dir, 'env', 'show', run.id.slice(0, 8)).oid).toBe(run.env);

    const text = mlxOk(dir, 'env', 'show', 'noisy').stdout;
    expect(text.split('\n')[0]).toBe(`environment ${run.env} (run noisy, ${run.id})`);
    for (const section of ['system', 'cpu', 'gpus', 'runtimes', 'packages', 'random env']) expect(text).toMatch(new RegExp(`^${section}$`, 'm'));
    expect(text).toMatch(new RegExp(`^ {2}node: {5}${process.versions.node.replace(/\./g, '\\.')}$`, 'm'));
    expect(text).toMatch(/^ {2}requirements\.txt +b3:[0-9a-f]{8} {2}14 B$/m);
    // The hint mlx show gives works as printed.
    const hint = /\(mlx env show (b3:[0-9a-f]{8})\)/.exec(mlxOk(dir, 'show', 'noisy').stdout)![1]!;
    expect(mlxJson(dir, 'env', 'show', hint).oid).toBe(run.env);
  });

  it('a record that is not in the cache, or an unknown run, is one clear error line', () => {
    write(dir, 'noisy.mjs', NOISY_SCRIPT);
    const run = mlxJson(dir, ...NOISY).run;
    const hex = run.env.slice(3);
    fs.rmSync(path.join(dir, '.mlx/cache/objects', hex.slice(0, 2), hex.slice(2)));
    expect(expectCleanError(mlx(dir, 'env', 'show', 'noisy'))).toMatch(/^mlx: error: the environment record b3:[0-9a-f]{64} of run noisy \(r-[0-9a-f]{16}\) is not in the cache \(hint: mlx fetch/);
    expect(expectCleanError(mlx(dir, 'env', 'show', run.env))).toMatch(/environment record b3:[0-9a-f]{64} is not in the cache \(hint: .*fetch/);
    expect(expectCleanError(mlx(dir, 'env', 'show', 'nosuchrun'))).toMatch(/no run "nosuchrun"/);
  });
});
