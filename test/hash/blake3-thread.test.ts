import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadHasher, type HasherFactory } from '../../src/hash/blake3.js';
import { canCopyHashed, copyHashed, fileContents, SLOT_SIZE } from '../../src/hash/blake3-thread.js';
import { hashBytes } from '../../src/hash/hash-file.js';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'mlx-b3-thread-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));
let newHasher: HasherFactory;
beforeAll(async () => {
  newHasher = await loadHasher();
});

/** Copies `data` (written to a file first) with copyHashed; returns its answer and the copy's bytes. */
function copyOf(data: Buffer, name: string, onProgress?: (n: number) => void) {
  const src = path.join(tmp, `${name}.src`);
  const dest = path.join(tmp, `${name}.dest`);
  fs.writeFileSync(src, data);
  const input = fs.openSync(src, 'r');
  const output = fs.openSync(dest, 'wx');
  try {
    return { result: copyHashed(newHasher, fileContents(input), output, onProgress), copy: fs.readFileSync(dest) };
  } finally {
    fs.closeSync(input);
    fs.closeSync(output);
    fs.rmSync(src);
    fs.rmSync(dest);
  }
}

describe('copyHashed', () => {
  it('gives the oid of the bytes written, the same as hashing them on this thread, at sizes around slot and ring boundaries', () => {
    expect(canCopyHashed(newHasher)).toBe(true); // the native backend is installed here
    const ring = 16 * SLOT_SIZE;
    const sizes = [0, 1, SLOT_SIZE - 1, SLOT_SIZE, SLOT_SIZE + 1, ring - 1, ring, ring + 1, 3 * ring + 12_345];
    for (const size of sizes) {
      const data = crypto.randomBytes(size);
      let reported = 0;
      const { result, copy } = copyOf(data, `s${size}`, (n) => (reported += n));
      expect(copy.equals(data)).toBe(true);
      expect(result).toEqual({ oid: hashBytes(newHasher, data), size });
      expect(reported).toBe(size);
    }
  });

  it('passes on the error of a failed write, and copies the next file as usual', () => {
    const src = path.join(tmp, 'failing.src');
    fs.writeFileSync(src, crypto.randomBytes(3 * SLOT_SIZE));
    const input = fs.openSync(src, 'r');
    const readOnly = fs.openSync(src, 'r'); // writing to it fails with EBADF
    try {
      expect(() => copyHashed(newHasher, fileContents(input), readOnly)).toThrow(/EBADF/);
    } finally {
      fs.closeSync(input);
      fs.closeSync(readOnly);
    }
    const data = crypto.randomBytes(5 * SLOT_SIZE + 7);
    const { result } = copyOf(data, 'after');
    expect(result).toEqual({ oid: hashBytes(newHasher, data), size: data.length });
  });
});
