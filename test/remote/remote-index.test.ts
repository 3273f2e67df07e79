import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadHasher, type HasherFactory } from '../../src/hash/blake3.js';
import { DirRemote } from '../../src/remote/dir-remote.js';
import { damagedKey } from '../../src/remote/layout.js';
import { pushObjects } from '../../src/remote/push.js';
import { RemoteIndex } from '../../src/remote/remote-index.js';
import { ObjectStore } from '../../src/store/object-store.js';
import { tempDir } from '../helpers/repo.js';
import { rejectionCode } from '../helpers/errors.js';
import { E, MlxError } from '../../src/util/errors.js';

let newHasher: HasherFactory;
beforeAll(async () => {
  newHasher = await loadHasher();
});

describe('RemoteIndex and damaged-copy markers', () => {
  it('skips a marked copy when another exists, and never hides the only copy', async () => {
    const root = tempDir('mlx-index-');
    try {
      const store = new ObjectStore(path.join(root, 'store'), newHasher);
      store.init();
      const add = (name: string) => {
        fs.writeFileSync(path.join(root, name), crypto.randomBytes(5000));
        return store.importFile(path.join(root, name)).oid;
      };
      const [shared, x, y] = [add('shared.bin'), add('x.bin'), add('y.bin')];
      fs.mkdirSync(path.join(root, 'remote'));
      const remote = new DirRemote(path.join(root, 'remote'));
      let n = 0;
      const load = () => RemoteIndex.load(remote, path.join(root, `idx-${n++}`));
      // Two pushes that each found the remote empty: two different packs hold `shared`.
      const [first, second] = [await load(), await load()];
      await pushObjects(store, newHasher, remote, first, [shared, x]);
      await pushObjects(store, newHasher, remote, second, [shared, y]);
      const packOf = (idx: RemoteIndex, oid: string) => [...idx.packs].find(([, p]) => p.entries.some((e) => e.o === oid))![0];
      const both = await load();
      const [packX, packY] = [packOf(both, x), packOf(both, y)];
      expect(packX).not.toBe(packY);

      // Mark the copy the index would use: it uses the other one.
      const used = both.locate(shared)!.packHex;
      const other = used === packX ? packY : packX;
      await remote.put(damagedKey(`b3:${used}`, shared), Buffer.alloc(0));
      expect((await load()).locate(shared)?.packHex).toBe(other);
      await remote.put(damagedKey(`b3:${packY}`, y), Buffer.alloc(0));
      // y's only copy is marked: it stays (a read will say it is damaged), nothing is hidden.
      expect((await load()).locate(y)?.packHex).toBe(packY);
      await remote.put(damagedKey(`b3:${other}`, shared), Buffer.alloc(0));
      // Both copies of `shared` marked: one is still there to try.
      expect((await load()).has(shared)).toBe(true);
    } finally {
      fs.rmSync(root, { recursive: true, force: true });
    }
  });
});

describe('RemoteIndex and failed index downloads', () => {
  it('a failed download of a published index ends the load with its error; only a damaged or vanished index is passed over', async () => {
    const root = tempDir('mlx-index-net-');
    try {
      const store = new ObjectStore(path.join(root, 'store'), newHasher);
      store.init();
      fs.writeFileSync(path.join(root, 'a.bin'), crypto.randomBytes(5000));
      const oid = store.importFile(path.join(root, 'a.bin')).oid;
      fs.mkdirSync(path.join(root, 'remote'));
      const remote = new DirRemote(path.join(root, 'remote'));
      await pushObjects(store, newHasher, remote, await RemoteIndex.load(remote, path.join(root, 'idx-0')), [oid]);
      let n = 1;
      /** The remote, with every read of a pack index failing with `code`. */
      const failing = (code: string) =>
        new Proxy(remote, {
          get(target, prop) {
            if (prop === 'get') return async (key: string) => {
              if (key.endsWith('.idx')) throw new MlxError(code, `get ${key}: ${code}`);
              return target.get(key);
            };
            const v = Reflect.get(target, prop);
            return typeof v === 'function' ? v.bind(target) : v;
          },
        });
      for (const code of [E.REMOTE_UNREACHABLE, E.REMOTE_AUTH, E.REMOTE_FAILED]) {
        expect(await rejectionCode(RemoteIndex.load(failing(code), path.join(root, `idx-${n++}`))), code).toBe(code);
      }
      for (const code of [E.REMOTE_CORRUPT, E.BAD_PACK_INDEX]) {
        const idx = await RemoteIndex.load(failing(code), path.join(root, `idx-${n++}`));
        expect(idx.has(oid), code).toBe(false);
        expect(idx.warnings.join('\n'), code).toMatch(/ignored index\/.*\.idx/);
      }
      // A listed index that is gone was retired by a consolidation: the load lists again, and gives
      // up only when that keeps happening.
      const vanishing = failing(E.REMOTE_NOT_FOUND);
      await expect(RemoteIndex.load(vanishing, path.join(root, `idx-${n++}`))).rejects.toThrow(/kept changing while they were read/);
      expect((await RemoteIndex.load(remote, path.join(root, `idx-${n++}`))).has(oid)).toBe(true);
    } finally {
      fs.rmSync(root, { recursive: true, force: true });
    }
  });
});
