import fs from 'node:fs';
import path from 'node:path';
import crypto from 'node:crypto';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { cliEnv, expectCleanError, finished, mlx, mlxJson, mlxOk, mlxSpawn } from '../helpers/cli.js';
import { bytes, gitCloneLocal, gitCommitAll, gitInit, gitRestoreFile, snapshot, tempDir, write } from '../helpers/repo.js';
import { closedPort, startS3ServerProcess, type S3TestServer } from '../helpers/s3-server.js';
import { remoteKinds, type RemoteKind } from '../helpers/remote-kinds.js';

let s3: S3TestServer;
beforeAll(async () => {
  s3 = await startS3ServerProcess();
  cliEnv.AWS_ACCESS_KEY_ID = s3.accessKeyId;
  cliEnv.AWS_SECRET_ACCESS_KEY = s3.secretAccessKey;
});
afterAll(async () => {
  await s3.stop();
});

let remoteRoot: string;
const kinds: RemoteKind[] = remoteKinds(() => remoteRoot, () => s3);

let dir: string;
let fresh: string;
beforeEach(async () => {
  remoteRoot = tempDir('mlx-remote-');
  dir = tempDir();
  fresh = tempDir('mlx-fresh-');
  fs.rmSync(fresh, { recursive: true });
  await gitInit(dir);
  mlxOk(dir, 'init');
});
afterEach(() => {
  for (const d of [dir, fresh, remoteRoot]) fs.rmSync(d, { recursive: true, force: true });
});

