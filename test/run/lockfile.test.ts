import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { init } from '../../src/commands/init.js';
import { emptyRunLock, serializeRunLock } from '../../src/formats/run-lock.js';
import { openGit } from '../../src/git/git-repo.js';
import { isBadRunLock, readRunLock, readRunLockAt, runLockBytesAt, runLockPath, runLockSource, writeRunLock } from '../../src/run/lockfile.js';
import { runLockAt, workTreeRunLock } from '../../src/run/run-objects.js';
import { E, MlxError } from '../../src/util/errors.js';
import { openRepo } from '../../src/workspace/repo.js';
import { rejectionCode } from '../helpers/errors.js';
import { gitCommitAll, useTempRepo, write } from '../helpers/repo.js';
import { lockWith, sampleRun } from '../helpers/runs.js';

const dir = useTempRepo((d) => init({ cwd: d }));

/** The MlxError `fn` throws. */
function thrown(fn: () => unknown): MlxError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(MlxError);
    return err as MlxError;
  }
  throw new Error('expected an error');
}

describe('the run lockfile in the work tree', () => {
  it('is empty when there is none, and reads back what was written', async () => {
    const repo = await openRepo(dir());
    expect(runLockPath(repo)).toBe(path.join(repo.root, 'mlx.lock'));
    expect(readRunLock(repo)).toEqual(emptyRunLock());
    const lock = lockWith(['train', sampleRun(1)], ['eval', sampleRun(2)]);
    writeRunLock(repo, lock);
    expect(fs.readFileSync(runLockPath(repo), 'utf8')).toBe(serializeRunLock(lock));
    expect(readRunLock(repo)).toEqual(lock);
  });

  it('that does not parse is EBADRUNLOCK naming mlx.lock, with a hint', async () => {
    const repo = await openRepo(dir());
    const cases: [string, RegExp][] = [
      ['runs: [not, a, map]\n', /^malformed run lockfile mlx\.lock: /],
      ['version: 1\nruns: {train: {id: x}}\n', /^malformed run lockfile mlx\.lock: runs\.train\.id/],
      ['runs: {\n', /^malformed run lockfile mlx\.lock: not valid YAML/],
      ['<<<<<<< HEAD\nruns: {}\n=======\nruns: {}\n>>>>>>> other\n', /^mlx\.lock has unresolved merge conflict markers$/],
    ];
    for (const [text, message] of cases) {
      fs.writeFileSync(runLockPath(repo), text);
      const err = thrown(() => readRunLock(repo));
      expect(err.code).toBe(E.BAD_RUNLOCK);
      expect(err.message).toMatch(message);
      expect(err.hint).toContain('mlx.lock');
      expect(isBadRunLock(err)).toBe(true);
    }
  });

  it('for push and fetch, one that does not parse means no run objects; for gc it is an error naming the work tree', async () => {
    const repo = await openRepo(dir());
    expect(workTreeRunLock(repo)).toEqual(emptyRunLock());
    fs.writeFileSync(runLockPath(repo), 'runs: [not, a, map]\n');
    expect(workTreeRunLock(repo)).toBeUndefined();
    const err = thrown(() => workTreeRunLock(repo, { strict: true }));
    expect(err.code).toBe(E.BAD_RUNLOCK);
    expect(err.message).toMatch(/^malformed run lockfile mlx\.lock: .* in the work tree — gc keeps the runs it records and cannot read it$/);
  });
});

describe('the run lockfile at a commit', () => {
  it('is empty at a commit without one, and as committed at one with one', async () => {
    const repo = await openRepo(dir());
    const git = openGit(repo.root);
    write(repo.root, 'README', 'no runs yet\n');
    const before = await gitCommitAll(repo.root, 'no lockfile');
    const lock = lockWith(['train', sampleRun(1)]);
    writeRunLock(repo, lock);
    const after = await gitCommitAll(repo.root, 'a run');
    fs.rmSync(runLockPath(repo)); // the commit is read, not the work tree
    expect(await readRunLockAt(git, before)).toEqual(emptyRunLock());
    expect(await runLockBytesAt(git, before)).toBeUndefined();
    expect(await readRunLockAt(git, after)).toEqual(lock);
    expect(runLockSource(after)).toBe(`mlx.lock@${after.slice(0, 8)}`);
    expect(runLockSource(null)).toBe('mlx.lock');
  });

  it('that does not parse is EBADRUNLOCK naming mlx.lock@<commit>; its bytes are still there to restore', async () => {
    const repo = await openRepo(dir());
    const git = openGit(repo.root);
    fs.writeFileSync(runLockPath(repo), 'runs: [not, a, map]\n');
    const commit = await gitCommitAll(repo.root, 'broken lockfile');
    const err = await readRunLockAt(git, commit).then(() => undefined, (e: unknown) => e);
    expect(isBadRunLock(err)).toBe(true);
    expect((err as MlxError).message).toMatch(new RegExp(`^malformed run lockfile mlx\\.lock@${commit.slice(0, 8)}: `));
    expect((await runLockBytesAt(git, commit))?.toString('utf8')).toBe('runs: [not, a, map]\n');
    // gc stops on it, naming the commit, unless told to go on without its runs.
    expect(await rejectionCode(runLockAt(git, commit))).toBe(E.BAD_RUNLOCK);
    await expect(runLockAt(git, commit)).rejects.toThrow(`at commit ${commit.slice(0, 12)} — gc keeps the runs it records and cannot read it (or --force to collect without its runs)`);
    expect(await runLockAt(git, commit, { lenient: true })).toBeUndefined();
  });

  it('isBadRunLock is true only for a lockfile that does not parse', () => {
    expect(isBadRunLock(new MlxError(E.BAD_RUNLOCK, 'x'))).toBe(true);
    expect(isBadRunLock(new MlxError(E.UNKNOWN_REVISION, 'x'))).toBe(false);
    expect(isBadRunLock(new Error('x'))).toBe(false);
  });
});
