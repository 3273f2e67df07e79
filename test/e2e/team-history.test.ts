import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mlxJson, mlxOk } from '../helpers/cli.js';
import { tempDir, write } from '../helpers/repo.js';
import { commitAll, git, makeTeam, type Team } from '../helpers/team.js';

/*
 * A team's history as teammates and CI see it: Alice records a run on main, one on the branch
 * exp-lr and two on the pull-request branch pr1 (two commits), pushes branches and data, and main
 * moves on after pr1 forked. Bob's fresh clone, a linked worktree and CI clones of pr1 must all see
 * that history the way git does.
 */

let store: string;
let team: Team;
/** The commit pr1 forked from main at. */
let fork: string;

/** Records a run that writes `out` with `text`, commits it and pushes its data. */
function runCommit(dir: string, name: string, out: string, text: string): void {
  mlxOk(dir, 'run', '-n', name, '-o', out, '--', 'sh', '-c', `mkdir -p ${path.dirname(out)} && echo ${text} > ${out}`);
  mlxOk(dir, 'push');
  commitAll(dir, `run ${name}`);
}

interface Entry {
  name: string;
  commit: string | null;
  branches: string[];
  refs: string[];
}
const runsIn = (dir: string) => new Map(mlxJson<{ entries: Entry[] }>(dir, 'runs').entries.map((e) => [e.name, e]));

beforeAll(() => {
  store = tempDir('mlx-team-history-store-');
  team = makeTeam([store]);
  const a = team.alice;
  runCommit(a, 'base', 'out/base.txt', 'base');
  git(a, 'push', '-q', 'origin', 'main');
  fork = git(a, 'rev-parse', 'HEAD').trim();
  git(a, 'checkout', '-q', '-b', 'exp-lr');
  runCommit(a, 'lr', 'out/lr.txt', 'lr');
  git(a, 'push', '-q', 'origin', 'exp-lr');
  git(a, 'checkout', '-q', '-b', 'pr1', 'main');
  runCommit(a, 'first', 'out/first.txt', 'first');
  runCommit(a, 'second', 'out/second.txt', 'second');
  git(a, 'push', '-q', 'origin', 'pr1');
  git(a, 'checkout', '-q', 'main');
  write(a, 'NOTES.md', 'main moves on\n');
  commitAll(a, 'main moves on');
  git(a, 'push', '-q', 'origin', 'main');
});

afterAll(() => {
  team.cleanup();
  fs.rmSync(store, { recursive: true, force: true });
});

describe('a fresh clone', () => {
  it('lists the runs of every origin branch, each with the refs that hold it', () => {
    const bob = team.clone('bob');
    expect(git(bob, 'branch', '--format=%(refname:short)').trim()).toBe('main');
    const runs = runsIn(bob);
    expect([...runs.keys()].sort()).toEqual(['base', 'first', 'lr', 'second']);
    expect(runs.get('lr')).toMatchObject({ branches: [], refs: ['origin/exp-lr'] });
    expect(runs.get('first')!.refs).toEqual(['origin/pr1']);
    expect(runs.get('second')!.refs).toEqual(['origin/pr1']);
    expect(runs.get('base')).toMatchObject({ commit: fork, branches: ['main'], refs: ['main', 'origin/exp-lr', 'origin/main', 'origin/pr1'] });
    const text = mlxOk(bob, 'runs').stdout;
    expect(text).toMatch(/ lr .* origin\/exp-lr /);
    expect(text).toMatch(/ second .* origin\/pr1 /);
  });
});

describe('a linked worktree (git worktree add)', () => {
  it('diffs against a branch, lists the runs, and records runs on its own HEAD', () => {
    const wt = path.join(team.root, 'alice-wt');
    git(team.alice, 'worktree', 'add', '-q', '-b', 'wt', wt, 'main');
    expect(fs.statSync(path.join(wt, '.git')).isFile()).toBe(true);
    const d = mlxJson<{ from: { commit: string }; changes: { path: string; change: string }[] }>(wt, 'diff', 'exp-lr', 'HEAD');
    expect(d.from.commit).toBe(git(wt, 'rev-parse', 'exp-lr').trim());
    expect(d.changes.map((c) => [c.path, c.change])).toEqual([['out/lr.txt', 'deleted']]);
    expect([...runsIn(wt).keys()].sort()).toEqual(['base', 'first', 'lr', 'second']);
    const ls = mlxJson<{ commit: string; rows: { path: string }[] }>(wt, 'ls', 'HEAD');
    expect(ls.commit).toBe(git(wt, 'rev-parse', 'HEAD').trim());
    expect(ls.rows.map((r) => r.path)).toEqual(['out/base.txt']);
    mlxOk(wt, 'run', '-n', 'inwt', '-o', 'out/wt.txt', '--', 'sh', '-c', 'echo wt > out/wt.txt');
    const lock = fs.readFileSync(path.join(wt, 'mlx.lock'), 'utf8');
    expect(lock).toContain(git(wt, 'rev-parse', 'HEAD').trim());
  });
});

