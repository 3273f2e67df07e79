import path from 'node:path';
import type { HasherFactory } from '../hash/blake3.js';
import { oidHex, type Oid } from '../hash/oid.js';
import { serializePackIndex, type PackIndex, type PackMemberType } from '../formats/pack-index.js';
import { alignedSharedBuffer, releaseAligned } from '../util/aligned-memory.js';
import { failpoint } from '../util/failpoint.js';
import { writeFileAtomicSync } from '../util/fs.js';
import { indexKey, packKey } from './layout.js';
import { packHeadroom, PackWriter } from './pack.js';
import type { Remote } from './remote.js';
import type { RemoteIndex } from './remote-index.js';

export interface PackUploadsOptions {
  /** Packs uploading at once. */
  jobs: number;
  /** Roll to a new pack past this many bytes. */
  packTarget: number;
  /** The largest object or chunk that will be added: each pack buffer has room for one past the target. */
  largestMember: number;
  /** Hears of each pack once its index is published (before the `push.after-publish` failpoint). */
  onPublished: (hex: string) => void;
  /** Given to each pack (PackWriter's `salt`): set when a push sends again what it withheld. */
  salt?: string;
}

/**
 * Packs the objects it is given and uploads the packs, `jobs` at a time. Packs upload in parallel,
 * but their indexes are published in pack order, each only after the one before it. A recipe is
 * added after its chunks, so no published recipe ever names a chunk whose index is not published
 * yet; a push killed at any point leaves every published file whole.
 */
export class PackUploads {
  /** Objects (blobs, chunks, recipes) in the packs sealed so far. */
  objects = 0;
  /** Packs published, and their bytes (pack and index) sent. */
  packs = 0;
  bytesSent = 0;
  /**
   * Packs not published because a removal record names a pack of the same name (and the ones after
   * it, which may hold recipes of its chunks): their objects stay absent, to be sent again salted.
   */
  withheld = 0;

  private building: PackWriter | undefined;
  /** Lets go of the bytes the pack being built holds by reference, once it is sent (or has failed). */
  private releases: (() => void)[] = [];
  /**
   * Pack buffers are reused once their upload is done: fresh buffers cost page faults. They live in
   * shared memory so that a remote that hashes what it sends (S3 signing) can do so on another thread,
   * and start on a page so that a directory remote can write them past the page cache.
   */
  private readonly spare: Buffer[] = [];
  private readonly capacity: number;
  private readonly inFlight = new Set<Promise<void>>();
  private readonly failures: unknown[] = [];
  /** Settles when the last sealed pack's index is published (rejects when any before it failed). */
  private published: Promise<void> = Promise.resolve();
  private lastYield = Date.now();

  constructor(
    private readonly remote: Remote,
    private readonly index: RemoteIndex,
    private readonly newHasher: HasherFactory,
    private readonly opts: PackUploadsOptions,
  ) {
    this.capacity = opts.packTarget + packHeadroom(opts.largestMember);
  }

  /**
   * Adds an object to the pack being built. Its bytes were hashed by the caller (chunks are named by
   * hashing them), so the writer does not hash again. Each writer is made when its first object
   * comes, so it can take the buffer of a pack whose upload finished meanwhile.
   *
   * With `release`, the caller keeps `bytes` unchanged until it is called: where the remote writes a
   * pack in pieces as they are (a directory), they are sent from where they are instead of being
   * copied into the pack (a large file's chunks: their copy was a fifth of a push's CPU). `release`
   * is called once the pack's upload is over, sent or failed; or at once, when the bytes were copied.
   */
  add(oid: Oid, type: PackMemberType, bytes: Uint8Array, release?: () => void): void {
    this.building ??= new PackWriter(this.newHasher, { level: 1, verify: false, hashAtFinish: true, buffer: this.spare.pop() ?? alignedSharedBuffer(this.capacity), salt: this.opts.salt });
    const byReference = release !== undefined && this.remote.putsPiecesAsTheyAre === true;
    try {
      this.building.add(oid, type, bytes, { byReference });
    } catch (err) {
      release?.();
      throw err;
    }
    if (byReference) this.releases.push(release);
    else release?.();
  }

