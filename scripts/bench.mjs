#!/usr/bin/env node
// Benchmarks mlx add / re-add / status / checkout on generated workloads, side by side with git,
// git-lfs and b3sum measured in the same run on the same (page-cached) data; then mlx push / fresh
// pull against a directory remote and a local S3 server (s3rver, child process), beside
// `git lfs push` to a local bare repository and `cp`, and the bytes a new version of the CSV sends.
// Then the history benchmarks: `mlx checkout <rev>` between two versions of a tree that differ in 1%
// of the files (beside `git checkout`), `mlx diff` across 100 commits (beside `git diff --stat`) and
// `mlx gc` of a cache of 100,000 objects of which half are no longer needed (beside `rm -rf`).
//
//   npm run bench                    full run: 1 GiB file, 20,000 x 4 KiB files, 256 MiB CSV, history
//   BENCH_SCALE=0.1 npm run bench    every workload scaled down, for a quick check
//   BENCH_KEEP=1 npm run bench       keep the generated repos in .bench/work for inspection
//   BENCH_REMOTE=0 npm run bench     local operations only (no push / pull / s3rver)
//   BENCH_HISTORY=0 npm run bench    skip the history benchmarks (checkout <rev>, diff over commits, gc)
//   BENCH_REPEAT=1 npm run bench     run each push / pull / cp comparison once (default: fastest of 3)
//   BENCH_ONLY=history npm run bench only these workloads, comma-separated: big, many, csv (or base
//                                    for all three), rev, diff, gc (or history for all three), scale
//
// Scale mode (scripts/bench-scale.mjs; not part of the default run): N files of 1-4 KiB in one tracked
// directory; add, no-op status, status after a 1% edit, add of the edit, diff, push to a directory
// remote, fresh clone + pull, checkout after deleting the data and gc, each with wall seconds, seconds
// per 1,000 files and peak RSS, beside git status / git add / git diff / cp -r on the same files; add +
// push of 20,000 of them beside restic backup; start-up (mlx status in an empty repo beside node -e 0,
// with hyperfine); 5,000 files of 200 B (remote bytes); a remote after 10,000 pushes; then the issue's target table, met or not.
//   BENCH_FILES=100000 npm run bench    the scale mode alone, with N files (default 100,000)
//   BENCH_ONLY=scale npm run bench      the same (combine with other keys to run those too)
//   BENCH_PER_DIR=1000                  files per sub-directory of the tracked directory (0: all in one)
//   BENCH_RESTIC_FILES=20000            files of the add + push vs restic backup comparison (0: skip)
//   BENCH_BIG_GIB=8                     also a file of this many GiB: add beside b3sum --num-threads 1
//                                       and cp, push and fresh pull (copies, hard links) beside cp
//   BENCH_TINY_FILES=5000               files of 200 B for the remote-size check (0: skip)
//   BENCH_PUSHES=10000                  pushes to the remote whose fresh pull is timed against one
//                                       push's (directory remote; 0: skip; scripts/bench-pushes.mjs)
//   BENCH_PUSHES_S3=10000               the same for s3rver (default BENCH_PUSHES; 0: skip)
//   BENCH_FILES=0                       no N-file workload: only the other scale measurements
//   BENCH_TIMEOUT_MIN=15                minutes after which one timed command is stopped (any mode)
//
// Comparison tools are optional; missing ones are skipped with a note. Peak RSS needs GNU time
// (/usr/bin/time, Debian package `time`). The S3 server is s3rver (a devDependency).
import { spawn, spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { benchScale, scaleSettings } from './bench-scale.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const MLX = path.join(ROOT, 'bin', 'mlx.js');
const BENCH_DIR = path.join(ROOT, '.bench');
const WORK_DIR = path.join(BENCH_DIR, 'work');
const RESULTS_FILE = path.join(BENCH_DIR, 'results.json');
const TIME_OUT = path.join(BENCH_DIR, 'time.out');
const SCALE = parseScale(process.env.BENCH_SCALE);
const MiB = 1 << 20;
// A timed command is stopped after this long (BENCH_TIMEOUT_MIN; a million-file add may need more).
const CMD_TIMEOUT_MS = (Number(process.env.BENCH_TIMEOUT_MIN) || 15) * 60 * 1000;
// Other work on the machine skews wall times; recorded so a noisy run can be recognised.
const LOAD_AT_START = os.loadavg().map((n) => +n.toFixed(2));

// Children get a predictable environment: no prompts, no colour, no user/system git config.
// The only S3 service the children talk to is the local s3rver, whose fixed keys are S3RVER/S3RVER;
// any profile or session token of the user's own would only get in the way.
const S3_KEY = 'S3RVER';
const CHILD_ENV = {
  ...process.env,
  GIT_TERMINAL_PROMPT: '0',
  GIT_CONFIG_NOSYSTEM: '1',
  GIT_CONFIG_GLOBAL: '/dev/null',
  // No automatic (detached, background) git gc / maintenance after a commit: it would compete with
  // the measurements and race the clean-up of the repos. Where packing matters it runs explicitly.
  GIT_CONFIG_COUNT: '2',
  GIT_CONFIG_KEY_0: 'gc.auto',
  GIT_CONFIG_VALUE_0: '0',
  GIT_CONFIG_KEY_1: 'maintenance.auto',
  GIT_CONFIG_VALUE_1: 'false',
  NO_COLOR: '1',
  AWS_ACCESS_KEY_ID: S3_KEY,
  AWS_SECRET_ACCESS_KEY: S3_KEY,
};
for (const k of ['AWS_PROFILE', 'AWS_SESSION_TOKEN', 'AWS_CONFIG_FILE', 'AWS_SHARED_CREDENTIALS_FILE']) delete CHILD_ENV[k];
const REMOTE = process.env.BENCH_REMOTE !== '0';
// Transfers and the copies they are compared with run this many times each, and the fastest run
// counts: on a shared machine the noise (writeback, page allocation) only ever adds time.
const REPEAT = Math.max(1, Number(process.env.BENCH_REPEAT ?? 3) || 1);
const HISTORY = process.env.BENCH_HISTORY !== '0';
// BENCH_FILES alone asks for the scale mode alone.
const ONLY = parseOnly(process.env.BENCH_ONLY ?? (process.env.BENCH_FILES ? 'scale' : undefined));
const S3RVER_SCRIPT = path.join(ROOT, 'test', 'helpers', 's3rver-process.mjs');
const S3_BUCKET = 'mlx-bench';
// Commits in the bench repos need an identity; the user's global config is deliberately not read.
const GIT_ID = ['-c', 'user.name=mlx bench', '-c', 'user.email=bench@localhost'];

function parseScale(raw) {
  if (raw === undefined || raw === '') return 1;
  const n = Number(raw);
  if (!(n > 0)) throw new Error(`BENCH_SCALE must be a positive number, got ${JSON.stringify(raw)}`);
  return n;
}

/** BENCH_ONLY: workload keys and groups (base: big, many, csv; history: rev, diff, gc). */
function parseOnly(raw) {
  if (raw === undefined || raw.trim() === '') return null;
  const valid = ['base', 'big', 'many', 'csv', 'history', 'rev', 'diff', 'gc', 'scale'];
  const names = raw.split(',').map((n) => n.trim()).filter(Boolean);
  const bad = names.filter((n) => !valid.includes(n));
  if (bad.length > 0) throw new Error(`BENCH_ONLY: unknown workload(s) ${bad.join(', ')}; use ${valid.join(', ')}`);
  return new Set(names);
}

const selected = (key, group) => ONLY === null || ONLY.has(key) || ONLY.has(group);

// ---------------------------------------------------------------- running and measuring commands

/** Runs a command untimed; throws with its stderr when it fails. */
function run(cmd, args, cwd, { allowFail = false } = {}) {
  const r = spawnSync(cmd, args, { cwd, env: CHILD_ENV, encoding: 'utf8', maxBuffer: 64 * MiB, timeout: CMD_TIMEOUT_MS });
  if (!allowFail && (r.error || r.status !== 0)) {
    throw new Error(`${cmd} ${args.join(' ')} (in ${cwd}) failed: ${r.error?.message ?? `exit ${r.status}`}\n${r.stderr ?? ''}`);
  }
  return r;
}

function has(cmd, args) {
  const r = spawnSync(cmd, args, { env: CHILD_ENV, encoding: 'utf8' });
  return !r.error && r.status === 0 ? (r.stdout || r.stderr).trim().split('\n')[0] : null;
}

/** GNU time reports the child's own peak RSS; the parent's wall clock covers the whole command. */
const GNU_TIME = has('/usr/bin/time', ['-f', '%M', 'true']) !== null ? '/usr/bin/time' : null;

/**
 * Runs one timed command and returns wall seconds, peak RSS (MiB) and CPU seconds of the child.
 * `sync` first, so writeback left over from the previous step does not land in this one's time.
 */
function measure(cmd, args, cwd) {
  spawnSync('sync');
  const argv = GNU_TIME ? [GNU_TIME, ['-f', '%M %U %S', '-o', TIME_OUT, cmd, ...args]] : [cmd, args];
  const t0 = process.hrtime.bigint();
  const r = spawnSync(argv[0], argv[1], { cwd, env: CHILD_ENV, encoding: 'utf8', maxBuffer: 256 * MiB, timeout: CMD_TIMEOUT_MS, stdio: ['ignore', 'pipe', 'pipe'] });
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  if (r.error || r.status !== 0) {
    throw new Error(`${cmd} ${args.join(' ')} (in ${cwd}) failed: ${r.error?.message ?? `exit ${r.status}`}\n${r.stderr}`);
  }
  let rssMiB = null;
  let cpuSeconds = null;
  if (GNU_TIME) {
    // The last line holds our format; a line before it may carry a note about the exit status.
    const [rssKiB, user, sys] = fs.readFileSync(TIME_OUT, 'utf8').trim().split('\n').at(-1).split(' ').map(Number);
    rssMiB = rssKiB / 1024;
    cpuSeconds = user + sys;
  }
  return { seconds, rssMiB, cpuSeconds, stdout: r.stdout };
}

/**
 * `timed` REPEAT times, each after an untimed `setup(i)`: the fastest measurement, with every run's
 * seconds in `samples`.
 */
function fastestOf(setup, timed) {
  let best = null;
  const samples = [];
  for (let i = 0; i < REPEAT; i++) {
    setup?.(i);
    const m = timed(i);
    samples.push(m.seconds);
    if (!best || m.seconds < best.seconds) best = m;
  }
  return { ...best, samples };
}

/** "best of 3: 1.2 / 1.4 / 1.3 s", or nothing for a single run. */
function samplesNote(m) {
  return m.samples && m.samples.length > 1 ? `; best of ${m.samples.length}: ${m.samples.map((x) => x.toFixed(2)).join(' / ')} s` : '';
}

/** Reads every file once so the timed commands all start from the page cache (we cannot drop it). */
function warmUp(paths) {
  const buf = Buffer.allocUnsafe(4 * MiB);
  for (const file of paths) {
    const fd = fs.openSync(file, 'r');
    try {
      while (fs.readSync(fd, buf, 0, buf.length, null) > 0);
    } finally {
      fs.closeSync(fd);
    }
  }
}

// ---------------------------------------------------------------- workload generation

/** Random bytes are incompressible and unique, so no tool can win by compression or dedup. */
function writeRandomFile(file, bytes) {
  const buf = Buffer.allocUnsafe(Math.min(bytes, 8 * MiB));
  const fd = fs.openSync(file, 'w');
  try {
    for (let left = bytes; left > 0; left -= buf.length) {
      const chunk = left >= buf.length ? buf : buf.subarray(0, left);
      crypto.randomFillSync(chunk);
      fs.writeSync(fd, chunk);
    }
  } finally {
    fs.closeSync(fd);
  }
}

/** `count` random files of `size` bytes spread over sub-directories of `perDir` files each. */
function writeRandomTree(dir, count, size, perDir) {
  const files = [];
  const buf = Buffer.allocUnsafe(size);
  for (let i = 0; i < count; i++) {
    const sub = path.join(dir, `d${String(Math.floor(i / perDir)).padStart(3, '0')}`);
    if (i % perDir === 0) fs.mkdirSync(sub, { recursive: true });
    const file = path.join(sub, `f${String(i % perDir).padStart(4, '0')}.bin`);
    fs.writeFileSync(file, crypto.randomFillSync(buf));
    files.push(file);
  }
  return files;
}

/** mulberry32: tiny deterministic PRNG, so the CSV (and its compressibility) is the same every run. */
function prng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** One row of the generated CSV. */
const csvRow = (id, rand) =>
  `${id},${1_700_000_000 + id * 10},${Math.floor(rand() * 64)},${(rand() * 2 - 1).toFixed(6)},${(rand() * 2 - 1).toFixed(6)},` +
  `${(rand() * 9.81).toFixed(4)},${(20 + rand() * 5).toFixed(2)},${rand() < 0.1 ? 1 : 0}\n`;

/** A numeric CSV of about `bytes` bytes (whole rows), like a typical feature table. */
function writeCsv(file, bytes) {
  const rand = prng(42);
  const fd = fs.openSync(file, 'w');
  let written = fs.writeSync(fd, 'id,timestamp,sensor,x,y,z,temperature,label\n');
  let id = 0;
  try {
    while (written < bytes) {
      const rows = [];
      for (let i = 0; i < 16384; i++, id++) {
        rows.push(csvRow(id, rand));
      }
      let text = rows.join('');
      if (written + text.length > bytes) text = text.slice(0, text.lastIndexOf('\n', bytes - written - 1) + 1) || rows[0];
      written += fs.writeSync(fd, text);
    }
  } finally {
    fs.closeSync(fd);
  }
  return written;
}

/**
 * Version 2 of the CSV at `v1`, written to `v2`: five rows in the middle edited so that they get
 * longer (every later byte shifts, which defeats fixed-size chunking but not content-defined
 * chunking), and 1% more rows appended at the end.
 */
function writeCsvV2(v1, v2) {
  const buf = fs.readFileSync(v1);
  const rand = prng(7);
  const parts = [];
  let pos = 0;
  let lengthDelta = 0;
  for (const frac of [0.3, 0.4, 0.5, 0.6, 0.7]) {
    const start = buf.indexOf(0x0a, Math.floor(buf.length * frac)) + 1;
    const end = buf.indexOf(0x0a, start) + 1;
    if (start <= pos || end <= start) continue;
    const f = buf.toString('latin1', start, end - 1).split(',');
    // Two more digits and a label of -1: the row grows by about 3 bytes (x keeps its width but for the sign).
    f[3] = (rand() * 2 - 1).toFixed(6);
    f[6] = (20 + rand() * 5).toFixed(4);
    f[7] = '-1';
    const row = Buffer.from(`${f.join(',')}\n`, 'latin1');
    parts.push(buf.subarray(pos, start), row);
    lengthDelta += row.length - (end - start);
    pos = end;
  }
  parts.push(buf.subarray(pos));
  const lastRow = buf.lastIndexOf(0x0a, buf.length - 2) + 1;
  let id = Number(buf.toString('latin1', lastRow, buf.indexOf(0x2c, lastRow))) + 1;
  const appendTarget = Math.ceil(buf.length * 0.01);
  const appended = [];
  let appendedBytes = 0;
  for (; appendedBytes < appendTarget; id++) {
    const row = csvRow(id, rand);
    appended.push(row);
    appendedBytes += row.length;
  }
  parts.push(Buffer.from(appended.join(''), 'latin1'));
  const fd = fs.openSync(v2, 'w');
  try {
    for (const p of parts) fs.writeSync(fd, p);
  } finally {
    fs.closeSync(fd);
  }
  return { bytes: fs.statSync(v2).size, editedRows: (parts.length - 2) / 2, lengthDelta, appendedRows: appended.length, appendedBytes };
}

/**
 * Each workload: a name, the path tracked inside every repo, how to generate it, and which remote
 * benchmark follows the local one ('transfer': push and fresh pull; 'versions': push v1, then v2).
 */
function workloads() {
  const bigBytes = Math.max(MiB, Math.round(1024 * MiB * SCALE));
  const fileCount = Math.max(100, Math.round(20_000 * SCALE));
  const csvBytes = Math.max(MiB, Math.round(256 * MiB * SCALE));
  return [
    {
      name: `${fmtBytes(bigBytes)} random file`,
      key: 'big',
      remote: 'transfer',
      tracked: 'big.bin',
      lfsPattern: 'big.bin',
      generate: (dst) => writeRandomFile(dst, bigBytes),
    },
    {
      name: `${fileCount} x 4 KiB files`,
      key: 'many',
      remote: 'transfer',
      tracked: 'files',
      lfsPattern: 'files/**',
      perFile: true,
      generate: (dst) => writeRandomTree(dst, fileCount, 4096, 200),
    },
    {
      name: `${fmtBytes(csvBytes)} CSV`,
      key: 'csv',
      remote: 'versions',
      tracked: 'table.csv',
      lfsPattern: 'table.csv',
      generate: (dst) => writeCsv(dst, csvBytes),
    },
  ];
}

/** Every regular file under `p` (or `p` itself), sorted so runs are comparable. */
function listFiles(p) {
  if (!fs.statSync(p).isDirectory()) return [p];
  return fs.readdirSync(p, { recursive: true, withFileTypes: true })
    .filter((d) => d.isFile())
    .map((d) => path.join(d.parentPath ?? d.path, d.name))
    .sort();
}

/**
 * Puts the source data into a repo by hard links (copy when that fails): no extra disk, no dirty
 * pages to write back mid-measurement, and every tool reads the very same inodes.
 */
function linkInto(src, dst) {
  if (fs.statSync(src).isDirectory()) {
    fs.mkdirSync(dst, { recursive: true });
    for (const name of fs.readdirSync(src)) linkInto(path.join(src, name), path.join(dst, name));
    return;
  }
  try {
    fs.linkSync(src, dst);
  } catch {
    fs.copyFileSync(src, dst);
  }
}

// ---------------------------------------------------------------- the tools being compared

function detectTools() {
  return {
    mlx: has(process.execPath, [MLX, '--version']),
    git: has('git', ['--version']),
    gitLfs: has('git', ['lfs', 'version']),
    b3sum: has('b3sum', ['--version']),
    gnuTime: GNU_TIME ? has(GNU_TIME, ['--version']) : null,
  };
}

/** A fresh git repo (git init) at `dir`; `setup` adds tool-specific set-up before the data arrives. */
function freshRepo(dir, setup) {
  fs.mkdirSync(dir, { recursive: true });
  run('git', ['init', '-q'], dir);
  setup?.(dir);
  return dir;
}

const mlx = (...args) => [process.execPath, [MLX, '--json', ...args]];

/**
 * The timed steps per tool. Each step is [operation, argv, check?]; `check` inspects the result so
 * a benchmark that silently measured the wrong thing (e.g. a "no-op" that re-hashed) is noticed.
 * 'rm' steps delete the work-tree data untimed before a checkout.
 */
function mlxSteps(w) {
  const hashed = (want) => (r) => {
    const n = JSON.parse(r.stdout).hashedFiles;
    if (want === 0 && n !== 0) return `expected no hashing, but mlx hashed ${n} file(s)`;
    return n === undefined ? null : `hashed ${n} file(s)`;
  };
  return [
    ['add', mlx('add', w.tracked), hashed()],
    ['re-add (no-op)', mlx('add', w.tracked), hashed(0)],
    ['status (clean)', mlx('status'), hashed(0)],
    ['rm'],
    ['checkout (after rm)', mlx('checkout')],
    ['status (after checkout)', mlx('status'), hashed()],
  ];
}

function gitSteps(w) {
  return [
    ['add', ['git', ['add', '--', w.tracked]]],
    ['re-add (no-op)', ['git', ['add', '--', w.tracked]]],
    ['status (clean)', ['git', ['status', '--porcelain']]],
    ['rm'],
    ['checkout (after rm)', ['git', ['checkout', '--', w.tracked]]],
    ['status (after checkout)', ['git', ['status', '--porcelain']]],
  ];
}

/** b3sum's single-threaded hash is the floor for anything that must read and hash the data once. */
function b3sumSteps(w, files, repo) {
  return [['hash (1 thread)', ['b3sum', ['--num-threads', '1', ...files.map((f) => path.relative(repo, f))]]]];
}

function runSteps(workload, tool, repo, steps, rows) {
  for (const [op, argv, check] of steps) {
    if (op === 'rm') {
      fs.rmSync(path.join(repo, workload.tracked), { recursive: true, force: true });
      continue;
    }
    const m = measure(argv[0], argv[1], repo);
    const note = check?.(m) ?? null;
    if (note?.startsWith('expected')) console.log(`  ! ${tool} ${op}: ${note}`);
    record(rows, workload, tool, op, m, { note });
  }
}

/**
 * Adds one result row and prints it. `extra` may override bytes/files and add `compareTo` (the mlx
 * operation the ratio is taken against) and `details` (shown in the table's last column).
 */
function record(rows, workload, tool, operation, m, extra = {}) {
  const row = { workload: workload.name, workloadKey: workload.key, tool, operation, seconds: m.seconds, bytes: workload.bytes, files: workload.fileCount, peakRssMiB: m.rssMiB, cpuSeconds: m.cpuSeconds, note: null, ...extra };
  rows.push(row);
  const rss = m.rssMiB === null ? '' : `${m.rssMiB.toFixed(0)} MiB RSS`;
  console.log(`  ${tool.padEnd(8)} ${operation.padEnd(24)} ${fmtSecs(m.seconds).padStart(9)}  ${rss}${row.note ? `  (${row.note})` : ''}${row.details ? `  [${row.details}]` : ''}`);
  return row;
}

/**
 * Generates one workload, then runs every available tool on it in its own fresh repo; then, with
 * the repos as the local steps left them, the workload's remote benchmark.
 */
function benchWorkload(workload, tools, rows, ctx) {
  const dir = path.join(WORK_DIR, workload.key);
  const src = path.join(dir, 'source', workload.tracked);
  fs.mkdirSync(path.dirname(src), { recursive: true });
  const t0 = Date.now();
  workload.generate(src);
  const srcFiles = listFiles(src);
  workload.fileCount = srcFiles.length;
  workload.bytes = srcFiles.reduce((n, f) => n + fs.statSync(f).size, 0);
  console.log(`\n== ${workload.name}: ${workload.fileCount} file(s), ${fmtBytes(workload.bytes)} (generated in ${((Date.now() - t0) / 1000).toFixed(1)} s)`);

  // All repos get their links before anything is timed, so no inode changes during measurements.
  const plans = [];
  plans.push(['mlx', freshRepo(path.join(dir, 'mlx'), (r) => run(process.execPath, [MLX, 'init'], r)), mlxSteps(workload)]);
  if (tools.git) plans.push(['git', freshRepo(path.join(dir, 'git')), gitSteps(workload)]);
  if (tools.gitLfs) {
    const repo = freshRepo(path.join(dir, 'git-lfs'), (r) => {
      run('git', ['lfs', 'install', '--local'], r);
      run('git', ['lfs', 'track', workload.lfsPattern], r);
      run('git', ['add', '.gitattributes'], r);
    });
    plans.push(['git-lfs', repo, gitSteps(workload)]);
  }
  for (const [, repo] of plans) linkInto(src, path.join(repo, workload.tracked));
  if (tools.b3sum) {
    const repo = path.join(dir, 'source');
    plans.push(['b3sum', repo, b3sumSteps(workload, srcFiles, repo)]);
  }

  for (const [tool, repo, steps] of plans) {
    warmUp(srcFiles);
    runSteps(workload, tool, repo, steps, rows);
  }
  if (REMOTE && workload.remote) {
    const setup = { dir, src, mlxRepo: path.join(dir, 'mlx'), lfsRepo: tools.gitLfs ? path.join(dir, 'git-lfs') : null };
    attempt(ctx, workload, 'remote benchmark', () => (workload.remote === 'transfer' ? benchTransfer : benchVersions)(workload, ctx, setup, rows));
  }
  printHeadlines(workload, rows);
  if (!process.env.BENCH_KEEP) fs.rmSync(dir, { recursive: true, force: true });
}

// ---------------------------------------------------------------- remotes

/**
 * Runs one remote benchmark step and returns its result, or null when it failed: the failure is
 * printed, listed at the end and fails the run, but does not cost the other measurements.
 */
function attempt(ctx, workload, what, fn) {
  try {
    return fn();
  } catch (e) {
    const lines = String(e.message).split('\n').map((l) => l.trim()).filter(Boolean);
    ctx.failures.push(`${workload.name}: ${what}: ${lines.length > 1 ? `${lines[0]} -- ${lines.at(-1)}` : lines[0]}`);
    console.log(`  ! ${what} failed: ${String(e.message).trimEnd()}`);
    return null;
  }
}

/** {@link attempt} for a step that waits. */
async function attemptAsync(ctx, workload, what, fn) {
  try {
    return await fn();
  } catch (e) {
    return attempt(ctx, workload, what, () => {
      throw e;
    });
  }
}

/**
 * s3rver in its own process (our spawnSync calls would starve an in-process server). Resolves once
 * it prints {"port":N}; `stop()` sends SIGTERM (SIGKILL after 5 s) and waits for the exit.
 */
async function startS3rver(dir) {
  fs.mkdirSync(dir, { recursive: true });
  const child = spawn(process.execPath, [S3RVER_SCRIPT, dir, S3_BUCKET], { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
  const exited = new Promise((resolve) => child.once('exit', resolve));
  const killOnExit = () => child.kill('SIGKILL'); // last resort if we exit without stop()
  process.once('exit', killOnExit);
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    }
    process.removeListener('exit', killOnExit);
  };
  try {
    const port = await new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('s3rver did not report its port within 30 s')), 30_000);
      let buf = '';
      child.stdout.setEncoding('utf8');
      child.stdout.on('data', (d) => {
        buf += d; // keeps draining after the first line, so the pipe can never fill up
        const nl = buf.indexOf('\n');
        if (nl < 0) return;
        clearTimeout(timer);
        try {
          resolve(JSON.parse(buf.slice(0, nl)).port);
        } catch {
          reject(new Error(`s3rver printed ${JSON.stringify(buf.slice(0, nl))}, not {"port":N}`));
        }
      });
      child.once('error', (e) => (clearTimeout(timer), reject(e)));
      child.once('exit', (code, signal) => (clearTimeout(timer), reject(new Error(`s3rver exited (${signal ?? `code ${code}`}) before listening`))));
    });
    return { endpoint: `http://127.0.0.1:${port}`, dir, bucket: S3_BUCKET, pid: child.pid, stop };
  } catch (e) {
    await stop();
    throw e;
  }
}

