import type { Oid } from '../hash/oid.js';
import { isFileEntry, manifestPieces, parseManifest, serializeManifest, type FileEntry, type ManifestEntry } from '../formats/manifest.js';
import { isExecutable, POINTER_SUFFIX, POINTER_VERSION, type Pointer } from '../formats/pointer.js';
import { E, MlxError, badPath, badUsage, objectMissing, pathNotFound, pathsOverlap } from '../util/errors.js';
import { failpoint } from '../util/failpoint.js';
import { lstatIfExists } from '../util/fs.js';
import { assertSafeRelPath } from '../util/paths.js';
import { checkout } from '../workspace/checkout.js';
import { indexedPaths, openGit } from '../git/git-repo.js';
import { ensureIgnored } from '../workspace/gitignore.js';
import { IGNORE_FILE, IgnoreRules } from '../workspace/mlxignore.js';
import { lockRepository } from '../workspace/repository-lock.js';
import type { DamagedObject } from '../workspace/linked-damage.js';
import { sweepOrphans } from '../workspace/process-lock.js';
import { hasPointer, writePointer, readPointer } from '../workspace/pointers.js';
import { recordedEntries } from '../workspace/recorded-entries.js';
import { absPath, type Repo } from '../workspace/repo.js';
import { StatIndex } from '../workspace/stat-index.js';
import { resolveTargets, type Target } from '../workspace/targets.js';
import { readWorkTree, type Progress, type WorkTreeStats } from '../workspace/work-tree.js';
import { appendAll } from '../util/arrays.js';

export interface AddedPath {
  path: string;
  kind: 'file' | 'dir';
  oid: Oid;
  size: number;
  files?: number;
  /** Whether the pointer changed (false: the data was already tracked as is). */
  changed: boolean;
}

export interface AddResult {
  paths: AddedPath[];
  /** Whether the root .gitignore gained entries. */
  gitignoreChanged: boolean;
  hashedFiles: number;
  hashedBytes: number;
  skipped: { path: string; why: string }[];
  /** Cache objects found changed through linked work-tree files, now quarantined (see linked-damage.ts). */
  damaged: DamagedObject[];
}

export interface AddOptions {
  progress?: Progress;
  onLockWait?: (owner: { pid: number }) => void;
}

/**
 * `mlx add`: stores files and directories in the cache and writes their pointers. Paths inside a
 * tracked directory update that directory. Unchanged files are recognised by the stat index and not
 * read again, so re-adding unchanged data does no hashing and writes nothing.
 */
export async function add(repo: Repo, cwd: string, userPaths: string[], opts: AddOptions = {}): Promise<AddResult> {
  if (userPaths.length === 0) throw badUsage('name at least one path to add');
  const targets = resolveTargets(repo, cwd, userPaths);
  for (const t of targets) {
    // The path rule (spec/paths.md) before anything is stored: what could not be checked out is not added.
    if (t.sub === undefined) assertSafeRelPath(t.tracked, 'path', 'tracked');
    else assertSafeRelPath(t.sub, `path inside ${t.tracked}:`);
    const rel = t.sub === undefined ? t.tracked : `${t.tracked}/${t.sub}`;
    const st = lstatIfExists(absPath(repo, rel));
    if (!st) throw pathNotFound(`${rel}: no such file or directory`, { path: rel });
    if (IgnoreRules.ignoresPath(repo.root, rel, st.isDirectory())) {
      throw badPath(`${rel} is ignored (by a ${IGNORE_FILE} rule or a built-in one), so mlx does not track it`, { hint: `re-include it with a "!" rule in ${IGNORE_FILE}`, path: rel });
    }
  }
  await refuseGitTracked(repo, targets.filter((t) => !t.exists).map((t) => t.tracked));
  const result = await addLocked(repo, targets, opts);
  // With hardlink/symlink caches the work-tree files become links to the (read-only) objects, as in DVC.
  if (repo.linkTypes[0] === 'hardlink' || repo.linkTypes[0] === 'symlink') {
    // Only what was added: the rest of a directory added by parts may not be checked out (partial).
    const added = targets.map((t) => (t.sub === undefined ? t.tracked : `${t.tracked}/${t.sub}`));
    await checkout(repo, repo.root, added, { onLockWait: opts.onLockWait });
  }
  return result;
}

