import fs from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { loadHasher, type HasherFactory } from '../../src/hash/blake3.js';
import { hashBytes } from '../../src/hash/hash-file.js';
import { oidFromHex, oidHex, type Oid } from '../../src/hash/oid.js';
import { serializeConsolidatedIndex } from '../../src/formats/consolidated-index.js';
import { serializePackIndex, type PackIndex } from '../../src/formats/pack-index.js';
import { consolidateIndexes, GC_POLICY } from '../../src/remote/consolidate.js';
import { DirRemote } from '../../src/remote/dir-remote.js';
import { fetchObjects } from '../../src/remote/fetch.js';
import { GONE_RETIRE_MS } from '../../src/remote/gone-records.js';
import { consolidatedKey, damagedKey, INDEX_PREFIX, indexKey, legacyDamagedKey, legacyIndexKey, MARKER_KEY, packKey, PACKS_PREFIX } from '../../src/remote/layout.js';
import { PackWriter } from '../../src/remote/pack.js';
import { pushObjects } from '../../src/remote/push.js';
import { collectRemote } from '../../src/remote/remote-gc.js';
import { RemoteIndex } from '../../src/remote/remote-index.js';
import type { Remote } from '../../src/remote/remote.js';
import { retireRemovals } from '../../src/remote/removal-retire.js';
import { S3Remote } from '../../src/remote/s3-remote.js';
import { SWEEP_PREFIX } from '../../src/remote/sweep-records.js';
import { ObjectStore } from '../../src/store/object-store.js';
import { resetFailpoints } from '../../src/util/failpoint.js';
import { tempDir } from '../helpers/repo.js';
import { startS3Server, type S3TestServer } from '../helpers/s3-server.js';

// Remote layout 3 (spec/remote.md): a reader lists only index/; removal records hide removed packs;
// a re-sent removed pack is salted; a layout-2 remote is upgraded by the first push.

let newHasher: HasherFactory;
let server: S3TestServer;
beforeAll(async () => {
  newHasher = await loadHasher();
  server = await startS3Server();
});
afterAll(async () => server.stop());

let root: string;
let store: ObjectStore;
let made = 0;
beforeEach(() => {
  root = tempDir('mlx-layout3-');
  store = new ObjectStore(path.join(root, 'store'), newHasher);
  store.init();
});
afterEach(() => fs.rmSync(root, { recursive: true, force: true }));

const kinds: [string, () => Remote][] = [
  ['directory', () => {
    const dir = path.join(root, `remote-${made++}`);
    fs.mkdirSync(dir);
    return new DirRemote(dir);
  }],
  ['s3rver', () => new S3Remote({ bucket: server.bucket, prefix: `layout3-${process.pid}-${made++}`, endpoint: server.endpoint, region: 'us-east-1', accessKeyId: server.accessKeyId, secretAccessKey: server.secretAccessKey })],
];

const cacheRoot = () => path.join(root, `cache-${made++}`);
const freshIndex = (remote: Remote) => RemoteIndex.load(remote, cacheRoot());
const keys = async (remote: Remote, prefix: string) => (await remote.list(prefix)).map((o) => o.key).sort();

/** `remote` with its listings recorded. */
function listingsOf(remote: Remote): { remote: Remote; lists: string[] } {
  const lists: string[] = [];
  const wrapped = new Proxy(remote, {
    get(target, prop) {
      if (prop === 'list') return (prefix: string) => {
        lists.push(prefix);
        return target.list(prefix);
      };
      const v = Reflect.get(target, prop);
      return typeof v === 'function' ? v.bind(target) : v;
    },
  });
  return { remote: wrapped, lists };
}

/** A pack of `datas` as a layout-2 writer publishes it: the pack, then `packs/<hex>.idx`. */
async function legacyPack(remote: Remote, datas: Buffer[]): Promise<{ index: PackIndex; oids: Oid[] }> {
  const writer = new PackWriter(newHasher, { level: 1 });
  const oids = datas.map((d) => hashBytes(newHasher, d));
  datas.forEach((d, i) => writer.add(oids[i]!, 'b', d));
  const { pack, index } = writer.finish();
  await remote.put(packKey(index.pack), Buffer.from(pack));
  await remote.put(legacyIndexKey(index.pack), Buffer.from(serializePackIndex(index)));
  return { index, oids };
}