/**
 * A directory on another filesystem (tmpfs /dev/shm) for a bare repo that git-lfs must copy into:
 * on the same filesystem its file transfer agent hard-links objects and moves no data at all.
 */
function otherFilesystemDir() {
  try {
    if (fs.statSync('/dev/shm').dev === fs.statSync(WORK_DIR).dev) return null;
    return fs.mkdtempSync('/dev/shm/mlx-bench-');
  } catch {
    return null;
  }
}

/** The remotes a workload pushes to: a directory, and a prefix of the s3rver bucket when it runs. */
function remotesFor(workload, dir, ctx) {
  const list = [{ name: 'dir', label: 'dir remote', url: path.join(dir, 'remote-dir'), root: path.join(dir, 'remote-dir'), s3: false, opts: [] }];
  if (ctx.s3) {
    list.push({
      name: 's3',
      label: 's3rver',
      url: `s3://${ctx.s3.bucket}/${workload.key}`,
      root: path.join(ctx.s3.dir, ctx.s3.bucket, workload.key),
      s3: true,
      opts: ['-o', `endpoint=${ctx.s3.endpoint}`],
    });
  }
  return list;
}

/**
 * What a remote stores, path -> bytes: every file of a directory remote; for s3rver, its object
 * bodies (`<key>._S3rver_object`, one per S3 object; it keeps metadata and md5 files beside them).
 */
