import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadHasher, type HasherFactory } from '../../src/hash/blake3.js';
import { hashBytes } from '../../src/hash/hash-file.js';
import { FileRebuild, ReorderGate } from '../../src/remote/file-rebuild.js';
import { tempDir } from '../helpers/repo.js';

let newHasher: HasherFactory;
beforeAll(async () => {
  newHasher = await loadHasher();
});

/** `data` cut into `n` pieces of uneven sizes: [offset, bytes]. */
function pieces(data: Buffer, n: number): [number, Buffer][] {
  const out: [number, Buffer][] = [];
  for (let i = 0, off = 0; i < n; i++) {
    const end = i === n - 1 ? data.length : Math.min(data.length, off + 1000 + ((i * 7919) % 5000));
    out.push([off, Buffer.from(data.subarray(off, end))]);
    off = end;
  }
  return out;
}

describe('FileRebuild with a ReorderGate', () => {
  it('rebuilds and hashes a file whose chunks come in any order: some wait in memory, the rest are read back', async () => {
    const dir = tempDir('mlx-rebuild-');
    try {
      const data = crypto.randomBytes(200_000);
      const parts = pieces(data, 60);
      // Reverse order, then a few swaps: every chunk but the last to come is early.
      const order = [...parts].reverse();
      [order[3], order[40]] = [order[40]!, order[3]!];
      const gate = new ReorderGate(2);
      const file = new FileRebuild(path.join(dir, 'tmp'), newHasher, data.length);
      const holders = order.map(() => ({}));
      const results = order.map(([off, bytes], i) => file.write(off, bytes, gate, holders[i]));
      // Two readers were allowed to wait in memory, the last chunk came in turn; every other early
      // chunk was written at once (and is read back to be hashed).
      expect(results.filter((r) => r !== undefined).length).toBe(3);
      await Promise.all(results);
      expect(await file.finish()).toBe(hashBytes(newHasher, data));
      expect(fs.readFileSync(file.tmp).equals(data)).toBe(true);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('lets a reader that already waits add more chunks, and no new reader past the limit', async () => {
    const dir = tempDir('mlx-rebuild-');
    try {
      const data = crypto.randomBytes(30_000);
      const [a, b, c, d] = pieces(data, 4) as [number, Buffer][];
      const gate = new ReorderGate(1);
      const file = new FileRebuild(path.join(dir, 'tmp'), newHasher, data.length);
      const reader1 = {};
      const reader2 = {};
      const waitC = file.write(c[0], c[1], gate, reader1);
      const waitD = file.write(d[0], d[1], gate, reader1);
      expect(waitC).toBeInstanceOf(Promise);
      expect(waitD).toBeInstanceOf(Promise);
      expect(file.write(b[0], b[1], gate, reader2)).toBeUndefined(); // written at once, read back later
      await file.write(a[0], a[1], gate, {});
      await Promise.all([waitC, waitD]);
      expect(await file.finish()).toBe(hashBytes(newHasher, data));
      expect(fs.readFileSync(file.tmp).equals(data)).toBe(true);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('an aborted transfer releases every waiting chunk with its error, and the temp file goes', async () => {
    const dir = tempDir('mlx-rebuild-');
    try {
      const data = crypto.randomBytes(30_000);
      const [, b, c] = pieces(data, 3) as [number, Buffer][];
      const gate = new ReorderGate(3);
      const file = new FileRebuild(path.join(dir, 'tmp'), newHasher, data.length);
      const waiting = [file.write(b[0], b[1], gate, {}), file.write(c[0], c[1], gate, {})];
      const failure = new Error('the read of the first chunk failed');
      gate.abort(failure);
      for (const w of waiting) await expect(w).rejects.toBe(failure);
      // Once aborted, nothing more waits: a late early chunk is written at once.
      expect(file.write(c[0], c[1], gate, {})).toBeUndefined();
      await file.settle();
      file.discard();
      expect(fs.readdirSync(dir)).toEqual([]);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
