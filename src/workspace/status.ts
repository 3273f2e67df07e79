import type { Oid } from '../hash/oid.js';
import { hashBytes } from '../hash/hash-file.js';
import { entriesOfCheckedManifest, forEachEntryPair, isFileEntry, parseManifest, serializeManifest, type FileEntry, type ManifestEntry } from '../formats/manifest.js';
import { isExecutable, pointerSizeMismatch, POINTER_SUFFIX, type Pointer, type PointerSource } from '../formats/pointer.js';
import { E, MlxError } from '../util/errors.js';
import { compareUtf8, inUtf8Order } from '../util/paths.js';
import { DAMAGE_HINT, describeDamage, type DamagedObject } from './linked-damage.js';
import { inSelection, PartialCheckouts } from './partial-checkout.js';
import { acquireLock } from './process-lock.js';
import { findPointers, readPointer, type TrackedPath } from './pointers.js';
import type { Repo } from './repo.js';
import { recordedEntries } from './recorded-entries.js';
import { StatIndex } from './stat-index.js';
import { resolveTargets } from './targets.js';
import { readWorkTree, type Progress, type ReadOptions, type WorkTree, type WorkTreeStats } from './work-tree.js';
import { readDirAgainst, type DirReading } from './dir-against-manifest.js';
import { ManifestTable } from '../formats/manifest-table.js';
import { appendAll } from '../util/arrays.js';

export interface Changes {
  added: string[];
  modified: string[];
  deleted: string[];
}

export interface PathStatus {
  path: string;
  kind: 'file' | 'dir';
  /**
   * Work tree versus pointer. `unknown`: the directory's manifest is not in the cache to compare with.
   * `partial`: a partial checkout, unchanged in the parts asked for (see `partial`).
   */
  state: 'clean' | 'modified' | 'missing' | 'unknown' | 'partial';
  /** Whether the objects the pointer names (of a partial checkout: in the parts asked for) are in the cache. */
  cache: 'ok' | 'partial' | 'missing';
  /** Files of a partial checkout outside the parts asked for are not `deleted`. */
  changes?: Changes;
  /** A directory checked out only in part: its files present, of all it has, and the parts asked for. */
  partial?: PartialInfo;
  /** Imported from another repository: where from (the pointer's `source`). */
  imported?: PointerSource;
}

export interface PartialInfo {
  present: number;
  total: number;
  selected: string[];
}

/** What status found at one tracked path, for callers that need more than the verdict (diff). */
export interface PathDetail {
  status: PathStatus;
  pointer: Pointer;
  work: WorkTree;
  /** The pointer's manifest, for directories whose manifest is in the cache. */
  manifest?: ManifestEntry[];
}

export interface StatusResult {
  paths: PathStatus[];
  problems: { pointer: string; code: string; message: string; hint?: string }[];
  hashedFiles: number;
  /** Said once and harmless to the answer (a damaged stat index, rebuilt by this status); absent when none. */
  warnings?: string[];
}

/**
 * `mlx status`: compares each tracked path with its pointer, file by file inside directories, and
 * checks that the cache holds what the pointers name. Unchanged files are not read (stat index).
 */
export async function status(repo: Repo, cwd: string, userPaths: string[], progress?: Progress): Promise<StatusResult> {
  return (await inspect(repo, cwd, userPaths, progress, false)).result;
}

/** Status with what it read of each tracked path. */
export async function inspectWorkTree(repo: Repo, cwd: string, userPaths: string[], progress?: Progress): Promise<{ result: StatusResult; details: PathDetail[] }> {
  const { result, details } = await inspect(repo, cwd, userPaths, progress, true);
  return { result, details: details as PathDetail[] };
}

/**
 * What status reads. `withDetails`: every path's detail is wanted (diff); without, a directory may be
 * compared with its manifest in place, which gives its status but no entries (see readDirAgainst).
 */
