import fs from 'node:fs';
import path from 'node:path';
import crypto from 'node:crypto';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { loadHasher, type HasherFactory } from '../../src/hash/blake3.js';
import { parsePackIndex } from '../../src/formats/pack-index.js';
import { DirRemote } from '../../src/remote/dir-remote.js';
import { fetchObjects } from '../../src/remote/fetch.js';
import { pushObjects } from '../../src/remote/push.js';
import { RemoteIndex } from '../../src/remote/remote-index.js';
import type { ByteRange, Remote } from '../../src/remote/remote.js';
import { ObjectStore } from '../../src/store/object-store.js';
import { E } from '../../src/util/errors.js';
import { rejectionCode } from '../helpers/errors.js';
import { tempDir } from '../helpers/repo.js';

let newHasher: HasherFactory;
beforeAll(async () => {
  newHasher = await loadHasher();
});
const roots: string[] = [];
afterEach(() => {
  for (const root of roots.splice(0)) fs.rmSync(root, { recursive: true, force: true });
});

/** A large random file pushed to a directory remote from one store, and an empty store to fetch it into. */
async function pushed(size: number) {
  const root = tempDir('mlx-local-pack-');
  roots.push(root);
  const remoteDir = path.join(root, 'remote');
  fs.mkdirSync(remoteDir);
  const remote = new DirRemote(remoteDir);
  const source = new ObjectStore(path.join(root, 'source'), newHasher);
  source.init();
  const target = new ObjectStore(path.join(root, 'target'), newHasher);
  target.init();
  const data = crypto.randomBytes(size);
  fs.writeFileSync(path.join(root, 'big.bin'), data);
  const oid = source.importFile(path.join(root, 'big.bin')).oid;
  await pushObjects(source, newHasher, remote, await RemoteIndex.load(remote, path.join(root, 'idx-push')), [oid], { packTarget: 4 << 20 });
  /** `remote`, counting the bytes of ranged reads of packs that go through `get`. */
  const counted = () => {
    const seen = { rangedBytes: 0 };
    const via = Object.assign(Object.create(remote) as Remote, {
      async get(key: string, range?: ByteRange, into?: Buffer): Promise<Buffer> {
        if (range && key.endsWith('.pack')) seen.rangedBytes += range.end - range.start;
        return remote.get(key, range, into);
      },
    });
    return { via, seen };
  };
  const loadIndex = () => RemoteIndex.load(remote, path.join(root, `idx-${crypto.randomBytes(4).toString('hex')}`));
  const fetchInto = async (store: ObjectStore, via: Remote, index?: RemoteIndex) => fetchObjects(store, newHasher, via, index ?? (await loadIndex()), [oid], { jobs: 4 });
  return { root, remoteDir, target, data, oid, counted, loadIndex, fetchInto };
}

describe('rebuilding a large file from the pack files of a directory remote', () => {
  it('copies its chunks from the pack files themselves: only the recipe is read through the remote', async () => {
    const { target, data, oid, counted, fetchInto } = await pushed(13 << 20);
    const { via, seen } = counted();
    const summary = await fetchInto(target, via);
    expect(summary).toMatchObject({ fetched: 1, missingOnRemote: [] });
    expect(summary.bytesReceived).toBeGreaterThanOrEqual(data.length); // the chunks count as received, as read any other way
    expect(fs.readFileSync(target.pathOf(oid)).equals(data)).toBe(true);
    expect(seen.rangedBytes).toBeLessThan(64 * 1024); // the recipe's member; the 13 MiB of chunks were copied
    expect(fs.readdirSync(target.tmpDir)).toEqual([]);
  });

  it('reads a file whose pack was cut short after the index was read through the remote, which reports it; nothing is stored', async () => {
    const { remoteDir, target, oid, counted, loadIndex, fetchInto } = await pushed(9 << 20);
    const index = await loadIndex(); // a pack of the wrong size is not even listed: cut it short after
    const packs = path.join(remoteDir, 'packs');
    const indexes = path.join(remoteDir, 'index');
    // A pack of chunks only: cutting short the one that holds the recipe would fail before any chunk is read.
    const chunksOnly = (f: string) => {
      const { entries } = parsePackIndex(fs.readFileSync(path.join(indexes, f)), f);
      return entries.some((e) => e.t === 'b') && !entries.some((e) => e.t === 'r');
    };
    const idx = fs.readdirSync(indexes).find((f) => f.endsWith('.idx') && chunksOnly(f))!;
    const pack = path.join(packs, idx.replace(/\.idx$/, '.pack'));
    fs.truncateSync(pack, fs.statSync(pack).size >> 1);
    const { via, seen } = counted();
    expect(await rejectionCode(fetchInto(target, via, index))).toBe(E.OBJECT_CORRUPT);
    expect(seen.rangedBytes).toBeGreaterThan(1 << 20); // the general way read the chunks through the remote
    expect(target.has(oid)).toBe(false);
    expect(fs.readdirSync(target.tmpDir)).toEqual([]);
  });
});
