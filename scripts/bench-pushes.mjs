#!/usr/bin/env node
// A remote after many pushes: how many index requests and how long a fresh clone's first `mlx pull`
// takes against a remote pushed to N times, beside the same against a remote pushed to once, for a
// directory remote and a local S3 server (s3rver, child process).
//
//   node scripts/bench-pushes.mjs                 N = 10,000 (directory), 1,000 (s3rver)
//   BENCH_PUSHES=1000 node scripts/bench-pushes.mjs        N for both
//   BENCH_PUSHES_S3=0 node scripts/bench-pushes.mjs        directory remote only
//   BENCH_CONSOLIDATE=0 ...                                pushes publish no consolidated index (before)
//
// The first push (one tracked file) runs through the CLI and is committed; the other N - 1 pushes
// (one tiny object each, so one pack and one pack index each) run in this process through the real
// push code, one after another (`BENCH_PUSHERS`, default 1), each pusher keeping its remote index
// between its pushes: with one pusher that is exactly what a fresh load before each push would see,
// without the cost of one. Several pushers at once each see only their own pushes, like clones that
// never reload (more unconsolidated indexes than real pushes would leave). Then: a fresh
// `git clone` and a timed `mlx pull` (fastest of 3), and, in this process, the requests a fresh load
// of the remote index makes (GETs of pack and consolidated indexes, listings). Needs `npm run build`.
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const MLX = path.join(ROOT, 'bin', 'mlx.js');
const WORK = path.join(ROOT, '.bench', 'pushes');
const PUSHES = Number(process.env.BENCH_PUSHES ?? 10_000);
const PUSHES_S3 = Number(process.env.BENCH_PUSHES_S3 ?? process.env.BENCH_PUSHES ?? 1_000);
const PUSHERS = Math.max(1, Number(process.env.BENCH_PUSHERS ?? 1));
const CONSOLIDATE = process.env.BENCH_CONSOLIDATE !== '0';
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
async function loadMlx() {
  const out = path.join(WORK, 'lib.mjs');
  await build({
    stdin: {
      contents: `export { pushObjects } from './src/remote/push.ts';
export { RemoteIndex } from './src/remote/remote-index.ts';
export { DirRemote } from './src/remote/dir-remote.ts';
export { S3Remote } from './src/remote/s3-remote.ts';
export { ObjectStore } from './src/store/object-store.ts';
export { loadHasher } from './src/hash/blake3.ts';
export { PUSH_POLICY } from './src/remote/consolidate.ts';`,
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
  fs.symlinkSync(path.join(ROOT, 'node_modules'), path.join(WORK, 'node_modules'));
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
async function morePushes(mlx, remote, dir, count) {
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

/** Requests a fresh load of the remote index makes, by kind. */
async function countIndexRequests(mlx, remote, dir) {
  const counts = { indexGets: 0, consolidatedGets: 0, lists: 0, listedKeys: 0 };
  const counted = new Proxy(remote, {
    get(target, prop) {
      if (prop === 'get') return (key, ...rest) => {
        if (key.endsWith('.idx')) counts.indexGets++;
        if (key.endsWith('.midx')) counts.consolidatedGets++;
        return target.get(key, ...rest);
      };
      if (prop === 'list') return async (prefix) => {
        counts.lists++;
        const found = await target.list(prefix);
        counts.listedKeys += found.length;
        return found;
      };
      const v = Reflect.get(target, prop);
      return typeof v === 'function' ? v.bind(target) : v;
    },
  });
  const start = performance.now();
  const index = await mlx.RemoteIndex.load(counted, path.join(dir, `fresh-load-${Date.now()}`));
  return { ...counts, packs: index.packs.size, loadSeconds: (performance.now() - start) / 1000 };
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

async function benchKind(mlx, kind, pushes) {
  const rows = [];
  for (const n of [1, pushes]) {
    const dir = path.join(WORK, `${kind}-${n}`);
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
      await morePushes(mlx, remote, dir, n - 1);
      const generateSeconds = (performance.now() - genStart) / 1000;
      const requests = await countIndexRequests(mlx, remote, dir);
      const pullSeconds = freshPull(repo, dir);
      rows.push({ kind, pushes: n, generateSeconds, pullSeconds, ...requests });
      console.log(JSON.stringify(rows.at(-1)));
    } finally {
      s3?.stop();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }
  const [one, many] = rows;
  console.log(`${kind}: ${many.pushes} pushes: fresh pull ${many.pullSeconds.toFixed(2)} s vs ${one.pullSeconds.toFixed(2)} s after 1 push (${(many.pullSeconds / one.pullSeconds).toFixed(2)}x); index GETs ${many.indexGets} + ${many.consolidatedGets} consolidated; ${many.lists} listings of ${many.listedKeys} keys (S3: ${kind === 's3rver' ? many.listedKeys / 1000 : '-'} pages)`);
  return rows;
}

async function main() {
  fs.rmSync(WORK, { recursive: true, force: true });
  fs.mkdirSync(WORK, { recursive: true });
  try {
    const mlx = await loadMlx();
    if (!CONSOLIDATE) mlx.PUSH_POLICY.minUnconsolidated = Number.MAX_SAFE_INTEGER;
    console.log(`pushes benchmark: ${os.cpus().length} CPUs, node ${process.version}, load ${os.loadavg().map((n) => n.toFixed(2)).join(' ')}, consolidation ${CONSOLIDATE ? 'on' : 'off'}`);
    await benchKind(mlx, 'dir', PUSHES);
    if (PUSHES_S3 > 0) await benchKind(mlx, 's3rver', PUSHES_S3);
  } finally {
    if (!process.env.BENCH_KEEP) fs.rmSync(WORK, { recursive: true, force: true });
  }
}

await main();
