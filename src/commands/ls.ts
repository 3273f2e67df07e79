import type { PointerSource } from '../formats/pointer.js';
import type { Oid } from '../hash/oid.js';
import { isFileEntry } from '../formats/manifest.js';
import { ManifestSource, pointerSet, revisionArgument, WORKSPACE } from '../repository/revisions.js';
import fs from 'node:fs';
import path from 'node:path';
import { isGitRepositoryDir, isRepositoryUrl, sourceCommit, sourcePath, sourcePointers, withSourceRepository } from '../repository/import-source.js';
import { badUsage, pathNotFound } from '../util/errors.js';
import { findGitRoot, openRepo, toRepoPath, type Repo } from '../workspace/repo.js';

export interface LsOptions {
  cwd: string;
  /** A commit, branch or tag (default: the work tree). A lone argument that is not a revision is a path. */
  rev?: string;
  /** A tracked path, or a path inside one, relative to `cwd`. */
  path?: string;
  /** `rev` was given as `--rev`: it is never taken for a path. */
  explicitRev?: boolean;
}

export interface LsResult {
  rev: string;
  commit?: string;
  /** When another repository was listed: as it was named. */
  repo?: string;
  rows: LsRow[];
  incomplete: string[];
}

/**
 * `mlx ls [rev] [path]`, `mlx ls --rev R [path]` and `mlx ls <repo> [path] [--rev R]`. The first
 * argument names another repository when it is a url, or the top folder of a git repository other than
 * the one around `cwd`; anything else is a revision or a path of this one.
 */
export async function lsCommand(cwd: string, args: string[], rev: string | undefined): Promise<LsResult> {
  const [first, second, extra] = args;
  if (extra !== undefined) throw badUsage(`mlx ls takes at most two arguments, got ${args.length}`);
  if (first !== undefined && isOtherRepository(cwd, first)) return lsRepository({ cwd, repo: first, rev, path: second });
  if (rev === undefined) return ls({ cwd, rev: first, path: second });
  if (second !== undefined) throw badUsage(`mlx ls --rev ${rev} takes one path, got ${first} and ${second}`);
  return ls({ cwd, rev, path: first, explicitRev: true });
}

/** Whether a first argument of `mlx ls` names another repository (see {@link lsCommand}). */
function isOtherRepository(cwd: string, arg: string): boolean {
  if (isRepositoryUrl(arg)) return true;
  const dir = path.resolve(cwd, arg);
  if (!isGitRepositoryDir(dir)) return false;
  const here = findGitRoot(cwd);
  return here === undefined || fs.realpathSync(here) !== fs.realpathSync(dir);
}

/** `mlx ls <repo>`: the paths another repository tracks at a revision (default: its HEAD), read from its history alone. */
export async function lsRepository(opts: { cwd: string; repo: string; rev?: string; path?: string }): Promise<LsResult> {
  const sub = opts.path === undefined ? undefined : sourcePath(opts.path);
  return withSourceRepository(opts.repo, opts.cwd, async (src) => {
    const commit = await sourceCommit(src, opts.rev);
    const { tracked } = await sourcePointers(src, commit);
    const rows: LsRow[] = tracked
      .filter((t) => sub === undefined || t.path === sub || t.path.startsWith(`${sub}/`) || sub.startsWith(`${t.path}/`))
      .sort((a, b) => (a.path < b.path ? -1 : 1))
      .map(({ path: p, pointer: ptr }) => ({ path: p, kind: ptr.kind, size: ptr.size, oid: ptr.oid, ...(ptr.kind === 'dir' ? { files: ptr.files } : {}) }));
    const at = opts.rev ?? 'HEAD';
    if (sub !== undefined && rows.length === 0) throw pathNotFound(`repository ${src.name} does not track ${sub} at ${at}`, { path: sub, rev: at });
    return { rev: at, commit, repo: src.name, rows, incomplete: [] };
  });
}

/** `mlx ls [rev] [path]` in this repository. */
export async function ls(opts: LsOptions): Promise<LsResult> {
  const repo = await openRepo(opts.cwd);
  let { rev, path: sub } = opts;
  // One argument that is not a revision means `ls <path>` at the work tree.
  if (rev !== undefined && sub === undefined && !opts.explicitRev && (await revisionArgument(repo, opts.cwd, [rev])) === undefined) [rev, sub] = [undefined, rev];
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
  /** A tracked path imported from another repository: where from. */
  imported?: PointerSource;
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
      rows.push({ path: p, kind: ptr.kind, size: ptr.size, oid: ptr.oid, files: ptr.kind === 'dir' ? ptr.files : undefined, ...(ptr.source ? { imported: ptr.source } : {}) });
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
