import { describe, expect, it } from 'vitest';
import { oidFromHex } from '../../src/hash/oid.js';
import { packKey } from '../../src/remote/layout.js';
import { OidList } from '../../src/remote/oid-list.js';
import { addRound, packsGone, planSends } from '../../src/remote/push-plan.js';
import { fakeOid as oid, fakePackHex as hexOf, fakePackIndex as packIndex, useEmptyRemoteIndexes } from '../helpers/plans.js';

const emptyIndex = useEmptyRemoteIndexes('mlx-push-plan-');

describe('planSends', () => {
  it('sends what the remote lacks, in the order asked, and relies on the packs that hold the rest', async () => {
    const index = await emptyIndex();
    const [p1, p2, p3] = [hexOf(1), hexOf(2), hexOf(3)];
    index.addPack(p1, packIndex(p1, [[oid(1), 'b', 100], [oid(2), 'b', 20]]));
    index.addPack(p2, packIndex(p2, [[oid(3), 'r', 7]]));
    index.addPack(p3, packIndex(p3, [[oid(9), 'b', 5000]]));

    const plan = planSends(index, OidList.of([oid(5), oid(1), oid(4), oid(3), oid(2)]));

    // Where in the list they are: the first and the third.
    expect(plan.todo).toEqual([0, 2]);
    // A recipe on the remote counts as the object being there; p3 holds nothing asked for.
    expect([...plan.reliedOn].sort()).toEqual([p1, p2].sort());
    expect(plan.alreadyOnRemote).toBe(3);
    expect(plan.bytesDeduplicated).toBe(100 + 20 + 7);
  });

  it('sends again the objects of packs the index was told to forget', async () => {
    const index = await emptyIndex();
    const [p1, p2] = [hexOf(1), hexOf(2)];
    index.addPack(p1, packIndex(p1, [[oid(1), 'b', 10]]));
    index.addPack(p2, packIndex(p2, [[oid(2), 'b', 10]]));
    index.forget(new Set([p1]));

    const plan = planSends(index, OidList.of([oid(1), oid(2)]));

    expect(plan.todo).toEqual([0]);
    expect([...plan.reliedOn]).toEqual([p2]);
    expect(plan.bytesDeduplicated).toBe(10);
  });

  it('sends everything to an empty remote and relies on nothing', async () => {
    const plan = planSends(await emptyIndex(), OidList.of([oid(1), oid(2)]));
    expect(plan).toEqual({ todo: [0, 1], reliedOn: new Set(), alreadyOnRemote: 0, bytesDeduplicated: 0 });
  });
});

describe('addRound', () => {
  it('adds what a later round sent and keeps what the first round found', () => {
    const first = { objects: 10, alreadyOnRemote: 4, uploadedObjects: 6, packs: 2, bytesSent: 600, bytesDeduplicated: 400, resentPacks: 1 };
    const second = { objects: 10, alreadyOnRemote: 9, uploadedObjects: 1, packs: 1, bytesSent: 50, bytesDeduplicated: 900, resentPacks: 0 };
    const total = addRound(first, second);
    expect(total).toEqual({ objects: 10, alreadyOnRemote: 4, uploadedObjects: 7, packs: 3, bytesSent: 650, bytesDeduplicated: 400, resentPacks: 1 });
    expect(first.uploadedObjects).toBe(6); // the total is a new object
  });
});

describe('packsGone', () => {
  const [whole, noIndex, noPack, shortPack, notAtRisk] = [hexOf(1), hexOf(2), hexOf(3), hexOf(4), hexOf(5)];
  const sizes = new Map([whole, noIndex, noPack, shortPack, notAtRisk].map((hex) => [hex, { size: 1000 }]));
  const listed = (hex: string, packSize = 1000) => [{ key: packKey(oidFromHex(hex)), size: packSize }];
  /** What a fresh load of the remote publishes: every pack but `noIndex` (its index gone, or a removal record names it). */
  const published = new Map([whole, noPack, shortPack, notAtRisk].map((hex) => [hex, { size: 1000 }]));

  it('finds gone the packs no longer published, whose pack file is missing, or whose pack is not the size the index says', () => {
    const listing = [...listed(whole), ...listed(noIndex), ...listed(shortPack, 999)];
    const gone = packsGone([whole, noIndex, noPack, shortPack], listing, sizes, published);
    expect([...gone].sort()).toEqual([noIndex, noPack, shortPack].sort());
  });

  it('looks only at the packs at risk', () => {
    expect(packsGone([whole], listed(whole), sizes, published)).toEqual(new Set());
    expect(packsGone([], [], sizes, published)).toEqual(new Set());
  });

  it('counts a pack the held index does not know as gone', () => {
    expect(packsGone([notAtRisk], listed(notAtRisk), new Map(), published)).toEqual(new Set([notAtRisk]));
  });
});
