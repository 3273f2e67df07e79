import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BIN, mlx, mlxJson, mlxOk } from '../helpers/cli.js';
import { tempDir } from '../helpers/repo.js';
import { commitAll, git, makeTeam, type Team } from '../helpers/team.js';

// Teams merge experiment branches with real git: the files mlx writes (mlx.lock, .gitignore, pointers)
// must merge by what they mean, and the hooks must run wherever git runs hooks and whatever Node is.

let team: Team;
let store: string;
beforeEach(() => {
  store = tempDir('mlx-team-store-');
  team = makeTeam([store]);
});
afterEach(() => {
  team.cleanup();
  fs.rmSync(store, { recursive: true, force: true });
});

const write = (dir: string, rel: string, text: string) => {
  fs.mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
  fs.writeFileSync(path.join(dir, rel), text);
};
const read = (dir: string, rel: string) => fs.readFileSync(path.join(dir, rel), 'utf8');
/** A run that writes `<out>` from its seed, so another seed changes the run and its output. */
const runArgs = (name: string, dep: string, out: string, seed: number) => [
  'run', '-n', name, '-d', dep, '-o', out, '--seed', String(seed), '--',
  'node', '-e', `require('fs').writeFileSync(${JSON.stringify(out)}, 'seed ' + process.env.MLX_SEED)`,
];
const gitMerge = (dir: string, rev: string) => spawnSync('git', ['merge', '--no-edit', rev], { cwd: dir, encoding: 'utf8', env: { ...process.env, GIT_AUTHOR_NAME: 'T', GIT_AUTHOR_EMAIL: 't@x', GIT_COMMITTER_NAME: 'T', GIT_COMMITTER_EMAIL: 't@x', GIT_CONFIG_GLOBAL: '/dev/null', GIT_CONFIG_NOSYSTEM: '1' } });
const conflicted = (dir: string) => git(dir, 'diff', '--name-only', '--diff-filter=U').split('\n').filter(Boolean);
const runsInLock = (dir: string) => [...read(dir, 'mlx.lock').matchAll(/^ {2}(\S+):$/gm)].map((m) => m[1]!).sort();
function expectClean(dir: string): void {
  const st = mlxJson(dir, 'status');
  expect(st.problems ?? []).toEqual([]);
  expect(st.paths.filter((p: { state: string }) => p.state !== 'clean')).toEqual([]);
}

/** Branch `name` off main: new data in data/<name>, a run <run> over it, committed and pushed. */
function experiment(dir: string, name: string, run: string): void {
  git(dir, 'checkout', '-q', '-b', name, 'main');
  write(dir, `data/${name}/part-0.txt`, `rows of ${name}\n`);
  write(dir, `data/${name}/part-1.txt`, `more rows of ${name}\n`);
  mlxOk(dir, 'add', `data/${name}`);
  mlxOk(dir, ...runArgs(run, `data/${name}`, `${run}.txt`, name.length));
  commitAll(dir, `experiment ${name}`);
  mlxOk(dir, 'push');
  git(dir, 'push', '-q', '-u', 'origin', name);
}

