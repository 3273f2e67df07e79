import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadHasher, type HasherFactory } from '../../src/hash/blake3.js';
import { canHashAsWritten, hashFileAsWritten } from '../../src/hash/blake3-thread.js';
import { hashBytes } from '../../src/hash/hash-file.js';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'mlx-b3-thread-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));
let newHasher: HasherFactory;
beforeAll(async () => {
  newHasher = await loadHasher();
});

/** Blocks this thread for `ms`: the writer below must be slow while the hashing thread keeps up. */
const pause = (ms: number) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);

describe('hashFileAsWritten', () => {
  it('hashes a file that grows in steps while it is written, ending with what it holds', () => {
    expect(canHashAsWritten(newHasher)).toBe(true); // the native backend is installed here
    const file = path.join(tmp, 'growing');
    fs.writeFileSync(file, '');
    const parts = [crypto.randomBytes(3 << 20), crypto.randomBytes(1), crypto.randomBytes(5 << 20), crypto.randomBytes(777)];
    const result = hashFileAsWritten(newHasher, file, () => {
      for (const part of parts) {
        fs.appendFileSync(file, part);
        pause(15);
      }
    });
    const all = Buffer.concat(parts);
    expect(result).toEqual({ oid: hashBytes(newHasher, all), size: all.length });
  });

  it('passes on the error of a failed write, and hashes the next file as usual', () => {
    const file = path.join(tmp, 'failing');
    fs.writeFileSync(file, 'some bytes');
    expect(() => hashFileAsWritten(newHasher, file, () => {
      throw new Error('disk full');
    })).toThrow('disk full');
    fs.writeFileSync(file, '');
    const data = crypto.randomBytes(100_000);
    expect(hashFileAsWritten(newHasher, file, () => fs.writeFileSync(file, data))).toEqual({ oid: hashBytes(newHasher, data), size: data.length });
  });
});
