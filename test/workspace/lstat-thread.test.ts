import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { LSTAT_FIELDS, lstatNames, parallelLstatJobs } from '../../src/workspace/lstat-thread.js';
import { walkTree } from '../../src/workspace/scan.js';
import { tempDir } from '../helpers/repo.js';

/** A folder of `files` small files, a sub-folder, a symlink, an empty folder and a nested `.git`. */
function mixedTree(files: number): string {
  const root = tempDir();
  for (let i = 0; i < files; i++) fs.writeFileSync(path.join(root, `f${i}.txt`), 'x'.repeat(i % 7));
  fs.mkdirSync(path.join(root, 'sub', 'deeper'), { recursive: true });
  fs.writeFileSync(path.join(root, 'sub', 'deeper', 'a.bin'), 'abc');
  fs.mkdirSync(path.join(root, 'empty'));
  fs.mkdirSync(path.join(root, 'nested', '.git'), { recursive: true });
  fs.symlinkSync('f1.txt', path.join(root, 'link'));
  return root;
}

/** What a walk must find, by the plainest recursive walk: `kind rel size`, in manifest (UTF-8) order. */
function plainWalk(root: string, rel = ''): string[] {
  const names = fs.readdirSync(path.join(root, rel));
  if (names.length === 0 && rel !== '') return [`d ${rel}`];
  return names.flatMap((name) => {
    if (name === '.git') return [];
    const r = rel === '' ? name : `${rel}/${name}`;
    const st = fs.lstatSync(path.join(root, r));
    if (st.isDirectory()) return plainWalk(root, r);
    return [`${st.isSymbolicLink() ? 'l' : 'f'} ${r} ${st.isSymbolicLink() ? 0 : st.size}`];
  }).sort((a, b) => Buffer.compare(Buffer.from(a.split(' ')[1]!), Buffer.from(b.split(' ')[1]!)));
}

/** A walk's entries in the form of {@link plainWalk}. */
function described(t: ReturnType<typeof walkTree>): string[] {
  return Array.from({ length: t.count }, (_, i) => (t.kind(i) === 2 ? `d ${t.rel(i)}` : `${t.kind(i) === 1 ? 'l' : 'f'} ${t.rel(i)} ${t.kind(i) === 1 ? 0 : t.sizeAt(i)}`));
}

describe('lstat on two threads', () => {
  it('gives every name the numbers lstat gives, and -1 for a name that is gone', () => {
    const root = mixedTree(3000);
    const names = [...fs.readdirSync(root), 'no-such-file'];
    const before = parallelLstatJobs;
    const stats = lstatNames(root + path.sep, names, 1, true); // every name through the helper thread
    expect(parallelLstatJobs).toBe(before + 1);
    names.forEach((name, i) => {
      const at = i * LSTAT_FIELDS;
      if (name === 'no-such-file') return expect(stats[at]).toBe(-1);
      const st = fs.lstatSync(path.join(root, name));
      expect([...stats.subarray(at, at + LSTAT_FIELDS)]).toEqual([st.mode, st.size, st.mtimeMs, st.ctimeMs, st.ino, st.nlink, st.dev]);
    });
  });

  it('a name the helper thread cannot stat comes back as -1, and the helper goes on working', () => {
    const root = mixedTree(10);
    // ENOTDIR (not ENOENT) throws even with throwIfNoEntry: false; the helper must survive it.
    const bad = lstatNames(root + path.sep, ['f1.txt/below', 'f2.txt'], 1, true);
    expect(bad[0]).toBe(-1);
    expect(bad[LSTAT_FIELDS + 1]).toBe(fs.lstatSync(path.join(root, 'f2.txt')).size);
    const after = lstatNames(root + path.sep, ['f3.txt'], 1, true);
    expect(after[1]).toBe(3);
  });

  it('a walk that shares its lstat calls finds exactly what a walk on one thread finds', () => {
    const root = mixedTree(5000);
    const alone = walkTree(root, Infinity);
    const before = parallelLstatJobs;
    const shared = walkTree(root, 1);
    expect(parallelLstatJobs).toBeGreaterThan(before);
    expect(shared.count).toBe(5000 + 3); // the files, sub/deeper/a.bin, empty/, link
    const bytes = (t: typeof alone) => t.columns().map((c) => Buffer.from(c).toString('hex'));
    expect(bytes(shared)).toEqual(bytes(alone));
    expect([...shared.targets]).toEqual([...alone.targets]);
    expect(shared.skipped).toEqual(alone.skipped);
    expect(shared.skipped.map((s) => s.rel)).toEqual(['nested/.git']);
    expect(described(shared)).toEqual(plainWalk(root));
  });

  it('many small folders, stat in batches that end mid-folder, give what a plain walk gives', () => {
    const root = mixedTree(40);
    for (let d = 0; d < 30; d++) {
      const dir = path.join(root, `d${d}`, d % 3 === 0 ? 'x' : '');
      fs.mkdirSync(dir, { recursive: true });
      for (let f = 0; f < (d % 5) * 3; f++) fs.writeFileSync(path.join(dir, `f${f}`), 'y'.repeat(f));
    }
    fs.writeFileSync(path.join(root, 'a-x'), 'sorts between a and a/'); // manifest order is by bytes
    fs.mkdirSync(path.join(root, 'a'));
    fs.writeFileSync(path.join(root, 'a', 'b'), 'b');
    const expected = plainWalk(root);
    expect(described(walkTree(root, Infinity, 7))).toEqual(expected);
    expect(described(walkTree(root, 1, 7))).toEqual(expected);
    expect(described(walkTree(root))).toEqual(expected);
  });
});
