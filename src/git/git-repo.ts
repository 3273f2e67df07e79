import fs from 'node:fs';
import path from 'node:path';
import type { PromiseFsClient } from 'isomorphic-git';
import { assertTrackedPath, parsePointer, POINTER_SUFFIX, type Pointer } from '../formats/pointer.js';
import { MlxError, badUsage, isErrno, gitRemoteFailed, noCommits, notAGitRepo, unknownRevision } from '../util/errors.js';

type Git = typeof import('isomorphic-git');
let gitModule: Git | undefined;

/** isomorphic-git costs ~0.1 s to import: load it only for commands that read history. */
async function git(): Promise<Git> {
  gitModule ??= (await import('isomorphic-git')).default as unknown as Git;
  return gitModule;
}

/** A git repository opened for reading history; one shared object cache makes packed reads fast. */
export interface GitRepo {
  /** The work tree. */
  dir: string;
  /** This work tree's git directory: its HEAD and index (`.git`, or `.git/worktrees/<name>` of a linked worktree). */
  gitdir: string;
  /** Where objects, refs, config and `shallow` live: `gitdir` itself, or the main repository's for a linked worktree. */
  commonDir: string;
  /** The file system isomorphic-git reads through; in a linked worktree it finds shared files in `commonDir`. */
  fs: PromiseFsClient;
  cache: object;
}

/** What every isomorphic-git call of this adapter is given. */
function at(repo: GitRepo): { fs: PromiseFsClient; dir: string; gitdir: string; cache: object } {
  return { fs: repo.fs, dir: repo.dir, gitdir: repo.gitdir, cache: repo.cache };
}

/**
 * Opens the repository whose work tree is `dir`. A linked worktree (`git worktree add`) has its own
 * HEAD and index but reads objects and refs from the main repository, which isomorphic-git does not
 * know about (it ignores `commondir`): the file system it is given sends those reads there.
 */
export function openGit(dir: string): GitRepo {
  let gitdir = path.join(dir, '.git');
  try {
    gitdir = gitDir(dir);
  } catch (err) {
    // No (readable) .git here: reads fail later with "not found", as they always did.
    if (!(err instanceof MlxError) && !isErrno(err, 'ENOENT', 'ENOTDIR')) throw err;
  }
  const commonDir = commonGitDir(gitdir);
  return { dir, gitdir, commonDir, fs: commonDir === gitdir ? (fs as unknown as PromiseFsClient) : linkedWorktreeFs(gitdir, commonDir), cache: {} };
}

/** The directory a git directory shares objects and refs with (its `commondir` file), or itself. */
function commonGitDir(gitdir: string): string {
  try {
    return path.resolve(gitdir, fs.readFileSync(path.join(gitdir, 'commondir'), 'utf8').trim());
  } catch (err) {
    if (isErrno(err, 'ENOENT', 'ENOTDIR')) return gitdir; // not a linked worktree
    throw err;
  }
}

/**
 * The entries of a git directory that linked worktrees share with the main one, and the paths under
 * them that each worktree keeps for itself (git's list, in its path.c). Everything else (HEAD, index,
 * ORIG_HEAD, ...) is the worktree's own.
 */
const SHARED = new Set(['objects', 'refs', 'packed-refs', 'config', 'shallow', 'info', 'hooks', 'remotes', 'branches', 'logs', 'worktrees', 'rr-cache', 'lost-found', 'svn', 'common']);
const PER_WORKTREE = ['refs/bisect', 'refs/worktree', 'refs/rewritten', 'logs/HEAD', 'logs/refs/bisect', 'logs/refs/worktree', 'logs/refs/rewritten', 'info/sparse-checkout'];

function linkedWorktreeFs(gitdir: string, commonDir: string): PromiseFsClient {
  const prefix = `${gitdir}${path.sep}`;
  const redirect = (p: unknown): unknown => {
    if (typeof p !== 'string') return p;
    const file = path.normalize(p);
    if (!file.startsWith(prefix)) return p;
    const rel = file.slice(prefix.length).split(path.sep).join('/');
    const shared = SHARED.has(rel.split('/')[0]!) && !PER_WORKTREE.some((own) => rel === own || rel.startsWith(`${own}/`));
    return shared ? path.join(commonDir, rel) : p;
  };
  const p = fs.promises as unknown as Record<string, (...args: unknown[]) => Promise<unknown>>;
  const promises: Record<string, (...args: unknown[]) => Promise<unknown>> = {};
  for (const name of ['readFile', 'writeFile', 'unlink', 'readdir', 'mkdir', 'rmdir', 'stat', 'lstat', 'readlink', 'chmod']) {
    promises[name] = async (file: unknown, ...rest: unknown[]) => p[name]!(redirect(file), ...rest);
  }
  promises.symlink = async (target: unknown, file: unknown, ...rest: unknown[]) => p.symlink!(target, redirect(file), ...rest);
  return { promises } as unknown as PromiseFsClient;
}