describe.each(kinds)('layout 3 on a %s remote', (_kind, newRemote) => {
  it('a fresh load lists index/ only, never packs/', async () => {
    const remote = newRemote();
    const oids = Array.from({ length: 12 }, (_, i) => store.putBytes(Buffer.from(`object ${i} of ${root}`)));
    for (const oid of oids) await pushObjects(store, newHasher, remote, await freshIndex(remote), [oid]);
    expect(JSON.parse((await remote.get(MARKER_KEY)).toString('utf8')).layout).toBe(3);
    const counted = listingsOf(remote);
    const index = await freshIndex(counted.remote);
    for (const oid of oids) expect(index.has(oid)).toBe(true);
    expect(counted.lists).toEqual([INDEX_PREFIX]);
    // Pack indexes are published in index/, and the ones a consolidated index took in are retired.
    expect((await keys(remote, PACKS_PREFIX)).filter((k) => !k.endsWith('.pack'))).toEqual([]);
    expect((await keys(remote, INDEX_PREFIX)).filter((k) => k.endsWith('.idx')).length).toBeLessThan(8);
  });

  it('a push that re-sends exactly the objects of a removed pack publishes them in a salted pack of another name', async () => {
    const remote = newRemote();
    const keep = store.putBytes(Buffer.from(`kept ${root}`));
    const lost = store.putBytes(Buffer.from(`removed, then pushed again ${root}`));
    await pushObjects(store, newHasher, remote, await freshIndex(remote), [keep]);
    await pushObjects(store, newHasher, remote, await freshIndex(remote), [lost]);
    const removedPack = (await freshIndex(remote)).locate(lost)!.packHex;
    await collectRemote(remote, await freshIndex(remote), new Set([keep]), { graceMs: 0 });
    expect((await collectRemote(remote, await freshIndex(remote), new Set([keep]), { graceMs: 0 })).removedPacks).toBe(1);
    expect((await freshIndex(remote)).has(lost)).toBe(false);

    const summary = await pushObjects(store, newHasher, remote, await freshIndex(remote), [lost]);
    expect(summary.packs).toBe(1);
    const index = await freshIndex(remote);
    const now = index.locate(lost)!.packHex;
    expect(now).not.toBe(removedPack);
    expect(index.gone.has(removedPack)).toBe(true);
    expect((await keys(remote, INDEX_PREFIX)).includes(indexKey(oidFromHex(removedPack)))).toBe(false);
    // The salt is an empty first member that the index does not list.
    const pack = await remote.get(packKey(oidFromHex(now)));
    expect(pack.subarray(0, 34).toString('latin1')).toMatch(/^n\/[0-9a-f]{32}$/);
    const target = new ObjectStore(path.join(root, 'target'), newHasher);
    target.init();
    await fetchObjects(target, newHasher, remote, index, [lost]);
    expect(target.readBytes(lost).equals(store.readBytes(lost))).toBe(true);
  });

  it('a removal record that cannot be read ends the load with one clear error instead of bringing its packs back', async () => {
    const remote = newRemote();
    await pushObjects(store, newHasher, remote, await freshIndex(remote), [store.putBytes(Buffer.from(`some object ${root}`))]);
    await remote.put(`${INDEX_PREFIX}1700000000000-0badc0de.gone`, Buffer.from('{"v":1,"created":1,"packs":["nothex"]}'));
    await expect(freshIndex(remote)).rejects.toThrow(/index\/1700000000000-0badc0de\.gone is not a removal record/);
  });

  it('a pack file removed by hand is still listed as published (readers list no packs/), and a fetch of its objects says it is missing', async () => {
    const remote = newRemote();
    const oid = store.putBytes(Buffer.from(`an object whose pack goes missing ${root}`));
    await pushObjects(store, newHasher, remote, await freshIndex(remote), [oid]);
    const index = await freshIndex(remote);
    await remote.delete(packKey(oidFromHex(index.locate(oid)!.packHex)));
    const reread = await freshIndex(remote);
    expect(reread.has(oid)).toBe(true);
    const target = new ObjectStore(path.join(root, 'target'), newHasher);
    target.init();
    await expect(fetchObjects(target, newHasher, remote, reread, [oid])).rejects.toThrow(/packs\/[0-9a-f]{64}\.pack/);
    expect(target.has(oid)).toBe(false);
    // What push --repair does first: list packs/, forget the packs whose file is gone, send their objects again.
    const repairing = await freshIndex(remote);
    expect(await repairing.forgetMissingPackFiles()).toEqual([index.locate(oid)!.packHex]);
    expect(repairing.warnings.join('\n')).toMatch(/its pack file is missing: its objects are sent again/);
    expect((await pushObjects(store, newHasher, remote, repairing, [oid])).uploadedObjects).toBe(1);
    await fetchObjects(target, newHasher, remote, await freshIndex(remote), [oid]);
    expect(target.readBytes(oid).equals(store.readBytes(oid))).toBe(true);
  });

  it('gc --remote retires a removal record an hour on, once no index names its packs, and layout-2 indexes a consolidated index holds', async () => {
    const remote = newRemote();
    await remote.put(MARKER_KEY, Buffer.from('{"mlx":"remote","layout":3}\n'));
    const old = await legacyPack(remote, [Buffer.from(`a pack from before the upgrade ${root}`)]);
    const keep = store.putBytes(Buffer.from(`kept ${root}`));
    const lost = store.putBytes(Buffer.from(`removed ${root}`));
    await pushObjects(store, newHasher, remote, await freshIndex(remote), [keep]);
    await pushObjects(store, newHasher, remote, await freshIndex(remote), [lost]);
    await collectRemote(remote, await freshIndex(remote), new Set([keep]), { graceMs: 0 });
    await collectRemote(remote, await freshIndex(remote), new Set([keep]), { graceMs: 0 });
    const gone = (await keys(remote, INDEX_PREFIX)).filter((k) => k.endsWith('.gone'));
    expect(gone).toHaveLength(1);
    // Now: too young to retire.
    expect((await retireRemovals(remote, cacheRoot())).goneRecords).toBe(0);
    // The old pack's packs/ index is published by nothing in layout 3 until a consolidated index holds
    // it (here the layout-3 marker was written by hand, without an upgrade): it stays.
    expect((await retireRemovals(remote, cacheRoot())).legacyIndexes).toBe(0);
    await consolidateIndexes(remote, cacheRoot(), newHasher, GC_POLICY);
    const res = await retireRemovals(remote, cacheRoot(), Date.now() + GONE_RETIRE_MS + 1000);
    expect(res).toEqual({ goneRecords: 1, legacyIndexes: 0 });
    expect((await keys(remote, INDEX_PREFIX)).filter((k) => k.endsWith('.gone'))).toEqual([]);
    const index = await freshIndex(remote);
    expect(index.has(keep)).toBe(true);
    expect(index.has(lost)).toBe(false);
    expect(index.has(old.oids[0]!)).toBe(false);
  });
});

