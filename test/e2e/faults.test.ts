import fs from 'node:fs';
import path from 'node:path';
import crypto from 'node:crypto';
import { spawn } from 'node:child_process';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { BIN, cliEnv, expectCleanError, finished, mlxOk, mlxSpawn, type RunResult } from '../helpers/cli.js';
import { gitCloneLocal, gitCommitAll, snapshot, tempDir, useTempRepo, write } from '../helpers/repo.js';
import { startS3Server, type S3TestServer } from '../helpers/s3-server.js';
import { startFaultProxy, type FaultProxy } from '../helpers/fault-proxy.js';
import { Failpoints } from '../helpers/failpoints.js';

/*
 * Faults between mlx and its remote, through a fault-injecting proxy in front of s3rver. The servers
 * run in this process, so every CLI run here is asynchronous (a spawnSync would starve them).
 */

let s3: S3TestServer;
let proxy: FaultProxy;
beforeAll(async () => {
  s3 = await startS3Server();
  proxy = await startFaultProxy({ upstream: s3.endpoint, rate: 0, seed: 20261202 });
  cliEnv.AWS_ACCESS_KEY_ID = s3.accessKeyId;
  cliEnv.AWS_SECRET_ACCESS_KEY = s3.secretAccessKey;
  // Small waits between attempts, so faults that never stop fail fast.
  cliEnv.MLX_RETRY_BASE_MS = '2';
});
afterAll(async () => {
  await proxy.stop();
  await s3.stop();
});