function remoteFiles(remote) {
  const out = new Map();
  if (!fs.existsSync(remote.root)) return out;
  for (const f of listFiles(remote.root)) if (!remote.s3 || f.endsWith('._S3rver_object')) out.set(f, fs.statSync(f).size);
  return out;
}

function commitAll(repo, message) {
  run('git', ['add', '-A'], repo);
  run('git', [...GIT_ID, 'commit', '-q', '-m', message], repo);
}

/** sha256 over every file's relative path and sha256: a check independent of mlx's own hashing. */
function treeDigest(p) {
  if (!fs.existsSync(p)) return null;
  const buf = Buffer.allocUnsafe(4 * MiB);
  const all = crypto.createHash('sha256');
  for (const file of listFiles(p)) {
    const h = crypto.createHash('sha256');
    const fd = fs.openSync(file, 'r');
    try {
      for (let n; (n = fs.readSync(fd, buf, 0, buf.length, null)) > 0; ) h.update(buf.subarray(0, n));
    } finally {
      fs.closeSync(fd);
    }
    all.update(`${path.relative(p, file)}\0${h.digest('hex')}\n`);
  }
  return all.digest('hex');
}

const pct = (part, whole) => `${((100 * part) / whole).toFixed(2)}%`;
const plural = (n, word) => `${n} ${word}${n === 1 ? '' : 's'}`;

