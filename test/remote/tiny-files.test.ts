import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { loadHasher, type HasherFactory } from '../../src/hash/blake3.js';
import { hashBytes } from '../../src/hash/hash-file.js';
import { parsePackIndex, serializePackIndex } from '../../src/formats/pack-index.js';
import { DirRemote } from '../../src/remote/dir-remote.js';
import { fetchObjects } from '../../src/remote/fetch.js';
import { INDEX_PREFIX, MARKER_KEY, PACKS_PREFIX } from '../../src/remote/layout.js';
import { pushObjects } from '../../src/remote/push.js';
import { RemoteIndex } from '../../src/remote/remote-index.js';
import type { Remote } from '../../src/remote/remote.js';
import { ObjectStore } from '../../src/store/object-store.js';
import { E } from '../../src/util/errors.js';
import { tempDir } from '../helpers/repo.js';

// Tiny files: batched pack members keep a remote near the size of its data, one ranged read per file
// still fetches each, and packs written before batching (layout 1) stay readable.

const FIXTURE = path.join(import.meta.dirname, '..', '..', 'fixtures', 'remote-layout1');

let newHasher: HasherFactory;
beforeAll(async () => {
  newHasher = await loadHasher();
});

let root: string;
let loads = 0;
beforeEach(() => {
  root = tempDir('mlx-tiny-');
});
afterEach(() => fs.rmSync(root, { recursive: true, force: true }));

function newStore(name: string): ObjectStore {
  const store = new ObjectStore(path.join(root, name), newHasher);
  store.init();
  return store;
}

const freshIndex = (remote: Remote) => RemoteIndex.load(remote, path.join(root, `idx-${loads++}`));

/** Bytes of every file under `dir`. */
function bytesUnder(dir: string): number {
  let n = 0;
  for (const e of fs.readdirSync(dir, { withFileTypes: true, recursive: true })) if (e.isFile()) n += fs.statSync(path.join(e.parentPath, e.name)).size;
  return n;
}

/** `remote` with its ranged pack reads recorded. */
function countingReads(remote: Remote): { remote: Remote; packReads: string[] } {
  const packReads: string[] = [];
  const wrapped = new Proxy(remote, {
    get(target, prop) {
      if (prop === 'get') return (key: string, ...rest: unknown[]) => {
        if (key.endsWith('.pack')) packReads.push(key);
        return (target.get as (...a: unknown[]) => unknown)(key, ...rest);
      };
      const v = Reflect.get(target, prop);
      return typeof v === 'function' ? v.bind(target) : v;
    },
  });
  return { remote: wrapped, packReads };
}

describe('tiny files on a remote', () => {
  it('5,000 files of 200 random bytes: remote bytes at most twice the data, fresh fetch byte for byte, one ranged read for one file', async () => {
    const source = newStore('source');
    const datas = Array.from({ length: 5000 }, () => crypto.randomBytes(200));
    const oids = datas.map((d) => source.putBytes(d));
    const remoteDir = path.join(root, 'remote');
    fs.mkdirSync(remoteDir);
    const remote = new DirRemote(remoteDir);
    await pushObjects(source, newHasher, remote, await freshIndex(remote), oids);
    const raw = datas.reduce((n, d) => n + d.length, 0);
    const stored = bytesUnder(path.join(remoteDir, 'packs'));
    expect(stored / raw).toBeLessThanOrEqual(2);

    const dest = newStore('dest');
    const summary = await fetchObjects(dest, newHasher, remote, await freshIndex(remote), oids);
    expect(summary.fetched).toBe(5000);
    datas.forEach((d, i) => expect(dest.readBytes(oids[i]!).equals(d)).toBe(true));

    const one = newStore('one');
    const counted = countingReads(remote);
    await fetchObjects(one, newHasher, counted.remote, await freshIndex(counted.remote), [oids[1234]!]);
    expect(counted.packReads).toHaveLength(1);
    expect(one.readBytes(oids[1234]!).equals(datas[1234]!)).toBe(true);
  });

  it('reads a layout-1 remote (a pack of one member per object), and a push raises its layout and adds batched packs beside it', async () => {
    const remoteDir = path.join(root, 'old-remote');
    fs.cpSync(FIXTURE, remoteDir, { recursive: true });
    const remote = new DirRemote(remoteDir);
    const old = await freshIndex(remote);
    expect(old.warnings).toEqual([]);
    const [oldIndex] = [...old.packs.values()];
    expect(oldIndex!.v).toBe(1);
    expect(oldIndex!.entries.every((e) => e.at === undefined)).toBe(true);
    const oldDatas = [...Array.from({ length: 20 }, (_, i) => Buffer.from(`tiny file ${i} written by a layout-1 mlx\n`)), Buffer.from('a larger file of a layout-1 remote\n'.repeat(200))];
    const oldOids = oldDatas.map((d) => hashBytes(newHasher, d));
    const dest = newStore('dest');
    expect((await fetchObjects(dest, newHasher, remote, old, oldOids)).fetched).toBe(oldOids.length);
    oldDatas.forEach((d, i) => expect(dest.readBytes(oldOids[i]!).equals(d)).toBe(true));

    const source = newStore('source');
    const newDatas = Array.from({ length: 30 }, (_, i) => Buffer.from(`a tiny file ${i} of a later push\n`));
    const newOids = newDatas.map((d) => source.putBytes(d));
    await pushObjects(source, newHasher, remote, await freshIndex(remote), newOids);
    expect(JSON.parse(fs.readFileSync(path.join(remoteDir, MARKER_KEY), 'utf8')).layout).toBe(3);
    const both = await freshIndex(remote);
    expect(both.packs.size).toBe(2);
    expect([...both.packs.values()].map((p) => p.v).sort()).toEqual([1, 2]);
    const again = newStore('again');
    await fetchObjects(again, newHasher, remote, both, [...oldOids, ...newOids]);
    newDatas.forEach((d, i) => expect(again.readBytes(newOids[i]!).equals(d)).toBe(true));
    oldDatas.forEach((d, i) => expect(again.readBytes(oldOids[i]!).equals(d)).toBe(true));
    // Upgraded to layout 3: the layout-1 pack is published by a consolidated index (its old index
    // deleted once the marker was raised), the new one by its index in index/.
    expect((await remote.list(PACKS_PREFIX)).filter((o) => o.key.endsWith('.idx'))).toHaveLength(0);
    expect((await remote.list(INDEX_PREFIX)).map((o) => o.key.replace(/^index\/[0-9a-f]{64}/, ''))).toEqual(expect.arrayContaining(['.midx', '.idx']));
  });
});

