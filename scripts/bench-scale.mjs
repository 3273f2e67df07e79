// The scale mode of `npm run bench` (BENCH_ONLY=scale, or BENCH_FILES=N): N files of 1-4 KiB in one
// tracked directory, every command a user runs on it, each beside the peer the targets of the scale
// issue name, measured in the same run; then the target table with each ratio and whether it is met.
// bench.mjs hands in its helpers (timing, peak RSS, repo and remote set-up, reporting), so this file
// holds only what the scale mode adds. Nothing here keeps one object per file: the tree is generated,
// linked, read and digested by walking it, so 1,000,000 files cost the bench process no more memory
// than 1,000.
import { spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

const GiB = 1 << 30;

/** The scale mode's settings from the environment (documented in bench.mjs's header and the README). */
export function scaleSettings(env) {
  const count = (name, fallback) => {
    const raw = env[name];
    if (raw === undefined || raw === '') return fallback;
    const n = Number(raw);
    if (!Number.isInteger(n) || n < 0) throw new Error(`${name} must be a whole number >= 0, got ${JSON.stringify(raw)}`);
    return n;
  };
  const files = count('BENCH_FILES', 100_000);
  if (files > 0 && files < 100) throw new Error('BENCH_FILES must be 0 (skip the N-file workload) or at least 100 (1% of the files are edited)');
  const bigGiB = env.BENCH_BIG_GIB ? Number(env.BENCH_BIG_GIB) : 0;
  if (!(bigGiB >= 0)) throw new Error(`BENCH_BIG_GIB must be a number of GiB, got ${JSON.stringify(env.BENCH_BIG_GIB)}`);
  return {
    files,
    perDir: count('BENCH_PER_DIR', 1000),
    resticFiles: files > 0 ? Math.min(files, count('BENCH_RESTIC_FILES', 20_000)) : count('BENCH_RESTIC_FILES', 20_000),
    pushes: count('BENCH_PUSHES', 10_000),
    pushesS3: count('BENCH_PUSHES_S3', count('BENCH_PUSHES', 10_000)),
    bigGiB,
    tinyFiles: count('BENCH_TINY_FILES', 5_000),
  };
}

// ---------------------------------------------------------------- the generated tree

/** Where file `i` lives under the tracked directory: `perDir` files per sub-directory, or all in one. */
function relPath(i, perDir) {
  const name = `f${String(i).padStart(7, '0')}.bin`;
  return perDir > 0 ? path.join(`d${String(Math.floor(i / perDir)).padStart(4, '0')}`, name) : name;
}

/**
 * The bytes of file `i` in `version`: 1-4 KiB from a xorshift generator seeded by both, so every run
 * makes the same tree, no two files are alike (no tool wins by dedup) and nothing compresses.
 */
function fileBytes(i, version, buf32) {
  let x = (Math.imul(i + 1, 0x9e3779b1) ^ Math.imul(version + 1, 0x85ebca6b)) >>> 0 || 1;
  const next = () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return x >>> 0;
  };
  const size = 1024 + (next() % 3073);
  const words = Math.ceil(size / 4);
  for (let w = 0; w < words; w++) buf32[w] = next();
  return new Uint8Array(buf32.buffer, 0, size);
}

/** Writes the `count` files of version 0 under `dir`, one synchronous write each; returns their bytes. */
function generateTree(dir, count, perDir) {
  const buf32 = new Uint32Array(1024);
  let bytes = 0;
  for (let i = 0; i < count; i++) {
    if (i % (perDir || count) === 0) fs.mkdirSync(path.dirname(path.join(dir, relPath(i, perDir))), { recursive: true });
    const data = fileBytes(i, 0, buf32);
    fs.writeFileSync(path.join(dir, relPath(i, perDir)), data);
    bytes += data.length;
  }
  return bytes;
}

/** The files edited by the "1% edit": every hundredth. */
const isEdited = (i) => i % 100 === 0;

/** Rewrites the edited files as version 1 in every tree: a new inode each, never written through a link. */
function editOnePercent(dirs, count, perDir) {
  const buf32 = new Uint32Array(1024);
  let edited = 0;
  for (let i = 0; i < count; i++) {
    if (!isEdited(i)) continue;
    const data = fileBytes(i, 1, buf32);
    for (const dir of dirs) {
      const file = path.join(dir, relPath(i, perDir));
      fs.rmSync(file, { force: true });
      fs.writeFileSync(file, data);
    }
    edited++;
  }
  return edited;
}

/** Every regular file under `dir`, each folder in sorted order, without listing the whole tree at once. */
function* walkFiles(dir) {
  const entries = fs.readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const e of entries) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) yield* walkFiles(p);
    else if (e.isFile()) yield p;
  }
}