/**
 * Whether an isomorphic-git error says that a ref, object or file is not there (its NotFoundError).
 * Only that is an answer; any other failure (a corrupt index or object, an unreadable file) is passed on.
 */
function isAbsent(g: Git, err: unknown): boolean {
  return err instanceof g.Errors.NotFoundError;
}

/** A `.catch` that turns "not there" into `fallback` and lets every other failure through. */
function ifAbsent<T>(g: Git, fallback: T): (err: unknown) => T {
  return (err) => {
    if (isAbsent(g, err)) return fallback;
    throw err;
  };
}

/** A pointer file as committed at some revision. */
export interface CommittedPointer {
  path: string;
  pointer: Pointer;
}

/**
 * Resolves a revision to a full commit id as `git rev-parse --verify <rev>^{commit}` does, in every
 * syntax git accepts: `HEAD`, `@`, branches, `origin/x`, tags (peeled), full or abbreviated ids,
 * `main~2^`, `HEAD^2`, `HEAD@{1}`, `v1^{}`, `main^{commit}`, `:/message`, ... A branch, tag or full
 * id is read directly (no process to start); everything else, and whatever that read cannot answer,
 * is asked of git. Fails with one line that says why: E.NO_COMMITS when HEAD has no commit yet,
 * else E.UNKNOWN_REVISION.
 */
export async function resolveRevision(repo: GitRepo, rev: string): Promise<string> {
  if (rev.startsWith('-')) throw badUsage(`invalid revision ${JSON.stringify(rev)}: a revision cannot start with "-"`);
  const direct = await resolveRefName(repo, rev);
  if (direct) return direct;
  // In `:/message` and `<rev>:<path>` the rest is text: a `^{commit}` suffix would become part of it.
  const colon = rev.includes(':');
  const oid = await revParse(repo, colon ? rev : `${rev}^{commit}`);
  if (oid !== undefined) {
    if (!colon) return oid;
    const peeled = await peel(repo, oid);
    if ('commit' in peeled) return peeled.commit;
    throw revisionNotFound(rev, peeled.why);
  }
  if (/^(HEAD|@)(?=$|[~^@])/.test(rev) && (await revParse(repo, 'HEAD')) === undefined) {
    throw noCommits('the repository has no commits yet', { hint: 'commit first; mlx checkout without a revision follows the work tree' });
  }
  throw revisionNotFound(rev, await whyUnresolved(repo, rev));
}

/**
 * A branch, tag, remote-tracking branch, `HEAD` or full commit id, read with isomorphic-git in git's
 * order (`<name>`, `refs/<name>`, `refs/tags/`, `refs/heads/`, `refs/remotes/`, `refs/remotes/<name>/HEAD`)
 * and peeled to a commit. Undefined for anything else or anything it cannot read: git decides then.
 * Pseudo-refs (FETCH_HEAD, ORIG_HEAD, ...) are left to git, which knows their formats.
 */
async function resolveRefName(repo: GitRepo, rev: string): Promise<string | undefined> {
  if (rev !== 'HEAD' && (!/^[A-Za-z0-9_][A-Za-z0-9._/+-]*$/.test(rev) || /\.\.|\/\/|\/\.|\/$|\.lock$|^[A-Z_]+$/.test(rev))) return undefined;
  const g = await git();
  try {
    const peeled = await peel(repo, await g.resolveRef({ ...at(repo), ref: rev }));
    return 'commit' in peeled ? peeled.commit : undefined;
  } catch {
    return undefined; // not a ref it can read (or not one at all): git answers
  }
}

/** Follows annotated tags from `oid` down to a commit; says why not when it ends elsewhere. */
async function peel(repo: GitRepo, oid: string): Promise<{ commit: string } | { why: string }> {
  const g = await git();
  for (let i = 0; i < 10; i++) {
    const obj: { type: string; object: unknown } | undefined = await g.readObject({ ...at(repo), oid, format: 'parsed' }).catch(ifAbsent(g, undefined));
    if (!obj) return { why: 'its object is not in this repository (a shallow or partial clone?)' };
    if (obj.type === 'commit') return { commit: oid };
    if (obj.type !== 'tag') return { why: `it names a ${obj.type}, not a commit` };
    oid = (obj.object as { object: string }).object;
  }
  return { why: 'too many nested tags' };
}

