import crypto from 'node:crypto';
import fs from 'node:fs';
import { performance } from 'node:perf_hooks';
import type { HasherFactory } from '../hash/blake3.js';
import { hashBytes } from '../hash/hash-file.js';
import { oidFromHex, type Oid } from '../hash/oid.js';
import { serializeRecipe, type RecipeChunk } from '../formats/recipe.js';
import { saveRecipe } from '../store/chunk-map.js';
import { hashedChunksOfFile } from '../store/chunk-thread.js';
import { DEFAULT_CHUNKER_OPTIONS } from '../store/chunker.js';
import type { ObjectStore } from '../store/object-store.js';
import { isErrno, MlxError, objectCorrupt, objectMissing, remoteFailed } from '../util/errors.js';
import { failpoint } from '../util/failpoint.js';
import { DONE, runStepsAsync, type AsyncStep } from '../util/steps.js';
import { consolidateIndexes, PUSH_POLICY } from './consolidate.js';
import { indexKey, PACKS_PREFIX } from './layout.js';
import { prepareLayout } from './layout-upgrade.js';
import { PackUploads } from './pack-uploads.js';
import { addRound, packsGone, planSends } from './push-plan.js';
import { dropIncompleteRecipes } from './recipe-check.js';
import { doomedPacks, recordKeep } from './remote-gc.js';
import type { Remote } from './remote.js';
import { RemoteIndex } from './remote-index.js';
import { OidList } from './oid-list.js';
import { ThreadedReadAhead } from './read-thread.js';
import { SmallObjectFeed, SmallObjectReader, type ReadAheadItem } from './small-object-reader.js';
import { packsAtRisk, SWEEP_TRACE_MS } from './sweep-records.js';
import type { TransferProgress } from './transfer-progress.js';

export interface PushOptions {
  jobs?: number;
  progress?: TransferProgress;
  /** Roll to a new pack past this many bytes (default 16 MiB). */
  packTarget?: number;
  /** Files at least this large are split into content-defined chunks (default 4 MiB). */
  chunkThreshold?: number;
  /**
   * Object sizes as manifests and pointers record them, for objects given as an array (a list carries
   * its own): a small object is then read with a single read call, and the progress total needs no
   * stat per object. What is read is hashed either way.
   */
  sizes?: ReadonlyMap<Oid, number>;
}

export interface PushSummary {
  /** Objects the selection needs on the remote. */
  objects: number;
  /** Of those, already there before this push. */
  alreadyOnRemote: number;
  /** Objects (blobs, chunks, recipes) written into new packs. */
  uploadedObjects: number;
  packs: number;
  bytesSent: number;
  /** Bytes not sent because the remote (or this push) already had them: whole objects and chunks. */
  bytesDeduplicated: number;
  /** Packs a concurrent remote gc removed while this push ran, whose objects it then sent again. */
  resentPacks: number;
}

const MIB = 1024 * 1024;

/** Rounds of sending again what a concurrent remote gc removed, before giving up. */
const MAX_ROUNDS = 5;

/** One push, across its rounds. */
interface Push {
  store: ObjectStore;
  newHasher: HasherFactory;
  remote: Remote;
  index: RemoteIndex;
  /** The objects, each once, with their recorded sizes. */
  objects: OidList;
  opts: PushOptions;
  jobs: number;
  packTarget: number;
  chunkThreshold: number;
  started: number;
  round: number;
  /** Every pack this push's data lives in: relied on, or uploaded by it. */
  ours: Set<string>;
  /** The packs this push published. */
  published: Set<string>;
  /** The rounds so far, added up. */
  summary: PushSummary | undefined;
  /** Packs of `ours` found gone after this round. */
  gone: Set<string>;
  /** Packs of the last round not published because a removal record names their name. */
  withheld: number;
  /** Set once a round withheld packs: each pack after that starts with an empty member of this name. */
  salt?: string;
}

