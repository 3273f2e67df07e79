import type { Oid } from '../hash/oid.js';
import { isFileEntry, parseManifest, type ManifestEntry } from '../formats/manifest.js';
import type { Pointer } from '../formats/pointer.js';
import { openGit, pointersAt, resolveRevision, type GitRepo } from '../git/git-repo.js';
import { fetchObjects } from '../remote/fetch.js';
import { RemoteIndex } from '../remote/remote-index.js';
import { E, MlxError } from '../util/errors.js';
import { findPointers } from '../workspace/pointers.js';
import { loadConfig } from '../workspace/config-file.js';
import { resolveRemote } from './remotes.js';
import type { Repo } from '../workspace/repo.js';
import path from 'node:path';

/** One side of a comparison: the pointers of a commit, or of the work tree. */
export interface PointerSet {
  /** `HEAD`, a revision as typed, or `workspace`. */
  label: string;
  commit?: string;
  pointers: Map<string, Pointer>;
}

export const WORKSPACE = 'workspace';

/** The pointers at `rev` (committed) or, for `workspace`, in the work tree. Malformed pointers fail. */
export async function pointerSet(repo: Repo, rev: string, git: GitRepo = openGit(repo.root)): Promise<PointerSet> {
  if (rev === WORKSPACE) {
    const scan = findPointers(repo);
    if (scan.problems.length) throw new MlxError(scan.problems[0]!.code, scan.problems[0]!.message, { hint: scan.problems[0]!.hint });
    return { label: rev, pointers: new Map(scan.tracked.map((t) => [t.path, t.pointer])) };
  }
  const commit = await resolveRevision(git, rev);
  const { tracked, problems } = await pointersAt(git, commit);
  if (problems.length) throw new MlxError(problems[0]!.code, problems[0]!.message, { hint: problems[0]!.hint });
  return { label: rev, commit, pointers: new Map(tracked.map((t) => [t.path, t.pointer])) };
}

/**
 * Reads directory manifests from the cache, fetching the missing ones (manifests only, never file
 * data) from the default remote when one is configured. Returns undefined for a manifest that is
 * nowhere to be had, so callers can still report the directory as a whole.
 */
export class ManifestSource {
  constructor(private readonly repo: Repo) {}

  /** A manifest's entries from the cache (call `prefetch` first), or undefined when it is not there. */
  entries(oid: Oid): ManifestEntry[] | undefined {
    if (!this.repo.store.has(oid)) return undefined;
    return parseManifest(this.repo.store.readBytes(oid).toString('utf8'), oid).entries;
  }

  /** Brings the missing ones of these manifests from the default remote, in one batch. */
  async prefetch(oids: Oid[]): Promise<void> {
    const missing = [...this.repo.store.missing(oids)];
    if (missing.length === 0 || !loadConfig(this.repo.layout).core?.remote) return;
    try {
      const { remote } = await resolveRemote(this.repo, undefined);
      const index = await RemoteIndex.load(remote, path.join(this.repo.store.root, 'remotes'));
      await fetchObjects(this.repo.store, this.repo.newHasher, remote, index, missing);
    } catch (err) {
      // Listing must work offline: without the remote, the directory is shown without its files.
      if (!(err instanceof MlxError)) throw err;
    }
  }
}

export interface LsRow {
  path: string;
  kind: 'file' | 'dir';
  size: number;
  oid: Oid;
  files?: number;
  /** For rows inside a directory: the tracked directory they belong to. */
  in?: string;
}

/**
 * `mlx ls [rev] [path]`: the tracked paths at a revision (default: the work tree's pointers) with
 * sizes and oids; with a path, the files inside it. Reads git objects and manifests only, no data.
 */
export async function ls(repo: Repo, rev: string | undefined, sub: string | undefined): Promise<{ rev: string; commit?: string; rows: LsRow[]; incomplete: string[] }> {
  const set = await pointerSet(repo, rev ?? WORKSPACE);
  const rows: LsRow[] = [];
  const incomplete: string[] = [];
  const manifests = new ManifestSource(repo);
  if (sub !== undefined) await manifests.prefetch([...set.pointers.values()].filter((x) => x.kind === 'dir').map((x) => x.oid));
  for (const [p, ptr] of [...set.pointers].sort(([a], [b]) => (a < b ? -1 : 1))) {
    const inside = sub !== undefined && (sub === p || sub.startsWith(`${p}/`));
    const under = sub === undefined || p === sub || p.startsWith(`${sub}/`) || inside;
    if (!under) continue;
    if (ptr.kind === 'file' || !(inside || (sub !== undefined && p.startsWith(`${sub}/`)))) {
      rows.push({ path: p, kind: ptr.kind, size: ptr.size, oid: ptr.oid, files: ptr.kind === 'dir' ? ptr.files : undefined });
      continue;
    }
    const entries = manifests.entries(ptr.oid);
    if (!entries) {
      incomplete.push(p);
      rows.push({ path: p, kind: 'dir', size: ptr.size, oid: ptr.oid, files: ptr.files });
      continue;
    }
    const prefix = sub !== undefined && sub.startsWith(`${p}/`) ? sub.slice(p.length + 1) : undefined;
    for (const e of entries) {
      if (!isFileEntry(e)) continue;
      if (prefix !== undefined && e.p !== prefix && !e.p.startsWith(`${prefix}/`)) continue;
      rows.push({ path: `${p}/${e.p}`, kind: 'file', size: e.s, oid: e.o, in: p });
    }
  }
  if (sub !== undefined && rows.length === 0) throw new MlxError(E.PATH_NOT_FOUND, `${sub} is not tracked at ${set.label}`);
  return { rev: set.label, commit: set.commit, rows, incomplete };
}
