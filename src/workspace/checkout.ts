import fs from 'node:fs';
import path from 'node:path';
import type { Oid } from '../hash/oid.js';
import { hashFileSync } from '../hash/hash-file.js';
import { isFileEntry, type FileEntry, type ManifestEntry } from '../formats/manifest.js';
import { isExecutable, pointerSizeMismatch, POINTER_SUFFIX } from '../formats/pointer.js';
import { MlxError, badPath, badState, localChanges, objectMissing, sizeMismatch } from '../util/errors.js';
import { failpoint } from '../util/failpoint.js';
import { lstatIfExists, processUmask } from '../util/fs.js';
import { ensureIgnored } from './gitignore.js';
import { manifestOf } from './manifest-reads.js';
import { isLinkedTo } from './link.js';
import { writeFiles } from './checkout-writes.js';
import { lockRepository } from './repository-lock.js';
import { sweepOrphans } from './process-lock.js';
import type { TrackedPath } from './pointers.js';
import { absPath, type Repo } from './repo.js';
import { planCheckout, type CheckoutPlan, type FoundAtPath, type WorkTreeProbe } from './checkout-plan.js';
import { scanTree, type FileStat } from './scan.js';
import { StatIndex } from './stat-index.js';
import { selectTracked, type Selection } from './targets.js';
import { PartialCheckouts } from './partial-checkout.js';
import type { Progress } from './work-tree.js';

export interface CheckoutOptions {
  /** Overwrite or delete work-tree content that is not in the cache (it would be lost). */
  force?: boolean;
  progress?: Progress;
  onLockWait?: (owner: { pid: number }) => void;
}

export interface CheckoutPathResult {
  path: string;
  written: number;
  removed: number;
  unchanged: number;
}

export interface CheckoutResult {
  paths: CheckoutPathResult[];
}

/**
 * `mlx checkout`: makes the work tree match the pointer files. Everything is planned first; nothing is
 * changed when any object is missing or when content that is not in the cache would be overwritten
 * (unless `force`). Only files whose content differs are written.
 */
export async function checkout(repo: Repo, cwd: string, userPaths: string[], opts: CheckoutOptions = {}): Promise<CheckoutResult> {
  return checkoutSelection(repo, selectTracked(repo, cwd, userPaths), opts);
}

/**
 * Makes the work tree match `selection`, whose pointers need not be in the work tree yet. When
 * everything is planned and checked, and before the work tree changes, `beforeApply` runs under the
 * repository lock (`checkout <rev>` writes the revision's pointers there); whatever fails before it
 * leaves the work tree as it was.
 */
export async function checkoutSelection(repo: Repo, selection: Selection[], opts: CheckoutOptions = {}, beforeApply?: () => void): Promise<CheckoutResult> {
  const release = await lockRepository(repo, { onWait: opts.onLockWait });
  try {
    sweepOrphans(repo);
    const index = StatIndex.load(repo.layout.statIndexFile);
    const partial = PartialCheckouts.load(repo.layout);
    const { widen, whole } = partialChanges(repo, partial, selection);
    // Comparing with the work tree reads every file the stat index does not vouch for.
    opts.progress?.({ phase: 'comparing with the work tree' });
    const plans = selection.map((s) => plan(repo, index, s, !!opts.force));
    const conflicts = plans.flatMap((p) => p.conflicts);
    if (conflicts.length > 0) {
      index.save();
      throw localChanges(`checkout would overwrite ${conflicts.length} path(s) whose content is not in the cache: ${preview(conflicts)}`, {
        hint: 'mlx add them first to keep them, or pass --force to discard them',
        paths: conflicts,
      });
    }
    const needed = plans.flatMap((p) => p.writes.map((w) => w.o));
    const missing = repo.store.missing(needed);
    if (missing.size > 0) {
      throw objectMissing(`${missing.size} object(s) needed for checkout are not in the cache (first: ${[...missing][0]})`, {
        hint: 'fetch them with mlx pull, or re-add the original data',
        oids: [...missing],
      });
    }
    checkStoredObjects(repo, plans);
    opts.progress?.({
      phase: 'checking out',
      totalFiles: plans.reduce((n, p) => n + p.writes.length, 0),
      totalBytes: plans.reduce((n, p) => n + p.writes.reduce((m, w) => m + w.s, 0), 0),
    });
    beforeApply?.();
    // A selection is recorded before its files appear and forgotten only once the directory is whole,
    // so a checkout stopped half way never leaves files that were not asked for looking deleted.
    for (const [p, subs] of widen) partial.widen(p, subs);
    if (widen.size > 0) partial.save();
    await failpoint('checkout.partial-recorded');
    const results: CheckoutPathResult[] = [];
    for (const p of plans) results.push(await apply(repo, index, p, opts.progress));
    await failpoint('checkout.applied');
    const completed = whole.filter((p) => partial.selectionOf(p) !== undefined);
    for (const p of completed) partial.forget(p);
    if (completed.length > 0) partial.save();
    // Data checked out where a pointer was moved to must stay out of git too.
    ensureIgnored(repo.root, plans.map((p) => p.tracked.path));
    index.save();
    return { paths: results };
  } finally {
    release();
  }
}

