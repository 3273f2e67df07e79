import { describe, expect, it } from 'vitest';
import { OidList } from '../../src/remote/oid-list.js';
import { E } from '../../src/util/errors.js';
import { fakeOid } from '../helpers/plans.js';

describe('OidList', () => {
  it('keeps each oid once, in the order first added, with the last size recorded for it', () => {
    const list = new OidList();
    list.add(fakeOid(3), 30);
    list.add(fakeOid(1));
    list.add(fakeOid(3));
    list.add(fakeOid(2), 20);
    list.add(fakeOid(1), 11);
    expect(list.length).toBe(3);
    expect([...list]).toEqual([fakeOid(3), fakeOid(1), fakeOid(2)]);
    expect([0, 1, 2].map((i) => list.sizeAt(i))).toEqual([30, 11, 20]);
    expect(list.has(fakeOid(2))).toBe(true);
    expect(list.has(fakeOid(4))).toBe(false);
  });

  it('grows past its first room without losing an oid or a size', () => {
    const list = OidList.of(Array.from({ length: 5000 }, (_, i) => fakeOid(i)), new Map([[fakeOid(4321), 7]]));
    expect(list.length).toBe(5000);
    for (let i = 0; i < 5000; i += 7) expect(list.oidAt(i)).toBe(fakeOid(i));
    expect(list.sizeAt(4321)).toBe(7);
    expect(list.sizeAt(4320)).toBeUndefined();
    // The folder of the cache an object lies in: the first byte of its digest.
    expect(list.fanAt(0)).toBe(0);
    expect(OidList.of([`b3:ab${'0'.repeat(62)}`]).fanAt(0)).toBe(0xab);
  });

  it('refuses what is not an object id', () => {
    expect(() => new OidList().add('b3:xyz')).toThrow(expect.objectContaining({ code: E.BAD_OID }));
  });
});