describe.each(kinds)('upgrade of a layout-2 remote on a %s remote', (_kind, newRemote) => {
  it('the first push writes a consolidated index of the published packs, copies damage markers, retires layout-2 consolidated indexes, then raises the marker', async () => {
    const remote = newRemote();
    await remote.put(MARKER_KEY, Buffer.from('{"mlx":"remote","layout":2}\n'));
    const a = await legacyPack(remote, [Buffer.from(`a1 ${root}`), Buffer.from(`shared ${root}`)]);
    const b = await legacyPack(remote, [Buffer.from(`b1 ${root}`), Buffer.from(`shared ${root}`)]);
    const sweeping = await legacyPack(remote, [Buffer.from(`being swept ${root}`)]);
    const removed = await legacyPack(remote, [Buffer.from(`removed by a layout-2 sweep ${root}`)]);
    // A layout-2 consolidated index is a copy: it still names the pack a sweep removed since.
    const copy = Buffer.from(serializeConsolidatedIndex([a.index, removed.index]));
    const copyHex = oidHex(hashBytes(newHasher, copy));
    await remote.put(consolidatedKey(copyHex), copy);
    await remote.delete(legacyIndexKey(removed.index.pack));
    await remote.delete(packKey(removed.index.pack));
    // The copy of `shared` in pack a is damaged (b holds another); a sweep that is not done names `sweeping`.
    const shared = a.oids[1]!;
    await remote.put(legacyDamagedKey(a.index.pack, shared), Buffer.alloc(0));
    const hexOf = (i: PackIndex) => oidHex(i.pack);
    await remote.put(`${SWEEP_PREFIX}1-00000000.json`, Buffer.from(JSON.stringify({ v: 1, created: Date.now(), refreshed: Date.now(), packs: [hexOf(sweeping.index)] })));

    const before = await freshIndex(remote);
    expect(before.layout).toBe(2);
    expect(before.packs.size).toBe(3);
    const added = store.putBytes(Buffer.from(`pushed after the upgrade ${root}`));
    await pushObjects(store, newHasher, remote, before, [added]);

    expect(JSON.parse((await remote.get(MARKER_KEY)).toString('utf8')).layout).toBe(3);
    const listed = await keys(remote, INDEX_PREFIX);
    expect(listed).not.toContain(consolidatedKey(copyHex));
    expect(listed).toContain(damagedKey(a.index.pack, shared));
    const counted = listingsOf(remote);
    const index = await freshIndex(counted.remote);
    expect(counted.lists).toEqual([INDEX_PREFIX]);
    for (const oid of [...a.oids, ...b.oids, added]) expect(index.has(oid)).toBe(true);
    expect(index.locate(shared)!.packHex).toBe(hexOf(b.index));
    // Left out: the pack a sweep may be removing (its objects would be sent again), and the removed one.
    expect(index.has(sweeping.oids[0]!)).toBe(false);
    expect(index.has(removed.oids[0]!)).toBe(false);
    // Once the marker is raised, the layout-2 indexes of the packs taken in are deleted (an older
    // gc --remote, which reads no marker, can then remove none of them without a removal record);
    // the one left out stays for whoever is sweeping it.
    expect((await keys(remote, PACKS_PREFIX)).filter((k) => k.endsWith('.idx'))).toEqual([legacyIndexKey(sweeping.index.pack)]);
    expect((await retireRemovals(remote, cacheRoot())).legacyIndexes).toBe(0);
    const after = await freshIndex(remote);
    for (const oid of [...a.oids, ...b.oids, added]) expect(after.has(oid)).toBe(true);
  });
});