/** sha256 over every file's relative path and content: checks a pulled or checked-out tree. */
function streamingDigest(dir) {
  if (!fs.existsSync(dir)) return null;
  const all = crypto.createHash('sha256');
  for (const file of walkFiles(dir)) all.update(`${path.relative(dir, file)}\0${crypto.createHash('sha256').update(fs.readFileSync(file)).digest('hex')}\n`);
  return all.digest('hex');
}

/** Reads every file once, so each tool starts from the page cache. */
function warmTree(dir) {
  for (const file of walkFiles(dir)) fs.readFileSync(file);
}

/** Hard links of files `0..count-1` of `src` under `dst` (copies where linking fails). */
function linkFirst(src, dst, count, perDir) {
  for (let i = 0; i < count; i++) {
    const to = path.join(dst, relPath(i, perDir));
    if (i % (perDir || count) === 0) fs.mkdirSync(path.dirname(to), { recursive: true });
    try {
      fs.linkSync(path.join(src, relPath(i, perDir)), to);
    } catch {
      fs.copyFileSync(path.join(src, relPath(i, perDir)), to);
    }
  }
}

/** Removes a tree: `rm -rf` is several times faster than Node's recursive rm on a million files. */
function removeTree(dir) {
  const r = spawnSync('rm', ['-rf', dir]);
  if (r.error || r.status !== 0) fs.rmSync(dir, { recursive: true, force: true });
}

/**
 * Moves a tree into `<scaleDir>/set-aside/` (removed with the scale dir at the end) instead of
 * deleting it between measurements. On ext4 without a journal, creating a file within a minute or
 * more of many deletions walks past every recently freed inode (the kernel's recently_deleted check):
 * `cp -r` of 100k files right after `rm -rf` of another 100k took 6.7 system-seconds against 2.3.
 * Without this, checkout and pull ran right after such deletions and their peer cp -r did not.
 */
function setAside(scaleDir, tree) {
  const aside = path.join(scaleDir, 'set-aside');
  fs.mkdirSync(aside, { recursive: true });
  fs.renameSync(tree, path.join(aside, `${Date.now()}-${path.basename(tree)}-${Math.random().toString(36).slice(2)}`));
}

/** Total bytes of the files under `dir`. */
function treeBytes(dir) {
  let n = 0;
  for (const f of walkFiles(dir)) n += fs.statSync(f).size;
  return n;
}

// ---------------------------------------------------------------- the benchmark

/**
 * Runs the scale mode. `h` holds bench.mjs's helpers: run, measure, record, freshRepo, linkInto,
 * commitAll, remotesFor, attempt, mlx (argv of a JSON mlx command), MLX, CHILD_ENV, WORK_DIR, KEEP,
 * fmtBytes, fmtSecs, writeRandomFile, warmUp, has.
 */
export async function benchScale(h, settings, tools, rows, ctx) {
  const dir = path.join(h.WORK_DIR, 'scale');
  fs.mkdirSync(dir, { recursive: true });
  const peers = {
    cp: true,
    restic: h.has('restic', ['version']),
    hyperfine: h.has('hyperfine', ['--version']),
    b3sum: tools.b3sum,
  };
  console.log(`\n== scale mode: ${settings.files} files of 1-4 KiB in one tracked directory (${settings.perDir > 0 ? `${settings.perDir} per sub-directory` : 'all in one folder'})`);
  for (const [name, v] of Object.entries(peers)) if (!v) console.log(`  note: ${name} not installed: its comparison is skipped`);
  const result = { settings, peers };
  try {
    if (settings.files > 0) h.attempt(ctx, { name: 'scale' }, 'many files', () => (result.many = benchManyFiles(h, settings, dir, rows, ctx)));
    if (peers.restic && settings.resticFiles > 0) h.attempt(ctx, { name: 'scale' }, 'add + push vs restic', () => (result.restic = benchRestic(h, settings, dir, rows)));
    if (settings.bigGiB > 0) h.attempt(ctx, { name: 'scale' }, 'large file', () => (result.big = benchBigFile(h, settings, dir, rows, ctx, peers)));
    h.attempt(ctx, { name: 'scale' }, 'start-up', () => (result.startup = benchStartup(h, dir, rows, peers)));
    if (settings.tinyFiles > 0) h.attempt(ctx, { name: 'scale' }, 'tiny files', () => (result.tiny = benchTinyFiles(h, settings, dir, rows)));
    if (h.REMOTE && (settings.pushes > 0 || settings.pushesS3 > 0)) await h.attemptAsync(ctx, { name: 'scale' }, 'remote after many pushes', async () => (result.pushes = await benchManyPushes(h, settings)));
  } finally {
    if (!h.KEEP) removeTree(dir);
  }
  printScaleTable(h, rows);
  printTargets(h, settings, rows, result);
  return result;
}