/**
 * How a checkout changes the partial-checkout record: a directory checked out whole is complete; parts
 * of a directory that was not in the work tree (or already partial) start or widen its selection. Parts
 * of a directory that is there whole are restored and leave it whole.
 */
function partialChanges(repo: Repo, partial: PartialCheckouts, selection: Selection[]): { widen: Map<string, string[]>; whole: string[] } {
  const whole = new Set<string>();
  const parts = new Map<string, string[]>();
  for (const s of selection) {
    const p = s.tracked.path;
    if (s.sub === undefined || s.tracked.pointer.kind !== 'dir') whole.add(p);
    else parts.set(p, [...(parts.get(p) ?? []), s.sub]);
  }
  const widen = new Map<string, string[]>();
  for (const [p, subs] of parts) {
    if (whole.has(p)) continue;
    if (partial.selectionOf(p) !== undefined || !lstatIfExists(absPath(repo, p))) widen.set(p, subs);
  }
  return { widen, whole: [...whole] };
}

function desiredEntries(repo: Repo, t: TrackedPath): readonly ManifestEntry[] {
  const p = t.pointer;
  if (p.kind === 'file') return [{ p: '', o: p.oid, s: p.size, x: isExecutable(p) }];
  if (!repo.store.has(p.oid)) {
    throw objectMissing(`the manifest of ${t.path} (${p.oid}) is not in the cache`, { hint: 'fetch it with mlx pull', oid: p.oid });
  }
  const entries = manifestOf(repo, p.oid, `${p.oid} (${t.path})`);
  const files = entries.filter(isFileEntry);
  const why = pointerSizeMismatch(p, files.reduce((n, f) => n + f.s, 0), files.length);
  if (why !== undefined) throw sizeMismatch(`pointer ${t.path}${POINTER_SUFFIX} ${why}; nothing was written`, { hint: SIZE_HINT, path: t.path });
  return entries;
}

const SIZE_HINT = 'restore the pointer from git (git checkout -- <file>.mlx), or re-add the original data';

/**
 * The stat check that stands in for re-hashing: the store verified each object when it wrote it
 * (temp file, then rename) and keeps it read-only, so an object that is still a regular file of the
 * recorded size with no write permission is trusted as written. An object of another size is damaged
 * (or its record is), and checkout refuses before it writes anything; one that lost its read-only mode
 * was changed by someone and is re-hashed now (quarantined when its bytes are wrong). One lstat per
 * object written, none for objects this process fetched. `cache.verify` re-hashes every object at
 * its write instead.
 */
function checkStoredObjects(repo: Repo, plans: CheckoutPlan[]): void {
  for (const plan of plans) {
    for (const w of plan.writes) {
      const stored = repo.store.statOf(w.o);
      if (stored === undefined) continue;
      if (stored.size !== w.s) throw wrongSize(plan.tracked, w, stored.size);
      if (stored.writable && !repo.verifyCache) repo.store.verify(w.o);
    }
  }
}

function wrongSize(t: TrackedPath, w: FileEntry, actual: number): MlxError {
  const where = t.pointer.kind === 'file' ? `pointer ${t.path}${POINTER_SUFFIX}` : `the manifest of ${t.path} (entry ${JSON.stringify(w.p)})`;
  return sizeMismatch(`${where} says ${w.s} bytes, but object ${w.o} has ${actual}: refusing damaged data; nothing was written`, {
    hint: SIZE_HINT,
    path: w.p === '' ? t.path : `${t.path}/${w.p}`,
    oid: w.o,
    expected: w.s,
    actual,
  });
}

