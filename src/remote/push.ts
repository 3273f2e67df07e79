import fs from 'node:fs';
import type { HasherFactory } from '../hash/blake3.js';
import { hashBytes } from '../hash/hash-file.js';
import { oidHex, type Oid } from '../hash/oid.js';
import { serializePackIndex } from '../formats/pack-index.js';
import { serializeRecipe, type RecipeChunk } from '../formats/recipe.js';
import { chunkFile } from '../store/chunker.js';
import type { ObjectStore } from '../store/object-store.js';
import { E, MlxError } from '../util/errors.js';
import { ensureLayout, indexKey, packKey } from './layout.js';
import { PackWriter } from './pack.js';
import { doomedPacks, recordKeep } from './remote-gc.js';
import type { Remote } from './remote.js';
import type { RemoteIndex } from './remote-index.js';
import type { TransferProgress } from './transfer-progress.js';

export interface PushOptions {
  jobs?: number;
  progress?: TransferProgress;
  /** Roll to a new pack past this many bytes (default 32 MiB). */
  packTarget?: number;
  /** Files at least this large are split into content-defined chunks (default 4 MiB). */
  chunkThreshold?: number;
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
}

const MIB = 1024 * 1024;

/**
 * Sends objects to a remote as packs. Small objects are batched; large files are split into
 * content-defined chunks so a new version sends only the chunks the remote lacks, plus a recipe.
 * Each pack is uploaded, its size checked, and only then its index published: a push killed at any
 * point leaves no index that names missing data, and running it again sends what is still missing.
 */
export async function pushObjects(store: ObjectStore, newHasher: HasherFactory, remote: Remote, index: RemoteIndex, oids: Oid[], opts: PushOptions = {}): Promise<PushSummary> {
  const jobs = Math.max(1, opts.jobs ?? 4);
  const packTarget = opts.packTarget ?? 32 * MIB;
  const chunkThreshold = opts.chunkThreshold ?? 4 * MIB;
  // Packs a pending remote gc plans to remove are not relied on: their objects are sent again.
  const doomed = await doomedPacks(remote);
  index.forget(doomed);
  const wanted = [...new Set(oids)];
  const todo = wanted.filter((o) => !index.has(o));
  const reliedOn = new Set<string>();
  for (const o of wanted) if (index.has(o)) reliedOn.add(index.locate(o)!.packKeyHex);
  const summary: PushSummary = { objects: wanted.length, alreadyOnRemote: wanted.length - todo.length, uploadedObjects: 0, packs: 0, bytesSent: 0, bytesDeduplicated: 0 };
  for (const oid of wanted) if (index.has(oid)) summary.bytesDeduplicated += index.locate(oid)!.entry.raw;
  if (todo.length === 0) {
    await recordKeep(remote, reliedOn);
    return summary;
  }
  const absent = store.missing(todo);
  if (absent.size > 0) {
    throw new MlxError(E.OBJECT_MISSING, `${absent.size} object(s) to push are not in the local cache (first: ${[...absent][0]})`, {
      hint: 'the data was never added here; push from the machine that has it, or mlx fetch it first',
      data: { oids: [...absent] },
    });
  }
  await ensureLayout(remote, true);
  opts.progress?.({ totalFiles: todo.length, totalBytes: todo.reduce((n, o) => n + fs.statSync(store.pathOf(o)).size, 0) });

  let writer = new PackWriter(newHasher, { level: 1 });
  const inFlight = new Set<Promise<void>>();
  const failures: unknown[] = [];
  const flush = async () => {
    if (writer.count === 0) return;
    const { pack, index: packIndex } = writer.finish();
    summary.uploadedObjects += packIndex.entries.length;
    writer = new PackWriter(newHasher, { level: 1 });
    const upload = (async () => {
      const idxBytes = Buffer.from(serializePackIndex(packIndex));
      await remote.put(packKey(packIndex.pack), pack);
      await remote.put(indexKey(packIndex.pack), idxBytes); // published last
      index.addPack(oidHex(packIndex.pack), packIndex);
      // Packs are named by content: re-sending a doomed pack's objects can recreate that very pack,
      // which the keep record below then saves from the sweep.
      if (doomed.has(oidHex(packIndex.pack))) reliedOn.add(oidHex(packIndex.pack));
      summary.packs++;
      summary.bytesSent += pack.length + idxBytes.length;
    })().catch((err) => void failures.push(err));
    inFlight.add(upload);
    void upload.finally(() => inFlight.delete(upload));
    while (inFlight.size >= jobs) await Promise.race(inFlight);
    if (failures.length) throw failures[0];
  };

  for (const oid of todo) {
    const file = store.pathOf(oid);
    const size = fs.statSync(file).size;
    if (size < chunkThreshold) {
      try {
        writer.add(oid, 'b', fs.readFileSync(file), true);
      } catch (err) {
        // The pack writer refuses bytes that do not match their oid: quarantine and report it as the store does.
        if (err instanceof MlxError && err.code === E.OBJECT_CORRUPT) store.verify(oid);
        throw err;
      }
      opts.progress?.({ files: 1, bytes: size });
    } else {
      for (const piece of chunkObject(store, newHasher, oid)) {
        if (piece.kind === 'recipe') {
          writer.add(oid, 'r', piece.bytes);
        } else if (index.has(piece.oid) || writer.has(piece.oid)) {
          summary.bytesDeduplicated += piece.bytes.length;
          const loc = index.locate(piece.oid);
          if (loc) reliedOn.add(loc.packKeyHex);
        } else {
          writer.add(piece.oid, 'b', piece.bytes, true);
        }
        if (piece.kind === 'chunk') opts.progress?.({ bytes: piece.bytes.length });
        if (writer.size >= packTarget) await flush();
      }
      opts.progress?.({ files: 1 });
    }
    if (writer.size >= packTarget) await flush();
  }
  await flush();
  await Promise.all(inFlight);
  if (failures.length) throw failures[0];
  // Tell a concurrent remote gc which existing packs this push's data lives in.
  await recordKeep(remote, new Set([...reliedOn].filter((hex) => index.packs.has(hex))));
  return summary;
}

