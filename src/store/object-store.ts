import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { HasherFactory } from '../hash/blake3.js';
import { canCopyHashed, copyHashed, wholeFile } from '../hash/blake3-thread.js';
import { IO_BUFFER_SIZE, hashBytes, hashFd, ioBuffer } from '../hash/hash-file.js';
import { OID_ALGO, type Oid, oidFromHex, oidHex } from '../hash/oid.js';
import { MlxError, isErrno, objectCorrupt, objectMissing } from '../util/errors.js';
import { removeOrphanedTemps } from '../util/orphans.js';
import { registerTempDir, uniqueTempName } from '../util/fs.js';
import { lstatInto, type LstatFields } from '../util/lstat-fields.js';
import { WriteBehind } from './write-behind.js';

/** Objects are read-only so an in-place edit of a linked work-tree file cannot silently change them. */
const OBJECT_MODE = 0o444;
/**
 * Files at least this large are copied into the store while a second thread reads and hashes what
 * this one writes (copyHashed); below it, one read-hash-write pass on this thread is cheaper than the
 * hand-over.
 */
const THREAD_COPY_FROM = 8 * 1024 * 1024;
/**
 * Files smaller than this are imported with one read into the shared I/O buffer, hashed in one call
 * and written from that same buffer.
 */
const SMALL_IMPORT_MAX = IO_BUFFER_SIZE - 1;
/** Temp names in a fan-out folder (`<pid>-<nonce>-<n>`, see uniqueTempName): never a 62-hex object name. */
const FANOUT_TEMP = /^\d+-[0-9a-f]+-[0-9a-z]+$/;
/** Small objects a write-behind stretch writes on this thread before a second thread pays for itself. */
const WRITE_BEHIND_FROM = 256;
/** Above this many lookups, listing the 256 fan-out folders beats one stat per object. */
const LIST_THRESHOLD = 2048;

export interface ImportResult {
  oid: Oid;
  size: number;
}

/**
 * A content-addressed object store: `objects/<2 hex>/<62 hex>` holding raw bytes.
 * It knows oids and bytes only, never work-tree paths, pointers or remotes.
 *
 * Invariants: an object file only ever appears through an atomic rename of a fully written temp file
 * whose bytes were hashed on the way in, and stays read-only (0444). Reads of manifests and records
 * re-hash what they read; checkout trusts an object whose stat is as written unless asked to verify
 * (spec/object-store.md, "Reading and verification").
 */
export class ObjectStore {
  readonly objectsDir: string;
  readonly tmpDir: string;
  readonly quarantineDir: string;
  private readonly knownFanout = new Set<string>();
  /**
   * Objects this process wrote from bytes it hashed itself (a copy of them needs no second hash), with
   * their sizes, so checking them against a manifest costs no stat.
   */
  private readonly writtenSizes = new Map<Oid, number>();
  /** One stat record, refilled by each statOf. */
  private readonly statFields = {} as LstatFields;
  /** Set during writeBehindDuring: small objects stored so far, and the thread writing them once there are many. */
  private behind: { count: number; writes?: WriteBehind } | undefined;

  constructor(readonly root: string, private readonly newHasher: HasherFactory) {
    this.objectsDir = path.join(root, 'objects');
    this.tmpDir = path.join(root, 'tmp');
    this.quarantineDir = path.join(root, 'quarantine');
  }

  /** Creates the store's folders; safe to call again. */
  init(): void {
    for (const dir of [this.objectsDir, this.tmpDir, this.quarantineDir]) fs.mkdirSync(dir, { recursive: true });
  }

  /**
   * Makes the store group-shared: every folder group-writable with setgid (so what others create in it
   * belongs to the group too), every file group-readable. Done by the owner of the store's root, once:
   * after that the root's mode says it is shared and this costs one stat. Files written afterwards get
   * these modes from the umask (see allowGroupWrites), with no extra call per object.
   */
  shareWithGroup(): void {
    const st = fs.statSync(this.root);
    if ((st.mode & 0o2070) === 0o2070 || st.uid !== process.getuid?.()) return;
    const walk = (dir: string) => {
      for (const d of fs.readdirSync(dir, { withFileTypes: true })) {
        const abs = path.join(dir, d.name);
        if (d.isDirectory()) {
          walk(abs);
          shareEntry(abs, st.gid, 0o2070);
        } else if (d.isFile()) shareEntry(abs, st.gid, 0o040);
      }
    };
    walk(this.root);
    shareEntry(this.root, st.gid, 0o2070); // last: a conversion cut short is done again next time
  }

