#!/usr/bin/env node
// Benchmarks mlx add / re-add / status / checkout on generated workloads, side by side with git,
// git-lfs and b3sum measured in the same run on the same (page-cached) data.
//
//   npm run bench                    full run: 1 GiB file, 20,000 x 4 KiB files, 256 MiB CSV
//   BENCH_SCALE=0.1 npm run bench    every workload scaled down, for a quick check
//   BENCH_KEEP=1 npm run bench       keep the generated repos in .bench/work for inspection
//
// Comparison tools are optional; missing ones are skipped with a note. Peak RSS needs GNU time
// (/usr/bin/time, Debian package `time`).
import { spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const MLX = path.join(ROOT, 'bin', 'mlx.js');
const BENCH_DIR = path.join(ROOT, '.bench');
const WORK_DIR = path.join(BENCH_DIR, 'work');
const RESULTS_FILE = path.join(BENCH_DIR, 'results.json');
const TIME_OUT = path.join(BENCH_DIR, 'time.out');
const SCALE = parseScale(process.env.BENCH_SCALE);
const MiB = 1 << 20;
const CMD_TIMEOUT_MS = 15 * 60 * 1000;
// Other work on the machine skews wall times; recorded so a noisy run can be recognised.
const LOAD_AT_START = os.loadavg().map((n) => +n.toFixed(2));

// Children get a predictable environment: no prompts, no colour, no user/system git config.
const CHILD_ENV = { ...process.env, GIT_TERMINAL_PROMPT: '0', GIT_CONFIG_NOSYSTEM: '1', GIT_CONFIG_GLOBAL: '/dev/null', NO_COLOR: '1' };

function parseScale(raw) {
  if (raw === undefined || raw === '') return 1;
  const n = Number(raw);
  if (!(n > 0)) throw new Error(`BENCH_SCALE must be a positive number, got ${JSON.stringify(raw)}`);
  return n;
}

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
        rows.push(
          `${id},${1_700_000_000 + id * 10},${Math.floor(rand() * 64)},${(rand() * 2 - 1).toFixed(6)},${(rand() * 2 - 1).toFixed(6)},` +
            `${(rand() * 9.81).toFixed(4)},${(20 + rand() * 5).toFixed(2)},${rand() < 0.1 ? 1 : 0}\n`,
        );
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

/** Each workload: a name, the path tracked inside every repo, and how to generate it. */
function workloads() {
  const bigBytes = Math.max(MiB, Math.round(1024 * MiB * SCALE));
  const fileCount = Math.max(100, Math.round(20_000 * SCALE));
  const csvBytes = Math.max(MiB, Math.round(256 * MiB * SCALE));
  return [
    {
      name: `${fmtBytes(bigBytes)} random file`,
      key: 'big',
      tracked: 'big.bin',
      lfsPattern: 'big.bin',
      generate: (dst) => writeRandomFile(dst, bigBytes),
    },
    {
      name: `${fileCount} x 4 KiB files`,
      key: 'many',
      tracked: 'files',
      lfsPattern: 'files/**',
      perFile: true,
      generate: (dst) => writeRandomTree(dst, fileCount, 4096, 200),
    },
    {
      name: `${fmtBytes(csvBytes)} CSV`,
      key: 'csv',
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
 * 'rm' steps delete the workspace data untimed before a checkout.
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
    rows.push({ workload: workload.name, workloadKey: workload.key, tool, operation: op, seconds: m.seconds, bytes: workload.bytes, files: workload.fileCount, peakRssMiB: m.rssMiB, cpuSeconds: m.cpuSeconds, note });
    console.log(`  ${tool.padEnd(8)} ${op.padEnd(24)} ${fmtSecs(m.seconds).padStart(9)}  ${m.rssMiB === null ? '' : `${m.rssMiB.toFixed(0)} MiB RSS`}${note ? `  (${note})` : ''}`);
  }
}

/** Generates one workload, then runs every available tool on it in its own fresh repo. */
function benchWorkload(workload, tools, rows) {
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
  printHeadlines(workload, rows);
  if (!process.env.BENCH_KEEP) fs.rmSync(dir, { recursive: true, force: true });
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
  if (!/^(add|checkout|hash)\b/.test(row.operation)) return '-';
  return `${(row.bytes / MiB / row.seconds).toFixed(0)} MiB/s`;
}

/** Which mlx operation a row of another tool is compared with. */
const mlxCounterpart = (op) => (op.startsWith('hash') ? 'add' : op);

/** Fills `ratio` (mlx seconds / other seconds) on every non-mlx row. */
function addRatios(rows) {
  for (const row of rows) {
    if (row.tool === 'mlx') continue;
    const m = rows.find((r) => r.tool === 'mlx' && r.workloadKey === row.workloadKey && r.operation === mlxCounterpart(row.operation));
    row.comparedWith = m ? `mlx ${m.operation}` : null;
    row.ratio = m ? m.seconds / row.seconds : null;
  }
}

/** One line per operation, e.g. "add: mlx 1.10 s | b3sum 0.45 s (2.44x)". */
function printHeadlines(workload, allRows) {
  const rows = allRows.filter((r) => r.workloadKey === workload.key);
  addRatios(rows);
  console.log(`  -- ${workload.name}, mlx time / other time (<1: mlx faster):`);
  for (const m of rows.filter((r) => r.tool === 'mlx')) {
    const others = rows.filter((r) => r.tool !== 'mlx' && mlxCounterpart(r.operation) === m.operation);
    if (others.length === 0) continue;
    const parts = others.map((o) => `${o.tool} ${o.operation.startsWith('hash') ? `${o.operation} ` : ''}${fmtSecs(o.seconds)} (${o.ratio.toFixed(2)}x)`);
    console.log(`     ${m.operation}: mlx ${fmtSecs(m.seconds)} | ${parts.join(' | ')}`);
  }
}

function printTable(rows) {
  const header = ['workload', 'tool', 'operation', 'seconds', 'throughput', 'peak RSS MiB', 'mlx/tool'];
  const body = rows.map((r) => [
    r.workload,
    r.tool,
    r.operation,
    r.seconds.toFixed(3),
    throughput(r),
    r.peakRssMiB === null ? 'n/a' : r.peakRssMiB.toFixed(0),
    r.ratio == null ? '' : `${r.ratio.toFixed(2)}x`,
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((b) => b[i].length)));
  const right = new Set([3, 4, 5, 6]);
  const line = (cells) => cells.map((c, i) => (right.has(i) ? c.padStart(widths[i]) : c.padEnd(widths[i]))).join('  ');
  console.log(`\n${line(header)}\n${widths.map((w) => '-'.repeat(w)).join('  ')}`);
  let last = null;
  for (const [i, b] of body.entries()) {
    if (last !== null && rows[i].workloadKey !== last) console.log('');
    last = rows[i].workloadKey;
    console.log(line(b));
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
  'Times are wall-clock of the child process, including node/git start-up; peak RSS is the child\'s maxrss from GNU time.',
  'mlx/tool is mlx seconds divided by the other tool\'s seconds for the matching operation (b3sum hash is matched with mlx add); <1 means mlx is faster.',
  'git and git-lfs "checkout (after rm)" is `git checkout -- <path>` from the index; git-lfs re-runs the smudge filter.',
  'mlx uses its default cache.type (reflink,copy; reflink falls back to copy where unsupported), so add and checkout copy the data.',
];

// ---------------------------------------------------------------- main

function main() {
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
  const started = Date.now();
  try {
    for (const w of workloads()) benchWorkload(w, tools, rows);
  } finally {
    fs.rmSync(TIME_OUT, { force: true });
    if (!process.env.BENCH_KEEP) fs.rmSync(WORK_DIR, { recursive: true, force: true });
  }
  addRatios(rows);
  printTable(rows);
  console.log('');
  for (const n of NOTES) console.log(`note: ${n}`);
  const report = { date: new Date().toISOString(), scale: SCALE, totalSeconds: (Date.now() - started) / 1000, machine: machine(), tools, notes: NOTES, results: rows };
  fs.writeFileSync(RESULTS_FILE, `${JSON.stringify(report, null, 2)}\n`);
  console.log(`\nresults written to ${path.relative(process.cwd(), RESULTS_FILE) || RESULTS_FILE} (total ${report.totalSeconds.toFixed(0)} s)`);
}

main();