/**
 * Sends objects to a remote as packs. Small objects are batched; large files are split into
 * content-defined chunks so a new version sends only the chunks the remote lacks, plus a recipe.
 * Each pack is uploaded, its size checked, and only then its index published: a push killed at any
 * point leaves no index that names missing data, and running it again sends what is still missing.
 *
 * Then, against a concurrent `gc --remote` (spec/lifecycle.md): a keep record names every pack the
 * data lives in, the sweep records say which of them a sweep may have removed meanwhile, those are
 * checked, and what vanished is sent again — so a push that returns has all its data on the remote.
 */
export async function pushObjects(store: ObjectStore, newHasher: HasherFactory, remote: Remote, index: RemoteIndex, oids: OidList | Oid[], opts: PushOptions = {}): Promise<PushSummary> {
  const objects = Array.isArray(oids) ? OidList.of(oids, opts.sizes) : oids;
  const push: Push = {
    store, newHasher, remote, index, objects, opts,
    jobs: Math.max(1, opts.jobs ?? 4),
    packTarget: opts.packTarget ?? 16 * MIB,
    chunkThreshold: opts.chunkThreshold ?? 4 * MIB,
    started: performance.now(),
    round: 1,
    ours: new Set(),
    published: new Set(),
    summary: undefined,
    gone: new Set(),
    withheld: 0,
  };
  while ((await runStepsAsync(push, PUSH_ROUND)) !== DONE) push.round++;
  if (push.summary!.packs > 0) await consolidateAfterPush(push);
  return push.summary!;
}

/**
 * Each push adds a pack index; once enough have no consolidated copy, the push that made them so
 * consolidates them, so that a fresh clone reads a handful of files, not one per push. Its data is
 * on the remote already: a consolidation that fails is a warning (the next push tries again).
 */
async function consolidateAfterPush({ remote, index, newHasher }: Push): Promise<void> {
  try {
    const done = await consolidateIndexes(remote, index.cacheRoot, newHasher, PUSH_POLICY);
    if (done.abandoned) index.warnings.push(`did not consolidate the pack indexes of ${remote.url}: ${done.abandoned}`);
  } catch (err) {
    if (!(err instanceof MlxError)) throw err;
    index.warnings.push(`could not consolidate the pack indexes of ${remote.url}: ${err.message}`);
  }
}

/** A round of a push; rounds repeat while a concurrent remote gc removes what they sent or rely on. */
const PUSH_ROUND: AsyncStep<Push>[] = [sendMissingObjects, letGoOfForgottenPacks, keepOurPacks, findVanishedPacks, forgetVanishedPacks];

/**
 * Packs are named by their bytes, so sending again exactly the objects of a removed pack makes a pack
 * of the removed pack's name, which its removal record hides: such a pack is withheld, and its
 * objects are sent again at once in salted packs, whose names differ.
 */
async function sendMissingObjects(push: Push): Promise<void> {
  for (let salted = 0; ; salted++) {
    push.withheld = 0;
    const sent = await sendRound(push);
    push.summary = push.summary ? addRound(push.summary, sent) : sent;
    if (push.withheld === 0) return;
    if (salted === MAX_ROUNDS) throw remoteFailed(`${push.withheld} pack(s) of this push kept getting the name of a pack removed from ${push.remote.url}`);
    push.salt = crypto.randomBytes(16).toString('hex');
  }
}

/** Packs the index no longer holds (a pending remote gc plans to remove them) are not this push's to keep. */
function letGoOfForgottenPacks({ ours, index }: Push) {
  for (const hex of [...ours]) if (!index.packs.has(hex)) ours.delete(hex);
  if (ours.size === 0) return DONE;
}

async function keepOurPacks({ remote, ours }: Push): Promise<void> {
  await failpoint('push.before-keep');
  await recordKeep(remote, ours);
}

/**
 * The packs among `ours` that a sweep may have removed and that are gone (index or pack file), waiting
 * first for live sweeps that may still remove one. Once the push has run for half the time a sweep
 * record is traced, every one of `ours` is checked.
 */
