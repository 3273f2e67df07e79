import fs from 'node:fs';
import path from 'node:path';
import { isFileEntry } from '../formats/manifest.js';
import type { Pointer } from '../formats/pointer.js';
import type { Oid } from '../hash/oid.js';
import { ManifestSource, pointerSet, WORKSPACE } from '../repository/revisions.js';
import { fetchSelection } from '../repository/transfer.js';
import { badPath, isErrno, objectMissing, pathNotFound } from '../util/errors.js';
import { lstatIfExists, processUmask, tempPathFor } from '../util/fs.js';
import { loadConfig } from '../workspace/config-file.js';
import { pointerFileOf } from '../workspace/pointers.js';
import { openRepo, toRepoPath, type Repo } from '../workspace/repo.js';

export interface CatOptions {
  cwd: string;
  /** A tracked file, or a file inside a tracked directory, relative to `cwd`. */
  path: string;
  /** At this revision (default: the work tree's pointers). */
  rev?: string;
  /** Write the bytes to this new file (relative to `cwd`); it must not exist. */
  out?: string;
  /** Without `out`: the open file the bytes are written to (the CLI's stdout). */
  fd?: number;
}

export interface CatResult {
  /** Repository-relative path of the file. */
  path: string;
  /** The revision as given, or `workspace`. */
  rev: string;
  /** The commit `rev` resolved to; null for the work tree. */
  commit: string | null;
  oid: Oid;
  size: number;
  /** Whether the object was fetched from the default remote first. */
  fetched: boolean;
  /** The file written, absolute; absent when the bytes went to `fd`. */
  out?: string;
}

/**
 * `mlx cat <path> [--rev R] [-o file]`: the bytes of a tracked file as a revision's pointers name them
 * (as `git show rev:path` does for files git tracks), from the cache, fetched from the default remote
 * when the cache lacks them. Verified against the oid on the way; a written file appears whole or not at all.
 */
export async function cat(opts: CatOptions): Promise<CatResult> {
  const repo = await openRepo(opts.cwd);
  const target = toRepoPath(repo, opts.cwd, opts.path);
  const out = opts.out === undefined ? undefined : path.resolve(opts.cwd, opts.out);
  if (out !== undefined && lstatIfExists(out)) throw badPath(`cannot write ${opts.out}: it exists`, { hint: 'choose another file with -o, or move it away first', path: out });
  const set = await pointerSet(repo, opts.rev ?? WORKSPACE);
  const found = await locate(repo, set.pointers, target, set.label);
  let fetched = false;
  if (!repo.store.has(found.oid) && loadConfig(repo.layout).core?.remote) {
    const pointer = { ...found.pointer, path: found.tracked };
    await fetchSelection(repo, [{ tracked: { path: found.tracked, pointerFile: pointerFileOf(repo, found.tracked), pointer }, sub: found.sub }]);
    fetched = repo.store.has(found.oid);
  }
  if (!repo.store.has(found.oid)) {
    throw objectMissing(`${target} at ${set.label}: its object ${found.oid} is neither in the cache nor on a remote`, { hint: 'run mlx fetch where the data is, or configure the remote that has it', oid: found.oid });
  }
  const result = { path: target, rev: set.label, commit: set.commit ?? null, oid: found.oid, size: found.size, fetched };
  if (out === undefined) {
    repo.store.copyOutTo(found.oid, opts.fd ?? 1, true);
    return result;
  }
  writeNewFile(repo, found.oid, out);
  return { ...result, out };
}

interface Located {
  /** The tracked path holding the file. */
  tracked: string;
  pointer: Pointer;
  /** The file's path inside a tracked directory. */
  sub?: string;
  oid: Oid;
  size: number;
}

/** The tracked path that holds `target` at one side, and the file's oid and size. */
async function locate(repo: Repo, pointers: Map<string, Pointer>, target: string, label: string): Promise<Located> {
  for (const [tracked, pointer] of pointers) {
    if (tracked === target) {
      if (pointer.kind === 'dir') throw badPath(`${target} is a tracked directory at ${label}: name a file inside it`, { path: target, rule: 'directory' });
      return { tracked, pointer, oid: pointer.oid, size: pointer.size };
    }
    if (!target.startsWith(`${tracked}/`) || pointer.kind !== 'dir') continue;
    const sub = target.slice(tracked.length + 1);
    const manifests = new ManifestSource(repo);
    await manifests.prefetch([pointer.oid]);
    const entries = manifests.entries(pointer.oid);
    if (!entries) throw objectMissing(`the manifest of ${tracked} at ${label} is neither in the cache nor on a remote`, { oid: pointer.oid });
    const entry = entries.find((e) => e.p === sub);
    if (entry && isFileEntry(entry)) return { tracked, pointer, sub, oid: entry.o, size: entry.s };
    if (entries.some((e) => e.p.startsWith(`${sub}/`))) throw badPath(`${target} is a directory inside ${tracked} at ${label}: name a file inside it`, { path: target, rule: 'directory' });
    throw pathNotFound(`${target} is not part of ${tracked} at ${label}`, { path: target, rev: label });
  }
  throw pathNotFound(`${target} is not tracked at ${label}`, { path: target, rev: label });
}

/** Writes the object to `out` through a temp file beside it, so the file appears whole; never replaces one. */
function writeNewFile(repo: Repo, oid: Oid, out: string): void {
  const tmp = tempPathFor(out);
  try {
    repo.store.copyOutVerified(oid, tmp, 0o666 & ~processUmask());
    fs.linkSync(tmp, out);
  } catch (err) {
    if (isErrno(err, 'EEXIST')) throw badPath(`cannot write ${out}: it exists`, { path: out });
    throw err;
  } finally {
    fs.rmSync(tmp, { force: true });
  }
}
