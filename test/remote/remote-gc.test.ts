import fs from 'node:fs';
import path from 'node:path';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { loadHasher, type HasherFactory } from '../../src/hash/blake3.js';
import type { Oid } from '../../src/hash/oid.js';
import { DirRemote } from '../../src/remote/dir-remote.js';
import { fetchObjects } from '../../src/remote/fetch.js';
import { indexKey, packKey } from '../../src/remote/layout.js';
import { pushObjects } from '../../src/remote/push.js';
import { addRecipeChunks, collectRemote, doomedPacks, GC_PREFIX, KEEP_PREFIX, recordKeep } from '../../src/remote/remote-gc.js';
import { RemoteIndex } from '../../src/remote/remote-index.js';
import { ObjectStore } from '../../src/store/object-store.js';
import { bytes, tempDir } from '../helpers/repo.js';

// The two phases of `gc --remote` on a real directory remote: a run marks the packs nothing kept needs
// in a plan; a later run, once the plan is past its grace period, removes them (index first) unless a
// kept object or a push's keep record needs them again. Grace 0 makes every plan due at once, and a
// long grace keeps it pending, so no test waits for a clock.

let newHasher: HasherFactory;
beforeAll(async () => {
  newHasher = await loadHasher();
});

let root: string;
let remoteDir: string;
let remote: DirRemote;
let source: ObjectStore;
let loads = 0;
beforeEach(() => {
  root = tempDir('mlx-remote-gc-');
  remoteDir = path.join(root, 'remote');
  fs.mkdirSync(remoteDir);
  remote = new DirRemote(remoteDir);
  source = new ObjectStore(path.join(root, 'source'), newHasher);
  source.init();
});
afterEach(() => fs.rmSync(root, { recursive: true, force: true }));

/** The remote's index as a new command run would load it. */
const index = () => RemoteIndex.load(remote, path.join(root, `idx-${++loads}`));

/** Pushes `n` small new objects as one pack; returns their oids and the pack's hex. */
async function pushPack(seed: string, n = 3): Promise<{ oids: Oid[]; hex: string }> {
  const oids = Array.from({ length: n }, (_, i) => source.putBytes(bytes(500 + i, `${seed}${i}`)));
  const before = new Set((await index()).packs.keys());
  await pushObjects(source, newHasher, remote, await index(), oids);
  const added = [...(await index()).packs.keys()].filter((h) => !before.has(h));
  expect(added).toHaveLength(1);
  return { oids, hex: added[0]! };
}

const keys = async (prefix: string) => (await remote.list(prefix)).map((o) => o.key).sort();
const packFiles = (hex: string) => [packKey(`b3:${hex}`)];

