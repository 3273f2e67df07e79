import { describe, expect, it } from 'vitest';
import { consolidatedPackIndexes, serializeConsolidatedIndex } from '../../src/formats/consolidated-index.js';
import { serializePackIndex, type PackEntry, type PackIndex } from '../../src/formats/pack-index.js';
import { DigestSlots, OID_BYTES, PackTable, writeOidBytes } from '../../src/remote/pack-table.js';
import { E } from '../../src/util/errors.js';
import { fakeOid, fakePackHex } from '../helpers/plans.js';
import { oidFromHex } from '../../src/hash/oid.js';

const entries: PackEntry[] = [
  { o: fakeOid(1), t: 'b', off: 512, len: 100, raw: 100, c: 'none' },
  { o: fakeOid(2), t: 'r', off: 1536, len: 40, raw: 90, c: 'zstd' },
  { o: fakeOid(3), t: 'b', off: 2560, len: 300, raw: 10, c: 'zstd', at: 0, of: 30 },
  { o: fakeOid(4), t: 'b', off: 2560, len: 300, raw: 20, c: 'zstd', at: 10, of: 30 },
  { o: fakeOid(5), t: 'b', off: 5e9, len: 4, raw: 4, c: 'none' },
];
const index: PackIndex = { v: 2, pack: oidFromHex(fakePackHex(1)), size: 6e9, entries };

describe('PackTable', () => {
  it('gives back every entry as it was given, batched or not, recipe or blob, past 4 GiB', () => {
    const table = PackTable.from(index);
    expect(table.count).toBe(5);
    expect(table.hex).toBe(fakePackHex(1));
    expect(table.entries).toEqual(entries);
    expect(table.entryAt(2)).toEqual(entries[2]);
    expect(table.oidAt(4)).toBe(fakeOid(5));
    expect(table.typeAt(1)).toBe('r');
    // It stands for a pack index where one is expected: serialized, it is byte for byte the same.
    expect(serializeConsolidatedIndex([table])).toBe(serializeConsolidatedIndex([index]));
  });

  it('refuses a name that is not an object id when asked where it is', () => {
    const into = Buffer.alloc(OID_BYTES);
    expect(writeOidBytes(fakeOid(7), into)).toBe(true);
    expect(writeOidBytes(fakeOid(7).toUpperCase(), into)).toBe(false);
    expect(writeOidBytes('b3:12', into)).toBe(false);
  });
});

describe('DigestSlots', () => {
  /** Tables of made-up oids differing only in their last bytes, as a model map says where each is. */
  function filled(packs: number, perPack: number) {
    const tables: PackTable[] = [];
    const slots = new DigestSlots(tables);
    const model = new Map<string, { no: number; row: number }>();
    for (let no = 0; no < packs; no++) {
      const members = Array.from({ length: perPack }, (_, row): PackEntry => ({ o: fakeOid(no * perPack + row), t: 'b', off: 512 * (row + 1), len: 1, raw: 1, c: 'none' }));
      tables.push(PackTable.from({ v: 1, pack: oidFromHex(fakePackHex(no)), size: 512 * (perPack + 3), entries: members }));
      for (let row = 0; row < perPack; row++) {
        slots.set({ no, row });
        model.set(fakeOid(no * perPack + row), { no, row });
      }
    }
    return { tables, slots, model };
  }
  const keyOf = (oid: string) => {
    const key = Buffer.alloc(OID_BYTES);
    writeOidBytes(oid, key);
    return key;
  };

  it('finds every digest through growth, and none that was never added', () => {
    const { slots, model } = filled(7, 1000);
    expect(slots.size).toBe(7000);
    for (const [oid, at] of model) expect(slots.get(keyOf(oid))).toEqual(at);
    expect(slots.get(keyOf(fakeOid(7000)))).toBeUndefined();
  });

  it('after deletions still finds every digest that stays (no probe run is cut short)', () => {
    const { slots, model } = filled(4, 2000);
    let n = 0;
    for (const oid of [...model.keys()]) {
      if (n++ % 3 !== 0) continue;
      slots.delete(keyOf(oid));
      model.delete(oid);
    }
    slots.delete(keyOf(fakeOid(99_999))); // absent: nothing changes
    expect(slots.size).toBe(model.size);
    for (const [oid, at] of model) expect(slots.get(keyOf(oid)), oid).toEqual(at);
    for (let i = 0; i < 8000; i += 3) expect(slots.get(keyOf(fakeOid(i)))).toBeUndefined();
  });

  it('points a digest at another row when set again', () => {
    const { tables, slots } = filled(1, 3);
    tables.push(PackTable.from({ v: 1, pack: oidFromHex(fakePackHex(9)), size: 2048, entries: [{ o: fakeOid(1), t: 'b', off: 512, len: 1, raw: 1, c: 'none' }] }));
    slots.set({ no: 1, row: 0 });
    expect(slots.size).toBe(3);
    expect(slots.get(keyOf(fakeOid(1)))).toEqual({ no: 1, row: 0 });
  });
});

describe('consolidatedPackIndexes', () => {
  const other: PackIndex = { v: 1, pack: oidFromHex(fakePackHex(2)), size: 2048, entries: [{ o: fakeOid(9), t: 'b', off: 512, len: 5, raw: 5, c: 'none' }] };
  const code = (f: () => unknown) => {
    try {
      f();
    } catch (err) {
      return (err as { code?: string }).code;
    }
    return undefined;
  };
  const all = (text: string) => [...consolidatedPackIndexes(Buffer.from(text), 'test')];

  it('reads back what was written, and the same document spaced and ordered otherwise', () => {
    const text = serializeConsolidatedIndex([other, index]);
    expect(all(text)).toEqual([index, other]);
    const spaced = `\n { "indexes" : [ ${JSON.stringify(JSON.parse(serializePackIndex(index)), null, 1)} ,\n${JSON.stringify(other)} ] , "v" : 1 }\n`;
    expect(all(spaced)).toEqual([index, other]);
    expect(all('{"v":1,"indexes":[]}')).toEqual([]);
  });

  it('refuses a document that is not one, before the first pack index is taken', () => {
    const good = serializeConsolidatedIndex([index]);
    for (const bad of [
      good.slice(0, -1),
      `${good}x`,
      good.replace('"v":1', '"v":2'),
      good.replace('"v":1,', ''),
      good.replace('"v":1,', '"v":1,"extra":0,'),
      good.replace('"indexes":[', '"indexes":[],"indexes":['),
      '{"v":1,"indexes":{}}',
      '[]',
      '{"v":1,"indexes":[{"a":"]"} {}]}',
    ]) {
      const packs = consolidatedPackIndexes(Buffer.from(bad), 'test');
      expect(code(() => packs.next()), bad).toBe(E.BAD_PACK_INDEX);
    }
  });

  it('refuses packs out of order and a pack index that fails its own checks', () => {
    expect(code(() => all(`{"v":1,"indexes":[${JSON.stringify(other)},${JSON.stringify(index)}]}`))).toBe(E.BAD_PACK_INDEX);
    expect(code(() => all(`{"v":1,"indexes":[${JSON.stringify({ ...other, size: 5 })}]}`))).toBe(E.BAD_PACK_INDEX);
  });
});