/**
 * Timed `mlx push -r <remote>`; records what the remote stores afterwards and what this push added.
 * `describe(result, addedBytes)` replaces the default details text.
 */
function mlxPush(rows, workload, repo, remote, operation, { describe, repeat = false, ...extra } = {}) {
  warmUp(listFiles(path.join(repo, '.mlx', 'cache')));
  const before = remoteFiles(remote);
  const stored = new Set(fs.existsSync(remote.root) ? listFiles(remote.root) : []);
  // A repeated push first removes every file (s3rver: object, metadata and md5 files) the last one added.
  const undo = () => {
    for (const f of fs.existsSync(remote.root) ? listFiles(remote.root) : []) if (!stored.has(f)) fs.rmSync(f, { force: true });
  };
  const timed = () => measure(...mlx('push', '-r', remote.name), repo);
  const m = repeat ? fastestOf((i) => i > 0 && undo(), timed) : timed();
  const res = JSON.parse(m.stdout);
  const after = remoteFiles(remote);
  const added = [...after].filter(([f]) => !before.has(f));
  const addedBytes = added.reduce((n, [, size]) => n + size, 0);
  const details = (describe?.(res, addedBytes) ??
    `${plural(res.uploadedObjects, 'object')} in ${plural(res.packs, 'pack')}, ${fmtBytes(res.bytesSent)} sent; remote holds ${plural(after.size, remote.s3 ? 'S3 object' : 'file')}`) + samplesNote(m);
  return record(rows, workload, 'mlx', operation, m, { details, remote: remote.label, push: res, remoteFiles: after.size, remoteFilesAdded: added.length, remoteBytesAdded: addedBytes, ...extra });
}

/**
 * A fresh pull: `git clone` of the repo (pointers and config only, empty cache), timed `mlx pull`
 * there, then (untimed) every pulled byte compared with the expected digest.
 */
function mlxFreshPull(rows, workload, ctx, repo, remote, operation, digest, { repeat = false, cacheType, ...extra } = {}) {
  const clone = path.join(path.dirname(repo), `clone-${remote.name}`);
  const freshClone = () => {
    fs.rmSync(clone, { recursive: true, force: true });
    run('git', ['clone', '-q', repo, clone], path.dirname(repo));
    if (cacheType) run(process.execPath, [MLX, 'config', '--local', 'cache.type', cacheType], clone);
  };
  try {
    const timed = () => measure(...mlx('pull', '-r', remote.name), clone);
    const m = repeat ? fastestOf(freshClone, timed) : (freshClone(), timed());
    const res = JSON.parse(m.stdout);
    const verified = treeDigest(path.join(clone, workload.tracked)) === digest;
    if (!verified) {
      ctx.failures.push(`${workload.name}: ${operation}: the pulled files differ from the pushed ones`);
      console.log(`  ! ${operation}: the pulled files differ from the pushed ones`);
    }
    const details = `${plural(res.fetch.fetched, 'object')}, ${fmtBytes(res.fetch.bytesReceived)} received; bytes ${verified ? 'verified' : 'DIFFER'}${samplesNote(m)}`;
    return record(rows, workload, 'mlx', operation, m, { details, remote: remote.label, pull: { fetched: res.fetch.fetched, bytesReceived: res.fetch.bytesReceived }, verified, ...extra });
  } finally {
    if (!process.env.BENCH_KEEP) fs.rmSync(clone, { recursive: true, force: true });
  }
}

/**
 * A bare repo as remote `name` of a git-lfs repo. No LFS server and no lfs.* config is needed: for a
 * path (or file://) remote git-lfs (3.x) runs its built-in standalone transfer agent
 * (`lfs-standalone-file`), which puts objects into <bare>/lfs/objects, hard-linked when it can.
 */
function lfsBareRemote(repo, name, bare) {
  run('git', ['init', '-q', '--bare', bare], path.dirname(bare));
  run('git', ['remote', 'add', name, bare], repo);
}

/** Timed `git lfs push --all <remote>`: the LFS objects only, as mlx push sends no git objects. */
function lfsPush(rows, workload, repo, remoteName, bare, operation, { describe, repeat = false, ...extra } = {}) {
  warmUp(listFiles(path.join(repo, '.git', 'lfs', 'objects')));
  const store = path.join(bare, 'lfs', 'objects');
  const stored = () => new Map(fs.existsSync(store) ? listFiles(store).map((f) => [f, fs.statSync(f)]) : []);
  const before = stored();
  // A repeated push starts again from a bare repo without LFS objects.
  const timed = () => measure('git', ['lfs', 'push', '--all', remoteName], repo);
  const m = repeat ? fastestOf((i) => i > 0 && fs.rmSync(store, { recursive: true, force: true }), timed) : timed();
  const after = stored();
  const added = [...after].filter(([f]) => !before.has(f));
  const addedBytes = added.reduce((n, [, st]) => n + st.size, 0);
  const linked = added.filter(([, st]) => st.nlink > 1).length;
  const how = linked === 0 ? 'copied' : linked === added.length ? 'hard-linked' : `${linked} hard-linked`;
  const details = (describe?.(addedBytes, how) ?? `${plural(added.length, 'object')} ${how}, ${fmtBytes(addedBytes)}; remote holds ${plural(after.size, 'file')}`) + samplesNote(m);
  return record(rows, workload, 'git-lfs', operation, m, { details, remoteFiles: after.size, remoteFilesAdded: added.length, remoteBytesAdded: addedBytes, hardLinked: linked, ...extra });
}

/** Push to every remote, a fresh pull from each, git-lfs push to local bare repos, and cp. */
function benchTransfer(w, ctx, { dir, src, mlxRepo, lfsRepo }, rows) {
  const digest = treeDigest(src);
  const remotes = remotesFor(w, dir, ctx);
  for (const r of remotes) run(process.execPath, [MLX, 'remote', 'add', r.name, r.url, ...r.opts], mlxRepo);
  commitAll(mlxRepo, 'pointers'); // so that a clone has the pointers and the remotes
  const pushed = remotes.filter((r) => attempt(ctx, w, `push (${r.label})`, () => mlxPush(rows, w, mlxRepo, r, `push (${r.label})`, { repeat: true })));
  for (const r of pushed) attempt(ctx, w, `pull (${r.label})`, () => mlxFreshPull(rows, w, ctx, mlxRepo, r, `pull (${r.label})`, digest, { repeat: true }));
  // The default cache.type copies each file out of the cache (a second write of every byte); with
  // hard links the work tree shares the cache's read-only file, as DVC's hardlink mode does.
  const dirRemote = pushed.find((r) => !r.s3);
  if (dirRemote) {
    attempt(ctx, w, 'pull (dir, hardlink)', () =>
      mlxFreshPull(rows, w, ctx, mlxRepo, dirRemote, 'pull (dir, hardlink)', digest, { repeat: true, cacheType: 'hardlink' }),
    );
  }

  if (lfsRepo) {
    attempt(ctx, w, 'git-lfs push', () => {
      commitAll(lfsRepo, 'data');
      const same = path.join(dir, 'lfs-bare.git');
      lfsBareRemote(lfsRepo, 'origin', same);
      lfsPush(rows, w, lfsRepo, 'origin', same, 'push (bare repo)', { compareTo: 'push (dir remote)', repeat: true });
      if (!ctx.otherFs) return;
      const other = path.join(ctx.otherFs, `${w.key}.git`);
      lfsBareRemote(lfsRepo, 'tmpfs', other);
      try {
        lfsPush(rows, w, lfsRepo, 'tmpfs', other, 'push (bare, other fs)', { compareTo: 'push (dir remote)', repeat: true });
      } finally {
        fs.rmSync(other, { recursive: true, force: true });
      }
    });
  }

  attempt(ctx, w, 'cp', () => {
    const copy = path.join(dir, 'cp-copy');
    warmUp(listFiles(src));
    const m = fastestOf(() => fs.rmSync(copy, { recursive: true, force: true }), () => measure('cp', ['-r', src, copy], dir));
    fs.rmSync(copy, { recursive: true, force: true });
    const pulls = rows.filter((r) => r.workloadKey === w.key && r.tool === 'mlx' && r.operation.startsWith('pull'));
    const details = pulls.map((p) => `${p.operation} / cp = ${(p.seconds / m.seconds).toFixed(2)}x`).join(', ') + samplesNote(m);
    record(rows, w, 'cp', 'copy (cp -r, warm)', m, { compareTo: 'pull (dir remote)', details });
  });
}