describe('collectRemote', () => {
  it('marks the unneeded packs in a plan and removes nothing in the same run', async () => {
    const kept = await pushPack('kept');
    const dropped = await pushPack('dropped');
    const before = await keys('packs/');
    const res = await collectRemote(remote, await index(), new Set(kept.oids), { graceMs: 60_000 });
    expect(res).toEqual({ marked: 1, removedPacks: 0, removedBytes: 0, spared: 0, pending: 0, removedTemporaries: 0, dryRun: false });
    expect(await keys('packs/')).toEqual(before);
    expect(await doomedPacks(remote)).toEqual(new Set([dropped.hex]));
    expect(await keys(GC_PREFIX)).toHaveLength(1);
  });

  it('a dry run reports the same counts and writes nothing', async () => {
    const kept = await pushPack('kept');
    await pushPack('dropped');
    const before = await keys('');
    const dry = await collectRemote(remote, await index(), new Set(kept.oids), { graceMs: 0, dryRun: true });
    expect(dry).toMatchObject({ marked: 1, removedPacks: 0, dryRun: true });
    expect(await keys('')).toEqual(before);
    // With a plan due, the dry run counts what the sweep would remove, and still removes nothing.
    await collectRemote(remote, await index(), new Set(kept.oids), { graceMs: 0 });
    const planned = await keys('');
    const drySweep = await collectRemote(remote, await index(), new Set(kept.oids), { graceMs: 0, dryRun: true });
    expect(drySweep).toMatchObject({ removedPacks: 1, dryRun: true });
    expect(drySweep.removedBytes).toBeGreaterThan(0);
    expect(await keys('')).toEqual(planned);
  });

  it('sweeps a due plan on the next run: index and pack of the unneeded pack go, the kept pack stays', async () => {
    const kept = await pushPack('kept');
    const dropped = await pushPack('dropped');
    const packSize = (await index()).packs.get(dropped.hex)!.size;
    await collectRemote(remote, await index(), new Set(kept.oids), { graceMs: 0 });
    const res = await collectRemote(remote, await index(), new Set(kept.oids), { graceMs: 0 });
    expect(res).toMatchObject({ removedPacks: 1, removedBytes: packSize, spared: 0, marked: 0 });
    expect(await keys('packs/')).toEqual(packFiles(kept.hex));
    expect(await keys(GC_PREFIX)).toEqual([]);
    // Layout 3: a removal record names the removed pack; the kept pack's index stays published.
    const listed = await keys('index/');
    expect(listed.filter((k) => k.endsWith('.idx'))).toEqual([indexKey(`b3:${kept.hex}`)]);
    const gone = listed.filter((k) => k.endsWith('.gone'));
    expect(gone).toHaveLength(1);
    expect(JSON.parse(fs.readFileSync(path.join(remoteDir, gone[0]!), 'utf8'))).toMatchObject({ v: 1, packs: [dropped.hex] });
    // What is kept can still be fetched in full.
    const target = new ObjectStore(path.join(root, 'target'), newHasher);
    target.init();
    await fetchObjects(target, newHasher, remote, await index(), kept.oids);
    for (const o of kept.oids) expect(target.readBytes(o).equals(source.readBytes(o))).toBe(true);
  });

  it('keeps a plan pending during its grace period, and does not plan its packs twice', async () => {
    const kept = await pushPack('kept');
    await pushPack('dropped');
    await collectRemote(remote, await index(), new Set(kept.oids), { graceMs: 3600_000 });
    const res = await collectRemote(remote, await index(), new Set(kept.oids), { graceMs: 3600_000 });
    expect(res).toMatchObject({ pending: 1, marked: 0, removedPacks: 0 });
    expect(await keys(GC_PREFIX)).toHaveLength(1);
  });

  it('spares a planned pack that a kept object needs again by the time of the sweep', async () => {
    const kept = await pushPack('kept');
    const later = await pushPack('needed-later');
    await collectRemote(remote, await index(), new Set(kept.oids), { graceMs: 0 });
    const res = await collectRemote(remote, await index(), new Set([...kept.oids, later.oids[1]!]), { graceMs: 0 });
    expect(res).toMatchObject({ removedPacks: 0, spared: 1, marked: 0 });
    expect(await keys('packs/')).toEqual([...packFiles(kept.hex), ...packFiles(later.hex)].sort());
  });

  it('spares a planned pack that a push recorded relying on, and plans it afresh', async () => {
    const kept = await pushPack('kept');
    const relied = await pushPack('relied-on');
    await collectRemote(remote, await index(), new Set(kept.oids), { graceMs: 0 });
    await recordKeep(remote, new Set([relied.hex]));
    expect(await keys(KEEP_PREFIX)).toHaveLength(1);
    const res = await collectRemote(remote, await index(), new Set(kept.oids), { graceMs: 0 });
    expect(res).toMatchObject({ removedPacks: 0, spared: 1 });
    expect(await keys('packs/')).toContain(packKey(`b3:${relied.hex}`));
    // The spared pack is still unneeded: it goes into a new plan, with a new grace period.
    expect(res.marked).toBe(1);
  });

  it('ignores plans and keep records it cannot read', async () => {
    const kept = await pushPack('kept');
    await remote.put(`${GC_PREFIX}garbage.json`, Buffer.from('{not json'));
    await remote.put(`${GC_PREFIX}other.json`, Buffer.from('{"v":2,"created":0,"packs":[]}'));
    await remote.put(`${KEEP_PREFIX}garbage.json`, Buffer.from('[]'));
    expect(await doomedPacks(remote)).toEqual(new Set());
    const res = await collectRemote(remote, await index(), new Set(kept.oids), { graceMs: 0 });
    expect(res).toMatchObject({ marked: 0, removedPacks: 0, pending: 0, spared: 0 });
    expect(await keys('packs/')).toEqual(packFiles(kept.hex));
  });

  it('removes temp files of killed pushes older than the grace period, only outside a dry run', async () => {
    fs.mkdirSync(path.join(remoteDir, 'packs'));
    const stale = path.join(remoteDir, 'packs', '.x.pack.1-ab.tmp');
    fs.writeFileSync(stale, 'half a pack');
    const old = new Date(Date.now() - 7200_000);
    fs.utimesSync(stale, old, old);
    expect((await collectRemote(remote, await index(), new Set(), { graceMs: 3600_000, dryRun: true })).removedTemporaries).toBe(0);
    expect(fs.existsSync(stale)).toBe(true);
    expect((await collectRemote(remote, await index(), new Set(), { graceMs: 3600_000 })).removedTemporaries).toBe(1);
    expect(fs.existsSync(stale)).toBe(false);
  });
});

describe('addRecipeChunks', () => {
  it('adds the chunks of every kept file the remote stores as a recipe, and nothing for plain blobs', async () => {
    const bigFile = path.join(root, 'big.bin');
    fs.writeFileSync(bigFile, bytes(9 << 20, 'big'));
    const big = source.importFile(bigFile).oid;
    const small = source.putBytes(Buffer.from('small'));
    await pushObjects(source, newHasher, remote, await index(), [big, small], { chunkThreshold: 1 << 20 });
    const idx = await index();
    expect(idx.locate(big)!.entry.t).toBe('r');
    const keep = new Set([big, small]);
    await addRecipeChunks(remote, idx, keep);
    const chunks = [...keep].filter((o) => o !== big && o !== small);
    expect(chunks.length).toBeGreaterThan(1);
    for (const c of chunks) expect(idx.locate(c)?.entry.t).toBe('b');
    // With the chunks kept, a gc plans nothing: the recipe's data stays whole.
    expect((await collectRemote(remote, idx, keep, { graceMs: 0 })).marked).toBe(0);
  });
});
