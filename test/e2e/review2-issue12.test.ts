import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { mlxOk } from '../helpers/cli.js';
import { tempDir, write } from '../helpers/repo.js';
import { commitAll, git } from '../helpers/team.js';

/*
 * gc keeps what git keeps: the data of every worktree's HEAD and of the pointer files staged in
 * every worktree's index, not only this work tree's and this HEAD's (git gc keeps those objects too).
 */

let root: string;
afterEach(() => fs.rmSync(root, { recursive: true, force: true }));

/** A repository whose committed config puts the cache outside the work tree, so its worktrees share it. */
function repoWithSharedCache(): { main: string; cache: string } {
  root = tempDir('mlx-review2-');
  const main = path.join(root, 'main');
  const cache = path.join(root, 'cache');
  fs.mkdirSync(main);
  git(main, 'init', '-q', '--initial-branch=main');
  mlxOk(main, 'init');
  mlxOk(main, 'config', 'cache.dir', cache);
  return { main, cache };
}

describe('mlx gc and git state beyond the work tree', () => {
  it('keeps the data of a pointer file staged in the index but since re-added', () => {
    const { main } = repoWithSharedCache();
    write(main, 'data.txt', 'v1\n');
    mlxOk(main, 'add', 'data.txt');
    commitAll(main, 'v1');
    write(main, 'data.txt', 'v2\n');
    mlxOk(main, 'add', 'data.txt');
    git(main, 'add', 'data.txt.mlx'); // v2 staged, to be committed
    write(main, 'data.txt', 'v3\n');
    mlxOk(main, 'add', 'data.txt');
    mlxOk(main, 'gc', '--keep-recent', '0');
    git(main, 'checkout', '--', 'data.txt.mlx'); // back to the staged pointer
    mlxOk(main, 'checkout', 'data.txt');
    expect(fs.readFileSync(path.join(main, 'data.txt'), 'utf8')).toBe('v2\n');
  });

  it('keeps the data of a linked worktree\'s HEAD sharing the cache, though mlx never ran there', () => {
    const { main } = repoWithSharedCache();
    write(main, 'data.txt', 'v1\n');
    mlxOk(main, 'add', 'data.txt');
    commitAll(main, 'v1');
    const wt = path.join(root, 'wt');
    git(main, 'worktree', 'add', '-q', '-b', 'exp', wt);
    write(main, 'data.txt', 'v2\n');
    mlxOk(main, 'add', 'data.txt');
    commitAll(main, 'v2');
    mlxOk(main, 'gc', '--keep-recent', '0');
    mlxOk(wt, 'checkout');
    expect(fs.readFileSync(path.join(wt, 'data.txt'), 'utf8')).toBe('v1\n');
  });
});
