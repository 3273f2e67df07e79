import fs from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { expectCleanError, mlx, mlxJson, mlxOk } from '../helpers/cli.js';
import { bytes, snapshot, tempDir, write } from '../helpers/repo.js';
import { commitAll, git, makeTeam, type Team } from '../helpers/team.js';

/*
 * Teammates: a bare origin, a shared directory remote, Alice who pushes branches and tags, Bob who
 * runs gc --remote in his own clone, and Carol whose fresh clone must pull every byte afterwards.
 */

let store: string;
let team: Team;
beforeEach(() => {
  store = tempDir('mlx-team-store-');
  team = makeTeam([store]);
});
afterEach(() => {
  team.cleanup();
  fs.rmSync(store, { recursive: true, force: true });
});

/** Adds `file` with `data` in `dir`, mlx-pushes it and commits. */
function addPushCommit(dir: string, file: string, data: Buffer, message: string): void {
  write(dir, file, data);
  mlxOk(dir, 'add', file);
  mlxOk(dir, 'push');
  commitAll(dir, message);
}

/** Both phases of remote gc, each as a separate run, with no grace: the strictest collection. */
function gcTwice(dir: string, ...args: string[]): void {
  mlxOk(dir, 'gc', '--remote', '--grace', '0', ...args);
  mlxOk(dir, 'gc', '--remote', '--grace', '0', ...args);
}

/** A fresh clone checks out `ref` and pulls: every file must come back byte for byte. */
function expectPullable(ref: string, files: Record<string, Buffer>): void {
  const carol = team.clone(`carol-${ref.replace(/\W/g, '_')}-${Date.now()}`);
  git(carol, 'checkout', '-q', ref);
  mlxOk(carol, 'pull');
  for (const [file, data] of Object.entries(files)) expect(fs.readFileSync(path.join(carol, file)), `${file} at ${ref}`).toEqual(data);
  fs.rmSync(carol, { recursive: true, force: true });
}

