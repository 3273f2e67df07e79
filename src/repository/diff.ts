import type { Oid } from '../hash/oid.js';
import { hashBytes } from '../hash/hash-file.js';
import { forEachEntryPair, isFileEntry, serializeManifest, type ManifestEntry } from '../formats/manifest.js';
import { sameContent, type Pointer, type PointerSource } from '../formats/pointer.js';
import { openGit } from '../git/git-repo.js';
import type { Repo } from '../workspace/repo.js';
import { inspectWorkTree, type PathDetail } from '../workspace/status.js';
import { ManifestSource, pointerSet, WORKSPACE } from './revisions.js';

export interface FileChange {
  path: string;
  change: 'added' | 'deleted' | 'modified';
  oldSize?: number;
  newSize?: number;
}

export interface PathChange {
  path: string;
  change: 'added' | 'deleted' | 'modified' | 'renamed';
  kind: 'file' | 'dir';
  /** For renames: where it was. */
  from?: string;
  oldOid?: Oid;
  newOid?: Oid;
  oldSize?: number;
  newSize?: number;
  /** For directories: the files that changed inside, when both manifests could be read. */
  files?: FileChange[];
  /** True when a manifest was not available, so the file list is unknown. */
  filesUnknown?: boolean;
  /** A change in the work tree that `mlx add` has not recorded in a pointer yet. */
  notAdded?: true;
  /** Imported data: where the new side (for a deletion, the old side) came from. */
  imported?: PointerSource;
  /** Imported data whose pin moved: where the old side came from. */
  importedBefore?: PointerSource;
}

export interface DiffResult {
  from: { rev: string; commit?: string };
  to: { rev: string; commit?: string };
  changes: PathChange[];
  /**
   * When the comparison is with the work tree by default (`mlx diff`, `mlx diff <rev>`): tracked data
   * changed in the work tree but not yet added, as `mlx status` sees it (never-checked-out data is no change).
   */
  notAdded?: PathChange[];
}

/**
 * `mlx diff [a [b]]`: tracked paths added, deleted, renamed (same content under a new path) and
 * modified between two revisions (default: HEAD and the work tree's pointers), down to the files
 * inside tracked directories, with sizes.
 */
export async function diff(repo: Repo, a = 'HEAD', b = WORKSPACE, opts: { withWorkTree?: boolean } = {}): Promise<DiffResult> {
  const git = openGit(repo.root);
  const [from, to] = [await pointerSet(repo, a, git), await pointerSet(repo, b, git)];
  const manifests = new ManifestSource(repo);
  const dirOids: Oid[] = [];
  for (const [p, old] of from.pointers) {
    const now = to.pointers.get(p);
    if (now && now.oid !== old.oid) for (const x of [old, now]) if (x.kind === 'dir') dirOids.push(x.oid);
  }
  await manifests.prefetch(dirOids);

  const changes: PathChange[] = [];
  const added = new Map<string, Pointer>();
  for (const [p, now] of to.pointers) if (!from.pointers.has(p)) added.set(p, now);
  const deleted = new Map<string, Pointer>();
  for (const [p, old] of from.pointers) if (!to.pointers.has(p)) deleted.set(p, old);
  // A deleted and an added path with the same content is a rename.
  for (const [p, old] of deleted) {
    const target = [...added].find(([, now]) => now.oid === old.oid && now.kind === old.kind);
    if (!target) continue;
    changes.push({ path: target[0], change: 'renamed', kind: old.kind, from: p, oldOid: old.oid, newOid: old.oid, oldSize: old.size, newSize: old.size, ...sources(old, target[1]) });
    added.delete(target[0]);
    deleted.delete(p);
  }
  for (const [p, now] of added) changes.push({ path: p, change: 'added', kind: now.kind, newOid: now.oid, newSize: now.size, ...sources(undefined, now) });
  for (const [p, old] of deleted) changes.push({ path: p, change: 'deleted', kind: old.kind, oldOid: old.oid, oldSize: old.size, ...sources(old, undefined) });
  for (const [p, old] of from.pointers) {
    const now = to.pointers.get(p);
    if (!now || sameContent(now, old)) continue; // an executable bit alone is a change too
    const change: PathChange = { path: p, change: 'modified', kind: now.kind, oldOid: old.oid, newOid: now.oid, oldSize: old.size, newSize: now.size, ...sources(old, now) };
    if (old.kind === 'dir' && now.kind === 'dir') {
      const before = manifests.entries(old.oid);
      const after = manifests.entries(now.oid);
      if (before && after) change.files = fileChanges(before, after);
      else change.filesUnknown = true;
    }
    changes.push(change);
  }
  changes.sort(byPath);
  const result: DiffResult = { from: { rev: from.label, commit: from.commit }, to: { rev: to.label, commit: to.commit }, changes };
  if (opts.withWorkTree && b === WORKSPACE) result.notAdded = await notAddedChanges(repo);
  return result;
}

