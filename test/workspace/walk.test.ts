import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
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

describe('the work-tree walk', () => {
  it('finds what a plain recursive walk finds, in manifest order, skipping nested .git', () => {
    const root = mixedTree(300);
    const walked = walkTree(root, { root, rel: '' });
    expect(walked.count).toBe(300 + 3); // the files, sub/deeper/a.bin, empty/, link
    expect(walked.skipped.map((s) => s.rel)).toEqual(['nested/.git']);
    expect(described(walked)).toEqual(plainWalk(root));
    expect([...walked.targets.values()]).toEqual(['f1.txt']);
  });

  it('many small folders and names that sort between a folder and its files', () => {
    const root = mixedTree(40);
    for (let d = 0; d < 30; d++) {
      const dir = path.join(root, `d${d}`, d % 3 === 0 ? 'x' : '');
      fs.mkdirSync(dir, { recursive: true });
      for (let f = 0; f < (d % 5) * 3; f++) fs.writeFileSync(path.join(dir, `f${f}`), 'y'.repeat(f));
    }
    fs.writeFileSync(path.join(root, 'a-x'), 'sorts between a and a/'); // manifest order is by bytes
    fs.mkdirSync(path.join(root, 'a'));
    fs.writeFileSync(path.join(root, 'a', 'b'), 'b');
    expect(described(walkTree(root, { root, rel: '' }))).toEqual(plainWalk(root));
  });
});