  /** Where an object lives; every object stored before the call is there (see writeBehindDuring). */
  pathOf(oid: Oid): string {
    this.settle();
    return this.objectPath(oid);
  }

  private objectPath(oid: Oid): string {
    const hex = oidHex(oid);
    // objectsDir is normalised (path.join) and the hex has no separator: joined as they are.
    return `${this.objectsDir}${path.sep}${hex.slice(0, 2)}${path.sep}${hex.slice(2)}`;
  }

  /**
   * Runs `work` while the small objects it stores may be written on a second thread (see
   * write-behind.ts), and returns once every one of them is in the store: a failure to write one is
   * thrown here (or by the put that finds the thread's queue full). Until then each method that looks at
   * the store (pathOf, and so has, statOf, reads; missing, list, contentsStamp) first waits for the
   * writes, so nothing sees an object missing that a put has returned.
   */
  writeBehindDuring<T>(work: () => T): T {
    if (this.behind) return work();
    this.behind = { count: 0 };
    try {
      const result = work();
      this.settle();
      return result;
    } catch (err) {
      try {
        this.settle();
      } catch {
        // `work` failed first: its error is the one to report; the write's is a consequence or noise
      }
      throw err;
    } finally {
      this.behind.writes?.close();
      this.behind = undefined;
    }
  }

  /** Waits for the objects being written on the second thread; throws the first failure. */
  private settle(): void {
    this.behind?.writes?.settle();
  }

  has(oid: Oid): boolean {
    return fs.existsSync(this.pathOf(oid));
  }

  /** The size in bytes of a stored object, or undefined when it is not in the store. */
  sizeOf(oid: Oid): number | undefined {
    const known = this.writtenSizes.get(oid);
    if (known !== undefined) return known;
    try {
      return fs.statSync(this.pathOf(oid)).size;
    } catch (err) {
      if (isErrno(err, 'ENOENT')) return undefined;
      throw err;
    }
  }

  /**
   * A fingerprint of which objects the store holds, cheap to take: the change times of its 256 fan-out
   * folders, which move whenever an object is added to or removed from one (by mlx or by hand). Equal
   * stamps mean a presence check made at the first still holds, without asking object by object.
   */
  contentsStamp(): string {
    this.settle();
    const parts: string[] = [];
    for (let i = 0; i < 256; i++) {
      const fan = i.toString(16).padStart(2, '0');
      const st = fs.statSync(path.join(this.objectsDir, fan), { throwIfNoEntry: false });
      if (st) parts.push(`${fan}:${st.ino}:${st.mtimeMs}:${st.ctimeMs}`);
    }
    return crypto.createHash('sha256').update(parts.join('\n')).digest('hex');
  }

  /**
   * What one `lstat` says of a stored object, with no read: its size, or undefined when it is not in
   * the store. Only a regular file is an object the store wrote; anything else (a symlink, a folder,
   * a fifo) is quarantined and reported corrupt. `writable` is true when the object has lost its
   * read-only mode (0444): someone changed its permissions, most likely to write to it, so its bytes
   * are no longer vouched for by the write that stored them.
   */
  statOf(oid: Oid): { size: number; writable: boolean } | undefined {
    const known = this.writtenSizes.get(oid);
    if (known !== undefined) return { size: known, writable: false };
    // The stat's numbers alone (no fs.Stats and its Dates): checkout asks this once per file written.
    const st = this.statFields;
    try {
      lstatInto(this.pathOf(oid), st);
    } catch (err) {
      if (isErrno(err, 'ENOENT')) return undefined;
      throw err;
    }
    if ((st.mode & fs.constants.S_IFMT) !== fs.constants.S_IFREG) throw this.corrupt(oid, 'it is not a regular file');
    return { size: st.size, writable: (st.mode & 0o222) !== 0 };
  }