/** `git rev-parse --verify` of one expression: the object id, or undefined when git resolves none. */
async function revParse(repo: GitRepo, expr: string): Promise<string | undefined> {
  const r = await runGit(repo, ['rev-parse', '--verify', '--quiet', '--end-of-options', expr]);
  if (r.code === 0 && /^[0-9a-f]{40}(?:[0-9a-f]{24})?$/.test(r.stdout.trim())) return r.stdout.trim();
  if (/not a git repository/i.test(r.stderr)) throw notAGitRepo(`${repo.dir} is not inside a git repository`, { hint: 'run git init first, then mlx init' });
  return undefined;
}

/** Why git resolves no commit for `rev` (called only once it did not): the reason of an unknown-revision error. */
async function whyUnresolved(repo: GitRepo, rev: string): Promise<string> {
  if (!rev.includes(':')) {
    if (/\.\.|^\^|\^[@!-]/.test(rev)) return 'it names a range of commits, not one commit';
    // `<base>~N^M...`: the base resolves, so one of the steps back does not.
    const nav = /^(.+?)((?:[~^]\d*)+)$/.exec(rev);
    if (nav) {
      let oid: string;
      try {
        oid = await resolveRevision(repo, nav[1]!);
      } catch (err) {
        if (err instanceof MlxError) return whyUnresolved(repo, nav[1]!);
        throw err;
      }
      const why = await whyNoAncestor(repo, oid, nav[2]!);
      if (why) return why;
    }
  }
  const oid = await revParse(repo, rev);
  if (oid !== undefined) {
    const peeled = await peel(repo, oid);
    if ('why' in peeled) return peeled.why;
  }
  if (/^[0-9a-f]{4,39}$/i.test(rev)) {
    const candidates = (await runGit(repo, ['rev-parse', `--disambiguate=${rev.toLowerCase()}`])).stdout.split('\n').filter(Boolean).length;
    if (candidates > 1) return `it is ambiguous: ${candidates} objects start with it (give more of the id)`;
  }
  if (rev.startsWith(':/')) return 'no commit message matches it';
  if (/@\{\d+\}$/.test(rev)) return 'the reflog has no such entry';
  if (/@\{(u|upstream|push)\}$/i.test(rev)) return 'no upstream branch is set';
  return 'no branch, tag or commit has that name';
}

/** Walks `steps` (`~N`, `^N`) back from `oid`; why it cannot, or undefined when it can. */
async function whyNoAncestor(repo: GitRepo, oid: string, steps: string): Promise<string | undefined> {
  const g = await git();
  const shallow = shallowCommits(repo);
  for (const step of steps.match(/[~^]\d*/g) ?? []) {
    const n = step.length === 1 ? 1 : Number(step.slice(1));
    const hops = step[0] === '^' ? (n === 0 ? [] : [n]) : Array.from({ length: n }, () => 1);
    for (const parent of hops) {
      if (shallow.has(oid)) return 'it goes back past the start of this shallow clone (git fetch --unshallow)';
      const read = await g.readCommit({ ...at(repo), oid }).catch(ifAbsent(g, undefined));
      if (!read) return `commit ${oid.slice(0, 12)} is not in this repository (a shallow or partial clone?)`;
      const parents = read.commit.parent;
      if (parents.length === 0) return 'it goes back past the first commit';
      if (parents.length < parent) return `commit ${oid.slice(0, 12)} has ${parents.length} parent(s), not ${parent}`;
      oid = parents[parent - 1]!;
    }
  }
  return undefined;
}

/** The commits a shallow clone was cut at: their parents are not in the repository. */
function shallowCommits(repo: GitRepo): Set<string> {
  try {
    return new Set(fs.readFileSync(path.join(repo.commonDir, 'shallow'), 'utf8').split('\n').filter((l) => /^[0-9a-f]{40}$/.test(l)));
  } catch (err) {
    if (isErrno(err, 'ENOENT', 'ENOTDIR')) return new Set(); // no shallow file: not a shallow clone
    throw err;
  }
}

function revisionNotFound(rev: string, why: string): MlxError {
  return unknownRevision(`unknown revision ${JSON.stringify(rev)}: ${why}`, { rev });
}
/**
 * Every pointer file committed at `commit`, read from git objects without touching the work tree.
 * Malformed pointers are returned as problems, not thrown, so one bad file does not hide the rest.
 */
