import fs from 'node:fs';
import path from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { BIN, mlx, mlxJson, mlxOk } from '../helpers/cli.js';
import { bytes, gitCommitAll, gitRestoreFile, snapshot, useTempRepo, write } from '../helpers/repo.js';

const repo = useTempRepo((d) => mlxOk(d, 'init'));
let dir: string;
beforeEach(() => {
  dir = repo();
});

function makeDataset(root: string, dirs = 5, perDir = 20): void {
  for (let c = 0; c < dirs; c++) {
    for (let i = 0; i < perDir; i++) write(root, `data/train/c${String(c).padStart(3, '0')}/img${String(i).padStart(5, '0')}.bin`, bytes(4096, `${c}/${i}`));
  }
}

describe('the add → commit → edit → status → add → checkout walkthrough', () => {
  it('restores v1 byte for byte after checking out the old pointer', async () => {
    makeDataset(dir);
    write(dir, 'model.ckpt', bytes(3_000_000, 'ckpt'));
    const added = mlxJson(dir, 'add', 'data/train', 'model.ckpt');
    expect(added.paths.map((p: any) => [p.path, p.kind, p.changed])).toEqual([
      ['data/train', 'dir', true],
      ['model.ckpt', 'file', true],
    ]);
    expect(fs.readFileSync(path.join(dir, '.gitignore'), 'utf8')).toBe('/data/train\n/model.ckpt\n');
    await gitCommitAll(dir, 'v1');
    const v1 = snapshot(path.join(dir, 'data/train'));

    write(dir, 'data/train/c003/img00017.bin', bytes(4096, 'edited'));
    const st = mlxJson(dir, 'status');
    const train = st.paths.find((p: any) => p.path === 'data/train');
    expect(train.state).toBe('modified');
    expect(train.changes.modified).toEqual(['c003/img00017.bin']);
    expect(st.paths.find((p: any) => p.path === 'model.ckpt').state).toBe('clean');
    expect(mlxOk(dir, 'status').stdout).toContain('modified: data/train/c003/img00017.bin');

    mlxOk(dir, 'add', 'data/train');
    await gitCommitAll(dir, 'v2');
    const v2 = snapshot(path.join(dir, 'data/train'));
    expect(v2).not.toEqual(v1);

    await gitRestoreFile(dir, 'HEAD~1', 'data/train.mlx');
    const co = mlxJson(dir, 'checkout', 'data/train');
    expect(co.paths[0]).toMatchObject({ path: 'data/train', written: 1, removed: 0, unchanged: 99 });
    expect(snapshot(path.join(dir, 'data/train'))).toEqual(v1);
    expect(mlxJson(dir, 'status').paths.every((p: any) => p.state === 'clean')).toBe(true);
  });

  it('re-adding unchanged data hashes nothing and rewrites nothing', () => {
    makeDataset(dir, 2, 10);
    mlxOk(dir, 'add', 'data/train');
    const pointer = path.join(dir, 'data/train.mlx');
    const before = fs.statSync(pointer).mtimeMs;
    const again = mlxJson(dir, '-v', 'add', 'data/train');
    expect(again.hashedFiles).toBe(0);
    expect(again.paths[0].changed).toBe(false);
    expect(fs.statSync(pointer).mtimeMs).toBe(before);
    expect(mlxOk(dir, 'add', 'data/train').stdout).toContain('unchanged  data/train');
  });

  it('status does not re-hash unchanged files', () => {
    makeDataset(dir, 2, 10);
    mlxOk(dir, 'add', 'data/train');
    // Files written just before `add` may be racily clean once; the second status must hash nothing.
    mlxOk(dir, 'status');
    const st = mlxJson(dir, 'status');
    expect(st.hashedFiles).toBe(0);
    expect(st.paths[0].state).toBe('clean');
  });

  it('files written by checkout are not hashed again by the next status', async () => {
    makeDataset(dir, 2, 10);
    write(dir, 'model.ckpt', bytes(2_000_000, 'm'));
    mlxOk(dir, 'add', 'data/train', 'model.ckpt');
    fs.rmSync(path.join(dir, 'data/train'), { recursive: true });
    fs.rmSync(path.join(dir, 'model.ckpt'));
    mlxOk(dir, 'checkout');
    const st = mlxJson(dir, 'status');
    expect(st.paths.map((p: any) => p.state)).toEqual(['clean', 'clean']);
    expect(st.hashedFiles).toBe(0);
  });

  it('a touched large file is confirmed by hashing, not copied into the cache again', () => {
    write(dir, 'model.ckpt', bytes(3_000_000, 'touch'));
    mlxOk(dir, 'add', 'model.ckpt');
    const oid = /oid: b3:([0-9a-f]{64})/.exec(fs.readFileSync(path.join(dir, 'model.ckpt.mlx'), 'utf8'))![1]!;
    const obj = path.join(dir, '.mlx/cache/objects', oid.slice(0, 2), oid.slice(2));
    const inode = fs.statSync(obj).ino;
    const later = new Date(Date.now() + 5000);
    fs.utimesSync(path.join(dir, 'model.ckpt'), later, later);
    fs.rmSync(path.join(dir, '.mlx/state'), { recursive: true }); // even with the stat index lost
    const res = mlxJson(dir, 'add', 'model.ckpt');
    expect(res.paths[0].changed).toBe(false);
    expect(res.hashedFiles).toBe(1);
    expect(fs.statSync(obj).ino).toBe(inode);
  });

  it('adding a file inside a tracked directory updates the directory pointer', () => {
    makeDataset(dir, 2, 5);
    mlxOk(dir, 'add', 'data/train');
    const old = fs.readFileSync(path.join(dir, 'data/train.mlx'), 'utf8');
    write(dir, 'data/train/c001/new.bin', 'new data');
    const res = mlxJson(dir, 'add', 'data/train/c001/new.bin');
    expect(res.paths.map((p: any) => p.path)).toEqual(['data/train']);
    expect(res.paths[0].files).toBe(11);
    expect(fs.existsSync(path.join(dir, 'data/train/c001/new.bin.mlx'))).toBe(false);
    const now = fs.readFileSync(path.join(dir, 'data/train.mlx'), 'utf8');
    // One data change → oid, size and file count lines change; nothing else.
    const changed = now.split('\n').filter((l, i) => l !== old.split('\n')[i]);
    expect(changed.map((l) => l.split(':')[0])).toEqual(['oid', 'size', 'files']);
  });

  it('status reports missing, added, deleted and not-in-cache paths', () => {
    makeDataset(dir, 1, 3);
    write(dir, 'a.bin', 'alpha');
    write(dir, 'b.bin', 'beta');
    mlxOk(dir, 'add', 'data/train', 'a.bin', 'b.bin');
    fs.rmSync(path.join(dir, 'a.bin'));
    fs.rmSync(path.join(dir, 'data/train/c000/img00000.bin'));
    write(dir, 'data/train/c000/extra.bin', 'extra');
    const pointerB = fs.readFileSync(path.join(dir, 'b.bin.mlx'), 'utf8');
    const oidB = /oid: b3:([0-9a-f]{64})/.exec(pointerB)![1]!;
    fs.rmSync(path.join(dir, '.mlx/cache/objects', oidB.slice(0, 2), oidB.slice(2)), { force: true });
    const st = mlxJson(dir, 'status');
    const byPath = Object.fromEntries(st.paths.map((p: any) => [p.path, p]));
    expect(byPath['a.bin']).toMatchObject({ state: 'missing', cache: 'ok' });
    expect(byPath['b.bin']).toMatchObject({ state: 'clean', cache: 'missing' });
    expect(byPath['data/train'].changes).toEqual({ added: ['c000/extra.bin'], modified: [], deleted: ['c000/img00000.bin'] });
    const text = mlxOk(dir, 'status').stdout;
    expect(text).toContain('missing:      a.bin');
    expect(text).toContain('b.bin  [not in cache]');
  });

  it('checkout removes files a directory no longer holds and refuses to drop uncached changes', async () => {
    makeDataset(dir, 1, 4);
    mlxOk(dir, 'add', 'data/train');
    await gitCommitAll(dir, 'v1');
    write(dir, 'data/train/c000/later.bin', 'later');
    mlxOk(dir, 'add', 'data/train');
    await gitCommitAll(dir, 'v2');
    await gitRestoreFile(dir, 'HEAD~1', 'data/train.mlx');
    const co = mlxJson(dir, 'checkout');
    expect(co.paths[0].removed).toBe(1);
    expect(fs.existsSync(path.join(dir, 'data/train/c000/later.bin'))).toBe(false);

    // A new file that was never added would be lost: refused without --force, nothing touched.
    write(dir, 'data/train/c000/precious.bin', 'not in any cache');
    write(dir, 'data/train/c000/img00001.bin', 'edited, not added');
    const refused = mlx(dir, 'checkout');
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/mlx: error: checkout would overwrite 2 path\(s\)/);
    expect(fs.readFileSync(path.join(dir, 'data/train/c000/precious.bin'), 'utf8')).toBe('not in any cache');
    expect(fs.readFileSync(path.join(dir, 'data/train/c000/img00001.bin'), 'utf8')).toBe('edited, not added');
    mlxOk(dir, 'checkout', '--force');
    expect(fs.existsSync(path.join(dir, 'data/train/c000/precious.bin'))).toBe(false);
    expect(fs.readFileSync(path.join(dir, 'data/train/c000/img00001.bin'))).toEqual(bytes(4096, '0/1'));
  });

  it('checks out a single file inside a tracked directory without touching the rest', () => {
    makeDataset(dir, 2, 3);
    mlxOk(dir, 'add', 'data/train');
    fs.rmSync(path.join(dir, 'data/train/c000/img00001.bin'));
    fs.rmSync(path.join(dir, 'data/train/c001/img00002.bin'));
    const co = mlxJson(dir, 'checkout', 'data/train/c000/img00001.bin');
    expect(co.paths[0].written).toBe(1);
    expect(fs.readFileSync(path.join(dir, 'data/train/c000/img00001.bin'))).toEqual(bytes(4096, '0/1'));
    expect(fs.existsSync(path.join(dir, 'data/train/c001/img00002.bin'))).toBe(false);
  });

  it('restores empty directories, executable bits, symlinks and unusual names', () => {
    write(dir, 'ds/with space/naïve — ünïcødé.txt', 'unicode');
    write(dir, 'ds/run.sh', '#!/bin/sh\necho hi\n');
    fs.chmodSync(path.join(dir, 'ds/run.sh'), 0o755);
    fs.mkdirSync(path.join(dir, 'ds/empty/nested'), { recursive: true });
    fs.symlinkSync('with space/naïve — ünïcødé.txt', path.join(dir, 'ds/link.txt'));
    write(dir, 'ds/日本語.csv', 'a,b\n1,2\n');
    mlxOk(dir, 'add', 'ds');
    const before = snapshot(path.join(dir, 'ds'));
    fs.rmSync(path.join(dir, 'ds'), { recursive: true });
    mlxOk(dir, 'checkout', 'ds');
    expect(snapshot(path.join(dir, 'ds'))).toEqual(before);
    expect(fs.statSync(path.join(dir, 'ds/run.sh')).mode & 0o111).not.toBe(0);
    expect(fs.statSync(path.join(dir, 'ds/日本語.csv')).mode & 0o111).toBe(0);
    expect(fs.lstatSync(path.join(dir, 'ds/link.txt')).isSymbolicLink()).toBe(true);
    expect(mlxJson(dir, 'status').paths[0].state).toBe('clean');
  });

  it('draws a progress bar for long work without failing', () => {
    write(dir, 'big.bin', bytes(3_000_000, 'progress'));
    for (const args of [['add', 'big.bin'], ['checkout', '--force', 'big.bin']]) {
      const r = spawnSync(process.execPath, [BIN, ...args], { cwd: dir, encoding: 'utf8', env: { ...process.env, MLX_PROGRESS: 'always' } });
      expect(r.status).toBe(0);
      expect(r.stderr).toMatch(/(add|checkout): .*\d files/);
    }
  });

  it('writes pointers git can diff: stable keys, one object id', () => {
    write(dir, 'model.ckpt', 'weights v1');
    mlxOk(dir, 'add', 'model.ckpt');
    const text = fs.readFileSync(path.join(dir, 'model.ckpt.mlx'), 'utf8');
    expect(text).toMatch(/^# mlx pointer — do not edit by hand\nversion: 1\npath: model.ckpt\nkind: file\noid: b3:[0-9a-f]{64}\nsize: 10\n$/);
  });
});
