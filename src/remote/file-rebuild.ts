import fs from 'node:fs';
import type { Hasher, HasherFactory } from '../hash/blake3.js';
import { ioBuffer } from '../hash/hash-file.js';
import { oidFromHex, type Oid } from '../hash/oid.js';

/**
 * Which early chunks may wait in memory for their turn. Each ranged read whose chunks wait keeps its
 * buffer, and so its place in the pool of reads, until they are written; holding at most `limit` of
 * them (one less than the reads in flight) leaves a read free to fetch what they wait for, so waiting
 * always ends. Every chunk of a read is taken before the read waits for any, so a read never waits
 * for its own bytes.
 */
export class ReorderGate {
  private readonly holders = new Map<object, number>();
  private readonly aborts = new Set<(err: unknown) => void>();
  private failure: unknown;

  constructor(private readonly limit: number) {}

  /** A promise of `turn` for a chunk of `holder` that may wait, or undefined when it must not. */
  wait(turn: Promise<void>, holder: object): Promise<void> | undefined {
    const held = this.holders.get(holder) ?? 0;
    if (this.failure !== undefined || (held === 0 && this.holders.size >= this.limit)) return undefined;
    this.holders.set(holder, held + 1);
    return new Promise<void>((resolve, reject) => {
      this.aborts.add(reject);
      turn.then(resolve, reject);
    }).finally(() => {
      const left = this.holders.get(holder)! - 1;
      if (left === 0) this.holders.delete(holder);
      else this.holders.set(holder, left);
    });
  }

  /** A read failed: what waits would wait forever. */
  abort(err: unknown): void {
    this.failure ??= err;
    for (const reject of this.aborts) reject(err);
    this.aborts.clear();
  }
}

/**
 * A large file being rebuilt from chunks that may arrive in any order. The whole-file hash advances
 * over the longest written prefix. A chunk that continues it (the usual case: ranges are fetched in
 * file order) is hashed from memory while the file system writes it in the background, so hashing and
 * writing overlap. A chunk that arrives early waits in memory for its turn where the gate lets it;
 * otherwise it is written at once and hashed later by reading it back.
 */
export class FileRebuild {
  private fd: number;
  private readonly hasher: Hasher;
  private hashed = 0;
  /** Written (synchronously) but not yet hashed: offset -> length. */
  private readonly pending = new Map<number, number>();
  /** Early chunks waiting in memory: offset -> wake-up. */
  private readonly turns = new Map<number, () => void>();
  /** Background writes still running (or failed). */
  private readonly writes = new Set<Promise<void>>();
  private failure: unknown;

  constructor(readonly tmp: string, newHasher: HasherFactory, private readonly size: number) {
    this.fd = fs.openSync(tmp, 'wx+', 0o644); // read back to hash chunks that arrived early
    this.hasher = newHasher();
  }

  /** Writes a chunk at its offset; the returned promise settles when `bytes` may be reused. */
  write(offset: number, bytes: Buffer, gate?: ReorderGate, holder?: object): Promise<void> | undefined {
    if (offset === this.hashed) return this.writeInTurn(offset, bytes);
    const turn = gate && holder ? gate.wait(new Promise<void>((resolve) => this.turns.set(offset, resolve)), holder) : undefined;
    if (turn) return turn.then(() => this.writeInTurn(offset, bytes));
    this.turns.delete(offset);
    writeAllSync(this.fd, bytes, offset);
    this.pending.set(offset, bytes.length);
    return undefined;
  }

  private writeInTurn(offset: number, bytes: Buffer): Promise<void> {
    if (offset !== this.hashed) throw new Error(`internal: chunk at ${offset} written in turn at ${this.hashed}`);
    const written = writeAll(this.fd, bytes, offset).catch((err) => {
      this.failure ??= err;
      throw err;
    });
    this.writes.add(written);
    void written.then(() => this.writes.delete(written), () => undefined);
    this.hasher.update(bytes);
    this.hashed += bytes.length;
    this.catchUp();
    return written;
  }

  /** Wakes the chunk waiting in memory for the current end of the hashed prefix, if any. */
  private wakeNext(): void {
    const wake = this.turns.get(this.hashed);
    if (wake) {
      this.turns.delete(this.hashed);
      wake();
    }
  }

  /** Waits until no background write is running. */
  async settle(): Promise<void> {
    await Promise.allSettled([...this.writes]);
  }

  /** Waits for the background writes, closes the file and returns the oid of its bytes. */
  async finish(): Promise<Oid> {
    await this.settle();
    if (this.failure) throw this.failure;
    this.catchUp();
    if (this.hashed !== this.size) throw new Error(`internal: rebuilt ${this.hashed} of ${this.size} bytes`);
    fs.closeSync(this.fd);
    this.fd = -1;
    return oidFromHex(this.hasher.digestHex());
  }

  /** Removes the temp file unless the store adopted it. Call only once no write is running (`settle`). */
  discard(): void {
    if (this.fd >= 0) fs.closeSync(this.fd);
    this.fd = -1;
    fs.rmSync(this.tmp, { force: true });
  }

  /** Hashes chunks written after the hashed prefix that now continue it, reading them back. */
  private catchUp(): void {
    const buf = ioBuffer();
    for (let len = this.pending.get(this.hashed); len !== undefined; len = this.pending.get(this.hashed)) {
      this.pending.delete(this.hashed);
      for (let done = 0; done < len; ) {
        const n = fs.readSync(this.fd, buf, 0, Math.min(buf.length, len - done), this.hashed + done);
        if (n === 0) throw new Error('internal: rebuilt file shorter than written');
        this.hasher.update(n === buf.length ? buf : buf.subarray(0, n));
        done += n;
      }
      this.hashed += len;
    }
    this.wakeNext();
  }
}

function writeAllSync(fd: number, bytes: Buffer, position: number): void {
  for (let done = 0; done < bytes.length; ) done += fs.writeSync(fd, bytes, done, bytes.length - done, position + done);
}

/** `writeAllSync` on a file-system thread. */
async function writeAll(fd: number, bytes: Buffer, position: number): Promise<void> {
  for (let done = 0; done < bytes.length; ) {
    done += await new Promise<number>((resolve, reject) =>
      fs.write(fd, bytes, done, bytes.length - done, position + done, (err, n) => (err ? reject(err) : resolve(n))),
    );
  }
}
