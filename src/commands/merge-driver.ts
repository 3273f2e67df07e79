import fs from 'node:fs';
import type { Oid } from '../hash/oid.js';
import { isFileEntry, parseManifest, serializeManifest, type ManifestEntry } from '../formats/manifest.js';
import { parsePointer, sameContent, serializePointer, type Pointer } from '../formats/pointer.js';
import { parseRunLock, RUN_LOCK_FILE, serializeRunLock } from '../formats/run-lock.js';
import { mergeRuns, serializeConflictedRunLock } from '../formats/run-lock-merge.js';
import { MlxError } from '../util/errors.js';
import { writeFileAtomicSync } from '../util/fs.js';
import { POINTER_SUFFIX } from '../formats/pointer.js';
import { mergeIgnoreLines } from '../workspace/gitignore.js';
import { openRepo, type Repo } from '../workspace/repo.js';

export interface MergeDriverOptions {
  cwd: string;
  /** git's %O, %A (the result is written here), %B and %P. */
  base: string;
  ours: string;
  theirs: string;
  path: string;
}

/**
 * `mlx merge-driver %O %A %B %P`: pointer files merge by content, `mlx.lock` by run, `.gitignore`
 * files as sets of lines, anything else as whole text.
 */
export async function mergeDriver(opts: MergeDriverOptions): Promise<MergeResult> {
  if (opts.path.endsWith(POINTER_SUFFIX)) return mergePointerFiles(await openRepo(opts.cwd), opts.base, opts.ours, opts.theirs, opts.path);
  if (opts.path === RUN_LOCK_FILE) return mergeRunLockFiles(opts.base, opts.ours, opts.theirs);
  if (opts.path.split('/').pop() === '.gitignore') return mergeIgnoreFiles(opts.base, opts.ours, opts.theirs);
  return mergeTextFiles(opts.base, opts.ours, opts.theirs);
}

export interface MergeResult {
  /** True when `ours` now holds a clean merge; false when it holds conflict markers. */
  merged: boolean;
  how: 'same' | 'ours' | 'theirs' | 'files' | 'runs' | 'lines' | 'conflict';
  /** Files inside a directory changed differently on both sides, or why no merge was possible. */
  conflicts: string[];
  /** For mlx.lock: the runs both sides changed differently (each marked in the file on its own). */
  runs?: string[];
}

/**
 * The git merge driver for pointer files (`%O %A %B %P`): takes the side that changed when only one
 * did; when both changed a directory, merges its manifests file by file (each file taken from the side
 * that changed it) and writes a new manifest into the cache. Anything else is left as a conflict with
 * git's markers around both pointers, so `git status` shows it and the user picks.
 */
export function mergePointerFiles(repo: Repo, basePath: string, oursPath: string, theirsPath: string, name: string): MergeResult {
  const read = (file: string, label: string): Pointer | undefined => {
    const text = fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : '';
    return text.trim() === '' ? undefined : parsePointer(text, `${name} (${label})`);
  };
  let base: Pointer | undefined;
  let ours: Pointer | undefined;
  let theirs: Pointer | undefined;
  try {
    [base, ours, theirs] = [read(basePath, 'base'), read(oursPath, 'ours'), read(theirsPath, 'theirs')];
  } catch (err) {
    if (!(err instanceof MlxError)) throw err;
    return conflict(oursPath, theirsPath, [err.message]);
  }
  if (!ours || !theirs) return conflict(oursPath, theirsPath, ['deleted on one side, changed on the other']);
  if (sameContent(ours, theirs)) return { merged: true, how: 'same', conflicts: [] };
  if (base && sameContent(base, ours)) {
    writeFileAtomicSync(oursPath, serializePointer(theirs));
    return { merged: true, how: 'theirs', conflicts: [] };
  }
  if (base && sameContent(base, theirs)) return { merged: true, how: 'ours', conflicts: [] };
  if (ours.kind !== 'dir' || theirs.kind !== 'dir' || (base && base.kind !== 'dir')) {
    return conflict(oursPath, theirsPath, [`${name}: both sides changed the file`]);
  }
  const entries = (oid: Oid | undefined): ManifestEntry[] | undefined => {
    if (!oid) return [];
    if (!repo.store.has(oid)) return undefined;
    return parseManifest(repo.store.readBytes(oid).toString('utf8'), oid).entries;
  };
  const [b, o, t] = [entries(base?.oid), entries(ours.oid), entries(theirs.oid)];
  if (!b || !o || !t) return conflict(oursPath, theirsPath, [`${name}: a manifest is not in the cache (mlx fetch on both branches, then merge again)`]);
  const merged = mergeEntries(b, o, t);
  if (merged.conflicts.length > 0) return conflict(oursPath, theirsPath, merged.conflicts.map((p) => `${ours!.path}/${p}`));
  const oid = repo.store.putBytes(Buffer.from(serializeManifest(merged.entries)));
  const files = merged.entries.filter(isFileEntry);
  writeFileAtomicSync(oursPath, serializePointer({ version: 1, path: ours.path, kind: 'dir', oid, size: files.reduce((n, f) => n + f.s, 0), files: files.length }));
  return { merged: true, how: 'files', conflicts: [] };
}

