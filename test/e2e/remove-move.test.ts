import fs from 'node:fs';
import path from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { expectCleanError, mlx, mlxJson, mlxOk } from '../helpers/cli.js';
import { snapshot, useTempRepo, write } from '../helpers/repo.js';

const repo = useTempRepo((d) => mlxOk(d, 'init'));
let dir: string;
beforeEach(() => {
  dir = repo();
});

const read = (rel: string) => fs.readFileSync(path.join(dir, rel), 'utf8');
const exists = (rel: string) => fs.lstatSync(path.join(dir, rel), { throwIfNoEntry: false }) !== undefined;
const cache = () => snapshot(path.join(dir, '.mlx/cache/objects'));
const trackedPaths = () => mlxJson(dir, 'status').paths.map((p: { path: string }) => p.path);

function twoTracked(): void {
  write(dir, 'data/a.csv', 'a');
  write(dir, 'data/sub/b.csv', 'b');
  write(dir, 'model.bin', 'weights');
  write(dir, '.gitignore', 'node_modules/\n');
  mlxOk(dir, 'add', 'data', 'model.bin');
}

describe('mlx remove', () => {
  it('untracks: the pointer and its .gitignore entry go, the data and the cached objects stay', () => {
    twoTracked();
    const objects = cache();
    const r = mlxOk(dir, 'remove', 'data');
    expect(r.stdout).toBe('removed  data  (data kept in the work tree)\nTo record the change with git, run:\n  git add data.mlx .gitignore\n');
    expect(exists('data.mlx')).toBe(false);
    expect(read('.gitignore')).toBe('node_modules/\n/model.bin\n');
    expect(read('data/a.csv')).toBe('a');
    expect(read('data/sub/b.csv')).toBe('b');
    expect(cache()).toEqual(objects);
    expect(trackedPaths()).toEqual(['model.bin']);
  });

  it('rm with --outs also deletes the data; a pointer file names its path too', () => {
    twoTracked();
    const res = mlxJson(dir, 'rm', '--outs', 'model.bin.mlx', 'data');
    expect(res.paths).toEqual([
      { path: 'model.bin', data: 'deleted' },
      { path: 'data', data: 'deleted' },
    ]);
    expect(exists('model.bin') || exists('data') || exists('model.bin.mlx') || exists('data.mlx')).toBe(false);
    expect(read('.gitignore')).toBe('node_modules/\n');
    expect(trackedPaths()).toEqual([]);
  });

  for (const type of ['hardlink', 'symlink']) {
    it(`with cache.type ${type}, the data kept is the work tree's own writable copy, not a link into the cache`, () => {
      mlxOk(dir, 'config', 'cache.type', `${type},copy`);
      write(dir, 'data/a.csv', 'a');
      mlxOk(dir, 'add', 'data');
      const before = fs.lstatSync(path.join(dir, 'data/a.csv'));
      expect(type === 'symlink' ? before.isSymbolicLink() : before.nlink > 1).toBe(true);
      mlxOk(dir, 'remove', 'data');
      const after = fs.lstatSync(path.join(dir, 'data/a.csv'));
      expect([after.isFile(), after.nlink, (after.mode & 0o200) !== 0]).toEqual([true, 1, true]);
      fs.rmSync(path.join(dir, '.mlx/cache/objects'), { recursive: true });
      expect(read('data/a.csv')).toBe('a');
    });
  }

  it('refuses untracked paths and paths inside a tracked directory with one line, changing nothing', () => {
    twoTracked();
    write(dir, 'loose.txt', 'x');
    const before = snapshot(dir);
    expect(expectCleanError(mlx(dir, 'remove', 'model.bin', 'loose.txt'))).toBe('mlx: error: loose.txt is not tracked by mlx (no loose.txt.mlx) (hint: mlx status lists tracked paths)');
    expect(expectCleanError(mlx(dir, 'remove', 'data/sub/b.csv'))).toMatch(/^mlx: error: data\/sub\/b\.csv lies inside the tracked directory data: mlx remove stops tracking whole paths/);
    expect(expectCleanError(mlx(dir, 'remove', '../x'))).toMatch(/outside the repository/);
    expect(expectCleanError(mlx(dir, 'remove'))).toMatch(/missing required argument/);
    expect(snapshot(dir)).toEqual(before);
  });
});

