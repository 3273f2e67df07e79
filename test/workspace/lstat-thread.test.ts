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
  });
});