export async function pointersAt(repo: GitRepo, commit: string): Promise<{ tracked: CommittedPointer[]; problems: { pointer: string; code: string; message: string; hint?: string }[] }> {
  const g = await git();
  const files = await filesAt(repo, commit, (p) => p.endsWith(POINTER_SUFFIX) && p.length > POINTER_SUFFIX.length);
  const tracked: CommittedPointer[] = [];
  const problems: { pointer: string; code: string; message: string; hint?: string }[] = [];
  for (const { path: file, oid } of files) {
    const source = `${file}@${commit.slice(0, 8)}`;
    try {
      const rel = file.slice(0, -POINTER_SUFFIX.length);
      assertTrackedPath(rel, source);
      const { blob } = await g.readBlob({ ...at(repo), oid });
      tracked.push({ path: rel, pointer: parsePointer(Buffer.from(blob).toString('utf8'), source) });
    } catch (err) {
      if (!(err instanceof MlxError)) throw err;
      problems.push({ pointer: file, code: err.code, message: err.message, hint: err.hint });
    }
  }
  return { tracked, problems };
}

/** The blob ids of files at `commit` whose path passes `keep`, by walking its trees. */
export async function filesAt(repo: GitRepo, commit: string, keep: (file: string) => boolean): Promise<{ path: string; oid: string }[]> {
  const g = await git();
  const out: { path: string; oid: string }[] = [];
  const walkTree = async (treeOid: string, prefix: string) => {
    const { tree } = await g.readTree({ ...at(repo), oid: treeOid });
    for (const entry of tree) {
      const file = prefix ? `${prefix}/${entry.path}` : entry.path;
      if (entry.type === 'tree') await walkTree(entry.oid, file);
      else if (entry.type === 'blob' && keep(file)) out.push({ path: file, oid: entry.oid });
    }
  };
  const { commit: c } = await g.readCommit({ ...at(repo), oid: commit });
  await walkTree(c.tree, '');
  return out;
}

/** A file's bytes at `commit`, or undefined when it does not exist there. */
export async function readFileAt(repo: GitRepo, commit: string, filepath: string): Promise<Buffer | undefined> {
  const g = await git();
  try {
    const { blob } = await g.readBlob({ ...at(repo), oid: commit, filepath });
    return Buffer.from(blob);
  } catch (err) {
    // A folder, or a file on the way down, at that path is no file there either.
    if (isAbsent(g, err) || err instanceof g.Errors.ObjectTypeError) return undefined;
    throw err;
  }
}

/** Commits reachable from `ref`, newest first, at most `depth` (or all), stopping at shallow boundaries. */
export async function commitsFrom(repo: GitRepo, ref: string, opts: { depth?: number; since?: Date } = {}): Promise<{ oid: string; time: number }[]> {
  const g = await git();
  const log = await g.log({ ...at(repo), ref, depth: opts.depth, since: opts.since });
  return log.map((c) => ({ oid: c.oid, time: c.commit.committer.timestamp * 1000 }));
}

/**
 * Commits reachable from `tip` (a commit, or an annotated tag of one) that are not reachable through
 * any commit of `stop` (their ancestors are not walked), newest first. A parent missing from the
 * repository (a shallow clone) ends that line of history. This is what `git rev-list <tip> --not
 * <stop...>` lists when `stop` holds the remote's known tips.
 */
export async function commitsSince(repo: GitRepo, tip: string, stop: Iterable<string>): Promise<string[]> {
  const g = await git();
  const seen = new Set<string>(stop);
  const out: string[] = [];
  const queue = [tip];
  for (let next = 0; next < queue.length; next++) {
    const oid = queue[next]!;
    if (seen.has(oid)) continue;
    seen.add(oid);
    let read: Awaited<ReturnType<Git['readCommit']>>;
    try {
      read = await g.readCommit({ ...at(repo), oid });
    } catch (err) {
      if (!isAbsent(g, err)) throw err;
      continue; // not in this (shallow) repository
    }
    // readCommit peels an annotated tag (a pushed tag) to the commit it tags.
    if (read.oid !== oid) {
      if (seen.has(read.oid)) continue;
      seen.add(read.oid);
    }
    out.push(read.oid);
    queue.push(...read.commit.parent);
  }
  return out;
}

/** The commits the remote-tracking branches of `remote` point at (what git last saw there). */
export async function remoteTips(repo: GitRepo, remote: string): Promise<string[]> {
  const g = await git();
  const tips: string[] = [];
  for (const branch of await g.listBranches({ ...at(repo), remote }).catch(ifAbsent(g, [] as string[]))) {
    if (branch === 'HEAD') continue;
    try {
      tips.push(await g.resolveRef({ ...at(repo), ref: `refs/remotes/${remote}/${branch}` }));
    } catch (err) {
      if (!isAbsent(g, err)) throw err; // a dangling remote-tracking ref: nothing to stop at
    }
  }
  return tips;
}

