import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { BIN, expectCleanError, finished, mlx, mlxJson, mlxOk } from '../helpers/cli.js';
import { Failpoints } from '../helpers/failpoints.js';
import { bytes, gitCommitAll, gitInit, tempDir, write } from '../helpers/repo.js';

/*
 * Several repositories on one cache (cache.dir): gc in one of them keeps what the others need.
 */

let base: string;
let cache: string;
let a: string;
let b: string;

async function repoOn(name: string, type?: string): Promise<string> {
  const dir = path.join(base, name);
  fs.mkdirSync(dir);
  await gitInit(dir);
  mlxOk(dir, 'init');
  mlxOk(dir, 'config', 'cache.dir', cache);
  if (type) mlxOk(dir, 'config', 'cache.type', type);
  return dir;
}

beforeEach(async () => {
  base = fs.realpathSync(tempDir('mlx-shared-'));
  cache = path.join(base, 'cache');
  a = await repoOn('a');
  b = await repoOn('b', 'symlink');
});
afterEach(() => fs.rmSync(base, { recursive: true, force: true }));

const oidOf = (dir: string, pointer: string) => /oid: (b3:[0-9a-f]{64})/.exec(fs.readFileSync(path.join(dir, pointer), 'utf8'))![1]!;
const objectFile = (oid: string) => path.join(cache, 'objects', oid.slice(3, 5), oid.slice(5));
const inCache = (oid: string) => fs.existsSync(objectFile(oid));
const registered = () => fs.readdirSync(path.join(cache, 'repos')).map((f) => JSON.parse(fs.readFileSync(path.join(cache, 'repos', f), 'utf8')).root).sort();

/** A: old.bin replaced by new.bin (old.bin is garbage). B: a committed v1 of model.bin, an unpushed v2 and a directory. */
async function twoRepos(): Promise<{ garbage: string; bNeeds: string[] }> {
  write(a, 'old.bin', bytes(3000, 'a-old'));
  mlxOk(a, 'add', 'old.bin');
  const garbage = oidOf(a, 'old.bin.mlx');
  fs.rmSync(path.join(a, 'old.bin.mlx'));
  write(a, 'new.bin', bytes(3000, 'a-new'));
  mlxOk(a, 'add', 'new.bin');

  write(b, 'model.bin', bytes(4000, 'b-v1'));
  mlxOk(b, 'add', 'model.bin');
  const v1 = oidOf(b, 'model.bin.mlx');
  await gitCommitAll(b, 'v1');
  fs.rmSync(path.join(b, 'model.bin'));
  write(b, 'model.bin', bytes(4000, 'b-v2'));
  mlxOk(b, 'add', 'model.bin');
  for (let i = 0; i < 5; i++) write(b, `data/f${i}.txt`, `file ${i}\n`);
  mlxOk(b, 'add', 'data');
  return { garbage, bNeeds: [v1, oidOf(b, 'model.bin.mlx'), oidOf(b, 'data.mlx')] };
}

