import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openGit, resolveRevision } from '../../src/git/git-repo.js';
import { E, MlxError } from '../../src/util/errors.js';
import { tempDir, write } from '../helpers/repo.js';

// Every revision expression resolves to the commit `git rev-parse` names, or fails where git fails,
// in a normal clone, in a linked worktree (HEAD and index its own, objects and refs shared), in a
// shallow clone (history cut short) and in a blobless partial clone (file contents not here).

const GIT_ENV = {
  ...process.env,
  GIT_CONFIG_NOSYSTEM: '1',
  GIT_CONFIG_GLOBAL: '/dev/null',
  GIT_AUTHOR_NAME: 'Test',
  GIT_AUTHOR_EMAIL: 'test@example.com',
  GIT_COMMITTER_NAME: 'Test',
  GIT_COMMITTER_EMAIL: 'test@example.com',
};

function gitCmd(cwd: string, ...args: string[]): string {
  const r = spawnSync('git', args, { cwd, env: GIT_ENV, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`git ${args.join(' ')}: ${r.stderr}`);
  return r.stdout.trim();
}

/** What git says `rev` names as a commit, or undefined when it names none. */
function gitCommit(cwd: string, rev: string): string | undefined {
  const parse = (expr: string) => {
    const r = spawnSync('git', ['rev-parse', '--verify', '--quiet', '--end-of-options', expr], { cwd, env: GIT_ENV, encoding: 'utf8' });
    return r.status === 0 && /^[0-9a-f]{40}$/.test(r.stdout.trim()) ? r.stdout.trim() : undefined;
  };
  // In `:/text` and `rev:path` a `^{commit}` suffix would be read as part of the text: peel the object instead.
  if (!rev.includes(':')) return parse(`${rev}^{commit}`);
  const oid = parse(rev);
  return oid && parse(`${oid}^{commit}`);
}

let root: string;
const ids: Record<string, string> = {};
const places: Record<string, string> = {};

beforeAll(() => {
  root = tempDir('mlx-revisions-');
  const src = path.join(root, 'src');
  fs.mkdirSync(src);
  gitCmd(src, 'init', '-q', '-b', 'main');
  const commit = (message: string, file = 'file.txt') => {
    write(src, file, `${message}\n`);
    gitCmd(src, 'add', '-A');
    gitCmd(src, 'commit', '-q', '-m', message);
    return gitCmd(src, 'rev-parse', 'HEAD');
  };
  ids.c1 = commit('first commit');
  gitCmd(src, 'tag', '-a', 'v1', '-m', 'release one');
  ids.c2 = commit('second');
  gitCmd(src, 'tag', 'light');
  gitCmd(src, 'checkout', '-q', '-b', 'side');
  ids.s1 = commit('side work', 'side.txt');
  gitCmd(src, 'checkout', '-q', 'main');
  ids.c3 = commit('third');
  gitCmd(src, 'merge', '-q', '--no-ff', '-m', 'merge side', 'side');
  ids.c4 = commit('fourth');
  gitCmd(src, 'checkout', '-q', '-b', 'exp-lr');
  ids.e1 = commit('try a learning rate');
  gitCmd(src, 'checkout', '-q', 'main');

  const clone = path.join(root, 'clone');
  gitCmd(root, 'clone', '-q', `file://${src}`, clone);
  // A reflog to read back: HEAD@{1} and @{-1} are exp-lr.
  gitCmd(clone, 'checkout', '-q', 'exp-lr');
  gitCmd(clone, 'checkout', '-q', 'main');
  places.clone = clone;

  const worktree = path.join(root, 'worktree');
  gitCmd(clone, 'worktree', 'add', '-q', '-b', 'wt', worktree, 'origin/exp-lr');
  places.worktree = worktree;

  const shallow = path.join(root, 'shallow');
  gitCmd(root, 'clone', '-q', '--depth', '2', '--no-single-branch', `file://${src}`, shallow);
  places.shallow = shallow;

  // A blobless partial clone: commits and trees here, file contents fetched when needed.
  gitCmd(src, 'config', 'uploadpack.allowFilter', 'true');
  const blobless = path.join(root, 'blobless');
  gitCmd(root, 'clone', '-q', '--filter=blob:none', '--no-checkout', `file://${src}`, blobless);
  places.blobless = blobless;
});

afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

const EXPRESSIONS = [
  'HEAD', '@', 'main', 'refs/heads/main', 'heads/main', 'origin/main', 'remotes/origin/main', 'refs/remotes/origin/exp-lr',
  'origin/exp-lr', 'origin/HEAD', 'origin', 'exp-lr', 'wt', 'side', 'v1', 'v1^{}', 'v1^{commit}', 'v1~0', 'light', 'main^{commit}',
  'HEAD^{commit}', 'main~1^2', 'main~1^1', 'main^2', 'HEAD^2', 'main~2^', 'HEAD^^', 'HEAD~', 'HEAD~0', 'HEAD^0', 'HEAD~1^3', '@~1',
  'HEAD@{0}', 'HEAD@{1}', 'HEAD@{99}', '@{-1}', 'main@{0}', '@{u}', 'main@{upstream}', ':/first', ':/side work', ':/no such message',
  'HEAD^{/second}', 'main^{/nothing like this}', 'nope', 'HEAD~99', 'main~5', 'HEAD^{tree}', 'HEAD:file.txt', 'main..exp-lr',
  'main...exp-lr', '^main', 'HEAD^!', 'ORIG_HEAD', 'FETCH_HEAD', '~1', '0000', '00000000000', 'v2', 'refs/heads/nope', 'origin/nope',
];

describe.each(['clone', 'worktree', 'shallow', 'blobless'])('revisions in a %s', (place) => {
  it('resolves every expression to the commit git rev-parse names, and fails where git fails', async () => {
    const dir = places[place]!;
    const repo = openGit(dir);
    const abbreviated = [ids.c2!.slice(0, 7), ids.c4!.slice(0, 12).toUpperCase(), ids.e1!, ids.c1!, `${ids.c3}~1`, `${ids.s1}^`];
    let resolved = 0;
    for (const rev of [...EXPRESSIONS, ...abbreviated]) {
      const expected = gitCommit(dir, rev);
      const got = await resolveRevision(repo, rev).then(
        (oid) => oid,
        (err: unknown) => err,
      );
      if (expected === undefined) {
        expect(got, rev).toBeInstanceOf(MlxError);
        expect([E.UNKNOWN_REVISION, E.NO_COMMITS], rev).toContain((got as MlxError).code);
        expect((got as MlxError).message, rev).not.toMatch(/\n/);
        expect((got as MlxError).message, rev).toContain(JSON.stringify(rev));
      } else {
        expect(got, rev).toBe(expected);
        resolved++;
      }
    }
    // The table is not vacuous anywhere: most expressions name a commit in each place.
    expect(resolved).toBeGreaterThan(25);
  });
});

describe('what the table tells apart', () => {
  it('a linked worktree has its own HEAD and reflog but the branches, tags and objects of the repository', async () => {
    const repo = openGit(places.worktree!);
    expect(await resolveRevision(repo, 'HEAD')).toBe(ids.e1);
    expect(await resolveRevision(repo, 'main')).toBe(ids.c4);
    expect(await resolveRevision(repo, 'v1')).toBe(ids.c1);
    expect(await resolveRevision(openGit(places.clone!), 'HEAD')).toBe(ids.c4);
  });

  it('says why a revision names no commit, in one line', async () => {
    const clone = openGit(places.clone!);
    const why = async (repo: ReturnType<typeof openGit>, rev: string) => ((await resolveRevision(repo, rev).catch((e: unknown) => e)) as MlxError).message;
    expect(await why(clone, 'nope')).toMatch(/no branch, tag or commit has that name/);
    expect(await why(clone, 'HEAD~99')).toMatch(/past the first commit/);
    expect(await why(clone, 'HEAD^2')).toMatch(/has 1 parent\(s\), not 2/);
    expect(await why(clone, 'HEAD^{tree}')).toMatch(/names a tree, not a commit/);
    expect(await why(clone, 'HEAD:file.txt')).toMatch(/names a blob, not a commit/);
    expect(await why(clone, 'main..exp-lr')).toMatch(/range of commits/);
    expect(await why(clone, ':/no such message')).toMatch(/no commit message matches/);
    expect(await why(openGit(places.shallow!), 'HEAD~2')).toMatch(/shallow clone.*--unshallow/);
  });

  it('refuses a revision that git would take for an option', async () => {
    const err = await resolveRevision(openGit(places.clone!), '--all').catch((e: unknown) => e);
    expect((err as MlxError).code).toBe(E.USAGE);
  });
});
