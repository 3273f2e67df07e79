import fs from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { cliEnv, expectCleanError, finished, mlx, mlxJson, mlxOk, mlxSpawn } from '../helpers/cli.js';
import { Failpoints } from '../helpers/failpoints.js';
import { bytes, gitCommitAll, gitCloneLocal, tempDir, useTempRepo, write } from '../helpers/repo.js';

/*
 * Checkout trusts a cache object as the store wrote it (stat check: a regular file of the recorded
 * size, still read-only) unless cache.verify asks for a re-hash; `mlx verify` is the full check.
 * A file it writes appears whole (by rename of a complete temp file) or, created in place where
 * nothing was, is recorded in the stat index only once it is whole.
 */

const repo = useTempRepo((d) => mlxOk(d, 'init'));
let dir: string;
beforeEach(() => {
  dir = repo();
});

function objectOf(pointerFile: string): string {
  const hex = /oid: b3:([0-9a-f]{64})/.exec(fs.readFileSync(path.join(dir, pointerFile), 'utf8'))![1]!;
  return path.join(dir, '.mlx/cache/objects', hex.slice(0, 2), hex.slice(2));
}

/** Flips one byte of a cache object in place and gives it back its read-only mode, as an edit by root leaves it. */
function tamperKeepingStat(obj: string): void {
  fs.chmodSync(obj, 0o644);
  const data = fs.readFileSync(obj);
  data[data.length >> 1] ^= 0xff;
  fs.writeFileSync(obj, data);
  fs.chmodSync(obj, 0o444);
}

const quarantined = () => fs.readdirSync(path.join(dir, '.mlx/cache/quarantine'));

describe('cache.verify', () => {
  const original = bytes(50_000, 'trust');

  beforeEach(() => {
    write(dir, 'w.bin', original);
    mlxOk(dir, 'add', 'w.bin');
  });

  it('off (the default): checkout trusts an object whose stat is as written, and mlx verify reports the damage', () => {
    tamperKeepingStat(objectOf('w.bin.mlx'));
    fs.rmSync(path.join(dir, 'w.bin'));
    mlxOk(dir, 'checkout');
    // The trade-off the spec states: same-size damage that kept the read-only mode is not seen by checkout ...
    expect(fs.readFileSync(path.join(dir, 'w.bin'))).not.toEqual(original);
    // ... but verify re-hashes the object, names who needs it and quarantines it.
    const r = mlx(dir, 'verify');
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/corrupt +b3:[0-9a-f]+ {2}needed by w\.bin/);
    expect(quarantined()).toHaveLength(1);
  });

  for (const type of ['copy', 'hardlink', 'symlink']) {
    it(`on: checkout (cache.type ${type}) re-hashes, refuses the damaged object, quarantines it and writes nothing`, () => {
      mlxOk(dir, 'config', 'cache.type', type);
      mlxOk(dir, 'config', 'cache.verify', 'true');
      fs.rmSync(path.join(dir, 'w.bin'));
      const obj = objectOf('w.bin.mlx');
      tamperKeepingStat(obj);
      expect(expectCleanError(mlx(dir, 'checkout'))).toMatch(/cache object b3:[0-9a-f]+ is corrupt/);
      expect(fs.existsSync(path.join(dir, 'w.bin'))).toBe(false);
      expect(fs.existsSync(obj)).toBe(false);
      expect(quarantined()).toHaveLength(1);
    });
  }

  it('off: an object that lost its read-only mode is re-hashed anyway, and refused when damaged', () => {
    const obj = objectOf('w.bin.mlx');
    tamperKeepingStat(obj);
    fs.chmodSync(obj, 0o644);
    fs.rmSync(path.join(dir, 'w.bin'));
    expect(expectCleanError(mlx(dir, 'checkout'))).toMatch(/cache object b3:[0-9a-f]+ is corrupt/);
    expect(fs.existsSync(path.join(dir, 'w.bin'))).toBe(false);
    expect(quarantined()).toHaveLength(1);
  });

  it('off: an object that is not a regular file is refused, even with the right bytes behind it', () => {
    const obj = objectOf('w.bin.mlx');
    const elsewhere = path.join(dir, 'elsewhere.bin');
    fs.writeFileSync(elsewhere, original);
    fs.rmSync(obj, { force: true });
    fs.symlinkSync(elsewhere, obj);
    fs.rmSync(path.join(dir, 'w.bin'));
    expect(expectCleanError(mlx(dir, 'checkout'))).toMatch(/cache object b3:[0-9a-f]+ is corrupt \(it is not a regular file\)/);
    expect(fs.existsSync(path.join(dir, 'w.bin'))).toBe(false);
    expect(fs.existsSync(obj)).toBe(false);
  });
});