async function inspect(repo: Repo, cwd: string, userPaths: string[], progress: Progress | undefined, withDetails: boolean): Promise<{ result: StatusResult; details: (PathDetail | { status: PathStatus })[] }> {
  const scan = userPaths.length === 0 ? findPointers(repo) : selected(repo, cwd, userPaths);
  const index = StatIndex.load(repo.layout.statIndexFile);
  const partial = PartialCheckouts.load(repo.layout);
  const stats: WorkTreeStats = { hashedFiles: 0, hashedBytes: 0 };
  const problems = [...scan.problems];
  const details = scan.tracked.map((t) => statusOne(repo, index, t, t.pointer.kind === 'dir' ? partial.selectionOf(t.path) : undefined, stats, problems, progress, withDetails));
  const paths = details.map((d) => d.status);
  for (const t of scan.tracked) {
    if (t.pointer.path !== t.path) {
      problems.push({ pointer: t.path + POINTER_SUFFIX, code: E.POINTER_MOVED, message: `pointer ${t.path}${POINTER_SUFFIX} says path ${t.pointer.path}; it tracks ${t.path} (where it lives) — re-add to update it` });
    }
  }
  if (index.isDirty) await saveIfUnlocked(repo, index);
  const result: StatusResult = { paths, problems, hashedFiles: stats.hashedFiles };
  if (index.damage) result.warnings = [`the stat index was damaged (${index.damage}): files were hashed again and the index rebuilt`];
  return { result, details };
}

function selected(repo: Repo, cwd: string, userPaths: string[]) {
  const tracked: TrackedPath[] = [];
  const problems: StatusResult['problems'] = [];
  for (const t of resolveTargets(repo, cwd, userPaths)) {
    try {
      const p = t.exists ? readPointer(repo, t.tracked) : undefined;
      if (p) tracked.push(p);
      else problems.push({ pointer: t.tracked + POINTER_SUFFIX, code: E.NOT_TRACKED, message: `${t.tracked} is not tracked by mlx` });
    } catch (err) {
      if (!(err instanceof MlxError)) throw err;
      problems.push({ pointer: t.tracked + POINTER_SUFFIX, code: err.code, message: err.message, hint: err.hint });
    }
  }
  return { tracked, problems };
}

