import type { Oid } from '../hash/oid.js';
import { parseEnvRecord, referencedOids } from '../formats/env-record.js';
import { isFileEntry, parseManifest } from '../formats/manifest.js';
import type { Pointer } from '../formats/pointer.js';
import type { RunLock } from '../formats/run-lock.js';
import type { GitRepo } from '../git/git-repo.js';
import { MlxError, reworded } from '../util/errors.js';
import type { Repo } from '../workspace/repo.js';
import { isBadRunLock, readRunLock, readRunLockAt } from './lockfile.js';
import { appendAll } from '../util/arrays.js';

/**
 * What recorded runs keep alive besides their outputs (which have pointers): the run records, the
 * environment records and their lockfile blobs, the metric histories, and the dependency snapshots
 * (files, manifests).
 * gc keeps them and push sends them, so a run can be inspected and reproduced on another machine.
 */
export interface RunObjects {
  /** Single objects: records, environment records and blobs, metric histories. */
  objects: Oid[];
  /** Dependency snapshots, shaped like pointers so directory manifests expand to their files. */
  artifacts: { path: string; pointer: Pointer; where: string }[];
}

export function runObjects(repo: Repo, lock: RunLock | undefined, where: string): RunObjects {
  const out: RunObjects = { objects: [], artifacts: [] };
  for (const [name, run] of Object.entries(lock?.runs ?? {})) {
    out.objects.push(run.record, run.env);
    for (const h of Object.values(run.histories ?? {})) out.objects.push(h.oid);
    if (repo.store.has(run.env)) {
      try {
        appendAll(out.objects, referencedOids(parseEnvRecord(repo.store.readBytes(run.env).toString('utf8'), run.env)));
      } catch (err) {
        if (!(err instanceof MlxError)) throw err; // a damaged record: verify reports it
      }
    }
    for (const [p, a] of Object.entries(run.deps)) {
      const pointer: Pointer = a.kind === 'dir' ? { version: 1, path: p, kind: 'dir', oid: a.oid, size: a.size, files: 0 } : { version: 1, path: p, kind: 'file', oid: a.oid, size: a.size };
      out.artifacts.push({ path: `${p} (input of run ${name})`, pointer, where });
    }
  }
  return out;
}

/** The objects of a directory snapshot's manifest, when the manifest is in the cache. */
function snapshotFiles(repo: Repo, artifacts: RunObjects['artifacts']): Oid[] {
  const oids: Oid[] = [];
  for (const a of artifacts) {
    if (a.pointer.kind !== 'dir' || !repo.store.has(a.pointer.oid)) continue;
    for (const e of parseManifest(repo.store.readBytes(a.pointer.oid).toString('utf8'), a.pointer.oid).entries) if (isFileEntry(e)) oids.push(e.o);
  }
  return oids;
}

/** What a whole-repository push sends for the work tree's recorded runs: the run objects this cache has. */
export function localRunObjects(repo: Repo): Oid[] {
  const r = runObjects(repo, workTreeRunLock(repo), 'the work tree');
  const oids = [...r.objects, ...r.artifacts.flatMap((a) => [a.pointer.oid, ...snapshotFiles(repo, [a])])];
  const absent = repo.store.missing(oids);
  return oids.filter((o) => !absent.has(o));
}

/**
 * What a whole-repository fetch brings for the work tree's recorded runs, in two rounds: the records,
 * environment records and snapshots first; then, asked again once those are here, the lockfile blobs
 * the environment records name and the files of directory snapshots.
 */
export function runObjectRounds(repo: Repo): (() => Oid[])[] {
  const lock = workTreeRunLock(repo);
  const first = runObjects(repo, lock, 'the work tree');
  return [() => [...first.objects, ...first.artifacts.map((a) => a.pointer.oid)], () => [...runObjects(repo, lock, 'the work tree').objects, ...snapshotFiles(repo, first.artifacts)]];
}

/**
 * The work tree's mlx.lock for push, fetch and gc (empty when there is none). One that does not parse
 * gives undefined unless `strict`: push then simply sends no run objects (mlx run and mlx runs name
 * the problem), but gc must refuse, since it would forget the runs.
 */
export function workTreeRunLock(repo: Repo, opts: { strict?: boolean } = {}): RunLock | undefined {
  try {
    return readRunLock(repo);
  } catch (err) {
    if (!isBadRunLock(err)) throw err;
    if (opts.strict) throw unreadableRunLock(err, 'in the work tree');
    return undefined;
  }
}

/** A commit's mlx.lock for gc (empty when it has none). One that does not parse stops gc unless `lenient`. */
export async function runLockAt(git: GitRepo, commit: string, opts: { lenient?: boolean } = {}): Promise<RunLock | undefined> {
  try {
    return await readRunLockAt(git, commit);
  } catch (err) {
    if (!isBadRunLock(err)) throw err;
    if (opts.lenient) return undefined;
    throw unreadableRunLock(err, `at commit ${commit.slice(0, 12)}`, ' (or --force to collect without its runs)');
  }
}

function unreadableRunLock(err: MlxError, where: string, orForce = ''): MlxError {
  return reworded(err, `${err.message} ${where} — gc keeps the runs it records and cannot read it${orForce}`, { hint: err.hint });
}
