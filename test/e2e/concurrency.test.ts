import fs from 'node:fs';
import path from 'node:path';
import crypto from 'node:crypto';
import os from 'node:os';
import { beforeEach, describe, expect, it } from 'vitest';
import { finished, mlxJson, mlxOk, mlxSpawn } from '../helpers/cli.js';
import { bytes, useTempRepo, write } from '../helpers/repo.js';
import { loadHasher } from '../../src/hash/blake3.js';
import { hashFileSync } from '../../src/hash/hash-file.js';

const repo = useTempRepo((d) => mlxOk(d, 'init'));
let dir: string;
beforeEach(() => {
  dir = repo();
});

/** Every object in the cache must hash to its own name. */
async function expectCacheIntact(): Promise<number> {
  const newHasher = await loadHasher();
  const objects = path.join(dir, '.mlx/cache/objects');
  let n = 0;
  if (!fs.existsSync(objects)) return 0;
  for (const fan of fs.readdirSync(objects)) {
    for (const rest of fs.readdirSync(path.join(objects, fan))) {
      expect(hashFileSync(newHasher, path.join(objects, fan, rest)).oid).toBe(`b3:${fan}${rest}`);
      n++;
    }
  }
  return n;
}

describe('two processes and killed processes', () => {
  it('two mlx add processes at once on one repository both succeed', async () => {
    for (let i = 0; i < 300; i++) {
      write(dir, `a/f${i}.bin`, bytes(2048, `a${i}`));
      write(dir, `b/f${i}.bin`, bytes(2048, `b${i}`));
    }
    const [ra, rb] = await Promise.all([finished(mlxSpawn(dir, 'add', 'a')), finished(mlxSpawn(dir, 'add', 'b'))]);
    expect([ra.code, rb.code, ra.stderr + rb.stderr]).toEqual([0, 0, expect.not.stringMatching(/error/)]);
    expect(fs.readFileSync(path.join(dir, '.gitignore'), 'utf8').split('\n').sort()).toEqual(['', '/a', '/b']);
    const st = mlxJson(dir, 'status');
    expect(st.paths.map((p: any) => [p.path, p.state, p.cache])).toEqual([
      ['a', 'clean', 'ok'],
      ['b', 'clean', 'ok'],
    ]);
    expect(await expectCacheIntact()).toBe(602);
  });

  it('a process killed during add leaves no corrupt object, and the next add completes', async () => {
    const big = Buffer.allocUnsafe(96 << 20);
    crypto.randomFillSync(big);
    write(dir, 'data/big.bin', big);
    for (let i = 0; i < 2000; i++) write(dir, `data/small/f${i}.bin`, bytes(1024, `s${i}`));
    const child = mlxSpawn(dir, 'add', 'data');
    // Kill it mid-write: once a temp file or the first objects appear in the cache.
    const cache = path.join(dir, '.mlx/cache');
    const busy = () => ['tmp', 'objects'].some((d) => fs.existsSync(path.join(cache, d)) && fs.readdirSync(path.join(cache, d)).length > 0);
    for (let i = 0; i < 400 && !busy(); i++) await new Promise((r) => setTimeout(r, 10));
    child.kill('SIGKILL');
    await finished(child);
    await expectCacheIntact();
    expect(fs.existsSync(path.join(dir, 'data.mlx'))).toBe(false);
    const res = mlxJson(dir, 'add', 'data');
    expect(res.paths[0]).toMatchObject({ path: 'data', files: 2001 });
    fs.rmSync(path.join(dir, 'data'), { recursive: true });
    mlxOk(dir, 'checkout');
    expect(fs.readFileSync(path.join(dir, 'data/big.bin')).equals(big)).toBe(true);
    await expectCacheIntact();
  });

  it('a lock left by a killed process does not block the next command', () => {
    fs.writeFileSync(path.join(dir, '.mlx/state/lock'), JSON.stringify({ pid: 2 ** 22 + 12345, host: os.hostname(), started: 1 }));
    write(dir, 'x.bin', 'x');
    mlxOk(dir, 'add', 'x.bin');
    expect(fs.existsSync(path.join(dir, '.mlx/state/lock'))).toBe(false);
  });
});