describe('merging experiment branches', () => {
  it('two branches that each add a run and data merge without conflict, in both orders, in a fresh clone', () => {
    const alice = team.alice;
    experiment(alice, 'm1', 's1');
    experiment(alice, 'm2', 's2');
    const bob = team.clone('bob');
    mlxOk(bob, 'install');
    for (const [into, from] of [['m1', 'm2'], ['m2', 'm1']] as const) {
      git(bob, 'checkout', '-q', into);
      mlxOk(bob, 'pull');
      const merge = gitMerge(bob, `origin/${from}`);
      expect(merge.stderr + merge.stdout).not.toMatch(/CONFLICT|conflict/);
      expect(merge.status).toBe(0);
      expect(conflicted(bob)).toEqual([]);
      expect(runsInLock(bob)).toEqual(['s1', 's2']);
      // Both branches' ignore entries, once each, no markers.
      const ignore = read(bob, '.gitignore');
      for (const entry of ['/data/m1', '/data/m2', '/s1.txt', '/s2.txt']) expect(ignore.split('\n').filter((l) => l === entry)).toHaveLength(1);
      expect(ignore).not.toMatch(/^(<<<<<<<|=======|>>>>>>>)/m);
      mlxOk(bob, 'pull');
      expect(read(bob, 'data/m1/part-0.txt')).toBe('rows of m1\n');
      expect(read(bob, 'data/m2/part-1.txt')).toBe('more rows of m2\n');
      expect(read(bob, 's1.txt')).toBe('seed 2');
      expect(read(bob, 's2.txt')).toBe('seed 2');
      expectClean(bob);
      expect(git(bob, 'status', '--porcelain')).toBe('');
      git(bob, 'reset', '-q', '--hard', `origin/${into}`);
    }
  });

  it('a fresh clone that never ran mlx install gets the merge driver from its first mlx pull', () => {
    const alice = team.alice;
    experiment(alice, 'm1', 's1');
    experiment(alice, 'm2', 's2');
    const carol = team.clone('carol');
    expect(spawnSync('git', ['config', '--get', 'merge.mlx.driver'], { cwd: carol }).status).toBe(1);
    git(carol, 'checkout', '-q', 'm1');
    expect(mlxOk(carol, 'pull').stdout).toMatch(/registered the mlx merge driver for this clone/);
    expect(mlxOk(carol, 'pull').stdout).not.toMatch(/registered the mlx merge driver/);
    const merge = gitMerge(carol, 'origin/m2');
    expect(merge.status).toBe(0);
    expect(conflicted(carol)).toEqual([]);
    expect(runsInLock(carol)).toEqual(['s1', 's2']);
  });

  it('the same run changed on both branches conflicts for that run only, and mlx resolve finishes the merge', () => {
    const dir = team.alice;
    write(dir, 'raw/x.txt', 'raw\n');
    mlxOk(dir, 'add', 'raw');
    mlxOk(dir, ...runArgs('s', 'raw', 's.txt', 1));
    commitAll(dir, 'run s');
    git(dir, 'checkout', '-q', '-b', 'c1');
    mlxOk(dir, ...runArgs('s', 'raw', 's.txt', 10));
    mlxOk(dir, ...runArgs('a', 'raw', 'a.txt', 3));
    commitAll(dir, 's with seed 10, and a');
    git(dir, 'checkout', '-q', '-b', 'c2', 'main');
    mlxOk(dir, 'checkout');
    mlxOk(dir, ...runArgs('s', 'raw', 's.txt', 20));
    mlxOk(dir, ...runArgs('b', 'raw', 'b.txt', 4));
    commitAll(dir, 's with seed 20, and b');
    git(dir, 'checkout', '-q', 'c1');
    mlxOk(dir, 'checkout');

    const merge = gitMerge(dir, 'c2');
    expect(merge.status).not.toBe(0);
    // git names the conflicted files; mlx's line says which run and how to finish.
    expect(conflicted(dir)).toEqual(['mlx.lock', 's.txt.mlx']);
    expect(merge.stderr).toContain('mlx: error: merge conflict in mlx.lock: run s changed on both branches (every other run merged) (hint: keep one version: mlx resolve s --ours (or --theirs), then git add mlx.lock)');
    const lock = read(dir, 'mlx.lock');
    expect(lock.match(/^<<<<<<< .*$/gm)).toEqual(['<<<<<<< ours (run s)']);
    // Everything outside the markers merged: a from c1, b from c2.
    expect(lock.replace(/^<<<<<<< [\s\S]*?^>>>>>>> .*\n/m, '')).toMatch(/^ {2}a:\n[\s\S]*^ {2}b:\n/m);
    // Reading the lockfile now says what to do, in one line.
    const runs = mlx(dir, 'runs');
    expect(runs.code).toBe(1);
    expect(runs.stderr.trim()).toBe('mlx: error: mlx.lock has unresolved merge conflicts in run s (changed on both branches) (hint: keep one version: mlx resolve s --ours (or --theirs), then git add mlx.lock)');

    expect(mlx(dir, 'resolve', 's').stderr.trim()).toBe('mlx: error: say which version to keep: --ours or --theirs (hint: mlx resolve <run...> --ours (or --theirs))');
    const bad = mlx(dir, 'resolve', 'nope', '--theirs');
    expect(bad.stderr.trim()).toBe('mlx: error: run nope is not in conflict in mlx.lock (hint: the runs in conflict: s)');
    const res = mlxJson(dir, 'resolve', 's', '--theirs');
    expect(res).toMatchObject({ resolved: ['s'], remaining: [], pointers: ['s.txt'], checkedOut: ['s.txt'] });
    expect(runsInLock(dir)).toEqual(['a', 'b', 's']);
    expect(read(dir, 's.txt')).toBe('seed 20');
    expect(read(dir, 'mlx.lock')).toMatch(/seed: 20\n/);
    git(dir, 'add', 'mlx.lock', 's.txt.mlx');
    git(dir, 'commit', '-q', '--no-edit');
    expectClean(dir);
    expect(git(dir, 'status', '--porcelain')).toBe('');
    expect(mlxJson(dir, 'runs').entries.map((e: { name: string }) => e.name)).toEqual(expect.arrayContaining(['a', 'b', 's']));
  });

  it('mlx install gives a repository set up by an older mlx the new attributes, once', () => {
    const dir = team.alice;
    write(dir, '.gitattributes', '*.mlx merge=mlx\nmlx.lock merge=mlx\n');
    spawnSync('git', ['config', '--unset-all', 'merge.mlx.driver'], { cwd: dir }); // an older mlx's init set none
    expect(spawnSync('git', ['config', '--get', 'merge.mlx.driver'], { cwd: dir }).status).toBe(1);
    mlxOk(dir, 'install');
    expect(read(dir, '.gitattributes')).toBe('*.mlx merge=mlx\nmlx.lock merge=mlx\n.gitignore merge=mlx\n');
    expect(git(dir, 'check-attr', 'merge', '--', '.gitignore', '.mlx/.gitignore', 'mlx.lock', 'd.mlx')).toBe(
      '.gitignore: merge: mlx\n.mlx/.gitignore: merge: mlx\nmlx.lock: merge: mlx\nd.mlx: merge: mlx\n',
    );
    expect(git(dir, 'config', '--get', 'merge.mlx.driver')).toContain('merge-driver');
    mlxOk(dir, 'install');
    expect(read(dir, '.gitattributes')).toBe('*.mlx merge=mlx\nmlx.lock merge=mlx\n.gitignore merge=mlx\n');
  });
});

