import fs from 'node:fs';
import path from 'node:path';
import git from 'isomorphic-git';
import { beforeEach, describe, expect, it } from 'vitest';
import { expectCleanError, mlx, mlxJson, mlxOk } from '../helpers/cli.js';
import { bytes, gitCloneLocal, gitCommitAll, tempDir, useTempRepo, write } from '../helpers/repo.js';

const repo = useTempRepo((d) => mlxOk(d, 'init'));
let dir: string;
beforeEach(() => {
  dir = repo();
});

const oidOf = (file: string) => /oid: (b3:[0-9a-f]{64})/.exec(fs.readFileSync(path.join(dir, file), 'utf8'))![1]!;
const inCache = (oid: string) => fs.existsSync(path.join(dir, '.mlx/cache/objects', oid.slice(3, 5), oid.slice(5)));

/** Five versions of model.ckpt: v1..v3 on main (v1 tagged), v4 on branch exp, v5 only in the work tree. */
async function versions(): Promise<Record<string, string>> {
  const oids: Record<string, string> = {};
  const commit = async (v: string) => {
    write(dir, 'model.ckpt', bytes(5000, v));
    mlxOk(dir, 'add', 'model.ckpt');
    oids[v] = oidOf('model.ckpt.mlx');
    await gitCommitAll(dir, v);
  };
  await commit('v1');
  await git.tag({ fs, dir, ref: 'v1' });
  await commit('v2');
  await git.branch({ fs, dir, ref: 'exp', checkout: true });
  await commit('v4');
  await git.checkout({ fs, dir, ref: 'main', force: true });
  await commit('v3');
  write(dir, 'model.ckpt', bytes(5000, 'v5'));
  mlxOk(dir, 'add', 'model.ckpt');
  oids.v5 = oidOf('model.ckpt.mlx');
  return oids;
}

describe('mlx gc', () => {
  it('keeps exactly what the retention rules say', async () => {
    const o = await versions();
    const kept = () => Object.keys(o).filter((v) => inCache(o[v]!)).sort();
    // --dry-run removes nothing and says how much would go.
    const dry = mlxJson(dir, 'gc', '--keep-recent', '0', '--dry-run');
    expect(dry).toMatchObject({ dryRun: true, removedObjects: 3, removedBytes: 15_000 });
    expect(kept()).toEqual(['v1', 'v2', 'v3', 'v4', 'v5']);
    // The last 2 commits of HEAD, the branch exp (its tip) and the tag v1: all five versions stay.
    mlxOk(dir, 'gc', '--keep-recent', '0', '--last', '2', '-b', 'exp', '-t', 'v1');
    expect(kept()).toEqual(['v1', 'v2', 'v3', 'v4', 'v5']);
    // Only the tag beside HEAD and the work tree: v2 and v4 go.
    expect(mlxJson(dir, 'gc', '--keep-recent', '0', '-t', 'v1').removedObjects).toBe(2);
    expect(kept()).toEqual(['v1', 'v3', 'v5']);
    // Defaults: the work tree and HEAD only.
    mlxOk(dir, 'gc', '--keep-recent', '0');
    expect(kept()).toEqual(['v3', 'v5']);
  });

  it('never removes what a protected ref needs, including the files of directories at old commits', async () => {
    for (let i = 0; i < 20; i++) write(dir, `data/f${i}.bin`, bytes(500, `d${i}`));
    mlxOk(dir, 'add', 'data');
    await gitCommitAll(dir, 'v1');
    await git.branch({ fs, dir, ref: 'keep-me' });
    for (let i = 0; i < 20; i++) write(dir, `data/f${i}.bin`, bytes(500, `e${i}`));
    mlxOk(dir, 'add', 'data');
    await gitCommitAll(dir, 'v2');
    mlxOk(dir, 'gc', '--keep-recent', '0', '--all-branches');
    mlxOk(dir, 'checkout', 'keep-me');
    for (let i = 0; i < 20; i++) expect(fs.readFileSync(path.join(dir, `data/f${i}.bin`))).toEqual(bytes(500, `d${i}`));
    mlxOk(dir, 'verify', 'keep-me');
  });

  it('spares recent objects and refuses when a kept manifest is missing', async () => {
    const o = await versions();
    mlxOk(dir, 'gc'); // default --keep-recent 10 minutes: everything here is recent
    expect(Object.values(o).every(inCache)).toBe(true);
    write(dir, 'ds/a.txt', 'a');
    mlxOk(dir, 'add', 'ds');
    fs.rmSync(path.join(dir, '.mlx/cache/objects', oidOf('ds.mlx').slice(3, 5), oidOf('ds.mlx').slice(5)));
    expect(expectCleanError(mlx(dir, 'gc', '--keep-recent', '0'))).toMatch(/cannot tell which files ds needs/);
    expect(Object.values(o).every(inCache)).toBe(true);
    expect(expectCleanError(mlx(dir, 'gc', '-b', 'nope'))).toMatch(/no branch named "nope"/);
  });
});

/**
 * Pushes old.bin, then replaces it by new.bin and pushes again, committing only new.bin: the first
 * pack is then needed by nothing. Returns that pack's file name.
 */
