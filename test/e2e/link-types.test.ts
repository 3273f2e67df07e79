import crypto from 'node:crypto';
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

const sha256 = (b: Buffer) => crypto.createHash('sha256').update(b).digest('hex');

/** Every file under `dir` (relative, sorted), whatever its type. */
function listFiles(dir: string): string[] {
  return fs.readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((d) => !d.isDirectory())
    .map((d) => path.relative(dir, path.join(d.parentPath, d.name)))
    .sort();
}

interface CacheObjects {
  dir: string;
  /** Object paths by inode number, to tell a hard link to the cache from a private copy. */
  byInode: Map<number, string>;
}

function cacheObjects(dir: string): CacheObjects {
  const byInode = new Map<number, string>();
  for (const rel of listFiles(dir)) byInode.set(fs.lstatSync(path.join(dir, rel)).ino, path.join(dir, rel));
  return { dir, byInode };
}

/**
 * Asserts that work-tree file `file` is what `type` promises: a symlink pointing into the cache, a
 * hard link sharing an object's inode, or an independent file (copy, reflink). With `obj`, the link
 * must reach that very object. Returns the cache object the file is linked to, if any.
 */
function expectLinkedTo(type: string, file: string, obj: string | undefined, cache: CacheObjects): string | undefined {
  const st = fs.lstatSync(file);
  if (type === 'symlink') {
    expect(st.isSymbolicLink()).toBe(true);
    const target = path.resolve(path.dirname(file), fs.readlinkSync(file));
    expect(path.relative(cache.dir, target)).not.toMatch(/^\.\.|^\//);
    expect(cache.byInode.has(fs.lstatSync(target).ino)).toBe(true);
    if (obj) expect(target).toBe(obj);
    return target;
  }
  expect(st.isFile()).toBe(true);
  if (type === 'hardlink') {
    expect(st.nlink).toBeGreaterThanOrEqual(2);
    const linked = cache.byInode.get(st.ino);
    expect(linked).toBeDefined();
    if (obj) expect(linked).toBe(obj);
    return linked;
  }
  // copy and reflink: a file of its own, so an edit in place can never reach the cache.
  expect(st.nlink).toBe(1);
  expect(cache.byInode.has(st.ino)).toBe(false);
  return undefined;
}

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
      const objectsDir = path.join(dir, '.mlx/cache/objects');
      const cache = cacheObjects(objectsDir);
      const oid = /oid: b3:([0-9a-f]{64})/.exec(fs.readFileSync(path.join(dir, 'model.ckpt.mlx'), 'utf8'))![1]!;
      const obj = path.join(objectsDir, oid.slice(0, 2), oid.slice(2));
      // The cache object itself holds the recorded bytes, read-only.
      expect(fs.readFileSync(obj)).toEqual(before.model);
      expect(fs.statSync(obj).mode & 0o222).toBe(0);
      expect(fs.readFileSync(ws)).toEqual(before.model);
      expectLinkedTo(type, ws, obj, cache);
      // Every file of the tree: the bytes it had when added, and the link type asked for.
      const dsFiles = Object.keys(before.ds).sort();
      expect(listFiles(path.join(dir, 'ds'))).toEqual(dsFiles);
      for (const f of dsFiles) {
        const file = path.join(dir, 'ds', f);
        expect(sha256(fs.readFileSync(file))).toBe(before.ds[f]);
        const source = expectLinkedTo(type, file, undefined, cache);
        if (source) expect(sha256(fs.readFileSync(source))).toBe(before.ds[f]);
      }
      if (type === 'copy' || type === 'reflink') {
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
