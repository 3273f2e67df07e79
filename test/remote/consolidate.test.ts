import fs from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { loadHasher, type HasherFactory } from '../../src/hash/blake3.js';
import { parseConsolidatedIndex, serializeConsolidatedIndex } from '../../src/formats/consolidated-index.js';
import { consolidateIndexes, GC_POLICY, planConsolidation, PUSH_POLICY } from '../../src/remote/consolidate.js';
import { DirRemote } from '../../src/remote/dir-remote.js';
import { oidFromHex, type Oid } from '../../src/hash/oid.js';
import { GONE_RETIRE_MS } from '../../src/remote/gone-records.js';
import { consolidatedKey, indexKey, INDEX_PREFIX } from '../../src/remote/layout.js';
import { retireRemovals } from '../../src/remote/removal-retire.js';
import { pushObjects } from '../../src/remote/push.js';
import { collectRemote } from '../../src/remote/remote-gc.js';
import { RemoteIndex } from '../../src/remote/remote-index.js';
import type { Remote } from '../../src/remote/remote.js';
import { S3Remote } from '../../src/remote/s3-remote.js';
import { ObjectStore } from '../../src/store/object-store.js';
import { E } from '../../src/util/errors.js';
import { resetFailpoints } from '../../src/util/failpoint.js';
import { Failpoints } from '../helpers/failpoints.js';
import { tempDir } from '../helpers/repo.js';
import { startS3Server, type S3TestServer } from '../helpers/s3-server.js';

// Index consolidation: after many pushes a fresh reader makes a bounded number of index requests,
// and no interleaving of pushes, consolidations, sweeps and readers hides an object.

let newHasher: HasherFactory;
beforeAll(async () => {
  newHasher = await loadHasher();
});

let root: string;
let store: ObjectStore;
let loads = 0;
beforeEach(() => {
  root = tempDir('mlx-consolidate-');
  store = new ObjectStore(path.join(root, 'store'), newHasher);
  store.init();
});
afterEach(() => fs.rmSync(root, { recursive: true, force: true }));

let made = 0;
/** A new tiny object in the local store. */
function tinyObject(): Oid {
  return store.putBytes(Buffer.from(`tiny object ${made++} ${root}`));
}

function dirRemote(): DirRemote {
  const dir = path.join(root, `remote-${made++}`);
  fs.mkdirSync(dir);
  return new DirRemote(dir);
}

/** The remote's index as a new command run in a fresh clone would load it (an empty local folder). */
function freshIndex(remote: Remote): Promise<RemoteIndex> {
  return RemoteIndex.load(remote, cacheRoot());
}

/** A local folder for downloaded indexes that no earlier load filled. */
function cacheRoot(): string {
  return path.join(root, `fresh-${loads++}`);
}

/** `remote` with every request counted by kind: index downloads, listings, the rest. */
function counting(remote: Remote): { remote: Remote; indexGets: string[]; lists: string[] } {
  const indexGets: string[] = [];
  const lists: string[] = [];
  const wrapped = new Proxy(remote, {
    get(target, prop) {
      if (prop === 'get') return (key: string, ...rest: unknown[]) => {
        if (key.endsWith('.idx') || key.endsWith('.midx')) indexGets.push(key);
        return (target.get as (...a: unknown[]) => unknown)(key, ...rest);
      };
      if (prop === 'list') return (prefix: string) => {
        lists.push(prefix);
        return target.list(prefix);
      };
      const v = Reflect.get(target, prop);
      return typeof v === 'function' ? v.bind(target) : v;
    },
  });
  return { remote: wrapped, indexGets, lists };
}

/** `count` pushes of one new tiny object each through the real push code, as one clone would make them. */
async function manyPushes(remote: Remote, count: number): Promise<Oid[]> {
  const index = await freshIndex(remote);
  const oids: Oid[] = [];
  for (let i = 0; i < count; i++) {
    const oid = tinyObject();
    oids.push(oid);
    await pushObjects(store, newHasher, remote, index, [oid]);
  }
  return oids;
}

/** One push of `count` new tiny objects, each in a pack of its own (a pack target of one byte). */
async function packsOfOne(remote: Remote, count: number): Promise<Oid[]> {
  const oids = Array.from({ length: count }, tinyObject);
  await pushObjects(store, newHasher, remote, await freshIndex(remote), oids, { packTarget: 1 });
  return oids;
}

async function consolidatedKeys(remote: Remote): Promise<string[]> {
  return (await remote.list(INDEX_PREFIX)).map((o) => o.key).sort();
}

