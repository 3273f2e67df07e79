import fs from 'node:fs';
import path from 'node:path';
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
  dir: string;
  cache: object;
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

export function openGit(dir: string): GitRepo {
  return { dir, cache: {} };
}

/** A pointer file as committed at some revision. */
export interface CommittedPointer {
  path: string;
  pointer: Pointer;
}

/**
 * Resolves a revision to a full commit id: `HEAD`, branches, tags (annotated ones peeled), full or
 * abbreviated commit ids, and `<rev>~N` / `<rev>^`.
 */
export async function resolveRevision(repo: GitRepo, rev: string): Promise<string> {
  const g = await git();
  const m = /^(.*?)((?:~\d*|\^)*)$/.exec(rev)!;
  const base = m[1] || 'HEAD';
  let oid = await resolveBase(g, repo, base, rev);
  const shallow = shallowCommits(repo);
  for (const step of m[2]!.match(/~\d*|\^/g) ?? []) {
    const n = step === '^' ? 1 : step === '~' ? 1 : Number(step.slice(1));
    for (let i = 0; i < n; i++) {
      if (shallow.has(oid)) throw revisionNotFound(rev, 'it goes back past the start of this shallow clone (git fetch --unshallow)');
      const commit = await readCommitOrFail(g, repo, oid, rev);
      const parent = commit.parent[0];
      if (!parent) throw revisionNotFound(rev, 'it goes back past the first commit');
      oid = parent;
    }
  }
  await readCommitOrFail(g, repo, oid, rev);
  return oid;
}

async function resolveBase(g: Git, repo: GitRepo, base: string, rev: string): Promise<string> {
  let oid: string | undefined;
  try {
    oid = await g.resolveRef({ fs, dir: repo.dir, ref: base });
  } catch (err) {
    if (!isAbsent(g, err)) throw err;
    if (/^[0-9a-f]{4,40}$/i.test(base)) {
      try {
        oid = await g.expandOid({ fs, dir: repo.dir, oid: base.toLowerCase(), cache: repo.cache });
      } catch (err) {
        // No object, or several, start with that prefix: either way it names no one commit.
        if (!isAbsent(g, err) && !(err instanceof g.Errors.AmbiguousError)) throw err;
        oid = undefined;
      }
    }
  }
  if (!oid) {
    // HEAD names an unborn branch: nothing was committed on it yet.
    if (base === 'HEAD') throw noCommits('the repository has no commits yet', { hint: 'commit first; mlx checkout without a revision follows the work tree' });
    throw revisionNotFound(rev, 'no branch, tag or commit has that name');
  }
  // Peel annotated tags down to their commit.
  for (let i = 0; i < 10; i++) {
    const obj: { type: string; object: unknown } | undefined = await g.readObject({ fs, dir: repo.dir, oid, cache: repo.cache, format: 'parsed' }).catch(ifAbsent(g, undefined));
    if (!obj) throw revisionNotFound(rev, 'its object is not in this repository (a shallow clone?)');
    if (obj.type === 'tag') oid = (obj.object as { object: string }).object;
    else if (obj.type === 'commit') return oid;
    else throw revisionNotFound(rev, `it names a ${obj.type}, not a commit`);
  }
  throw revisionNotFound(rev, 'too many nested tags');
}

async function readCommitOrFail(g: Git, repo: GitRepo, oid: string, rev: string) {
  try {
    return (await g.readCommit({ fs, dir: repo.dir, oid, cache: repo.cache })).commit;
  } catch (err) {
    if (!isAbsent(g, err)) throw err;
    throw revisionNotFound(rev, `commit ${oid.slice(0, 12)} is not in this repository (a shallow clone?)`);
  }
}

/** The commits a shallow clone was cut at: their parents are not in the repository. */
function shallowCommits(repo: GitRepo): Set<string> {
  try {
    return new Set(fs.readFileSync(path.join(gitDir(repo.dir), 'shallow'), 'utf8').split('\n').filter((l) => /^[0-9a-f]{40}$/.test(l)));
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
      const { blob } = await g.readBlob({ fs, dir: repo.dir, oid, cache: repo.cache });
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
    const { tree } = await g.readTree({ fs, dir: repo.dir, oid: treeOid, cache: repo.cache });
    for (const entry of tree) {
      const file = prefix ? `${prefix}/${entry.path}` : entry.path;
      if (entry.type === 'tree') await walkTree(entry.oid, file);
      else if (entry.type === 'blob' && keep(file)) out.push({ path: file, oid: entry.oid });
    }
  };
  const { commit: c } = await g.readCommit({ fs, dir: repo.dir, oid: commit, cache: repo.cache });
  await walkTree(c.tree, '');
  return out;
}

