import fs from 'node:fs';
import path from 'node:path';
import type { PointerSource } from '../formats/pointer.js';
import type { TransferProgress } from '../remote/transfer-progress.js';
import { importedPointer, recordedRepository } from '../repository/imports.js';
import { withSourceRepository, sourcePath } from '../repository/import-source.js';
import { badPath } from '../util/errors.js';
import { lstatIfExists } from '../util/fs.js';
import { assertSafeRelPath } from '../util/paths.js';
import { checkoutSelection, type CheckoutResult } from '../workspace/checkout.js';
import { findTrackedAncestor, pointerFileOf, writePointer } from '../workspace/pointers.js';
import { absPath, openRepo, toRepoPath, type Repo } from '../workspace/repo.js';
import type { FetchSummary } from '../remote/fetch.js';

export interface ImportOptions {
  cwd: string;
  /** The source repository: a git url, or a local path relative to `cwd`. */
  repo: string;
  /** A path the source tracks. */
  path: string;
  /** A branch, tag or commit of the source (default: its HEAD). */
  rev?: string;
  /** Where the data goes, relative to `cwd` (default: the source path's last name). */
  out?: string;
  jobs?: number;
  progress?: TransferProgress;
}

export interface ImportResult {
  path: string;
  kind: 'file' | 'dir';
  oid: string;
  size: number;
  files?: number;
  source: PointerSource;
  fetch: FetchSummary;
  checkout: CheckoutResult;
}

/**
 * `mlx import <repo> <path>`: brings a path another mlx repository tracks into this one, pinned at one
 * commit of it: its data is fetched from the source's committed remote into this cache, and a pointer
 * recording the source is written. Everything is checked and fetched before the work tree changes.
 */
export async function importData(opts: ImportOptions): Promise<ImportResult> {
  const repo = await openRepo(opts.cwd);
  const srcPath = sourcePath(opts.path);
  const out = outputPath(repo, opts.cwd, opts.out ?? path.posix.basename(srcPath));
  const recorded = recordedRepository(repo, opts.cwd, opts.repo);
  return withSourceRepository(opts.repo, opts.cwd, async (src) => {
    const imported = await importedPointer(repo, src, recorded, srcPath, opts.rev, out, opts);
    const tracked = { path: out, pointerFile: pointerFileOf(repo, out), pointer: imported.pointer };
    // Planned and checked first; the pointer is written under the repository lock just before the data.
    const checkout = await checkoutSelection(repo, [{ tracked }], {}, () => {
      fs.mkdirSync(path.dirname(tracked.pointerFile), { recursive: true });
      writePointer(repo, imported.pointer);
    });
    const p = imported.pointer;
    return { path: out, kind: p.kind, oid: p.oid, size: p.size, ...(p.kind === 'dir' ? { files: p.files } : {}), source: p.source!, fetch: imported.fetch, checkout };
  });
}

/** The repository path the import writes: inside this repository, under the path rule, and nothing there yet. */
function outputPath(repo: Repo, cwd: string, userPath: string): string {
  const rel = toRepoPath(repo, cwd, userPath);
  assertSafeRelPath(rel, 'output path', 'tracked');
  const holder = findTrackedAncestor(repo, rel);
  if (holder !== undefined) {
    const why = holder === rel ? `${rel} is tracked already` : `${rel} lies inside the tracked ${holder}`;
    throw badPath(`cannot import to ${rel}: ${why}`, { hint: holder === rel ? `mlx update ${rel} moves an import's pin; -o names another place` : 'choose another place with -o', path: rel });
  }
  for (const taken of [absPath(repo, rel), pointerFileOf(repo, rel)]) {
    if (lstatIfExists(taken)) throw badPath(`cannot import to ${rel}: ${path.relative(cwd, taken) || taken} exists`, { hint: 'choose another place with -o, or move it away first', path: rel });
  }
  return rel;
}