describe.each(kinds)('an upgrade killed after raising the marker, on a %s remote', (_kind, newRemote) => {
  it('leaves layout-2 indexes that readers of layout 3 ignore and the next gc --remote retires', async () => {
    const remote = newRemote();
    await remote.put(MARKER_KEY, Buffer.from('{"mlx":"remote","layout":2}\n'));
    const a = await legacyPack(remote, [Buffer.from(`killed upgrade ${root}`)]);
    const added = store.putBytes(Buffer.from(`pushed by the killed upgrade ${root}`));
    process.env.MLX_FAILPOINTS = 'layout-upgrade.after-raise=error';
    resetFailpoints();
    try {
      await expect(pushObjects(store, newHasher, remote, await freshIndex(remote), [added])).rejects.toThrow('failpoint layout-upgrade.after-raise');
    } finally {
      delete process.env.MLX_FAILPOINTS;
      resetFailpoints();
    }
    expect(JSON.parse((await remote.get(MARKER_KEY)).toString('utf8')).layout).toBe(3);
    expect(await keys(remote, PACKS_PREFIX)).toContain(legacyIndexKey(a.index.pack));
    const index = await freshIndex(remote);
    expect(index.has(a.oids[0]!)).toBe(true);
    expect((await retireRemovals(remote, cacheRoot())).legacyIndexes).toBe(1);
    expect(await keys(remote, PACKS_PREFIX)).not.toContain(legacyIndexKey(a.index.pack));
    expect((await freshIndex(remote)).has(a.oids[0]!)).toBe(true);
  });
});
