import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseConfig, type Config, type RemoteConfig } from '../formats/config.js';
import { isFileEntry, parseManifest, type ManifestEntry } from '../formats/manifest.js';
import { pointerSizeMismatch, POINTER_SUFFIX, type Pointer, type PointerSource } from '../formats/pointer.js';
import { parseRunLock, RUN_LOCK_FILE } from '../formats/run-lock.js';
import type { HasherFactory } from '../hash/blake3.js';
import { shortOid, type Oid } from '../hash/oid.js';
import { cloneBare, pointersAt, readFileAt, resolveRevision, type CommittedPointer, type GitRepo } from '../git/git-repo.js';
import { fetchObjects, type FetchSummary } from '../remote/fetch.js';
import { openRemote } from '../remote/open-remote.js';
import { RemoteIndex } from '../remote/remote-index.js';
import type { Remote } from '../remote/remote.js';
import type { TransferProgress } from '../remote/transfer-progress.js';
import type { ObjectStore } from '../store/object-store.js';
import { E, badConfig, badPath, badPointer, isMlxError, objectMissing, pathNotFound, problemError, reworded } from '../util/errors.js';
import { failpoint } from '../util/failpoint.js';
import { makeOwnTempDir } from '../util/fs.js';
import { pathRefusal, toPosix } from '../util/paths.js';

/*
 * Reading another mlx repository (the source of an import): a temporary bare clone of its git history,
 * the pointers and config it committed, and its default remote, from which only the objects of the
 * imported path are fetched.
 */

/** Whether a repository argument is a url rather than a local path: `scheme://...` or git's `user@host:path`. */
export function isRepositoryUrl(arg: string): boolean {
  return /^[a-zA-Z][a-zA-Z0-9+.-]*:\/\//.test(arg) || /^[^/\\:]+@[^/\\:]+:/.test(arg);
}

/** Whether `dir` is the top of a git repository: a work tree (holding `.git`) or a bare repository. */
export function isGitRepositoryDir(dir: string): boolean {
  if (fs.existsSync(path.join(dir, '.git'))) return true;
  return fs.existsSync(path.join(dir, 'HEAD')) && fs.existsSync(path.join(dir, 'objects')) && fs.existsSync(path.join(dir, 'refs'));
}

/** Another repository, cloned for reading. */
export interface SourceRepository {
  /** As the user gave it: a url, or a local path as typed. */
  name: string;
  /** What git reads: the url, or the absolute local path. */
  location: string;
  /** Where the source's own relative paths (a directory remote in its config) start: its folder, or the clone for a url. */
  baseDir: string;
  git: GitRepo;
}

/**
 * Clones `name` (a url, or a path relative to `base`) into a temporary folder, hands it to `use`, and
 * removes the clone afterwards, whatever happens.
 */
