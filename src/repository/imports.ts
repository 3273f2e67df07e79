import path from 'node:path';
import type { Pointer } from '../formats/pointer.js';
import type { FetchSummary } from '../remote/fetch.js';
import type { TransferProgress } from '../remote/transfer-progress.js';
import { E, isMlxError, reworded } from '../util/errors.js';
import { toPosix } from '../util/paths.js';
import type { Repo } from '../workspace/repo.js';
import { fetchSourceData, isRepositoryUrl, pointerSource, sourceCommit, sourcePointer, sourceRemote, sourceRun, type SourceRepository } from './import-source.js';

/**
 * How a pointer records its source repository: a url as given; a local path relative to this
 * repository's root, so the record means the same from any folder and in a clone placed beside it.
 */
export function recordedRepository(repo: Repo, cwd: string, arg: string): string {
  if (isRepositoryUrl(arg)) return arg;
  return toPosix(path.relative(repo.root, path.resolve(cwd, arg))) || '.';
}

/** The pointer an import of `srcPath` at `rev` writes at `out`, with its data fetched into this cache. */
export async function importedPointer(
  repo: Repo,
  src: SourceRepository,
  recorded: string,
  srcPath: string,
  rev: string | undefined,
  out: string,
  opts: { jobs?: number; progress?: TransferProgress },
): Promise<{ pointer: Pointer; fetch: FetchSummary }> {
  const commit = await sourceCommit(src, rev);
  const there = await sourcePointer(src, commit, rev, srcPath);
  const { fetch } = await fromSourceRemote(src, srcPath, async () => {
    const remote = await sourceRemote(src, commit, repo.config);
    return fetchSourceData({ store: repo.store, newHasher: repo.newHasher, remote, ...opts }, there, `${srcPath} of ${src.name}`);
  });
  const run = await sourceRun(src, commit, srcPath, there.oid);
  const { source: _theirs, ...data } = there;
  const pointer = { ...data, path: out, source: pointerSource(recorded, rev, commit, srcPath, run) } as Pointer;
  return { pointer, fetch };
}

/** Transport failures of the source's remote are said to be the source's, so the user knows which remote failed. */
export async function fromSourceRemote<T>(src: SourceRepository, srcPath: string, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (err) {
    if (isMlxError(err, E.REMOTE_NOT_FOUND, E.REMOTE_UNREACHABLE, E.REMOTE_AUTH, E.REMOTE_NO_BUCKET, E.REMOTE_FAILED)) {
      throw reworded(err, `cannot fetch ${srcPath} from the remote of repository ${src.name}: ${err.message}`, {
        hint: "that remote is named in the source's committed .mlx/config.yaml and must be reachable from here (S3 credentials: the AWS chain, or --local options of a remote with the same url in this repository)",
      });
    }
    throw err;
  }
}
