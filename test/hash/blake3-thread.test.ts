import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadHasher, type HasherFactory } from '../../src/hash/blake3.js';
import { canCopyHashed, copyHashed, SLOT_SIZE, wholeFile } from '../../src/hash/blake3-thread.js';
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
    return { result: copyHashed(newHasher, wholeFile(input), output, onProgress), copy: fs.readFileSync(dest) };
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
    const ring = 4 * SLOT_SIZE; // the slots of the ring
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
      expect(() => copyHashed(newHasher, wholeFile(input), readOnly)).toThrow(/EBADF/);
    } finally {
      fs.closeSync(input);
      fs.closeSync(readOnly);
    }
    const data = crypto.randomBytes(5 * SLOT_SIZE + 7);
    const { result } = copyOf(data, 'after');
    expect(result).toEqual({ oid: hashBytes(newHasher, data), size: data.length });
  });

  it('copies ranges of several files, named or open, back to back', () => {
    const a = crypto.randomBytes(2 * SLOT_SIZE + 99);
    const b = crypto.randomBytes(SLOT_SIZE / 2);
    const fileA = path.join(tmp, 'ranges.a');
    const fileB = path.join(tmp, 'ranges.b');
    fs.writeFileSync(fileA, a);
    fs.writeFileSync(fileB, b);
    const dest = path.join(tmp, 'ranges.dest');
    const input = fs.openSync(fileB, 'r');
    const output = fs.openSync(dest, 'wx');
    try {
      const result = copyHashed(newHasher, [
        { file: fileA, position: 5, length: SLOT_SIZE + 3 },
        { fd: input, position: 0, length: 1000 },
        { file: fileA, position: 0, length: 0 },
        { file: fileB, position: 10, length: 20 },
        { file: fileA, position: SLOT_SIZE, length: -1 },
      ], output);
      const expected = Buffer.concat([a.subarray(5, SLOT_SIZE + 8), b.subarray(0, 1000), b.subarray(10, 30), a.subarray(SLOT_SIZE)]);
      expect(fs.readFileSync(dest).equals(expected)).toBe(true);
      expect(result).toEqual({ oid: hashBytes(newHasher, expected), size: expected.length });
    } finally {
      fs.closeSync(input);
      fs.closeSync(output);
    }
  });

  it('throws, with its code, when a source cannot be read or ends before its range; then copies as usual', () => {
    const src = path.join(tmp, 'short.src');
    fs.writeFileSync(src, crypto.randomBytes(3 * SLOT_SIZE));
    const dest = path.join(tmp, 'short.dest');
    const output = fs.openSync(dest, 'w');
    try {
      expect(() => copyHashed(newHasher, [{ file: src, position: SLOT_SIZE, length: 3 * SLOT_SIZE }], output)).toThrow(
        expect.objectContaining({ code: 'ESHORT', message: 'a source ends before the range to copy from it' }),
      );
      expect(() => copyHashed(newHasher, [{ file: path.join(tmp, 'missing'), position: 0, length: 10 }], output)).toThrow(
        expect.objectContaining({ code: 'ENOENT' }),
      );
      const writeOnly = fs.openSync(path.join(tmp, 'write-only'), 'w');
      try {
        expect(() => copyHashed(newHasher, wholeFile(writeOnly), output)).toThrow(expect.objectContaining({ code: 'EBADF' }));
      } finally {
        fs.closeSync(writeOnly);
      }
    } finally {
      fs.closeSync(output);
    }
    const data = crypto.randomBytes(2 * SLOT_SIZE + 3);
    expect(copyOf(data, 'after-short').result).toEqual({ oid: hashBytes(newHasher, data), size: data.length });
  });
});
