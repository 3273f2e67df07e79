import fs from 'node:fs';
import path from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { expectCleanError, mlx, mlxJson, mlxOk } from '../helpers/cli.js';
import { useTempRepo, write } from '../helpers/repo.js';

const repo = useTempRepo((d) => mlxOk(d, 'init'));
let dir: string;
beforeEach(() => {
  dir = repo();
});

function objectBytes(oid: string): string {
  const hex = oid.slice(3);
  return fs.readFileSync(path.join(dir, '.mlx/cache/objects', hex.slice(0, 2), hex.slice(2)), 'utf8');
}

describe('mlx env', () => {
  it('capture --json gives the oid and the record, stored in the cache; capturing again prints the same oid', () => {
    write(dir, 'requirements.txt', 'numpy==1.26.0\n');
    const first = mlxJson(dir, 'env', 'capture');
    expect(first.oid).toMatch(/^b3:[0-9a-f]{64}$/);
    expect(first.record).toMatchObject({ v: 2, runtimes: { node: process.versions.node }, lockfiles: [{ path: 'requirements.txt', size: 14 }] });
    expect(JSON.parse(objectBytes(first.oid))).toEqual(first.record);
    expect(objectBytes(first.record.lockfiles[0].oid)).toBe('numpy==1.26.0\n');

    // Capturing again gives the same oid, printed with a readable summary.
    const text = mlxOk(dir, 'env', 'capture').stdout;
    expect(text).toMatch(/^lockfiles: +requirements\.txt b3:[0-9a-f]{8}$/m);
    expect(text).toContain(`environment ${first.oid}`);
  });

  it('diff of two captures shows the package that changed in requirements.txt', () => {
    write(dir, 'requirements.txt', 'numpy==1.26.0\nscipy==1.11.0\n');
    const a = mlxJson(dir, 'env', 'capture').oid as string;
    write(dir, 'requirements.txt', 'numpy==1.26.4\nscipy==1.11.0\ntorch==2.1.0\n');
    const b = mlxJson(dir, 'env', 'capture').oid as string;

    const d = mlxJson(dir, 'env', 'diff', a, b.slice(0, 11));
    expect(d.a).toBe(a);
    expect(d.b).toBe(b);
    expect(d.changes.filter((c: any) => c.package)).toEqual([
      { path: 'lockfiles/requirements.txt:numpy', package: 'numpy', from: '1.26.0', to: '1.26.4' },
      { path: 'lockfiles/requirements.txt:torch', package: 'torch', from: null, to: '2.1.0' },
    ]);
    const text = mlxOk(dir, 'env', 'diff', a.slice(0, 11), b).stdout;
    expect(text).toMatch(/lockfiles\/requirements\.txt: b3:[0-9a-f]{8} → b3:[0-9a-f]{8}/);
    expect(text).toContain('package numpy: 1.26.0 → 1.26.4');
    expect(text).toContain('package torch: added 2.1.0');
    expect(mlxOk(dir, 'env', 'diff', a, a).stdout).toMatch(/same environment/);
  });

  it('bad references end with one clean error line and a non-zero exit', () => {
    write(dir, 'requirements.txt', 'numpy==1.26.0\n');
    const captured = mlxJson(dir, 'env', 'capture');
    const a = captured.oid as string;
    expect(expectCleanError(mlx(dir, 'env', 'diff', a, `b3:${'0'.repeat(64)}`))).toMatch(/environment record b3:0{64} is not in the cache/);
    expect(expectCleanError(mlx(dir, 'env', 'diff', 'b3:00000000', a))).toMatch(/is not in the cache/);
    expect(expectCleanError(mlx(dir, 'env', 'diff', 'b3:1234', a))).toMatch(/at least 8 hex digits/);
    expect(expectCleanError(mlx(dir, 'env', 'diff', 'yesterday', a))).toMatch(/no run "yesterday" in mlx.lock or in the history of any branch/);
    const blob = captured.record.lockfiles[0].oid as string;
    expect(expectCleanError(mlx(dir, 'env', 'diff', blob, a))).toMatch(/malformed environment record/);
    const json = mlx(dir, '--json', 'env', 'diff', a, `b3:${'0'.repeat(64)}`);
    expect(JSON.parse(json.stdout).error.code).toBe('EOBJECTMISSING');
  });
});
