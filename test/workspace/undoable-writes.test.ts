import fs from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { writeFilesUndoably } from '../../src/workspace/undoable-writes.js';
import { tempDir } from '../helpers/repo.js';

let dir: string;
beforeEach(() => {
  dir = tempDir();
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

/** Every file and folder under `dir` with its bytes (hex), to compare before and after. */
function tree(): Record<string, string> {
  const out: Record<string, string> = {};
  for (const rel of fs.readdirSync(dir, { recursive: true }) as string[]) {
    const abs = path.join(dir, rel);
    out[rel] = fs.statSync(abs).isDirectory() ? 'dir' : fs.readFileSync(abs).toString('hex');
  }
  return out;
}

describe('writeFilesUndoably', () => {
  it('writes every file, and undo puts back their bytes, removes new files and the folders made for them', () => {
    fs.writeFileSync(path.join(dir, 'a.mlx'), 'old a\n');
    fs.writeFileSync(path.join(dir, 'empty'), '');
    fs.mkdirSync(path.join(dir, 'kept'));
    const before = tree();
    const undo = writeFilesUndoably([
      { file: path.join(dir, 'a.mlx'), data: 'new a\n' },
      { file: path.join(dir, 'empty'), data: 'no longer empty' },
      { file: path.join(dir, 'kept', 'b.mlx'), data: 'b' },
      { file: path.join(dir, 'new', 'deep', 'c.mlx'), data: Buffer.from([0, 1, 2]) },
    ]);
    expect(fs.readFileSync(path.join(dir, 'a.mlx'), 'utf8')).toBe('new a\n');
    expect(fs.readFileSync(path.join(dir, 'new', 'deep', 'c.mlx'))).toEqual(Buffer.from([0, 1, 2]));
    undo();
    expect(tree()).toEqual(before);
  });

  it('a write that fails undoes the ones before it and reports the failure', () => {
    fs.writeFileSync(path.join(dir, 'a.mlx'), 'old a\n');
    fs.writeFileSync(path.join(dir, 'blocker'), 'a file where a folder would have to be');
    const before = tree();
    expect(() =>
      writeFilesUndoably([
        { file: path.join(dir, 'a.mlx'), data: 'new a\n' },
        { file: path.join(dir, 'fresh.mlx'), data: 'fresh' },
        { file: path.join(dir, 'blocker', 'c.mlx'), data: 'c' },
      ]),
    ).toThrow(/EEXIST|ENOTDIR/);
    expect(tree()).toEqual(before);
  });
});