/** Records one peer row, compared with the mlx operation `compareTo` of the same workload. */
const peer = (h, rows, w, tool, op, m, compareTo, details) => h.record(rows, w, tool, op, m, { compareTo, details, scalePeer: true });

/**
 * The N-file workload: add, no-op status, status after a 1% edit, add of the edit, diff, push to a
 * directory remote, fresh clone + pull, checkout after deleting the data, gc; beside git (same files
 * committed to a plain git repo) and cp -r.
 */
function benchManyFiles(h, s, dir, rows, ctx) {
  const w = { name: `scale: ${s.files} files`, key: 'scale', fileCount: s.files, bytes: 0 };
  const src = path.join(dir, 'source', 'data');
  let t0 = Date.now();
  w.bytes = generateTree(src, s.files, s.perDir);
  console.log(`  generated ${s.files} files, ${h.fmtBytes(w.bytes)} in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  const mlxRepo = h.freshRepo(path.join(dir, 'mlx'), (r) => h.run(process.execPath, [h.MLX, '-q', 'init'], r));
  const gitRepo = h.freshRepo(path.join(dir, 'git'));
  t0 = Date.now();
  for (const repo of [mlxRepo, gitRepo]) h.linkInto(src, path.join(repo, 'data'));
  console.log(`  linked into the mlx and git repos in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  const mlxJson = (m) => JSON.parse(m.stdout);
  const gitLines = (m) => m.stdout.split('\n').filter(Boolean).length;

  // add
  warmTree(src);
  const add = h.measure(...h.mlx('add', 'data'), mlxRepo);
  h.record(rows, w, 'mlx', 'add', add, { details: `hashed ${mlxJson(add).hashedFiles ?? '?'} file(s)` });
  peer(h, rows, w, 'git', 'git add', h.measure('git', ['add', '--', 'data'], gitRepo), 'add');
  for (const repo of [mlxRepo, gitRepo]) h.commitAll(repo, 'v0');

  // no-op status: one untimed status each first, as a user's next status would find things
  h.run(process.execPath, [h.MLX, '-q', 'status'], mlxRepo);
  h.run('git', ['status', '--porcelain'], gitRepo);
  const clean = h.measure(...h.mlx('status'), mlxRepo);
  const cleanRes = mlxJson(clean);
  if (cleanRes.hashedFiles) ctx.warnings.push(`scale: a no-op mlx status hashed ${cleanRes.hashedFiles} file(s)`);
  h.record(rows, w, 'mlx', 'status (no-op)', clean, { details: `${cleanRes.paths.map((p) => p.state).join(',')}, hashed ${cleanRes.hashedFiles} file(s)` });
  peer(h, rows, w, 'git', 'git status (no-op)', h.measure('git', ['status', '--porcelain'], gitRepo), 'status (no-op)');

  // status after editing 1%
  const edited = editOnePercent([path.join(mlxRepo, 'data'), path.join(gitRepo, 'data')], s.files, s.perDir);
  const dirty = h.measure(...h.mlx('status'), mlxRepo);
  const dirtyRes = mlxJson(dirty);
  const modified = dirtyRes.paths.reduce((n, p) => n + (p.changes?.modified?.length ?? 0), 0);
  if (modified !== edited) ctx.warnings.push(`scale: mlx status after the 1% edit lists ${modified} modified files, ${edited} were edited`);
  h.record(rows, w, 'mlx', 'status (1% edited)', dirty, { details: `${modified} of ${edited} edited files listed, hashed ${dirtyRes.hashedFiles} file(s)` });
  const gitDirty = h.measure('git', ['status', '--porcelain'], gitRepo);
  peer(h, rows, w, 'git', 'git status (1% edited)', gitDirty, 'status (1% edited)', `${gitLines(gitDirty)} line(s)`);

  // add of the edit, then the diff of the two commits
  const readd = h.measure(...h.mlx('add', 'data'), mlxRepo);
  h.record(rows, w, 'mlx', 'add (1% edited)', readd, { details: `hashed ${mlxJson(readd).hashedFiles ?? '?'} file(s)` });
  peer(h, rows, w, 'git', 'git add (1% edited)', h.measure('git', ['add', '--', 'data'], gitRepo), 'add (1% edited)');
  for (const repo of [mlxRepo, gitRepo]) h.commitAll(repo, 'v1');
  const diff = h.measure(...h.mlx('diff', 'HEAD~1', 'HEAD'), mlxRepo);
  const changed = mlxJson(diff).changes.reduce((n, c) => n + (c.kind === 'dir' ? (c.files?.length ?? 0) : 1), 0);
  if (changed !== edited) ctx.failures.push(`scale: mlx diff HEAD~1 HEAD reports ${changed} changed files, ${edited} were edited`);
  h.record(rows, w, 'mlx', 'diff HEAD~1 HEAD', diff, { details: `${changed} files changed` });
  peer(h, rows, w, 'git', 'git diff --stat HEAD~1 HEAD', h.measure('git', ['diff', '--stat', 'HEAD~1', 'HEAD'], gitRepo), 'diff HEAD~1 HEAD');

  // push to a directory remote, beside cp -r of the same tree (the data of v1: the work tree now)
  const digest = streamingDigest(path.join(mlxRepo, 'data'));
  const [remote] = h.remotesFor(w, dir, { s3: null });
  h.run(process.execPath, [h.MLX, 'remote', 'add', '-d', remote.name, remote.url], mlxRepo);
  h.commitAll(mlxRepo, 'remote');
  warmTree(path.join(mlxRepo, '.mlx', 'cache'));
  const push = h.measure(...h.mlx('push'), mlxRepo);
  const pushRes = mlxJson(push);
  h.record(rows, w, 'mlx', 'push (dir remote)', push, { details: `${pushRes.uploadedObjects} objects in ${pushRes.packs} pack(s), ${h.fmtBytes(pushRes.bytesSent)} sent` });
  warmTree(path.join(mlxRepo, 'data'));
  const cpDst = path.join(dir, 'cp-copy');
  const cp = h.measure('cp', ['-r', path.join(mlxRepo, 'data'), cpDst], dir);
  setAside(dir, cpDst);
  peer(h, rows, w, 'cp', 'cp -r (warm)', cp, 'push (dir remote)', 'the peer of push, fresh pull and checkout');

  // fresh clone + pull
  const clone = path.join(dir, 'clone');
  h.run('git', ['clone', '-q', mlxRepo, clone], dir);
  const pull = h.measure(...h.mlx('pull'), clone);
  const pullOk = streamingDigest(path.join(clone, 'data')) === digest;
  if (!pullOk) ctx.failures.push('scale: the pulled files differ from the pushed ones');
  h.record(rows, w, 'mlx', 'fresh clone + pull', pull, { details: `${mlxJson(pull).fetch?.fetched ?? '?'} objects; bytes ${pullOk ? 'verified' : 'DIFFER'}` });
  setAside(dir, clone);

  // checkout after deleting the data (from the cache); moved aside, not deleted, as above
  setAside(dir, path.join(mlxRepo, 'data'));
  warmTree(path.join(mlxRepo, '.mlx', 'cache'));
  const checkout = h.measure(...h.mlx('checkout'), mlxRepo);
  const checkoutOk = streamingDigest(path.join(mlxRepo, 'data')) === digest;
  if (!checkoutOk) ctx.failures.push('scale: the checked-out files differ from the committed ones');
  const p = mlxJson(checkout).paths?.find((x) => x.path === 'data') ?? {};
  h.record(rows, w, 'mlx', 'checkout (data deleted)', checkout, { details: `${p.written ?? '?'} written; bytes ${checkoutOk ? 'verified' : 'DIFFER'}` });

  // gc: v0's versions of the edited files are no longer needed
  const gc = h.measure(...h.mlx('gc', '--keep-recent', '0'), mlxRepo);
  const gcRes = mlxJson(gc);
  h.record(rows, w, 'mlx', 'gc', gc, { details: `removed ${gcRes.removedObjects} objects, kept ${gcRes.keptObjects}` });
  return { edited };
}

/**
 * add + push of the first `resticFiles` files to a directory remote, against `restic backup` of the
 * same files into a local restic repository (restic stores and deduplicates in one step).
 */
function benchRestic(h, s, dir, rows) {
  const n = s.resticFiles;
  const w = { name: `scale: ${n} files, add + push`, key: 'scale-restic', fileCount: n, bytes: 0 };
  const src = path.join(dir, 'source', 'data');
  // Without the N-file workload (BENCH_FILES=0) nothing generated the files yet.
  if (s.files === 0) generateTree(src, n, s.perDir);
  const repo = h.freshRepo(path.join(dir, 'restic-mlx'), (r) => h.run(process.execPath, [h.MLX, '-q', 'init'], r));
  linkFirst(src, path.join(repo, 'data'), n, s.perDir);
  w.bytes = treeBytes(path.join(repo, 'data'));
  const remote = path.join(dir, 'restic-mlx-remote');
  h.run(process.execPath, [h.MLX, 'remote', 'add', '-d', 'dir', remote], repo);
  warmTree(path.join(repo, 'data'));
  const add = h.measure(...h.mlx('add', 'data'), repo);
  const push = h.measure(...h.mlx('push'), repo);
  const both = { seconds: add.seconds + push.seconds, rssMiB: maxOf(add.rssMiB, push.rssMiB), cpuSeconds: add.cpuSeconds === null ? null : add.cpuSeconds + push.cpuSeconds };
  h.record(rows, w, 'mlx', 'add + push (dir remote)', both, { details: `add ${h.fmtSecs(add.seconds)} + push ${h.fmtSecs(push.seconds)}` });

  const env = { RESTIC_PASSWORD: 'mlx-bench', RESTIC_CACHE_DIR: path.join(dir, 'restic-cache') };
  Object.assign(h.CHILD_ENV, env);
  try {
    const resticRepo = path.join(dir, 'restic-repo');
    h.run('restic', ['init', '--repo', resticRepo], dir);
    warmTree(path.join(repo, 'data'));
    const backup = h.measure('restic', ['backup', '--quiet', '--repo', resticRepo, 'data'], repo);
    peer(h, rows, w, 'restic', 'restic backup (local repo)', backup, 'add + push (dir remote)');
  } finally {
    for (const k of Object.keys(env)) delete h.CHILD_ENV[k];
  }
}

/**
 * A remote after many small pushes (scripts/bench-pushes.mjs, which says how the remote is built):
 * index requests of a fresh load and a fresh clone's first pull against the pull after one push,
 * for a directory remote and s3rver.
 */
async function benchManyPushes(h, s) {
  const { benchPushes } = await import('./bench-pushes.mjs');
  console.log(`\n== scale mode: a remote after ${s.pushes} pushes (directory) and ${s.pushesS3} (s3rver)`);
  return benchPushes({ dir: s.pushes, s3: s.pushesS3, log: (line) => console.log(`  ${line}`), work: path.join(h.WORK_DIR, 'pushes') });
}

const maxOf = (a, b) => (a === null || b === null ? null : Math.max(a, b));

/**
 * One large random file (BENCH_BIG_GIB): add beside `b3sum --num-threads 1` and `cp`; push to a
 * directory remote beside `cp`; fresh pull with copies and with hard links beside `cp`.
 */
function benchBigFile(h, s, dir, rows, ctx, peers) {
  const bytes = Math.round(s.bigGiB * GiB);
  const w = { name: `scale: ${h.fmtBytes(bytes)} file`, key: 'scale-big', fileCount: 1, bytes };
  const repo = h.freshRepo(path.join(dir, 'big-mlx'), (r) => h.run(process.execPath, [h.MLX, '-q', 'init'], r));
  const file = path.join(repo, 'big.bin');
  const t0 = Date.now();
  h.writeRandomFile(file, bytes);
  console.log(`  generated ${h.fmtBytes(bytes)} in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  const copy = path.join(dir, 'big-copy.bin');
  const cpOnce = () => {
    h.warmUp([file]);
    const m = h.measure('cp', [file, copy], dir);
    fs.rmSync(copy, { force: true });
    return m;
  };
  h.warmUp([file]);
  if (peers.b3sum) peer(h, rows, w, 'b3sum', 'b3sum --num-threads 1', h.measure('b3sum', ['--num-threads', '1', 'big.bin'], repo), 'add');
  peer(h, rows, w, 'cp', 'cp (warm)', cpOnce(), 'push (dir remote)', 'the peer of add, push and fresh pull');
  h.warmUp([file]);
  h.record(rows, w, 'mlx', 'add', h.measure(...h.mlx('add', 'big.bin'), repo));
  const remote = path.join(dir, 'big-remote');
  h.run(process.execPath, [h.MLX, 'remote', 'add', '-d', 'dir', remote], repo);
  h.commitAll(repo, 'big');
  const push = h.measure(...h.mlx('push'), repo);
  h.record(rows, w, 'mlx', 'push (dir remote)', push, { details: `${h.fmtBytes(JSON.parse(push.stdout).bytesSent)} sent` });
  for (const cacheType of [null, 'hardlink']) {
    const clone = path.join(dir, 'big-clone');
    fs.rmSync(clone, { recursive: true, force: true });
    h.run('git', ['clone', '-q', repo, clone], dir);
    if (cacheType) h.run(process.execPath, [h.MLX, 'config', '--local', 'cache.type', cacheType], clone);
    const m = h.measure(...h.mlx('pull'), clone);
    const same = spawnSync('cmp', ['-s', file, path.join(clone, 'big.bin')]).status === 0;
    if (!same) ctx.failures.push(`scale: the pulled large file (${cacheType ?? 'copy'}) differs`);
    h.record(rows, w, 'mlx', `fresh pull (${cacheType ?? 'copy'})`, m, { details: `bytes ${same ? 'verified' : 'DIFFER'}` });
    fs.rmSync(clone, { recursive: true, force: true });
  }
}

/** `mlx status` in an empty repository against `node -e 0`: hyperfine where installed, else 10 runs each. */
function benchStartup(h, dir, rows, peers) {
  const w = { name: 'scale: start-up in an empty repo', key: 'scale-startup', fileCount: 0, bytes: 0 };
  const repo = h.freshRepo(path.join(dir, 'empty'), (r) => h.run(process.execPath, [h.MLX, '-q', 'init'], r));
  const statusCmd = `${process.execPath} ${h.MLX} status`;
  const nodeCmd = `${process.execPath} -e 0`;
  if (peers.hyperfine) {
    const out = path.join(dir, 'hyperfine.json');
    h.run('hyperfine', ['-N', '--warmup', '3', '--runs', '30', '--export-json', out, nodeCmd, statusCmd], repo);
    const [node, status] = JSON.parse(fs.readFileSync(out, 'utf8')).results;
    const asMeasure = (r) => ({ seconds: r.mean, rssMiB: null, cpuSeconds: r.user + r.system });
    const cpu = (r) => `${((r.user + r.system) * 1000).toFixed(0)} ms CPU`;
    h.record(rows, w, 'mlx', 'status (empty repo)', asMeasure(status), { details: `hyperfine mean of 30; ${cpu(status)}` });
    peer(h, rows, w, 'node', 'node -e 0', asMeasure(node), 'status (empty repo)', `hyperfine mean of 30; ${cpu(node)}`);
    return;
  }
  const mean = (argv) => {
    const ms = Array.from({ length: 10 }, () => h.measure(argv[0], argv[1], repo));
    return { seconds: ms.reduce((n, m) => n + m.seconds, 0) / ms.length, rssMiB: Math.max(...ms.map((m) => m.rssMiB ?? 0)) || null, cpuSeconds: null };
  };
  h.record(rows, w, 'mlx', 'status (empty repo)', mean([process.execPath, [h.MLX, 'status']]), { details: 'mean of 10 (hyperfine not installed)' });
  peer(h, rows, w, 'node', 'node -e 0', mean([process.execPath, ['-e', '0']]), 'status (empty repo)', 'mean of 10');
}

/** 5,000 files of 200 B added and pushed: what the remote stores against the raw bytes. */
function benchTinyFiles(h, s, dir, rows) {
  const n = s.tinyFiles;
  const w = { name: `scale: ${n} files of 200 B`, key: 'scale-tiny', fileCount: n, bytes: n * 200 };
  const repo = h.freshRepo(path.join(dir, 'tiny-mlx'), (r) => h.run(process.execPath, [h.MLX, '-q', 'init'], r));
  const data = path.join(repo, 'data');
  const buf32 = new Uint32Array(1024);
  for (let i = 0; i < n; i++) {
    if (i % 1000 === 0) fs.mkdirSync(path.join(data, `d${i / 1000}`), { recursive: true });
    fs.writeFileSync(path.join(data, `d${Math.floor(i / 1000)}`, `t${i}.bin`), fileBytes(i, 7, buf32).subarray(0, 200));
  }
  const remote = path.join(dir, 'tiny-remote');
  h.run(process.execPath, [h.MLX, 'remote', 'add', '-d', 'dir', remote], repo);
  h.record(rows, w, 'mlx', 'add', h.measure(...h.mlx('add', 'data'), repo));
  const push = h.measure(...h.mlx('push'), repo);
  const stored = treeBytes(remote);
  h.record(rows, w, 'mlx', 'push (dir remote)', push, { details: `remote holds ${h.fmtBytes(stored)} for ${h.fmtBytes(w.bytes)} of data`, remoteBytes: stored });
}

// ---------------------------------------------------------------- reporting

const find = (rows, key, tool, op) => rows.find((r) => r.workloadKey === key && r.tool === tool && r.operation === op);

/** Per command: wall seconds, seconds per 1,000 files, peak RSS, and the peer with its ratio. */
function printScaleTable(h, rows) {
  const scale = rows.filter((r) => r.workloadKey?.startsWith('scale') && r.tool === 'mlx');
  if (scale.length === 0) return;
  const rss = (r) => (r?.peakRssMiB == null ? 'n/a' : r.peakRssMiB.toFixed(0));
  const per1k = (r) => (r.files > 1 ? (r.seconds / (r.files / 1000)).toFixed(4) : '-');
  const header = ['workload', 'mlx command', 'seconds', 's / 1k files', 'peak RSS MiB', 'peer', 'peer s', 'peer RSS MiB', 'mlx / peer', 'details'];
  const body = [];
  for (const m of scale) {
    const peers = rows.filter((r) => r.scalePeer && r.workloadKey === m.workloadKey && (r.compareTo === m.operation || sharedPeer(r, m)));
    const cells = (p) => [m.workload, m.operation, m.seconds.toFixed(3), per1k(m), rss(m), p ? `${p.tool}: ${p.operation}` : '(none)', p ? p.seconds.toFixed(3) : '', p ? rss(p) : '', p ? `${(m.seconds / p.seconds).toFixed(2)}x` : '', m.details ?? ''];
    if (peers.length === 0) body.push(cells(null));
    for (const p of peers) body.push(cells(p));
  }
  const widths = header.map((x, i) => Math.max(x.length, ...body.map((b) => b[i].length)));
  const right = new Set([2, 3, 4, 6, 7, 8]);
  const line = (c) => c.map((x, i) => (right.has(i) ? x.padStart(widths[i]) : x.padEnd(widths[i]))).join('  ').trimEnd();
  console.log(`\nscale mode, per command:\n${line(header)}\n${widths.map((x) => '-'.repeat(x)).join('  ')}`);
  for (const b of body) console.log(line(b));
}

/** cp -r is the peer of push, fresh pull and checkout of the many-files workload; cp of the large file's add, push and pulls. */
function sharedPeer(p, m) {
  if (p.tool !== 'cp') return false;
  if (m.workloadKey === 'scale') return ['push (dir remote)', 'fresh clone + pull', 'checkout (data deleted)'].includes(m.operation);
  return m.workloadKey === 'scale-big';
}

/** The targets of the scale issue, each with the ratio measured in this run and whether it is met. */
function printTargets(h, s, rows, result) {
  const ratio = (a, b) => (a && b ? a.seconds / b.seconds : null);
  const out = [];
  const target = (workload, goal, value, limit, how) => out.push([workload, goal, value === null ? 'not measured' : `${value.toFixed(2)}${how}`, value === null ? '-' : value <= limit ? 'met' : 'NOT MET']);
  const many = rows.filter((r) => r.workloadKey === 'scale' && r.tool === 'mlx');
  const maxRss = many.length && many.every((r) => r.peakRssMiB != null) ? Math.max(...many.map((r) => r.peakRssMiB)) : null;
  out.push([`${s.files} files of 1-4 KiB in one tracked directory`, 'every command completes; peak RSS <= 1 GiB', maxRss === null ? 'not measured' : `${many.length} commands, max RSS ${maxRss.toFixed(0)} MiB`, maxRss === null ? '-' : maxRss <= 1024 && result.many ? 'met' : 'NOT MET']);
  const k = 'scale';
  target(`no-op status, ${s.files} files`, '<= 2x git status', ratio(find(rows, k, 'mlx', 'status (no-op)'), find(rows, k, 'git', 'git status (no-op)')), 2, 'x git status');
  target(`status after editing 1% of ${s.files} files`, '<= 2x git status', ratio(find(rows, k, 'mlx', 'status (1% edited)'), find(rows, k, 'git', 'git status (1% edited)')), 2, 'x git status');
  target(`add of ${s.files} small files`, 'faster than git add', ratio(find(rows, k, 'mlx', 'add'), find(rows, k, 'git', 'git add')), 1, 'x git add');
  target(`add + push of ${s.resticFiles} small files to a directory remote`, 'faster than restic backup', ratio(find(rows, 'scale-restic', 'mlx', 'add + push (dir remote)'), find(rows, 'scale-restic', 'restic', 'restic backup (local repo)')), 1, 'x restic');
  const cp = find(rows, k, 'cp', 'cp -r (warm)');
  target(`checkout of ${s.files} files from the cache (data deleted)`, '<= 1.5x cp -r', ratio(find(rows, k, 'mlx', 'checkout (data deleted)'), cp), 1.5, 'x cp -r');
  target(`fresh pull of ${s.files} files from a directory remote`, '<= 2x cp -r', ratio(find(rows, k, 'mlx', 'fresh clone + pull'), cp), 2, 'x cp -r');
  const big = 'scale-big';
  const bigCp = find(rows, big, 'cp', 'cp (warm)');
  const b3 = find(rows, big, 'b3sum', 'b3sum --num-threads 1');
  const slower = bigCp && b3 ? (bigCp.seconds >= b3.seconds ? bigCp : b3) : bigCp;
  const bigName = s.bigGiB > 0 ? `${s.bigGiB} GiB file` : 'large file (BENCH_BIG_GIB unset)';
  target(`add of a ${bigName}`, '<= 1.3x the slower of cp and b3sum', ratio(find(rows, big, 'mlx', 'add'), slower), 1.3, `x ${slower?.tool ?? 'peer'}`);
  target(`push of a ${bigName} to a directory remote`, '<= 2x cp', ratio(find(rows, big, 'mlx', 'push (dir remote)'), bigCp), 2, 'x cp');
  target(`fresh pull of a ${bigName}, hard links`, '<= 2x cp', ratio(find(rows, big, 'mlx', 'fresh pull (hardlink)'), bigCp), 2, 'x cp');
  target(`fresh pull of a ${bigName}, copies`, '<= 2.5x cp', ratio(find(rows, big, 'mlx', 'fresh pull (copy)'), bigCp), 2.5, 'x cp');
  for (const kind of ['dir', 's3rver']) {
    const p = result.pushes?.find((r) => r.kind === kind);
    const name = `remote after ${p?.pushes ?? (kind === 'dir' ? s.pushes : s.pushesS3)} small pushes (${kind === 'dir' ? 'directory' : 's3rver'})`;
    if (!p) out.push([name, '<= 20 index requests, <= 2x the time', 'not measured', '-']);
    else {
      const listings = kind === 's3rver' ? `, ${p.many.listPages} list requests` : '';
      out.push([name, '<= 20 index requests, <= 2x the time', `${p.indexRequests} index GETs${listings}, ${p.ratio.toFixed(2)}x the pull after 1 push`, p.indexRequests <= 20 && p.ratio <= 2 ? 'met' : 'NOT MET']);
    }
  }
  const [st, node] = [find(rows, 'scale-startup', 'mlx', 'status (empty repo)'), find(rows, 'scale-startup', 'node', 'node -e 0')];
  // CPU time (user + system) where hyperfine gave it: on a busy machine the wall time of two
  // back-to-back hyperfine runs differs by more than the start-up being measured.
  if (st?.cpuSeconds && node?.cpuSeconds) target('mlx status start-up in an empty repo', '<= 2x node -e 0', st.cpuSeconds / node.cpuSeconds, 2, `x node -e 0 in CPU time (wall ${ratio(st, node).toFixed(2)}x)`);
  else target('mlx status start-up in an empty repo', '<= 2x node -e 0', ratio(st, node), 2, 'x node -e 0');
  const tiny = find(rows, 'scale-tiny', 'mlx', 'push (dir remote)');
  target(`${s.tinyFiles} files of 200 B`, 'remote bytes <= 2x the raw bytes', tiny ? tiny.remoteBytes / (s.tinyFiles * 200) : null, 2, 'x raw bytes');
  const header = ['workload', 'target', 'measured', ''];
  const widths = header.map((x, i) => Math.max(x.length, ...out.map((b) => b[i].length)));
  const line = (c) => c.map((x, i) => x.padEnd(widths[i])).join('  ').trimEnd();
  console.log(`\nscale targets (ratios of wall seconds measured in this run):\n${line(header)}\n${widths.map((x) => '-'.repeat(x)).join('  ')}`);
  for (const b of out) console.log(line(b));
  for (const n of SCALE_NOTES) console.log(`note (scale): ${n}`);
}

const SCALE_NOTES = [
  'Every tool reads warm data: the tree (or the cache) is read once before each timed step; `sync` runs before each.',
  'Trees made for one step (the cp -r copy, the clone, the data before checkout) are moved aside, not deleted, until the end: on ext4 without a journal, files created soon after many deletions cost several times more, which would fall on checkout and pull but not on their peer cp -r.',
  'No-op status: one untimed `mlx status` and `git status` run first in each repo, so both measure the state a user\'s next status finds (git refreshes racily clean index entries once).',
  'The 1% edit rewrites every hundredth file (new inode, new bytes of a similar size) in the mlx and the git repo alike; `add (1% edited)` and `diff HEAD~1 HEAD` follow it.',
  '`cp -r (warm)` copies the tracked tree once; it is the peer of push, fresh clone + pull and checkout. A fresh pull is a `git clone` of the mlx repo and a timed `mlx pull`; pulled and checked-out trees are compared with the source by sha256 (untimed).',
  'gc runs with --keep-recent 0 after the edit was committed: the old versions of the edited files are no longer needed.',
  'restic: `restic backup` of the same files into a new local repository (RESTIC_PASSWORD set, cache inside the work folder) against `mlx add` + `mlx push` to a new directory remote.',
  'Many pushes: the remote is built as scripts/bench-pushes.mjs says (one CLI push, then packs of one tiny object each published through the push\'s own pack writer and consolidation step); index GETs are those of a fresh load of the remote index (pack and consolidated indexes; S3 list requests beside), the time a fresh clone\'s `mlx pull`, fastest of 3, against the same after one push.',
  'Start-up: hyperfine -N, 3 warm-up runs and 30 timed runs each, in a repository after `git init` and `mlx init`; the target is checked on CPU time (user + system), less disturbed by other load than wall time, which is shown beside it.',
];