  /** After each object or chunk: seals and sends the pack once it is full, else lets uploads advance. */
  async next(): Promise<void> {
    if (this.building !== undefined && this.building.size >= this.opts.packTarget) await this.flush();
    else await this.letUploadsRun();
  }

  /** Sends the last pack and waits for every upload; throws the first failure. */
  async finish(): Promise<void> {
    await this.flush();
    await Promise.all(this.inFlight);
    // Every pack is sent: its buffer can take a later push's packs.
    for (const buf of this.spare.splice(0)) releaseAligned(buf);
    if (this.failures.length) throw this.failures[0];
  }

  /** Seals the pack being built and starts its upload, waiting while `jobs` uploads are in flight. */
  private async flush(): Promise<void> {
    if (this.building === undefined || this.building.count === 0) return;
    const releases = this.releases;
    this.releases = [];
    let sealed: { pieces: Buffer[]; objects: number; index: Promise<PackIndex> };
    try {
      // The pack id is hashed on another thread while this one builds the next pack.
      sealed = this.building.finishPiecesHashedApart();
    } catch (err) {
      for (const release of releases) release();
      throw err;
    }
    const { pieces } = sealed;
    const storage = this.building.storage;
    this.objects += sealed.objects;
    this.building = undefined;
    const previous = this.published;
    const sent = (async () => {
      let packIndex: PackIndex;
      let removedName: boolean;
      try {
        packIndex = await sealed.index;
        // A removed pack's name stays removed: its pack file is not written over either.
        removedName = this.index.isGone(oidHex(packIndex.pack));
        if (!removedName) await this.remote.put(packKey(packIndex.pack), pieces.length === 1 ? pieces[0]! : pieces);
      } finally {
        for (const release of releases) release();
      }
      this.spare.push(storage); // the pack's bytes are sent: its buffer can take the next pack
      const idxBytes = Buffer.from(serializePackIndex(packIndex));
      await failpoint('push.after-upload');
      await previous; // rejects when an earlier pack failed: then this index is never published
      if (removedName || this.withheld > 0) {
        this.withheld++;
        this.objects -= sealed.objects; // sent again, and counted then
        return;
      }
      await failpoint('push.before-publish');
      await this.remote.put(indexKey(packIndex.pack), idxBytes);
      this.index.addPack(oidHex(packIndex.pack), packIndex);
      keepLocalCopy(path.join(this.index.cacheDir, `${oidHex(packIndex.pack)}.idx`), idxBytes);
      this.opts.onPublished(oidHex(packIndex.pack));
      await failpoint('push.after-publish');
      this.packs++;
      this.bytesSent += packIndex.size + idxBytes.length;
    })();
    this.published = sent;
    const upload = sent.catch((err) => void this.failures.push(err));
    this.inFlight.add(upload);
    void upload.finally(() => this.inFlight.delete(upload));
    while (this.inFlight.size >= this.opts.jobs) await Promise.race(this.inFlight);
    if (this.failures.length) throw this.failures[0];
  }

  /**
   * Packing is synchronous; uploads advance only when the event loop runs. Yielding every few
   * milliseconds lets the pack before this one travel (file system threads, the network, the
   * server) while this one is being built.
   */
  private async letUploadsRun(): Promise<void> {
    if (this.inFlight.size === 0 || Date.now() - this.lastYield < 5) return;
    await new Promise((resolve) => setImmediate(resolve));
    this.lastYield = Date.now();
  }
}

/** Keeps a published index in the local folder of downloaded ones: this process's next load (a consolidation) needs no download. */
function keepLocalCopy(file: string, bytes: Buffer): void {
  try {
    writeFileAtomicSync(file, bytes, { durable: false });
  } catch {
    // only a cache: a later load downloads it instead
  }
}