/** A file's bytes at `commit`, or undefined when it does not exist there. */
export async function readFileAt(repo: GitRepo, commit: string, filepath: string): Promise<Buffer | undefined> {
  const g = await git();
  try {
    const { blob } = await g.readBlob({ fs, dir: repo.dir, oid: commit, filepath, cache: repo.cache });
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
  const log = await g.log({ fs, dir: repo.dir, ref, depth: opts.depth, since: opts.since, cache: repo.cache });
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
      read = await g.readCommit({ fs, dir: repo.dir, oid, cache: repo.cache });
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
  for (const branch of await g.listBranches({ fs, dir: repo.dir, remote }).catch(ifAbsent(g, [] as string[]))) {
    if (branch === 'HEAD') continue;
    try {
      tips.push(await g.resolveRef({ fs, dir: repo.dir, ref: `refs/remotes/${remote}/${branch}` }));
    } catch (err) {
      if (!isAbsent(g, err)) throw err; // a dangling remote-tracking ref: nothing to stop at
    }
  }
  return tips;
}

export async function branchesAndTags(repo: GitRepo): Promise<{ branches: string[]; tags: string[] }> {
  const g = await git();
  return { branches: await g.listBranches({ fs, dir: repo.dir }), tags: await g.listTags({ fs, dir: repo.dir }) };
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

/** The paths in git's index (what `git ls-files` lists). */
export async function indexedPaths(repo: GitRepo): Promise<string[]> {
  const g = await git();
  // No index yet lists nothing; a damaged one is an error, not an empty index (add relies on it).
  return g.listFiles({ fs, dir: repo.dir, cache: repo.cache }).catch(async (err: unknown) => {
    if (isAbsent(g, err)) return [];
    // isomorphic-git reads index versions 2 and 3; git writes 4 with feature.manyFiles. git itself reads it.
    if (err instanceof g.Errors.InternalError && /dircache version/i.test(err.message)) {
      return (await gitCli(repo, ['ls-files', '-z'], 'git ls-files')).split('\0').filter(Boolean);
    }
    throw err;
  });
}

/** The remote-tracking branches of every git remote, as `<remote>/<branch>` (their `HEAD` aliases left out). */
export async function remoteTrackingBranches(repo: GitRepo): Promise<string[]> {
  const g = await git();
  const out: string[] = [];
  for (const { remote } of await g.listRemotes({ fs, dir: repo.dir }).catch(ifAbsent(g, [] as { remote: string }[]))) {
    for (const branch of await g.listBranches({ fs, dir: repo.dir, remote }).catch(ifAbsent(g, [] as string[]))) {
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
  const remotes = (await g.listRemotes({ fs, dir: repo.dir }).catch(ifAbsent(g, [] as { remote: string }[]))).map((r) => r.remote);
  const branch = await g.currentBranch({ fs, dir: repo.dir }).catch(ifAbsent(g, undefined));
  if (branch) {
    const upstream = (await g.getConfig({ fs, dir: repo.dir, path: `branch.${branch}.remote` }).catch(ifAbsent(g, undefined))) as string | undefined;
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
    await g.readObject({ fs, dir: repo.dir, oid, cache: repo.cache, format: 'deflated' });
    return true;
  } catch (err) {
    if (isAbsent(g, err)) return false;
    throw err;
  }
}

/** Runs the git CLI in the repository; its stdout, or `E.GIT_REMOTE` with git's last error line. */
async function gitCli(repo: GitRepo, args: string[], what: string): Promise<string> {
  const { execFile } = await import('node:child_process');
  return new Promise((resolve, reject) => {
    // No prompt can wait for a password nobody will type.
    const env = { ...process.env, GIT_TERMINAL_PROMPT: '0' };
    execFile('git', args, { cwd: repo.dir, env, maxBuffer: 256 * 1024 * 1024 }, (err, stdout, stderr) => {
      if (!err) return resolve(stdout);
      const why = (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'the git command is not installed' : stderr.trim().split('\n').filter(Boolean).pop() ?? err.message.split('\n')[0];
      reject(gitRemoteFailed(`${what}: ${why}`, { args }));
    });
  });
}
