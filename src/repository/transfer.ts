import path from 'node:path';
import type { Oid } from '../hash/oid.js';
import { isFileEntry, parseManifest, type ManifestEntry } from '../formats/manifest.js';
import { fetchObjects, type FetchSummary } from '../remote/fetch.js';
import { OidList } from '../remote/oid-list.js';
import { pushObjects, type PushSummary } from '../remote/push.js';
import { findDamagedCopies, markDamaged, type DamagedCopy } from '../remote/damage-check.js';
import { RemoteIndex } from '../remote/remote-index.js';
import type { Remote } from '../remote/remote.js';
import type { TransferProgress } from '../remote/transfer-progress.js';
import { E, isMlxError, objectMissing, pathNotFound } from '../util/errors.js';
import { manifestOf } from '../workspace/manifest-reads.js';
import type { Repo } from '../workspace/repo.js';
import { StatIndex } from '../workspace/stat-index.js';
import { resolveRemote } from './remotes.js';
import type { Selection } from '../workspace/targets.js';
import { appendAll } from '../util/arrays.js';

/**
 * The engine under push, fetch, pull, `checkout <rev>` and the pre-push hook: which objects a
 * selection of tracked paths needs, and moving them between the cache and a configured remote.
 * Which selection, and which extra objects (run records), is the caller's choice.
 */

export interface TransferOptions {
  remote?: string;
  jobs?: number;
  progress?: TransferProgress;
  /** Push: read back the remote's copies of what it already has, and send damaged ones again. */
  repair?: boolean;
}

/**
 * The objects a selection needs: each file's oid; for directories the manifest and the files in scope.
 * `shared` reads the manifest through the parse a pull shares with its checkout; without it the
 * entries are the caller's alone, and go once it lets go of them (a push keeps only their oids).
 */
export function manifestEntries(repo: Repo, s: Selection, shared = true): readonly ManifestEntry[] {
  const p = s.tracked.pointer;
  if (p.kind !== 'dir') return [];
  const label = `${p.oid} (${s.tracked.path})`;
  const entries = shared ? manifestOf(repo, p.oid, label) : parseManifest(repo.store.readBytes(p.oid).toString('utf8'), label).entries;
  if (s.sub === undefined) return entries;
  const part = entries.filter((e) => e.p === s.sub || e.p.startsWith(`${s.sub}/`));
  if (part.length === 0 && !s.mayBeAbsent) throw pathNotFound(`${s.tracked.path}/${s.sub} is not part of ${s.tracked.path}`, { path: `${s.tracked.path}/${s.sub}` });
  return part;
}

/** The objects a selection needs, with the sizes its pointers and manifests record (manifests have none). */
export function neededOids(repo: Repo, selection: Selection[], sizes?: Map<Oid, number>): Oid[] {
  const oids: Oid[] = [];
  eachNeeded(repo, selection, (oid, size) => {
    oids.push(oid);
    if (size !== undefined) sizes?.set(oid, size);
  });
  return oids;
}

/**
 * Hands over each object a selection needs and its recorded size, if any; a manifest's entries go once
 * it is read. With `completeInCache`, those of a manifest it says is whole in the cache are handed over
 * as known to be there.
 */
function eachNeeded(repo: Repo, selection: Selection[], take: (oid: Oid, size?: number, inCache?: boolean) => void, completeInCache?: (manifest: Oid) => boolean): void {
  for (const s of selection) {
    const p = s.tracked.pointer;
    take(p.oid, p.kind === 'file' ? p.size : undefined);
    const inCache = p.kind === 'dir' && completeInCache?.(p.oid) === true;
    for (const e of manifestEntries(repo, s, false)) if (isFileEntry(e)) take(e.o, e.s, inCache);
  }
}

/** The remote's pack index, cached under the store so repositories sharing a cache share it too. */
export async function openRemoteIndex(repo: Repo, remote: Remote, jobs?: number): Promise<RemoteIndex> {
  return RemoteIndex.load(remote, path.join(repo.store.root, 'remotes'), jobs ?? 8);
}

/** The objects a push of `selection` sends, each once, with their recorded sizes; every manifest must be in the cache. */
export function selectionObjects(repo: Repo, selection: Selection[]): OidList {
  const manifests = selection.filter((s) => s.tracked.pointer.kind === 'dir').map((s) => s.tracked.pointer.oid);
  const absent = repo.store.missing(manifests);
  if (absent.size > 0) {
    throw objectMissing(`cannot push: the manifest ${[...absent][0]} is not in the local cache`, { hint: 'mlx fetch it first, or push from the machine that added the data' });
  }
  // A manifest add or status found whole in the cache, which has not changed since (its contents
  // stamp, 256 stats), vouches for its objects: a push need not list the cache to find them.
  const index = StatIndex.load(repo.layout.statIndexFile);
  let stamp: string | undefined;
  const completeInCache = (manifest: Oid) => index.knownComplete(manifest, (stamp ??= repo.store.contentsStamp()));
  const objects = new OidList();
  eachNeeded(repo, selection, (oid, size, inCache) => objects.add(oid, size, inCache), completeInCache);
  return objects;
}

export interface PushResult extends PushSummary {
  remote: string;
  warnings: string[];
  /** With `repair`: damaged copies found on the remote, sent again and marked so readers skip them. */
  repaired: DamagedCopy[];
}

/** A remote resolved from the configuration: its name and an open client. */
export type ChosenRemote = Awaited<ReturnType<typeof resolveRemote>>;