describe('index consolidation after many pushes', () => {
  it('a fresh reader of a directory remote pushed to 200 times makes at most 20 index requests and finds every object', async () => {
    const remote = dirRemote();
    const oids = await manyPushes(remote, 200);
    const counted = counting(remote);
    const index = await freshIndex(counted.remote);
    for (const oid of oids) expect(index.has(oid)).toBe(true);
    expect(index.packs.size).toBe(200);
    expect(index.warnings).toEqual([]);
    expect(counted.indexGets.length).toBeLessThanOrEqual(20);
    expect((await consolidatedKeys(remote)).length).toBeLessThanOrEqual(PUSH_POLICY.maxConsolidated);
    // Layout 3: the reader lists index/ only, never packs/ (two keys per pack).
    expect(counted.lists).toEqual([INDEX_PREFIX]);
  });

  describe('on s3rver', () => {
    let server: S3TestServer;
    beforeAll(async () => {
      server = await startS3Server();
    });
    afterAll(async () => server.stop());

    it('a fresh reader of an S3 remote pushed to 40 times downloads fewer indexes than there are pushes', async () => {
      const remote = new S3Remote({ bucket: server.bucket, prefix: 'many', endpoint: server.endpoint, region: 'us-east-1', accessKeyId: server.accessKeyId, secretAccessKey: server.secretAccessKey });
      const oids = await manyPushes(remote, 40);
      const counted = counting(remote);
      const index = await freshIndex(counted.remote);
      for (const oid of oids) expect(index.has(oid)).toBe(true);
      // 40 packs: consolidated after the 8th, 16th ... 40th push, merged in tiers.
      expect(counted.indexGets.length).toBeLessThanOrEqual(PUSH_POLICY.maxConsolidated);
      expect(counted.lists).toEqual([INDEX_PREFIX]);
    });
  });

  it('keeps at most 8 consolidated indexes and 7 unconsolidated packs over 10,000 pushes, copying each pack index a few times', () => {
    let loose: string[] = [];
    const consolidated = new Map<string, string[]>();
    let copied = 0;
    let worst = 0;
    for (let push = 0; push < 10_000; push++) {
      loose.push(`p${push}`);
      const plan = planConsolidation(loose, consolidated, PUSH_POLICY);
      if (plan) {
        for (const old of plan.retire) consolidated.delete(old);
        consolidated.set(`c${push}`, plan.packs);
        copied += plan.packs.length;
        loose = [];
      }
      expect(loose.length).toBeLessThan(PUSH_POLICY.minUnconsolidated);
      expect(consolidated.size).toBeLessThanOrEqual(PUSH_POLICY.maxConsolidated);
      worst = Math.max(worst, consolidated.size + loose.length);
    }
    expect(new Set([...consolidated.values()].flat()).size).toBe(10_000);
    expect(worst).toBeLessThanOrEqual(15);
    expect(copied / 10_000).toBeLessThan(12);
  });

  it('retires consolidated indexes that hold no published pack, and merges everything under the gc policy', () => {
    const plan = planConsolidation(['b', 'x'], new Map([['c1', ['a']], ['c2', []]]), GC_POLICY);
    expect(plan).toEqual({ packs: ['a', 'b', 'x'], retire: ['c2', 'c1'] });
    expect(planConsolidation([], new Map([['c1', ['a']]]), GC_POLICY)).toBeUndefined();
    // More consolidated indexes than the policy keeps (concurrent consolidations): merged without new packs.
    expect(planConsolidation([], new Map([['c1', ['a']], ['c2', ['b', 'c']]]), GC_POLICY)).toEqual({ packs: ['a', 'b', 'c'], retire: ['c1', 'c2'] });
  });
});

describe('consolidated index format', () => {
  it('is canonical, content-named and refused when damaged', async () => {
    const remote = dirRemote();
    await packsOfOne(remote, 3);
    const index = await freshIndex(remote);
    const res = await consolidateIndexes(remote, cacheRoot(), newHasher, GC_POLICY);
    expect(res.packs).toBe(3);
    const bytes = fs.readFileSync(path.join(remote.root, consolidatedKey(res.published!)));
    const doc = parseConsolidatedIndex(bytes, 'test');
    expect(serializeConsolidatedIndex(doc.indexes.reverse())).toBe(bytes.toString('utf8'));
    expect(doc.indexes.map((i) => i.pack.slice(3)).sort()).toEqual([...index.packs.keys()].sort());

    // It took the pack indexes in: they are retired.
    expect(await consolidatedKeys(remote)).toEqual([consolidatedKey(res.published!)]);
    // A damaged copy (its bytes no longer hash to its name) is ignored with a warning: in layout 3 it
    // published its packs, so their objects now count as absent (the next push sends them again).
    fs.writeFileSync(path.join(remote.root, consolidatedKey(res.published!)), bytes.toString('utf8').replace('"v":1', '"v":1 '));
    const reread = await freshIndex(remote);
    expect(reread.warnings.join('\n')).toMatch(/ignored index\/[0-9a-f]{64}\.midx: .*is corrupt/);
    expect(reread.packs.size).toBe(0);
    expect(() => parseConsolidatedIndex('{"v":1,"indexes":[{"v":1}]}', 'x')).toThrow(expect.objectContaining({ code: E.BAD_PACK_INDEX }));
  });
});

