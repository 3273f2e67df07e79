import fs from 'node:fs';
import type { HasherFactory } from '../hash/blake3.js';
import { hashBytes } from '../hash/hash-file.js';
import { sharedBuffer } from '../hash/sha256-thread.js';
import { oidHex, type Oid } from '../hash/oid.js';
import { serializePackIndex } from '../formats/pack-index.js';
import { serializeRecipe, type RecipeChunk } from '../formats/recipe.js';
import { saveRecipe } from '../store/chunk-map.js';
import { chunksOfFd, DEFAULT_CHUNKER_OPTIONS } from '../store/chunker.js';
import type { ObjectStore } from '../store/object-store.js';
import { performance } from 'node:perf_hooks';
import { E, MlxError } from '../util/errors.js';
import { failpoint } from '../util/failpoint.js';
import { ensureLayout, indexKey, packKey, PACKS_PREFIX } from './layout.js';
import { packHeadroom, PackWriter } from './pack.js';
import { dropIncompleteRecipes } from './recipe-check.js';
import { doomedPacks, recordKeep } from './remote-gc.js';
import type { Remote } from './remote.js';
import type { RemoteIndex } from './remote-index.js';
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
   * Object sizes as manifests and pointers record them: a small object is then read with a single
   * read call, and the progress total needs no stat per object. What is read is hashed either way.
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
export async function pushObjects(store: ObjectStore, newHasher: HasherFactory, remote: Remote, index: RemoteIndex, oids: Oid[], opts: PushOptions = {}): Promise<PushSummary> {
  const started = performance.now();
  /** Every pack this push's data lives in: relied on, or uploaded by it. */
  const ours = new Set<string>();
  let summary: PushSummary | undefined;
  for (let round = 1; ; round++) {
    const sent = await pushRound(store, newHasher, remote, index, oids, opts, ours);
    summary = summary ? { ...summary, uploadedObjects: summary.uploadedObjects + sent.uploadedObjects, packs: summary.packs + sent.packs, bytesSent: summary.bytesSent + sent.bytesSent } : sent;
    for (const hex of [...ours]) if (!index.packs.has(hex)) ours.delete(hex);
    if (ours.size === 0) return summary;
    await failpoint('push.before-keep');
    await recordKeep(remote, ours);
    await failpoint('push.before-recheck');
    const gone = await vanishedPacks(remote, index, ours, performance.now() - started > SWEEP_TRACE_MS / 2);
    if (gone.size === 0) return summary;
    if (round === MAX_ROUNDS) {
      throw new MlxError(E.REMOTE_FAILED, `${gone.size} pack(s) this push sent or relied on kept vanishing from ${remote.url} while it ran`, {
        hint: 'a remote gc is removing them: run mlx push again once it is done',
      });
    }
    // Their objects count as absent now: the next round sends them again.
    summary.resentPacks += gone.size;
    index.forget(gone);
    for (const hex of gone) ours.delete(hex);
  }
}

/**
 * The packs among `ours` that a sweep may have removed and that are gone (index or pack file), waiting
 * first for live sweeps that may still remove one. With `all`, every one of `ours` is checked.
 */
async function vanishedPacks(remote: Remote, index: RemoteIndex, ours: Set<string>, all: boolean): Promise<Set<string>> {
  const atRisk = await packsAtRisk(remote, ours, all);
  if (atRisk.size === 0) return atRisk;
  const sizes = new Map((await remote.list(PACKS_PREFIX)).map((o) => [o.key, o.size]));
  const gone = new Set<string>();
  for (const hex of atRisk) {
    if (!sizes.has(indexKey(`b3:${hex}`)) || sizes.get(packKey(`b3:${hex}`)) !== index.packs.get(hex)?.size) gone.add(hex);
  }
  return gone;
}

