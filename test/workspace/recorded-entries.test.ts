import { describe, expect, it } from 'vitest';
import type { ManifestEntry } from '../../src/formats/manifest.js';
import { recordedEntries } from '../../src/workspace/recorded-entries.js';

const oid = (c: string) => `b3:${c.repeat(64)}`;
const file = (p: string, c = 'a'): ManifestEntry => ({ p, o: oid(c), s: 1, x: false });

describe('recordedEntries', () => {
  // Manifest order: UTF-8 bytes of the path ('a.txt' before 'a/b', 'é' after 'z').
  const entries = [file('a.txt', 'a'), file('a/b', 'b'), file('a/c', 'c'), { p: 'e', t: 'd' } as ManifestEntry, file('z', 'd'), file('é', 'e')];

  it('finds entries asked for in manifest order, out of order, twice and not at all', () => {
    const find = recordedEntries('data', entries);
    for (const e of entries) expect(find(`data/${e.p}`)).toBe(e);
    expect(find('data/a/b')).toBe(entries[1]);
    expect(find('data/a/c')).toBe(entries[2]);
    expect(find('data/é')).toBe(entries[5]);
    expect(find('data/a.txt')).toBe(entries[0]);
    expect(find('data/a')).toBeUndefined();
    expect(find('data/zz')).toBeUndefined();
  });

  it('answers the same path asked twice in a row (two callers per file) with the same entry', () => {
    const find = recordedEntries('data', entries);
    for (const e of entries) {
      expect(find(`data/${e.p}`)).toBe(e);
      expect(find(`data/${e.p}`)).toBe(e);
    }
    expect(find('data/a/b')).toBe(entries[1]);
    expect(find('data/a/b')).toBe(entries[1]);
    expect(find('data/a/c')).toBe(entries[2]);
  });

  it('answers only for paths inside its directory', () => {
    const find = recordedEntries('data', entries);
    expect(find('data')).toBeUndefined();
    expect(find('other/a.txt')).toBeUndefined();
    expect(find('dataa.txt')).toBeUndefined(); // ends with an entry's path, but not under data/
    expect(find('x/data/a.txt')).toBeUndefined();
    expect(find('data/a.txt')).toBe(entries[0]);
  });

  it('finds the entries of a manifest out of order (a crafted one) as well', () => {
    const shuffled = [entries[4]!, entries[0]!, entries[5]!, entries[2]!];
    const find = recordedEntries('d', shuffled);
    expect(find('d/a/c')).toBe(entries[2]);
    expect(find('d/z')).toBe(entries[4]);
    expect(find('d/a.txt')).toBe(entries[0]);
    expect(find('d/a/b')).toBeUndefined();
  });
});
