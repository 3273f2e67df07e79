import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { FileEntry, ManifestEntry } from '../../src/formats/manifest.js';
import type { Oid } from '../../src/hash/oid.js';
import { E } from '../../src/util/errors.js';
import { planCheckout, type EntryStat, type FoundAtPath, type WorkTreeProbe } from '../../src/workspace/checkout-plan.js';
import type { TrackedPath } from '../../src/workspace/pointers.js';
import type { Scanned } from '../../src/workspace/scan.js';
import { fakeOid as oid } from '../helpers/plans.js';

const CACHE = '/cache/objects/';

/** What a work tree entry is, for the fake probe. `held`: it is in the form the link type asks for. */
type Node = { kind: 'file'; content: Oid; exec?: boolean; held?: boolean } | { kind: 'link'; target: string } | { kind: 'emptydir' };

/** An in-memory work tree under one tracked path, and a cache; records which files were hashed. */
function workTree(nodes: Record<string, Node>, cached: Oid[] = [], ownModes = true) {
  const hashed: string[] = [];
  const node = (p: string) => {
    const n = nodes[p];
    if (!n) throw new Error(`no entry ${p}`);
    return n;
  };
  const stat = (p: string): EntryStat => {
    const n = node(p);
    const type = n.kind === 'link' ? fs.constants.S_IFLNK : n.kind === 'file' ? fs.constants.S_IFREG : fs.constants.S_IFDIR;
    const perm = n.kind === 'file' && n.exec ? 0o755 : 0o644;
    return { size: 1, mtimeMs: 1, ctimeMs: 1, ino: 1, dev: 1, nlink: 1, mode: type | perm, isSymbolicLink: () => n.kind === 'link' };
  };
  const probe: WorkTreeProbe = {
    stat,
    oid: (p) => {
      const n = node(p);
      if (n.kind !== 'file') throw new Error(`${p} is not a file`);
      hashed.push(p);
      return n.content;
    },
    linkTarget: (p) => {
      const n = node(p);
      if (n.kind !== 'link') throw new Error(`${p} is not a link`);
      return n.target;
    },
    holds: (p, _st, o) => {
      const n = node(p);
      return n.kind === 'link' ? n.target === `${CACHE}${o}` : n.kind === 'file' && n.content === o && !!n.held;
    },
    inCache: (o) => cached.includes(o),
    intoCache: (target) => target.startsWith(CACHE),
    ownModes,
  };
  const entries: Scanned[] = Object.entries(nodes).map(([rel, n]) =>
    n.kind === 'file' ? { kind: 'file', rel, stat: stat(rel) } : n.kind === 'link' ? { kind: 'link', rel, target: n.target } : { kind: 'emptydir', rel },
  );
  return { probe, hashed, asDir: { kind: 'dir', entries } as FoundAtPath };
}

const fileTracked = (o: Oid, x = false): TrackedPath => ({
  path: 'model.bin',
  pointerFile: '/repo/model.bin.mlx',
  pointer: { version: 1, path: 'model.bin', kind: 'file', oid: o, size: 1, ...(x ? { x: true } : {}) },
});
const dirTracked: TrackedPath = { path: 'data', pointerFile: '/repo/data.mlx', pointer: { version: 1, path: 'data', kind: 'dir', oid: oid(1000), size: 3, files: 3 } };
const file = (p: string, o: Oid, x = false): FileEntry => ({ p, o, s: 1, x });