/**
 * The CSV as two versions: push v1 everywhere, make v2 (rows edited in the middle, 1% appended),
 * `mlx add` + push it, and count what v2 sent and newly stored; then rebuild v2 in a fresh clone, and
 * in a clone that has v1 in its cache.
 */
function benchVersions(w, ctx, { dir, src, mlxRepo, lfsRepo }, rows) {
  const remotes = remotesFor(w, dir, ctx);
  for (const r of remotes) run(process.execPath, [MLX, 'remote', 'add', r.name, r.url, ...r.opts], mlxRepo);
  const pushed = remotes.filter((r) => attempt(ctx, w, `push v1 (${r.label})`, () => mlxPush(rows, w, mlxRepo, r, `push v1 (${r.label})`)));
  commitAll(mlxRepo, 'v1'); // the pointer of v1 and the remotes, for a clone that pulls v1 first
  // A bare repo git-lfs has to copy into (hard links would hide the cost), else one beside the others.
  const bare = lfsRepo ? (ctx.otherFs ? path.join(ctx.otherFs, `${w.key}.git`) : path.join(dir, 'lfs-bare.git')) : null;
  const lfsPushed = lfsRepo !== null && attempt(ctx, w, 'git-lfs push v1', () => {
    commitAll(lfsRepo, 'v1');
    lfsBareRemote(lfsRepo, 'origin', bare);
    return lfsPush(rows, w, lfsRepo, 'origin', bare, 'push v1 (bare repo)', { compareTo: 'push v1 (dir remote)' });
  }) !== null;

  const v2File = path.join(dir, 'v2', w.tracked);
  fs.mkdirSync(path.dirname(v2File), { recursive: true });
  const v2 = writeCsvV2(src, v2File);
  console.log(
    `  v2 of the CSV: ${v2.editedRows} rows in the middle edited (${v2.lengthDelta >= 0 ? '+' : ''}${v2.lengthDelta} bytes, so all later bytes shift), ` +
      `${v2.appendedRows} rows (${fmtBytes(v2.appendedBytes)}) appended: ${fmtBytes(v2.bytes)}`,
  );
  const v2Digest = treeDigest(v2File);
  for (const repo of [mlxRepo, lfsRepo].filter(Boolean)) {
    fs.rmSync(path.join(repo, w.tracked), { force: true });
    linkInto(v2File, path.join(repo, w.tracked));
  }
  const v2Extra = { bytes: v2.bytes, files: 1, csvV2: v2 };
  warmUp([v2File]);
  record(rows, w, 'mlx', 'add v2', measure(...mlx('add', w.tracked), mlxRepo), v2Extra);
  if (lfsRepo) record(rows, w, 'git-lfs', 'add v2', measure('git', ['add', '--', w.tracked], lfsRepo), v2Extra);

  const pushedV2 = pushed.filter((r) =>
    attempt(ctx, w, `push v2 (${r.label})`, () => {
      const row = mlxPush(rows, w, mlxRepo, r, `push v2 (${r.label})`, {
        ...v2Extra,
        describe: (res, added) =>
          `sent ${fmtBytes(res.bytesSent)} = ${pct(res.bytesSent, v2.bytes)}, stored ${fmtBytes(added)} = ${pct(added, v2.bytes)} of v2; ` +
          `${plural(res.uploadedObjects, 'object')}, ${fmtBytes(res.bytesDeduplicated)} deduplicated`,
      });
      row.sentPercent = (100 * row.push.bytesSent) / v2.bytes;
      row.storedPercent = (100 * row.remoteBytesAdded) / v2.bytes;
      if (row.sentPercent >= 10 || row.storedPercent >= 10) {
        ctx.warnings.push(`${w.name}: ${row.operation} sent ${row.sentPercent.toFixed(1)}% / stored ${row.storedPercent.toFixed(1)}% of the CSV (target < 10%)`);
      }
      return row;
    }),
  );
  if (lfsPushed) {
    attempt(ctx, w, 'git-lfs push v2', () => {
      commitAll(lfsRepo, 'v2');
      lfsPush(rows, w, lfsRepo, 'origin', bare, 'push v2 (bare repo)', {
        ...v2Extra,
        compareTo: 'push v2 (dir remote)',
        describe: (added, how) => `stored ${fmtBytes(added)} = ${pct(added, v2.bytes)} of v2 (${how})`,
      });
    });
  }
  if (bare && ctx.otherFs) fs.rmSync(bare, { recursive: true, force: true });
  // A fresh clone has to rebuild v2 from v1's chunks plus the new ones.
  commitAll(mlxRepo, 'v2');
  const from = pushedV2.at(-1);
  if (from) attempt(ctx, w, `pull v2 (${from.label})`, () => mlxFreshPull(rows, w, ctx, mlxRepo, from, `pull v2 (${from.label})`, v2Digest, v2Extra));
  // A clone that already pulled v1 takes the chunks v2 shares with it from its cache.
  if (from) attempt(ctx, w, `pull v2 over v1 (${from.label})`, () => mlxPullOverOlder(rows, w, ctx, mlxRepo, from, `pull v2 over v1 (${from.label})`, v2Digest, v2Extra));
}

/**
 * A clone checked out at the commit before HEAD pulls (untimed), moves to HEAD and pulls again
 * (timed): what the second pull downloads, and what it takes from the older version in its cache.
 */