async function findVanishedPacks(push: Push) {
  await failpoint('push.before-recheck');
  const atRisk = await packsAtRisk(push.remote, push.ours, performance.now() - push.started > SWEEP_TRACE_MS / 2);
  if (atRisk.size === 0) return DONE;
  // What the remote publishes now (removal records subtracted), and the pack files as they are.
  const now = await RemoteIndex.load(push.remote, push.index.cacheRoot, push.jobs);
  push.gone = packsGone(atRisk, await push.remote.list(PACKS_PREFIX), push.index.packs, now.packs);
  if (push.gone.size === 0) return DONE;
  // An index this push published under a name a removal record names serves no reader; left listed,
  // it would keep that record from being retired.
  for (const hex of push.gone) if (now.gone.has(hex) && push.published.has(hex)) await push.remote.delete(indexKey(oidFromHex(hex)));
}

/** Their objects count as absent now: the next round sends them again. */
function forgetVanishedPacks(push: Push): void {
  const { gone, remote, index, ours } = push;
  if (push.round === MAX_ROUNDS) {
    throw remoteFailed(`${gone.size} pack(s) this push sent or relied on kept vanishing from ${remote.url} while it ran`, {
      hint: 'a remote gc is removing them: run mlx push again once it is done',
    });
  }
  push.summary!.resentPacks += gone.size;
  // A removal record may name them: what is sent again must not be published under their names.
  index.markGone(gone);
  for (const hex of gone) ours.delete(hex);
}

/** One pass of a push: what it sends of the objects, and what it finds already there. */
interface Round {
  push: Push;
  /** The objects, each once. */
  wanted: OidList;
  /** Where in `wanted` those the remote lacks are. */
  todo: number[];
  summary: PushSummary;
}

/** One pass: sends what the remote lacks of the push's objects; adds to `ours` every pack their data lives in. */
async function sendRound(push: Push): Promise<PushSummary> {
  const round: Round = {
    push,
    wanted: push.objects,
    todo: [],
    summary: { objects: 0, alreadyOnRemote: 0, uploadedObjects: 0, packs: 0, bytesSent: 0, bytesDeduplicated: 0, resentPacks: 0 },
  };
  await runStepsAsync(round, SEND_ROUND);
  return round.summary;
}

const SEND_ROUND: AsyncStep<Round>[] = [forgetDoomedPacks, dropUnbuildableRecipes, planWhatToSend, requireLocalObjects, prepareRemote, announceTotals, packAndUpload];

/** Packs a pending remote gc plans to remove are not relied on: their objects are sent again. */
async function forgetDoomedPacks({ push: { remote, index } }: Round): Promise<void> {
  index.forget(await doomedPacks(remote));
  await failpoint('push.after-read-plans');
}

/** A large file whose recipe names chunks the remote lost is sent again; a whole one relies on its chunks' packs. */
async function dropUnbuildableRecipes({ push: { remote, index, jobs, ours }, wanted }: Round): Promise<void> {
  await dropIncompleteRecipes(remote, index, wanted, jobs, ours);
}

function planWhatToSend(round: Round) {
  const plan = planSends(round.push.index, round.wanted);
  for (const hex of plan.reliedOn) round.push.ours.add(hex);
  round.todo = plan.todo;
  Object.assign(round.summary, { objects: round.wanted.length, alreadyOnRemote: plan.alreadyOnRemote, bytesDeduplicated: plan.bytesDeduplicated });
  if (round.todo.length === 0) return DONE;
}

/**
 * Asked one cache folder at a time, so that the oids of a folder's objects only are strings at once.
 * Objects the caller vouched for (a manifest known complete in the cache as it is now) are not asked.
 */
