import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { isFileEntry, type ManifestEntry } from '../formats/manifest.js';
import { isExecutable, type PointerSource } from '../formats/pointer.js';
import { loadHasherOnFirstUse, type HasherFactory } from '../hash/blake3.js';
import type { FetchSummary } from '../remote/fetch.js';
import { fetchSourceData, pointerSource, sourceCommit, sourcePath, sourcePointer, sourceRemote, sourceRun, withSourceRepository } from '../repository/import-source.js';
import { fromSourceRemote } from '../repository/imports.js';
import { ObjectStore } from '../store/object-store.js';
import type { Config } from '../formats/config.js';
import { E, badPath, isMlxError } from '../util/errors.js';
import { lstatIfExists, makeOwnTempDir, processUmask, tempPathFor } from '../util/fs.js';
import { openRepo } from '../workspace/repo.js';
import type { ImportOptions } from './import.js';

/** What `mlx get` takes: what `mlx import` takes (`out`: where the plain files are written). */
export type GetOptions = ImportOptions;

export interface GetResult {
  /** The folder or file written, absolute. */
  out: string;
  kind: 'file' | 'dir';
  oid: string;
  size: number;
  files?: number;
  source: PointerSource;
  fetch: FetchSummary;
}

/**
 * `mlx get <repo> <path>`: downloads a path another mlx repository tracks as plain files, without
 * tracking them. Inside an mlx repository its cache is used (and keeps the objects); elsewhere a
 * temporary one, removed afterwards. The output appears whole or not at all (written beside it, then
 * renamed into place), and never replaces anything.
 */
export async function get(opts: GetOptions): Promise<GetResult> {
  const srcPath = sourcePath(opts.path);
  const out = path.resolve(opts.cwd, opts.out ?? path.posix.basename(srcPath));
  if (lstatIfExists(out)) throw badPath(`cannot write ${opts.out ?? path.posix.basename(srcPath)}: ${out} exists`, { hint: 'choose another place with -o, or move it away first', path: out });
  const here = await cacheHere(opts.cwd);
  try {
    return await withSourceRepository(opts.repo, opts.cwd, async (src) => {
      const commit = await sourceCommit(src, opts.rev);
      const pointer = await sourcePointer(src, commit, opts.rev, srcPath);
      const { fetch, entries } = await fromSourceRemote(src, srcPath, async () => {
        const remote = await sourceRemote(src, commit, here.config);
        return fetchSourceData({ store: here.store, newHasher: here.newHasher, remote, jobs: opts.jobs, progress: opts.progress }, pointer, `${srcPath} of ${src.name}`);
      });
      writeOut(here.store, out, pointer.kind === 'dir' ? entries! : undefined, pointer.oid, isExecutable(pointer));
      const run = await sourceRun(src, commit, srcPath, pointer.oid);
      return { out, kind: pointer.kind, oid: pointer.oid, size: pointer.size, ...(pointer.kind === 'dir' ? { files: pointer.files } : {}), source: pointerSource(opts.repo, opts.rev, commit, srcPath, run), fetch };
    });
  } finally {
    here.done();
  }
}

/** The cache of the mlx repository around `cwd`, or a temporary one when there is none. */
async function cacheHere(cwd: string): Promise<{ store: ObjectStore; newHasher: HasherFactory; config?: Config; done: () => void }> {
  try {
    const repo = await openRepo(cwd);
    return { store: repo.store, newHasher: repo.newHasher, config: repo.config, done: () => {} };
  } catch (err) {
    if (!isMlxError(err, E.NOT_A_GIT_REPO, E.NOT_INITIALISED)) throw err;
  }
  const newHasher = await loadHasherOnFirstUse();
  const dir = makeOwnTempDir(os.tmpdir(), 'mlx-get-');
  const store = new ObjectStore(dir, newHasher);
  store.init();
 return { store, newHasher, done: () => fs.rmSync(dir, { recursive: true, force: true }) };
}

/**
 * Writes the object (a file) or the manifest's entries (a directory) to `out` through a temporary
 * sibling renamed into place. Manifest paths are checked when the manifest is parsed: none leaves the
 * folder, none lies beneath a link, so no write can follow a link out of it.
 */
function writeOut(store: ObjectStore, out: string, entries: readonly ManifestEntry[] | undefined, oid: string, executable: boolean): void {
  fs.mkdirSync(path.dirname(out), { recursive: true });
  const tmp = tempPathFor(out);
  const mode = (x: boolean) => (x ? 0o777 : 0o666) & ~processUmask();
  try {
    if (entries === undefined) store.copyOutVerified(oid, tmp, mode(executable));
    else {
      fs.mkdirSync(tmp);
      for (const e of entries) {
        const dest = path.join(tmp, ...e.p.split('/'));
        if (isFileEntry(e)) {
          fs.mkdirSync(path.dirname(dest), { recursive: true });
          store.copyOutVerified(e.o, dest, mode(e.x));
        } else if (e.t === 'd') fs.mkdirSync(dest, { recursive: true });
        else {
          fs.mkdirSync(path.dirname(dest), { recursive: true });
          fs.symlinkSync(e.l, dest);
        }
      }
    }
    // Checked again at the last moment: something may have appeared there while the data came.
    if (lstatIfExists(out)) throw badPath(`cannot write ${out}: it appeared while downloading`, { path: out });
    fs.renameSync(tmp, out);
  } catch (err) {
    fs.rmSync(tmp, { recursive: true, force: true });
    throw err;
  }
}
