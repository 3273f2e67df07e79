import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { indexedPaths, openGit, readFileAt, resolveRevision } from '../../src/git/git-repo.js';
import { retainedCommits } from '../../src/git/retention.js';
import { E } from '../../src/util/errors.js';
import { rejectionCode } from '../helpers/errors.js';

let tmp: string;
const git = (dir: string, ...args: string[]) => execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@t', '-c', 'init.defaultBranch=main', ...args], { cwd: dir, stdio: 'pipe' }).toString();

beforeAll(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'mlx-git-adapter-'));
});
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

function newRepo(name: string): string {
  const dir = path.join(tmp, name);
  fs.mkdirSync(dir);
  git(dir, 'init', '-q');
  return dir;
}

describe('the git adapter in a repository without commits', () => {
  it('says E.NO_COMMITS for HEAD and revisions based on it, E.UNKNOWN_REVISION for other names', async () => {
    const repo = openGit(newRepo('empty'));
    expect(await rejectionCode(resolveRevision(repo, 'HEAD'))).toBe(E.NO_COMMITS);
    expect(await rejectionCode(resolveRevision(repo, 'HEAD~1'))).toBe(E.NO_COMMITS);
    expect(await rejectionCode(resolveRevision(repo, '@~2'))).toBe(E.NO_COMMITS);
    // `~2` alone is no revision to git (it needs a name before the step), commits or not.
    expect(await rejectionCode(resolveRevision(repo, '~2'))).toBe(E.UNKNOWN_REVISION);
    expect(await rejectionCode(resolveRevision(repo, 'main'))).toBe(E.UNKNOWN_REVISION);
    await expect(resolveRevision(repo, 'HEAD')).rejects.toThrow('the repository has no commits yet');
  });

  it('keeps nothing but the work tree for gc: HEAD is skipped, not an error', async () => {
    const repo = openGit(newRepo('empty-gc'));
    expect([...(await retainedCommits(repo, {}))]).toEqual([]);
  });

  it('lists no indexed paths before anything was staged', async () => {
    expect(await indexedPaths(openGit(newRepo('no-index')))).toEqual([]);
  });
});

describe('the git adapter with a commit', () => {
  let dir: string;
  let commit: string;
  beforeAll(() => {
    dir = newRepo('one-commit');
    fs.mkdirSync(path.join(dir, 'sub'));
    fs.writeFileSync(path.join(dir, 'sub', 'a.txt'), 'hello');
    git(dir, 'add', '.');
    git(dir, 'commit', '-q', '-m', 'first');
    commit = git(dir, 'rev-parse', 'HEAD').trim();
  });

  it('resolves HEAD once there is a commit', async () => {
    expect(await resolveRevision(openGit(dir), 'HEAD')).toBe(commit);
  });

  it('reads a committed file, and undefined where no file is', async () => {
    const repo = openGit(dir);
    expect((await readFileAt(repo, commit, 'sub/a.txt'))?.toString()).toBe('hello');
    expect(await readFileAt(repo, commit, 'missing.txt')).toBeUndefined();
    expect(await readFileAt(repo, commit, 'sub')).toBeUndefined();
    expect(await readFileAt(repo, commit, 'sub/a.txt/deeper')).toBeUndefined();
  });

  it('lets a damaged index fail instead of reading it as empty', async () => {
    const copy = path.join(tmp, 'damaged-index');
    fs.cpSync(dir, copy, { recursive: true });
    expect(await indexedPaths(openGit(copy))).toEqual(['sub/a.txt']);
    fs.writeFileSync(path.join(copy, '.git', 'index'), 'not an index');
    await expect(indexedPaths(openGit(copy))).rejects.toThrow();
  });
});