export async function branchesAndTags(repo: GitRepo): Promise<{ branches: string[]; tags: string[] }> {
  const g = await git();
  return { branches: await g.listBranches(at(repo)), tags: await g.listTags(at(repo)) };
}

/** A ref whose history holds data: a local branch, a remote-tracking branch or a tag. */
export interface HistoryRef {
  /** The full ref: `refs/heads/main`, `refs/remotes/origin/exp-lr`, `refs/tags/v1`. */
  ref: string;
  /** As git prints it short: `main`, `origin/exp-lr`, `v1` (`tags/v1` when a branch has that name too). */
  name: string;
  kind: 'branch' | 'remote' | 'tag';
  /** The object it points at (for an annotated tag, the tag object). */
  oid: string;
}

/**
 * Every local branch, remote-tracking branch (not the `<remote>/HEAD` aliases) and tag, as
 * `git for-each-ref refs/heads refs/remotes refs/tags` lists them. A ref that points nowhere is left out.
 */
export async function historyRefs(repo: GitRepo): Promise<HistoryRef[]> {
  const g = await git();
  const list = async (prefix: string) => (await g.listRefs({ ...at(repo), filepath: prefix }).catch(ifAbsent(g, [] as string[]))).sort();
  const [heads, remotes, tags] = [await list('refs/heads'), await list('refs/remotes'), await list('refs/tags')];
  const named: Omit<HistoryRef, 'oid'>[] = [
    ...heads.map((b) => ({ ref: `refs/heads/${b}`, name: b, kind: 'branch' as const })),
    ...remotes.filter((r) => !r.endsWith('/HEAD')).map((r) => ({ ref: `refs/remotes/${r}`, name: r, kind: 'remote' as const })),
    ...tags.map((t) => ({ ref: `refs/tags/${t}`, name: heads.includes(t) ? `tags/${t}` : t, kind: 'tag' as const })),
  ];
  const out: HistoryRef[] = [];
  for (const r of named) {
    const oid = await g.resolveRef({ ...at(repo), ref: r.ref }).catch(ifAbsent(g, undefined));
    if (oid) out.push({ ...r, oid });
  }
  return out;
}

/** One commit as a history walk needs it. */
export interface CommitInfo {
  oid: string;
  parents: string[];
  /** Committer time, in milliseconds. */
  time: number;
  tree: string;
}

/**
 * Walks the histories of several refs reading each commit once: refs of one team share most of their
 * history (main, origin/main, a branch forked from it), and the second walk costs no reads.
 */
export class CommitGraph {
  private readonly commits = new Map<string, CommitInfo | null>();

  constructor(private readonly repo: GitRepo) {}

  /** A commit (an annotated tag is peeled to its commit), or null when the repository lacks it or it names no commit. */
  async commit(oid: string): Promise<CommitInfo | null> {
    let known = this.commits.get(oid);
    if (known !== undefined) return known;
    const g = await git();
    try {
      const { oid: peeled, commit } = await g.readCommit({ ...at(this.repo), oid });
      known = { oid: peeled, parents: commit.parent, time: commit.committer.timestamp * 1000, tree: commit.tree };
    } catch (err) {
      // Not there (past a shallow clone's boundary) or not a commit (a tag of a tree): no history.
      if (!isAbsent(g, err) && !(err instanceof g.Errors.ObjectTypeError)) throw err;
      known = null;
    }
    this.commits.set(oid, known);
    return known;
  }

  /**
   * The newest `depth` commits reachable from `tip`, newest first by committer time (as `git log`
   * lists them); a parent the repository lacks ends that line. Undefined when `tip` is no commit here.
   */
  async history(tip: string, depth = Infinity): Promise<CommitInfo[] | undefined> {
    const first = await this.commit(tip);
    if (!first) return undefined;
    const out: CommitInfo[] = [];
    const seen = new Set([first.oid]);
    const pending = [first];
    while (pending.length > 0 && out.length < depth) {
      let newest = 0;
      for (let i = 1; i < pending.length; i++) if (pending[i]!.time > pending[newest]!.time) newest = i;
      const c = pending.splice(newest, 1)[0]!;
      out.push(c);
      for (const p of c.parents) {
        if (seen.has(p)) continue;
        seen.add(p);
        const parent = await this.commit(p);
        if (parent) pending.push(parent);
      }
    }
    return out;
  }
}