/** `selection`: the parts asked for when `t` is a partial checkout. */
function statusOne(repo: Repo, index: StatIndex, t: TrackedPath, selection: string[] | undefined, stats: WorkTreeStats, problems: StatusResult['problems'], progress: Progress | undefined, withDetails: boolean): PathDetail | { status: PathStatus } {
  const p = t.pointer;
  // Imported data says where it came from, whichever way its state was found.
  const tagged = (status: PathStatus): PathStatus => (p.source ? { ...status, imported: p.source } : status);
  const detail = (work: WorkTree, status: PathStatus, manifest?: ManifestEntry[]): PathDetail => ({ status: tagged(status), pointer: p, work, manifest });
  // The pointer's manifest, read once, when first needed (by the look-ups below, or the comparison).
  let manifest: ManifestEntry[] | undefined;
  let manifestRead = false;
  const readManifest = () => {
    if (manifestRead) return manifest;
    manifestRead = true;
    try {
      if (p.kind !== 'dir') return manifest;
      const text = repo.store.readBytes(p.oid).toString('utf8');
      manifest = index.knownManifest(p.oid) ? entriesOfCheckedManifest(text) : parseManifest(text, `${p.oid} (${t.path})`).entries;
    } catch (err) {
      if (!(err instanceof MlxError)) throw err; // missing or malformed: the state says so below
    }
    return manifest;
  };
  // The recorded executable bits matter only for files that are cache objects themselves (link caches).
  // The recorded oids name the object a linked work-tree file was, to see an in-place edit of it, and
  // are the strings an unchanged file's oid is given (no copy per file).
  let entryAt: ((key: string) => ManifestEntry | undefined) | undefined;
  const recordedFile = (key: string): FileEntry | undefined => {
    entryAt ??= recordedEntries(t.path, readManifest() ?? []);
    const e = entryAt(key);
    return e && isFileEntry(e) ? e : undefined;
  };
  const recordedOid = (key: string) => (key === t.path ? (p.kind === 'file' ? p.oid : undefined) : recordedFile(key)?.o);
  // Only what lies inside a directory is one of its entries (a file where the directory was is not).
  const recorded = (key: string) => (key === t.path ? undefined : recordedFile(key));
  const onDamaged = (d: DamagedObject) => problems.push({ pointer: t.path + POINTER_SUFFIX, code: E.OBJECT_CORRUPT, message: describeDamage(d), hint: DAMAGE_HINT });
  const readOptions: ReadOptions = {
    mode: 'hash',
    stats,
    progress,
    expectOid: p.kind === 'dir' ? p.oid : undefined,
    recordedX: (key) => (key === t.path ? isExecutable(p) : recordedFile(key)?.x),
    candidate: recordedOid,
    recorded,
    onDamaged,
  };
  // A whole directory whose manifest passed the checks before can be compared in place.
  const inPlace = !withDetails && p.kind === 'dir' && !selection && index.knownManifest(p.oid);
  const reading = inPlace ? readDirAgainst(repo, index, t.path, p.oid, () => manifestTable(repo, p.oid), readOptions) : undefined;
  if (reading?.kind === 'compared') return { status: tagged(comparedStatus(repo, index, t.path, p.oid, reading, problems)) };
  const work = reading ? reading.work : readWorkTree(repo, index, t.path, readOptions);
  // Unchanged since it last matched this manifest: clean; the manifest's presence stands for the cache.
  if (work.kind === 'dir-unchanged') return detail(work, { path: t.path, kind: 'dir', state: 'clean', cache: repo.store.has(p.oid) ? 'ok' : 'missing' });
  if (p.kind === 'file') {
    const cache = repo.store.has(p.oid) ? 'ok' : 'missing';
    if (work.kind === 'missing') return detail(work, { path: t.path, kind: 'file', state: 'missing', cache });
    const sameBytes = work.kind === 'file' && work.oid === p.oid;
    // Free here: the file's size comes with its oid (stat index). Directories are left to verify.
    const why = sameBytes ? pointerSizeMismatch(p, work.size) : undefined;
    if (why !== undefined) problems.push({ pointer: t.path + POINTER_SUFFIX, code: E.BAD_POINTER, message: `pointer ${t.path}${POINTER_SUFFIX} ${why}`, hint: `re-add the data (mlx add ${t.path}) to rewrite the pointer` });
    // As inside directories, a change of the executable bit alone is a modification.
    const same = sameBytes && work.x === isExecutable(p);
    return detail(work, { path: t.path, kind: 'file', state: same ? 'clean' : 'modified', cache });
  }
  readManifest();
  // Of a partial checkout, only the parts asked for are expected here (and their objects in the cache).
  const expected = manifest && selection ? manifest.filter((e) => inSelection(selection, e.p)) : manifest;
  const cache = expected ? cacheState(repo, index, p.oid, () => fileOids(expected), !selection) : 'missing';
  const total = manifest?.filter(isFileEntry).length ?? 0;
  const partialOf = (present: number): PartialInfo | undefined => (selection && present < total ? { present, total, selected: selection } : undefined);
  if (work.kind === 'missing') return detail(work, { path: t.path, kind: 'dir', state: 'missing', cache, partial: partialOf(0) }, manifest);
  if (!manifest) return detail(work, { path: t.path, kind: 'dir', state: 'unknown', cache });
  if (work.kind === 'file') return detail(work, { path: t.path, kind: 'dir', state: 'modified', cache, changes: { added: [], modified: [], deleted: expected!.map((e) => e.p) } }, manifest);
  const { changes, sizeMismatches, present } = compareEntries(manifest, work.entries);
  appendAll(problems, sizeProblems(t.path, sizeMismatches));
  // A directory touched but unchanged is remembered with its new stats; the oid of a changed one would
  // help no later command (they compare with the pointer), so it is not worth serialising.
  const same = changes.added.length + changes.modified.length + changes.deleted.length === 0;
  if (work.fp && same) index.recordTree(t.path, work.fp, hashBytes(repo.newHasher, Buffer.from(serializeManifest(work.entries))));
  // A file outside the parts asked for was never checked out: its absence is no deletion.
  if (selection) changes.deleted = changes.deleted.filter((e) => inSelection(selection, e));
  const dirty = changes.added.length + changes.modified.length + changes.deleted.length > 0;
  const partial = selection ? partialOf(present) : undefined;
  const state = dirty ? 'modified' : partial ? 'partial' : 'clean';
  return detail(work, { path: t.path, kind: 'dir', state, cache, changes: dirty ? changes : undefined, partial }, manifest);
}

/** The status of a whole directory compared with its manifest in place (readDirAgainst). */
function comparedStatus(repo: Repo, index: StatIndex, rel: string, oid: Oid, reading: Extract<DirReading, { kind: 'compared' }>, problems: StatusResult['problems']): PathStatus {
  const cache = cacheState(repo, index, oid, () => manifestTable(repo, oid)?.oids() ?? [], true);
  const { changes, sizeMismatches } = compareEntries(reading.before, reading.after);
  appendAll(problems, sizeProblems(rel, sizeMismatches));
  const dirty = changes.added.length + changes.modified.length + changes.deleted.length > 0;
  // Every entry equal, sizes too: the directory's manifest is this very one.
  if (reading.fp && !dirty && sizeMismatches.length === 0) index.recordTree(rel, reading.fp, oid);
  return { path: rel, kind: 'dir', state: dirty ? 'modified' : 'clean', cache, changes: dirty ? changes : undefined };
}