/** One pass: sends what the remote lacks of `oids`; adds to `ours` every pack their data lives in. */
async function pushRound(store: ObjectStore, newHasher: HasherFactory, remote: Remote, index: RemoteIndex, oids: Oid[], opts: PushOptions, ours: Set<string>): Promise<PushSummary> {
  const jobs = Math.max(1, opts.jobs ?? 4);
  const packTarget = opts.packTarget ?? 16 * MIB;
  const chunkThreshold = opts.chunkThreshold ?? 4 * MIB;
  // Packs a pending remote gc plans to remove are not relied on: their objects are sent again.
  const doomed = await doomedPacks(remote);
  index.forget(doomed);
  await failpoint('push.after-read-plans');
  const wanted = [...new Set(oids)];
  /** The packs this push relies on instead of uploading, and those it uploads. */
  const reliedOn = ours;
  // A large file whose recipe names chunks the remote lost is sent again; a whole one relies on its chunks' packs.
  await dropIncompleteRecipes(remote, index, wanted, jobs, reliedOn);
  const todo = wanted.filter((o) => !index.has(o));
  for (const o of wanted) if (index.has(o)) reliedOn.add(index.locate(o)!.packKeyHex);
  const summary: PushSummary = { objects: wanted.length, alreadyOnRemote: wanted.length - todo.length, uploadedObjects: 0, packs: 0, bytesSent: 0, bytesDeduplicated: 0, resentPacks: 0 };
  for (const oid of wanted) if (index.has(oid)) summary.bytesDeduplicated += index.locate(oid)!.entry.raw;
  if (todo.length === 0) return summary;
  const absent = store.missing(todo);
  if (absent.size > 0) {
    throw new MlxError(E.OBJECT_MISSING, `${absent.size} object(s) to push are not in the local cache (first: ${[...absent][0]})`, {
      hint: 'the data was never added here; push from the machine that has it, or mlx fetch it first',
      data: { oids: [...absent] },
    });
  }
  await ensureLayout(remote, true);
  const sizeOf = (oid: Oid) => opts.sizes?.get(oid) ?? fs.statSync(store.pathOf(oid)).size;
  if (opts.progress) opts.progress({ totalFiles: todo.length, totalBytes: todo.reduce((n, o) => n + sizeOf(o), 0) });

  // Pack buffers are reused once their upload is done: fresh buffers cost page faults. They live in
  // shared memory so that a remote that hashes what it sends (S3 signing) can do so on another thread.
  const capacity = packTarget + packHeadroom(Math.max(chunkThreshold, DEFAULT_CHUNKER_OPTIONS.max));
  const spare: Buffer[] = [];
  // Every blob is hashed here before it is packed (chunks are named by hashing them), so the writer
  // does not hash again. Each writer is made when its first object comes, so it can take the buffer
  // of a pack whose upload finished meanwhile.
  let building: PackWriter | undefined;
  const writer = () => (building ??= new PackWriter(newHasher, { level: 1, verify: false, buffer: spare.pop() ?? sharedBuffer(capacity) }));
  const full = () => building !== undefined && building.size >= packTarget;
  const inFlight = new Set<Promise<void>>();
  const failures: unknown[] = [];
  // Packs upload in parallel, but their indexes are published in pack order, each only after the one
  // before it. A recipe is packed after its chunks, so no published recipe ever names a chunk whose
  // index is not published yet; a push killed at any point leaves every published file whole.
  let published: Promise<void> = Promise.resolve();
  const flush = async () => {
    if (building === undefined || building.count === 0) return;
    const { pack, index: packIndex } = building.finish();
    const storage = building.storage;
    summary.uploadedObjects += packIndex.entries.length;
    building = undefined;
    const previous = published;
    const sent = (async () => {
      const idxBytes = Buffer.from(serializePackIndex(packIndex));
      await remote.put(packKey(packIndex.pack), pack);
      spare.push(storage); // the pack's bytes are sent: its buffer can take the next pack
      await failpoint('push.after-upload');
      await previous; // rejects when an earlier pack failed: then this index is never published
      await failpoint('push.before-publish');
      await remote.put(indexKey(packIndex.pack), idxBytes);
      index.addPack(oidHex(packIndex.pack), packIndex);
      // Packs are named by content: re-sending a doomed pack's objects can recreate that very pack,
      // which the keep record then saves from the sweep; a new pack can be planned as soon as it is
      // published. Both are this push's.
      ours.add(oidHex(packIndex.pack));
      await failpoint('push.after-publish');
      summary.packs++;
      summary.bytesSent += pack.length + idxBytes.length;
    })();
    published = sent;
    const upload = sent.catch((err) => void failures.push(err));
    inFlight.add(upload);
    void upload.finally(() => inFlight.delete(upload));
    while (inFlight.size >= jobs) await Promise.race(inFlight);
    if (failures.length) throw failures[0];
  };

  // Packing is synchronous; uploads advance only when the event loop runs. Yielding every few
  // milliseconds lets the pack before this one travel (file system threads, the network, the
  // server) while this one is being built.
  let lastYield = Date.now();
  const letUploadsRun = async () => {
    if (inFlight.size === 0 || Date.now() - lastYield < 5) return;
    await new Promise((resolve) => setImmediate(resolve));
    lastYield = Date.now();
  };

  const reader = new SmallObjectReader(chunkThreshold);
  /** Chunks packed by this push, also in packs still uploading: a repeated chunk is sent once. */
  const packedHere = new Set<Oid>();
  /** A small object's bytes, checked against its oid (never upload a wrong name), or undefined for a large one. */
  const readSmall = (oid: Oid): Buffer | undefined => {
    const file = store.pathOf(oid);
    const hint = opts.sizes?.get(oid);
    let bytes = reader.read(file, hint);
    if (bytes === undefined || hashBytes(newHasher, bytes) === oid) return bytes;
    if (hint !== undefined) {
      // The recorded size may be wrong (a hand-edited pointer): read the file whole and look again.
      bytes = reader.read(file);
      if (bytes === undefined || hashBytes(newHasher, bytes) === oid) return bytes;
    }
    store.verify(oid); // throws OBJECT_CORRUPT and quarantines the object
    throw new MlxError(E.OBJECT_CORRUPT, `cache object ${oid} changed while it was being read`, { data: { oid } });
  };

  for (const oid of todo) {
    const small = readSmall(oid);
    if (small) {
      writer().add(oid, 'b', small);
      opts.progress?.({ files: 1, bytes: small.length });
    } else {
      const fd = fs.openSync(store.pathOf(oid), 'r');
      try {
        // One pass: each chunk is hashed, packed when new, and fed to the whole-file hash. Chunks are
        // named by their own bytes, so even a corrupt local file uploads no wrongly named chunk; its
        // recipe, which claims the whole, is added only once the whole-file hash matches.
        const whole = newHasher();
        const recipe: RecipeChunk[] = [];
        for (const { chunk } of chunksOfFd(fd)) {
          whole.update(chunk);
          const chunkOid = hashBytes(newHasher, chunk);
          recipe.push([chunkOid, chunk.length]);
          if (index.has(chunkOid) || packedHere.has(chunkOid)) {
            summary.bytesDeduplicated += chunk.length;
            const loc = index.locate(chunkOid);
            if (loc) reliedOn.add(loc.packKeyHex);
          } else {
            writer().add(chunkOid, 'b', chunk);
            packedHere.add(chunkOid);
          }
          opts.progress?.({ bytes: chunk.length });
          if (full()) await flush();
          else await letUploadsRun();
        }
        if (`b3:${whole.digestHex()}` !== oid) store.verify(oid); // throws OBJECT_CORRUPT and quarantines
        // A file that is one chunk was just packed as a plain blob under its own oid.
        if (recipe.length > 1) {
          writer().add(oid, 'r', Buffer.from(serializeRecipe(recipe)));
          saveRecipe(store, oid, recipe); // so a later pull of another version reuses these chunks
        }
      } finally {
        fs.closeSync(fd);
      }
      opts.progress?.({ files: 1 });
    }
    if (full()) await flush();
    else await letUploadsRun();
  }
  await flush();
  await Promise.all(inFlight);
  if (failures.length) throw failures[0];
  return summary;
}

