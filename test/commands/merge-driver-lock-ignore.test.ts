import fs from 'node:fs';
import path from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { mergeDriver } from '../../src/commands/merge-driver.js';
import { conflictedRunNames } from '../../src/formats/run-lock-merge.js';
import { parseRunLock, serializeRunLock } from '../../src/formats/run-lock.js';
import { mergeIgnoreLines } from '../../src/workspace/gitignore.js';
import { tempDir } from '../helpers/repo.js';
import { lockWith, sampleRun } from '../helpers/runs.js';

// The driver as git runs it for mlx.lock and .gitignore: three files, the result written to ours.

let dir: string;
beforeEach(() => {
  dir = tempDir('mlx-merge-lock-');
  return () => fs.rmSync(dir, { recursive: true, force: true });
});

async function drive(name: string, b: string, o: string, t: string) {
  const [base, ours, theirs] = ['base', 'ours', 'theirs'].map((n) => path.join(dir, n)) as [string, string, string];
  fs.writeFileSync(base, b);
  fs.writeFileSync(ours, o);
  fs.writeFileSync(theirs, t);
  const res = await mergeDriver({ cwd: dir, base, ours, theirs, path: name });
  return { res, text: fs.readFileSync(ours, 'utf8') };
}

const [r1, r2, r3] = [1, 2, 3].map((n) => sampleRun(n));

describe('merge driver for mlx.lock', () => {
  it('merges runs added on different branches into one lockfile', async () => {
    const base = serializeRunLock(lockWith(['prep', r1!]));
    const { res, text } = await drive('mlx.lock', base, serializeRunLock(lockWith(['prep', r1!], ['s1', r2!])), serializeRunLock(lockWith(['prep', r1!], ['s2', r3!])));
    expect(res).toEqual({ merged: true, how: 'runs', conflicts: [] });
    expect(text).toBe(serializeRunLock(lockWith(['prep', r1!], ['s1', r2!], ['s2', r3!])));
  });

  it('a run changed on both sides conflicts alone; the other runs are merged in the file', async () => {
    const { res, text } = await drive('mlx.lock', serializeRunLock(lockWith(['s', r1!])), serializeRunLock(lockWith(['s', r2!], ['a', r1!])), serializeRunLock(lockWith(['s', r3!], ['b', r1!])));
    expect(res).toEqual({ merged: false, how: 'conflict', conflicts: ['run s'], runs: ['s'] });
    expect(conflictedRunNames(text)).toEqual(['s']);
    expect(text).toMatch(/^ {2}a:$/m);
    expect(text).toMatch(/^ {2}b:$/m);
  });

  it('a side that is not a lockfile is a whole-file conflict holding both sides byte for byte', async () => {
    const ours = serializeRunLock(lockWith(['s', r2!]));
    const theirs = 'version: 1\nruns: [not, a, map]\n';
    const { res, text } = await drive('mlx.lock', serializeRunLock(lockWith(['s', r1!])), ours, theirs);
    expect(res.merged).toBe(false);
    expect(res.runs).toBeUndefined();
    expect(text).toBe(`<<<<<<< ours\n${ours}=======\n${theirs}>>>>>>> theirs\n`);
    expect(() => parseRunLock(text, 'mlx.lock')).toThrow(/unresolved merge conflict markers/);
  });
});

describe('merge driver for .gitignore', () => {
  it('keeps the entries both branches appended, at any depth, with no conflict', async () => {
    const { res, text } = await drive('.gitignore', 'node_modules\n/raw\n', 'node_modules\n/raw\n/data/m1\n', 'node_modules\n/raw\n/data/m2\n');
    expect(res.merged).toBe(true);
    expect(text).toBe('node_modules\n/raw\n/data/m1\n/data/m2\n');
    expect((await drive('sub/.gitignore', '', 'a\n', 'b\n')).text).toBe('a\nb\n');
  });
});

describe('mergeIgnoreLines', () => {
  it('honours a removal on either side, even next to a line the other side added', () => {
    // union merge would bring /old back: theirs' hunk [/old, /new] against ours' [].
    expect(mergeIgnoreLines('/a\n/old\n', '/a\n', '/a\n/old\n/new\n')).toBe('/a\n/new\n');
    expect(mergeIgnoreLines('/a\n/old\n', '/a\n/old\n/new\n', '/a\n')).toBe('/a\n/new\n');
  });

  it('puts a line theirs added after the line it follows in theirs, keeping rule order', () => {
    expect(mergeIgnoreLines('/data/*\n/logs\n', '/data/*\n/logs\n/ours\n', '/data/*\n!/data/keep\n/logs\n')).toBe('/data/*\n!/data/keep\n/logs\n/ours\n');
  });

  it('never duplicates a line both sides added, and keeps blank lines and comments', () => {
    expect(mergeIgnoreLines('# mine\n\n/a\n', '# mine\n\n/a\n/x\n\n/o\n', '# mine\n\n/a\n/x\n\n/t\n')).toBe('# mine\n\n/a\n/x\n\n/o\n/t\n');
    expect(mergeIgnoreLines('', '', '')).toBe('');
  });
});