  /**
   * The subset of `oids` not present in the store, checked in one batch. `outOf`: how many the caller
   * asks about in all, over several calls (one per fan-out folder), which decides between a stat per
   * object and listing the folders.
   */
  missing(oids: Iterable<Oid>, { outOf = 0 }: { outOf?: number } = {}): Set<Oid> {
    this.settle();
    const wanted = new Set(oids);
    const missing = new Set<Oid>();
    if (Math.max(wanted.size, outOf) < LIST_THRESHOLD) {
      for (const oid of wanted) if (!this.writtenSizes.has(oid) && !this.has(oid)) missing.add(oid);
      return missing;
    }
    // One folder's listing at a time: at a million objects all of them at once are 100 MB of names.
    // An oid's folder is found from the char codes of its first two hex digits: no string per oid.
    const byFan: Oid[][] = [];
    for (const oid of wanted) {
      if (this.writtenSizes.has(oid)) continue; // stored by this process: no listing needed to know it
      const fan = fanOf(oid);
      if (fan < 0) missing.add(oid); // not an oid's name: no folder holds it
      else (byFan[fan] ??= []).push(oid);
    }
    for (let fan = 0; fan < byFan.length; fan++) {
      const oids = byFan[fan];
      if (!oids) continue;
      const names = new Set(readdirOrEmpty(path.join(this.objectsDir, fan.toString(16).padStart(2, '0'))));
      for (const oid of oids) if (!names.has(oid.slice(FAN_END))) missing.add(oid);
    }
    if (missing.size === 0) return missing;
    // In the order asked for, as a caller names the first one.
    return new Set([...wanted].filter((oid) => missing.has(oid)));
  }

  /** Stores an in-memory buffer (manifests, records). */
  putBytes(data: Uint8Array): Oid {
    const oid = hashBytes(this.newHasher, data);
    if (this.has(oid) && this.isIntact(oid, data.length)) return oid;
    this.writeObject(oid, data);
    return oid;
  }

  /**
   * Stores content made a piece at a time (the manifest of a large directory), hashing as it writes:
   * the whole never stands in memory as one string and one buffer.
   */
  putPieces(pieces: Iterable<string | Uint8Array>): Oid {
    const tmp = this.newTempPath();
    try {
      const h = this.newHasher();
      let size = 0;
      const fd = fs.openSync(tmp, 'wx', OBJECT_MODE);
      try {
        for (const piece of pieces) {
          const bytes = typeof piece === 'string' ? Buffer.from(piece) : piece;
          h.update(bytes);
          writeAll(fd, bytes);
          size += bytes.length;
        }
      } finally {
        fs.closeSync(fd);
      }
      const oid = oidFromHex(h.digestHex());
      if (this.has(oid) && this.isIntact(oid, size)) fs.rmSync(tmp, { force: true });
      else this.moveIntoPlace(tmp, oid);
      return oid;
    } catch (err) {
      fs.rmSync(tmp, { force: true });
      throw err;
    }
  }

  /**
   * Stores bytes that must hash to `expected` (data from a remote). A mismatch stores nothing and throws
   * OBJECT_CORRUPT naming `source`, so tampered or truncated downloads never reach the cache.
   */
  putVerified(expected: Oid, data: Uint8Array, source: string): void {
    const actual = hashBytes(this.newHasher, data);
    if (actual !== expected) throw corruptDownload(expected, source);
    this.writeObject(expected, data);
    this.writtenSizes.set(expected, data.length);
  }

  /**
   * Writes bytes already hashed to `oid` through a temp file in the object's own fan-out folder and an
   * atomic rename there: a rename within one folder costs the file system less than one across two,
   * which for thousands of small objects is a good part of storing them.
   */
  private writeObject(oid: Oid, data: Uint8Array): void {
    const dest = this.objectPath(oid);
    const tmp = path.join(this.ensureFanout(path.dirname(dest)), uniqueTempName());
    if (this.behind && WriteBehind.takes(data) && ++this.behind.count > WRITE_BEHIND_FROM) {
      (this.behind.writes ??= new WriteBehind(OBJECT_MODE)).write(tmp, dest, data);
      return;
    }
    try {
      fs.writeFileSync(tmp, data, { flag: 'wx', mode: OBJECT_MODE });
      fs.renameSync(tmp, dest);
    } catch (err) {
      // Only a failure leaves the temp file behind (once renamed it is gone: no unlink call per object).
      fs.rmSync(tmp, { force: true });
      throw err;
    }
  }

