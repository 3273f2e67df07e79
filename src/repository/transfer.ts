import path from 'node:path';
import type { Oid } from '../hash/oid.js';
import { isFileEntry, parseManifest, type ManifestEntry } from '../formats/manifest.js';
import { fetchObjects, type FetchSummary } from '../remote/fetch.js';
import { pushObjects, type PushSummary } from '../remote/push.js';
import { findDamagedCopies, markDamaged, type DamagedCopy } from '../remote/damage-check.js';
import { dropIncompleteRecipes } from '../remote/recipe-check.js';
import { RemoteIndex } from '../remote/remote-index.js';
import { commitsSince, openGit, pointersAt, remoteTips } from '../git/git-repo.js';
import type { Remote } from '../remote/remote.js';
import type { TransferProgress } from '../remote/transfer-progress.js';
import { E, MlxError } from '../util/errors.js';
import { checkout, type CheckoutResult } from '../workspace/checkout.js';
import { resolveRemote } from './remotes.js';
import type { Repo } from '../workspace/repo.js';
import { runObjects, workTreeRunLock } from '../run/run-objects.js';
import { selectTracked, type Selection } from '../workspace/targets.js';

export interface TransferOptions {
  remote?: string;
  jobs?: number;
  progress?: TransferProgress;
  /** Push: read back the remote's copies of what it already has, and send damaged ones again. */
  repair?: boolean;
}

/** The objects a selection needs: each file's oid; for directories the manifest and the files in scope. */
function manifestEntries(repo: Repo, s: Selection): ManifestEntry[] {
  const p = s.tracked.pointer;
  if (p.kind !== 'dir') return [];
  const entries = parseManifest(repo.store.readBytes(p.oid).toString('utf8'), `${p.oid} (${s.tracked.path})`).entries;
  if (s.sub === undefined) return entries;
  const part = entries.filter((e) => e.p === s.sub || e.p.startsWith(`${s.sub}/`));
  if (part.length === 0) throw new MlxError(E.PATH_NOT_FOUND, `${s.tracked.path}/${s.sub} is not part of ${s.tracked.path}`, { data: { path: `${s.tracked.path}/${s.sub}` } });
  return part;
}

/** The objects a selection needs, with the sizes its pointers and manifests record (manifests have none). */
function neededOids(repo: Repo, selection: Selection[], sizes?: Map<Oid, number>): Oid[] {
  const oids: Oid[] = [];
  for (const s of selection) {
    const p = s.tracked.pointer;
    oids.push(p.oid);
    if (p.kind === 'file') sizes?.set(p.oid, p.size);
    for (const e of manifestEntries(repo, s)) {
      if (!isFileEntry(e)) continue;
      oids.push(e.o);
      sizes?.set(e.o, e.s);
    }
  }
  return oids;
}

async function openIndex(repo: Repo, remote: Remote, jobs: number | undefined): Promise<RemoteIndex> {
  return RemoteIndex.load(remote, path.join(repo.store.root, 'remotes'), jobs ?? 8);
}

/** The run objects of the work tree's mlx.lock that are in the cache. */
function localRunObjects(repo: Repo): Oid[] {
  const r = runObjects(repo, workTreeRunLock(repo), 'the work tree');
  const oids = [...r.objects];
  for (const a of r.artifacts) {
    oids.push(a.pointer.oid);
    if (a.pointer.kind === 'dir' && repo.store.has(a.pointer.oid)) {
      for (const e of parseManifest(repo.store.readBytes(a.pointer.oid).toString('utf8'), a.pointer.oid).entries) if (isFileEntry(e)) oids.push(e.o);
    }
  }
  const absent = repo.store.missing(oids);
  return oids.filter((o) => !absent.has(o));
}

export interface PushResult extends PushSummary {
  remote: string;
  warnings: string[];
  /** With `repair`: damaged copies found on the remote, sent again and marked so readers skip them. */
  repaired: DamagedCopy[];
}

/** `mlx push`: sends what the selected pointers need and the remote lacks. */
export async function push(repo: Repo, cwd: string, paths: string[], opts: TransferOptions = {}): Promise<PushResult> {
  const sizes = new Map<Oid, number>();
  return send(repo, selectionObjects(repo, selectTracked(repo, cwd, paths), paths.length === 0, sizes), sizes, opts);
}