const repo = useTempRepo((d) => mlxOk(d, 'init'));
let dir: string;
const cleanups: string[] = [];
beforeEach(() => {
  dir = repo();
  proxy.setRate(0);
});
afterEach(() => {
  for (const d of cleanups.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

const run = (cwd: string, ...args: string[]): Promise<RunResult> => finished(mlxSpawn(cwd, ...args));
async function ok(cwd: string, ...args: string[]): Promise<RunResult> {
  const r = await run(cwd, ...args);
  if (r.code !== 0) throw new Error(`mlx ${args.join(' ')} exited ${r.code}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
  return r;
}

/** A remote through the proxy, with attempts enough that a 20% fault rate never exhausts them. */
function addRemote(id: string, attempts = 10): void {
  mlxOk(dir, 'remote', 'add', '-d', 'storage', `s3://${s3.bucket}/${id}`, '-o', `endpoint=${proxy.endpoint}`, `max_attempts=${attempts}`);
}

function storedKeys(id: string): string[] {
  const root = path.join(s3.dir, s3.bucket, id);
  if (!fs.existsSync(root)) return [];
  return (fs.readdirSync(root, { recursive: true }) as string[])
    .filter((f) => f.endsWith('._S3rver_object'))
    .map((f) => f.slice(0, -'._S3rver_object'.length).split(path.sep).join('/'));
}

/** Small files and one large file of several chunks (files above 4 MiB are chunked). */
function writeData(): void {
  for (let i = 0; i < 120; i++) write(dir, `data/f${String(i).padStart(3, '0')}.txt`, `small file ${i}\n${crypto.randomBytes(200 + i * 7).toString('hex')}\n`);
  write(dir, 'model.ckpt', crypto.randomBytes(13 << 20));
}

async function freshClone(): Promise<string> {
  await gitCommitAll(dir, 'data');
  const fresh = tempDir('mlx-faults-clone-');
  cleanups.push(fresh);
  await gitCloneLocal(dir, fresh);
  return fresh;
}

const tempFilesUnder = (root: string) => (fs.readdirSync(root, { recursive: true }) as string[]).filter((f) => /\.tmp$|\d+-[0-9a-f]{12}-[0-9a-z]+/.test(path.basename(f)));

describe('a remote that fails one request in five', () => {
  it('push, pull and verify --remote --data complete with identical bytes', async () => {
    const id = `flaky-${crypto.randomBytes(4).toString('hex')}`;
    addRemote(id);
    writeData();
    mlxOk(dir, 'add', 'data', 'model.ckpt');
    const before = { ...proxy.injected };
    proxy.setRate(0.2);
    await ok(dir, 'push', '-j', '4');
    const fresh = await freshClone();
    await ok(fresh, 'pull', '-j', '4');
    // A second round: new versions on top of what the remote has.
    writeData();
    mlxOk(dir, 'add', 'data', 'model.ckpt');
    await ok(dir, 'push', '-j', '4');
    await gitCommitAll(dir, 'v2');
    fs.rmSync(fresh, { recursive: true, force: true });
    await gitCloneLocal(dir, fresh);
    await ok(fresh, 'pull', '-j', '4');
    expect(snapshot(path.join(fresh, 'data'))).toEqual(snapshot(path.join(dir, 'data')));
    expect(fs.readFileSync(path.join(fresh, 'model.ckpt')).equals(fs.readFileSync(path.join(dir, 'model.ckpt')))).toBe(true);
    const verified = await ok(dir, '--json', 'verify', '--remote', '--data');
    expect(JSON.parse(verified.stdout)).toMatchObject({ checked: 122, problems: [] });
    // The faults did happen, of every kind, uploads and downloads cut mid-body included.
    const injected = Object.fromEntries(Object.entries(proxy.injected).map(([k, n]) => [k, n - before[k as keyof typeof before]]));
    for (const kind of ['reset-upload', 'reset-download', 'truncate-download', 'error-500', 'slowdown-503', 'delay']) expect(injected[kind], kind).toBeGreaterThan(0);
  });
});

describe('a remote whose faults never stop', () => {
  it('push fails with one clear line and publishes no index for data it did not send; once the faults stop it completes', async () => {
    const id = `down-${crypto.randomBytes(4).toString('hex')}`;
    addRemote(id, 3);
    writeData();
    mlxOk(dir, 'add', 'data', 'model.ckpt');
    for (const startAfter of [0, 4, 7]) {
      proxy.setRate(0, true, startAfter);
      const r = await run(dir, 'push', '-j', '2');
      expect(expectCleanError(r), `faults after ${startAfter} requests`).toMatch(/^mlx: error: /);
      // Every published index has its pack: no reader can be sent to data that is not there.
      const keys = storedKeys(id);
      for (const idx of keys.filter((k) => k.endsWith('.idx'))) expect(keys).toContain(idx.replace(/\.idx$/, '.pack'));
    }
    proxy.setRate(0);
    await ok(dir, 'push');
    const fresh = await freshClone();
    await ok(fresh, 'pull');
    expect(fs.readFileSync(path.join(fresh, 'model.ckpt')).equals(fs.readFileSync(path.join(dir, 'model.ckpt')))).toBe(true);
  });

  it('pull and verify --remote --data fail with a network error, never "never pushed" or "damaged", and change nothing', async () => {
    const id = `gone-${crypto.randomBytes(4).toString('hex')}`;
    addRemote(id, 3);
    writeData();
    mlxOk(dir, 'add', 'data', 'model.ckpt');
    await ok(dir, 'push');
    const fresh = await freshClone();
    // The work tree and the pointers, not the cache (which may keep whole, verified objects).
    const work = () => Object.fromEntries(Object.entries(snapshot(fresh)).filter(([k]) => !k.startsWith('.mlx/cache/')));
    for (const startAfter of [0, 1, 2, 3, 5]) {
      proxy.setRate(0, true, startAfter);
      const before = work();
      for (const [cwd, args] of [[fresh, ['pull']], [fresh, ['fetch']], [dir, ['verify', '--remote', '--data']]] as const) {
        const r = await run(cwd, '--json', ...args);
        const line = expectCleanError(r);
        expect(line, `${args.join(' ')} after ${startAfter}`).not.toMatch(/never pushed|damaged|missing|corrupt/i);
        expect(JSON.parse(r.stdout).error?.code, `${args.join(' ')} after ${startAfter}: ${r.stdout}`).toMatch(/^EREMOTE(UNREACHABLE|FAILED)$/);
      }
      expect(work(), `after ${startAfter}`).toEqual(before);
    }
    proxy.setRate(0);
    await ok(fresh, 'pull');
    expect(fs.readFileSync(path.join(fresh, 'model.ckpt')).equals(fs.readFileSync(path.join(dir, 'model.ckpt')))).toBe(true);
  });
});

describe('no command can hang', () => {
  /** Runs the CLI and kills it if it has not ended after `ms`: a hang fails the test instead of stalling it. */
  function runBounded(cwd: string, ms: number, ...args: string[]): Promise<RunResult & { killed: boolean }> {
    const child = mlxSpawn(cwd, ...args);
    let killed = false;
    const timer = setTimeout(() => {
      killed = true;
      child.kill('SIGKILL');
    }, ms);
    return finished(child).then((r) => {
      clearTimeout(timer);
      return { ...r, killed };
    });
  }

  it('remote add of a directory that cannot be created fails with one line and leaves the config as it was', async () => {
    const config = () => ['config.yaml', 'config.local.yaml'].map((f) => (fs.existsSync(path.join(dir, '.mlx', f)) ? fs.readFileSync(path.join(dir, '.mlx', f), 'utf8') : ''));
    const before = config();
    for (const [target, local] of [['/proc/1/nonexist', false], ['/proc/1/nonexist/deeper/still', false], ['/proc/1/nonexist', true]] as const) {
      const r = await runBounded(dir, 30_000, 'remote', 'add', ...(local ? ['--local'] : []), 'x', target);
      expect(r.killed, `remote add ${target} hung`).toBe(false);
      expect(expectCleanError(r)).toMatch(new RegExp(`cannot create the remote directory ${target}`));
      expect(config()).toEqual(before);
    }
    const listed = await ok(dir, '--json', 'remote', 'list');
    expect(JSON.parse(listed.stdout)).toEqual([]);
  });

  for (const [signal, code] of [['SIGTERM', 143], ['SIGINT', 130]] as const) {
    it(`${signal} stops a push at once with ${code}, removes its temp files and releases the repository`, async () => {
      const remoteDir = tempDir('mlx-faults-remote-');
      cleanups.push(remoteDir);
      mlxOk(dir, 'remote', 'add', '-d', 'storage', remoteDir);
      writeData();
      mlxOk(dir, 'add', 'data', 'model.ckpt');
      const fp = new Failpoints();
      try {
        const child = spawn(process.execPath, [BIN, 'push'], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...cliEnv, ...fp.env({ 'remote.put.before-rename': 'pause' }) } });
        const done = finished(child);
        await fp.reached('remote.put.before-rename');
        // Paused with a written, not yet renamed, temp file on the remote.
        expect(tempFilesUnder(remoteDir).length).toBeGreaterThan(0);
        child.kill(signal);
        const r = await done;
        expect(r.code).toBe(code);
        expect(tempFilesUnder(remoteDir)).toEqual([]);
        expect(tempFilesUnder(path.join(dir, '.mlx'))).toEqual([]);
        expect(fs.existsSync(path.join(dir, '.mlx/state/lock'))).toBe(false);
      } finally {
        fp.cleanup();
      }
      // Nothing half-done is left in the way: the next push completes and a clone pulls every byte.
      await ok(dir, 'push');
      const fresh = await freshClone();
      await ok(fresh, 'pull');
      expect(snapshot(path.join(fresh, 'data'))).toEqual(snapshot(path.join(dir, 'data')));
    });
  }
});