function mlxPullOverOlder(rows, workload, ctx, repo, remote, operation, digest, extra) {
  const clone = path.join(path.dirname(repo), `clone-older-${remote.name}`);
  fs.rmSync(clone, { recursive: true, force: true });
  try {
    run('git', ['clone', '-q', repo, clone], path.dirname(repo));
    run('git', ['checkout', '-q', 'HEAD~1'], clone);
    run(process.execPath, [MLX, '-q', 'pull', '-r', remote.name], clone);
    run('git', ['checkout', '-q', '-'], clone);
    const m = measure(...mlx('pull', '-r', remote.name), clone);
    const res = JSON.parse(m.stdout);
    const verified = treeDigest(path.join(clone, workload.tracked)) === digest;
    if (!verified) {
      ctx.failures.push(`${workload.name}: ${operation}: the pulled files differ from the pushed ones`);
      console.log(`  ! ${operation}: the pulled files differ from the pushed ones`);
    }
    const { bytesReceived, bytesReused } = res.fetch;
    const details = `${fmtBytes(bytesReceived)} received = ${pct(bytesReceived, extra.bytes)}, ${fmtBytes(bytesReused)} reused from v1 in the cache; bytes ${verified ? 'verified' : 'DIFFER'}`;
    return record(rows, workload, 'mlx', operation, m, { details, remote: remote.label, pull: { fetched: res.fetch.fetched, bytesReceived, bytesReused }, verified, ...extra });
  } finally {
    if (!process.env.BENCH_KEEP) fs.rmSync(clone, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------- history: checkout <rev>, diff, gc

/**
 * The history workloads: a version switch that changes 1% of a tree, a diff across many commits,
 * and gc of a cache where half the objects are no longer needed. Each has its own fresh repos.
 */
function historyWorkloads() {
  const revFiles = Math.max(100, Math.round(20_000 * SCALE));
  const diffFiles = Math.max(100, Math.round(1_000 * SCALE));
  const commits = Math.max(5, Math.round(100 * SCALE));
  const gcFiles = Math.max(1_000, Math.round(50_000 * SCALE));
  return [
    {
      name: `${revFiles} x 4 KiB, v1 <-> v2 (1% differ)`,
      key: 'rev',
      files: revFiles,
      changed: Math.max(1, Math.round(revFiles / 100)),
      run: benchRevCheckout,
    },
    {
      name: `${diffFiles} x 1 KiB, ${commits} commits`,
      key: 'diff',
      files: diffFiles,
      commits,
      perCommit: Math.min(10, diffFiles),
      run: benchHistoryDiff,
    },
    {
      name: `gc, ${2 * gcFiles} tiny files in 2 commits`,
      key: 'gc',
      perVersion: gcFiles,
      run: benchGc,
    },
  ];
}

/** Runs one history workload in its own directory; a failure is listed, not fatal to the run. */
function benchHistory(w, tools, rows, ctx) {
  const dir = path.join(WORK_DIR, `history-${w.key}`);
  fs.mkdirSync(dir, { recursive: true });
  attempt(ctx, w, 'history benchmark', () => w.run(w, dir, tools, rows, ctx));
  printHeadlines(w, rows);
  if (!process.env.BENCH_KEEP) fs.rmSync(dir, { recursive: true, force: true });
}

/** `count` tiny files (a few bytes each, unique through `tag` and the index) in sub-directories of `perDir`. */
function writeTinyTree(dir, count, perDir, tag) {
  for (let i = 0; i < count; i++) {
    const sub = path.join(dir, `d${String(Math.floor(i / perDir)).padStart(3, '0')}`);
    if (i % perDir === 0) fs.mkdirSync(sub, { recursive: true });
    fs.writeFileSync(path.join(sub, `f${String(i % perDir).padStart(4, '0')}.txt`), `${tag} ${i}\n`);
  }
}

/** A new inode with new content: never writes through a link into a cache or another repo. */
function rewriteFile(file, data) {
  fs.rmSync(file, { force: true });
  fs.writeFileSync(file, data);
}

const secs = (t0) => ((Date.now() - t0) / 1000).toFixed(1);
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const medianMeasure = (ms) => ({
  seconds: median(ms.map((m) => m.seconds)),
  rssMiB: ms[0].rssMiB === null ? null : median(ms.map((m) => m.rssMiB)),
  cpuSeconds: ms[0].cpuSeconds === null ? null : median(ms.map((m) => m.cpuSeconds)),
});
const mlxRepo = (dir) => freshRepo(dir, (r) => run(process.execPath, [MLX, '-q', 'init'], r));

/**
 * `mlx checkout v1` from v2 and back, where v2 rewrote 1% of the files: only those should be
 * written (checked from the JSON), and the restored tree must be byte-identical to that version.
 * Beside it `git checkout v1` / `v2` in a plain git repo holding the same files.
 */
function benchRevCheckout(w, dir, tools, rows, ctx) {
  const t0 = Date.now();
  const srcRoot = path.join(dir, 'source');
  const srcFiles = writeRandomTree(path.join(srcRoot, 'files'), w.files, 4096, 200);
  w.fileCount = srcFiles.length;
  w.bytes = w.fileCount * 4096;
  const step = Math.floor(w.fileCount / w.changed);
  const changed = Array.from({ length: w.changed }, (_, i) => path.relative(srcRoot, srcFiles[i * step]));
  const v2Data = changed.map(() => crypto.randomBytes(4096));
  const digests = { v1: treeDigest(path.join(srcRoot, 'files')) };

  const repos = [['mlx', mlxRepo(path.join(dir, 'mlx'))]];
  if (tools.git) repos.push(['git', freshRepo(path.join(dir, 'git'))]);
  const mlxDir = repos[0][1];
  for (const [, repo] of repos) fs.cpSync(path.join(srcRoot, 'files'), path.join(repo, 'files'), { recursive: true });
  for (const [version, change] of [['v1', null], ['v2', () => changed.forEach((rel, i) => repos.forEach(([, r]) => rewriteFile(path.join(r, rel), v2Data[i])))]]) {
    change?.();
    run(process.execPath, [MLX, '-q', 'add', 'files'], mlxDir);
    for (const [, repo] of repos) {
      commitAll(repo, version); // mlx: the pointer (the data is ignored); git: the files themselves
      run('git', ['tag', version], repo);
    }
  }
  digests.v2 = treeDigest(path.join(mlxDir, 'files'));
  // Packed as git's auto gc would have packed them (the bench turns that off, see CHILD_ENV).
  if (tools.git) run('git', ['gc', '-q'], repos[1][1]);
  console.log(`\n== ${w.name}: ${w.fileCount} files, ${fmtBytes(w.bytes)}; v2 rewrites ${plural(w.changed, 'file')} (v1 and v2 committed and tagged in ${secs(t0)} s)`);

  const moves = [['v1', 'v2'], ['v2', 'v1']];
  for (const [tool, repo] of repos) {
    for (const [to, from] of moves) {
      const op = `checkout ${to} (from ${from})`;
      warmUp([...listFiles(path.join(repo, 'files')), ...listFiles(path.join(repo, tool === 'mlx' ? '.mlx/cache' : '.git/objects'))]);
      if (tool === 'git') {
        record(rows, w, 'git', op, measure('git', ['checkout', '-q', to], repo));
        continue;
      }
      const m = measure(...mlx('checkout', to), repo);
      const p = JSON.parse(m.stdout).paths.find((x) => x.path === 'files') ?? {};
      const verified = treeDigest(path.join(repo, 'files')) === digests[to];
      if (!verified) {
        ctx.failures.push(`${w.name}: mlx ${op}: the work tree differs from ${to}`);
        console.log(`  ! mlx ${op}: the work tree differs from ${to}`);
      }
      if (!(p.written <= 2 * w.changed)) {
        ctx.warnings.push(`${w.name}: mlx ${op} wrote ${p.written} files for ${w.changed} that differ`);
        console.log(`  ! mlx ${op}: wrote ${p.written} files for ${w.changed} that differ`);
      }
      const details = `${p.written} written, ${p.removed} removed, ${p.unchanged} unchanged; bytes ${verified ? 'verified' : 'DIFFER'}`;
      record(rows, w, 'mlx', op, m, { details, written: p.written, removed: p.removed, unchanged: p.unchanged, verified });
      const s = measure(...mlx('status'), repo);
      const st = JSON.parse(s.stdout);
      const state = st.paths.map((x) => x.state).join(',');
      if (state !== 'clean') ctx.warnings.push(`${w.name}: mlx status after ${op} says ${state}`);
      record(rows, w, 'mlx', `status (after ${to})`, s, { details: `${state}, hashed ${st.hashedFiles} file(s)` });
    }
  }
}

/** Files changed per `mlx diff --json`: each file of a directory's change list, 1 for a tracked file. */
const diffFileCount = (res) => res.changes.reduce((n, c) => n + (c.kind === 'dir' ? (c.files?.length ?? 0) : 1), 0);
/** Files changed per the summary line of `git diff --stat`. */
const gitStatCount = (out) => Number(/(\d+) files? changed/.exec(out)?.[1] ?? 0);

/**
 * A tracked directory, then `commits` commits each rewriting a few of its files (mlx add + git
 * commit; the same bytes in a plain git repo); `mlx diff` over the whole range and over the last
 * commit, checked against the files the commits touched, beside `git diff --stat`.
 */
function benchHistoryDiff(w, dir, tools, rows, ctx) {
  const t0 = Date.now();
  const srcRoot = path.join(dir, 'source');
  const srcFiles = writeRandomTree(path.join(srcRoot, 'data'), w.files, 1024, 100);
  const rels = srcFiles.map((f) => path.relative(srcRoot, f));
  w.fileCount = srcFiles.length;
  w.bytes = w.fileCount * 1024;
  const repos = [['mlx', mlxRepo(path.join(dir, 'mlx'))]];
  if (tools.git) repos.push(['git', freshRepo(path.join(dir, 'git'))]);
  const mlxDir = repos[0][1];
  for (const [, repo] of repos) fs.cpSync(path.join(srcRoot, 'data'), path.join(repo, 'data'), { recursive: true });
  run(process.execPath, [MLX, '-q', 'add', 'data'], mlxDir);
  for (const [, repo] of repos) commitAll(repo, 'c0');

  const rand = prng(11);
  const touched = new Set();
  const adds = { mlx: [], git: [] };
  const badHashing = [];
  for (let c = 1; c <= w.commits; c++) {
    const pick = new Set();
    while (pick.size < w.perCommit) pick.add(rels[Math.floor(rand() * rels.length)]);
    for (const rel of pick) {
      const data = crypto.randomBytes(1024);
      for (const [, repo] of repos) rewriteFile(path.join(repo, rel), data);
      touched.add(rel);
    }
    for (const [tool, repo] of repos) {
      const m = tool === 'mlx' ? measure(...mlx('add', 'data'), repo) : measure('git', ['add', '--', 'data'], repo);
      adds[tool].push(m);
      if (tool === 'mlx' && JSON.parse(m.stdout).hashedFiles !== w.perCommit) badHashing.push(`commit ${c}: ${JSON.parse(m.stdout).hashedFiles}`);
      commitAll(repo, `c${c}`);
    }
  }
  console.log(
    `\n== ${w.name}: ${w.fileCount} files, ${fmtBytes(w.bytes)}; ${w.commits} commits of ${w.perCommit} rewritten files, ` +
      `${touched.size} distinct (history built in ${secs(t0)} s)`,
  );
  if (badHashing.length > 0) {
    ctx.warnings.push(`${w.name}: mlx add hashed other than ${w.perCommit} files (${badHashing.slice(0, 3).join('; ')})`);
  }
  const addOp = `add (${w.perCommit} changed)`;
  for (const [tool] of repos) {
    const details = `median of ${w.commits}${tool === 'mlx' ? `; hashed ${badHashing.length === 0 ? w.perCommit : 'OTHER THAN ' + w.perCommit} each` : ''}`;
    record(rows, w, tool, addOp, medianMeasure(adds[tool]), { details });
  }

  for (const [tool, repo] of repos) {
    warmUp(listFiles(path.join(repo, '.git')));
    if (tool === 'mlx') warmUp(listFiles(path.join(repo, '.mlx', 'cache')));
    for (const [from, expected] of [[`HEAD~${w.commits}`, touched.size], ['HEAD~1', w.perCommit]]) {
      const op = `diff ${from} HEAD`;
      if (tool === 'git') {
        const m = measure('git', ['diff', '--stat', from, 'HEAD'], repo);
        record(rows, w, 'git', `diff --stat ${from} HEAD`, m, { compareTo: op, details: `${gitStatCount(m.stdout)} files changed` });
        continue;
      }
      const m = measure(...mlx('diff', from, 'HEAD'), repo);
      const n = diffFileCount(JSON.parse(m.stdout));
      if (n !== expected) {
        ctx.failures.push(`${w.name}: mlx ${op} reports ${n} changed files, the commits changed ${expected}`);
        console.log(`  ! mlx ${op}: ${n} changed files reported, ${expected} changed`);
      }
      record(rows, w, 'mlx', op, m, { details: `${n} files changed${n === expected ? '' : ` (EXPECTED ${expected})`}`, changedFiles: n });
    }
  }
}

/**
 * A cache of about 2 x perVersion objects, half no longer needed: the tracked directory is
 * committed, replaced by as many new tiny files, added and committed again. `mlx gc --keep-recent 0`
 * (dry run, then for real, then once more with nothing left to do) keeps HEAD and the work tree;
 * afterwards `mlx verify HEAD` (untimed) must still find every object HEAD needs.
 */
function benchGc(w, dir, tools, rows, ctx) {
  const t0 = Date.now();
  const repo = mlxRepo(path.join(dir, 'mlx'));
  const data = path.join(repo, 'data');
  const objectsDir = path.join(repo, '.mlx', 'cache', 'objects');
  w.fileCount = 2 * w.perVersion;
  w.bytes = 0;
  for (const version of ['v1', 'v2']) {
    fs.rmSync(data, { recursive: true, force: true });
    writeTinyTree(data, w.perVersion, 1000, version);
    record(rows, w, 'mlx', `add ${version} (${w.perVersion} tiny files)`, measure(...mlx('add', 'data'), repo), { files: w.perVersion });
    commitAll(repo, version);
  }
  const objects = () => listFiles(objectsDir);
  const before = objects();
  w.fileCount = before.length;
  w.bytes = before.reduce((n, f) => n + fs.statSync(f).size, 0);
  console.log(`\n== ${w.name}: cache of ${w.fileCount} objects, ${fmtBytes(w.bytes)} (built in ${secs(t0)} s)`);

  const gc = (op, dryRun) => {
    const m = measure(...mlx('gc', '--keep-recent', '0', ...(dryRun ? ['--dry-run'] : [])), repo);
    const res = JSON.parse(m.stdout);
    const left = objects().length;
    const verb = dryRun ? 'would remove' : 'removed';
    const details = `${verb} ${res.removedObjects} objects (${fmtBytes(res.removedBytes)}), kept ${res.keptObjects} of ${res.commits} commit(s); cache holds ${left}`;
    return { res, left, row: record(rows, w, 'mlx', op, m, { details, gc: res, objectsLeft: left }) };
  };
  const dry = gc('gc --dry-run', true);
  const real = gc('gc', false);
  const again = gc('gc (nothing left)', false);
  // The floor for removing that many files: `rm -rf` of as many tiny files in a like fan-out, synced.
  const floor = path.join(dir, 'rm-floor');
  for (let i = 0; i < real.res.removedObjects; i++) {
    const sub = path.join(floor, (i % 256).toString(16).padStart(2, '0'));
    if (i < 256) fs.mkdirSync(sub, { recursive: true });
    fs.writeFileSync(path.join(sub, `o${i}`), `rm ${i}\n`);
  }
  record(rows, w, 'rm', `rm -rf ${real.res.removedObjects} files`, measure('rm', ['-rf', floor], dir), { compareTo: 'gc', files: real.res.removedObjects });
  const verify = run(process.execPath, [MLX, '--json', 'verify', 'HEAD'], repo, { allowFail: true });
  let verified = false;
  try {
    verified = verify.status === 0 && JSON.parse(verify.stdout).problems.length === 0;
  } catch {}
  real.row.verified = verified;
  real.row.details += `; verify HEAD ${verified ? 'ok' : 'FAILED'}`;
  const problems = [];
  if (dry.left !== before.length) problems.push(`the dry run changed the cache (${before.length} -> ${dry.left} objects)`);
  if (dry.res.removedObjects !== real.res.removedObjects) problems.push(`dry run said ${dry.res.removedObjects}, gc removed ${real.res.removedObjects}`);
  if (real.left !== before.length - real.res.removedObjects) problems.push(`gc reported ${real.res.removedObjects} removed but the cache went ${before.length} -> ${real.left}`);
  if (real.res.removedObjects < w.perVersion || real.res.keptObjects < w.perVersion) problems.push(`expected about ${w.perVersion} removed and kept, got ${real.res.removedObjects} / ${real.res.keptObjects}`);
  if (again.res.removedObjects !== 0) problems.push(`a second gc removed ${again.res.removedObjects} more`);
  if (!verified) problems.push(`mlx verify HEAD after gc failed: ${(verify.stderr || verify.stdout).trim().split('\n')[0]}`);
  for (const p of problems) {
    ctx.failures.push(`${w.name}: ${p}`);
    console.log(`  ! ${p}`);
  }
}

// ---------------------------------------------------------------- reporting

function fmtBytes(n) {
  if (n >= 1 << 30) return `${+(n / (1 << 30)).toFixed(2)} GiB`;
  if (n >= MiB) return `${+(n / MiB).toFixed(1)} MiB`;
  return `${+(n / 1024).toFixed(1)} KiB`;
}

const fmtSecs = (s) => (s < 10 ? `${s.toFixed(3)} s` : `${s.toFixed(1)} s`);

/**
 * Trees report files/s for every operation (each file is at least stat'ed); single files report MiB/s
 * only for operations that must read or write all the data, since a status may or may not re-hash.
 */
function throughput(row) {
  if (row.files > 1) return `${Math.round(row.files / row.seconds)} files/s`;
  if (!/^(add|checkout|hash|push|pull|copy)\b/.test(row.operation)) return '-';
  return `${(row.bytes / MiB / row.seconds).toFixed(0)} MiB/s`;
}

/** Which mlx operation a row of another tool is compared with. */
const mlxCounterpart = (row) => row.compareTo ?? (row.operation.startsWith('hash') ? 'add' : row.operation);

/** Fills `ratio` (mlx seconds / other seconds) on every non-mlx row. */
function addRatios(rows) {
  for (const row of rows) {
    if (row.tool === 'mlx') continue;
    const m = rows.find((r) => r.tool === 'mlx' && r.workloadKey === row.workloadKey && r.operation === mlxCounterpart(row));
    row.comparedWith = m ? `mlx ${m.operation}` : null;
    row.ratio = m ? m.seconds / row.seconds : null;
  }
}

/** One line per operation, e.g. "add: mlx 1.10 s | b3sum 0.45 s (2.44x)". */
function printHeadlines(workload, allRows) {
  const rows = allRows.filter((r) => r.workloadKey === workload.key);
  addRatios(rows);
  if (rows.every((r) => r.tool === 'mlx')) return;
  console.log(`  -- ${workload.name}, mlx time / other time (<1: mlx faster):`);
  for (const m of rows.filter((r) => r.tool === 'mlx')) {
    const others = rows.filter((r) => r.tool !== 'mlx' && mlxCounterpart(r) === m.operation);
    if (others.length === 0) continue;
    const parts = others.map((o) => `${o.tool} ${o.operation !== m.operation ? `${o.operation} ` : ''}${fmtSecs(o.seconds)} (${o.ratio.toFixed(2)}x)`);
    console.log(`     ${m.operation}: mlx ${fmtSecs(m.seconds)} | ${parts.join(' | ')}`);
  }
}

function printTable(rows) {
  const header = ['workload', 'tool', 'operation', 'seconds', 'throughput', 'peak RSS MiB', 'mlx/tool', 'details'];
  const body = rows.map((r) => [
    r.workload,
    r.tool,
    r.operation,
    r.seconds.toFixed(3),
    throughput(r),
    r.peakRssMiB === null ? 'n/a' : r.peakRssMiB.toFixed(0),
    r.ratio == null ? '' : `${r.ratio.toFixed(2)}x`,
    r.details ?? '',
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((b) => b[i].length)));
  const right = new Set([3, 4, 5, 6]);
  const line = (cells) => cells.map((c, i) => (right.has(i) ? c.padStart(widths[i]) : c.padEnd(widths[i]))).join('  ').trimEnd();
  console.log(`\n${line(header)}\n${widths.map((w) => '-'.repeat(w)).join('  ')}`);
  let last = null;
  for (const [i, b] of body.entries()) {
    if (last !== null && rows[i].workloadKey !== last) console.log('');
    last = rows[i].workloadKey;
    console.log(line(b));
  }
}

/** The remote numbers the issue asks for, one short paragraph per workload. */
function printRemoteSummary(rows) {
  // The scale mode prints its own table (scripts/bench-scale.mjs).
  const remoteRows = rows.filter((r) => !r.workloadKey?.startsWith('scale') && (r.remote || /^(push|pull|copy)/.test(r.operation)));
  if (remoteRows.length === 0) return;
  console.log('\nremote summary:');
  for (const key of [...new Set(remoteRows.map((r) => r.workloadKey))]) {
    const rs = remoteRows.filter((r) => r.workloadKey === key);
    const parts = [];
    for (const r of rs) {
      const speed = `${fmtSecs(r.seconds)} (${throughput(r)})`;
      if (r.tool === 'mlx' && r.push && r.sentPercent === undefined) {
        parts.push(
          `${r.operation} ${speed}: ${plural(r.push.objects, 'object')} -> ${r.push.uploadedObjects} uploaded in ${plural(r.push.packs, 'pack')}; ` +
            `remote holds ${plural(r.remoteFiles, r.remote === 's3rver' ? 'S3 object' : 'file')}`,
        );
      } else if (r.tool === 'mlx' && r.push) {
        parts.push(`${r.operation} ${speed}: sent ${r.sentPercent.toFixed(2)}%, stored ${r.storedPercent.toFixed(2)}% of the CSV (target < 10%)`);
      } else if (r.tool === 'mlx' && r.pull) {
        parts.push(`${r.operation} ${speed}: ${r.verified ? 'bytes verified' : 'BYTES DIFFER'}`);
      } else if (r.tool !== 'mlx' && r.ratio != null) {
        parts.push(`${r.tool} ${r.operation} ${speed}${r.hardLinked ? ' [hard links]' : ''}: ${r.comparedWith} / ${r.tool} = ${r.ratio.toFixed(2)}x`);
      }
    }
    console.log(`  ${rs[0].workload}:`);
    for (const p of parts) console.log(`    ${p}`);
  }
}

function machine() {
  return {
    cpus: os.cpus().length,
    cpuModel: os.cpus()[0]?.model ?? 'unknown',
    memoryGiB: +(os.totalmem() / (1 << 30)).toFixed(1),
    platform: `${os.platform()} ${os.release()}`,
    node: process.version,
    loadAverageAtStart: LOAD_AT_START,
  };
}

const NOTES = [
  'Page cache cannot be dropped here, so every file is read once before each tool runs: all tools read from cache (warm), none from disk.',
  '`sync` runs (untimed) before every timed command so earlier writeback does not land in the next measurement.',
  'Automatic git gc / maintenance is off in every repo (it would run detached, in the background, during later measurements); the plain git repo of "checkout <rev>" is packed with an untimed `git gc` instead.',
  'Times are wall-clock of the child process, including node/git start-up; peak RSS is the child\'s maxrss from GNU time.',
  'mlx/tool is mlx seconds divided by the other tool\'s seconds for the matching operation (b3sum hash is matched with mlx add); <1 means mlx is faster.',
  'git and git-lfs "checkout (after rm)" is `git checkout -- <path>` from the index; git-lfs re-runs the smudge filter.',
  'mlx uses its default cache.type (reflink,copy; reflink falls back to copy where unsupported), so add and checkout copy the data.',
  'push/pull use mlx\'s default -j; a "fresh pull" is a `git clone` of the bench repo (pointers and remote config, empty cache) and a timed `mlx pull` in it; then (untimed) the sha256 of every pulled file is compared with the source.',
  'Remote size: a directory remote counts all its files (packs, pack indexes, mlx-remote.json); s3rver counts its `*._S3rver_object` files (one per S3 object). Peak RSS of push/pull is the mlx client\'s; s3rver runs in its own process.',
  'git-lfs push is `git lfs push --all <bare repo>` (LFS objects only, no git objects: like mlx push). For a path remote git-lfs uses its built-in standalone file agent, no server or config: it hard-links objects on the same filesystem ("bare repo", no data moved) and copies them otherwise ("other fs": a bare repo on tmpfs /dev/shm).',
  '"copy (cp -r, warm)" copies the source with a warm page cache; mlx pull writes the data twice (into .mlx/cache, then into the work tree) and hashes it.',
  `push / pull / git-lfs push / cp of the transfer benchmarks: the fastest of ${REPEAT} run(s) (BENCH_REPEAT), each from the same start (empty remote, fresh clone, no copy); every run's time is listed. Noise on a shared machine only adds time.`,
  'checkout <rev>: v1 and v2 of a 4 KiB-file tree (v2 rewrites 1% of the files) are committed and tagged, in the mlx repo as pointer files, in a plain git repo as the files; `mlx checkout vN` restores vN\'s data without moving HEAD, `git checkout vN` switches (detaches) HEAD. "written" is from mlx\'s JSON; the restored tree is then compared with the version\'s files (sha256, untimed).',
  'diff: a tracked directory of 1 KiB files, then commits that each rewrite 10 of them (`mlx add` + `git commit`; the same bytes in a plain git repo). The add rows are medians over those commits. The changed-file count of `mlx diff` is checked against the files the commits touched; git runs `git diff --stat` over the same range.',
  'gc: a tracked directory of tiny files (a few bytes each) committed, replaced by as many new ones, added and committed: about half the cache is no longer needed. `mlx gc --keep-recent 0` keeps HEAD and the work tree; the objects left are counted, and `mlx verify HEAD` (untimed) must still pass. No git counterpart (every git object stays reachable); instead `rm -rf` of as many tiny files (synced first, like every timed step) is the floor for the removal.',
  'CSV v2: rows in the middle edited to be longer (every later byte shifts) and 1% more rows appended; "sent" is push bytesSent, "stored" the total size of the files the v2 push added to the remote, both as % of v2\'s size.',
];

// ---------------------------------------------------------------- main

/** What the scale mode (scripts/bench-scale.mjs) uses of this file. */
function scaleHelpers() {
  return {
    run, measure, record, freshRepo, linkInto, commitAll, remotesFor, attempt, attemptAsync, mlx, has, warmUp, writeRandomFile, fmtBytes, fmtSecs,
    MLX, CHILD_ENV, WORK_DIR, REMOTE, KEEP: Boolean(process.env.BENCH_KEEP),
  };
}

async function main() {
  fs.rmSync(WORK_DIR, { recursive: true, force: true }); // leftovers of an interrupted run
  fs.mkdirSync(WORK_DIR, { recursive: true });
  const tools = detectTools();
  if (!tools.mlx) throw new Error(`cannot run ${MLX}; build first (npm run build)`);
  if (!tools.git) throw new Error('git is required (mlx needs a git repository)');
  console.log(`mlx benchmark, BENCH_SCALE=${SCALE}, ${os.cpus().length} CPUs, node ${process.version}, load average ${LOAD_AT_START.join(' ')}`);
  for (const [name, v] of Object.entries(tools)) console.log(`  ${name.padEnd(8)} ${v ?? 'not installed: skipped'}`);
  if (!tools.gitLfs) console.log('  note: git-lfs comparison skipped (Debian: apt-get install git-lfs)');
  if (!tools.b3sum) console.log('  note: b3sum comparison skipped (Debian 12: apt-get install b3sum)');
  if (!GNU_TIME) console.log('  note: peak RSS not measured: /usr/bin/time missing (Debian: apt-get install time)');
  console.log(`  note: ${NOTES[0]}`);

  const rows = [];
  const ctx = { s3: null, otherFs: null, failures: [], warnings: [] };
  const started = Date.now();
  try {
    const base = workloads().filter((w) => selected(w.key, 'base'));
    if (REMOTE && base.length > 0) {
      try {
        ctx.s3 = await startS3rver(path.join(WORK_DIR, 's3rver'));
        console.log(`  s3rver   ${ctx.s3.endpoint} (pid ${ctx.s3.pid}), bucket ${ctx.s3.bucket}`);
      } catch (e) {
        ctx.failures.push(`s3rver: ${e.message}`);
        console.log(`  note: S3 benchmarks skipped: ${e.message}`);
      }
      ctx.otherFs = tools.gitLfs ? otherFilesystemDir() : null;
      if (tools.gitLfs && !ctx.otherFs) console.log('  note: no second filesystem (/dev/shm): git-lfs push is measured with hard links only');
    } else if (!REMOTE) {
      console.log('  note: BENCH_REMOTE=0: push / pull benchmarks skipped');
    }
    for (const w of base) benchWorkload(w, tools, rows, ctx);
    if (!HISTORY) console.log('\n  note: BENCH_HISTORY=0: checkout <rev> / diff / gc benchmarks skipped');
    for (const w of HISTORY ? historyWorkloads() : []) if (selected(w.key, 'history')) benchHistory(w, tools, rows, ctx);
    if (ONLY?.has('scale')) await benchScale(scaleHelpers(), scaleSettings(process.env), tools, rows, ctx);
  } finally {
    await ctx.s3?.stop();
    if (ctx.otherFs) fs.rmSync(ctx.otherFs, { recursive: true, force: true });
    fs.rmSync(TIME_OUT, { force: true });
    if (!process.env.BENCH_KEEP) fs.rmSync(WORK_DIR, { recursive: true, force: true });
  }
  addRatios(rows);
  printTable(rows);
  printRemoteSummary(rows);
  console.log('');
  for (const n of NOTES) console.log(`note: ${n}`);
  const report = { date: new Date().toISOString(), scale: SCALE, remote: REMOTE, history: HISTORY, only: ONLY && [...ONLY], totalSeconds: (Date.now() - started) / 1000, machine: machine(), tools, notes: NOTES, failures: ctx.failures, warnings: ctx.warnings, results: rows };
  fs.writeFileSync(RESULTS_FILE, `${JSON.stringify(report, null, 2)}\n`);
  if (ctx.warnings.length + ctx.failures.length > 0) console.log('');
  for (const w of ctx.warnings) console.log(`warning: ${w}`);
  for (const f of ctx.failures) console.log(`FAILED: ${f}`);
  console.log(`\nresults written to ${path.relative(process.cwd(), RESULTS_FILE) || RESULTS_FILE} (total ${report.totalSeconds.toFixed(0)} s)`);
  if (ctx.failures.length > 0) process.exitCode = 1;
}

await main();