/**
 * The objects a push of `selection` sends, their recorded sizes added to `sizes`. Whole-repository
 * pushes also send what the recorded runs need (records, environments, inputs), as far as this cache
 * has them.
 */
function selectionObjects(repo: Repo, selection: Selection[], wholeRepository: boolean, sizes: Map<Oid, number>): Oid[] {
  const manifests = selection.filter((s) => s.tracked.pointer.kind === 'dir').map((s) => s.tracked.pointer.oid);
  const absent = repo.store.missing(manifests);
  if (absent.size > 0) {
    throw new MlxError(E.OBJECT_MISSING, `cannot push: the manifest ${[...absent][0]} is not in the local cache`, { hint: 'mlx fetch it first, or push from the machine that added the data' });
  }
  return [...neededOids(repo, selection, sizes), ...(wholeRepository ? localRunObjects(repo) : [])];
}

/**
 * Sends `oids` to the chosen remote. With `where` (object -> the path and commit that need it), an
 * object that is neither in the cache nor on the remote is reported by that name.
 */
async function send(repo: Repo, oids: Oid[], sizes: Map<Oid, number>, opts: TransferOptions, where?: Map<Oid, string>): Promise<PushResult> {
  const { name, remote } = await resolveRemote(repo, opts.remote);
  const index = await openIndex(repo, remote, opts.jobs);
  try {
    const pushOnce = () => pushObjects(repo.store, repo.newHasher, remote, index, oids, { jobs: opts.jobs, progress: opts.progress, sizes });
    if (!opts.repair) return { remote: name, ...(await pushOnce()), warnings: index.warnings, repaired: [] };
    const repaired: DamagedCopy[] = [];
    let summary: PushSummary | undefined;
    // A damaged recipe hides which chunks its file needs: once this push has published a good one,
    // those files are checked again (a second round at most, in practice).
    for (let check: Oid[] = oids, round = 0; round === 0 || (check.length > 0 && round < 3); round++) {
      const damage = await findDamagedCopies(remote, index, repo.newHasher, check, opts.jobs);
      // A damaged copy counts as absent, so the push sends the object again; a large file with a
      // damaged chunk or recipe is sent again whole (only the chunks the remote lacks travel).
      for (const oid of [...damage.damaged.map((d) => d.oid), ...damage.files]) index.drop(oid);
      const sent = round === 0 || damage.damaged.length > 0 ? await pushOnce() : undefined;
      if (sent) summary = summary ? addPushes(summary, sent) : sent;
      // Only now that good copies are published: readers skip the damaged ones from here on.
      await markDamaged(remote, damage.damaged);
      repaired.push(...damage.damaged);
      check = damage.uncheckedFiles;
    }
    return { remote: name, ...summary!, warnings: index.warnings, repaired };
  } catch (err) {
    const missing = where && err instanceof MlxError && err.code === E.OBJECT_MISSING ? (err.data as { oids?: Oid[] } | undefined)?.oids : undefined;
    if (!missing?.length) throw err;
    throw new MlxError(E.OBJECT_MISSING, `the data of ${where!.get(missing[0]!) ?? 'the work tree'} is neither in the cache nor on remote ${name} (${missing.length} object(s) in all)`, {
      hint: 'mlx push from the machine that added it, then git push again',
      data: { oids: missing },
    });
  }
}

/** Two pushes of one selection as one: what the second sent is added to the first's summary. */
function addPushes(a: PushSummary, b: PushSummary): PushSummary {
  return { ...a, uploadedObjects: a.uploadedObjects + b.uploadedObjects, packs: a.packs + b.packs, bytesSent: a.bytesSent + b.bytesSent, resentPacks: a.resentPacks + b.resentPacks };
}

/** One line git gives a pre-push hook: `<local ref> <local oid> <remote ref> <remote oid>`. */
export interface PushedRef {
  localRef: string;
  localOid: string;
  remoteOid: string;
}

const NO_COMMIT = /^0+$/;