/** Three-way merge of manifest entries by path. */
export function mergeEntries(base: ManifestEntry[], ours: ManifestEntry[], theirs: ManifestEntry[]): { entries: ManifestEntry[]; conflicts: string[] } {
  const key = (e: ManifestEntry | undefined) => (e === undefined ? '' : JSON.stringify(e));
  const [b, o, t] = [base, ours, theirs].map((list) => new Map(list.map((e) => [e.p, e])));
  const paths = new Set([...b!.keys(), ...o!.keys(), ...t!.keys()]);
  const entries: ManifestEntry[] = [];
  const conflicts: string[] = [];
  for (const p of paths) {
    const [be, oe, te] = [b!.get(p), o!.get(p), t!.get(p)];
    let pick: ManifestEntry | undefined;
    if (key(oe) === key(te)) pick = oe;
    else if (key(be) === key(oe)) pick = te;
    else if (key(be) === key(te)) pick = oe;
    else {
      conflicts.push(p);
      continue;
    }
    if (pick) entries.push(pick);
  }
  // A file added on one side where the other side added a folder of the same name cannot both stand.
  try {
    parseManifest(serializeManifest(entries), 'merge result');
  } catch (err) {
    if (!(err instanceof MlxError)) throw err;
    conflicts.push(err.message);
  }
  return { entries, conflicts: conflicts.sort() };
}

function conflict(oursPath: string, theirsPath: string, why: string[]): MergeResult {
  const ours = fs.existsSync(oursPath) ? fs.readFileSync(oursPath, 'utf8') : '';
  const theirs = fs.existsSync(theirsPath) ? fs.readFileSync(theirsPath, 'utf8') : '';
  const nl = (s: string) => (s === '' || s.endsWith('\n') ? s : `${s}\n`);
  writeFileAtomicSync(oursPath, `<<<<<<< ours\n${nl(ours)}=======\n${nl(theirs)}>>>>>>> theirs\n`);
  return { merged: false, how: 'conflict', conflicts: why };
}

const readText = (f: string) => (fs.existsSync(f) ? fs.readFileSync(f, 'utf8') : '');

/**
 * The run lockfile merges run by run (`mergeRuns`): runs added or changed on different branches all
 * stand; a run both branches changed differently is written with conflict markers around its block
 * alone, every other run merged, so `mlx resolve <run> --ours|--theirs` can finish the merge. A side
 * that is not a lockfile (already conflicted, hand-edited) falls back to a whole-file conflict, which
 * keeps both sides' bytes.
 */
export function mergeRunLockFiles(basePath: string, oursPath: string, theirsPath: string): MergeResult {
  const [b, o, t] = [readText(basePath), readText(oursPath), readText(theirsPath)];
  const trivial = oneSideChanged(b, o, t, oursPath);
  if (trivial) return trivial;
  let merge;
  try {
    merge = mergeRuns(parseRunLock(b, `${RUN_LOCK_FILE} (base)`), parseRunLock(o, `${RUN_LOCK_FILE} (ours)`), parseRunLock(t, `${RUN_LOCK_FILE} (theirs)`));
  } catch (err) {
    if (!(err instanceof MlxError)) throw err;
    return conflict(oursPath, theirsPath, [err.message]);
  }
  if (merge.conflicts.length === 0) {
    writeFileAtomicSync(oursPath, serializeRunLock(merge.lock));
    return { merged: true, how: 'runs', conflicts: [] };
  }
  writeFileAtomicSync(oursPath, serializeConflictedRunLock(merge));
  const runs = merge.conflicts.map((c) => c.name);
  return { merged: false, how: 'conflict', conflicts: runs.map((r) => `run ${r}`), runs };
}

/** `.gitignore` files never conflict: their lines merge as sets (`mergeIgnoreLines`). */
export function mergeIgnoreFiles(basePath: string, oursPath: string, theirsPath: string): MergeResult {
  const [b, o, t] = [readText(basePath), readText(oursPath), readText(theirsPath)];
  const merged = mergeIgnoreLines(b, o, t);
  if (merged !== o) writeFileAtomicSync(oursPath, merged);
  return { merged: true, how: merged === o ? 'ours' : 'lines', conflicts: [] };
}

/**
 * The merge driver for other text mlx writes: one side's version when only one
 * side changed, otherwise git's conflict markers.
 */
export function mergeTextFiles(basePath: string, oursPath: string, theirsPath: string): MergeResult {
  const [b, o, t] = [readText(basePath), readText(oursPath), readText(theirsPath)];
  return oneSideChanged(b, o, t, oursPath) ?? conflict(oursPath, theirsPath, ['both sides changed the file']);
}

/** When at most one side changed the text, its version (written to `oursPath`); else undefined. */
function oneSideChanged(b: string, o: string, t: string, oursPath: string): MergeResult | undefined {
  if (o === t || b === t) return { merged: true, how: o === t ? 'same' : 'ours', conflicts: [] };
  if (b !== o) return undefined;
  writeFileAtomicSync(oursPath, t);
  return { merged: true, how: 'theirs', conflicts: [] };
}