export async function withSourceRepository<T>(name: string, base: string, use: (src: SourceRepository) => Promise<T>): Promise<T> {
  if (name.trim() === '') throw badPath('empty repository: name a git url or a local path', { path: name });
  const url = isRepositoryUrl(name);
  const location = url ? name : path.resolve(base, name);
  if (!url && !fs.existsSync(location)) throw pathNotFound(`repository ${name} not found: ${location} does not exist`, { hint: 'give a git url or the path of a local repository', path: name });
  if (!url && !isGitRepositoryDir(location)) throw pathNotFound(`${name} is not a git repository (${location} holds no .git)`, { hint: 'give the top folder of the source repository, or its git url', path: name });
  const tmp = makeOwnTempDir(os.tmpdir(), 'mlx-source-');
  try {
    const git = await cloneBare(location, path.join(tmp, 'repo.git'));
    await failpoint('import.after-clone');
    const baseDir = url ? (location.startsWith('file://') ? fileURLToPath(location) : git.dir) : location;
    return await use({ name, location, baseDir, git });
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

/** A source path as the user may write it (`./data/x/`, `data/x.mlx`), in the form pointers use, checked against the path rule. */
export function sourcePath(arg: string): string {
  let p = toPosix(arg).replace(/^(\.\/)+/, '').replace(/\/+$/, '');
  if (p.endsWith(POINTER_SUFFIX) && p.length > POINTER_SUFFIX.length) p = p.slice(0, -POINTER_SUFFIX.length);
  const why = p === '' ? 'is empty' : pathRefusal(p, 'tracked');
  if (why !== undefined) throw badPath(`refusing source path ${JSON.stringify(arg)}: it ${why}`, { path: arg, rule: why });
  return p;
}

/** The commit `rev` (default: the source's HEAD) names in the source; a revision it lacks is one line naming both. */
export async function sourceCommit(src: SourceRepository, rev: string | undefined): Promise<string> {
  try {
    return await resolveRevision(src.git, rev ?? 'HEAD');
  } catch (err) {
    if (isMlxError(err, E.UNKNOWN_REVISION)) throw reworded(err, `repository ${src.name} has no revision ${rev ?? 'HEAD'}`, { hint: `mlx ls ${src.name} --rev <branch, tag or commit> lists what a revision tracks` });
    if (isMlxError(err, E.NO_COMMITS)) throw reworded(err, `repository ${src.name} has no commits`);
    throw err;
  }
}

/** Every pointer the source committed at `commit`; a malformed one is skipped unless it is the one asked for. */
export async function sourcePointers(src: SourceRepository, commit: string): Promise<{ tracked: CommittedPointer[]; problems: { pointer: string; code: string; message: string; hint?: string }[] }> {
  return pointersAt(src.git, commit);
}

/** The pointer of the tracked path `p` in the source at `commit`; anything else is one line saying what the source has. */
export async function sourcePointer(src: SourceRepository, commit: string, rev: string | undefined, p: string): Promise<Pointer> {
  const { tracked, problems } = await sourcePointers(src, commit);
  const found = tracked.find((t) => t.path === p);
  if (found) return found.pointer;
  const broken = problems.find((x) => x.pointer === p + POINTER_SUFFIX);
  if (broken) throw problemError(broken, { message: `repository ${src.name}: ${broken.message}` });
  const at = rev ?? commit.slice(0, 12);
  const holder = tracked.find((t) => p.startsWith(`${t.path}/`));
  if (holder) {
    throw pathNotFound(`${p} lies inside ${holder.path}, which repository ${src.name} tracks as a whole at ${at}`, { hint: `import ${holder.path} instead`, path: p, rev: at });
  }
  if ((await readFileAt(src.git, commit, '.mlx/config.yaml')) === undefined) {
    throw pathNotFound(`repository ${src.name} is not an mlx repository at ${at} (it has no .mlx/config.yaml)`, { path: p, rev: at });
  }
  throw pathNotFound(`repository ${src.name} does not track ${p} at ${at}`, { hint: `mlx ls ${src.name}${rev ? ` --rev ${rev}` : ''} lists what it tracks`, path: p, rev: at });
}

/** The source's default remote, as its committed config names it, with `here`'s options for the same url (credentials) laid over. */
export async function sourceRemote(src: SourceRepository, commit: string, here: Config | undefined): Promise<{ name: string; remote: Remote }> {
  const label = `${src.name}:.mlx/config.yaml@${commit.slice(0, 8)}`;
  const text = await readFileAt(src.git, commit, '.mlx/config.yaml');
  const config = parseConfig(text?.toString('utf8') ?? '', label);
  const name = config.core?.remote;
  const entry = name === undefined ? undefined : config.remotes?.[name];
  if (name === undefined || entry?.url === undefined) {
    throw badConfig(`repository ${src.name} commits no default remote (${label}), so its data cannot be fetched`, { hint: 'its owners set one with mlx remote add -d <name> <url>, commit and push' });
  }
  const { url, ...committed } = entry as RemoteConfig & { url: string };
  // Credentials never travel in a committed config: the importer's own settings for that url supply them.
  const mine = Object.values(here?.remotes ?? {}).find((r) => r.url === url);
  const { url: _same, ...local } = mine ?? { url };
  return { name, remote: await openRemote(url, { ...committed, ...local }, src.baseDir) };
}

/** The run of the source's `mlx.lock` at `commit` that wrote `oid` at `p` (or anywhere), if it recorded one. */
export async function sourceRun(src: SourceRepository, commit: string, p: string, oid: Oid): Promise<{ name: string; id: string } | undefined> {
  const bytes = await readFileAt(src.git, commit, RUN_LOCK_FILE);
  if (bytes === undefined) return undefined;
  let runs;
  try {
    runs = Object.entries(parseRunLock(bytes.toString('utf8'), `${src.name}:${RUN_LOCK_FILE}@${commit.slice(0, 8)}`).runs);
  } catch (err) {
    // A source lockfile mlx cannot read names no run: the import records none, which is all it loses.
    if (isMlxError(err, E.BAD_RUNLOCK)) return undefined;
    throw err;
  }
  const found = runs.find(([, r]) => r.outs[p]?.oid === oid) ?? runs.find(([, r]) => Object.values(r.outs).some((a) => a.oid === oid));
  return found && { name: found[0], id: found[1].id };
}

export interface SourceFetch {
  store: ObjectStore;
  newHasher: HasherFactory;
  remote: { name: string; remote: Remote };
  jobs?: number;
  progress?: TransferProgress;
}

/**
 * Brings the objects of an imported pointer from the source's remote into `store`: the object, and for
 * a directory its manifest's files. A manifest that disagrees with the pointer's size or file count is
 * refused like any damaged pointer.
 */
export async function fetchSourceData(f: SourceFetch, pointer: Pointer, what: string): Promise<{ fetch: FetchSummary; entries?: ManifestEntry[] }> {
  const index = await RemoteIndex.load(f.remote.remote, path.join(f.store.root, 'remotes'), f.jobs ?? 8);
  const opts = { jobs: f.jobs, progress: f.progress };
  const first = await fetchObjects(f.store, f.newHasher, f.remote.remote, index, [pointer.oid], opts);
  assertFetched(first, f.remote.name, what);
  if (pointer.kind === 'file') return { fetch: first };
  const entries = parseManifest(f.store.readBytes(pointer.oid).toString('utf8'), `${pointer.oid} (${what})`).entries;
  const files = entries.filter(isFileEntry);
  const why = pointerSizeMismatch(pointer, files.reduce((n, e) => n + e.s, 0), files.length);
  if (why !== undefined) throw badPointer(`the pointer of ${what} ${why}`, { pointer: what });
  const second = await fetchObjects(f.store, f.newHasher, f.remote.remote, index, files.map((e) => e.o), opts);
  assertFetched(second, f.remote.name, what);
  const fetch: FetchSummary = {
    requested: first.requested + second.requested,
    alreadyLocal: first.alreadyLocal + second.alreadyLocal,
    fetched: first.fetched + second.fetched,
    bytesReceived: first.bytesReceived + second.bytesReceived,
    bytesReused: first.bytesReused + second.bytesReused,
    missingOnRemote: [],
  };
  return { fetch, entries };
}

function assertFetched(s: FetchSummary, remote: string, what: string): void {
  if (s.missingOnRemote.length === 0) return;
  throw objectMissing(`the source's remote ${remote} lacks ${s.missingOnRemote.length} object(s) of ${what} (first: ${shortOid(s.missingOnRemote[0]!)})`, {
    hint: 'its owners never pushed that data: they run mlx push',
    oids: s.missingOnRemote,
  });
}

/** The `source` fields of a pointer imported from `src` at `commit`. */
export function pointerSource(recordedRepo: string, rev: string | undefined, commit: string, p: string, run: { name: string; id: string } | undefined): PointerSource {
  return { repo: recordedRepo, ...(rev !== undefined ? { rev } : {}), commit, path: p, ...(run ? { run: run.name, run_id: run.id } : {}) };
}