  /**
   * Moves a temp file (from newTempPath) into the store after hashing it: the file must hash to
   * `expected`, else it is deleted and OBJECT_CORRUPT thrown. Used to rebuild large files from chunks.
   * `hashedAs` is the oid of the bytes the caller wrote into the file as it wrote them (one pass
   * instead of two); without it the file is read and hashed here.
   */
  adoptTempFile(tmp: string, expected: Oid, source: string, hashedAs?: Oid): void {
    try {
      let actual = hashedAs;
      if (actual === undefined) {
        const fd = fs.openSync(tmp, 'r');
        try {
          actual = hashFd(this.newHasher, fd).oid;
        } finally {
          fs.closeSync(fd);
        }
      }
      if (actual !== expected) throw corruptDownload(expected, source);
      fs.chmodSync(tmp, OBJECT_MODE);
      const size = fs.statSync(tmp).size;
      this.moveIntoPlace(tmp, expected);
        this.writtenSizes.set(expected, size);
    } finally {
      fs.rmSync(tmp, { force: true });
    }
  }

  /**
   * Copies a file into the store, hashing exactly the bytes that are written: a large file a slot at a
   * time, read and hashed on a second thread and written on this one (see copyHashed), a smaller one in one pass
   * over a reused buffer. A process killed half-way leaves only a temp file, never a
   * partial object. `expectedSize`, the size a stat just gave, spares a small file its `fstat`: the
   * one read that asks for a byte more confirms it (anything else falls back to the `fstat`).
   */
  importFile(src: string, onProgress?: (bytes: number) => void, expectedSize?: number): ImportResult {
    const input = fs.openSync(src, 'r');
    try {
      let small = expectedSize !== undefined && expectedSize <= SMALL_IMPORT_MAX ? this.importSmall(input, expectedSize) : undefined;
      const size = small?.size ?? fs.fstatSync(input).size;
      if (!small && size <= SMALL_IMPORT_MAX && size !== expectedSize) small = this.importSmall(input, size);
      if (small) {
        onProgress?.(small.size);
        return small;
      }
      return this.importLarge(input, size, onProgress);
    } finally {
      fs.closeSync(input);
    }
  }

  /**
   * A small file in one read: asking for one byte more than its size says in the same call that the
   * end was reached. Undefined when the read disagrees with the size (the file is changing): the
   * general path then reads it to its end, and the caller's stat check reports the change.
   */
  private importSmall(input: number, size: number): ImportResult | undefined {
    const buf = ioBuffer();
    const n = fs.readSync(input, buf, 0, size + 1, 0);
    if (n !== size) return undefined;
    const bytes = buf.subarray(0, n);
    const oid = hashBytes(this.newHasher, bytes);
    this.writeObject(oid, bytes);
    return { oid, size: n };
  }

  private importLarge(input: number, size: number, onProgress?: (bytes: number) => void): ImportResult {
    const tmp = this.newTempPath();
    try {
      let result: ImportResult;
      const output = fs.openSync(tmp, 'wx', OBJECT_MODE);
      try {
        result = canCopyHashed(this.newHasher) && size >= THREAD_COPY_FROM
          ? copyHashed(this.newHasher, wholeFile(input), output, onProgress)
          : hashFd(this.newHasher, input, (chunk) => writeAll(output, chunk), onProgress);
      } finally {
        fs.closeSync(output);
      }
      this.moveIntoPlace(tmp, result.oid);
      return result;
    } finally {
      fs.rmSync(tmp, { force: true });
    }
  }

  /** Reads a whole object into memory and checks it against its oid. For small objects only. */
  readBytes(oid: Oid): Buffer {
    let data: Buffer;
    try {
      data = fs.readFileSync(this.pathOf(oid));
    } catch (err) {
      if (isErrno(err, 'ENOENT')) throw missingObject(oid);
      throw err;
    }
    if (hashBytes(this.newHasher, data) !== oid) throw this.corrupt(oid);
    return data;
  }

  /** An open descriptor of a stored object; a missing-object error when it is not there. */
  private openObject(oid: Oid): number {
    try {
      return fs.openSync(this.pathOf(oid), 'r');
    } catch (err) {
      if (isErrno(err, 'ENOENT')) throw missingObject(oid);
      throw err;
    }
  }

  /**
   * Writes the object's bytes to `tmpDest` (a new file), hashing on the way; if the bytes do not match
   * the oid the temp file is removed, the object quarantined and OBJECT_CORRUPT thrown.
   */
  copyOutVerified(oid: Oid, tmpDest: string, mode: number, onProgress?: (bytes: number) => void): void {
    if (this.writtenSizes.has(oid)) {
      // Rebuilt and hashed by this very process moments ago (a pull): a kernel copy is enough.
      fs.copyFileSync(this.pathOf(oid), tmpDest, fs.constants.COPYFILE_EXCL);
      fs.chmodSync(tmpDest, mode);
      onProgress?.(fs.statSync(tmpDest).size);
      return;
    }
    const output = fs.openSync(tmpDest, 'wx', mode);
    try {
      this.copyOutTo(oid, output, true, onProgress);
    } catch (err) {
      fs.closeSync(output);
      fs.rmSync(tmpDest, { force: true });
      throw err;
    }
    fs.closeSync(output);
  }