describe('gc on a cache shared by several repositories', () => {
  it('every repository that uses the cache is registered once, by its real path', async () => {
    mlxOk(a, 'status');
    mlxOk(b, 'status');
    mlxOk(b, 'status');
    expect(registered()).toEqual([a, b]);
  });

  it('keeps what the other repositories need: their work tree, their HEAD, their symlinked files', async () => {
    const { garbage, bNeeds } = await twoRepos();
    const res = mlxJson(a, 'gc', '--keep-recent', '0');
    expect(res).toMatchObject({ removedObjects: 1, repositories: 1 });
    expect(inCache(garbage)).toBe(false);
    for (const oid of bNeeds) expect(inCache(oid)).toBe(true);
    expect(fs.readFileSync(path.join(b, 'model.bin'))).toEqual(bytes(4000, 'b-v2'));
    expect(fs.readFileSync(path.join(b, 'data/f3.txt'), 'utf8')).toBe('file 3\n');
    expect(mlxJson(b, 'status').paths.every((p: { state: string; cache: string }) => p.state === 'clean' && p.cache === 'ok')).toBe(true);
    mlxOk(b, 'checkout', 'HEAD', '--force');
    expect(fs.readFileSync(path.join(b, 'model.bin'))).toEqual(bytes(4000, 'b-v1'));
  });

  it('keeps the run records of another repository mlx.lock names', async () => {
    write(b, 'in.txt', 'input\n');
    mlxOk(b, 'add', 'in.txt');
    const { run } = mlxJson(b, 'run', '-n', 'copy', '-d', 'in.txt', '-o', 'out.txt', '--', 'node', '-e', "require('fs').copyFileSync('in.txt','out.txt')");
    mlxOk(a, 'gc', '--keep-recent', '0');
    for (const oid of [run.record, run.env]) expect(inCache(oid)).toBe(true);
  });

  it('drops a repository that no longer exists, and then collects what only it needed', async () => {
    const { bNeeds } = await twoRepos();
    fs.rmSync(b, { recursive: true, force: true });
    expect(mlxJson(a, 'gc', '--keep-recent', '0')).toMatchObject({ repositories: 0 });
    expect(registered()).toEqual([a]);
    for (const oid of bNeeds) expect(inCache(oid)).toBe(false);
  });

  it('drops a repository that moved to another cache', async () => {
    const { bNeeds } = await twoRepos();
    mlxOk(b, 'config', 'cache.dir', path.join(base, 'elsewhere'));
    mlxOk(a, 'gc', '--keep-recent', '0');
    expect(registered()).toEqual([a]);
    for (const oid of bNeeds) expect(inCache(oid)).toBe(false);
  });

  it('refuses with one line naming the repository it cannot read, and removes nothing', async () => {
    const { garbage, bNeeds } = await twoRepos();
    const lock = path.join(b, 'mlx.lock');
    fs.writeFileSync(lock, '<<<<<<< HEAD\nruns: {}\n=======\nruns: {}\n>>>>>>> x\n');
    expect(expectCleanError(mlx(a, 'gc', '--keep-recent', '0'))).toMatch(new RegExp(`cannot tell what ${b.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}, a repository sharing this cache, needs: mlx\\.lock has unresolved merge conflict markers`));
    fs.rmSync(lock);
    const pointer = fs.readFileSync(path.join(b, 'model.bin.mlx'));
    write(b, 'model.bin.mlx', 'garbage: [');
    expect(expectCleanError(mlx(a, 'gc', '--keep-recent', '0'))).toMatch(/model\.bin\.mlx/);
    write(b, 'model.bin.mlx', pointer);
    // A config that cannot be read (here a folder in its place) is not a repository that is gone.
    fs.renameSync(path.join(b, '.mlx', 'config.yaml'), path.join(b, '.mlx', 'config.yaml.bak'));
    fs.mkdirSync(path.join(b, '.mlx', 'config.yaml'));
    expect(expectCleanError(mlx(a, 'gc', '--keep-recent', '0'))).toContain(b);
    for (const oid of [garbage, ...bNeeds]) expect(inCache(oid)).toBe(true);
  });

  it('waits for an add in another repository that reuses an unreferenced object, instead of deleting it under it', async () => {
    write(b, 'reused.bin', bytes(3000, 'reused'));
    mlxOk(b, 'add', 'reused.bin');
    const oid = oidOf(b, 'reused.bin.mlx');
    fs.rmSync(path.join(b, 'reused.bin.mlx')); // the object is garbage now, but still in the cache
    const fp = new Failpoints();
    try {
      const run = (cwd: string, env: Record<string, string>, ...args: string[]) =>
        finished(spawn(process.execPath, [BIN, ...args], { cwd, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } }));
      // add finds the object already stored (no copy, so its mtime stays old) and pauses before its pointer.
      const adding = run(b, fp.env({ 'add.before-pointers': 'pause' }), 'add', 'reused.bin');
      await fp.reached('add.before-pointers');
      const collecting = run(a, fp.env({ 'gc.cache-busy': 'pause' }), '--json', 'gc', '--keep-recent', '0');
      await fp.reached('gc.cache-busy'); // gc sees the add and waits for it
      fp.release('gc.cache-busy');
      fp.release('add.before-pointers');
      const [added, collected] = await Promise.all([adding, collecting]);
      expect(added.code).toBe(0);
      expect(collected.code).toBe(0);
      expect(inCache(oid)).toBe(true);
      mlxOk(b, 'verify');
    } finally {
      fp.cleanup();
    }
  });
});

/*
 * Two Unix users of one group on one cache (cache.shared group). Creating users needs root, which is
 * how CI runs the tests.
 */
const GROUP = 'mlxshare';
const USERS = ['mlxshare1', 'mlxshare2'] as const;

function sh(cmd: string, ...args: string[]): void {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')}: ${r.stderr}`);
}