/**
 * Refuses a tracked path whose parent folders in the work tree are not all real directories (a
 * symlink committed to git, or one a manifest created): a write through it could land anywhere,
 * `.git` included. Folders that do not exist yet are created by checkout itself.
 */
function assertRealParents(repo: Repo, rel: string): void {
  const segs = rel.split('/');
  let cur = repo.root;
  for (let i = 0; i < segs.length - 1; i++) {
    cur = path.join(cur, segs[i]!);
    const st = lstatIfExists(cur);
    if (!st) return;
    if (!st.isDirectory()) {
      const what = st.isSymbolicLink() ? 'a symbolic link' : 'not a directory';
      throw badPath(`cannot check out ${rel}: ${segs.slice(0, i + 1).join('/')} is ${what}, and mlx never writes through one`, { path: rel });
    }
  }
}

/**
 * Plans one tracked path: reads what the pointer names and what the work tree holds, and leaves the
 * decisions to {@link planCheckout}, whose questions about single entries are answered here.
 */
function plan(repo: Repo, index: StatIndex, { tracked, sub, mayBeAbsent }: Selection, force: boolean): CheckoutPlan {
  assertRealParents(repo, tracked.path);
  const entries = desiredEntries(repo, tracked);
  return planCheckout({ tracked, entries, sub, mayBeAbsent, force, found: findAt(repo, tracked.path, entries) }, workTreeProbe(repo, index, tracked.path));
}

/**
 * What is at a tracked path: nothing, a file, a link, or a directory and everything in it that the
 * ignore rules do not ignore (so checkout leaves `__pycache__/` and the like where they are), plus
 * what they ignore but the manifest `entries` name (checked like any file before it is replaced).
 */
function findAt(repo: Repo, rel: string, entries: readonly ManifestEntry[]): FoundAtPath {
  const rootAbs = absPath(repo, rel);
  const st = lstatIfExists(rootAbs);
  if (!st) return undefined;
  if (st.isDirectory()) return { kind: 'dir', entries: scanTree(rootAbs, { root: repo.root, rel, keepIgnored: namedBy(entries) }).entries };
  return { kind: st.isSymbolicLink() ? 'link' : 'file' };
}

/** Whether a manifest names a path, or holds something under a folder: built on the first question. */
function namedBy(entries: readonly ManifestEntry[]): (rel: string, isDir: boolean) => boolean {
  let paths: Set<string> | undefined;
  let folders: Set<string> | undefined;
  return (rel, isDir) => {
    if (!paths || !folders) {
      paths = new Set(entries.map((e) => e.p));
      folders = new Set();
      for (const e of entries) for (let i = e.p.indexOf('/'); i !== -1; i = e.p.indexOf('/', i + 1)) folders.add(e.p.slice(0, i));
    }
    return isDir ? folders.has(rel) || paths.has(rel) : paths.has(rel);
  };
}

/** Answers the plan's questions by reading the work tree under `rel`, the stat index and the cache. */
function workTreeProbe(repo: Repo, index: StatIndex, rel: string): WorkTreeProbe<fs.Stats> {
  const rootAbs = absPath(repo, rel);
  const absOf = (p: string) => (p === '' ? rootAbs : path.join(rootAbs, ...p.split('/')));
  return {
    stat: (p) => fs.lstatSync(absOf(p)),
    oid: (p, st) => workTreeOid(repo, index, p === '' ? rel : `${rel}/${p}`, absOf(p), st),
    linkTarget: (p) => fs.readlinkSync(absOf(p)),
    holds: (p, st, oid) => isLinkedTo(repo, st, absOf(p), oid),
    inCache: (oid) => repo.store.has(oid),
    intoCache: (target) => target.startsWith(repo.store.objectsDir),
    ownModes: repo.linkTypes[0] !== 'hardlink',
  };
}