describe('pack index version 2 (batched members)', () => {
  const hex = (n: number) => n.toString(16).padStart(64, '0');
  const plain = (n: number, off: number) => `{"o":"b3:${hex(n)}","t":"b","off":${off},"len":10,"raw":10,"c":"none"}`;
  const doc = (v: number, entries: string[], batches?: string[]) =>
    `{"v":${v},"pack":"b3:${hex(999)}","size":${512 * 40},"entries":[${entries.join(',')}]${batches ? `,"batches":[${batches.join(',')}]` : ''}}`;

  it('lists batched objects by member, each one\'s place the sum of the sizes before it', () => {
    const text = doc(2, [plain(3, 2048)], [`[512,100,"zstd",250,["b${hex(2)}",100,"r${hex(1)}",150]]`]);
    const parsed = parsePackIndex(text, 't');
    expect(parsed.v).toBe(2);
    expect(parsed.entries.map((e) => [e.o.slice(-1), e.t, e.at, e.of])).toEqual([['1', 'r', 100, 250], ['2', 'b', 0, 250], ['3', 'b', undefined, undefined]]);
    expect(serializePackIndex(parsed)).toBe(text);
  });

  it.each([
    ['objects that do not add up to the batch', [`[512,100,"zstd",300,["b${hex(1)}",100,"b${hex(2)}",150]]`], /add up to 250 bytes, not 300/],
    ['a batch of one object', [`[512,100,"zstd",100,["b${hex(1)}",100]]`], /two or more objects/],
    ['a raw batch whose length is not its size', [`[512,100,"none",250,["b${hex(1)}",100,"b${hex(2)}",150]]`], /stored raw/],
    ['an object twice', [`[512,100,"zstd",200,["b${hex(1)}",100,"b${hex(1)}",100]]`], /not strictly sorted/],
    ['a batch over a plain member', [`[1024,100,"zstd",200,["b${hex(1)}",100,"b${hex(2)}",100]]`], /overlap/],
    ['a bad object name', [`[512,100,"zstd",200,["x${hex(1)}",100,"b${hex(2)}",100]]`], /expected b or r/],
  ])('refuses %s', (_, batches, why) => {
    expect(() => parsePackIndex(doc(2, [plain(9, 1024)], batches), 't')).toThrow(why);
  });

  it('refuses a version that does not match its members', () => {
    expect(() => parsePackIndex(doc(2, [plain(1, 512)], []), 't')).toThrow(/version 2 does not match/);
    expect(() => parsePackIndex(doc(1, [plain(1, 512)], [`[1024,100,"zstd",200,["b${hex(2)}",100,"b${hex(3)}",100]]`]), 't')).toThrow(expect.objectContaining({ code: E.BAD_PACK_INDEX }));
    expect(() => parsePackIndex(doc(1, [plain(1, 512).replace('}', ',"at":0,"of":10}')]), 't')).toThrow(expect.objectContaining({ code: E.BAD_PACK_INDEX }));
  });
});