describe('planCheckout: a tracked file', () => {
  it('writes a file that is not there', () => {
    const { probe } = workTree({});
    const plan = planCheckout({ tracked: fileTracked(oid(1)), entries: [file('', oid(1))], sub: undefined, force: false, found: undefined }, probe);
    expect(plan).toMatchObject({ writes: [file('', oid(1))], removeFiles: [], removeDirs: [], makeDirs: [], links: [], chmods: [], unchanged: 0, conflicts: [] });
    expect([...plan.desiredFiles]).toEqual(['']);
  });

  it('keeps a file that holds its object, and fixes only its executable bit', () => {
    const { probe } = workTree({ '': { kind: 'file', content: oid(1), held: true } });
    const plan = planCheckout({ tracked: fileTracked(oid(1), true), entries: [file('', oid(1), true)], sub: undefined, force: false, found: { kind: 'file' } }, probe);
    expect(plan).toMatchObject({ writes: [], unchanged: 1, chmods: [file('', oid(1), true)], conflicts: [] });
  });

  it('leaves the mode alone when files are hard links to the cache', () => {
    const { probe } = workTree({ '': { kind: 'file', content: oid(1), held: true } }, [], false);
    const plan = planCheckout({ tracked: fileTracked(oid(1), true), entries: [file('', oid(1), true)], sub: undefined, force: false, found: { kind: 'file' } }, probe);
    expect(plan).toMatchObject({ unchanged: 1, chmods: [] });
  });

  it('rewrites a file with the right content in the wrong form (a copy where a link belongs)', () => {
    const { probe } = workTree({ '': { kind: 'file', content: oid(1), held: false } });
    const plan = planCheckout({ tracked: fileTracked(oid(1)), entries: [file('', oid(1))], sub: undefined, force: false, found: { kind: 'file' } }, probe);
    expect(plan).toMatchObject({ writes: [file('', oid(1))], unchanged: 0, conflicts: [] });
  });

  it('refuses to overwrite changed content that is not in the cache, unless forced', () => {
    const input = { tracked: fileTracked(oid(1)), entries: [file('', oid(1))], sub: undefined, found: { kind: 'file' } as const };
    const edited = { '': { kind: 'file', content: oid(2) } as const };
    expect(planCheckout({ ...input, force: false }, workTree(edited).probe)).toMatchObject({ writes: [file('', oid(1))], conflicts: ['model.bin'] });
    expect(planCheckout({ ...input, force: true }, workTree(edited).probe)).toMatchObject({ writes: [file('', oid(1))], conflicts: [] });
    // Content that was added before can be overwritten: the cache keeps it.
    expect(planCheckout({ ...input, force: false }, workTree(edited, [oid(2)]).probe).conflicts).toEqual([]);
  });

  it('keeps a symlink into the cache that holds the object, without hashing anything', () => {
    const { probe, hashed } = workTree({ '': { kind: 'link', target: `${CACHE}${oid(1)}` } });
    const plan = planCheckout({ tracked: fileTracked(oid(1)), entries: [file('', oid(1))], sub: undefined, force: false, found: { kind: 'link' } }, probe);
    expect(plan).toMatchObject({ unchanged: 1, writes: [], removeFiles: [] });
    expect(hashed).toEqual([]);
  });

  it('replaces a directory where the file belongs, refusing for the unsaved files in it', () => {
    const { probe, asDir } = workTree({
      'a.txt': { kind: 'file', content: oid(5) },
      'b.txt': { kind: 'file', content: oid(6) },
      'saved-link': { kind: 'link', target: `${CACHE}${oid(7)}` },
      'own-link': { kind: 'link', target: '/elsewhere' },
    }, [oid(6)]);
    const plan = planCheckout({ tracked: fileTracked(oid(1)), entries: [file('', oid(1))], sub: undefined, force: false, found: asDir }, probe);
    expect(plan).toMatchObject({ removeDirs: [''], writes: [file('', oid(1))], conflicts: ['model.bin/a.txt', 'model.bin/own-link'] });
  });
});