type Piece = { kind: 'chunk'; oid: Oid; bytes: Buffer } | { kind: 'recipe'; bytes: Buffer };

/**
 * Splits a cache object into chunks, verifying the whole object's hash first (a corrupt local object
 * is never uploaded under a good name), then yields the chunks one at a time — memory stays at one
 * chunk however large the file — and finally the recipe. A file that is one chunk is a plain blob.
 */
function* chunkObject(store: ObjectStore, newHasher: HasherFactory, oid: Oid): Generator<Piece> {
  const file = store.pathOf(oid);
  const whole = newHasher();
  const spans: { offset: number; length: number }[] = [];
  chunkFile(file, (chunk, offset) => {
    whole.update(chunk);
    spans.push({ offset, length: chunk.length });
  });
  if (`b3:${whole.digestHex()}` !== oid) store.verify(oid); // throws OBJECT_CORRUPT and quarantines
  if (spans.length <= 1) {
    yield { kind: 'chunk', oid, bytes: fs.readFileSync(file) };
    return;
  }
  const fd = fs.openSync(file, 'r');
  try {
    const recipe: RecipeChunk[] = [];
    for (const s of spans) {
      const bytes = Buffer.allocUnsafe(s.length);
      fs.readSync(fd, bytes, 0, s.length, s.offset);
      const chunkOid = hashBytes(newHasher, bytes);
      recipe.push([chunkOid, s.length]);
      yield { kind: 'chunk', oid: chunkOid, bytes };
    }
    yield { kind: 'recipe', bytes: Buffer.from(serializeRecipe(recipe)) };
  } finally {
    fs.closeSync(fd);
  }
}