/** The refs a `git push` is about to update, from the pre-push hook's standard input. */
export function parsePrePushInput(text: string): PushedRef[] {
  const refs: PushedRef[] = [];
  for (const line of text.split('\n')) {
    const [localRef, localOid, , remoteOid] = line.trim().split(/\s+/);
    if (!localRef || !localOid || !remoteOid) continue;
    refs.push({ localRef, localOid, remoteOid });
  }
  return refs;
}

/**
 * Before `git push` publishes commits, the data of every one of them goes to the mlx remote: the
 * pointers of each commit being pushed (those the git remote does not have yet), the work tree's
 * pointers and the recorded runs — as git-lfs does in its pre-push hook. Pushing only the work tree
 * would publish older commits whose data nobody can pull. Data that is neither in the cache nor on
 * the remote stops the push, naming the path and commit.
 */
export async function pushForGitPush(repo: Repo, refs: PushedRef[], gitRemote: string, opts: TransferOptions = {}): Promise<PushResult & { commits: number }> {
  const git = openGit(repo.root);
  const stop = new Set(await remoteTips(git, gitRemote));
  for (const r of refs) if (!NO_COMMIT.test(r.remoteOid)) stop.add(r.remoteOid);
  const commits = new Set<string>();
  for (const r of refs) {
    if (NO_COMMIT.test(r.localOid)) continue; // a branch being deleted
    for (const c of await commitsSince(git, r.localOid, stop)) commits.add(c);
  }
  const sizes = new Map<Oid, number>();
  const oids = selectionObjects(repo, selectTracked(repo, repo.root, []), true, sizes);
  /** Where each object is needed, for the message when it is nowhere. */
  const where = new Map<Oid, string>();
  const need = (oid: Oid, at: string) => {
    oids.push(oid);
    if (!where.has(oid)) where.set(oid, at);
  };
  const warnings: string[] = [];
  for (const commit of commits) {
    const at = await pointersAt(git, commit);
    for (const p of at.problems) warnings.push(`${p.message} (not pushed)`);
    for (const t of at.tracked) {
      const label = `${t.path} at ${commit.slice(0, 12)}`;
      need(t.pointer.oid, label);
      if (t.pointer.kind === 'file') sizes.set(t.pointer.oid, t.pointer.size);
      // A manifest that is only on the remote: its files were pushed with it.
      else if (repo.store.has(t.pointer.oid)) {
        for (const e of parseManifest(repo.store.readBytes(t.pointer.oid).toString('utf8'), label).entries) {
          if (!isFileEntry(e)) continue;
          need(e.o, `${label}/${e.p}`);
          sizes.set(e.o, e.s);
        }
      }
    }
  }
  const res = await send(repo, oids, sizes, opts, where);
  return { ...res, warnings: [...res.warnings, ...warnings], commits: commits.size };
}

export interface FetchResult extends FetchSummary {
  remote: string;
  warnings: string[];
}

/**
 * `mlx fetch`: brings the objects the selected pointers need into the cache. Directory manifests come
 * first (they say which files a directory needs); a path inside a tracked directory fetches only its
 * own objects.
 */
export async function fetch(repo: Repo, cwd: string, paths: string[], opts: TransferOptions = {}): Promise<FetchResult> {
  return fetchSelection(repo, selectTracked(repo, cwd, paths), paths.length === 0, opts);
}

/**
 * Brings the objects `selection` needs into the cache; its pointers need not be in the work tree
 * (`checkout <rev>` fetches a revision's data before it writes that revision's pointers). With
 * `wholeRepository`, what the work tree's recorded runs need comes too.
 */
