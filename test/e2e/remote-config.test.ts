import fs from 'node:fs';
import path from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { expectCleanError, mlx, mlxJson, mlxOk } from '../helpers/cli.js';
import { bytes, gitCloneLocal, gitCommitAll, tempDir, useTempRepo, write } from '../helpers/repo.js';

const repo = useTempRepo((d) => mlxOk(d, 'init'));
let dir: string;
beforeEach(() => {
  dir = repo();
});

describe('mlx remote and mlx fetch', () => {
  it('modify, default and remove change the config, and bad names give one clear line', () => {
    const a = tempDir('mlx-ra-');
    const b = tempDir('mlx-rb-');
    try {
      mlxOk(dir, 'remote', 'add', 'a', a);
      mlxOk(dir, 'remote', 'add', 'b', b);
      expect(mlxJson(dir, 'remote', 'list').map((r: any) => [r.name, r.isDefault])).toEqual([['a', false], ['b', false]]);
      mlxOk(dir, 'remote', 'default', 'b');
      expect(mlxJson(dir, 'remote', 'list').find((r: any) => r.isDefault).name).toBe('b');
      mlxOk(dir, 'remote', 'modify', 'a', 'endpoint', 'http://127.0.0.1:9');
      expect(fs.readFileSync(path.join(dir, '.mlx/config.yaml'), 'utf8')).toMatch(/endpoint: http:\/\/127\.0\.0\.1:9/);
      mlxOk(dir, 'remote', 'modify', '--unset', 'a', 'endpoint');
      expect(fs.readFileSync(path.join(dir, '.mlx/config.yaml'), 'utf8')).not.toMatch(/endpoint/);
      mlxOk(dir, 'remote', 'remove', 'b');
      expect(mlxJson(dir, 'remote', 'list').map((r: any) => r.name)).toEqual(['a']);
      expect(fs.readFileSync(path.join(dir, '.mlx/config.yaml'), 'utf8')).not.toMatch(/remote: b/);
      expect(expectCleanError(mlx(dir, 'remote', 'remove', 'nope'))).toMatch(/unknown remote "nope".*known remotes: a/);
      expect(expectCleanError(mlx(dir, 'remote', 'default', 'nope'))).toMatch(/unknown remote "nope"/);
      expect(expectCleanError(mlx(dir, 'remote', 'modify', 'nope', 'region', 'x'))).toMatch(/unknown remote "nope"/);
      expect(expectCleanError(mlx(dir, 'remote', 'add', 'a', b))).toMatch(/remote a exists already/);
      expect(expectCleanError(mlx(dir, 'remote', 'add', 'bad name', b))).toMatch(/invalid remote name/);
      expect(expectCleanError(mlx(dir, 'remote', 'add', 'c', 'ftp://x/y'))).toMatch(/is not supported/);
    } finally {
      fs.rmSync(a, { recursive: true, force: true });
      fs.rmSync(b, { recursive: true, force: true });
    }
  });

  it('fetch fills the cache without touching the workspace; checkout then needs no remote', async () => {
    const store = tempDir('mlx-fetch-');
    const fresh = tempDir('mlx-fetch-fresh-');
    fs.rmSync(fresh, { recursive: true });
    try {
      write(dir, 'data/a.bin', bytes(5000, 'a'));
      write(dir, 'data/b.bin', bytes(5000, 'b'));
      mlxOk(dir, 'add', 'data');
      mlxOk(dir, 'remote', 'add', '-d', 'storage', store);
      mlxOk(dir, 'push');
      await gitCommitAll(dir, 'v1');
      await gitCloneLocal(dir, fresh);
      const res = mlxJson(fresh, 'fetch');
      expect(res).toMatchObject({ remote: 'storage', fetched: 3, missingOnRemote: [] });
      expect(fs.existsSync(path.join(fresh, 'data'))).toBe(false);
      expect(mlxJson(fresh, 'fetch').fetched).toBe(0);
      fs.rmSync(store, { recursive: true });
      mlxOk(fresh, 'checkout');
      expect(fs.readFileSync(path.join(fresh, 'data/b.bin'))).toEqual(bytes(5000, 'b'));
      expect(expectCleanError(mlx(fresh, 'fetch'))).toMatch(/remote directory .* does not exist/);
    } finally {
      fs.rmSync(store, { recursive: true, force: true });
      fs.rmSync(fresh, { recursive: true, force: true });
    }
  });
});