describe.each(kinds)('$name remote', (kind) => {
  it('add, commit, push, clone fresh, pull: thousands of small files come back byte for byte in a few objects', async () => {
    const id = `small-${crypto.randomBytes(4).toString('hex')}`;
    for (let i = 0; i < 2000; i++) write(dir, `data/train/c${i % 20}/f${i}.bin`, bytes(512 + (i % 7) * 100, `s${i}`));
    mlxOk(dir, 'add', 'data/train');
    mlxOk(dir, 'remote', 'add', '-d', 'storage', ...kind.addArgs(id));
    expect(mlxOk(dir, 'status', '--remote').stdout).toMatch(/not pushed: {3}data\/train {2}\(2001 of 2001 objects not on storage\)/);
    const pushed = mlxJson(dir, 'push', '-j', '4');
    expect(pushed).toMatchObject({ remote: 'storage', objects: 2001, alreadyOnRemote: 0, uploadedObjects: 2001 });
    // 2,000 files in a handful of uploads: the layout marker, then one pack and its index per pack,
    // and the push's keep record for a concurrent gc --remote.
    expect(kind.storedKeys(id).length).toBe(1 + 2 * pushed.packs + 1);
    expect(pushed.packs).toBeLessThanOrEqual(3);
    expect(mlxOk(dir, 'status', '--remote').stdout).toMatch(/everything is on storage/);
    expect(mlxJson(dir, 'push').uploadedObjects).toBe(0);
    await gitCommitAll(dir, 'v1');

    await gitCloneLocal(dir, fresh);
    const pulled = mlxJson(fresh, 'pull');
    expect(pulled.fetch.fetched).toBe(2001);
    expect(snapshot(path.join(fresh, 'data/train'))).toEqual(snapshot(path.join(dir, 'data/train')));
    expect(mlxJson(fresh, 'status').paths[0]).toMatchObject({ state: 'clean', cache: 'ok' });
  });

  it('a large file changed twice sends only new chunks, and every version pulls back exactly', async () => {
    const id = `large-${crypto.randomBytes(4).toString('hex')}`;
    mlxOk(dir, 'remote', 'add', '-d', 'storage', ...kind.addArgs(id));
    const v1 = crypto.randomBytes(24 << 20);
    write(dir, 'model.ckpt', v1);
    mlxOk(dir, 'add', 'model.ckpt');
    const p1 = mlxJson(dir, 'push');
    await gitCommitAll(dir, 'v1');
    // v2: a few bytes changed in the middle; v3: 1% appended.
    const v2 = Buffer.from(v1);
    v2.write('edited in the middle', 12 << 20);
    write(dir, 'model.ckpt', v2);
    mlxOk(dir, 'add', 'model.ckpt');
    const p2 = mlxJson(dir, 'push');
    await gitCommitAll(dir, 'v2');
    const v3 = Buffer.concat([v2, crypto.randomBytes(v2.length / 100)]);
    write(dir, 'model.ckpt', v3);
    mlxOk(dir, 'add', 'model.ckpt');
    const p3 = mlxJson(dir, 'push');
    await gitCommitAll(dir, 'v3');
    expect(p1.bytesSent).toBeGreaterThan(v1.length * 0.99);
    for (const p of [p2, p3]) {
      expect(p.bytesSent).toBeLessThan(v1.length * 0.35);
      expect(p.bytesDeduplicated).toBeGreaterThan(v1.length * 0.6);
    }

    await gitCloneLocal(dir, fresh);
    mlxOk(fresh, 'pull');
    expect(fs.readFileSync(path.join(fresh, 'model.ckpt')).equals(v3)).toBe(true);
    for (const [rev, want] of [['HEAD~1', v2], ['HEAD~2', v1]] as const) {
      await gitRestoreFile(fresh, rev, 'model.ckpt.mlx');
      mlxOk(fresh, 'pull');
      expect(fs.readFileSync(path.join(fresh, 'model.ckpt')).equals(want)).toBe(true);
    }
  });

  it('a new version of a large file pulls only the chunks an older cached version lacks', async () => {
    const id = `reuse-${crypto.randomBytes(4).toString('hex')}`;
    mlxOk(dir, 'remote', 'add', '-d', 'storage', ...kind.addArgs(id));
    const v1 = crypto.randomBytes(24 << 20);
    write(dir, 'model.ckpt', v1);
    mlxOk(dir, 'add', 'model.ckpt');
    mlxOk(dir, 'push');
    await gitCommitAll(dir, 'v1');
    await gitCloneLocal(dir, fresh);
    expect(mlxJson(fresh, 'pull').fetch.bytesReused).toBe(0);

    const v2 = Buffer.from(v1);
    v2.write('edited in the middle', 12 << 20);
    write(dir, 'model.ckpt', v2);
    mlxOk(dir, 'add', 'model.ckpt');
    mlxOk(dir, 'push');
    // What `git pull` would bring: the new pointer.
    fs.copyFileSync(path.join(dir, 'model.ckpt.mlx'), path.join(fresh, 'model.ckpt.mlx'));
    const second = mlxJson(fresh, 'pull').fetch;
    expect(second.bytesReused).toBeGreaterThan(v2.length * 0.8);
    expect(second.bytesReceived).toBeLessThan(v2.length * 0.2);
    expect(fs.readFileSync(path.join(fresh, 'model.ckpt')).equals(v2)).toBe(true);

    // A damaged cached v1 misleads nothing: the rebuilt file does not hash right, and v3 comes from
    // the remote alone.
    const v3 = Buffer.from(v2);
    v3.write('edited again', 3 << 20);
    write(dir, 'model.ckpt', v3);
    mlxOk(dir, 'add', 'model.ckpt');
    mlxOk(dir, 'push');
    // Damage both cached versions where v3 shares their bytes.
    const objects = path.join(fresh, '.mlx', 'cache', 'objects');
    const big = (fs.readdirSync(objects, { recursive: true }) as string[]).map((f) => path.join(objects, f)).filter((f) => fs.statSync(f).size >= 20 << 20);
    expect(big.length).toBe(2);
    for (const file of big) {
      fs.chmodSync(file, 0o644);
      const fd = fs.openSync(file, 'r+');
      fs.writeSync(fd, Buffer.from('XXXX'), 0, 4, 20 << 20);
      fs.closeSync(fd);
    }
    fs.copyFileSync(path.join(dir, 'model.ckpt.mlx'), path.join(fresh, 'model.ckpt.mlx'));
    const third = mlxJson(fresh, 'pull', '--force').fetch;
    expect(fs.readFileSync(path.join(fresh, 'model.ckpt')).equals(v3)).toBe(true);
    expect(third.bytesReceived).toBeGreaterThan(v3.length * 0.99);
    // The damaged copies are quarantined and said so: no later pull tries them again.
    const quarantined = third.warnings.filter((w: string) => /is corrupt .*moved to .*fetched from the remote instead/.test(w));
    expect(quarantined.length).toBeGreaterThan(0);
    expect(big.filter((f) => fs.existsSync(f)).length).toBe(big.length - quarantined.length);
  });

  it('pulls one file of a tracked directory with a ranged read of only its bytes', async () => {
    const id = `partial-${crypto.randomBytes(4).toString('hex')}`;
    for (let i = 0; i < 300; i++) write(dir, `data/f${i}.bin`, bytes(20_000, `p${i}`));
    mlxOk(dir, 'add', 'data');
    mlxOk(dir, 'remote', 'add', '-d', 'storage', ...kind.addArgs(id));
    mlxOk(dir, 'push');
    await gitCommitAll(dir, 'v1');
    await gitCloneLocal(dir, fresh);
    const res = mlxJson(fresh, 'pull', 'data/f123.bin');
    expect(res.fetch.fetched).toBe(2); // the manifest and the file
    expect(res.fetch.bytesReceived).toBeLessThan(100_000); // not the 6 MB pack
    expect(fs.readFileSync(path.join(fresh, 'data/f123.bin'))).toEqual(bytes(20_000, 'p123'));
    expect(fs.readdirSync(path.join(fresh, 'data'))).toEqual(['f123.bin']);
  });

  it('refuses a tampered or truncated pack: nothing reaches the cache or the work tree', async () => {
    const id = `tamper-${crypto.randomBytes(4).toString('hex')}`;
    for (let i = 0; i < 50; i++) write(dir, `data/f${i}.bin`, bytes(3000, `t${i}`));
    mlxOk(dir, 'add', 'data');
    mlxOk(dir, 'remote', 'add', '-d', 'storage', ...kind.addArgs(id));
    mlxOk(dir, 'push');
    await gitCommitAll(dir, 'v1');
    const packKey = kind.storedKeys(id).find((k) => k.endsWith('.pack'))!;
    const packFile = kind.storedFile(id, packKey);
    const original = fs.readFileSync(packFile);

    const flipped = Buffer.from(original);
    flipped[2000] ^= 0x55; // inside the first members' data
    fs.writeFileSync(packFile, flipped);
    await gitCloneLocal(dir, fresh);
    expect(expectCleanError(mlx(fresh, 'pull'))).toMatch(/tampered|corrupt/);
    expect(fs.existsSync(path.join(fresh, 'data'))).toBe(false);

    // A truncated pack no longer holds what its index says: a read past its end is refused.
    fs.writeFileSync(packFile, original.subarray(0, original.length / 2));
    expect(expectCleanError(mlx(fresh, 'pull'))).toMatch(/pack member b3:[0-9a-f]+ is corrupt: its bytes \[\d+, \d+\) are not all in the \d+ bytes read/);
    expect(fs.existsSync(path.join(fresh, 'data'))).toBe(false);

    // Every object that did reach the cache is intact (verified on the way in).
    fs.writeFileSync(packFile, original);
    mlxOk(fresh, 'pull');
    expect(snapshot(path.join(fresh, 'data'))).toEqual(snapshot(path.join(dir, 'data')));
  });

  it('damaged copies on the remote: verify --data finds them, push --repair sends them again, every reader gets good bytes', async () => {
    const id = `repair-${crypto.randomBytes(4).toString('hex')}`;
    for (let i = 0; i < 20; i++) write(dir, `data/f${i}.bin`, bytes(3000, `r${i}`));
    const big = crypto.randomBytes(12 << 20);
    write(dir, 'model.ckpt', big);
    mlxOk(dir, 'add', 'data', 'model.ckpt');
    mlxOk(dir, 'remote', 'add', '-d', 'storage', ...kind.addArgs(id));
    mlxOk(dir, 'push');
    await gitCommitAll(dir, 'v1');
    // Flip one byte in a small file's member and one in a chunk of the large file.
    const indexes = kind.storedKeys(id).filter((k) => k.endsWith('.idx')).map((k) => ({ k, idx: JSON.parse(fs.readFileSync(kind.storedFile(id, k), 'utf8')) }));
    type Entry = { o: string; t: string; off: number; len: number; raw: number };
    // index/<hex>.idx describes packs/<hex>.pack
    const packOf = (k: string) => kind.storedFile(id, k.replace(/index\/([0-9a-f]{64})\.idx$/, 'packs/$1.pack'));
    const small = indexes.find(({ idx }) => idx.entries.some((e: Entry) => e.raw === 3000))!;
    const chunky = indexes.find(({ idx }) => idx.entries.some((e: Entry) => e.raw > 100_000))!;
    for (const [where, pick] of [[small, (e: Entry) => e.raw === 3000], [chunky, (e: Entry) => e.raw > 100_000]] as const) {
      const e = where.idx.entries.find(pick) as Entry;
      const file = packOf(where.k);
      const pack = fs.readFileSync(file);
      pack[e.off + (e.len >> 1)] ^= 0x01;
      fs.writeFileSync(file, pack);
    }

    expect(expectCleanError(mlx(dir, 'verify', '--data'))).toMatch(/--data goes with --remote/);
    mlxOk(dir, 'verify', '--remote'); // presence and sizes: all there
    const deep = mlx(dir, 'verify', '--remote', '--data');
    expect(deep.code).toBe(1);
    expect(deep.stdout).toMatch(/corrupt +b3:\w+ +needed by data\/f\d+\.bin/);
    expect(deep.stdout).toMatch(/corrupt +b3:\w+ +needed by model\.ckpt/);
    await gitCloneLocal(dir, fresh);
    expect(expectCleanError(mlx(fresh, 'pull'))).toMatch(/does not match its id/);

    const repair = mlx(dir, 'push', '--repair');
    expect(repair.code).toBe(0);
    expect(repair.stderr.match(/repaired b3:\w+: the copy in pack [0-9a-f]{12} was damaged/g)?.length).toBe(2);
    expect(repair.stdout).toMatch(/pushed to storage/);
    mlxOk(dir, 'verify', '--remote', '--data');
    expect(mlxJson(dir, 'push', '--repair').repaired).toEqual([]);
    mlxOk(fresh, 'pull');
    expect(snapshot(path.join(fresh, 'data'))).toEqual(snapshot(path.join(dir, 'data')));
    expect(fs.readFileSync(path.join(fresh, 'model.ckpt')).equals(big)).toBe(true);
  });
});