export async function fetchSelection(repo: Repo, selection: Selection[], wholeRepository: boolean, opts: TransferOptions = {}): Promise<FetchResult> {
  const { name, remote } = await resolveRemote(repo, opts.remote);
  const index = await openIndex(repo, remote, opts.jobs);
  const first = await fetchObjects(repo.store, repo.newHasher, remote, index, selection.map((s) => s.tracked.pointer.oid), { jobs: opts.jobs, progress: opts.progress });
  const manifestsMissing = new Set(first.missingOnRemote);
  const withManifest = selection.filter((s) => !manifestsMissing.has(s.tracked.pointer.oid));
  const files: Oid[] = [];
  for (const s of withManifest) for (const e of manifestEntries(repo, s)) if (isFileEntry(e)) files.push(e.o);
  const second = await fetchObjects(repo.store, repo.newHasher, remote, index, files, { jobs: opts.jobs, progress: opts.progress });
  // Whole-repository fetches also bring what the recorded runs need, as far as the remote has it.
  if (wholeRepository) {
    const lockRuns = runObjects(repo, workTreeRunLock(repo), 'the work tree');
    const top = [...lockRuns.objects, ...lockRuns.artifacts.map((a) => a.pointer.oid)].filter((o) => index.has(o));
    const extra = await fetchObjects(repo.store, repo.newHasher, remote, index, top, { jobs: opts.jobs });
    // Asked again now that the environment records are here: they name their lockfile blobs.
    const envBlobs = runObjects(repo, workTreeRunLock(repo), 'the work tree').objects;
    const children: Oid[] = [...envBlobs];
    for (const a of lockRuns.artifacts) {
      if (a.pointer.kind !== 'dir' || !repo.store.has(a.pointer.oid)) continue;
      for (const e of parseManifest(repo.store.readBytes(a.pointer.oid).toString('utf8'), a.pointer.oid).entries) if (isFileEntry(e)) children.push(e.o);
    }
    const more = await fetchObjects(repo.store, repo.newHasher, remote, index, children.filter((o) => index.has(o)), { jobs: opts.jobs });
    second.fetched += extra.fetched + more.fetched;
    second.bytesReceived += extra.bytesReceived + more.bytesReceived;
    second.bytesReused += extra.bytesReused + more.bytesReused;
  }
  const result: FetchResult = {
    remote: name,
    warnings: index.warnings,
    requested: first.requested + second.requested,
    alreadyLocal: first.alreadyLocal + second.alreadyLocal,
    fetched: first.fetched + second.fetched,
    bytesReceived: first.bytesReceived + second.bytesReceived,
    bytesReused: first.bytesReused + second.bytesReused,
    missingOnRemote: [...first.missingOnRemote, ...second.missingOnRemote],
  };
  if (result.missingOnRemote.length > 0) {
    throw new MlxError(E.OBJECT_MISSING, `${result.missingOnRemote.length} object(s) are not on remote ${name} (first: ${result.missingOnRemote[0]}); fetched ${result.fetched} other(s)`, {
      hint: result.warnings.length ? `the remote is damaged (${result.warnings[0]}): run mlx push where the data is to repair it` : 'they were never pushed: run mlx push where the data was added',
      data: { ...result },
    });
  }
  return result;
}

export interface PullResult {
  fetch: FetchResult;
  checkout: CheckoutResult;
}

/** `mlx pull`: fetch, then checkout the same paths. */
export async function pull(repo: Repo, cwd: string, paths: string[], opts: TransferOptions & { force?: boolean } = {}): Promise<PullResult> {
  const fetched = await fetch(repo, cwd, paths, opts);
  const done = await checkout(repo, cwd, paths, { force: opts.force });
  return { fetch: fetched, checkout: done };
}

export interface RemoteStatus {
  remote: string;
  warnings: string[];
  paths: { path: string; objects: number; notOnRemote: number; notInCache: number }[];
}

/** `mlx status --remote`: per tracked path, how many of its objects the remote lacks. */
export async function remoteStatus(repo: Repo, cwd: string, paths: string[], remoteName?: string): Promise<RemoteStatus> {
  const selection = selectTracked(repo, cwd, paths);
  const { name, remote } = await resolveRemote(repo, remoteName);
  const index = await openIndex(repo, remote, undefined);
  const out: RemoteStatus = { remote: name, paths: [], warnings: index.warnings };
  const needed = selection.map((s) => ({
    s,
    oids: repo.store.has(s.tracked.pointer.oid) || s.tracked.pointer.kind === 'file' ? neededOids(repo, [s]) : [s.tracked.pointer.oid],
  }));
  await dropIncompleteRecipes(remote, index, needed.flatMap((n) => n.oids));
  for (const { s, oids } of needed) {
    const local = repo.store.missing(oids);
    out.paths.push({ path: s.tracked.path, objects: oids.length, notOnRemote: oids.filter((o) => !index.has(o)).length, notInCache: local.size });
  }
  return out;
}
