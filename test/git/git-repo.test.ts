import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { serializePointer, type Pointer } from '../../src/formats/pointer.js';
import {
  branchesAndTags,
  commitsFrom,
  commitsSince,
  defaultGitRemote,
  filesAt,
  gitDir,
  gitRemoteRefs,
  indexedPaths,
  openGit,
  pointersAt,
  readFileAt,
  remoteTips,
  remoteTrackingBranches,
  resolveRevision,
  workTreeStatus,
  type GitRepo,
} from '../../src/git/git-repo.js';
import { retainedCommits } from '../../src/git/retention.js';
import { E, MlxError } from '../../src/util/errors.js';
import { rejectionCode } from '../helpers/errors.js';
import { tempDir, write } from '../helpers/repo.js';

// The git adapter on repositories the real `git` command builds: what mlx reads must agree with what
// git itself says (rev-parse, rev-list, ls-files, ls-tree).

const GIT_ENV = {
  ...process.env,
  GIT_CONFIG_NOSYSTEM: '1',
  GIT_CONFIG_GLOBAL: '/dev/null',
  GIT_AUTHOR_NAME: 'Test',
  GIT_AUTHOR_EMAIL: 'test@example.com',
  GIT_COMMITTER_NAME: 'Test',
  GIT_COMMITTER_EMAIL: 'test@example.com',
  GIT_TERMINAL_PROMPT: '0',
};