async function addLocked(repo: Repo, targets: Target[], opts: AddOptions): Promise<AddResult> {
  const tracked = [...new Set(targets.map((t) => t.tracked))];
  const release = await lockRepository(repo, { onWait: opts.onLockWait });
  try {
    sweepOrphans(repo);
    const index = StatIndex.load(repo.layout.statIndexFile);
    const stats: WorkTreeStats = { hashedFiles: 0, hashedBytes: 0 };
    const result: AddResult = { paths: [], gitignoreChanged: false, hashedFiles: 0, hashedBytes: 0, skipped: [], damaged: [] };
    const onDamaged = (d: DamagedObject) => result.damaged.push(d);
    const staged: Pointer[] = [];
    /** Manifests of directories read file by file, each file found in the cache or stored in it. */
    const readWhole = new Set<Oid>();
    // Small files are read and hashed here while a second thread writes their objects.
    repo.store.writeBehindDuring(() => {
      for (const rel of tracked) {
        const subs = targets.filter((t) => t.tracked === rel && t.sub !== undefined).map((t) => t.sub!);
        const whole = targets.some((t) => t.tracked === rel && t.sub === undefined);
        staged.push(whole ? addOne(repo, index, rel, stats, opts.progress, result.skipped, onDamaged, readWhole) : addParts(repo, index, rel, subs, stats, opts.progress, onDamaged));
      }
    });
    // Everything is in the cache now; the pointers that make it reachable come next (gc waits for this).
    await failpoint('add.before-pointers');
    for (const pointer of staged) {
      const changed = writePointer(repo, pointer);
      result.paths.push({ path: pointer.path, kind: pointer.kind, oid: pointer.oid, size: pointer.size, files: pointer.kind === 'dir' ? pointer.files : undefined, changed });
    }
    result.gitignoreChanged = ensureIgnored(repo.root, tracked);
    // Every object of a directory added whole is in the cache now (gc waits while add holds the cache):
    // status need not look for them one by one while the cache stays as it is.
    if (readWhole.size > 0) {
      const stamp = repo.store.contentsStamp();
      for (const oid of readWhole) index.recordComplete(oid, stamp);
    }
    index.save();
    result.hashedFiles = stats.hashedFiles;
    result.hashedBytes = stats.hashedBytes;
    return result;
  } finally {
    release();
  }
}

/** Stores what the work tree holds at `rel` and returns its new pointer (written by the caller). */
function addOne(repo: Repo, index: StatIndex, rel: string, stats: WorkTreeStats, progress: Progress | undefined, skipped: AddResult['skipped'], onDamaged: (d: DamagedObject) => void, readWhole: Set<Oid>): Pointer {
  const previous = readPreviousPointer(repo, rel);
  let prev: PreviousVersion | undefined;
  const previousVersion = () => (prev ??= readPreviousVersion(repo, index, rel, previous));
  const tree = readWorkTree(repo, index, rel, {
    mode: 'store',
    expectOid: previous?.kind === 'dir' && repo.store.has(previous.oid) ? previous.oid : undefined,
    knownPresent: () => previousVersion().present,
    candidate: (key) => index.candidate(key) ?? previousVersion().entry(key)?.o,
    recordedX: (key) => previousVersion().entry(key)?.x,
    recorded: (key) => previousVersion().entry(key),
    progress,
    stats,
    onDamaged,
  });
  let pointer: Pointer;
  if (tree.kind === 'missing') throw pathNotFound(`${rel}: no such file or directory`);
  if (tree.kind === 'dir-unchanged') {
    pointer = previous!;
  } else if (tree.kind === 'file') {
    pointer = { version: POINTER_VERSION, path: rel, kind: 'file', oid: tree.oid, size: tree.size, ...(tree.x ? { x: true } : {}) };
  } else {
    assertNoNestedPointers(repo, rel, tree.entries);
    appendAll(skipped, tree.skipped.map((s) => ({ path: `${rel}/${s.rel}`, why: s.why })));
    const manifestOid = repo.store.putPieces(manifestPieces(tree.entries));
    if (tree.fp) index.recordTree(rel, tree.fp, manifestOid);
    const files = tree.entries.filter(isFileEntry);
    pointer = { version: POINTER_VERSION, path: rel, kind: 'dir', oid: manifestOid, size: files.reduce((n, f) => n + f.s, 0), files: files.length };
    readWhole.add(manifestOid);
  }
  // Imported data added unchanged is still the import; changed, it is this repository's own.
  const { source: _recorded, ...own } = pointer;
  const stillImported = previous?.source !== undefined && previous.kind === own.kind && previous.oid === own.oid;
  return { ...own, path: rel, ...(stillImported ? { source: previous.source } : {}) } as Pointer;
}

/** The pointer being replaced; a damaged or conflicted one is simply overwritten by this add. */
function readPreviousPointer(repo: Repo, rel: string): Pointer | undefined {
  try {
    return readPointer(repo, rel)?.pointer;
  } catch (err) {
    // Its location passed the path rule in add; a bad path field is rewritten like any damage.
    if (err instanceof MlxError && (err.code === E.BAD_POINTER || err.code === E.BAD_PATH)) return undefined;
    throw err;
  }
}

/**
 * `mlx add data/train/c003/x.bin` inside a tracked directory: only those entries of the manifest are
 * replaced by what the work tree holds there. Files elsewhere in the directory keep their recorded
 * versions — whether or not they are in the work tree (a partial pull leaves most of them out).
 */
