import crypto from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadHasher, type HasherFactory } from '../../src/hash/blake3.js';
import { oidOfPieces } from '../../src/hash/blake3-shared.js';
import { hashBytes } from '../../src/hash/hash-file.js';
import { alignedSharedBuffer } from '../../src/util/aligned-memory.js';

let newHasher: HasherFactory;
beforeAll(async () => {
  newHasher = await loadHasher();
});

describe('oidOfPieces', () => {
  it('names pieces in shared memory (hashed on its thread) as the oid of their bytes back to back', async () => {
    expect(newHasher.nativeModule).toBeDefined(); // else the thread is never used
    const wasm = alignedSharedBuffer(3 << 20);
    const sab = Buffer.from(new SharedArrayBuffer(1 << 20));
    crypto.randomFillSync(wasm);
    crypto.randomFillSync(sab);
    const pieces = [wasm.subarray(0, 700_001), sab.subarray(5, 900_000), wasm.subarray(700_001)];
    const joined = Buffer.concat(pieces);
    expect(await oidOfPieces(newHasher, pieces)).toBe(hashBytes(newHasher, joined));
    expect(await oidOfPieces(newHasher, [wasm.subarray(10, 10)])).toBe(hashBytes(newHasher, Buffer.alloc(0)));
    // Many at once, each answered with its own oid.
    const views = Array.from({ length: 40 }, (_, i) => [sab.subarray(i * 1000, i * 1000 + 3000 + i)]);
    expect(await Promise.all(views.map((v) => oidOfPieces(newHasher, v)))).toEqual(views.map(([v]) => hashBytes(newHasher, v!)));
  });

  it('hashes here what is not all in shared memory, or without the native backend, with the same oid', async () => {
    const sab = Buffer.from(new SharedArrayBuffer(200_000));
    crypto.randomFillSync(sab);
    const plain = Buffer.from(sab.subarray(100_000));
    const want = hashBytes(newHasher, Buffer.concat([sab.subarray(0, 100_000), plain]));
    expect(await oidOfPieces(newHasher, [sab.subarray(0, 100_000), plain])).toBe(want);
    const portable: HasherFactory = Object.assign(() => newHasher(), { hexOf: newHasher.hexOf });
    expect(await oidOfPieces(portable, [sab.subarray(0, 100_000), sab.subarray(100_000)])).toBe(want);
  });
});