async function pushOldThenOnlyNew(store: string): Promise<string> {
  mlxOk(dir, 'remote', 'add', '-d', 'storage', store);
  write(dir, 'old.bin', bytes(3000, 'old'));
  mlxOk(dir, 'add', 'old.bin');
  mlxOk(dir, 'push');
  const [oldPack] = fs.readdirSync(path.join(store, 'packs')).filter((f) => f.endsWith('.pack'));
  fs.rmSync(path.join(dir, 'old.bin.mlx'));
  write(dir, 'new.bin', bytes(3000, 'new'));
  mlxOk(dir, 'add', 'new.bin');
  mlxOk(dir, 'push');
  await gitCommitAll(dir, 'only new.bin');
  return oldPack!;
}

describe('mlx gc --remote', () => {
  it('marks, then sweeps on a later run; a push that relied on a marked pack keeps it alive', async () => {
    const store = tempDir('mlx-gc-remote-');
    const packs = () => fs.readdirSync(path.join(store, 'packs')).filter((f) => f.endsWith('.pack')).sort();
    try {
      const oldPack = await pushOldThenOnlyNew(store);
      expect(packs()).toHaveLength(2);

      // Phase 1 marks the pack only old.bin needs; nothing is removed yet.
      const mark = mlxJson(dir, 'gc', '--remote', '--local-refs', '--grace', '0');
      expect(mark).toMatchObject({ marked: 1, removedPacks: 0 });
      expect(packs()).toHaveLength(2);

      // Meanwhile another clone commits old.bin again and pushes: it must not rely on the marked pack.
      const other = tempDir('mlx-gc-other-');
      fs.rmSync(other, { recursive: true });
      await gitCloneLocal(dir, other);
      write(other, 'old.bin', bytes(3000, 'old'));
      mlxOk(other, 'add', 'old.bin');
      expect(mlxJson(other, 'push').uploadedObjects).toBe(1); // re-sent, not deduplicated against the doomed pack

      // Phase 2: packs are named by content, so the re-sent object recreated the marked pack; the
      // push's keep record spares it, and the other clone's data survives.
      const sweep = mlxJson(dir, 'gc', '--remote', '--local-refs', '--grace', '0');
      expect(sweep).toMatchObject({ removedPacks: 0, spared: 1 });
      expect(packs()).toContain(oldPack);
      fs.rmSync(path.join(other, 'old.bin'));
      fs.rmSync(path.join(other, '.mlx/cache'), { recursive: true });
      mlxOk(other, 'pull', 'old.bin');
      expect(fs.readFileSync(path.join(other, 'old.bin'))).toEqual(bytes(3000, 'old'));
      mlxOk(dir, 'verify', '--remote');
      fs.rmSync(other, { recursive: true, force: true });
    } finally {
      fs.rmSync(store, { recursive: true, force: true });
    }
  });

  it('removes a marked pack on the next run when nothing needs it any more', async () => {
    const store = tempDir('mlx-gc-remote-');
    const packs = () => fs.readdirSync(path.join(store, 'packs')).filter((f) => f.endsWith('.pack')).sort();
    try {
      const oldPack = await pushOldThenOnlyNew(store);
      expect(mlxJson(dir, 'gc', '--remote', '--local-refs', '--grace', '0', '--dry-run')).toMatchObject({ marked: 1, dryRun: true });
      expect(fs.existsSync(path.join(store, 'gc'))).toBe(false);
      expect(mlxJson(dir, 'gc', '--remote', '--local-refs', '--grace', '60')).toMatchObject({ marked: 1, removedPacks: 0 });
      expect(mlxJson(dir, 'gc', '--remote', '--local-refs', '--grace', '60')).toMatchObject({ marked: 0, removedPacks: 0, pending: 1 });
      expect(mlxJson(dir, 'gc', '--remote', '--local-refs', '--grace', '0')).toMatchObject({ removedPacks: 1, removedBytes: expect.any(Number) });
      expect(packs()).not.toContain(oldPack);
      expect(packs()).toHaveLength(1);
      mlxOk(dir, 'verify', '--remote');
    } finally {
      fs.rmSync(store, { recursive: true, force: true });
    }
  });

  it('spares a marked pack that a push relied on after the mark', async () => {
    const store = tempDir('mlx-gc-remote-');
    try {
      mlxOk(dir, 'remote', 'add', '-d', 'storage', store);
      write(dir, 'shared.bin', bytes(3000, 'shared'));
      mlxOk(dir, 'add', 'shared.bin');
      mlxOk(dir, 'push');
      fs.renameSync(path.join(dir, 'shared.bin.mlx'), path.join(dir, 'parked.mlx.txt'));
      mlxOk(dir, 'gc', '--remote', '--local-refs', '--grace', '0'); // marks the pack: nothing in the work tree needs it
      fs.renameSync(path.join(dir, 'parked.mlx.txt'), path.join(dir, 'shared.bin.mlx'));
      // A keep record written as if a push had deduplicated against the pack after the mark.
      const pack = fs.readdirSync(path.join(store, 'packs')).find((f) => f.endsWith('.pack'))!.replace('.pack', '');
      fs.mkdirSync(path.join(store, 'keep'), { recursive: true });
      fs.writeFileSync(path.join(store, 'keep', `${Date.now()}-test.json`), JSON.stringify({ v: 1, created: Date.now(), packs: [pack] }));
      fs.renameSync(path.join(dir, 'shared.bin.mlx'), path.join(dir, 'parked.mlx.txt'));
      const sweep = mlxJson(dir, 'gc', '--remote', '--local-refs', '--grace', '0');
      expect(sweep).toMatchObject({ removedPacks: 0, spared: 1 });
      expect(fs.existsSync(path.join(store, 'packs', `${pack}.pack`))).toBe(true);
    } finally {
      fs.rmSync(store, { recursive: true, force: true });
    }
  });
});