function addParts(repo: Repo, index: StatIndex, rel: string, subs: string[], stats: WorkTreeStats, progress: Progress | undefined, onDamaged: (d: DamagedObject) => void): Pointer {
  const previous = readPreviousPointer(repo, rel);
  if (!previous || previous.kind !== 'dir' || !repo.store.has(previous.oid)) {
    throw objectMissing(`cannot update part of ${rel}: its current manifest is not in the cache`, { hint: `mlx fetch ${rel} first, or add the whole directory` });
  }
  let entries = parseManifest(repo.store.readBytes(previous.oid).toString('utf8'), previous.oid).entries;
  for (const sub of subs) {
    const recorded = new Map(entries.filter(isFileEntry).map((e) => [`${rel}/${e.p}`, e.x]));
    const previousOids = new Map(entries.filter(isFileEntry).map((e) => [`${rel}/${e.p}`, e.o]));
    const tree = readWorkTree(repo, index, `${rel}/${sub}`, { mode: 'store', progress, stats, candidate: (key) => index.candidate(key) ?? previousOids.get(key), recordedX: (key) => recorded.get(key), onDamaged });
    if (tree.kind === 'missing' || tree.kind === 'dir-unchanged') throw pathNotFound(`${rel}/${sub}: no such file or directory`);
    entries = entries.filter((e) => e.p !== sub && !e.p.startsWith(`${sub}/`) && !sub.startsWith(`${e.p}/`));
    if (tree.kind === 'file') entries.push({ p: sub, o: tree.oid, s: tree.size, x: tree.x });
    else appendAll(entries, tree.entries.map((e) => ({ ...e, p: `${sub}/${e.p}` })));
  }
  assertNoNestedPointers(repo, rel, entries);
  const text = serializeManifest(entries);
  parseManifest(text, `new manifest of ${rel}`); // the same checks every reader applies
  const oid = repo.store.putBytes(Buffer.from(text));
  const files = entries.filter(isFileEntry);
  const pointer: Pointer = { version: POINTER_VERSION, path: rel, kind: 'dir', oid, size: files.reduce((n, f) => n + f.s, 0), files: files.length };
  return pointer;
}

/** Data already committed to git would stay in git: the user must take it out first, as with DVC. */
async function refuseGitTracked(repo: Repo, rels: string[]): Promise<void> {
  if (rels.length === 0) return;
  const indexed = await indexedPaths(openGit(repo.root));
  for (const rel of rels) {
    const hit = indexed.find((p) => p === rel || p.startsWith(`${rel}/`));
    if (hit) {
      throw badPath(`${rel} is tracked by git (${hit}); mlx would leave its data in git history`, {
        hint: `git rm -r --cached ${rel} && git commit, then mlx add ${rel}`,
        path: rel,
      });
    }
  }
}

interface PreviousVersion {
  /** Whether the previous version has `oid` at repo path `key` and its object is in the store: not checked again. */
  present: { has(key: string, oid: Oid): boolean };
  /** A file's previous entry by repo path: its oid is a candidate when its stat changed, its bit the recorded one. */
  entry(key: string): FileEntry | undefined;
}

/**
 * What the previous version of `rel` says, read from its manifest without a table per file: entries
 * are found in the manifest's own order (recordedEntries), and a manifest known to be whole in the
 * cache (at the cache's current stamp) needs no presence check at all.
 */
function readPreviousVersion(repo: Repo, index: StatIndex, rel: string, pointer: Pointer | undefined): PreviousVersion {
  const none: PreviousVersion = { present: { has: () => false }, entry: () => undefined };
  if (!pointer) return none;
  if (pointer.kind === 'file') {
    const stored = repo.store.has(pointer.oid);
    // The file's own entry, for the oid and bit it had (a path like a directory entry's would be relative to `rel`).
    const own: FileEntry = { p: rel, o: pointer.oid, s: pointer.size, x: isExecutable(pointer) };
    return { present: { has: (key, oid) => stored && key === rel && oid === pointer.oid }, entry: (key) => (key === rel ? own : undefined) };
  }
  if (!repo.store.has(pointer.oid)) return none;
  let files: FileEntry[];
  try {
    files = parseManifest(repo.store.readBytes(pointer.oid).toString('utf8'), pointer.oid).entries.filter(isFileEntry);
  } catch (err) {
    // A corrupt previous manifest only costs presence checks; the new one is built from the work tree.
    if (!(err instanceof MlxError)) throw err;
    return none;
  }
  const entry = recordedEntries(rel, files);
  // Only the previous version's own objects count (an oid the stat index learnt elsewhere, from a
  // status that hashed an edit, may never have been stored), and only at their own paths.
  let missing: Set<Oid> | undefined;
  const whole = index.knownComplete(pointer.oid, repo.store.contentsStamp());
  const stored = (oid: Oid) => whole || !(missing ??= repo.store.missing(files.map((e) => e.o))).has(oid);
  return { present: { has: (key, oid) => entry(key)?.o === oid && stored(oid) }, entry };
}

function assertNoNestedPointers(repo: Repo, rel: string, entries: ManifestEntry[]): void {
  const nested = entries.find((e) => e.p.endsWith(POINTER_SUFFIX) && isFileEntry(e) && hasPointer(repo, `${rel}/${e.p.slice(0, -POINTER_SUFFIX.length)}`));
  if (nested) {
    throw pathsOverlap(`${rel} contains the pointer file ${rel}/${nested.p}: a tracked path cannot contain another`, {
      hint: `remove ${rel}/${nested.p} (and its data from mlx) or track the inner paths separately`,
      path: rel,
    });
  }
}
