import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadHasher, type HasherFactory } from '../../src/hash/blake3.js';
import { hashBytes } from '../../src/hash/hash-file.js';
import { chunkBuffer, type ChunkerOptions } from '../../src/store/chunker.js';
import { hashedChunksOfFile } from '../../src/store/chunk-thread.js';
import { prng } from '../helpers/repo.js';

const MiB = 1 << 20;
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'mlx-chunk-thread-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));
let newHasher: HasherFactory;
beforeAll(async () => {
  newHasher = await loadHasher();
});

/** What the chunks of `data` must be: chunkBuffer's spans, each named by its bytes. */
const expected = (data: Buffer, opts?: ChunkerOptions) =>
  chunkBuffer(data, opts).map((s) => ({ offset: s.offset, length: s.length, oid: hashBytes(newHasher, data.subarray(s.offset, s.offset + s.length)) }));

async function collect(file: string, opts?: ChunkerOptions, hasher = newHasher) {
  const out: { offset: number; length: number; oid: string }[] = [];
  const whole = crypto.createHash('sha256');
  const fileOids: (string | undefined)[] = [];
  for await (const { chunk, offset, oid, fileOid } of hashedChunksOfFile(hasher, file, opts)) {
    // The bytes handed over are the ones named: hash them again here.
    expect(hashBytes(newHasher, chunk)).toBe(oid);
    whole.update(chunk);
    out.push({ offset, length: chunk.length, oid });
    fileOids.push(fileOid);
  }
  // The whole file's oid comes with the last chunk only (none for an empty file).
  if (out.length > 0) expect(fileOids.pop()).toBe(hashBytes(newHasher, fs.readFileSync(file)));
  expect(fileOids.every((o) => o === undefined)).toBe(true);
  return { chunks: out, sha: whole.digest('hex') };
}

describe('hashedChunksOfFile', () => {
  it('on the worker: the chunks and oids of an in-memory cut, across many ring blocks and for tiny files', async () => {
    const small = { min: 2048, avg: 8192, max: 32768 }; // blocks of 128 KiB: the ring goes round many times
    const data = Buffer.concat([prng(3 * MiB + 99, 'ring'), Buffer.alloc(200_000), prng(70_001, 'ring-tail')]);
    const file = path.join(tmp, 'data.bin');
    fs.writeFileSync(file, data);
    for (const opts of [small, undefined]) {
      const got = await collect(file, opts);
      expect(got.chunks).toEqual(expected(data, opts));
      expect(got.sha).toBe(crypto.createHash('sha256').update(data).digest('hex'));
    }
    for (const n of [0, 1, 2048, 40_000]) {
      fs.writeFileSync(file, data.subarray(0, n));
      expect((await collect(file, small)).chunks).toEqual(expected(data.subarray(0, n), small));
    }
  });

  it('a kept chunk stays unchanged until released, however far the caller reads on; keeping never stalls the worker', async () => {
    const opts = { min: 2048, avg: 8192, max: 32768 }; // blocks of 128 KiB: the ring goes round many times
    const data = prng(4 * MiB + 17, 'keep');
    const file = path.join(tmp, 'keep.bin');
    fs.writeFileSync(file, data);
    const same = (c: { chunk: Buffer; offset: number }) => c.chunk.equals(data.subarray(c.offset, c.offset + c.chunk.length));
    // Kept to the end: only a few blocks' worth can be, the rest is refused (the caller copies those).
    const kept: { chunk: Buffer; offset: number; release: () => void }[] = [];
    let refused = 0;
    let seen = 0;
    for await (const c of hashedChunksOfFile(newHasher, file, opts)) {
      seen++;
      const release = c.keep();
      if (release) kept.push({ chunk: c.chunk, offset: c.offset, release });
      else refused++;
    }
    expect(kept.length).toBeGreaterThan(10);
    expect(refused).toBeGreaterThan(seen / 2);
    expect(kept.every(same)).toBe(true);
    for (const k of kept) k.release();
    // Released one at a time a little behind the caller, as uploads finish: all can be kept.
    const lagging: { chunk: Buffer; offset: number; release: () => void }[] = [];
    let keptAll = true;
    for await (const c of hashedChunksOfFile(newHasher, file, opts)) {
      const release = c.keep();
      if (!release) keptAll = false;
      else lagging.push({ chunk: c.chunk, offset: c.offset, release });
      if (lagging.length > 8) {
        const oldest = lagging.shift()!;
        expect(same(oldest)).toBe(true);
        oldest.release();
      }
    }
    expect(keptAll).toBe(true);
    expect(lagging.every(same)).toBe(true);
    for (const k of lagging) k.release();
    expect((await collect(file, opts)).chunks).toEqual(expected(data, opts));
  });

  it('gives the same chunks and oids with a hasher that is not the native one', async () => {
    const data = prng(300_000, 'portable');
    const file = path.join(tmp, 'portable.bin');
    fs.writeFileSync(file, data);
    const opts = { min: 2048, avg: 8192, max: 32768 };
    const portable: HasherFactory = Object.assign(() => newHasher(), { hexOf: newHasher.hexOf });
    expect((await collect(file, opts, portable)).chunks).toEqual(expected(data, opts));
  });

  it('a caller that stops half-way, or a file that cannot be read, leaves the next file chunked correctly', async () => {
    const opts = { min: 2048, avg: 8192, max: 32768 };
    const data = prng(2 * MiB, 'stop');
    const file = path.join(tmp, 'stop.bin');
    fs.writeFileSync(file, data);
    let seen = 0;
    for await (const _ of hashedChunksOfFile(newHasher, file, opts)) if (++seen === 5) break;
    await expect(collect(path.join(tmp, 'absent.bin'), opts)).rejects.toMatchObject({ code: 'ENOENT' });
    expect((await collect(file, opts)).chunks).toEqual(expected(data, opts));
  });

  it('a chunk kept from a file the caller stopped half-way stays unchanged while later files are chunked, until released', async () => {
    const opts = { min: 2048, avg: 8192, max: 32768 };
    const first = prng(2 * MiB, 'stopped-kept');
    const later = prng(2 * MiB, 'chunked-later');
    const firstFile = path.join(tmp, 'stopped-kept.bin');
    const laterFile = path.join(tmp, 'chunked-later.bin');
    fs.writeFileSync(firstFile, first);
    fs.writeFileSync(laterFile, later);
    let kept: { chunk: Buffer; offset: number; release: () => void } | undefined;
    for await (const c of hashedChunksOfFile(newHasher, firstFile, opts)) {
      kept = { chunk: c.chunk, offset: c.offset, release: c.keep()! };
      break; // the thread is stopped: its ring must not go to another thread while the chunk is kept
    }
    const original = Buffer.from(first.subarray(kept!.offset, kept!.offset + kept!.chunk.length));
    await new Promise((resolve) => setTimeout(resolve, 200)); // the stopped threads exit meanwhile
    // Several at once: beyond the threads kept idle, new ones (and rings) are made.
    const all = await Promise.all([1, 2, 3, 4].map(() => collect(laterFile, opts)));
    for (const got of all) expect(got.chunks).toEqual(expected(later, opts));
    expect(kept!.chunk.equals(original)).toBe(true);
    kept!.release();
  });
});