/** The blob id of a file at the root of a tree, or undefined when there is no such file there (or no such tree here). */
export async function rootFileOid(repo: GitRepo, tree: string, name: string): Promise<string | undefined> {
  const g = await git();
  const read = await g.readTree({ ...at(repo), oid: tree }).catch(ifAbsent(g, undefined));
  const entry = read?.tree.find((e) => e.path === name);
  return entry?.type === 'blob' ? entry.oid : undefined;
}

/** A blob's bytes, or undefined when the repository lacks it (a partial clone), as `readFileAt` does. */
export async function readBlobBytes(repo: GitRepo, oid: string): Promise<Buffer | undefined> {
  const g = await git();
  const read = await g.readBlob({ ...at(repo), oid }).catch(ifAbsent(g, undefined));
  return read && Buffer.from(read.blob);
}

/** The git directory (`.git`, or where a `.git` file points for worktrees and submodules). */
export function gitDir(workTree: string): string {
  const dotGit = path.join(workTree, '.git');
  const st = fs.statSync(dotGit);
  if (st.isDirectory()) return dotGit;
  const m = /^gitdir:\s*(.+)\s*$/m.exec(fs.readFileSync(dotGit, 'utf8'));
  if (!m) throw notAGitRepo(`${dotGit} is neither a folder nor a gitdir link`);
  return path.resolve(workTree, m[1]!);
}

/** What one worktree of a repository holds in git: its HEAD commit and the pointer files staged in its index. */
export interface WorktreeGitState {
  /** Its git directory (the main one, or `worktrees/<name>` of a linked one). */
  gitdir: string;
  /** The commit its HEAD names; undefined when it has none yet. */
  head?: string;
  /** The pointer files in its index (every stage of a conflicted one). */
  staged: CommittedPointer[];
  problems: { pointer: string; code: string; message: string; hint?: string }[];
}

/**
 * The HEAD and staged pointer files of every worktree of this repository (the main one and each
 * linked one, wherever this one is), read from their git directories: what `git gc` keeps besides
 * refs, and what gc of a cache the worktrees share must keep too.
 */
export async function worktreeGitStates(repo: GitRepo): Promise<WorktreeGitState[]> {
  const gitdirs = [repo.commonDir];
  const linked = path.join(repo.commonDir, 'worktrees');
  try {
    for (const name of fs.readdirSync(linked).sort()) if (fs.existsSync(path.join(linked, name, 'HEAD'))) gitdirs.push(path.join(linked, name));
  } catch (err) {
    if (!isErrno(err, 'ENOENT', 'ENOTDIR')) throw err; // no linked worktrees
  }
  const out: WorktreeGitState[] = [];
  for (const gitdir of gitdirs) {
    const head = await runGit(repo, ['--git-dir', gitdir, 'rev-parse', '--verify', '--quiet', 'HEAD^{commit}']);
    const state: WorktreeGitState = { gitdir, staged: [], problems: [] };
    if (head.code === 0 && /^[0-9a-f]{40}(?:[0-9a-f]{24})?$/.test(head.stdout.trim())) state.head = head.stdout.trim();
    // A bare main repository has no index; git says so and there is nothing staged.
    const listing = fs.existsSync(path.join(gitdir, 'index')) ? await runGit(repo, ['--git-dir', gitdir, 'ls-files', '--stage', '-z']) : undefined;
    for (const line of listing?.code === 0 ? listing.stdout.split('\0') : []) {
      const m = /^\d+ ([0-9a-f]{40,64}) \d\t(.+)$/s.exec(line);
      if (!m || !m[2]!.endsWith(POINTER_SUFFIX) || m[2]!.length === POINTER_SUFFIX.length) continue;
      const source = `${m[2]} (staged in ${gitdir})`;
      try {
        const rel = m[2]!.slice(0, -POINTER_SUFFIX.length);
        assertTrackedPath(rel, source);
        const bytes = await readBlobBytes(repo, m[1]!);
        if (bytes) state.staged.push({ path: rel, pointer: parsePointer(bytes.toString('utf8'), source) });
      } catch (err) {
        if (!(err instanceof MlxError)) throw err;
        state.problems.push({ pointer: m[2]!, code: err.code, message: err.message, hint: err.hint });
      }
    }
    out.push(state);
  }
  return out;
}

