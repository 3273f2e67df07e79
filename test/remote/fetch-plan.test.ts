import { describe, expect, it } from 'vitest';
import type { Recipe } from '../../src/formats/recipe.js';
import { oidHex, type Oid } from '../../src/hash/oid.js';
import { CACHED_SOURCE, locateOnRemote, packOrder, planChunkReads, rebuildableFiles } from '../../src/remote/fetch-plan.js';
import type { LocalChunk } from '../../src/store/chunk-map.js';
import { fakeOid as oid, fakePackHex as hexOf, fakePackIndex as packIndex, useEmptyRemoteIndexes } from '../helpers/plans.js';

const emptyIndex = useEmptyRemoteIndexes('mlx-fetch-plan-');
const recipe = (...chunks: [Oid, number][]): Recipe => ({ v: 1, size: chunks.reduce((n, [, s]) => n + s, 0), chunks });

describe('locateOnRemote', () => {
  it('splits the objects into those a published pack holds and those none does, keeping their order', async () => {
    const index = await emptyIndex();
    index.addPack(hexOf(1), packIndex(hexOf(1), [[oid(2), 'b', 5], [oid(4), 'r', 9]], 512));
    expect(locateOnRemote(index, [oid(1), oid(4), oid(3), oid(2)])).toEqual({ located: [oid(4), oid(2)], missing: [oid(1), oid(3)] });
  });
});

describe('packOrder', () => {
  it('groups the objects by pack, each pack in the order of its bytes, whatever order they were asked in', async () => {
    const index = await emptyIndex();
    // Members laid out in an order unlike their oids' (an index lists its entries by oid).
    index.addPack(hexOf(1), packIndex(hexOf(1), [[oid(7), 'b', 5], [oid(3), 'b', 5], [oid(5), 'r', 5]], 512));
    index.addPack(hexOf(2), packIndex(hexOf(2), [[oid(6), 'b', 5], [oid(2), 'b', 5]], 512));
    const located = [oid(2), oid(5), oid(6), oid(7), oid(3)];
    const order = [...packOrder(index, located)].map((i) => located[i]);
    expect(order).toEqual([oid(7), oid(3), oid(5), oid(6), oid(2)]);
    expect(packOrder(index, [])).toHaveLength(0);
  });
});

describe('rebuildableFiles', () => {
  it('rebuilds a file only when the remote holds every chunk as a blob, and names the first it lacks', async () => {
    const index = await emptyIndex();
    index.addPack(hexOf(1), packIndex(hexOf(1), [[oid(10), 'b', 4], [oid(11), 'b', 4], [oid(12), 'r', 4]], 512));
    const whole = recipe([oid(10), 4], [oid(11), 4]);
    const lost = recipe([oid(10), 4], [oid(13), 4], [oid(14), 4]);
    // A chunk held only as a recipe cannot be read as bytes.
    const recipeChunk = recipe([oid(12), 4], [oid(10), 4]);

    const { rebuildable, unbuildable } = rebuildableFiles(index, new Map([[oid(1), whole], [oid(2), lost], [oid(3), recipeChunk]]));

    expect([...rebuildable]).toEqual([[oid(1), whole]]);
    expect(unbuildable).toEqual([{ oid: oid(2), chunk: oid(13) }, { oid: oid(3), chunk: oid(12) }]);
  });
});

describe('planChunkReads', () => {
  it('reads a chunk from a cached file that holds it, else from its pack, each to its offset in the file', async () => {
    const index = await emptyIndex();
    const pack = hexOf(1);
    index.addPack(pack, packIndex(pack, [[oid(10), 'b', 3], [oid(11), 'b', 5], [oid(12), 'b', 7]], 512));
    const cachedFile = oid(99);
    const local = new Map<Oid, LocalChunk>([[oid(11), { file: cachedFile, offset: 4096 }]]);

    const reads = planChunkReads(recipe([oid(10), 3], [oid(11), 5], [oid(12), 7], [oid(10), 3]), local, index);

    expect(reads.map((r) => r.fileOffset)).toEqual([0, 3, 8, 15]);
    expect(reads.map((r) => r.source)).toEqual([pack, `${CACHED_SOURCE}${oidHex(cachedFile)}`, pack, pack]);
    expect(reads[0]!.entry).toEqual(index.locate(oid(10))!.entry);
    expect(reads[2]!.entry).toEqual(index.locate(oid(12))!.entry);
    // From the cache: the chunk's bytes as they lie, uncompressed, in the cached file.
    expect(reads[1]).toEqual({ chunk: oid(11), size: 5, fileOffset: 3, source: `${CACHED_SOURCE}${oidHex(cachedFile)}`, entry: { o: oid(11), t: 'b', off: 4096, len: 5, raw: 5, c: 'none' }, cachedIn: cachedFile });
    expect(reads.filter((r) => r.cachedIn !== undefined)).toHaveLength(1);
  });
});