describe('checkout writes', () => {
  const FILES = 240;
  const content = (i: number) => bytes(1000 + ((i * 7919) % 120_000), `f${i}`);
  const name = (i: number) => `d${i % 6}/f${String(i).padStart(4, '0')}.bin`;
  let fp: Failpoints;

  beforeEach(() => {
    for (let i = 0; i < FILES; i++) write(dir, `data/${name(i)}`, content(i));
    mlxOk(dir, 'add', 'data');
    fs.rmSync(path.join(dir, 'data'), { recursive: true });
    fp = new Failpoints();
  });
  afterEach(() => {
    for (const k of Object.keys(cliEnv)) delete cliEnv[k];
    fp.cleanup();
  });

  it('a checkout killed half-way leaves only whole files, and the next checkout completes with nothing to re-hash', () => {
    Object.assign(cliEnv, fp.env({ 'checkout.half-written': 'exit' }));
    expect(mlx(dir, 'checkout').code).toBe(86);
    for (const k of Object.keys(cliEnv)) delete cliEnv[k];
    const present = fs.readdirSync(path.join(dir, 'data'), { recursive: true, withFileTypes: true }).filter((d) => !d.isDirectory());
    // Stopped mid-way: some files are there, not all, and each one that is there is whole.
    expect(present.length).toBeGreaterThanOrEqual(FILES / 2);
    expect(present.length).toBeLessThan(FILES);
    for (const d of present) {
      const rel = path.relative(path.join(dir, 'data'), path.join(d.parentPath, d.name)).split(path.sep).join('/');
      const i = Number(/f(\d{4})\.bin$/.exec(rel)?.[1] ?? NaN);
      expect(rel).toBe(name(i));
      expect(fs.readFileSync(path.join(d.parentPath, d.name)).equals(content(i))).toBe(true);
    }
    mlxOk(dir, 'checkout');
    for (let i = 0; i < FILES; i++) expect(fs.readFileSync(path.join(dir, 'data', name(i))).equals(content(i))).toBe(true);
    expect(fs.readdirSync(path.join(dir, '.mlx/tmp'))).toEqual([]);
    mlxOk(dir, 'status'); // files written within the last tick may be hashed once
    const st = mlxJson(dir, 'status');
    expect(st.paths[0].state).toBe('clean');
    expect(st.hashedFiles).toBe(0);
  });

  it('a checkout killed while it writes a file in place leaves that file unrecorded: status reports it, checkout refuses it, --force restores it', () => {
    Object.assign(cliEnv, fp.env({ 'checkout.created-in-place': 'exit' }));
    expect(mlx(dir, 'checkout').code).toBe(86);
    for (const k of Object.keys(cliEnv)) delete cliEnv[k];
    // Killed after creating its first file and before writing it: that file is there, short.
    const short = name(0);
    expect(fs.statSync(path.join(dir, 'data', short)).size).toBe(0);
    const st = mlxJson(dir, 'status');
    expect(st.paths[0].changes.modified).toEqual([short]);
    const refused = mlx(dir, 'checkout');
    expect(expectCleanError(refused)).toMatch(/checkout would overwrite 1 path\(s\) whose content is not in the cache: data\/d0\/f0000\.bin/);
    expect(fs.statSync(path.join(dir, 'data', short)).size).toBe(0);
    mlxOk(dir, 'checkout', '--force');
    for (let i = 0; i < FILES; i++) expect(fs.readFileSync(path.join(dir, 'data', name(i))).equals(content(i))).toBe(true);
    mlxOk(dir, 'status');
    expect(mlxJson(dir, 'status').paths[0].state).toBe('clean');
  });

  it('a file that appears at a fresh path after checkout planned is replaced whole, as any other file is', async () => {
    Object.assign(cliEnv, fp.env({ 'checkout.partial-recorded': 'pause' }));
    const child = mlxSpawn(dir, 'checkout');
    const done = finished(child);
    await fp.reached('checkout.partial-recorded');
    // Planned as absent; something is there by the time its turn comes.
    write(dir, `data/${name(3)}`, 'appeared meanwhile');
    fp.release('checkout.partial-recorded');
    expect((await done).code).toBe(0);
    for (const k of Object.keys(cliEnv)) delete cliEnv[k];
    for (let i = 0; i < FILES; i++) expect(fs.readFileSync(path.join(dir, 'data', name(i))).equals(content(i))).toBe(true);
    expect(fs.readdirSync(path.join(dir, '.mlx/tmp'))).toEqual([]);
    expect(mlxJson(dir, 'status').paths[0].state).toBe('clean');
  });

  it('a fresh pull writes every file whole, and the next status hashes none of them', async () => {
    const remoteDir = tempDir('mlx-remote-');
    const clone = tempDir('mlx-clone-');
    try {
      mlxOk(dir, 'checkout');
      mlxOk(dir, 'remote', 'add', 'origin', remoteDir);
      mlxOk(dir, 'remote', 'default', 'origin');
      mlxOk(dir, 'push');
      await gitCommitAll(dir, 'data');
      fs.rmSync(clone, { recursive: true, force: true });
      await gitCloneLocal(dir, clone);
      mlxOk(clone, 'pull');
      for (let i = 0; i < FILES; i++) expect(fs.readFileSync(path.join(clone, 'data', name(i))).equals(content(i))).toBe(true);
      mlxOk(clone, 'status');
      const st = mlxJson(clone, 'status');
      expect(st.paths[0].state).toBe('clean');
      expect(st.hashedFiles).toBe(0);
    } finally {
      fs.rmSync(remoteDir, { recursive: true, force: true });
      fs.rmSync(clone, { recursive: true, force: true });
    }
  });
});
