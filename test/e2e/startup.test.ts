import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { BIN, mlxOk } from '../helpers/cli.js';
import { bytes, useTempRepo, write } from '../helpers/repo.js';

/*
 * What `mlx status` loads besides its own chunks (start-up cost; test/cli/bundle.test.ts checks the
 * chunks): the built CLI runs in a child process that then reports whether the yaml library
 * (dist/cli/yaml.cjs) and Node's worker_threads were loaded.
 */

const MAIN = pathToFileURL(path.join(path.dirname(BIN), '../dist/cli/main.js')).href;
const DRIVER = `
import { createRequire } from 'node:module';
const { main } = await import(${JSON.stringify(MAIN)});
process.stdout.write = () => true;
const code = await main(['status']);
const required = Object.keys(createRequire(process.cwd() + '/').cache);
console.error(JSON.stringify({ code, yaml: required.some((f) => f.endsWith('yaml.cjs')), workerThreads: process.moduleLoadList.includes('NativeModule worker_threads') }));
`;

function statusLoads(dir: string): { code: number; yaml: boolean; workerThreads: boolean } {
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', DRIVER], { cwd: dir, encoding: 'utf8' });
  return JSON.parse(r.stderr.trim().split('\n').pop()!);
}

const repo = useTempRepo((d) => mlxOk(d, 'init'));

describe('what mlx status loads', () => {
  it('in a new repository and in one of pointers mlx wrote: neither the yaml library nor worker threads', () => {
    const dir = repo();
    expect(statusLoads(dir)).toEqual({ code: 0, yaml: false, workerThreads: false });
    write(dir, 'model.ckpt', bytes(2000, 'm'));
    write(dir, 'data/a.bin', bytes(3000, 'a'));
    write(dir, 'data/b.bin', bytes(1000, 'b'));
    mlxOk(dir, 'add', 'model.ckpt', 'data');
    mlxOk(dir, 'config', 'cache.type', 'copy');
    mlxOk(dir, 'status');
    expect(statusLoads(dir)).toEqual({ code: 0, yaml: false, workerThreads: false });
  });

  it('loads the yaml library for a pointer edited by hand, and reads it', () => {
    const dir = repo();
    write(dir, 'model.ckpt', bytes(2000, 'm'));
    mlxOk(dir, 'add', 'model.ckpt');
    const pointer = path.join(dir, 'model.ckpt.mlx');
    fs.writeFileSync(pointer, fs.readFileSync(pointer, 'utf8').replace(/^size: (\d+)$/m, 'size: $1 # bytes'));
    expect(statusLoads(dir)).toEqual({ code: 0, yaml: true, workerThreads: false });
  });
});