describe('init', () => {
  it('sets up the merge driver, and still initialises when git cannot (saying so)', () => {
    const dir = path.join(team.root, 'fresh');
    git(team.root, 'init', '-q', dir);
    const nogit = tempDir('mlx-nogit-');
    fs.symlinkSync(process.execPath, path.join(nogit, 'node'));
    const r = spawnSync(process.execPath, [BIN, 'init'], { cwd: dir, encoding: 'utf8', env: { ...process.env, PATH: nogit } });
    expect(r.status).toBe(0);
    expect(r.stderr.trim()).toBe('mlx: warning: merge driver not registered (git config: the git command is not installed): mlx install registers it');
    expect(read(dir, '.gitattributes')).toBe('*.mlx merge=mlx\nmlx.lock merge=mlx\n.gitignore merge=mlx\n');
    mlxOk(dir, 'init');
    expect(git(dir, 'config', '--get', 'merge.mlx.driver')).toContain('merge-driver %O %A %B %P');
  });
});

describe('hooks', () => {
  /** git with an exact PATH, as a shell where only some programs exist would run it. */
  const gitWith = (dir: string, PATH: string, ...args: string[]) =>
    spawnSync('git', args, { cwd: dir, encoding: 'utf8', env: { ...process.env, PATH, GIT_CONFIG_GLOBAL: '/dev/null', GIT_CONFIG_NOSYSTEM: '1' } });
  /** A folder holding only `git` (and what else is linked into it). */
  const binWith = (links: Record<string, string>) => {
    const bin = tempDir('mlx-bin-');
    for (const [name, target] of Object.entries(links)) fs.symlinkSync(target, path.join(bin, name));
    return bin;
  };
  const gitBin = spawnSync('sh', ['-c', 'command -v git'], { encoding: 'utf8' }).stdout.trim();

  function commitTwoVersions(dir: string): void {
    write(dir, 'model.bin', 'v1');
    mlxOk(dir, 'add', 'model.bin');
    commitAll(dir, 'v1');
    write(dir, 'model.bin', 'v2');
    mlxOk(dir, 'add', 'model.bin');
    commitAll(dir, 'v2');
  }

  it('go to core.hooksPath (relative to the work tree) and git runs them there', () => {
    const dir = team.alice;
    commitTwoVersions(dir);
    git(dir, 'config', 'core.hooksPath', '.githooks');
    const out = mlxOk(dir, 'install').stdout;
    expect(out).toContain('installed hook post-checkout in .githooks (core.hooksPath)');
    expect(fs.existsSync(path.join(dir, '.githooks/post-checkout'))).toBe(true);
    expect(fs.existsSync(path.join(dir, '.git/hooks/post-checkout'))).toBe(false);
    const co = spawnSync('git', ['checkout', '-q', 'HEAD~1'], { cwd: dir, encoding: 'utf8' });
    expect(co.stderr).toContain('mlx: restored 1 tracked path(s)');
    expect(read(dir, 'model.bin')).toBe('v1');
  });

  it('from a linked worktree, go to the hooks and config git uses for it (the common git dir)', () => {
    const dir = team.alice;
    const linked = path.join(team.root, 'linked');
    git(dir, 'worktree', 'add', '-q', linked, '-b', 'side');
    const res = mlxJson(linked, 'install');
    expect(fs.realpathSync(res.hooksDir)).toBe(fs.realpathSync(path.join(dir, '.git/hooks')));
    expect(fs.existsSync(path.join(dir, '.git/hooks/post-merge'))).toBe(true);
    expect(git(linked, 'config', '--get', 'merge.mlx.driver')).toContain('merge-driver %O %A %B %P');
  });

  it('in a folder husky manages, are not written, and install says what to add instead', () => {
    const dir = team.alice;
    fs.mkdirSync(path.join(dir, '.husky/_'), { recursive: true });
    write(dir, '.husky/_/h', '#!/usr/bin/env sh\n# husky\n');
    git(dir, 'config', 'core.hooksPath', '.husky/_');
    const res = mlxJson(dir, 'install');
    expect(res.hooks).toEqual([]);
    expect(res.managedBy.tool).toBe('husky');
    expect(res.managedBy.advice).toContain('.husky/pre-push: add the line  mlx hook pre-push "$@"');
    expect(fs.readdirSync(path.join(dir, '.husky/_'))).toEqual(['h']);
    const text = mlxOk(dir, 'install').stdout;
    expect(text).toMatch(/^hooks not installed: core.hooksPath is .husky\/_, which husky manages/m);
    expect(text).not.toMatch(/installed hook/);
  });

  it('find mlx when they run: after the node they were installed with is gone, on PATH first, and say so when nowhere', () => {
    const dir = team.alice;
    commitTwoVersions(dir);
    // Install with a node that then disappears, as after a Node upgrade.
    const gone = tempDir('mlx-node-');
    const node = path.join(gone, 'node');
    fs.linkSync(process.execPath, node);
    const install = spawnSync(node, [BIN, 'install'], { cwd: dir, encoding: 'utf8' });
    expect(install.status).toBe(0);
    expect(read(dir, '.git/hooks/post-checkout')).toContain(node);
    fs.rmSync(gone, { recursive: true });

    // Any node on PATH runs the recorded mlx.
    const withNode = binWith({ git: gitBin, node: process.execPath });
    const co = gitWith(dir, withNode, 'checkout', '-q', 'HEAD~1');
    expect(co.stderr).toContain('mlx: restored 1 tracked path(s)');
    expect(read(dir, 'model.bin')).toBe('v1');

    // An mlx on PATH is preferred.
    const calls = path.join(tempDir('mlx-calls-'), 'log');
    const wrapper = path.join(withNode, 'mlx');
    fs.writeFileSync(wrapper, `#!/bin/sh\necho "$@" >> ${JSON.stringify(calls)}\nexec ${JSON.stringify(process.execPath)} ${JSON.stringify(BIN)} "$@"\n`, { mode: 0o755 });
    expect(gitWith(dir, withNode, 'checkout', '-q', 'main').stderr).toContain('mlx: restored 1 tracked path(s)');
    expect(fs.readFileSync(calls, 'utf8')).toMatch(/^hook post-checkout [0-9a-f]{40} [0-9a-f]{40} 1\n$/);
    expect(read(dir, 'model.bin')).toBe('v2');

    // No mlx anywhere: post-checkout says so and lets git go on; pre-push stops the push.
    const bare = binWith({ git: gitBin });
    const lost = gitWith(dir, bare, 'checkout', '-q', 'HEAD~1');
    expect(lost.status).toBe(0);
    expect(lost.stderr.trim()).toMatch(/^mlx: post-checkout hook: mlx not found \(not on PATH, not in node_modules\/\.bin, not at .*mlx\.js\): tracked data not restored/);
    const push = spawnSync('/bin/sh', [path.join(dir, '.git/hooks/pre-push'), 'origin', 'x'], { cwd: dir, encoding: 'utf8', input: '', env: { ...process.env, PATH: bare } });
    expect(push.status).toBe(1);
    expect(push.stderr.trim()).toMatch(/^mlx: pre-push hook: mlx not found .*git push is stopped \(install mlx, or git push --no-verify\)$/);
  });
});