/**
 * Reads whole small files into one reused buffer: no allocation and no separate stat per object,
 * which for tens of thousands of small objects costs more than reading them.
 */
class SmallObjectReader {
  private buf: Buffer;

  /** @param limit files of at least this many bytes are not read (`read` returns undefined) */
  constructor(private readonly limit: number) {
    this.buf = Buffer.allocUnsafe(Math.min(limit, 64 * 1024) + 1);
  }

  /**
   * The file's bytes (a view, valid until the next call), or undefined when it has `limit` bytes or
   * more. With `expectedSize`, only that many bytes are asked for: one read call instead of two.
   */
  read(file: string, expectedSize?: number): Buffer | undefined {
    if (expectedSize !== undefined && expectedSize >= this.limit) return undefined;
    const fd = fs.openSync(file, 'r');
    try {
      if (expectedSize !== undefined) {
        if (this.buf.length < expectedSize) this.buf = Buffer.allocUnsafe(Math.min(Math.max(expectedSize, 2 * this.buf.length), this.limit + 1));
        let n = 0;
        for (let got = -1; n < expectedSize && got !== 0; n += got) got = fs.readSync(fd, this.buf, n, expectedSize - n, n);
        return this.buf.subarray(0, n); // a short file hashes wrong, and is reported as corrupt
      }
      let n = 0;
      for (;;) {
        if (n === this.buf.length) {
          if (n > this.limit) return undefined;
          // Bigger than the buffer: ask for the size once, and grow to it (or give up past the limit).
          const size = fs.fstatSync(fd).size;
          if (size >= this.limit) return undefined;
          const bigger = Buffer.allocUnsafe(Math.min(Math.max(size + 1, 2 * this.buf.length), this.limit + 1));
          this.buf.copy(bigger, 0, 0, n);
          this.buf = bigger;
        }
        const got = fs.readSync(fd, this.buf, n, this.buf.length - n, n);
        if (got === 0) return this.buf.subarray(0, n);
        n += got;
      }
    } finally {
      fs.closeSync(fd);
    }
  }
}
