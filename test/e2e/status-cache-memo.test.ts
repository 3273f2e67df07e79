import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { mlxJson, mlxOk } from '../helpers/cli.js';
import { useTempRepo, write } from '../helpers/repo.js';

const repo = useTempRepo((d) => mlxOk(d, 'init'));

/** The cache object of `oid` in the repository's default cache. */
const objectPath = (dir: string, oid: string) => path.join(dir, '.mlx/cache/objects', oid.slice(3, 5), oid.slice(5));

describe('status of a changed directory and the cache', () => {
  it('says ok from what add recorded, and sees an object removed by hand afterwards', () => {
    const dir = repo();
    write(dir, 'd/a.txt', 'alpha');
    write(dir, 'd/b.txt', 'beta');
    mlxOk(dir, 'add', 'd');
    write(dir, 'd/a.txt', 'alpha, edited');
    const first = mlxJson(dir, 'status', 'd');
    expect(first.paths[0]).toMatchObject({ state: 'modified', cache: 'ok', changes: { modified: ['a.txt'] } });
    // b.txt's object leaves the cache behind mlx's back: the remembered answer no longer holds.
    const rows: { path: string; oid: string }[] = mlxJson(dir, 'ls', 'd').rows;
    fs.rmSync(objectPath(dir, rows.find((r) => r.path === 'd/b.txt')!.oid));
    const second = mlxJson(dir, 'status', 'd');
    expect(second.paths[0]).toMatchObject({ state: 'modified', cache: 'partial' });
  });
});