describe('planCheckout: a tracked directory', () => {
  const entries: ManifestEntry[] = [
    file('keep.txt', oid(1)),
    file('sub/new.txt', oid(2)),
    { p: 'sub/link', t: 'l', l: '../keep.txt' },
    { p: 'empty', t: 'd' },
    file('other/far.txt', oid(3)),
  ];

  it('writes what is missing, removes what is stray (deepest directory first) and keeps what matches', () => {
    const { probe, asDir } = workTree({
      'keep.txt': { kind: 'file', content: oid(1), held: true },
      'sub/link': { kind: 'link', target: '../wrong.txt' },
      'stray/deep/x.bin': { kind: 'file', content: oid(9) },
      'gone': { kind: 'emptydir' },
    }, [oid(9)]);

    const plan = planCheckout({ tracked: dirTracked, entries, sub: undefined, force: false, found: asDir }, probe);

    expect(plan.unchanged).toBe(1);
    expect(plan.writes).toEqual([file('sub/new.txt', oid(2)), file('other/far.txt', oid(3))]);
    // The link points elsewhere: it is removed and made again.
    expect(plan.removeFiles).toEqual(['sub/link', 'stray/deep/x.bin']);
    expect(plan.links).toEqual([{ p: 'sub/link', l: '../keep.txt' }]);
    expect(plan.makeDirs).toEqual(['empty']);
    expect(plan.removeDirs).toEqual(['stray/deep', 'stray', 'gone']);
    // A link checkout did not make (it points outside the cache) is the user's: replacing it loses it.
    expect(plan.conflicts).toEqual(['data/sub/link']);
  });

  it('marks as fresh the writes to paths that will be empty: absent, or removed first; not a file replaced by rename', () => {
    const { probe, asDir } = workTree({
      'keep.txt': { kind: 'file', content: oid(8) },
      'sub/new.txt': { kind: 'link', target: `${CACHE}${oid(7)}` },
    }, [oid(7), oid(8)]);
    const plan = planCheckout({ tracked: dirTracked, entries, sub: undefined, force: false, found: asDir }, probe);
    expect(plan.writes.map((w) => w.p).sort()).toEqual(['keep.txt', 'other/far.txt', 'sub/new.txt']);
    expect(plan.removeFiles).toEqual(['sub/new.txt']);
    // keep.txt holds other content: it is replaced by rename, never created where it still is.
    expect([...plan.freshWrites].sort()).toEqual(['other/far.txt', 'sub/new.txt']);
  });

  it('names every unsaved path it would lose, by its path in the repository', () => {
    const { probe, asDir } = workTree({
      'keep.txt': { kind: 'file', content: oid(8) },
      'stray.bin': { kind: 'file', content: oid(9) },
    });
    const plan = planCheckout({ tracked: dirTracked, entries, sub: undefined, force: false, found: asDir }, probe);
    expect(plan.conflicts).toEqual(['data/keep.txt', 'data/stray.bin']);
    expect(plan.removeFiles).toEqual(['stray.bin']);
  });

  it('plans only the sub-path asked for, hashing nothing outside it, yet knows every desired file', () => {
    const { probe, asDir, hashed } = workTree({
      'keep.txt': { kind: 'file', content: oid(8) },
      'sub/new.txt': { kind: 'file', content: oid(7) },
      'sub/stray.txt': { kind: 'file', content: oid(6) },
    });
    const plan = planCheckout({ tracked: dirTracked, entries, sub: 'sub', force: false, found: asDir }, probe);
    expect(plan.writes).toEqual([file('sub/new.txt', oid(2))]);
    expect(plan.removeFiles).toEqual(['sub/stray.txt']);
    expect(plan.links).toEqual([{ p: 'sub/link', l: '../keep.txt' }]);
    expect(plan.conflicts).toEqual(['data/sub/new.txt', 'data/sub/stray.txt']);
    expect(hashed.sort()).toEqual(['sub/new.txt', 'sub/stray.txt']);
    expect([...plan.desiredFiles].sort()).toEqual(['keep.txt', 'other/far.txt', 'sub/new.txt']);
  });

  it('refuses a sub-path that neither the pointer nor the work tree has', () => {
    const { probe, asDir } = workTree({ 'keep.txt': { kind: 'file', content: oid(1), held: true } });
    expect(() => planCheckout({ tracked: dirTracked, entries, sub: 'typo', force: false, found: asDir }, probe)).toThrow(
      expect.objectContaining({ code: E.PATH_NOT_FOUND, message: 'data/typo is not part of data' }),
    );
  });

  it('plans nothing, and refuses nothing, for a kept partial part the revision does not have', () => {
    const { probe, asDir } = workTree({ 'keep.txt': { kind: 'file', content: oid(1), held: true } });
    const plan = planCheckout({ tracked: dirTracked, entries, sub: 'gone', mayBeAbsent: true, force: false, found: asDir }, probe);
    expect([plan.writes, plan.removeFiles, plan.removeDirs, plan.makeDirs, plan.links]).toEqual([[], [], [], [], []]);
  });

  it('makes the whole tree when nothing is there', () => {
    const { probe } = workTree({});
    const plan = planCheckout({ tracked: dirTracked, entries, sub: undefined, force: false, found: undefined }, probe);
    expect(plan.writes.map((w) => w.p)).toEqual(['keep.txt', 'sub/new.txt', 'other/far.txt']);
    expect(plan.makeDirs).toEqual(['empty']);
    expect(plan.removeDirs).toEqual([]);
  });
});
