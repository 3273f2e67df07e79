import fs from 'node:fs';
import path from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { expectCleanError, mlx, mlxJson, mlxOk } from '../helpers/cli.js';
import { bytes, gitInit, snapshot, tempDir, useTempRepo, write } from '../helpers/repo.js';
import { loadHasher } from '../../src/hash/blake3.js';
import { hashBytes } from '../../src/hash/hash-file.js';

const repo = useTempRepo((d) => mlxOk(d, 'init'));
let dir: string;
beforeEach(() => {
  dir = repo();
});

function objectPath(oid: string): string {
  const hex = oid.slice(3);
  return path.join(dir, '.mlx/cache/objects', hex.slice(0, 2), hex.slice(2));
}

function cacheSnapshot(): Record<string, string> {
  return snapshot(path.join(dir, '.mlx/cache/objects'));
}

describe('bad input ends with one clear line, a non-zero exit and nothing lost', () => {
  it('refuses to run outside a git repository or before init', async () => {
    const plain = tempDir();
    try {
      expect(expectCleanError(mlx(plain, 'init'))).toMatch(/not inside a git repository/);
      await gitInit(plain);
      expect(expectCleanError(mlx(plain, 'status'))).toMatch(/no mlx repository here.*mlx init/);
    } finally {
      fs.rmSync(plain, { recursive: true, force: true });
    }
  });

  it('init is idempotent and keeps machine-local state out of git', () => {
    expect(mlxJson(dir, 'init').created).toBe(false);
    expect(fs.readFileSync(path.join(dir, '.mlx/.gitignore'), 'utf8')).toContain('/cache/');
  });

  it('rejects paths outside the repository, in .git or .mlx, and paths that do not exist', () => {
    expect(expectCleanError(mlx(dir, 'add', '../elsewhere'))).toMatch(/outside the repository/);
    expect(expectCleanError(mlx(dir, 'add', '/etc/passwd'))).toMatch(/outside the repository/);
    expect(expectCleanError(mlx(dir, 'add', '.git'))).toMatch(/inside \.git/);
    expect(expectCleanError(mlx(dir, 'add', '.mlx/config.yaml'))).toMatch(/inside \.mlx/);
    expect(expectCleanError(mlx(dir, 'add', 'nope.bin'))).toMatch(/nope\.bin: no such file or directory/);
    fs.symlinkSync('/tmp', path.join(dir, 'escape'));
    expect(expectCleanError(mlx(dir, 'add', 'escape/x'))).toMatch(/outside the repository/);
  });

  it('an empty path argument is refused as empty, in the repository root and below it', () => {
    write(dir, 'sub/x.bin', 'x');
    for (const cwd of [dir, path.join(dir, 'sub')]) {
      for (const cmd of ['add', 'status', 'checkout', 'pull', 'push', 'fetch']) {
        const line = expectCleanError(mlx(cwd, cmd, ''));
        expect(line, `${cmd} ""`).toMatch(/empty path/);
        expect(line, `${cmd} ""`).not.toMatch(/repository root/);
      }
    }
  });

  it('reports a malformed pointer with its name, and checkout changes nothing', () => {
    write(dir, 'good.bin', 'good');
    mlxOk(dir, 'add', 'good.bin');
    write(dir, 'bad.bin.mlx', 'version: 1\npath: bad.bin\nkind: file\noid: b3:nothex\nsize: 3\n');
    const res = mlx(dir, '--json', 'status');
    expect(expectCleanError(res)).toMatch(/malformed pointer file bad\.bin\.mlx: oid/);
    // stdout holds one document: the status, whose problems say what failed.
    const st = JSON.parse(res.stdout);
    expect(st.problems[0].pointer).toBe('bad.bin.mlx');
    expect(st.problems[0].code).toBe('EBADPOINTER');
    fs.rmSync(path.join(dir, 'good.bin'));
    expect(expectCleanError(mlx(dir, 'checkout'))).toMatch(/malformed pointer file bad\.bin\.mlx: oid/);
    expect(fs.existsSync(path.join(dir, 'good.bin'))).toBe(false);
    write(dir, 'bad.bin.mlx', '# mlx pointer — do not edit by hand\nversion: [1\n');
    expect(expectCleanError(mlx(dir, 'checkout', 'bad.bin'))).toMatch(/malformed pointer file bad\.bin\.mlx: not valid YAML/);
    write(dir, 'bad.bin.mlx', 'version: 1\npath: ../../etc/passwd\nkind: file\noid: b3:' + 'a'.repeat(64) + '\nsize: 3\n');
    expect(expectCleanError(mlx(dir, 'checkout', 'bad.bin'))).toMatch(/contains '\.\.'/);
  });

  it('a pointer to an object that is not in the cache fails before touching the work tree', () => {
    write(dir, 'w.bin', 'weights');
    mlxOk(dir, 'add', 'w.bin');
    const oid = /oid: (b3:[0-9a-f]+)/.exec(fs.readFileSync(path.join(dir, 'w.bin.mlx'), 'utf8'))![1]!;
    fs.rmSync(objectPath(oid));
    fs.rmSync(path.join(dir, 'w.bin'));
    expect(expectCleanError(mlx(dir, 'checkout'))).toMatch(/1 object\(s\) needed for checkout are not in the cache.*mlx pull/);
    expect(fs.existsSync(path.join(dir, 'w.bin'))).toBe(false);
  });

  it('detects a tampered cache object, quarantines it and writes nothing', () => {
    write(dir, 'w.bin', bytes(100_000, 'w'));
    mlxOk(dir, 'add', 'w.bin');
    const oid = /oid: (b3:[0-9a-f]+)/.exec(fs.readFileSync(path.join(dir, 'w.bin.mlx'), 'utf8'))![1]!;
    const obj = objectPath(oid);
    expect(fs.statSync(obj).mode & 0o777).toBe(0o444);
    fs.chmodSync(obj, 0o644);
    const data = fs.readFileSync(obj);
    data[50_000] ^= 0xff;
    fs.writeFileSync(obj, data);
    fs.rmSync(path.join(dir, 'w.bin'));
    expect(expectCleanError(mlx(dir, 'checkout'))).toMatch(/cache object b3:[0-9a-f]+ is corrupt/);
    expect(fs.existsSync(path.join(dir, 'w.bin'))).toBe(false);
    expect(fs.existsSync(obj)).toBe(false);
    expect(fs.readdirSync(path.join(dir, '.mlx/cache/quarantine'))).toHaveLength(1);
    // Re-adding the original data repairs the cache.
    write(dir, 'w.bin', bytes(100_000, 'w'));
    mlxOk(dir, 'add', 'w.bin');
    fs.rmSync(path.join(dir, 'w.bin'));
    mlxOk(dir, 'checkout');
    expect(fs.readFileSync(path.join(dir, 'w.bin'))).toEqual(bytes(100_000, 'w'));
  });

  it('a crafted manifest cannot write outside the tracked directory', async () => {
    write(dir, 'ds/a.txt', 'a');
    mlxOk(dir, 'add', 'ds');
    const newHasher = await loadHasher();
    const content = Buffer.from('pwned');
    const contentOid = hashBytes(newHasher, content);
    const crafted = [
      `{"v":1,"entries":[{"p":"../../outside.txt","o":"${contentOid}","s":5,"x":false}]}`,
      `{"v":1,"entries":[{"p":"sub","t":"l","l":"/tmp"},{"p":"sub/x.txt","o":"${contentOid}","s":5,"x":false}]}`,
      `{"v":1,"entries":[{"p":"/abs.txt","o":"${contentOid}","s":5,"x":false}]}`,
    ];
    for (const manifest of crafted) {
      const bytesOfManifest = Buffer.from(manifest);
      const manifestOid = hashBytes(newHasher, bytesOfManifest);
      for (const [oid, data] of [[contentOid, content], [manifestOid, bytesOfManifest]] as const) {
        fs.mkdirSync(path.dirname(objectPath(oid)), { recursive: true });
        fs.writeFileSync(objectPath(oid), data);
      }
      write(dir, 'ds.mlx', `version: 1\npath: ds\nkind: dir\noid: ${manifestOid}\nsize: 5\nfiles: 1\n`);
      expect(expectCleanError(mlx(dir, 'checkout', '--force'))).toMatch(/malformed directory manifest|refusing directory manifest/);
    }
    expect(fs.existsSync(path.join(dir, '..', 'outside.txt'))).toBe(false);
    expect(fs.existsSync('/tmp/x.txt') && fs.readFileSync('/tmp/x.txt', 'utf8') === 'pwned').toBe(false);
    expect(fs.readFileSync(path.join(dir, 'ds/a.txt'), 'utf8')).toBe('a');
  });

  it('refuses a directory that contains another tracked path', () => {
    write(dir, 'outer/inner/x.bin', 'x');
    mlxOk(dir, 'add', 'outer/inner');
    expect(expectCleanError(mlx(dir, 'add', 'outer'))).toMatch(/contains the pointer file outer\/inner\.mlx/);
    expect(expectCleanError(mlx(dir, 'add', 'outer/inner', 'outer'))).toMatch(/contains the pointer file|one lies inside the other/);
  });

  it('rejects unknown config keys and invalid values, and keeps the old config', () => {
    mlxOk(dir, 'config', 'cache.type', 'hardlink,copy');
    expect(mlxOk(dir, 'config', 'cache.type').stdout.trim()).toBe('hardlink,copy');
    expect(expectCleanError(mlx(dir, 'config', 'cache.type', 'teleport'))).toMatch(/cache\.type "teleport" is invalid/);
    expect(expectCleanError(mlx(dir, 'config', 'cache.colour', 'blue'))).toMatch(/unknown config key/);
    expect(mlxOk(dir, 'config', 'cache.type').stdout.trim()).toBe('hardlink,copy');
    mlxOk(dir, 'config', '--unset', 'cache.type');
    expect(mlxJson(dir, 'config', '--list')).toEqual({});
    write(dir, '.mlx/config.yaml', 'cache: [oops');
    expect(expectCleanError(mlx(dir, 'status'))).toMatch(/config .*config\.yaml is not valid YAML/);
  });

  it('unknown commands and flags exit 2 without a stack trace', () => {
    const r = mlx(dir, 'teleport');
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/unknown command/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(mlx(dir, '--help').stdout).toMatch(/Usage: mlx/);
  });

  it('leaves the cache untouched when add fails half-way through its arguments', () => {
    write(dir, 'ok.bin', 'fine');
    mlxOk(dir, 'add', 'ok.bin');
    const before = cacheSnapshot();
    expectCleanError(mlx(dir, 'add', 'ok.bin', 'missing.bin'));
    expect(cacheSnapshot()).toEqual(before);
  });
});