/** Runs the CLI as `user` (its own primary group, plus the shared group). */
function as(user: string, cwd: string, ...args: string[]) {
  const r = spawnSync('runuser', ['-u', user, '--', 'sh', '-c', 'umask 022 && exec "$0" "$@"', process.execPath, BIN, ...args], { cwd, encoding: 'utf8', env: { ...process.env, HOME: base, MLX_LOCK_TIMEOUT_MS: '30000' } });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}
function asOk(user: string, cwd: string, ...args: string[]) {
  const r = as(user, cwd, ...args);
  if (r.code !== 0) throw new Error(`${user}: mlx ${args.join(' ')} exited ${r.code}\n${r.stderr}`);
  return r;
}

describe.runIf(process.getuid?.() === 0)('a cache shared by two Unix users (cache.shared group)', () => {
  beforeAll(() => {
    if (spawnSync('getent', ['group', GROUP]).status !== 0) sh('groupadd', GROUP);
    for (const u of USERS) if (spawnSync('id', [u]).status !== 0) sh('useradd', '-M', '-U', '-G', GROUP, '-s', '/bin/sh', u);
  });

  /** Repository `name` owned by `user`, on the shared cache, with `cache.shared group`. */
  async function userRepo(user: string, name: string): Promise<string> {
    const dir = path.join(base, name);
    fs.rmSync(dir, { recursive: true, force: true });
    fs.mkdirSync(dir);
    await gitInit(dir);
    sh('chown', '-R', `${user}:`, dir);
    asOk(user, dir, 'init');
    asOk(user, dir, 'config', 'cache.dir', cache);
    asOk(user, dir, 'config', 'cache.shared', 'group');
    return dir;
  }

  /** Writes a file as `user` would (owned by them). */
  function userWrite(user: string, dir: string, rel: string, data: string | Buffer): void {
    write(dir, rel, data);
    sh('chown', '-R', `${user}:`, dir);
  }

  it('lets either user add (into folders the other created) and gc (the other\'s garbage), under umask 022', async () => {
    fs.chmodSync(base, 0o755);
    // As a team sets it up: a cache folder of the shared group (here first owned by user 1).
    fs.rmSync(cache, { recursive: true, force: true });
    fs.mkdirSync(cache);
    sh('chown', `${USERS[0]}:${GROUP}`, cache);
    fs.chmodSync(cache, 0o755);
    const [u1, u2] = USERS;
    const one = await userRepo(u1, 'one');
    const two = await userRepo(u2, 'two');
    const files = (seed: string) => Array.from({ length: 40 }, (_, i) => [`data/f${i}.bin`, bytes(200, `${seed}${i}`)] as const);

    for (const [rel, data] of files('shared')) userWrite(u1, one, rel, data);
    userWrite(u1, one, 'old.bin', bytes(1000, 'old'));
    asOk(u1, one, 'add', 'data', 'old.bin');
    const garbage = oidOf(one, 'old.bin.mlx');
    fs.rmSync(path.join(one, 'old.bin.mlx'));

    // User 2 stores the same content (the objects exist, in folders user 1 created) and more of its own.
    for (const [rel, data] of [...files('shared'), ...files('own')].map(([r, d], i) => [i < 40 ? r : `more/${r}`, d] as const)) userWrite(u2, two, rel, data);
    asOk(u2, two, 'add', 'data', 'more');
    asOk(u2, two, 'status');

    // Everything the cache holds is readable by the group, every folder writable by it and setgid.
    const walk = (dir: string): string[] => fs.readdirSync(dir, { withFileTypes: true }).flatMap((d) => (d.isDirectory() ? [path.join(dir, d.name), ...walk(path.join(dir, d.name))] : [path.join(dir, d.name)]));
    for (const f of [cache, ...walk(cache)]) {
      const st = fs.statSync(f);
      expect(st.mode & 0o040, f).toBe(0o040);
      if (st.isDirectory()) expect(st.mode & 0o2070, f).toBe(0o2070);
    }

    // User 2 collects: user 1's garbage goes (user 1 created it), what user 1's repository needs stays.
    expect(JSON.parse(asOk(u2, two, '--json', 'gc', '--keep-recent', '0').stdout)).toMatchObject({ removedObjects: 1, repositories: 1 });
    expect(inCache(garbage)).toBe(false);
    asOk(u1, one, 'verify');
    asOk(u2, two, 'verify');
    // And user 1 adds again after user 2 wrote into the cache.
    userWrite(u1, one, 'later.bin', bytes(5000, 'later'));
    asOk(u1, one, 'add', 'later.bin');
    asOk(u1, one, 'gc', '--keep-recent', '0');
    asOk(u2, two, 'verify');
  });
});
