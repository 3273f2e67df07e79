import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectCleanError, mlx, mlxJson, mlxOk } from '../helpers/cli.js';
import { bytes, gitInit, snapshot, tempDir, write } from '../helpers/repo.js';

// Which link types this machine's filesystem supports, as mlx itself reports them.
let supported: Record<string, boolean> = {};
let probeDir: string;
beforeAll(async () => {
  probeDir = tempDir();
  await gitInit(probeDir);
  mlxOk(probeDir, 'init');
  supported = mlxJson(probeDir, 'doctor').linkTypes.supported;
});
afterAll(() => fs.rmSync(probeDir, { recursive: true, force: true }));

describe.each(['copy', 'hardlink', 'symlink', 'reflink'])('cache.type %s', (type) => {
  it('round-trips a directory and a file (or, where unsupported, fails clearly and falls back)', async () => {
    const dir = tempDir();
    if (!supported[type]) {
      // ext4 and tmpfs have no reflinks; on btrfs, XFS and APFS the round trip below runs instead.
      try {
        await gitInit(dir);
        mlxOk(dir, 'init');
        write(dir, 'model.ckpt', bytes(1000, 'fallback'));
        mlxOk(dir, 'add', 'model.ckpt');
        fs.rmSync(path.join(dir, 'model.ckpt'));
        mlxOk(dir, 'config', 'cache.type', type);
        expect(expectCleanError(mlx(dir, 'checkout'))).toMatch(new RegExp(`cannot ${type} .*add copy to cache.type`));
        expect(fs.existsSync(path.join(dir, 'model.ckpt'))).toBe(false);
        mlxOk(dir, 'config', 'cache.type', `${type},copy`);
        mlxOk(dir, 'checkout');
        expect(fs.readFileSync(path.join(dir, 'model.ckpt'))).toEqual(bytes(1000, 'fallback'));
        return;
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    }
    try {
      await gitInit(dir);
      mlxOk(dir, 'init');
      mlxOk(dir, 'config', 'cache.type', type);
      for (let i = 0; i < 10; i++) write(dir, `ds/f${i}.bin`, bytes(10_000, `${type}${i}`));
      write(dir, 'model.ckpt', bytes(200_000, `${type}-model`));
      const before = { ds: snapshot(path.join(dir, 'ds')), model: fs.readFileSync(path.join(dir, 'model.ckpt')) };
      mlxOk(dir, 'add', 'ds', 'model.ckpt');
      fs.rmSync(path.join(dir, 'ds'), { recursive: true });
      fs.rmSync(path.join(dir, 'model.ckpt'));
      mlxOk(dir, 'checkout');
      const ws = path.join(dir, 'model.ckpt');
      expect(fs.readFileSync(ws)).toEqual(before.model);
      const dsAfter = snapshot(path.join(dir, 'ds'));
      // A symlinked tree shows links to the cache; compare the bytes they resolve to.
      if (type === 'symlink') {
        for (const f of Object.keys(before.ds)) expect(fs.readFileSync(path.join(dir, 'ds', f))).toEqual(fs.readFileSync(path.join(dir, 'ds', f)));
        expect(Object.keys(dsAfter).sort()).toEqual(Object.keys(before.ds).sort());
      } else {
        expect(dsAfter).toEqual(before.ds);
      }
      const oid = /oid: b3:([0-9a-f]{64})/.exec(fs.readFileSync(path.join(dir, 'model.ckpt.mlx'), 'utf8'))![1]!;
      const obj = path.join(dir, '.mlx/cache/objects', oid.slice(0, 2), oid.slice(2));
      expect(fs.statSync(obj).mode & 0o222).toBe(0);
      if (type === 'hardlink') expect(fs.statSync(ws).ino).toBe(fs.statSync(obj).ino);
      if (type === 'symlink') expect(fs.readlinkSync(ws)).toBe(obj);
      if (type === 'copy' || type === 'reflink') {
        expect(fs.statSync(ws).ino).not.toBe(fs.statSync(obj).ino);
        // An in-place edit of a copied file cannot reach the cache.
        fs.appendFileSync(ws, 'edit');
        expect(mlxJson(dir, 'status').paths.find((p: any) => p.path === 'model.ckpt').state).toBe('modified');
        expect(fs.statSync(obj).size).toBe(200_000);
      }
      expect(mlxJson(dir, 'status').paths.find((p: any) => p.path === 'ds').state).toBe('clean');
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('hardlink cache', () => {
  it('links added files to the cache right away, as DVC does', async () => {
    const dir = tempDir();
    try {
      await gitInit(dir);
      mlxOk(dir, 'init');
      mlxOk(dir, 'config', 'cache.type', 'hardlink,copy');
      write(dir, 'big.bin', bytes(50_000, 'hl'));
      mlxOk(dir, 'add', 'big.bin');
      const oid = /oid: b3:([0-9a-f]{64})/.exec(fs.readFileSync(path.join(dir, 'big.bin.mlx'), 'utf8'))![1]!;
      expect(fs.statSync(path.join(dir, 'big.bin')).ino).toBe(fs.statSync(path.join(dir, '.mlx/cache/objects', oid.slice(0, 2), oid.slice(2))).ino);
      expect(mlxJson(dir, 'status').paths[0].state).toBe('clean');
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe.each(['hardlink', 'symlink'])('%s cache and the executable bit', (type) => {
  it('status is clean right after add and checkout, and re-adding never flips the recorded bit', async () => {
    const dir = tempDir();
    try {
      await gitInit(dir);
      mlxOk(dir, 'init');
      write(dir, 'd/run.sh', '#!/bin/sh\necho hi\n');
      fs.chmodSync(path.join(dir, 'd/run.sh'), 0o755);
      write(dir, 'd/data.bin', 'data');
      mlxOk(dir, 'add', 'd'); // recorded with copy: run.sh is executable
      const pointer = fs.readFileSync(path.join(dir, 'd.mlx'), 'utf8');
      mlxOk(dir, 'config', 'cache.type', type);
      fs.rmSync(path.join(dir, 'd'), { recursive: true });
      mlxOk(dir, 'checkout');
      expect(mlxJson(dir, 'status').paths[0].state).toBe('clean');
      expect(mlxJson(dir, 'add', 'd').paths[0].changed).toBe(false);
      expect(fs.readFileSync(path.join(dir, 'd.mlx'), 'utf8')).toBe(pointer);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a top-level executable file keeps its recorded bit: status clean, re-adding changes nothing', async () => {
    const dir = tempDir();
    try {
      await gitInit(dir);
      mlxOk(dir, 'init');
      write(dir, 'run.sh', '#!/bin/sh\necho hi\n');
      fs.chmodSync(path.join(dir, 'run.sh'), 0o755);
      mlxOk(dir, 'add', 'run.sh'); // recorded with copy: executable
      const pointer = fs.readFileSync(path.join(dir, 'run.sh.mlx'), 'utf8');
      expect(pointer).toMatch(/\nx: true\n$/);
      mlxOk(dir, 'config', 'cache.type', type);
      fs.rmSync(path.join(dir, 'run.sh'));
      mlxOk(dir, 'checkout');
      expect(mlxJson(dir, 'status').paths[0].state).toBe('clean');
      expect(mlxJson(dir, 'add', 'run.sh').paths[0].changed).toBe(false);
      expect(fs.readFileSync(path.join(dir, 'run.sh.mlx'), 'utf8')).toBe(pointer);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('an edit through the link (possible as root) is reported, not hidden', async () => {
    const dir = tempDir();
    try {
      await gitInit(dir);
      mlxOk(dir, 'init');
      mlxOk(dir, 'config', 'cache.type', type);
      write(dir, 'd/f.bin', 'original');
      mlxOk(dir, 'add', 'd');
      const target = path.join(dir, 'd/f.bin');
      try {
        fs.appendFileSync(target, ' edited in place');
      } catch (err) {
        // Not root: the read-only object refuses the write, which is the protection itself.
        expect((err as NodeJS.ErrnoException).code).toBe('EACCES');
        return;
      }
      expect(mlxJson(dir, 'status').paths[0].state).toBe('modified');
      expect(expectCleanError(mlx(dir, 'verify'))).toMatch(/verify found 1 problem/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
