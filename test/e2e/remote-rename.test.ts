import fs from 'node:fs';
import path from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { expectCleanError, mlx, mlxJson, mlxOk } from '../helpers/cli.js';
import { tempDir, useTempRepo, write } from '../helpers/repo.js';

const repo = useTempRepo((d) => mlxOk(d, 'init'));
let dir: string;
beforeEach(() => {
  dir = repo();
});

const configs = () => ['config.yaml', 'config.local.yaml'].map((f) => fs.readFileSync(path.join(dir, '.mlx', f), 'utf8'));

describe('mlx remote rename', () => {
  it('renames the remote in both config files, in its place, and the default follows it', () => {
    const store = tempDir('mlx-rr-');
    mlxOk(dir, 'remote', 'add', '-d', 'origin', store);
    mlxOk(dir, 'remote', 'add', 'cloud', 's3://bucket/exp', '-o', 'region=eu-west-1');
    mlxOk(dir, 'remote', 'modify', '--local', 'cloud', 'region', 'us-east-1');
    expect(mlxOk(dir, 'remote', 'rename', 'origin', 'team').stdout).toBe('renamed remote origin to team\n');
    mlxOk(dir, 'remote', 'rename', 'cloud', 'aws');
    expect(mlxJson(dir, 'remote', 'list').map((r: { name: string; isDefault: boolean; options: Record<string, unknown> }) => [r.name, r.isDefault, r.options.region])).toEqual([
      ['team', true, undefined],
      ['aws', false, 'us-east-1'],
    ]);
    const [shared, local] = configs();
    expect(shared).not.toMatch(/origin|cloud/);
    expect(local).toMatch(/aws:\n\s+region: us-east-1/);
    // The renamed default is the one push uses.
    write(dir, 'model.bin', 'weights');
    mlxOk(dir, 'add', 'model.bin');
    mlxOk(dir, 'push');
    const onRemote = mlxJson(dir, 'status', '--remote');
    expect([onRemote.remote, onRemote.paths[0].notOnRemote]).toEqual(['team', 0]);
  });

  it('refuses an unknown remote, a name in use and an invalid name with one line, changing nothing', () => {
    mlxOk(dir, 'remote', 'add', 'a', 's3://bucket/a');
    mlxOk(dir, 'remote', 'add', 'b', tempDir('mlx-rr-'));
    mlxOk(dir, 'remote', 'modify', '--local', 'a', 'region', 'x');
    const before = configs();
    expect(expectCleanError(mlx(dir, 'remote', 'rename', 'zz', 'c'))).toMatch(/^mlx: error: unknown remote "zz" \(hint: known remotes: a, b\)$/);
    expect(expectCleanError(mlx(dir, 'remote', 'rename', 'a', 'b'))).toMatch(/^mlx: error: remote b exists already/);
    expect(expectCleanError(mlx(dir, 'remote', 'rename', 'a', 'no/slash'))).toMatch(/^mlx: error: invalid remote name "no\/slash"/);
    expect(configs()).toEqual(before);
  });
});