/** The table of manifest `oid` read in place, or undefined when it is not in the cache or not in the canonical layout. */
function manifestTable(repo: Repo, oid: Oid): ManifestTable | undefined {
  try {
    return ManifestTable.scan(repo.store.readBytes(oid));
  } catch (err) {
    if (!(err instanceof MlxError)) throw err;
    return undefined;
  }
}

function* fileOids(entries: ManifestEntry[]): Iterable<Oid> {
  for (const e of entries) if (isFileEntry(e)) yield e.o;
}

/**
 * Entries whose work-tree file has the recorded content but not the recorded size: the manifest lies
 * about its object (sizes are part of identity), and checkout would refuse it. Free: both are in memory.
 */
function sizeProblems(dir: string, mismatches: [FileEntry, FileEntry][]): StatusResult['problems'] {
  return mismatches.map(([e, w]) => ({ pointer: dir + POINTER_SUFFIX, code: E.SIZE_MISMATCH, message: `the manifest of ${dir} says ${e.s} bytes for ${e.p}, but its object ${e.o} has ${w.s}`, hint: `re-add the data (mlx add ${dir}) to record it again` }));
}

/**
 * A manifest against the work tree in one pass: the changes, the files whose content matches but
 * whose size does not (manifest entry, work-tree entry), and how many of the manifest's files the work
 * tree has at their paths.
 */
function compareEntries(manifest: ManifestEntry[], work: ManifestEntry[]): { changes: Changes; sizeMismatches: [FileEntry, FileEntry][]; present: number } {
  const sizeMismatches: [FileEntry, FileEntry][] = [];
  let present = 0;
  const changes = diffEntries(manifest, work, (e, w) => {
    if (!isFileEntry(e) || !isFileEntry(w)) return;
    present++;
    if (w.o === e.o && w.s !== e.s) sizeMismatches.push([e, w]);
  });
  return { changes, sizeMismatches, present };
}

/**
 * Whether the cache holds the manifest's objects. A whole manifest found complete is remembered with
 * the cache's contents stamp (taken before looking), so while nothing enters or leaves the cache the
 * answer costs 256 stats instead of one lookup per object.
 */
function cacheState(repo: Repo, index: StatIndex, manifestOid: Oid, oidsOf: () => Iterable<Oid>, whole: boolean): PathStatus['cache'] {
  const stamp = whole ? repo.store.contentsStamp() : undefined;
  if (stamp && index.knownComplete(manifestOid, stamp)) return 'ok';
  const oids = new Set<Oid>(oidsOf());
  const missing = repo.store.missing(oids);
  if (missing.size === 0) {
    if (stamp) index.recordComplete(manifestOid, stamp);
    return 'ok';
  }
  return missing.size === oids.size ? 'missing' : 'partial';
}

/**
 * File-level differences between a manifest (`from`) and the work tree (`to`), each list sorted.
 * `both` sees every path the two lists share, on the same pass.
 */
export function diffEntries(from: ManifestEntry[], to: ManifestEntry[], both?: (a: ManifestEntry, b: ManifestEntry) => void): Changes {
  const changes: Changes = { added: [], modified: [], deleted: [] };
  forEachEntryPair(from, to, (a, b) => {
    if (!a) changes.added.push(b!.p);
    else if (!b) changes.deleted.push(a.p);
    else {
      both?.(a, b);
      if (!sameEntry(a, b)) changes.modified.push(b.p);
    }
  });
  for (const list of [changes.added, changes.modified, changes.deleted]) if (!inUtf8Order(list, (p) => p)) list.sort(compareUtf8);
  return changes;
}

function sameEntry(a: ManifestEntry, b: ManifestEntry): boolean {
  if (isFileEntry(a) && isFileEntry(b)) return a.o === b.o && a.x === b.x;
  if (!isFileEntry(a) && !isFileEntry(b) && a.t === b.t) return a.t === 'd' || (b.t === 'l' && a.l === b.l);
  return false;
}

/** Status only reads; it saves newly learnt hashes when no other mlx process holds the lock. */
async function saveIfUnlocked(repo: Repo, index: StatIndex): Promise<void> {
  let release: (() => void) | undefined;
  try {
    release = await acquireLock(repo.layout.lockFile, { timeoutMs: 0 });
  } catch (err) {
    if (err instanceof MlxError) return;
    throw err;
  }
  try {
    index.save();
  } finally {
    release();
  }
}