  /**
   * Writes the object's bytes to `tmpDest` (a new file) without hashing them: for a caller that
   * trusts the object (checkout after its stat check). One reused buffer, a read and a write call per
   * small object: cheaper here than a kernel copy, which adds a stat and a chmod per file.
   */
  copyOut(oid: Oid, tmpDest: string, mode: number): void {
    const output = fs.openSync(tmpDest, 'wx', mode);
    try {
      this.copyOutTo(oid, output, false);
    } finally {
      fs.closeSync(output);
    }
  }

  /**
   * Writes the object's bytes to an open file, at its current position. With `verify` they are
   * hashed on the way (unless this process wrote the object from bytes it hashed): a mismatch
   * quarantines the object and throws OBJECT_CORRUPT, and the caller removes what was written.
   * `size`, when the caller's stat check found it, spares the read that would find the end.
   */
  copyOutTo(oid: Oid, output: number, verify: boolean, onProgress?: (bytes: number) => void, size?: number): void {
    const input = this.openObject(oid);
    try {
      if (verify && !this.writtenSizes.has(oid)) {
        const actual = hashFd(this.newHasher, input, (chunk) => writeAll(output, chunk), onProgress).oid;
        if (actual !== oid) throw this.corrupt(oid);
        return;
      }
      const buf = ioBuffer();
      let left = size ?? Infinity;
      while (left > 0) {
        const n = fs.readSync(input, buf, 0, Math.min(buf.length, left), null);
        if (n === 0) break;
        writeAll(output, buf.subarray(0, n));
        onProgress?.(n);
        left -= n;
      }
    } finally {
      fs.closeSync(input);
    }
  }

  /**
   * Like `verify`, but trusts an object this process wrote from bytes it hashed itself (a pull that
   * just rebuilt it): linking a just-fetched checkpoint into the work tree does not hash it twice.
   */
  verifyUnlessWrittenHere(oid: Oid): void {
    if (!this.writtenSizes.has(oid)) this.verify(oid);
  }

  /** Re-hashes an object and returns its size; a mismatch quarantines it and throws OBJECT_CORRUPT. */
  verify(oid: Oid, onProgress?: (bytes: number) => void): number {
    let fd: number;
    try {
      fd = fs.openSync(this.pathOf(oid), 'r');
    } catch (err) {
      if (isErrno(err, 'ENOENT')) throw missingObject(oid);
      throw err;
    }
    let actual: { oid: Oid; size: number };
    try {
      actual = hashFd(this.newHasher, fd, undefined, onProgress);
    } finally {
      fs.closeSync(fd);
    }
    if (actual.oid !== oid) throw this.corrupt(oid);
    return actual.size;
  }

  /** Every oid in the store (for doctor, gc and verify). */
  *list(): Generator<Oid> {
    this.settle();
    for (const fan of readdirOrEmpty(this.objectsDir)) {
      if (!/^[0-9a-f]{2}$/.test(fan)) continue;
      for (const rest of readdirOrEmpty(path.join(this.objectsDir, fan))) {
        if (/^[0-9a-f]{62}$/.test(rest)) yield oidFromHex(`${fan}${rest}`);
      }
    }
  }

  /** A fresh temp path inside the store, on the same filesystem as the objects (see uniqueTempName). */
  newTempPath(): string {
    return path.join(this.tmpDir, uniqueTempName());
  }

  /**
   * Removes temp files of killed writers (see removeOrphanedTemps) from `tmp/`; with `fanout`, also
   * from the 256 fan-out folders, where a killed writer of small objects leaves at most the one it was
   * writing. That means listing every object, so only commands that list them anyway (gc, doctor) ask.
   */
  sweepTemp(maxAgeMs?: number, opts: { fanout?: boolean } = {}): number {
    let removed = removeOrphanedTemps(this.tmpDir, maxAgeMs);
    if (opts.fanout) {
      for (const fan of readdirOrEmpty(this.objectsDir)) {
        if (/^[0-9a-f]{2}$/.test(fan)) removed += removeOrphanedTemps(path.join(this.objectsDir, fan), maxAgeMs, (name) => FANOUT_TEMP.test(name));
      }
    }
    return removed;
  }