describe('consolidated index of batched packs', () => {
  it('holds version-2 pack indexes exactly as their own indexes say', async () => {
    const remote = dirRemote();
    const oids = Array.from({ length: 5 }, tinyObject);
    await pushObjects(store, newHasher, remote, await freshIndex(remote), oids);
    const plain = await freshIndex(remote);
    const [own] = [...plain.packs.values()];
    expect(own!.v).toBe(2);
    const res = await consolidateIndexes(remote, cacheRoot(), newHasher, GC_POLICY);
    const doc = parseConsolidatedIndex(fs.readFileSync(path.join(remote.root, consolidatedKey(res.published!))), 'test');
    expect(doc.indexes).toEqual([{ v: own!.v, pack: own!.pack, size: own!.size, entries: own!.entries }]);
    const counted = counting(remote);
    const index = await freshIndex(counted.remote);
    expect(counted.indexGets).toEqual([consolidatedKey(res.published!)]);
    for (const oid of oids) expect(index.locate(oid)).toEqual(plain.locate(oid));
  });
});

describe('consolidation races (failpoints)', () => {
  let fp: Failpoints;
  const saved = { ...process.env };
  /** Pauses this process at `names` (any code in it that reaches them). */
  function pauseAt(...names: string[]) {
    Object.assign(process.env, fp.env(Object.fromEntries(names.map((n) => [n, 'pause' as const]))));
    resetFailpoints();
  }
  beforeEach(() => {
    fp = new Failpoints();
  });
  afterEach(() => {
    process.env = { ...saved };
    resetFailpoints();
    fp.cleanup();
  });

  it('a push that publishes while a consolidation is under way: the new pack keeps its own index', async () => {
    const remote = dirRemote();
    const first = await packsOfOne(remote, 3);
    pauseAt('consolidate.before-publish');
    const consolidating = consolidateIndexes(remote, cacheRoot(), newHasher, GC_POLICY);
    await fp.reached('consolidate.before-publish');
    const later = tinyObject();
    process.env = { ...saved };
    resetFailpoints();
    await pushObjects(store, newHasher, remote, await freshIndex(remote), [later]);
    fp.release('consolidate.before-publish');
    expect((await consolidating).packs).toBe(3);
    const counted = counting(remote);
    const index = await freshIndex(counted.remote);
    for (const oid of [...first, later]) expect(index.has(oid)).toBe(true);
    expect(counted.indexGets.filter((k) => k.endsWith('.idx'))).toEqual([indexKey(oidFromHex(index.locate(later)!.packHex))]);
  });

  it('a consolidation killed after it published, before it retired what it took in: readers see everything, the next one tidies up', async () => {
    const remote = dirRemote();
    const oids = await packsOfOne(remote, 3);
    await consolidateIndexes(remote, cacheRoot(), newHasher, GC_POLICY);
    oids.push(...(await packsOfOne(remote, 2)));
    Object.assign(process.env, fp.env({ 'consolidate.after-publish': 'error' }));
    resetFailpoints();
    await expect(consolidateIndexes(remote, cacheRoot(), newHasher, GC_POLICY)).rejects.toThrow('failpoint consolidate.after-publish');
    process.env = { ...saved };
    resetFailpoints();
    // Two consolidated indexes and the two pack indexes the second one took in: each pack is listed twice.
    const left = await consolidatedKeys(remote);
    expect(left.filter((k) => k.endsWith('.midx'))).toHaveLength(2);
    expect(left.filter((k) => k.endsWith('.idx'))).toHaveLength(2);
    const index = await freshIndex(remote);
    for (const oid of oids) expect(index.has(oid)).toBe(true);
    expect(index.packs.size).toBe(5);
    expect(index.warnings).toEqual([]);
    // The next consolidation merges both (more than the policy keeps) and retires the leftover pack indexes.
    await consolidateIndexes(remote, cacheRoot(), newHasher, GC_POLICY);
    expect(await consolidatedKeys(remote)).toHaveLength(1);
    const after = await freshIndex(remote);
    for (const oid of oids) expect(after.has(oid)).toBe(true);
  });

  it('a reader that listed files a concurrent consolidation then retired lists again and finds every pack', async () => {
    const remote = dirRemote();
    const oids = await packsOfOne(remote, 3);
    await consolidateIndexes(remote, cacheRoot(), newHasher, GC_POLICY);
    oids.push(...(await packsOfOne(remote, 2)));
    pauseAt('remote-index.after-list');
    const counted = counting(remote);
    const reading = freshIndex(counted.remote);
    await fp.reached('remote-index.after-list');
    process.env = { ...saved };
    resetFailpoints();
    const res = await consolidateIndexes(remote, cacheRoot(), newHasher, GC_POLICY);
    expect(res.retired).toBe(3); // the older consolidated index and two pack indexes
    fp.release('remote-index.after-list');
    const index = await reading;
    for (const oid of oids) expect(index.has(oid)).toBe(true);
    expect(index.warnings).toEqual([]);
    expect(counted.lists).toEqual([INDEX_PREFIX, INDEX_PREFIX]);
  });

  it('a consolidation that listed before a sweep removed a pack: its index names the pack, the removal record hides it, and is kept while any index names it', async () => {
    const remote = dirRemote();
    const [kept, dropped] = await packsOfOne(remote, 2);
    await collectRemote(remote, await freshIndex(remote), new Set([kept!]), { graceMs: 0 }); // plans the pack of `dropped`
    pauseAt('consolidate.after-list');
    const consolidating = consolidateIndexes(remote, cacheRoot(), newHasher, GC_POLICY);
    await fp.reached('consolidate.after-list');
    process.env = { ...saved };
    resetFailpoints();
    const swept = await collectRemote(remote, await freshIndex(remote), new Set([kept!]), { graceMs: 0 });
    expect(swept.removedPacks).toBe(1);
    expect((await consolidatedKeys(remote)).filter((k) => k.endsWith('.gone'))).toHaveLength(1);
    fp.release('consolidate.after-list');
    expect((await consolidating).packs).toBe(2);
    const index = await freshIndex(remote);
    expect(index.has(kept!)).toBe(true);
    expect(index.has(dropped!)).toBe(false);
    expect(index.packs.size).toBe(1);
    expect(index.warnings).toEqual([]);
    // An hour on, the record is still needed: the consolidated index names the removed pack.
    const hourOn = Date.now() + GONE_RETIRE_MS + 1000;
    expect((await retireRemovals(remote, cacheRoot(), hourOn)).goneRecords).toBe(0);
    expect((await freshIndex(remote)).has(dropped!)).toBe(false);
    // The next consolidation leaves the removed pack out; then the record goes.
    await packsOfOne(remote, 1);
    await consolidateIndexes(remote, cacheRoot(), newHasher, GC_POLICY);
    expect((await retireRemovals(remote, cacheRoot(), hourOn)).goneRecords).toBe(1);
    expect((await consolidatedKeys(remote)).filter((k) => k.endsWith('.gone'))).toEqual([]);
    const after = await freshIndex(remote);
    expect(after.has(kept!)).toBe(true);
    expect(after.has(dropped!)).toBe(false);
  });

  it('a consolidation that could not publish within its window after its listing gives up and changes nothing', async () => {
    const remote = dirRemote();
    const oids = await packsOfOne(remote, 3);
    const before = await consolidatedKeys(remote);
    process.env.MLX_CONSOLIDATION_WINDOW_MS = '0';
    pauseAt('consolidate.before-publish');
    const consolidating = consolidateIndexes(remote, cacheRoot(), newHasher, GC_POLICY);
    await fp.reached('consolidate.before-publish');
    await new Promise((r) => setTimeout(r, 5));
    fp.release('consolidate.before-publish');
    const res = await consolidating;
    expect(res.published).toBeUndefined();
    expect(res.abandoned).toMatch(/listing of .* was \d+ s old/);
    expect(await consolidatedKeys(remote)).toEqual(before);
    const index = await freshIndex(remote);
    for (const oid of oids) expect(index.has(oid)).toBe(true);
  });

  it('two consolidations at once: both publish, readers see everything, a later one merges them', async () => {
    const remote = dirRemote();
    const oids = await packsOfOne(remote, 4);
    pauseAt('consolidate.before-publish');
    const a = consolidateIndexes(remote, cacheRoot(), newHasher, GC_POLICY);
    await fp.reached('consolidate.before-publish');
    process.env = { ...saved };
    resetFailpoints();
    oids.push(...(await packsOfOne(remote, 1)));
    await consolidateIndexes(remote, cacheRoot(), newHasher, GC_POLICY);
    fp.release('consolidate.before-publish');
    await a;
    expect((await consolidatedKeys(remote)).filter((k) => k.endsWith('.midx'))).toHaveLength(2);
    const index = await freshIndex(remote);
    for (const oid of oids) expect(index.has(oid)).toBe(true);
    oids.push(...(await packsOfOne(remote, 1)));
    await consolidateIndexes(remote, cacheRoot(), newHasher, GC_POLICY);
    expect(await consolidatedKeys(remote)).toHaveLength(1);
    const merged = counting(remote);
    const after = await freshIndex(merged.remote);
    for (const oid of oids) expect(after.has(oid)).toBe(true);
    expect(merged.indexGets).toHaveLength(1);
  });
});