/** The paths in git's index (what `git ls-files` lists). */
export async function indexedPaths(repo: GitRepo): Promise<string[]> {
  const g = await git();
  // No index yet lists nothing; a damaged one is an error, not an empty index (add relies on it).
  return g.listFiles(at(repo)).catch(async (err: unknown) => {
    if (isAbsent(g, err)) return [];
    // isomorphic-git reads index versions 2 and 3; git writes 4 with feature.manyFiles. git itself reads it.
    if (err instanceof g.Errors.InternalError && /dircache version/i.test(err.message)) {
      return (await gitCli(repo, ['ls-files', '-z'], 'git ls-files')).split('\0').filter(Boolean);
    }
    throw err;
  });
}

/**
 * isomorphic-git's status matrix of the work tree: `[path, head, workdir, stage]` per file (its
 * statusMatrix), read through this repository's git directories so it works in a linked worktree.
 */
export async function workTreeStatus(repo: GitRepo): Promise<[string, number, number, number][]> {
  const g = await git();
  return (await g.statusMatrix(at(repo))) as [string, number, number, number][];
}

/** The best common ancestor of two commits (`git merge-base`), or undefined when they have none here (unrelated, or cut off by a shallow clone). */
export async function mergeBase(repo: GitRepo, a: string, b: string): Promise<string | undefined> {
  const r = await runGit(repo, ['merge-base', '--end-of-options', a, b]);
  const oid = r.stdout.trim();
  return r.code === 0 && /^[0-9a-f]{40}(?:[0-9a-f]{24})?$/.test(oid) ? oid : undefined;
}

/** Where a symbolic ref points (`refs/remotes/origin/HEAD` → `refs/remotes/origin/main`), or undefined when it is none. */
export async function symbolicRefTarget(repo: GitRepo, ref: string): Promise<string | undefined> {
  const r = await runGit(repo, ['symbolic-ref', '--quiet', '--end-of-options', ref]);
  return r.code === 0 && r.stdout.trim().startsWith('refs/') ? r.stdout.trim() : undefined;
}

/**
 * The work tree's uncommitted changes as `git status` sees them: tracked files changed (staged or
 * not) and untracked files, as paths. Ignored files are not changes. Undefined when git cannot say.
 */
export async function uncommittedChanges(repo: GitRepo): Promise<{ path: string; tracked: boolean }[] | undefined> {
  // --no-optional-locks: reading the status must not take the index lock a concurrent git command may hold.
  const r = await runGit(repo, ['--no-optional-locks', 'status', '--porcelain=v1', '-z', '--untracked-files=all']);
  if (r.code !== 0) return undefined; // git cannot tell (no git, a damaged index): nor can we
  const changes: { path: string; tracked: boolean }[] = [];
  const fields = r.stdout.split('\0');
  for (let i = 0; i < fields.length; i++) {
    const f = fields[i]!;
    if (f.length < 4) continue;
    const code = f.slice(0, 2);
    changes.push({ path: f.slice(3), tracked: code !== '??' });
    if (code[0] === 'R' || code[0] === 'C') i++; // a rename's second field is where it came from
  }
  return changes;
}

/** The remote-tracking branches of every git remote, as `<remote>/<branch>` (their `HEAD` aliases left out). */
export async function remoteTrackingBranches(repo: GitRepo): Promise<string[]> {
  const g = await git();
  const out: string[] = [];
  for (const { remote } of await g.listRemotes(at(repo)).catch(ifAbsent(g, [] as { remote: string }[]))) {
    for (const branch of await g.listBranches({ ...at(repo), remote }).catch(ifAbsent(g, [] as string[]))) {
      if (branch !== 'HEAD') out.push(`${remote}/${branch}`);
    }
  }
  return out;
}

/**
 * The git remote commands talk to when none is named: the current branch's upstream remote (as
 * `git push` would), else `origin` when it exists. Undefined when neither applies.
 */
export async function defaultGitRemote(repo: GitRepo): Promise<string | undefined> {
  const g = await git();
  const remotes = (await g.listRemotes(at(repo)).catch(ifAbsent(g, [] as { remote: string }[]))).map((r) => r.remote);
  const branch = await g.currentBranch(at(repo)).catch(ifAbsent(g, undefined));
  if (branch) {
    const upstream = (await g.getConfig({ ...at(repo), path: `branch.${branch}.remote` }).catch(ifAbsent(g, undefined))) as string | undefined;
    if (typeof upstream === 'string' && remotes.includes(upstream)) return upstream;
  }
  return remotes.includes('origin') ? 'origin' : undefined;
}

/** A branch or tag of a git remote and the object it points at (for an annotated tag, the tag). */
export interface RemoteRef {
  ref: string;
  oid: string;
}