describe('remote failures', () => {
  it('a push names a missing or unknown remote before it reads any manifest', () => {
    write(dir, 'ds/a.bin', 'a');
    mlxOk(dir, 'add', 'ds');
    // With the directory's manifest gone from the cache, a push that read manifests first would fail on it.
    const manifest = fs.readFileSync(path.join(dir, 'ds.mlx'), 'utf8').match(/^oid: (\S+)$/m)![1]!;
    fs.rmSync(path.join(dir, '.mlx/cache/objects', manifest.slice(3, 5), manifest.slice(5)));
    expect(expectCleanError(mlx(dir, 'push'))).toMatch(/no remote given and no default remote set/);
    expect(expectCleanError(mlx(dir, 'push', '-r', 'nope'))).toMatch(/unknown remote "nope"/);
    mlxOk(dir, 'remote', 'add', '-d', 'here', path.join(dir, '..', 'remote-here'));
    expect(expectCleanError(mlx(dir, 'push'))).toMatch(/manifest b3:\w+ is not in the local cache/);
  });


  it('unknown remote, unreachable endpoint, wrong credentials and a missing bucket each give one clear line', async () => {
    write(dir, 'x.bin', 'x');
    mlxOk(dir, 'add', 'x.bin');
    expect(expectCleanError(mlx(dir, 'push'))).toMatch(/no remote given and no default remote set/);
    expect(expectCleanError(mlx(dir, 'push', '-r', 'nope'))).toMatch(/unknown remote "nope"/);
    const port = await closedPort();
    mlxOk(dir, 'remote', 'add', 'down', 's3://bucket/x', '-o', `endpoint=http://127.0.0.1:${port}`);
    expect(expectCleanError(mlx(dir, 'push', '-r', 'down'))).toMatch(/unreachable|connect/i);
    mlxOk(dir, 'remote', 'add', 'nobucket', 's3://no-such-bucket/x', '-o', `endpoint=${s3.endpoint}`);
    expect(expectCleanError(mlx(dir, 'push', '-r', 'nobucket'))).toMatch(/bucket/i);
    mlxOk(dir, 'remote', 'add', 'badkey', `s3://${s3.bucket}/x`, '-o', `endpoint=${s3.endpoint}`);
    const saved = cliEnv.AWS_ACCESS_KEY_ID!;
    cliEnv.AWS_ACCESS_KEY_ID = 'WRONG';
    try {
      expect(expectCleanError(mlx(dir, 'push', '-r', 'badkey'))).toMatch(/credential|access key|denied/i);
    } finally {
      cliEnv.AWS_ACCESS_KEY_ID = saved;
    }
    expect(mlxJson(dir, 'remote', 'list').map((r: any) => r.name).sort()).toEqual(['badkey', 'down', 'nobucket']);
  });

  it('never writes credentials into the committed config', () => {
    expect(expectCleanError(mlx(dir, 'remote', 'add', 's', 's3://b/p', '-o', 'secret_access_key=abc'))).toMatch(/refusing to write the credential/);
    mlxOk(dir, 'remote', 'add', '--local', 's', 's3://b/p', '-o', 'access_key_id=AKID', 'secret_access_key=abc');
    expect(fs.readFileSync(path.join(dir, '.mlx/config.yaml'), 'utf8')).not.toContain('abc');
    expect(fs.readFileSync(path.join(dir, '.mlx/config.local.yaml'), 'utf8')).toContain('abc');
    expect(mlxOk(dir, 'remote', 'list').stdout).toContain('secret_access_key=***');
    write(dir, '.mlx/config.yaml', 'remotes:\n  t:\n    url: s3://b/p\n    access_key_id: AKIA\n');
    expect(expectCleanError(mlx(dir, 'status'))).toMatch(/credentials must never be committed/);
  });

  it('a push killed half-way publishes no index for missing data, and the next push completes', async () => {
    const target = path.join(remoteRoot, 'killed');
    mlxOk(dir, 'remote', 'add', '-d', 'storage', target);
    for (let i = 0; i < 4; i++) write(dir, `data/big${i}.bin`, crypto.randomBytes(20 << 20));
    mlxOk(dir, 'add', 'data');
    const child = mlxSpawn(dir, 'push', '-j', '1');
    const packs = path.join(target, 'packs');
    const published = path.join(target, 'index');
    for (let i = 0; i < 1000 && !(fs.existsSync(published) && fs.readdirSync(published).some((f) => f.endsWith('.idx'))); i++) await new Promise((r) => setTimeout(r, 10));
    child.kill('SIGKILL');
    await finished(child);
    // Every published index names a complete pack.
    for (const f of fs.readdirSync(published).filter((n) => n.endsWith('.idx'))) {
      const idx = JSON.parse(fs.readFileSync(path.join(published, f), 'utf8'));
      expect(fs.statSync(path.join(packs, f.replace(/\.idx$/, '.pack'))).size).toBe(idx.size);
    }
    const second = mlxJson(dir, 'push');
    expect(second.alreadyOnRemote + second.uploadedObjects).toBeGreaterThan(0);
    await gitCommitAll(dir, 'v1');
    await gitCloneLocal(dir, fresh);
    mlxOk(fresh, 'pull');
    expect(snapshot(path.join(fresh, 'data'))).toEqual(snapshot(path.join(dir, 'data')));
  });

  /** A 20 MiB model.ckpt pushed to a directory remote and committed; its packs, with their indexes. */
  async function pushedLargeFile(id: string) {
    const target = path.join(remoteRoot, id);
    mlxOk(dir, 'remote', 'add', '-d', 'storage', target);
    const data = crypto.randomBytes(20 << 20);
    write(dir, 'model.ckpt', data);
    mlxOk(dir, 'add', 'model.ckpt');
    mlxOk(dir, 'push');
    await gitCommitAll(dir, 'v1');
    const packs = path.join(target, 'packs');
    const published = path.join(target, 'index');
    const indexes = fs.readdirSync(published).filter((f) => f.endsWith('.idx')).map((f) => ({ f, idx: JSON.parse(fs.readFileSync(path.join(published, f), 'utf8')) }));
    return { data, packs, published, indexes };
  }

  it('a remote that lost the chunks of a large file says so everywhere, and the next push repairs it', async () => {
    const { data, packs, published, indexes } = await pushedLargeFile('lost');
    // Remove, pack and index together, a pack that holds chunks but not the recipe.
    const victim = indexes.find(({ idx }) => idx.entries.every((e: { t: string }) => e.t === 'b'))!;
    expect(indexes.some(({ idx }) => idx.entries.some((e: { t: string }) => e.t === 'r'))).toBe(true);
    fs.rmSync(path.join(published, victim.f));
    fs.rmSync(path.join(packs, victim.f.replace(/\.idx$/, '.pack')));

    const status = mlxJson(dir, 'status', '--remote');
    expect(status.paths).toEqual([expect.objectContaining({ path: 'model.ckpt', notOnRemote: 1 })]);
    expect(status.warnings.join('\n')).toMatch(/recipe of b3:\w+: it names chunk b3:\w+, which the remote does not have/);
    expect(mlx(dir, 'verify', '--remote').code).toBe(1);
    await gitCloneLocal(dir, fresh);
    expect(expectCleanError(mlx(fresh, 'pull'))).toMatch(/1 object\(s\) are not on remote storage.*remote is damaged/);
    expect(fs.existsSync(path.join(fresh, 'model.ckpt'))).toBe(false);

    const repair = mlxJson(dir, 'push');
    expect(repair.uploadedObjects).toBeGreaterThan(1); // the lost chunks and a recipe
    expect(repair.bytesSent).toBeLessThan(data.length); // chunks still there are not sent again
    mlxOk(dir, 'verify', '--remote');
    mlxOk(fresh, 'pull');
    expect(fs.readFileSync(path.join(fresh, 'model.ckpt')).equals(data)).toBe(true);
  });

  it('one push --repair mends a large file whose recipe and one of whose chunks are both damaged', async () => {
    const { data, packs, indexes } = await pushedLargeFile('both');
    type Entry = { t: string; off: number; len: number };
    const flip = (f: string, at: number) => {
      const file = path.join(packs, f.replace(/\.idx$/, '.pack'));
      const pack = fs.readFileSync(file);
      pack[at] ^= 0x10;
      fs.writeFileSync(file, pack);
    };
    // The recipe's zstd frame loses its magic number: no chunk list can be read from it at all.
    const withRecipe = indexes.find(({ idx }) => idx.entries.some((e: Entry) => e.t === 'r'))!;
    flip(withRecipe.f, withRecipe.idx.entries.find((e: Entry) => e.t === 'r').off);
    const other = indexes.find(({ f }) => f !== withRecipe.f)!;
    const chunk = other.idx.entries.find((e: Entry) => e.t === 'b');
    flip(other.f, chunk.off + (chunk.len >> 1));

    expect(mlx(dir, 'verify', '--remote', '--data').code).toBe(1);
    const repair = mlxJson(dir, 'push', '--repair');
    expect(repair.repaired.length).toBe(2); // the recipe, then (with the good recipe published) the chunk
    mlxOk(dir, 'verify', '--remote', '--data');
    expect(mlxJson(dir, 'push', '--repair').repaired).toEqual([]);
    await gitCloneLocal(dir, fresh);
    mlxOk(fresh, 'pull');
    expect(fs.readFileSync(path.join(fresh, 'model.ckpt')).equals(data)).toBe(true);
  });

  it('push --repair with nothing tracked says so, like push', () => {
    mlxOk(dir, 'remote', 'add', '-d', 'storage', path.join(remoteRoot, 'nothing'));
    expect(mlxJson(dir, 'push', '--repair')).toMatchObject({ objects: 0, uploadedObjects: 0, repaired: [] });
    expect(mlxOk(dir, 'push', '--repair').stdout).toMatch(/everything is already on storage \(0 objects\)/);
  });

  it('pull of data that was never pushed names what is missing', async () => {
    mlxOk(dir, 'remote', 'add', '-d', 'storage', path.join(remoteRoot, 'empty'));
    write(dir, 'a.bin', 'never pushed');
    mlxOk(dir, 'add', 'a.bin');
    await gitCommitAll(dir, 'v1');
    await gitCloneLocal(dir, fresh);
    expect(expectCleanError(mlx(fresh, 'pull'))).toMatch(/1 object\(s\) are not on remote storage.*never pushed/);
  });
});