  private isIntact(oid: Oid, size: number): boolean {
    try {
      return fs.statSync(this.pathOf(oid)).size === size && hashBytes(this.newHasher, fs.readFileSync(this.pathOf(oid))) === oid;
    } catch {
      return false; // a copy that is missing or cannot be read is not trusted: verified bytes replace it
    }
  }

  /**
   * Renames a fully written, hashed temp file to the object's path. An object already there is
   * replaced by these verified bytes (same content when intact; a repair when it was not).
   */
  private moveIntoPlace(tmp: string, oid: Oid): void {
    const dest = this.objectPath(oid);
    this.ensureFanout(path.dirname(dest));
    fs.renameSync(tmp, dest);
  }

  /** Creates a fan-out folder once per process; it may hold this process's temp files from then on. */
  private ensureFanout(fanout: string): string {
    if (!this.knownFanout.has(fanout)) {
      fs.mkdirSync(fanout, { recursive: true });
      registerTempDir(fanout);
      this.knownFanout.add(fanout);
    }
    return fanout;
  }

  /**
   * Moves an object whose bytes no longer match its id out of the store, so nothing trusts it and a
   * fetch brings the good copy. Returns where it went (undefined when it could not be moved).
   */
  quarantine(oid: Oid): string | undefined {
    const moved = path.join(this.quarantineDir, `${oidHex(oid)}.${Date.now()}`);
    this.writtenSizes.delete(oid);
    try {
      fs.mkdirSync(this.quarantineDir, { recursive: true });
      fs.renameSync(this.pathOf(oid), moved);
      return moved;
    } catch {
      return undefined; // documented above: the caller reports the corruption either way
    }
  }

  private corrupt(oid: Oid, why = 'its content does not match its id'): MlxError {
    // left in place if it cannot be moved; the error still reports it
    const moved = this.quarantine(oid) ?? this.pathOf(oid);
    return objectCorrupt(`cache object ${oid} is corrupt (${why}); moved to ${moved}`, {
      hint: 'fetch it again from a remote, or re-add the original file',
      oid,
      quarantined: moved,
    });
  }
}

export function missingObject(oid: Oid): MlxError {
  return objectMissing(`object ${oid} is not in the cache`, {
    hint: 'fetch it from a remote (mlx pull) or re-add the original data',
    oid,
  });
}

function corruptDownload(oid: Oid, source: string): MlxError {
  return objectCorrupt(`object ${oid} from ${source} does not match its id (tampered or truncated); nothing was stored`, {
    hint: 'if it happens again, the copy on the remote is damaged: mlx push --repair on a machine that has the data sends it again',
    oid,
    source,
  });
}

function writeAll(fd: number, chunk: Uint8Array): void {
  let off = 0;
  while (off < chunk.length) off += fs.writeSync(fd, chunk, off, chunk.length - off);
}

/** Gives a file or folder the store's group and adds mode bits; one this user does not own is left as is. */
function shareEntry(file: string, gid: number, bits: number): void {
  try {
    const st = fs.lstatSync(file);
    if (st.gid !== gid) fs.chownSync(file, st.uid, gid);
    // chown clears setgid, so the mode is set after it.
    const mode = st.mode & 0o7777;
    if ((mode & bits) !== bits || st.gid !== gid) fs.chmodSync(file, mode | bits);
  } catch (err) {
    if (!isErrno(err, 'EPERM', 'ENOENT')) throw err;
  }
}

/** Where an oid's hex digits start, and where its fan-out folder's two end (the file name starts). */
const HEX_START = OID_ALGO.length + 1;
const FAN_END = HEX_START + 2;

/** The number of the fan-out folder of `oid` (its first two hex digits), or -1 if they are not hex. */
function fanOf(oid: Oid): number {
  const hi = hexDigit(oid.charCodeAt(HEX_START));
  const lo = hexDigit(oid.charCodeAt(HEX_START + 1));
  return hi < 0 || lo < 0 ? -1 : hi * 16 + lo;
}

function hexDigit(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x61 && c <= 0x66) return c - 0x57;
  return -1;
}

function readdirOrEmpty(dir: string): string[] {
  try {
    return fs.readdirSync(dir);
  } catch (err) {
    if (isErrno(err, 'ENOENT')) return [];
    throw err;
  }
}
