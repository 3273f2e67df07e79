import fs from 'node:fs';
import path from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { mergeDriver, mergeEntries, mergePointerFiles, mergeTextFiles } from '../../src/commands/merge-driver.js';
import { parseManifest, serializeManifest, type FileEntry, type ManifestEntry } from '../../src/formats/manifest.js';
import { parsePointer, serializePointer, type Pointer } from '../../src/formats/pointer.js';
import type { Repo } from '../../src/workspace/repo.js';
import { useTempStore } from '../helpers/repo.js';

// The three-way merge git runs as `mlx merge-driver %O %A %B %P`: %A (ours) is both an input and where
// the result goes, so every case checks what that file holds afterwards.

const { dir, store } = useTempStore();
/** The driver reads nothing of the repository but its object store. */
const repo = () => ({ store: store() }) as unknown as Repo;

const oid = (c: string) => `b3:${c.repeat(64)}`;
const file = (p: string, c: string, s = 1, x = false): FileEntry => ({ p, o: oid(c), s, x });
const filePointer = (p: string, c: string, size = 1): Pointer => ({ version: 1, path: p, kind: 'file', oid: oid(c), size });

/** Stores a directory's manifest and returns its pointer. */
function dirPointer(entries: ManifestEntry[]): Pointer {
  const files = entries.filter((e): e is FileEntry => !('t' in e));
  return { version: 1, path: 'data', kind: 'dir', oid: store().putBytes(Buffer.from(serializeManifest(entries))), size: files.reduce((n, f) => n + f.s, 0), files: files.length };
}

let base: string;
let ours: string;
let theirs: string;
beforeEach(() => {
  [base, ours, theirs] = ['base', 'ours', 'theirs'].map((n) => path.join(dir(), n)) as [string, string, string];
});

function sides(b: Pointer | string | undefined, o: Pointer | string | undefined, t: Pointer | string | undefined): void {
  const text = (p: Pointer | string | undefined) => (p === undefined ? '' : typeof p === 'string' ? p : serializePointer(p));
  fs.writeFileSync(base, text(b));
  fs.writeFileSync(ours, text(o));
  fs.writeFileSync(theirs, text(t));
}

const merge = () => mergePointerFiles(repo(), base, ours, theirs, 'data.mlx');
const result = () => fs.readFileSync(ours, 'utf8');
const markers = (o: string, t: string) => `<<<<<<< ours\n${o}=======\n${t}>>>>>>> theirs\n`;

describe('mergeEntries', () => {
  it('takes each path from the side that changed it: edits, additions and deletions on both sides', () => {
    const b = [file('a', '1'), file('b', '2'), file('d', '4'), file('same', '5')];
    const o = [file('a', '9'), file('b', '2'), file('c', '3'), file('same', '6')];
    const t = [file('a', '1'), file('b', '8'), file('same', '6'), { p: 'l', t: 'l', l: 'a' } as const];
    const { entries, conflicts } = mergeEntries(b, o, t);
    expect(conflicts).toEqual([]);
    expect(JSON.parse(serializeManifest(entries)).entries).toEqual(JSON.parse(serializeManifest([file('a', '9'), file('b', '8'), file('c', '3'), file('same', '6'), { p: 'l', t: 'l', l: 'a' }])).entries);
  });

  it('reports each path both sides changed differently, sorted, and leaves it out', () => {
    const b = [file('z', '1'), file('y', '1'), file('x', '1'), file('keep', '1')];
    const o = [file('z', '2'), file('x', '1', 1, true), file('keep', '1')];
    const t = [file('z', '3'), file('y', '4'), file('x', '1'), file('keep', '1')];
    const { entries, conflicts } = mergeEntries(b, o, t);
    // z: edited both ways; y: deleted by ours, edited by theirs. x only changed its bit on one side.
    expect(conflicts).toEqual(['y', 'z']);
    expect(entries.map((e) => e.p).sort()).toEqual(['keep', 'x']);
    expect(entries.find((e) => e.p === 'x')).toEqual(file('x', '1', 1, true));
  });

  it('refuses a file on one side where the other side made a folder of the same name', () => {
    const { conflicts } = mergeEntries([], [file('m', '1')], [file('m/inner', '2')]);
    expect(conflicts).toHaveLength(1);
    expect(conflicts[0]).toMatch(/"m\/inner" lies beneath a file/);
  });
});

