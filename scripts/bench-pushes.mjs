#!/usr/bin/env node
// A remote after many pushes: how many index requests and how long a fresh clone's first `mlx pull`
// takes against a remote pushed to N times, beside the same against a remote pushed to once, for a
// directory remote and a local S3 server (s3rver, child process). Also run by the scale mode of
// `npm run bench` (BENCH_PUSHES), which puts the figures in the issue's target table.
//
//   node scripts/bench-pushes.mjs                 N = 10,000 for both remotes
//   BENCH_PUSHES=1000 node scripts/bench-pushes.mjs        N for both
//   BENCH_PUSHES_S3=0 node scripts/bench-pushes.mjs        directory remote only
//   BENCH_CONSOLIDATE=0 ...                                pushes publish no consolidated index (before)
//   BENCH_PUSH_CODE=1 ...                                  the N - 1 pushes run the whole push code (slow)
//
// The first push (one tracked file) runs through the CLI and is committed. The other N - 1 pushes
// each add one tiny object, so one pack and one pack index each. By default they are published
// directly: each pack built by the push's own PackWriter (same options), uploaded, then its index
// put; then the push's own consolidation step, with the push's policy, wherever a push would have
// run one that did something (once eight packs are loose). That is the layout N pushes one after
// another leave, without each push's keep record (keep/, read
// only by `gc --remote`, never by a pull) and several times faster (a real push also re-reads the
// sweep records and fsyncs its keep record). BENCH_PUSH_CODE=1 runs the real push code instead,
// one push after another (`BENCH_PUSHERS` at a time), each pusher keeping its remote index between
// its pushes. Then: a fresh `git clone` and a timed `mlx pull` (fastest of 3), and, in this
// process, the requests a fresh load of the remote index makes (GETs of pack and consolidated
// indexes, listings, and for S3 the pages those listings took). Needs `npm run build`.
import { spawn, spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const MLX = path.join(ROOT, 'bin', 'mlx.js');
/** Where a run works unless told otherwise. */
const DEFAULT_WORK = path.join(ROOT, '.bench', 'pushes');
const PUSHERS = Math.max(1, Number(process.env.BENCH_PUSHERS ?? 1));
const CONSOLIDATE = process.env.BENCH_CONSOLIDATE !== '0';
const PUSH_CODE = process.env.BENCH_PUSH_CODE === '1';
const ENV = {
  ...process.env,
  GIT_CONFIG_NOSYSTEM: '1',
  GIT_CONFIG_GLOBAL: '/dev/null',
  NO_COLOR: '1',
  AWS_ACCESS_KEY_ID: 'S3RVER',
  AWS_SECRET_ACCESS_KEY: 'S3RVER',
};
const GIT_ID = ['-c', 'user.name=mlx bench', '-c', 'user.email=bench@localhost'];

function run(cmd, args, cwd) {
  const r = spawnSync(cmd, args, { cwd, env: ENV, encoding: 'utf8', maxBuffer: 1 << 26 });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.status}): ${r.stderr}`);
  return r.stdout;
}

/** The parts of mlx this script drives in-process, bundled from src/ (esbuild, as the CLI is). */
async function loadMlx(work) {
  const out = path.join(work, 'lib.mjs');
  await build({
    stdin: {
      contents: `export { pushObjects } from './src/remote/push.ts';
export { RemoteIndex } from './src/remote/remote-index.ts';
export { DirRemote } from './src/remote/dir-remote.ts';
export { S3Remote } from './src/remote/s3-remote.ts';
export { ObjectStore } from './src/store/object-store.ts';
export { loadHasher } from './src/hash/blake3.ts';
export { hashBytes } from './src/hash/hash-file.ts';
export { PUSH_POLICY, consolidateIndexes } from './src/remote/consolidate.ts';
export { PackWriter } from './src/remote/pack.ts';
export { serializePackIndex } from './src/formats/pack-index.ts';
export { packKey, indexKey } from './src/remote/layout.ts';
export { prepareLayout } from './src/remote/layout-upgrade.ts';
export { oidHex } from './src/hash/oid.ts';`,
      resolveDir: ROOT,
      loader: 'ts',
    },
    outfile: out,
    bundle: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    external: ['@napi-rs/blake-hash', 'zstd-napi', '@aws-sdk/*'],
    banner: { js: "import { createRequire as __r } from 'node:module'; const require = __r(import.meta.url);" },
    logLevel: 'warning',
  });
  // Resolve node_modules from the repository.
  fs.symlinkSync(path.join(ROOT, 'node_modules'), path.join(work, 'node_modules'));
  return import(out);
}

async function startS3rver(dir) {
  fs.mkdirSync(dir, { recursive: true });
  const child = spawn(process.execPath, [path.join(ROOT, 'test', 'helpers', 's3rver-process.mjs'), dir, 'bench'], { stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise((resolve, reject) => {
    child.stdout.once('data', (d) => resolve(JSON.parse(String(d)).port));
    child.once('exit', (code) => reject(new Error(`s3rver exited (${code})`)));
  });
  return { endpoint: `http://127.0.0.1:${port}`, stop: () => child.kill('SIGTERM') };
}

