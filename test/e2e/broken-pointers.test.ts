import fs from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { expectCleanError, mlx, mlxJson, mlxOk } from '../helpers/cli.js';
import { bytes, tempDir, useTempRepo, write } from '../helpers/repo.js';

const repo = useTempRepo((d) => mlxOk(d, 'init'));
let dir: string;
let store: string;
beforeEach(() => {
  dir = repo();
  store = tempDir('mlx-broken-remote-');
});
afterEach(() => fs.rmSync(store, { recursive: true, force: true }));

/** A tracked, pushed model.ckpt (and data/), plus a MATLAB Live Script that only shares the extension. */
function trackedAndPushed(): void {
  write(dir, 'model.ckpt', bytes(300_000, 'ckpt'));
  write(dir, 'data/a.bin', bytes(5000, 'a'));
  write(dir, 'analysis.mlx', bytes(2000, 'matlab'));
  mlxOk(dir, 'add', 'model.ckpt', 'data');
  mlxOk(dir, 'remote', 'add', '-d', 'storage', store);
  mlxOk(dir, 'push');
}

const DAMAGE: [string, string | Buffer, RegExp][] = [
  ['unbalanced YAML', 'garbage: [', /not valid YAML/],
  ['an empty file', '', /the file is empty/],
  ['a bare word', 'hello', /not a pointer/],
  ['random bytes', bytes(700, 'noise'), /malformed pointer file model\.ckpt\.mlx/],
];

describe('a damaged pointer of a tracked path', () => {
  for (const [what, content, why] of DAMAGE) {
    it(`holding ${what} is EBADPOINTER for status, verify, push, fetch, pull and checkout`, () => {
      trackedAndPushed();
      write(dir, 'model.ckpt.mlx', content);
      for (const args of [['status'], ['status', 'model.ckpt'], ['verify'], ['verify', '--remote'], ['push'], ['fetch'], ['pull'], ['pull', 'model.ckpt'], ['checkout'], ['checkout', 'model.ckpt']]) {
        const line = expectCleanError(mlx(dir, ...args));
        expect(line, args.join(' ')).toMatch(/model\.ckpt\.mlx/);
        expect(line, args.join(' ')).toMatch(why);
        expect(line, args.join(' ')).toMatch(/\(hint: /); // what to do, from every command
      }
      expect(mlx(dir, '--json', 'status').stdout).toContain('"code": "EBADPOINTER"');
      // Re-adding the data writes a good pointer over the damaged one.
      mlxOk(dir, 'add', 'model.ckpt');
      expect(mlxOk(dir, 'status').stdout).toMatch(/everything is up to date/);
    });
  }

  it('a .mlx file mlx never tracked stays data: status, verify and push ignore it', () => {
    trackedAndPushed();
    write(dir, 'notes.mlx', 'hello');
    expect(mlxOk(dir, 'status').stdout).toMatch(/everything is up to date/);
    mlxOk(dir, 'verify');
    mlxOk(dir, 'push');
    // And it can be tracked like any file.
    mlxOk(dir, 'add', 'analysis.mlx');
    expect(mlxJson(dir, 'status').paths.map((p: any) => p.path)).toEqual(['analysis.mlx', 'data', 'model.ckpt']);
  });
});

describe('a pointer whose size disagrees with its data', () => {
  it('is reported by status and verify for a file', () => {
    write(dir, 'model.ckpt', bytes(31_457_280, 'big'));
    mlxOk(dir, 'add', 'model.ckpt');
    const file = path.join(dir, 'model.ckpt.mlx');
    fs.writeFileSync(file, fs.readFileSync(file, 'utf8').replace(/^size: \d+$/m, 'size: 5'));
    expect(expectCleanError(mlx(dir, 'status'))).toMatch(/pointer model\.ckpt\.mlx says size 5, but its data is 31457280 bytes/);
    const res = mlx(dir, 'verify');
    expect(expectCleanError(res)).toMatch(/verify found 1 problem/);
    expect(res.stdout).toMatch(/size-mismatch .* pointer model\.ckpt\.mlx says size 5, but its data is 31457280 bytes/);
  });

  it('is reported by verify and verify --remote for a directory and a small file', () => {
    write(dir, 'data/a.bin', bytes(5000, 'a'));
    write(dir, 'data/b.bin', bytes(3000, 'b'));
    write(dir, 'small.bin', bytes(1000, 's'));
    mlxOk(dir, 'add', 'data', 'small.bin');
    mlxOk(dir, 'remote', 'add', '-d', 'storage', store);
    mlxOk(dir, 'push');
    mlxOk(dir, 'verify');
    const data = path.join(dir, 'data.mlx');
    fs.writeFileSync(data, fs.readFileSync(data, 'utf8').replace(/^files: 2$/m, 'files: 3'));
    const small = path.join(dir, 'small.bin.mlx');
    fs.writeFileSync(small, fs.readFileSync(small, 'utf8').replace(/^size: 1000$/m, 'size: 999'));
    for (const args of [['verify'], ['verify', '--remote']]) {
      const res = mlx(dir, ...args);
      expect(expectCleanError(res)).toMatch(/verify found 2 problem/);
      expect(res.stdout).toMatch(/size-mismatch .* pointer data\.mlx says 3 files, but its manifest lists 2/);
      expect(res.stdout).toMatch(/size-mismatch .* pointer small\.bin\.mlx says size 999, but its data is 1000 bytes/);
    }
  });
});
