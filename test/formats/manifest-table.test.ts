import { describe, expect, it } from 'vitest';
import { ManifestTable } from '../../src/formats/manifest-table.js';
import { parseManifest, serializeManifest, type ManifestEntry } from '../../src/formats/manifest.js';

const oid = (c: string) => `b3:${c.repeat(64)}`;
const entries: ManifestEntry[] = [
  { p: 'a.txt', o: oid('a'), s: 12, x: false },
  { p: 'bin/run', o: oid('b'), s: 0, x: true },
  { p: 'empty', t: 'd' },
  { p: 'link', t: 'l', l: 'a "quoted\\" target' },
  { p: 'z/é.bin', o: oid('c'), s: 9007199254740991, x: false },
];
const bytes = (e: ManifestEntry[]) => Buffer.from(serializeManifest(e));

describe('manifest table', () => {
  it('reads every entry of a canonical manifest in place, as parseManifest reads it', () => {
    const t = ManifestTable.scan(bytes(entries))!;
    expect(t.count).toBe(entries.length);
    expect(Array.from({ length: t.count }, (_, m) => t.entryAt(m))).toEqual(parseManifest(serializeManifest(entries), 'test').entries);
    expect([0, 1, 2, 3, 4].map((m) => t.isFile(m))).toEqual([true, true, false, false, true]);
    expect([t.oidAt(1), t.sizeAt(1), t.isExecutable(1)]).toEqual([oid('b'), 0, true]);
    expect([t.sizeAt(4), t.isExecutable(4)]).toEqual([9007199254740991, false]);
    expect([...t.oids()]).toEqual([oid('a'), oid('b'), oid('c')]);
  });

  it('compares entry paths with UTF-8 bytes', () => {
    const t = ManifestTable.scan(bytes(entries))!;
    const cmp = (m: number, p: string) => Math.sign(t.comparePath(m, Buffer.from(p), 0, Buffer.byteLength(p)));
    expect(cmp(4, 'z/é.bin')).toBe(0);
    expect(cmp(4, 'z/z')).toBe(1); // é is two bytes above z
    expect(cmp(0, 'a.txt/')).toBe(-1);
    expect(cmp(1, 'bin')).toBe(1);
  });

  it('makes room as it goes for entries shorter than it guessed', () => {
    const many: ManifestEntry[] = Array.from({ length: 3000 }, (_, i) => ({ p: `d${String(i).padStart(4, '0')}`, t: 'd' }));
    const t = ManifestTable.scan(bytes(many))!;
    expect(t.count).toBe(3000);
    expect(t.entryAt(2999)).toEqual({ p: 'd2999', t: 'd' });
  });

  it('gives each oid in place, as the bytes it reads', () => {
    const t = ManifestTable.scan(bytes(entries))!;
    expect(t.source.toString('latin1', t.oidStart(4), t.oidEnd(4))).toBe(oid('c'));
  });

  it('reads an empty manifest', () => {
    expect(ManifestTable.scan(bytes([]))?.count).toBe(0);
  });

  it('declines what is not the canonical layout, or a path with an escape in it', () => {
    const canonical = serializeManifest(entries);
    for (const text of [
      JSON.stringify(JSON.parse(canonical), null, 1),
      canonical.slice(0, -1),
      `${canonical} `,
      canonical.replace('"s":12', '"s":-12'),
      canonical.replace('"x":false', '"x":0'),
      serializeManifest([{ p: 'a"b', o: oid('a'), s: 1, x: false }]),
      serializeManifest([{ p: 'tab\there', t: 'd' }]),
      '{"v":2,"entries":[]}',
    ]) {
      expect(ManifestTable.scan(Buffer.from(text))).toBeUndefined();
    }
  });
});
