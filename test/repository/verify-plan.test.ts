import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ManifestEntry } from '../../src/formats/manifest.js';
import type { PackEntry, PackIndex } from '../../src/formats/pack-index.js';
import type { Pointer } from '../../src/formats/pointer.js';
import { oidFromHex, type Oid } from '../../src/hash/oid.js';
import { DirRemote } from '../../src/remote/dir-remote.js';
import { packKey } from '../../src/remote/layout.js';
import { RemoteIndex } from '../../src/remote/remote-index.js';
import {
  entrySizeProblems, manifestSizeProblems, missingOnRemote, Needs, packsMissing, pointerSizeProblems, sizeProblemsOfSound, type VerifyProblem,
} from '../../src/repository/verify-plan.js';
import { tempDir } from '../helpers/repo.js';
import { fakeOid as oid, fakePackHex as hexOf } from '../helpers/plans.js';


const filePointer = (o: Oid, size: number): Pointer => ({ version: 1, path: 'x', kind: 'file', oid: o, size });
const dirPointer = (o: Oid, size: number, files: number): Pointer => ({ version: 1, path: 'x', kind: 'dir', oid: o, size, files });

const manifest: ManifestEntry[] = [
  { p: 'a.txt', o: oid(10), s: 3, x: false },
  { p: 'link', t: 'l', l: 'a.txt' },
  { p: 'empty', t: 'd' },
  { p: 'sub/b.txt', o: oid(11), s: 5, x: false },
];

describe('Needs', () => {
  it('needs each pointer\'s object and each file a manifest lists, with every path that needs it', () => {
    const needs = Needs.ofPointers(new Map([['model.bin', filePointer(oid(10), 3)], ['data', dirPointer(oid(1), 8, 2)]]));
    needs.addManifest('data', manifest);

    expect([...needs.paths]).toEqual([
      [oid(10), ['model.bin', 'data/a.txt']],
      [oid(1), ['data']],
      [oid(11), ['data/sub/b.txt']],
    ]);
    // Only files make claims; the file pointer's size is checked against its own object.
    expect([...needs.claims]).toEqual([
      [oid(10), [{ size: 3, path: 'data/a.txt', dir: 'data' }]],
      [oid(11), [{ size: 5, path: 'data/sub/b.txt', dir: 'data' }]],
    ]);
  });
});

describe('size problems', () => {
  it('reports a pointer whose size or file count disagrees with its data', () => {
    expect(pointerSizeProblems('m.bin', filePointer(oid(1), 10), 10)).toEqual([]);
    expect(pointerSizeProblems('m.bin', filePointer(oid(1), 10), 12)).toEqual([
      { oid: oid(1), paths: ['m.bin'], problem: 'size-mismatch', detail: 'pointer m.bin.mlx says size 10, but its data is 12 bytes' },
    ]);
    expect(manifestSizeProblems('data', dirPointer(oid(1), 8, 2), manifest)).toEqual([]);
    expect(manifestSizeProblems('data', dirPointer(oid(1), 8, 3), manifest)).toEqual([
      { oid: oid(1), paths: ['data'], problem: 'size-mismatch', detail: 'pointer data.mlx says 3 files, but its manifest lists 2' },
    ]);
  });

  it('reports each manifest entry that claims another size than its object has', () => {
    const claims = [{ size: 3, path: 'data/a.txt', dir: 'data' }, { size: 4, path: 'more/deep/a.txt', dir: 'more' }];
    expect(entrySizeProblems(oid(10), claims, 3)).toEqual([
      { oid: oid(10), paths: ['more/deep/a.txt'], problem: 'size-mismatch', detail: 'the manifest of more says 4 bytes for deep/a.txt, but its object has 3' },
    ]);
    expect(entrySizeProblems(oid(10), undefined, 3)).toEqual([]);
  });

  it('drops size problems of objects already reported', () => {
    const corrupt: VerifyProblem = { oid: oid(1), paths: ['a'], problem: 'corrupt' };
    const sizes: VerifyProblem[] = [
      { oid: oid(1), paths: ['a'], problem: 'size-mismatch' },
      { oid: oid(2), paths: ['b'], problem: 'size-mismatch' },
    ];
    expect(sizeProblemsOfSound([corrupt], sizes)).toEqual([sizes[1]]);
  });
});

describe('on a remote', () => {
  let root: string;
  beforeAll(() => {
    root = tempDir('mlx-verify-plan-');
    fs.mkdirSync(path.join(root, 'remote'));
  });
  afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

  const packIndex = (hex: string, oids: Oid[], size: number): PackIndex => ({
    v: 1, pack: oidFromHex(hex), size, entries: oids.map((o, i): PackEntry => ({ o, t: 'b', off: i * 1024, len: 10, raw: 10, c: 'none' })),
  });

  it('reports what no pack holds, and what lives in a pack that is gone or the wrong size', async () => {
    const index = await RemoteIndex.load(new DirRemote(path.join(root, 'remote')), path.join(root, 'idx'));
    const [whole, gone, short] = [hexOf(1), hexOf(2), hexOf(3)];
    index.addPack(whole, packIndex(whole, [oid(1)], 4000));
    index.addPack(gone, packIndex(gone, [oid(2), oid(3)], 5000));
    index.addPack(short, packIndex(short, [oid(4)], 6000));
    const needs = Needs.ofPointers(new Map([['a', filePointer(oid(1), 10)], ['b', filePointer(oid(2), 10)], ['c', filePointer(oid(9), 10)]]));
    needs.addManifest('d', [{ p: 'x', o: oid(3), s: 10, x: false }, { p: 'y', o: oid(4), s: 10, x: false }, { p: 'z', o: oid(2), s: 10, x: false }]);

    const { problems, packs } = missingOnRemote(needs, index);
    expect(problems).toEqual([{ oid: oid(9), paths: ['c'], problem: 'missing' }]);
    expect([...packs]).toEqual([[whole, 4000], [gone, 5000], [short, 6000]]);

    const listing = [{ key: packKey(oidFromHex(whole)), size: 4000 }, { key: packKey(oidFromHex(short)), size: 5999 }];
    expect(packsMissing(needs, index, packs, listing)).toEqual([
      { oid: oid(2), paths: ['b', 'd/z'], problem: 'pack-missing' },
      { oid: oid(3), paths: ['d/x'], problem: 'pack-missing' },
      { oid: oid(4), paths: ['d/y'], problem: 'pack-missing' },
    ]);
  });
});
