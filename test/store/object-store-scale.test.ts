import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { useTempStore } from '../helpers/repo.js';

const { store } = useTempStore();

describe('ObjectStore.contentsStamp', () => {
  it('stays equal while nothing enters or leaves the store, and moves when an object does', () => {
    const s = store();
    const a = s.putBytes(Buffer.from('first object'));
    const before = s.contentsStamp();
    expect(s.contentsStamp()).toBe(before);
    // Reading and re-storing existing content changes nothing.
    s.readBytes(a);
    s.putBytes(Buffer.from('first object'));
    expect(s.contentsStamp()).toBe(before);
    const b = s.putBytes(Buffer.from('second object'));
    const added = s.contentsStamp();
    expect(added).not.toBe(before);
    // A removal by hand, outside mlx, moves it too.
    fs.rmSync(s.pathOf(b), { force: true });
    expect(s.contentsStamp()).not.toBe(added);
  });
});

describe('ObjectStore.putPieces', () => {
  it('stores a manifest written a piece at a time under the oid of its whole bytes', async () => {
    const { manifestPieces, serializeManifest } = await import('../../src/formats/manifest.js');
    const entries = Array.from({ length: 10_000 }, (_, i) => ({ p: `d/${String(i).padStart(5, '0')}`, o: `b3:${'ab'.repeat(32)}`, s: i, x: i % 2 === 0 }));
    const pieces = [...manifestPieces(entries)];
    expect(pieces.length).toBeGreaterThan(3);
    const whole = serializeManifest(entries);
    expect(pieces.join('')).toBe(whole);
    const s = store();
    const oid = s.putPieces(manifestPieces(entries));
    expect(oid).toBe(s.putBytes(Buffer.from(whole)));
    expect(s.readBytes(oid).toString('utf8')).toBe(whole);
    // Unsorted input gives the canonical (sorted) bytes too.
    expect([...manifestPieces([...entries].reverse())].join('')).toBe(whole);
  });
});