describe('mlx move', () => {
  it('moves a tracked directory, its pointer and its .gitignore entry (where it stood); status stays clean', () => {
    twoTracked();
    write(dir, '.gitignore', 'node_modules/\n/data\n!/data/keep\n/model.bin\n');
    const objects = cache();
    const r = mlxOk(dir, 'move', 'data', 'sets/v1');
    expect(r.stdout).toBe('moved  data -> sets/v1\nTo record the change with git, run:\n  git add data.mlx sets/v1.mlx .gitignore\n');
    expect(exists('data') || exists('data.mlx')).toBe(false);
    expect(read('sets/v1/sub/b.csv')).toBe('b');
    expect(read('sets/v1.mlx')).toContain('path: sets/v1\n');
    expect(read('.gitignore')).toBe('node_modules/\n/sets/v1\n!/data/keep\n/model.bin\n');
    expect(cache()).toEqual(objects);
    const st = mlxJson(dir, 'status');
    expect(st.paths.map((p: { path: string; state: string }) => [p.path, p.state])).toEqual([
      ['model.bin', 'clean'],
      ['sets/v1', 'clean'],
    ]);
    expect(st.problems).toEqual([]);
  });

  it('mv of a file into an existing folder, named by its pointer file', () => {
    twoTracked();
    fs.mkdirSync(path.join(dir, 'models'));
    mlxJson(dir, 'mv', 'model.bin.mlx', 'models');
    expect(read('models/model.bin')).toBe('weights');
    expect(trackedPaths()).toEqual(['data', 'models/model.bin']);
    expect(read('.gitignore')).toBe('node_modules/\n/data\n/models/model.bin\n');
  });

  it('moves the pointer of data that is not checked out', () => {
    twoTracked();
    fs.rmSync(path.join(dir, 'model.bin'));
    expect(mlxJson(dir, 'mv', 'model.bin', 'm2.bin').dataMoved).toBe(false);
    mlxOk(dir, 'checkout', 'm2.bin');
    expect(read('m2.bin')).toBe('weights');
  });

  it('refuses to overwrite, to leave the repository, to enter .git or .mlx, or to land inside tracked data: one line each, nothing changed', () => {
    twoTracked();
    write(dir, 'taken.txt', 'mine');
    fs.symlinkSync('/tmp', path.join(dir, 'out'));
    const before = snapshot(dir);
    const refusals: [string, RegExp][] = [
      ['taken.txt', /^mlx: error: cannot move model\.bin to taken\.txt: it exists; mlx move never overwrites$/],
      ['data', /^mlx: error: cannot move model\.bin to data\/model\.bin: it lies inside the tracked path data$/],
      ['../elsewhere', /outside the repository/],
      ['.git/x', /inside \.git\//],
      ['.mlx/x', /inside \.mlx\//],
      ['out/x', /outside the repository/],
    ];
    for (const [dst, why] of refusals) expect(expectCleanError(mlx(dir, 'move', 'model.bin', dst))).toMatch(why);
    expect(expectCleanError(mlx(dir, 'move', 'data', 'data/inner'))).toMatch(/cannot move data into itself/);
    expect(expectCleanError(mlx(dir, 'move', 'data/a.csv', 'a.csv'))).toMatch(/lies inside the tracked directory data: mlx move moves whole tracked paths/);
    expect(expectCleanError(mlx(dir, 'move', 'taken.txt', 'x.txt'))).toMatch(/taken\.txt is not tracked by mlx/);
    write(dir, 'free.mlx', 'not a pointer, someone else\'s file');
    expect(expectCleanError(mlx(dir, 'move', 'model.bin', 'free'))).toMatch(/free\.mlx exists; mlx move never overwrites/);
    fs.rmSync(path.join(dir, 'free.mlx'));
    expect(snapshot(dir)).toEqual(before);
  });
});
