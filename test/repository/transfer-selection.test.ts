import fs from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { add } from '../../src/commands/add.js';
import { init } from '../../src/commands/init.js';
import { selectionObjects } from '../../src/repository/transfer.js';
import { openRepo } from '../../src/workspace/repo.js';
import { selectTracked } from '../../src/workspace/targets.js';
import { gitInit, tempDir, write } from '../helpers/repo.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

/** Whether each object of a push of the whole repository is vouched to be in the cache. */
async function vouched(dir: string): Promise<boolean[]> {
  const repo = await openRepo(dir);
  const list = selectionObjects(repo, selectTracked(repo, dir, []));
  return Array.from({ length: list.length }, (_, i) => list.knownInCacheAt(i));
}

describe('selectionObjects', () => {
  it('vouches for the files of a directory add found whole in the cache, until the cache changes', async () => {
    const dir = tempDir('mlx-selection-');
    dirs.push(dir);
    await gitInit(dir);
    init({ cwd: dir });
    for (let i = 0; i < 5; i++) write(dir, `data/f${i}.txt`, `file ${i}`);
    write(dir, 'model.bin', 'weights');
    await add({ cwd: dir, paths: ['data', 'model.bin'] });

    // The manifest and the single file are asked about as before; the directory's five files are not.
    expect((await vouched(dir)).filter(Boolean)).toHaveLength(5);

    // An object leaves the cache (by hand): its folder's change time moves the contents stamp.
    const repo = await openRepo(dir);
    const list = selectionObjects(repo, selectTracked(repo, dir, ['data']));
    fs.rmSync(repo.store.pathOf(list.oidAt(list.length - 1)), { force: true });
    expect((await vouched(dir)).some(Boolean)).toBe(false);
  });
});
