import fs from 'node:fs';
import path from 'node:path';
import git from 'isomorphic-git';
import { describe, expect, it } from 'vitest';
import { init } from '../../src/commands/init.js';
import { writeRunLock } from '../../src/run/lockfile.js';
import { report } from '../../src/run/report.js';
import { E, MlxError } from '../../src/util/errors.js';
import { openRepo } from '../../src/workspace/repo.js';
import { rejectionCode } from '../helpers/errors.js';
import { gitCommitAll, useTempRepo } from '../helpers/repo.js';
import { lockWith, sampleRun } from '../helpers/runs.js';

const dir = useTempRepo((d) => init({ cwd: d }));

describe('report: which base, which head', () => {
  it('on main compares with the parent commit; with a single commit it asks for a base', async () => {
    const repo = await openRepo(dir());
    writeRunLock(repo, lockWith(['train', sampleRun(1)]));
    const first = await gitCommitAll(repo.root, 'train');
    const err = await report(repo).then(() => undefined, (e: unknown) => e);
    expect(err).toBeInstanceOf(MlxError);
    expect((err as MlxError).code).toBe(E.UNKNOWN_REVISION);
    expect((err as MlxError).hint).toBe('name the base to compare with: mlx report <rev>');

    writeRunLock(repo, lockWith(['train', sampleRun(1)], ['eval', sampleRun(2)]));
    const second = await gitCommitAll(repo.root, 'eval');
    const r = await report(repo);
    expect(r.base).toEqual({ rev: 'HEAD~1', commit: first, how: 'default: the parent commit (HEAD is already in main)' });
    expect(r.head).toEqual({ rev: 'workspace', commit: second, dirty: false, uncommitted: 0 });
    expect(r.runs.map((d) => [d.name, d.status])).toEqual([['eval', 'added'], ['train', 'unchanged']]);
  });

  it('on another branch compares with its merge base with main', async () => {
    const repo = await openRepo(dir());
    writeRunLock(repo, lockWith(['train', sampleRun(1)]));
    const fork = await gitCommitAll(repo.root, 'train');
    await git.branch({ fs, dir: repo.root, ref: 'feature', checkout: true });
    writeRunLock(repo, lockWith(['train', sampleRun(3)]));
    await gitCommitAll(repo.root, 'retrain on feature');
    await git.checkout({ fs, dir: repo.root, ref: 'main' });
    fs.writeFileSync(path.join(repo.root, 'NOTES'), 'main moves on\n');
    await gitCommitAll(repo.root, 'main moves on');
    await git.checkout({ fs, dir: repo.root, ref: 'feature' });
    const r = await report(repo);
    expect(r.base.rev).toBe('main');
    expect(r.base.commit).toBe(fork);
    expect(r.base.how).toBe(`default: merge-base with main (${fork.slice(0, 8)}), a local branch (there is no git remote)`);
    expect(r.runs.map((d) => [d.name, d.status])).toEqual([['train', 'changed']]);
  });

  it('in a work tree without commits the head is the work tree alone; a base that does not exist is an error', async () => {
    const repo = await openRepo(dir());
    writeRunLock(repo, lockWith(['train', sampleRun(1)]));
    await gitCommitAll(repo.root, 'train');
    // An orphan branch: HEAD names a branch with no commits yet.
    fs.writeFileSync(path.join(repo.root, '.git', 'HEAD'), 'ref: refs/heads/fresh\n');
    const r = await report(repo, { base: 'main' });
    expect(r.head).toEqual({ rev: 'workspace' });
    expect(r.runs.map((d) => [d.name, d.status])).toEqual([['train', 'unchanged']]);
    expect(await rejectionCode(report(repo, { base: 'no-such-branch' }))).toBe(E.UNKNOWN_REVISION);
  });
});
