import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadHasher, type HasherFactory } from '../../src/hash/blake3.js';
import { hashBytes } from '../../src/hash/hash-file.js';
import { serializePackIndex } from '../../src/formats/pack-index.js';
import { serializeRecipe } from '../../src/formats/recipe.js';
import { findDamagedCopies } from '../../src/remote/damage-check.js';
import { DirRemote } from '../../src/remote/dir-remote.js';
import { damagedKey, indexKey, packKey } from '../../src/remote/layout.js';
import { PackWriter } from '../../src/remote/pack.js';
import { pushObjects } from '../../src/remote/push.js';
import { RemoteIndex } from '../../src/remote/remote-index.js';
import { ObjectStore } from '../../src/store/object-store.js';
import { tempDir } from '../helpers/repo.js';

let newHasher: HasherFactory;
beforeAll(async () => {
  newHasher = await loadHasher();
});

describe('findDamagedCopies', () => {
  it('counts a recipe that parses but names a chunk nobody stored as damaged, and checks the chunks it can', async () => {
    const root = tempDir('mlx-damage-');
    try {
      const store = new ObjectStore(path.join(root, 'store'), newHasher);
      store.init();
      fs.writeFileSync(path.join(root, 'big.bin'), crypto.randomBytes(9 << 20));
      const { oid } = store.importFile(path.join(root, 'big.bin'));
      fs.mkdirSync(path.join(root, 'remote'));
      const remote = new DirRemote(path.join(root, 'remote'));
      let n = 0;
      const load = () => RemoteIndex.load(remote, path.join(root, `idx-${n++}`));
      await pushObjects(store, newHasher, remote, await load(), [oid]);
      const good = (await load()).locate(oid)!;
      expect(good.entry.t).toBe('r');

      // A second copy of the recipe that names one chunk that exists and one that does not; the good
      // copy is marked damaged, so readers use this one.
      const chunk = (await load()).packs.get(good.packHex)!.entries.find((e) => e.t === 'b')!;
      const ghost = hashBytes(newHasher, Buffer.from('no such chunk'));
      const writer = new PackWriter(newHasher);
      writer.add(oid, 'r', Buffer.from(serializeRecipe([[chunk.o, chunk.raw], [ghost, 13]])));
      const { pack, index: packIndex } = writer.finish();
      await remote.put(packKey(packIndex.pack), Buffer.from(pack));
      await remote.put(indexKey(packIndex.pack), Buffer.from(serializePackIndex(packIndex)));
      await remote.put(damagedKey(`b3:${good.packHex}`, oid), Buffer.alloc(0));

      const index = await load();
      expect(index.locate(oid)?.packHex).not.toBe(good.packHex);
      const report = await findDamagedCopies(remote, index, newHasher, [oid]);
      expect(report.damaged).toEqual([expect.objectContaining({ oid, why: expect.stringMatching(new RegExp(`names chunk ${ghost}`)) })]);
      expect(report.files).toEqual([oid]);
      expect(report.uncheckedFiles).toEqual([oid]);
      expect(report.checked).toBe(2); // the recipe and the one chunk of it the remote has
    } finally {
      fs.rmSync(root, { recursive: true, force: true });
    }
  });
});