function requireLocalObjects({ push: { store }, wanted, todo }: Round): void {
  const byFan: number[][] = Array.from({ length: 256 }, () => []);
  let asked = 0;
  for (const i of todo) {
    if (wanted.knownInCacheAt(i)) continue;
    byFan[wanted.fanAt(i)]!.push(i);
    asked++;
  }
  const missing = new Set<Oid>();
  for (const fan of byFan) if (fan.length > 0) for (const oid of store.missing(fan.map((i) => wanted.oidAt(i)), { outOf: asked })) missing.add(oid);
  if (missing.size > 0) {
    // In the order of the selection, as the message names the first.
    const absent = new Set(todo.map((i) => wanted.oidAt(i)).filter((oid) => missing.has(oid)));
    throw objectMissing(`${absent.size} object(s) to push are not in the local cache (first: ${[...absent][0]})`, {
      hint: 'the data was never added here; push from the machine that has it, or mlx fetch it first',
      oids: [...absent],
    });
  }
}

async function prepareRemote({ push: { remote, index, newHasher } }: Round): Promise<void> {
  await prepareLayout(remote, index.cacheRoot, newHasher, true);
}

function announceTotals({ push: { store, opts }, wanted, todo }: Round): void {
  const sizeOf = (i: number) => wanted.sizeAt(i) ?? fs.statSync(store.pathOf(wanted.oidAt(i))).size;
  // Objects count as they go into packs; packs upload as they fill, at most `jobs` behind.
  if (opts.progress) opts.progress({ phase: 'uploading', totalFiles: todo.length, totalBytes: todo.reduce((n, i) => n + sizeOf(i), 0) });
}

/** What packing one round keeps track of. */
interface Packing {
  round: Round;
  uploads: PackUploads;
  reader: SmallObjectReader;
  /** Chunks packed by this push, also in packs still uploading: a repeated chunk is sent once. */
  packedHere: Set<Oid>;
}

/** Packs every object the remote lacks, a small one whole, a large one as its new chunks and a recipe. */
async function packAndUpload(round: Round): Promise<void> {
  const { push, summary } = round;
  const uploads = new PackUploads(push.remote, push.index, push.newHasher, {
    jobs: push.jobs,
    packTarget: push.packTarget,
    largestMember: Math.max(push.chunkThreshold, DEFAULT_CHUNKER_OPTIONS.max),
    // Packs are named by content: re-sending a doomed pack's objects can recreate that very pack,
    // which the keep record then saves from the sweep; a new pack can be planned as soon as it is
    // published. Both are this push's.
    onPublished: (hex) => {
      push.ours.add(hex);
      push.published.add(hex);
    },
    salt: push.salt,
  });
  const packing: Packing = { round, uploads, reader: new SmallObjectReader(push.chunkThreshold), packedHere: new Set() };
  // Small objects whose size the pointers and manifests record; read ahead, several at once, when the disk is slow.
  const { wanted, todo } = round;
  const itemAt = (i: number) => ({ file: push.store.pathOf(wanted.oidAt(todo[i]!)), size: wanted.sizeAt(todo[i]!) });
  const feed = new SmallObjectFeed(todo.length, itemAt, { limit: push.chunkThreshold });
  let threaded: ThreadedReadAhead | undefined;
  try {
    for (let i = 0; i < todo.length; i++) {
      const oid = wanted.oidAt(todo[i]!);
      if (i === PROBE_READS) threaded = readOnThread(push, feed, todo.length, itemAt);
      const hashed = threaded?.take(i);
      const early = threaded ? hashed?.bytes : await feed.take(i);
      const small = early !== undefined && (hashed ? hashed.oid : hashBytes(push.newHasher, early)) === oid ? early : readSmall(packing, oid, wanted.sizeAt(todo[i]!));
      await packOne(packing, oid, small);
    }
  } finally {
    threaded?.close();
  }
  push.opts.progress?.({ phase: 'finishing uploads' });
  await uploads.finish();
  summary.uploadedObjects += uploads.objects;
  summary.packs += uploads.packs;
  summary.bytesSent += uploads.bytesSent;
  push.withheld = uploads.withheld;
}

/** The first objects are read on this thread; their reads say whether the rest come from the page cache. */
const PROBE_READS = 64;
/** Below this many objects left, a reading thread does not pay for its start. */
const THREAD_FROM = 1024;

/**
 * Reads the rest of the objects on a second thread that also hashes them, while this one packs: when
 * they come from the page cache (reads waiting on the disk go on overlapping each other in the feed's
 * read-ahead instead), there are enough of them, and the native BLAKE3 binding can be loaded there.
 */
