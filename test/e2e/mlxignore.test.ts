import fs from 'node:fs';
import path from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { expectCleanError, mlx, mlxJson, mlxOk } from '../helpers/cli.js';
import { useTempRepo, write } from '../helpers/repo.js';

const repo = useTempRepo((d) => mlxOk(d, 'init'));
let dir: string;
beforeEach(() => {
  dir = repo();
});

/** The files the pointer of `data` lists, from `mlx ls`. */
function listed(rel = 'data'): string[] {
  return mlxJson(dir, 'ls', rel).rows.map((r: { path: string }) => r.path);
}

function statusOf(rel = 'data'): { state: string; changes?: { added: string[]; modified: string[]; deleted: string[] } } {
  return mlxJson(dir, 'status').paths.find((p: { path: string }) => p.path === rel);
}

function dataset(): void {
  write(dir, 'data/a.csv', 'a');
  write(dir, 'data/sub/b.csv', 'b');
  write(dir, 'data/sub/__pycache__/m.cpython-312.pyc', 'bytecode');
  write(dir, 'data/.DS_Store', 'finder');
  write(dir, 'data/notes.txt~', 'backup');
  write(dir, 'data/run.tmp', 'scratch');
  write(dir, 'data/raw/keep.tmp', 'wanted');
}

describe('.mlxignore and the built-in ignore rules', () => {
  it('add stores and lists neither ignored files nor what ignored folders hold', () => {
    dataset();
    write(dir, '.mlxignore', '# scratch files\n*.tmp\n!data/raw/keep.tmp\n');
    const added = mlxJson(dir, 'add', 'data');
    expect(added.paths[0].files).toBe(3);
    expect(listed()).toEqual(['data/a.csv', 'data/raw/keep.tmp', 'data/sub/b.csv']);
    expect(statusOf().state).toBe('clean');
  });

  it('a .mlxignore inside a tracked directory applies below it and is stored with the data', () => {
    dataset();
    write(dir, 'data/sub/.mlxignore', 'b.csv\n');
    mlxOk(dir, 'add', 'data');
    expect(listed()).toEqual(['data/a.csv', 'data/raw/keep.tmp', 'data/run.tmp', 'data/sub/.mlxignore']);
  });

  it('status does not report ignored files that appear, change or go in a tracked directory', () => {
    dataset();
    write(dir, '.mlxignore', '*.tmp\n');
    mlxOk(dir, 'add', 'data');
    write(dir, 'data/later.tmp', 'new scratch');
    write(dir, 'data/sub/__pycache__/m.cpython-312.pyc', 'recompiled');
    write(dir, 'data/.ipynb_checkpoints/nb-checkpoint.ipynb', '{}');
    fs.rmSync(path.join(dir, 'data/.DS_Store'));
    expect(statusOf().state).toBe('clean');
    expect(mlxOk(dir, 'status').stdout).toContain('everything is up to date');
    write(dir, 'data/new.csv', 'not ignored');
    expect(statusOf().changes).toEqual({ added: ['new.csv'], modified: [], deleted: [] });
  });

  it('a change of the rules changes what status reports, each time it is asked', () => {
    dataset();
    mlxOk(dir, 'add', 'data');
    expect(listed()).toContain('data/run.tmp');
    expect(statusOf().state).toBe('clean');
    // A tracked file now ignored is no longer part of the directory: deleted until the rule goes.
    write(dir, '.mlxignore', '*.tmp\n');
    expect(statusOf().changes).toEqual({ added: [], modified: [], deleted: ['raw/keep.tmp', 'run.tmp'] });
    fs.rmSync(path.join(dir, '.mlxignore'));
    expect(statusOf().state).toBe('clean');
    // A file the defaults ignored, re-included by a rule, is new.
    write(dir, 'data/.mlxignore', '!__pycache__/\n');
    expect(statusOf().changes).toEqual({ added: ['.mlxignore', 'sub/__pycache__/m.cpython-312.pyc'], modified: [], deleted: [] });
    mlxOk(dir, 'add', 'data');
    expect(statusOf().state).toBe('clean');
    expect(listed()).toContain('data/sub/__pycache__/m.cpython-312.pyc');
  });

  it('checkout leaves ignored files where they are', () => {
    dataset();
    mlxOk(dir, 'add', 'data');
    write(dir, 'data/a.csv', 'edited');
    mlxOk(dir, 'checkout', '--force', 'data');
    expect(fs.readFileSync(path.join(dir, 'data/a.csv'), 'utf8')).toBe('a');
    expect(fs.readFileSync(path.join(dir, 'data/sub/__pycache__/m.cpython-312.pyc'), 'utf8')).toBe('bytecode');
    expect(fs.existsSync(path.join(dir, 'data/.DS_Store'))).toBe(true);
  });

  it('checkout still sees a tracked file that a later rule ignores: a local edit of it is not overwritten unseen', () => {
    dataset();
    mlxOk(dir, 'add', 'data');
    write(dir, '.mlxignore', '*.tmp\n');
    write(dir, 'data/run.tmp', 'edited, and in no cache');
    write(dir, 'data/raw/keep.tmp', 'also edited');
    fs.rmSync(path.join(dir, 'data/a.csv'));
    expect(expectCleanError(mlx(dir, 'checkout', 'data'))).toMatch(/data\/raw\/keep\.tmp|data\/run\.tmp/);
    expect(fs.readFileSync(path.join(dir, 'data/run.tmp'), 'utf8')).toBe('edited, and in no cache');
    mlxOk(dir, 'checkout', '--force', 'data');
    expect(fs.readFileSync(path.join(dir, 'data/run.tmp'), 'utf8')).toBe('scratch');
    expect(fs.readFileSync(path.join(dir, 'data/a.csv'), 'utf8')).toBe('a');
  });

  it('add refuses an ignored path, or one inside an ignored folder, with one line and stores nothing', () => {
    write(dir, '.mlxignore', 'scratch/\n');
    write(dir, 'scratch/x.bin', 'x');
    write(dir, 'model.ckpt~', 'backup');
    expect(expectCleanError(mlx(dir, 'add', 'scratch'))).toBe('mlx: error: scratch is ignored (by a .mlxignore rule or a built-in one), so mlx does not track it (hint: re-include it with a "!" rule in .mlxignore)');
    expect(expectCleanError(mlx(dir, 'add', 'scratch/x.bin'))).toMatch(/^mlx: error: scratch\/x\.bin is ignored/);
    expect(expectCleanError(mlx(dir, 'add', 'model.ckpt~'))).toMatch(/^mlx: error: model\.ckpt~ is ignored/);
    expect(fs.existsSync(path.join(dir, 'scratch.mlx'))).toBe(false);
    expect(fs.existsSync(path.join(dir, '.gitignore'))).toBe(false);
  });
});