async function apply(repo: Repo, index: StatIndex, plan: CheckoutPlan, progress?: Progress): Promise<CheckoutPathResult> {
  const rel = plan.tracked.path;
  const rootAbs = absPath(repo, rel);
  const absOf = workTreePathOf(rootAbs);
  const keyOf = (p: string) => (p === '' ? rel : `${rel}/${p}`);
  for (const p of plan.removeFiles) fs.rmSync(absOf(p), { force: true });
  for (const p of plan.removeDirs) fs.rmSync(absOf(p), { recursive: true, force: true });
  makeDirUnder(repo.root, rel.includes('/') ? rel.slice(0, rel.lastIndexOf('/')) : '');
  if (plan.tracked.pointer.kind === 'dir') makeDirUnder(rootAbs, '');
  for (const p of plan.makeDirs) makeDirUnder(rootAbs, p);
  // Every folder the files go to exists (checked to be a real one) before the first file is written.
  for (const dir of foldersOf(plan.writes)) if (dir !== '') makeDirUnder(rootAbs, dir);
  fs.mkdirSync(repo.layout.tmpDir, { recursive: true });
  const writes = plan.writes;
  const placementAt = (i: number) => {
    const w = writes[i]!;
    return { oid: w.o, dest: absOf(w.p), executable: w.x, size: w.s, fresh: plan.freshWrites.has(w.p) };
  };
  const written = await writeFiles(repo, writes.length, placementAt, progress);
  // mlx wrote these bytes itself, so their content is known from the moment they were renamed into
  // place; stamping them when the batch ends (as git stamps its index) keeps all but the last
  // tick's files trusted, instead of re-hashing everything checkout just wrote.
  // A small checkout finishes within one tick: wait out the rest of it (at most 20 ms) so its files
  // are trusted too.
  let latest = 0;
  for (let i = 0; i < writes.length; i++) latest = Math.max(latest, written.mtimeAt(i));
  const wait = Math.ceil(latest + 21 - Date.now());
  if (writes.length > 0 && wait > 0 && wait <= 25) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, wait);
  const doneAt = Date.now();
  const st = {} as FileStat;
  for (let i = 0; i < writes.length; i++) index.record(keyOf(writes[i]!.p), written.statInto(i, st), writes[i]!.o, doneAt);
  for (const l of plan.links) {
    makeDirUnder(rootAbs, l.p.slice(0, Math.max(0, l.p.lastIndexOf('/'))));
    fs.symlinkSync(l.l, absOf(l.p));
  }
  for (const c of plan.chmods) fs.chmodSync(absOf(c.p), (c.x ? 0o777 : 0o666) & ~processUmask());
  index.prune(rel, (p) => plan.desiredFiles.has(p === rel ? '' : p.slice(rel.length + 1)));
  return { path: rel, written: plan.writes.length + plan.links.length, removed: plan.removeFiles.length + plan.removeDirs.length, unchanged: plan.unchanged };
}

/**
 * The absolute path of a manifest path under `rootAbs`. Manifest paths are checked when read (no empty,
 * `.` or `..` component), so where `/` is the separator the path is `rootAbs` and the manifest path
 * joined as they are: no per-file split and normalisation.
 */
function workTreePathOf(rootAbs: string): (p: string) => string {
  if (path.sep === '/') return (p) => (p === '' ? rootAbs : `${rootAbs}/${p}`);
  return (p) => (p === '' ? rootAbs : path.join(rootAbs, ...p.split('/')));
}

/** The folders of the files written, each once (a folder's files mostly come together: one string per folder, not per file). */
function foldersOf(writes: readonly FileEntry[]): Set<string> {
  const out = new Set<string>();
  let last: string | undefined;
  for (const w of writes) {
    const dir = w.p.slice(0, Math.max(0, w.p.lastIndexOf('/')));
    if (dir !== last) out.add((last = dir));
  }
  return out;
}

/**
 * Creates `relDir` under `rootAbs` one component at a time, refusing to pass through anything that is
 * not a real directory, so a symlink in the work tree can never redirect a write.
 */
function makeDirUnder(rootAbs: string, relDir: string): void {
  let cur = rootAbs;
  const parts = relDir === '' ? [] : relDir.split('/');
  for (let i = -1; i < parts.length; i++) {
    if (i >= 0) cur = path.join(cur, parts[i]!);
    const st = lstatIfExists(cur);
    if (!st) fs.mkdirSync(cur);
    else if (!st.isDirectory()) throw badState(`${cur} is in the way of a directory checkout needs to create`);
  }
}

/** The oid of a work-tree file: from the stat index when trusted, otherwise by hashing it. */
function workTreeOid(repo: Repo, index: StatIndex, key: string, abs: string, st: FileStat): Oid {
  const known = index.lookup(key, st);
  if (known) return known;
  const { oid } = hashFileSync(repo.newHasher, abs);
  index.record(key, st, oid, Date.now());
  return oid;
}

function preview(paths: string[]): string {
  return paths.slice(0, 3).join(', ') + (paths.length > 3 ? ` and ${paths.length - 3} more` : '');
}