/** A repo with one tracked file pushed through the CLI and committed; returns its path. */
function firstPush(dir, remoteArgs) {
  const repo = path.join(dir, 'src');
  fs.mkdirSync(repo, { recursive: true });
  run('git', ['init', '-q', '-b', 'main'], repo);
  run(process.execPath, [MLX, 'init'], repo);
  fs.writeFileSync(path.join(repo, 'data.txt'), 'the data a fresh clone pulls\n');
  run(process.execPath, [MLX, 'add', 'data.txt'], repo);
  run(process.execPath, [MLX, 'remote', 'add', '-d', 'storage', ...remoteArgs], repo);
  run(process.execPath, [MLX, 'push'], repo);
  run('git', [...GIT_ID, 'add', '-A'], repo);
  run('git', [...GIT_ID, 'commit', '-q', '-m', 'data'], repo);
  return repo;
}

/** `count` pushes of one new tiny object each, `PUSHERS` clones at a time, through the real push code. */
export async function morePushes(mlx, remote, dir, count) {
  const newHasher = await mlx.loadHasher();
  const store = new mlx.ObjectStore(path.join(dir, 'pusher-store'), newHasher);
  store.init();
  let next = 0;
  const pusher = async (p) => {
    const index = await mlx.RemoteIndex.load(remote, path.join(dir, `pusher-${p}`));
    while (next < count) {
      const oid = store.putBytes(Buffer.from(`push ${next++} of another clone\n`));
      await mlx.pushObjects(store, newHasher, remote, index, [oid]);
    }
  };
  await Promise.all(Array.from({ length: PUSHERS }, (_, p) => pusher(p)));
}

/**
 * `count` pushes of one new tiny object each, published directly (see the header). Each push's pack
 * is built as PackUploads builds it (PackWriter at level 1, no second hash), uploaded, then its index
 * put where a push puts it. Pushes go in runs of as many as leave the push policy's number of packs
 * loose, uploaded at once; then the push's consolidation step runs, as the push that made them so
 * would run it (the pushes before it in the run find too few loose packs and do nothing). It works
 * from a listing of the remote, so the remote ends as pushes one after another leave it.
 */
export async function publishPushes(mlx, remote, dir, count) {
  const newHasher = await mlx.loadHasher();
  const cacheRoot = path.join(dir, 'publisher');
  // As each push does before it uploads: the marker says layout 3.
  await mlx.prepareLayout(remote, cacheRoot, newHasher, true);
  let loose = (await mlx.RemoteIndex.load(remote, cacheRoot)).unconsolidatedPacks().length;
  let next = 0;
  const publish = async (n) => {
    const writer = new mlx.PackWriter(newHasher, { level: 1, verify: false, buffer: Buffer.allocUnsafe(64 * 1024) });
    const bytes = Buffer.from(`push ${n} of another clone\n`);
    writer.add(mlx.hashBytes(newHasher, bytes), 'b', bytes);
    const { pack, index: packIndex } = writer.finish();
    await remote.put(mlx.packKey(packIndex.pack), Buffer.from(pack));
    await remote.put(mlx.indexKey(packIndex.pack), Buffer.from(mlx.serializePackIndex(packIndex)));
  };
  while (next < count) {
    const run = Math.min(count - next, Math.max(1, mlx.PUSH_POLICY.minUnconsolidated - loose));
    await Promise.all(Array.from({ length: run }, (_, i) => publish(next + i)));
    next += run;
    loose += run;
    if (loose < mlx.PUSH_POLICY.minUnconsolidated) continue;
    await mlx.consolidateIndexes(remote, cacheRoot, newHasher, mlx.PUSH_POLICY);
    loose = (await mlx.RemoteIndex.load(remote, cacheRoot)).unconsolidatedPacks().length;
  }
}

/** Requests a fresh load of the remote index makes, by kind. */
async function countIndexRequests(mlx, remote, dir) {
  // S3 lists at most 1,000 keys per request (a page); a directory listing is one readdir.
  const counts = { indexGets: 0, consolidatedGets: 0, lists: 0, listedKeys: 0, listPages: 0, listSeconds: 0 };
  const counted = new Proxy(remote, {
    get(target, prop) {
      if (prop === 'get') return (key, ...rest) => {
        if (key.endsWith('.idx')) counts.indexGets++;
        if (key.endsWith('.midx')) counts.consolidatedGets++;
        return target.get(key, ...rest);
      };
      if (prop === 'list') return async (prefix) => {
        counts.lists++;
        const started = performance.now();
        const found = await target.list(prefix);
        counts.listSeconds += (performance.now() - started) / 1000; // the two listings run at once: their sum
        counts.listedKeys += found.length;
        counts.listPages += Math.max(1, Math.ceil(found.length / 1000));
        return found;
      };
      const v = Reflect.get(target, prop);
      return typeof v === 'function' ? v.bind(target) : v;
    },
  });
  const start = performance.now();
  const index = await mlx.RemoteIndex.load(counted, path.join(dir, `fresh-load-${Date.now()}`));
  const loadSeconds = (performance.now() - start) / 1000;
  // The names of every pack, pack index and consolidated index: equal digests, equal layouts (both
  // generators at the same N give the same one; BENCH_PUSH_CODE=1 checks the direct one).
  const keys = [...(await remote.list('packs/')), ...(await remote.list('index/'))].map((o) => o.key).sort();
  const layout = crypto.createHash('sha256').update(keys.join('\n')).digest('hex').slice(0, 16);
  return { ...counts, packs: index.packs.size, loadSeconds, layout };
}