/**
 * The branches and tags a git remote has now, asked with `git ls-remote` (isomorphic-git reaches only
 * http remotes; users' remotes are as often ssh or a path). Objects they point at that this repository
 * lacks are fetched by id, without creating or moving any ref here. Fails with `E.GIT_REMOTE` when the
 * remote cannot be asked or an object cannot be had.
 */
export async function gitRemoteRefs(repo: GitRepo, remote: string): Promise<RemoteRef[]> {
  if (remote === '' || remote.startsWith('-') || /[\s\u0000-\u001f]/.test(remote)) {
    throw badUsage(`invalid git remote name ${JSON.stringify(remote)}`);
  }
  const listing = await gitCli(repo, ['ls-remote', '--heads', '--tags', remote], `cannot list the branches and tags of git remote ${remote}`);
  const refs: RemoteRef[] = [];
  for (const line of listing.split('\n')) {
    const m = /^([0-9a-f]{40,64})\t(refs\/\S+)$/.exec(line.trim());
    if (m && !m[2]!.endsWith('^{}')) refs.push({ oid: m[1]!, ref: m[2]! });
  }
  const missing = [];
  for (const r of refs) if (!(await hasObject(repo, r.oid))) missing.push(r.oid);
  if (missing.length > 0) {
    await gitCli(repo, ['fetch', '--quiet', '--no-tags', '--no-write-fetch-head', remote, ...new Set(missing)], `cannot fetch the commits of git remote ${remote}`);
    for (const r of refs) {
      if (!(await hasObject(repo, r.oid))) throw gitRemoteFailed(`${r.ref} of git remote ${remote} points at ${r.oid.slice(0, 12)}, which git fetch did not bring`);
    }
  }
  return refs;
}

async function hasObject(repo: GitRepo, oid: string): Promise<boolean> {
  const g = await git();
  try {
    await g.readObject({ ...at(repo), oid, format: 'deflated' });
    return true;
  } catch (err) {
    if (isAbsent(g, err)) return false;
    throw err;
  }
}

/** Runs the git CLI in the repository; its stdout, or `E.GIT_REMOTE` with git's last error line. */
async function gitCli(repo: GitRepo, args: string[], what: string): Promise<string> {
  const r = await runGit(repo, args);
  if (r.code === 0) return r.stdout;
  const why = r.code === undefined ? 'the git command is not installed' : r.stderr.trim().split('\n').filter(Boolean).pop() ?? `git exited with ${r.code}`;
  throw gitRemoteFailed(`${what}: ${why}`, { args });
}

/** Runs the git CLI in the work tree (git finds its own worktree and common directory); never throws for git's exit status. */
async function runGit(repo: GitRepo, args: string[]): Promise<{ code: number | undefined; stdout: string; stderr: string }> {
  const { execFile } = await import('node:child_process');
  return new Promise((resolve) => {
    // No prompt can wait for a password nobody will type.
    const env = { ...process.env, GIT_TERMINAL_PROMPT: '0' };
    execFile('git', args, { cwd: repo.dir, env, maxBuffer: 256 * 1024 * 1024 }, (err, stdout, stderr) => {
      if (!err) return resolve({ code: 0, stdout, stderr });
      const code = (err as NodeJS.ErrnoException).code;
      resolve({ code: typeof code === 'number' ? code : code === 'ENOENT' ? undefined : 1, stdout, stderr: stderr || err.message });
    });
  });
}

/**
 * A bare clone of `url` (a git url or a local path) into the new folder `into`, opened for reading:
 * every branch and tag, no work tree, so nothing of the other repository is checked out or run (no
 * hooks, no filters). Fails with `E.GIT_REMOTE` and git's own reason when git cannot read `url`.
 */
export async function cloneBare(url: string, into: string): Promise<GitRepo> {
  const args = ['clone', '--bare', '--quiet', '--', url, into]; // `--`: a repository named `-x` is no option
  const r = await runGit({ dir: path.dirname(into) } as GitRepo, args);
  if (r.code !== 0) {
    // git's first `fatal:` line says what went wrong; the lines after it are general advice.
    const lines = r.stderr.split('\n').map((l) => l.trim()).filter(Boolean);
    const why = r.code === undefined ? 'the git command is not installed' : (lines.find((l) => l.startsWith('fatal:')) ?? lines[0] ?? `git exited with ${r.code}`).replace(/^fatal:\s*/, '');
    throw gitRemoteFailed(`cannot read repository ${url}: ${why}`, { args });
  }
  return { dir: into, gitdir: into, commonDir: into, fs: fs as unknown as PromiseFsClient, cache: {} };
}