function gitCmd(cwd: string, ...args: string[]): string {
  return execFileSync('git', args, { cwd, env: GIT_ENV, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();
}

const OID_A = `b3:${'a'.repeat(64)}`;
const OID_B = `b3:${'b'.repeat(64)}`;
const pointer = (p: string, oid: string, size: number): Pointer => ({ version: 1, path: p, kind: 'file', oid, size });

let root: string;
let dir: string;
let repo: GitRepo;
/** c1 (first) <- c2 <- c3 = main; feat branches from c2 with f1. */
const c: Record<string, string> = {};

beforeAll(() => {
  root = tempDir('mlx-git-repo-');
  dir = path.join(root, 'work');
  fs.mkdirSync(dir);
  gitCmd(dir, 'init', '-q', '-b', 'main');
  write(dir, 'model.bin.mlx', serializePointer(pointer('model.bin', OID_A, 10)));
  write(dir, 'README.md', 'hello\n');
  gitCmd(dir, 'add', '-A');
  gitCmd(dir, 'commit', '-q', '-m', 'c1');
  c.c1 = gitCmd(dir, 'rev-parse', 'HEAD');
  gitCmd(dir, 'tag', '-a', 'v1', '-m', 'release 1');
  write(dir, 'data/nested/set.mlx', serializePointer(pointer('set', OID_B, 20)));
  write(dir, 'broken.mlx', '# mlx pointer — do not edit by hand\nversion: 1\nkind: file\n');
  write(dir, 'notes.mlx', 'a MATLAB live script is also a .mlx file\n');
  gitCmd(dir, 'add', '-A');
  gitCmd(dir, 'commit', '-q', '-m', 'c2');
  c.c2 = gitCmd(dir, 'rev-parse', 'HEAD');
  gitCmd(dir, 'tag', 'light');
  gitCmd(dir, 'branch', 'feat');
  write(dir, 'README.md', 'hello again\n');
  gitCmd(dir, 'commit', '-q', '-am', 'c3');
  c.c3 = gitCmd(dir, 'rev-parse', 'HEAD');
  gitCmd(dir, 'checkout', '-q', 'feat');
  write(dir, 'feat.txt', 'feature\n');
  gitCmd(dir, 'add', '-A');
  gitCmd(dir, 'commit', '-q', '-m', 'f1');
  c.f1 = gitCmd(dir, 'rev-parse', 'HEAD');
  gitCmd(dir, 'checkout', '-q', 'main');
  // Half of the history packed, as after `git gc`, so reads cross loose and packed objects.
  gitCmd(dir, 'repack', '-q', '-a', '-d');
  write(dir, 'README.md', 'loose\n');
  gitCmd(dir, 'commit', '-q', '-am', 'c4');
  c.c4 = gitCmd(dir, 'rev-parse', 'HEAD');
  repo = openGit(dir);
});

afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

describe('resolveRevision', () => {
  it('resolves what git rev-parse resolves: HEAD, branches, tags, full and short ids, ~N and ^', async () => {
    for (const rev of ['HEAD', 'main', 'feat', 'light', 'HEAD~1', 'HEAD^', 'HEAD^^', 'main~3', 'feat~1', 'HEAD~', 'HEAD~0', c.c2!, c.c2!.slice(0, 7), c.c3!.toUpperCase().slice(0, 10)]) {
      expect(await resolveRevision(repo, rev), rev).toBe(gitCmd(dir, 'rev-parse', '--verify', `${rev}^{commit}`));
    }
  });

  it('peels an annotated tag to its commit', async () => {
    expect(gitCmd(dir, 'cat-file', '-t', 'v1')).toBe('tag');
    expect(await resolveRevision(repo, 'v1')).toBe(c.c1);
    expect(await resolveRevision(repo, 'v1~0')).toBe(c.c1);
  });

  it('refuses unknown names, history before the first commit and non-commits, naming the revision', async () => {
    const tree = gitCmd(dir, 'rev-parse', 'HEAD^{tree}');
    const cases: Array<[string, RegExp]> = [
      ['nope', /"nope".*no branch, tag or commit/],
      ['HEAD~9', /"HEAD~9".*past the first commit/],
      [`${c.c1}^`, /past the first commit/],
      [tree, /names a tree, not a commit/],
      ['0000000', /no branch, tag or commit/],
    ];
    for (const [rev, why] of cases) {
      const err = await resolveRevision(repo, rev).then(() => undefined, (e: unknown) => e);
      expect(err, rev).toBeInstanceOf(MlxError);
      expect((err as MlxError).code).toBe(E.UNKNOWN_REVISION);
      expect((err as MlxError).message).toMatch(why);
    }
  });

  it('says a repository without commits has none yet', async () => {
    const empty = path.join(root, 'empty');
    fs.mkdirSync(empty);
    gitCmd(empty, 'init', '-q', '-b', 'main');
    const err = await resolveRevision(openGit(empty), 'HEAD').then(() => undefined, (e: unknown) => e);
    expect(err).toBeInstanceOf(MlxError);
    expect((err as MlxError).message).toMatch(/no commits yet/);
  });

  it('stops at the boundary of a shallow clone with a hint to unshallow', async () => {
    const shallow = path.join(root, 'shallow');
    gitCmd(root, 'clone', '-q', '--depth', '2', `file://${dir}`, shallow);
    const s = openGit(shallow);
    expect(await resolveRevision(s, 'HEAD~1')).toBe(c.c3);
    expect(await rejectionCode(resolveRevision(s, 'HEAD~2'))).toBe(E.UNKNOWN_REVISION);
    await expect(resolveRevision(s, 'HEAD~2')).rejects.toThrow(/shallow clone.*--unshallow/);
    // commitsSince ends a line of history where the shallow clone does.
    expect(await commitsSince(s, c.c4!, [])).toEqual([c.c4, c.c3]);
  });
});

describe('reading commits', () => {
  it('lists the pointer files of a commit, and reports damaged ones as problems without hiding the rest', async () => {
    const at1 = await pointersAt(repo, c.c1!);
    expect(at1).toEqual({ tracked: [{ path: 'model.bin', pointer: pointer('model.bin', OID_A, 10) }], problems: [] });
    const at2 = await pointersAt(repo, c.c2!);
    expect(at2.tracked.map((t) => t.path).sort()).toEqual(['data/nested/set', 'model.bin']);
    expect(at2.tracked.find((t) => t.path === 'data/nested/set')!.pointer).toEqual(pointer('set', OID_B, 20));
    expect(at2.problems.map((p) => p.pointer).sort()).toEqual(['broken.mlx', 'notes.mlx']);
    for (const p of at2.problems) {
      expect(p.code).toMatch(/^E/);
      expect(p.message).toContain(`${p.pointer}@${c.c2!.slice(0, 8)}`);
    }
  });

  it('walks nested trees as git ls-tree does, keeping only the paths asked for', async () => {
    const all = await filesAt(repo, c.c2!, () => true);
    const lsTree = gitCmd(dir, 'ls-tree', '-r', c.c2!).split('\n').map((l) => {
      const [meta, file] = l.split('\t');
      return { path: file!, oid: meta!.split(' ')[2]! };
    });
    expect(all.sort((a, b) => a.path.localeCompare(b.path))).toEqual(lsTree.sort((a, b) => a.path.localeCompare(b.path)));
    expect((await filesAt(repo, c.c2!, (f) => f.startsWith('data/'))).map((f) => f.path)).toEqual(['data/nested/set.mlx']);
  });

  it('reads a file as committed, loose or packed, and undefined where it does not exist', async () => {
    expect((await readFileAt(repo, c.c1!, 'README.md'))?.toString()).toBe('hello\n');
    expect((await readFileAt(repo, c.c4!, 'README.md'))?.toString()).toBe('loose\n');
    expect((await readFileAt(repo, c.c2!, 'data/nested/set.mlx'))?.toString()).toBe(serializePointer(pointer('set', OID_B, 20)));
    expect(await readFileAt(repo, c.c1!, 'data/nested/set.mlx')).toBeUndefined();
    expect(await readFileAt(repo, c.c1!, 'no/such/file')).toBeUndefined();
  });

  it('lists history newest first, as git rev-list does, to a depth', async () => {
    const revList = (...args: string[]) => gitCmd(dir, 'rev-list', ...args).split('\n');
    expect((await commitsFrom(repo, 'main')).map((x) => x.oid)).toEqual(revList('main'));
    expect((await commitsFrom(repo, 'feat', { depth: 2 })).map((x) => x.oid)).toEqual(revList('--max-count=2', 'feat'));
    const [newest] = await commitsFrom(repo, 'HEAD', { depth: 1 });
    expect(newest!.time).toBe(Number(gitCmd(dir, 'log', '-1', '--format=%ct')) * 1000);
  });

  it('lists the commits of a tip not reachable from the stops, as git rev-list <tip> --not <stops>', async () => {
    const revList = (...args: string[]) => gitCmd(dir, 'rev-list', ...args).split('\n').filter(Boolean).sort();
    expect((await commitsSince(repo, c.c4!, [c.c2!])).sort()).toEqual(revList(c.c4!, '--not', c.c2!));
    // Ancestors of a stop are not walked: from a fork, the result may hold more than rev-list lists
    // (shared history the stop reaches), never less, and never a stop.
    const fromFork = await commitsSince(repo, c.f1!, [c.c4!]);
    expect(fromFork).toEqual(expect.arrayContaining(revList(c.f1!, '--not', c.c4!)));
    expect(fromFork).not.toContain(c.c4);
    expect(fromFork[0]).toBe(c.f1);
    expect(await commitsSince(repo, c.c3!, [c.c3!])).toEqual([]);
    // An annotated tag is walked as the commit it tags.
    const tagObject = gitCmd(dir, 'rev-parse', 'v1');
    expect(await commitsSince(repo, tagObject, [])).toEqual([c.c1]);
  });

  it('lists branches and tags, and the index as git ls-files does', async () => {
    const { branches, tags } = await branchesAndTags(repo);
    expect(branches.sort()).toEqual(['feat', 'main']);
    expect(tags.sort()).toEqual(['light', 'v1']);
    expect((await indexedPaths(repo)).sort()).toEqual(gitCmd(dir, 'ls-files').split('\n').sort());
  });
});

describe('worktrees and remotes', () => {
  it('finds the git directory of a linked worktree through its .git file', async () => {
    const wt = path.join(root, 'linked');
    gitCmd(dir, 'worktree', 'add', '-q', wt, 'feat');
    expect(fs.statSync(path.join(wt, '.git')).isFile()).toBe(true);
    expect(gitDir(wt)).toBe(path.resolve(gitCmd(wt, 'rev-parse', '--git-dir')));
    expect(gitDir(dir)).toBe(path.join(dir, '.git'));
    const bad = path.join(root, 'bad');
    fs.mkdirSync(bad);
    fs.writeFileSync(path.join(bad, '.git'), 'not a gitdir line\n');
    expect(() => gitDir(bad)).toThrow(expect.objectContaining({ code: E.NOT_A_GIT_REPO }));
  });

  it('reads history in a linked worktree as git does there: its own HEAD and index, the shared objects and refs', async () => {
    const wt = path.join(root, 'linked-reads');
    gitCmd(dir, 'worktree', 'add', '-q', '-b', 'wt-reads', wt, c.c2!);
    onTestFinished(() => {
      // The later tests count the branches: this one goes with its worktree.
      gitCmd(dir, 'worktree', 'remove', '--force', wt);
      gitCmd(dir, 'branch', '-q', '-D', 'wt-reads');
    });
    write(wt, 'staged.txt', 'only in this worktree\n');
    gitCmd(wt, 'add', 'staged.txt');
    const w = openGit(wt);
    expect(w.commonDir).toBe(path.resolve(gitCmd(wt, 'rev-parse', '--git-common-dir')));
    expect(await resolveRevision(w, 'HEAD')).toBe(c.c2);
    expect((await pointersAt(w, c.c2!)).tracked.map((t) => t.path).sort()).toEqual(['data/nested/set', 'model.bin']);
    expect((await readFileAt(w, c.c4!, 'README.md'))?.toString()).toBe('loose\n');
    expect((await commitsFrom(w, 'HEAD')).map((x) => x.oid)).toEqual(gitCmd(wt, 'rev-list', 'HEAD').split('\n'));
    expect((await branchesAndTags(w)).branches.sort()).toEqual(gitCmd(wt, 'branch', '--format=%(refname:short)').split('\n').sort());
    expect((await indexedPaths(w)).sort()).toEqual(gitCmd(wt, 'ls-files').split('\n').sort());
    const changed = (await workTreeStatus(w)).filter(([, head, work, stage]) => !(head === 1 && work === 1 && stage === 1)).map(([file]) => file);
    expect(changed).toEqual(['staged.txt']);
    // The main work tree still has its own HEAD and index.
    expect(await resolveRevision(repo, 'HEAD')).toBe(c.c4);
    expect(await indexedPaths(repo)).not.toContain('staged.txt');
  });

  it('reads remote-tracking branches and the default remote, as git fetch left them', async () => {
    const origin = path.join(root, 'origin.git');
    gitCmd(root, 'clone', '-q', '--bare', dir, origin);
    const clone = path.join(root, 'clone');
    gitCmd(root, 'clone', '-q', origin, clone);
    const cr = openGit(clone);
    expect((await remoteTrackingBranches(cr)).sort()).toEqual(['origin/feat', 'origin/main']);
    expect((await remoteTips(cr, 'origin')).sort()).toEqual([c.c4, c.f1].sort());
    expect(await remoteTips(cr, 'nobody')).toEqual([]);
    expect(await defaultGitRemote(cr)).toBe('origin');
    // The current branch's upstream wins over origin.
    gitCmd(clone, 'remote', 'add', 'upstream', origin);
    gitCmd(clone, 'fetch', '-q', 'upstream');
    gitCmd(clone, 'branch', '-q', '--set-upstream-to=upstream/main');
    expect(await defaultGitRemote(cr)).toBe('upstream');
    expect(await defaultGitRemote(repo)).toBeUndefined();
  });

  it('asks a git remote for its refs and fetches the objects it lacks, without moving any ref', async () => {
    const origin = path.join(root, 'refs-origin.git');
    gitCmd(root, 'clone', '-q', '--bare', dir, origin);
    const clone = path.join(root, 'refs-clone');
    gitCmd(root, 'clone', '-q', origin, clone);
    // A teammate pushes a commit this clone has never seen.
    const other = path.join(root, 'teammate');
    gitCmd(root, 'clone', '-q', origin, other);
    write(other, 'new.txt', 'new\n');
    gitCmd(other, 'add', '-A');
    gitCmd(other, 'commit', '-q', '-m', 'teammate');
    gitCmd(other, 'push', '-q', 'origin', 'main');
    const pushed = gitCmd(other, 'rev-parse', 'HEAD');
    const before = gitCmd(clone, 'for-each-ref');

    const refs = await gitRemoteRefs(openGit(clone), 'origin');
    expect(refs.find((r) => r.ref === 'refs/heads/main')?.oid).toBe(pushed);
    expect(refs.find((r) => r.ref === 'refs/tags/v1')?.oid).toBe(gitCmd(dir, 'rev-parse', 'v1'));
    expect(refs.every((r) => !r.ref.endsWith('^{}'))).toBe(true);
    expect(gitCmd(clone, 'cat-file', '-t', pushed)).toBe('commit');
    expect(gitCmd(clone, 'for-each-ref')).toBe(before);

    for (const name of ['', '-upload-pack=evil', 'a b', 'a\nb']) expect(await rejectionCode(gitRemoteRefs(openGit(clone), name))).toBe(E.USAGE);
    expect(await rejectionCode(gitRemoteRefs(openGit(clone), 'no-such-remote'))).toBe(E.GIT_REMOTE);
  });
});

describe('retainedCommits', () => {
  it('keeps HEAD and the named branches, tags and revisions, to the depth asked', async () => {
    expect(await retainedCommits(repo, {})).toEqual(new Set([c.c4]));
    expect(await retainedCommits(repo, { branches: ['feat'], tags: ['v1'] })).toEqual(new Set([c.c4, c.f1, c.c1]));
    expect(await retainedCommits(repo, { allBranches: true, lastCommits: 2 })).toEqual(new Set([c.c4, c.c3, c.f1, c.c2]));
    expect(await retainedCommits(repo, { allTags: true, revs: ['HEAD~2'] })).toEqual(new Set([c.c4, c.c1, c.c2]));
    expect(await retainedCommits(repo, { branches: ['refs/heads/feat'] })).toEqual(new Set([c.c4, c.f1]));
    expect(await rejectionCode(retainedCommits(repo, { branches: ['nope'] }))).toBe(E.UNKNOWN_REVISION);
  });

  it('keeps only the work tree of a repository without commits', async () => {
    const empty = path.join(root, 'empty-retained');
    fs.mkdirSync(empty);
    gitCmd(empty, 'init', '-q', '-b', 'main');
    expect(await retainedCommits(openGit(empty), { lastCommits: 5 })).toEqual(new Set());
  });
});
