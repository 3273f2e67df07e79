import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadHasher, type HasherFactory } from '../../src/hash/blake3.js';
import { oidHex } from '../../src/hash/oid.js';
import { parseRecipe } from '../../src/formats/recipe.js';
import { DirRemote } from '../../src/remote/dir-remote.js';
import { pushObjects } from '../../src/remote/push.js';
import { RemoteIndex } from '../../src/remote/remote-index.js';
import { ObjectStore } from '../../src/store/object-store.js';
import { prng, tempDir } from '../helpers/repo.js';

/*
 * The chunk boundaries and oids a push gives a large file are part of the remote format: remotes that
 * already hold a file's chunks dedupe a new version against them. These values were recorded from the
 * first implementation; however chunking and hashing are done (threads, unrolled loops, block sizes),
 * a push must name the very same chunks.
 */

let newHasher: HasherFactory;
beforeAll(async () => {
  newHasher = await loadHasher();
});

const MiB = 1 << 20;

describe('the chunks a push sends of a large file', () => {
  it('are cut and named exactly as they always were', async () => {
    const root = tempDir('mlx-push-chunks-');
    try {
      // Random bytes, then a run of zeros (forced cuts at max), then random bytes again.
      const data = Buffer.concat([prng(9 * MiB + 4321, 'pinned-a'), Buffer.alloc(9 * MiB), prng(3 * MiB + 17, 'pinned-b')]);
      fs.writeFileSync(path.join(root, 'big.bin'), data);
      const store = new ObjectStore(path.join(root, 'cache'), newHasher);
      store.init();
      const { oid } = store.importFile(path.join(root, 'big.bin'));
      const remote = new DirRemote(path.join(root, 'remote'), 'file:///pinned');
      fs.mkdirSync(remote.root, { recursive: true });
      const index = await RemoteIndex.load(remote, path.join(root, 'idx'));
      await pushObjects(store, newHasher, remote, index, [oid], { packTarget: 4 * MiB });

      const recipe = parseRecipe(fs.readFileSync(path.join(store.root, 'recipes', oidHex(oid))), 'pinned');
      const summary = crypto.createHash('sha256').update(JSON.stringify(recipe.chunks)).digest('hex');
      expect(oid).toBe('b3:c47a1912ec2b59a99e5e0b48e6575366dcb4fc5905a9333b01fe315e37b3207b');
      expect(recipe.chunks.map(([, size]) => size)).toEqual([
        1067775, 1053667, 912841, 1126810, 1298541, 1132086, 1541818, 4194304, 4194304, 2455903, 832909, 1515267, 698209,
      ]);
      expect(summary).toBe('90e799e361d6890954f3fa5d76e9979c32d1cb3cfef3362370d5554aa4aae1da');
      expect(recipe.chunks[7]![0]).toBe('b3:bcc1a7534bde293c8330d775388c6245122a6b872f24c17de71e6cd115828ed1');
      // Inside the zeros, cut at the forced maximum: BLAKE3 of 4 MiB of zeros (as `b3sum` says).
      expect(recipe.chunks[8]![0]).toBe('b3:04e52cd2da6a0e1f338b0078369130d96585c1de65057da5dd1283b12fb853e1');
      for (const [chunk] of recipe.chunks) expect(index.has(chunk)).toBe(true);
      expect(index.has(oid)).toBe(true);
    } finally {
      fs.rmSync(root, { recursive: true, force: true });
    }
  });
});