describe('gc --remote keeps what teammates pushed', () => {
  it('keeps every branch and tag of the git remote, whether or not the clone running gc fetched them', () => {
    addPushCommit(team.alice, 'base.bin', bytes(3000, 'base'), 'base');
    // A file only tag v1 needs.
    addPushCommit(team.alice, 'old.bin', bytes(3000, 'old'), 'old');
    git(team.alice, 'tag', '-a', 'v1', '-m', 'v1');
    fs.rmSync(path.join(team.alice, 'old.bin.mlx'));
    commitAll(team.alice, 'drop old');
    git(team.alice, 'push', '-q', 'origin', 'main', 'v1');
    const bob = team.clone('bob');
    // Alice's branch, pushed after Bob cloned: Bob has never seen it.
    git(team.alice, 'checkout', '-q', '-b', 'feat');
    addPushCommit(team.alice, 'feat.bin', bytes(3000, 'feat'), 'feat');
    git(team.alice, 'push', '-q', 'origin', 'feat');

    gcTwice(bob);
    expectPullable('feat', { 'feat.bin': bytes(3000, 'feat'), 'base.bin': bytes(3000, 'base') });
    expectPullable('v1', { 'old.bin': bytes(3000, 'old') });
    expect(mlxJson(bob, 'gc', '--remote', '--grace', '0')).toMatchObject({ gitRemote: 'origin', gitRemoteBranches: 2, gitRemoteTags: 1 });

    // After git fetch, the remote-tracking branches count for -a and can be named with -b, even
    // without asking the git remote.
    git(bob, 'fetch', '-q', 'origin');
    gcTwice(bob, '--local-refs', '-a', '-T');
    expectPullable('feat', { 'feat.bin': bytes(3000, 'feat') });
    gcTwice(bob, '--local-refs', '-b', 'origin/feat', '-t', 'v1');
    expectPullable('feat', { 'feat.bin': bytes(3000, 'feat') });
    expectPullable('v1', { 'old.bin': bytes(3000, 'old') });
    expect(expectCleanError(mlx(bob, 'gc', '--remote', '--local-refs', '-b', 'origin/nope'))).toMatch(/no branch named "origin\/nope"/);

    // With only the local refs, the branch Bob never checked out is not kept: that is what the flag says.
    git(bob, 'update-ref', '-d', 'refs/remotes/origin/feat');
    gcTwice(bob, '--local-refs');
    const carol = team.clone('carol-after');
    git(carol, 'checkout', '-q', 'feat');
    expect(mlx(carol, 'pull').code).not.toBe(0);
  });

  it('refuses when it cannot learn the git remote\'s refs, changing nothing, unless told --local-refs', () => {
    addPushCommit(team.alice, 'a.bin', bytes(3000, 'a'), 'a');
    git(team.alice, 'push', '-q', 'origin', 'main');
    // An unreferenced pack, so that a gc that ran would have something to mark.
    write(team.alice, 'loose.bin', bytes(3000, 'loose'));
    mlxOk(team.alice, 'add', 'loose.bin');
    mlxOk(team.alice, 'push');
    fs.rmSync(path.join(team.alice, 'loose.bin.mlx'));
    const before = snapshot(store);

    git(team.alice, 'remote', 'set-url', 'origin', path.join(team.root, 'gone.git'));
    const line = expectCleanError(mlx(team.alice, 'gc', '--remote', '--grace', '0'));
    expect(line).toMatch(/cannot list the branches and tags of git remote origin/);
    expect(line).toMatch(/--local-refs/);
    expect(snapshot(store)).toEqual(before);

    git(team.alice, 'remote', 'remove', 'origin');
    expect(expectCleanError(mlx(team.alice, 'gc', '--remote', '--grace', '0'))).toMatch(/no git remote/);
    expect(expectCleanError(mlx(team.alice, 'gc', '--remote', '--git-remote', 'nope'))).toMatch(/git remote nope/);
    expect(expectCleanError(mlx(team.alice, 'gc', '--local-refs'))).toMatch(/only applies to gc --remote/);
    expect(snapshot(store)).toEqual(before);

    expect(mlxJson(team.alice, 'gc', '--remote', '--local-refs', '--grace', '0')).toMatchObject({ gitRemote: null, marked: 1 });
  });

  it('asks the git remote named by --git-remote or by the branch\'s upstream', () => {
    addPushCommit(team.alice, 'a.bin', bytes(3000, 'a'), 'a');
    git(team.alice, 'push', '-q', 'origin', 'main');
    const bob = team.clone('bob');
    git(bob, 'remote', 'rename', 'origin', 'upstream');
    expect(mlxJson(bob, 'gc', '--remote', '--grace', '60')).toMatchObject({ gitRemote: 'upstream' });
    git(bob, 'remote', 'add', 'origin', path.join(team.root, 'gone.git'));
    expect(mlxJson(bob, 'gc', '--remote', '--grace', '60')).toMatchObject({ gitRemote: 'upstream' }); // main's upstream
    expect(expectCleanError(mlx(bob, 'gc', '--remote', '--git-remote', 'origin'))).toMatch(/git remote origin/);
  });

  it('data pushed before its branch is protected by the grace period, and kept once the branch arrives', () => {
    const bob = team.clone('bob');
    git(team.alice, 'checkout', '-q', '-b', 'wip');
    write(team.alice, 'wip.bin', bytes(3000, 'wip'));
    mlxOk(team.alice, 'add', 'wip.bin');
    mlxOk(team.alice, 'push'); // the data is on the mlx remote; the branch not yet on origin
    commitAll(team.alice, 'wip');
    const packs = () => fs.readdirSync(path.join(store, 'packs')).filter((f) => f.endsWith('.pack')).sort();
    const before = packs();

    // Bob's gc knows no ref that needs it: it is marked, but nothing goes within the grace period.
    expect(mlxJson(bob, 'gc', '--remote', '--grace', '60')).toMatchObject({ marked: 1, removedPacks: 0 });
    expect(mlxJson(bob, 'gc', '--remote', '--grace', '60')).toMatchObject({ pending: 1, removedPacks: 0 });
    expect(packs()).toEqual(before);

    // The branch arrives before the plan's grace ends: the sweep spares the pack.
    git(team.alice, 'push', '-q', 'origin', 'wip');
    expect(mlxJson(bob, 'gc', '--remote', '--grace', '0')).toMatchObject({ removedPacks: 0, spared: 1 });
    expectPullable('wip', { 'wip.bin': bytes(3000, 'wip') });
  });
});
