import type { Oid } from '../hash/oid.js';
import { isFileEntry } from '../formats/manifest.js';
import { ManifestSource, pointerSet, revisionArgument, WORKSPACE } from '../repository/revisions.js';
import { pathNotFound } from '../util/errors.js';
import { openRepo, toRepoPath, type Repo } from '../workspace/repo.js';

export interface LsOptions {
  cwd: string;
  /** A commit, branch or tag (default: the work tree). A lone argument that is not a revision is a path. */
  rev?: string;
  /** A tracked path, or a path inside one, relative to `cwd`. */
  path?: string;
}

export interface LsResult {
  rev: string;
  commit?: string;
  rows: LsRow[];
  incomplete: string[];
}

/** `mlx ls [rev] [path]`. */
export async function ls(opts: LsOptions): Promise<LsResult> {
  const repo = await openRepo(opts.cwd);
  let { rev, path: sub } = opts;
  // One argument that is not a revision means `ls <path>` at the work tree.
  if (rev !== undefined && sub === undefined && (await revisionArgument(repo, opts.cwd, [rev])) === undefined) [rev, sub] = [undefined, rev];
  return listTracked(repo, rev, sub === undefined ? undefined : toRepoPath(repo, opts.cwd, sub));
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
 * The tracked paths at a revision (default: the work tree's pointers) with
 * sizes and oids; with a path, the files inside it. Reads git objects and manifests only, no data.
 */
async function listTracked(repo: Repo, rev: string | undefined, sub: string | undefined): Promise<LsResult> {
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
  if (sub !== undefined && rows.length === 0) throw pathNotFound(`${sub} is not tracked at ${set.label}`);
  return { rev: set.label, commit: set.commit, rows, incomplete };
}