function readOnThread(push: Push, feed: SmallObjectFeed, count: number, itemAt: (i: number) => ReadAheadItem): ThreadedReadAhead | undefined {
  const native = push.newHasher.nativeModule;
  if (feed.readingAhead || native === undefined || count - PROBE_READS < THREAD_FROM) return undefined;
  return new ThreadedReadAhead(count, itemAt, push.chunkThreshold, native, PROBE_READS);
}

/** Packs one object: a small one from its bytes, a large one as its chunks and recipe. */
async function packOne(packing: Packing, oid: Oid, small: Buffer | undefined): Promise<void> {
  const { uploads, round: { push } } = packing;
  if (small) {
    uploads.add(oid, 'b', small);
    push.opts.progress?.({ files: 1, bytes: small.length });
  } else {
    await packLargeFile(packing, oid);
    push.opts.progress?.({ files: 1 });
  }
  await uploads.next();
}

/** A small object's bytes, checked against its oid (never upload a wrong name), or undefined for a large one. */
function readSmall({ round: { push }, reader }: Packing, oid: Oid, hint: number | undefined): Buffer | undefined {
  const { store, newHasher } = push;
  const file = store.pathOf(oid);
  let bytes: Buffer | undefined;
  try {
    bytes = reader.read(file, hint);
  } catch (err) {
    // Gone since it was vouched for or looked for (a gc, or a hand, in the meantime).
    if (isErrno(err, 'ENOENT')) throw objectMissing(`object ${oid} to push left the local cache while the push ran`, { hint: 'add or fetch it again, then push again', oids: [oid] });
    throw err;
  }
  if (bytes === undefined || hashBytes(newHasher, bytes) === oid) return bytes;
  if (hint !== undefined) {
    // The recorded size may be wrong (a hand-edited pointer): read the file whole and look again.
    bytes = reader.read(file);
    if (bytes === undefined || hashBytes(newHasher, bytes) === oid) return bytes;
  }
  store.verify(oid); // throws OBJECT_CORRUPT and quarantines the object
  throw objectCorrupt(`cache object ${oid} changed while it was being read`, { oid });
}

/**
 * Packs the chunks of a large file that neither the remote nor this push has yet, then its recipe.
 * One pass: a worker thread cuts the chunks and another hashes the whole file (hashedChunksOfFile)
 * while this one names and packs each new chunk. Chunks are named by their own bytes, so even a
 * corrupt local file uploads no wrongly named chunk; its recipe, which claims the whole, is added only
 * once the whole-file hash matches.
 */
async function packLargeFile({ round: { push, summary }, uploads, packedHere }: Packing, oid: Oid): Promise<void> {
  const { store, newHasher, index, opts } = push;
  const recipe: RecipeChunk[] = [];
  let whole: Oid | undefined;
  for await (const { chunk, oid: chunkOid, keep, fileOid } of hashedChunksOfFile(newHasher, store.pathOf(oid))) {
    recipe.push([chunkOid, chunk.length]);
    whole = fileOid;
    if (index.has(chunkOid) || packedHere.has(chunkOid)) {
      summary.bytesDeduplicated += chunk.length;
      const loc = index.locate(chunkOid);
      if (loc) push.ours.add(loc.packHex);
    } else {
      // Sent from the chunk thread's block where it can stay there until its pack is up; else copied.
      uploads.add(chunkOid, 'b', chunk, keep());
      packedHere.add(chunkOid);
    }
    opts.progress?.({ bytes: chunk.length });
    await uploads.next();
  }
  if (whole !== oid) store.verify(oid); // throws OBJECT_CORRUPT and quarantines
  // A file that is one chunk was just packed as a plain blob under its own oid.
  if (recipe.length > 1) {
    uploads.add(oid, 'r', Buffer.from(serializeRecipe(recipe)));
    saveRecipe(store, oid, recipe); // so a later pull of another version reuses these chunks
  }
}