/**
 * Sends `objects` to the chosen remote (`target`, or the one `opts` names). With `where` (object -> the path and commit that need it), an object that
 * is neither in the cache nor on the remote is reported by that name.
 */
export async function sendObjects(repo: Repo, objects: OidList, opts: TransferOptions, where?: Map<Oid, string>, target?: ChosenRemote): Promise<PushResult> {
  const { name, remote } = target ?? (await resolveRemote(repo, opts.remote));
  opts.progress?.({ phase: 'reading the remote index' });
  const index = await openRemoteIndex(repo, remote, opts.jobs);
  opts.progress?.({ phase: 'checking the remote' });
  try {
    const pushOnce = () => pushObjects(repo.store, repo.newHasher, remote, index, objects, { jobs: opts.jobs, progress: opts.progress });
    if (!opts.repair) return { remote: name, ...(await pushOnce()), warnings: index.warnings, repaired: [] };
    const repaired: DamagedCopy[] = [];
    let summary: PushSummary | undefined;
    // Readers do not list packs/: a pack file lost by hand is found here, and its objects sent again.
    await index.forgetMissingPackFiles();
    // A damaged recipe hides which chunks its file needs: once this push has published a good one,
    // those files are checked again (a second round at most, in practice).
    for (let check: Oid[] = [...objects], round = 0; round === 0 || (check.length > 0 && round < 3); round++) {
      const damage = await findDamagedCopies(remote, index, repo.newHasher, check, opts.jobs);
      // A damaged copy counts as absent, so the push sends the object again; a large file with a
      // damaged chunk or recipe is sent again whole (only the chunks the remote lacks travel).
      for (const oid of [...damage.damaged.map((d) => d.oid), ...damage.files]) index.drop(oid);
      const sent = round === 0 || damage.damaged.length > 0 ? await pushOnce() : undefined;
      if (sent) summary = summary ? addPushes(summary, sent) : sent;
      // Only now that good copies are published: readers skip the damaged ones from here on.
      await markDamaged(remote, damage.damaged);
      appendAll(repaired, damage.damaged);
      check = damage.uncheckedFiles;
    }
    return { remote: name, ...summary!, warnings: index.warnings, repaired };
  } catch (err) {
    const missing = where && isMlxError(err, E.OBJECT_MISSING) ? err.data.oids : undefined;
    if (!missing?.length) throw err;
    throw objectMissing(`the data of ${where!.get(missing[0]!) ?? 'the work tree'} is neither in the cache nor on remote ${name} (${missing.length} object(s) in all)`, {
      hint: 'mlx push from the machine that added it, then git push again',
      oids: missing,
    });
  }
}

/** Two pushes of one selection as one: what the second sent is added to the first's summary. */
function addPushes(a: PushSummary, b: PushSummary): PushSummary {
  return { ...a, uploadedObjects: a.uploadedObjects + b.uploadedObjects, packs: a.packs + b.packs, bytesSent: a.bytesSent + b.bytesSent, resentPacks: a.resentPacks + b.resentPacks };
}

export interface FetchResult extends FetchSummary {
  remote: string;
  warnings: string[];
}

/**
 * Brings the objects `selection` needs into the cache; its pointers need not be in the work tree
 * (`checkout <rev>` fetches a revision's data before it writes that revision's pointers). Directory
 * manifests come first (they say which files a directory needs). Each of `afterwards` is asked, in
 * order and only once the objects before it arrived, for more objects to bring where the remote has
 * them (run records, then the environment blobs those records name).
 */
export async function fetchSelection(repo: Repo, selection: Selection[], opts: TransferOptions = {}, afterwards: (() => Oid[])[] = []): Promise<FetchResult> {
  const { name, remote } = await resolveRemote(repo, opts.remote);
  opts.progress?.({ phase: 'reading the remote index' });
  const index = await openRemoteIndex(repo, remote, opts.jobs);
  opts.progress?.({ phase: 'downloading' });
  const first = await fetchObjects(repo.store, repo.newHasher, remote, index, selection.map((s) => s.tracked.pointer.oid), { jobs: opts.jobs, progress: opts.progress });
  const manifestsMissing = new Set(first.missingOnRemote);
  const withManifest = selection.filter((s) => !manifestsMissing.has(s.tracked.pointer.oid));
  const files: Oid[] = [];
  for (const s of withManifest) for (const e of manifestEntries(repo, s)) if (isFileEntry(e)) files.push(e.o);
  opts.progress?.({ phase: 'downloading directories' });
  const second = await fetchObjects(repo.store, repo.newHasher, remote, index, files, { jobs: opts.jobs, progress: opts.progress });
  if (afterwards.length > 0) opts.progress?.({ phase: 'downloading run records' });
  for (const more of afterwards) {
    const extra = await fetchObjects(repo.store, repo.newHasher, remote, index, more().filter((o) => index.has(o)), { jobs: opts.jobs });
    second.fetched += extra.fetched;
    second.bytesReceived += extra.bytesReceived;
    second.bytesReused += extra.bytesReused;
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
    throw objectMissing(`${result.missingOnRemote.length} object(s) are not on remote ${name} (first: ${result.missingOnRemote[0]}); fetched ${result.fetched} other(s)`, {
      hint: result.warnings.length ? `the remote is damaged (${result.warnings[0]}): run mlx push where the data is to repair it` : 'they were never pushed: run mlx push where the data was added',
      ...result,
    });
  }
  return result;
}