describe('mlx report in a clone of the pull-request branch', () => {
  interface Report {
    base: { rev: string; commit: string; how: string };
    head: { rev: string; commit?: string; dirty?: boolean; uncommitted?: number };
    remote: { state: string; checked: number; missing: number };
    runs: { name: string; status: string }[];
  }
  const added = (r: Report) => r.runs.filter((x) => x.status === 'added').map((x) => x.name).sort();

  it('without the base branch fetched, falls back to HEAD~1 and says why', () => {
    const ci = path.join(team.root, 'ci-single');
    git(team.root, 'clone', '-q', '--branch', 'pr1', '--single-branch', team.origin, ci);
    expect(git(ci, 'branch', '-r', '--format=%(refname:short)').trim()).toBe('origin/pr1');
    const r = mlxJson<Report>(ci, 'report');
    expect(r.base.rev).toBe('HEAD~1');
    expect(r.base.how).toBe('default: the parent commit (there is no origin/HEAD, origin/main, origin/master, main or master to compare with)');
    expect(added(r)).toEqual(['second']);
  });

  it('with the base branch fetched as CI does, compares with the merge base: the whole pull request', () => {
    const ci = path.join(team.root, 'ci-fetched');
    git(team.root, 'clone', '-q', '--branch', 'pr1', '--single-branch', team.origin, ci);
    // What a CI checkout does for a pull request: fetch the base branch as a remote-tracking ref.
    git(ci, 'fetch', '-q', 'origin', '+refs/heads/main:refs/remotes/origin/main');
    const r = mlxJson<Report>(ci, 'report');
    expect(r.base).toEqual({ rev: 'origin/main', commit: fork, how: `default: merge-base with origin/main (${fork.slice(0, 8)}), the branch main of origin (origin/HEAD is not set here)` });
    expect(added(r)).toEqual(['first', 'second']);
    expect(r.head).toMatchObject({ rev: 'workspace', dirty: false, uncommitted: 0 });
    expect(r.remote).toMatchObject({ state: 'present', missing: 0 });
    expect(r.remote.checked).toBeGreaterThan(0);
    const text = mlxOk(ci, 'report').stdout.split('\n');
    expect(text[0]).toMatch(/→ the work tree \(HEAD [0-9a-f]{8}, no uncommitted changes\)$/);
    expect(text[1]).toBe(`base: default: merge-base with origin/main (${fork.slice(0, 8)}), the branch main of origin (origin/HEAD is not set here)`);
    expect(text[2]).toMatch(/^mlx remote storage: all \d+ new object\(s\) present$/);
  });

  it('in a full clone, follows origin/HEAD; a dirty work tree and unpushed data are said so', () => {
    const bob = team.clone('bob-pr1');
    git(bob, 'checkout', '-q', 'pr1');
    const clean = mlxJson<Report>(bob, 'report');
    expect(clean.base).toMatchObject({ rev: 'origin/main', commit: fork, how: expect.stringMatching(/^default: merge-base with origin\/main \([0-9a-f]{8}\), the default branch of origin \(origin\/HEAD\)$/) });
    expect(clean.head.dirty).toBe(false);
    // An unpushed run: its output and record are not on the mlx remote yet.
    mlxOk(bob, 'run', '-n', 'third', '-o', 'out/third.txt', '--', 'sh', '-c', 'echo third > out/third.txt');
    const dirty = mlxJson<Report>(bob, 'report');
    expect(dirty.head.dirty).toBe(true);
    expect(dirty.head.uncommitted).toBeGreaterThan(0);
    expect(dirty.remote.state).toBe('missing');
    expect(dirty.remote.missing).toBeGreaterThanOrEqual(2);
    const md = mlxOk(bob, 'report', '--md').stdout;
    expect(md).toMatch(/\*\*head\*\* the work tree \(HEAD [0-9a-f]{8} and \d+ uncommitted change\(s\)\)/);
    expect(md).toMatch(/^mlx remote storage: \d+ of \d+ new object\(s\) missing \(mlx push sends them\)\.$/m);
    // The remote out of reach: the report still comes out, and says so in one line.
    fs.renameSync(store, `${store}.away`);
    try {
      const offline = mlxJson<Report>(bob, 'report');
      expect(offline.remote.state).toBe('unreachable');
      expect(mlxOk(bob, 'report').stdout).toMatch(/^mlx remote storage: unreachable, nothing checked \(.+\)$/m);
    } finally {
      fs.renameSync(`${store}.away`, store);
    }
  });
});
