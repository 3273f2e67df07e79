import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import type { PackEntry, PackIndex } from '../../src/formats/pack-index.js';
import { oidFromHex, type Oid } from '../../src/hash/oid.js';
import { DirRemote } from '../../src/remote/dir-remote.js';
import { RemoteIndex } from '../../src/remote/remote-index.js';
import { tempDir } from './repo.js';

// Made-up objects and packs for the unit tests of pure plans (push, fetch, checkout, verify).

/** A made-up object id; `n` tells them apart. */
export const fakeOid = (n: number): Oid => oidFromHex(n.toString(16).padStart(64, '0'));

/** A made-up pack oid's hex, never equal to a {@link fakeOid}'s. */
export const fakePackHex = (n: number): string => n.toString(16).padStart(64, 'f');

/** A pack index holding `members` (oid, type, raw size), laid out one after another `gap` bytes apart. */
export function fakePackIndex(hex: string, members: [Oid, 'b' | 'r', number][], gap = 0): PackIndex {
  let off = 0;
  const entries: PackEntry[] = members.map(([o, t, raw]) => {
    const entry: PackEntry = { o, t, off, len: raw, raw, c: 'none' };
    off += raw + gap;
    return entry;
  });
  return { v: 1, pack: oidFromHex(hex), size: off, entries };
}

/**
 * Real remote indexes that start out empty (the plans ask them what the remote holds), over one
 * directory remote in a temp folder made before the file's tests and removed after them.
 */
export function useEmptyRemoteIndexes(prefix: string): () => Promise<RemoteIndex> {
  let root: string;
  let n = 0;
  beforeAll(() => {
    root = tempDir(prefix);
    fs.mkdirSync(path.join(root, 'remote'));
  });
  afterAll(() => fs.rmSync(root, { recursive: true, force: true }));
  return () => RemoteIndex.load(new DirRemote(path.join(root, 'remote')), path.join(root, `idx-${n++}`));
}