/** Fastest of three: a fresh `git clone` (untimed) and its first `mlx pull` (timed). */
function freshPull(repo, dir) {
  const times = [];
  for (let i = 0; i < 3; i++) {
    const clone = path.join(dir, `clone-${i}`);
    run('git', ['clone', '-q', repo, clone], dir);
    const start = performance.now();
    run(process.execPath, [MLX, 'pull'], clone);
    times.push((performance.now() - start) / 1000);
    if (fs.readFileSync(path.join(clone, 'data.txt'), 'utf8') !== 'the data a fresh clone pulls\n') throw new Error('pulled data differs');
    fs.rmSync(clone, { recursive: true, force: true });
  }
  return Math.min(...times);
}

async function benchKind(mlx, kind, pushes, log, work) {
  const rows = [];
  for (const n of [1, pushes]) {
    const dir = path.join(work, `${kind}-${n}`);
    fs.mkdirSync(dir, { recursive: true });
    let s3;
    let remote;
    let remoteArgs;
    if (kind === 'dir') {
      const root = path.join(dir, 'remote');
      fs.mkdirSync(root);
      remote = new mlx.DirRemote(root);
      remoteArgs = [root];
    } else {
      s3 = await startS3rver(path.join(dir, 's3rver'));
      remote = new mlx.S3Remote({ bucket: 'bench', prefix: 'r', endpoint: s3.endpoint, region: 'us-east-1', accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' });
      remoteArgs = ['s3://bench/r', '-o', `endpoint=${s3.endpoint}`];
    }
    try {
      const repo = firstPush(dir, remoteArgs);
      const genStart = performance.now();
      await (PUSH_CODE ? morePushes : publishPushes)(mlx, remote, dir, n - 1);
      const generateSeconds = (performance.now() - genStart) / 1000;
      const requests = await countIndexRequests(mlx, remote, dir);
      const pullSeconds = freshPull(repo, dir);
      rows.push({ kind, pushes: n, generateSeconds, pullSeconds, ...requests });
      log(JSON.stringify(rows.at(-1)));
    } finally {
      s3?.stop();
      if (!process.env.BENCH_KEEP) fs.rmSync(dir, { recursive: true, force: true });
    }
  }
  const [one, many] = rows;
  const summary = { kind, pushes: many.pushes, one, many, ratio: many.pullSeconds / one.pullSeconds, indexRequests: many.indexGets + many.consolidatedGets };
  log(`${kind}: ${many.pushes} pushes (generated in ${many.generateSeconds.toFixed(1)} s): fresh pull ${many.pullSeconds.toFixed(2)} s vs ${one.pullSeconds.toFixed(2)} s after 1 push (${summary.ratio.toFixed(2)}x); index GETs ${many.indexGets} + ${many.consolidatedGets} consolidated; ${many.lists} listings of ${many.listedKeys} keys${kind === 's3rver' ? ` (${many.listPages} list requests)` : ''} taking ${many.listSeconds.toFixed(2)} s of a ${many.loadSeconds.toFixed(2)} s fresh index load`);
  return summary;
}

/**
 * The benchmark for each remote kind with a positive count (`dir`, `s3`): one summary per kind (the
 * remote after one push and after N, the ratio of their fresh pulls, index requests after N).
 */
export async function benchPushes({ dir: dirPushes, s3: s3Pushes, log = console.log, work = DEFAULT_WORK }) {
  fs.rmSync(work, { recursive: true, force: true });
  fs.mkdirSync(work, { recursive: true });
  try {
    const mlx = await loadMlx(work);
    if (!CONSOLIDATE) mlx.PUSH_POLICY.minUnconsolidated = Number.MAX_SAFE_INTEGER;
    log(`pushes benchmark: ${os.cpus().length} CPUs, node ${process.version}, load ${os.loadavg().map((n) => n.toFixed(2)).join(' ')}, consolidation ${CONSOLIDATE ? 'on' : 'off'}, ${PUSH_CODE ? 'the push code per push' : 'packs published directly'}`);
    const out = [];
    if (dirPushes > 0) out.push(await benchKind(mlx, 'dir', dirPushes, log, work));
    if (s3Pushes > 0) out.push(await benchKind(mlx, 's3rver', s3Pushes, log, work));
    return out;
  } finally {
    if (!process.env.BENCH_KEEP) fs.rmSync(work, { recursive: true, force: true });
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const pushes = Number(process.env.BENCH_PUSHES ?? 10_000);
  await benchPushes({ dir: pushes, s3: Number(process.env.BENCH_PUSHES_S3 ?? pushes) });
}
