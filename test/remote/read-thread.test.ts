import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadHasher } from '../../src/hash/blake3.js';
import { hashBytes } from '../../src/hash/hash-file.js';
import { ThreadedReadAhead } from '../../src/remote/read-thread.js';
import type { ReadAheadItem } from '../../src/remote/small-object-reader.js';
import { bytes, tempDir } from '../helpers/repo.js';

const root = tempDir('mlx-read-thread-');
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

describe('ThreadedReadAhead', () => {
  it('hands over each small file with its oid, in order across batches, and nothing for the rest', async () => {
    const newHasher = await loadHasher();
    if (newHasher.nativeModule === undefined) return; // the thread needs the native binding
    // More files and bytes than one batch holds, so several batches come and go.
    const datas = Array.from({ length: 1400 }, (_, i) => bytes(200 + ((i * 71) % 3800), `rt${i}`));
    datas.forEach((d, i) => fs.writeFileSync(path.join(root, `f${i}`), d));
    const item = (i: number): ReadAheadItem => {
      const file = path.join(root, `f${i}`);
      if (i % 100 === 11) return { file, size: undefined }; // no recorded size
      if (i % 100 === 12) return { file, size: 5000 }; // at the limit: not small
      if (i % 100 === 13) return { file, size: 10 }; // recorded too short
      if (i % 100 === 14) return { file, size: datas[i]!.length + 7 }; // recorded too long
      if (i === 15) return { file: path.join(root, 'absent'), size: 10 };
      return { file, size: datas[i]!.length };
    };
    const ahead = new ThreadedReadAhead(datas.length, item, 5000, newHasher.nativeModule, 5);
    try {
      for (let i = 5; i < datas.length; i++) {
        const got = ahead.take(i);
        if (i === 15 || [11, 12, 13, 14].includes(i % 100)) expect(got, `item ${i}`).toBeUndefined();
        else {
          expect(got?.bytes.equals(datas[i]!), `item ${i}`).toBe(true);
          expect(got?.oid).toBe(hashBytes(newHasher, datas[i]!));
        }
      }
      expect(ahead.take(datas.length)).toBeUndefined();
    } finally {
      ahead.close();
    }
  });
});