/** The import fields of a change: the source of the side that stays, and the old one when the pin moved. */
function sources(old: Pointer | undefined, now: Pointer | undefined): Pick<PathChange, 'imported' | 'importedBefore'> {
  const imported = (now ?? old)?.source;
  const before = now && old?.source && old.source.commit !== now.source?.commit ? old.source : undefined;
  return { ...(imported ? { imported } : {}), ...(before ? { importedBefore: before } : {}) };
}

const byPath = (x: { path: string }, y: { path: string }) => (x.path < y.path ? -1 : x.path > y.path ? 1 : 0);

/**
 * The work tree against its pointers, read as `mlx status` reads it (the stat index spares unchanged
 * files). Only modifications: a tracked path not in the work tree is not checked out, not deleted.
 */
export async function notAddedChanges(repo: Repo): Promise<PathChange[]> {
  const { details } = await inspectWorkTree(repo, repo.root, []);
  return details.filter((d) => d.status.state === 'modified').map((d) => notAddedChange(repo, d)).sort(byPath);
}

function notAddedChange(repo: Repo, { status, pointer, work, manifest }: PathDetail): PathChange {
  const base = { path: status.path, change: 'modified' as const, kind: pointer.kind, oldOid: pointer.oid, oldSize: pointer.size, notAdded: true as const, ...sources(pointer, undefined) };
  if (pointer.kind === 'file') return work.kind === 'file' ? { ...base, newOid: work.oid, newSize: work.size } : base;
  if (!manifest || !status.changes) return { ...base, filesUnknown: true };
  const now = new Map(work.kind === 'dir' ? work.entries.filter(isFileEntry).map((e) => [e.p, e]) : []);
  const then = new Map(manifest.filter(isFileEntry).map((e) => [e.p, e]));
  const files: FileChange[] = [];
  for (const [list, change] of [[status.changes.added, 'added'], [status.changes.modified, 'modified'], [status.changes.deleted, 'deleted']] as const) {
    for (const p of list) {
      const [o, n] = [then.get(p), now.get(p)];
      if (!o && !n) continue; // a directory or link entry: no size to tell
      files.push({ path: p, change, oldSize: change === 'added' ? undefined : o?.s, newSize: change === 'deleted' ? undefined : n?.s });
    }
  }
  // What adding these changes gives: the recorded size moved by each change (files outside a partial
  // checkout's parts keep theirs); the new manifest's oid only when the directory is all here.
  const newSize = files.reduce((n, f) => n + (f.newSize ?? 0) - (f.oldSize ?? 0), pointer.size);
  const newOid = work.kind === 'dir' && !status.partial ? hashBytes(repo.newHasher, Buffer.from(serializeManifest(work.entries))) : undefined;
  return { ...base, newOid, newSize, files: files.sort(byPath) };
}

function fileChanges(before: readonly ManifestEntry[], after: readonly ManifestEntry[]): FileChange[] {
  const out: FileChange[] = [];
  // One pass over both manifests in their order: no table of either's files.
  forEachEntryPair(before, after, (a, b) => {
    const o = a && isFileEntry(a) ? a : undefined;
    const e = b && isFileEntry(b) ? b : undefined;
    if (e && !o) out.push({ path: e.p, change: 'added', newSize: e.s });
    else if (o && !e) out.push({ path: o.p, change: 'deleted', oldSize: o.s });
    else if (o && e && (o.o !== e.o || o.x !== e.x)) out.push({ path: e.p, change: 'modified', oldSize: o.s, newSize: e.s });
  });
  return out.sort((x, y) => (x.path < y.path ? -1 : x.path > y.path ? 1 : 0));
}