describe('mergePointerFiles', () => {
  it('keeps ours when both sides agree or only ours changed, without rewriting the file', () => {
    sides(filePointer('m', '1'), filePointer('m', '2'), filePointer('m', '2'));
    expect(merge()).toEqual({ merged: true, how: 'same', conflicts: [] });
    expect(result()).toBe(serializePointer(filePointer('m', '2')));
    sides(filePointer('m', '1'), filePointer('m', '2'), filePointer('m', '1'));
    expect(merge()).toEqual({ merged: true, how: 'ours', conflicts: [] });
    expect(result()).toBe(serializePointer(filePointer('m', '2')));
  });

  it('writes theirs into ours when only theirs changed', () => {
    sides(filePointer('m', '1'), filePointer('m', '1'), filePointer('m', '3', 7));
    expect(merge()).toEqual({ merged: true, how: 'theirs', conflicts: [] });
    expect(parsePointer(result(), 'result')).toEqual(filePointer('m', '3', 7));
  });

  it('leaves a file changed on both sides as git conflict markers around both pointers', () => {
    sides(filePointer('m', '1'), filePointer('m', '2'), filePointer('m', '3'));
    expect(merge()).toEqual({ merged: false, how: 'conflict', conflicts: ['data.mlx: both sides changed the file'] });
    expect(result()).toBe(markers(serializePointer(filePointer('m', '2')), serializePointer(filePointer('m', '3'))));
  });

  it('leaves a deletion on one side against a change on the other as a conflict', () => {
    sides(filePointer('m', '1'), undefined, filePointer('m', '3'));
    expect(merge()).toMatchObject({ merged: false, conflicts: ['deleted on one side, changed on the other'] });
    expect(result()).toBe(markers('', serializePointer(filePointer('m', '3'))));
  });

  it('turns a malformed side into a conflict that says what is wrong with it', () => {
    sides(filePointer('m', '1'), 'version: 1\nkind: file\noid: nope\n', filePointer('m', '3'));
    const r = merge();
    expect(r.merged).toBe(false);
    expect(r.conflicts).toHaveLength(1);
    expect(r.conflicts[0]).toMatch(/data\.mlx \(ours\)/);
    expect(result()).toBe(markers('version: 1\nkind: file\noid: nope\n', serializePointer(filePointer('m', '3'))));
  });

  it('merges a directory changed on both sides file by file into a new manifest in the cache', () => {
    const b = dirPointer([file('a', '1', 10), file('b', '2', 20)]);
    const o = dirPointer([file('a', '3', 30), file('b', '2', 20)]);
    const t = dirPointer([file('a', '1', 10), file('b', '2', 20), file('c/d', '4', 40)]);
    sides(b, o, t);
    expect(merge()).toEqual({ merged: true, how: 'files', conflicts: [] });
    const merged = parsePointer(result(), 'result');
    expect(merged).toMatchObject({ kind: 'dir', path: 'data', size: 90, files: 3 });
    const manifest = store().readBytes(merged.oid).toString('utf8');
    expect(manifest).toBe(serializeManifest([file('a', '3', 30), file('b', '2', 20), file('c/d', '4', 40)]));
    expect(parseManifest(manifest, 'merged').entries).toHaveLength(3);
  });

  it('merges directories both sides added (no base) when they touch different files', () => {
    sides(undefined, dirPointer([file('a', '1', 1)]), dirPointer([file('b', '2', 2)]));
    expect(merge()).toMatchObject({ merged: true, how: 'files' });
    expect(parsePointer(result(), 'result')).toMatchObject({ size: 3, files: 2 });
  });

  it('names the files inside a directory that both sides changed, and keeps both pointers for the user', () => {
    const o = dirPointer([file('a', '3'), file('b', '5')]);
    const t = dirPointer([file('a', '4'), file('b', '6')]);
    sides(dirPointer([file('a', '1'), file('b', '2')]), o, t);
    expect(merge()).toEqual({ merged: false, how: 'conflict', conflicts: ['data/a', 'data/b'] });
    expect(result()).toBe(markers(serializePointer(o), serializePointer(t)));
  });

  it('asks for a fetch when a manifest is not in the cache, instead of guessing', () => {
    const b = dirPointer([file('a', '1')]);
    const o = dirPointer([file('a', '2')]);
    const t: Pointer = { ...b, oid: oid('f') };
    sides(b, o, t);
    const r = merge();
    expect(r.merged).toBe(false);
    expect(r.conflicts).toEqual(['data.mlx: a manifest is not in the cache (mlx fetch on both branches, then merge again)']);
  });

  it('does not merge a file on one side with a directory on the other', () => {
    sides(filePointer('data', '1'), filePointer('data', '2'), dirPointer([file('a', '1')]));
    expect(merge()).toMatchObject({ merged: false, conflicts: ['data.mlx: both sides changed the file'] });
  });
});

describe('mergeTextFiles and the driver entry', () => {
  it('takes the one side that changed a text file, and marks a change on both', () => {
    sides('v1\n', 'v1\n', 'v2\n');
    expect(mergeTextFiles(base, ours, theirs)).toEqual({ merged: true, how: 'theirs', conflicts: [] });
    expect(result()).toBe('v2\n');
    sides('v1\n', 'v2\n', 'v1\n');
    expect(mergeTextFiles(base, ours, theirs)).toMatchObject({ merged: true, how: 'ours' });
    expect(result()).toBe('v2\n');
    sides('v1\n', 'v2', 'v3\n');
    expect(mergeTextFiles(base, ours, theirs)).toMatchObject({ merged: false, how: 'conflict' });
    expect(result()).toBe(markers('v2\n', 'v3\n'));
  });

  it('merges files other than pointers as text, without needing a repository', async () => {
    sides('lock v1\n', 'lock v1\n', 'lock v2\n');
    const r = await mergeDriver({ cwd: path.join(dir(), 'not-a-repo'), base, ours, theirs, path: 'mlx.lock' });
    expect(r).toEqual({ merged: true, how: 'theirs', conflicts: [] });
    expect(result()).toBe('lock v2\n');
  });
});
