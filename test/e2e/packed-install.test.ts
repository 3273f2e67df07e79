import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectCleanError } from '../helpers/cli.js';
import { installedPackages, installPacked, runInstalled, type PackedInstall } from '../helpers/packed-install.js';
import { snapshot, tempDir, write } from '../helpers/repo.js';
import { startS3ServerProcess, type S3TestServer } from '../helpers/s3-server.js';
import { loadHasher, type HasherFactory } from '../../src/hash/blake3.js';
import { commitAll, git } from '../helpers/team.js';

// The package as a user installs it, with and without install scripts, run by this test's Node (CI
// runs the suite under the machine's Node and under Node 24).

const nodeHasZstd = typeof (zlib as unknown as { zstdCompressSync?: unknown }).zstdCompressSync === 'function';

/** What esbuild bundles into dist/: none of it may be installed beside the package. */
const BUNDLED = ['@aws-sdk/client-s3', '@aws-sdk/lib-storage', '@smithy/core', 'commander', 'hash-wasm', 'ignore', 'isomorphic-git', 'yaml', 'zod'];

let s3: S3TestServer;
let newHasher: HasherFactory;
beforeAll(async () => {
  s3 = await startS3ServerProcess();
  newHasher = await loadHasher();
});
afterAll(() => s3?.stop());

describe.each([{ ignoreScripts: false }, { ignoreScripts: true }])('the packed tarball installed with ignoreScripts=$ignoreScripts', ({ ignoreScripts }) => {
  let root: string;
  let install: PackedInstall;
  let addonBuilt: boolean;
  beforeAll(() => {
    root = tempDir('mlx-packed-');
    install = installPacked(path.join(root, 'prefix'), { ignoreScripts });
    addonBuilt = fs.existsSync(path.join(install.prefix, 'node_modules', 'zstd-napi', 'build', 'Release', 'binding.node'));
  }, 600_000);
  afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

  const env = () => ({ AWS_ACCESS_KEY_ID: s3.accessKeyId, AWS_SECRET_ACCESS_KEY: s3.secretAccessKey, MLX_LOCK_TIMEOUT_MS: '30000' });
  const run = (cwd: string, ...args: string[]) => runInstalled(install, cwd, args, env());
  const ok = (cwd: string, ...args: string[]) => {
    const r = run(cwd, ...args);
    if (r.code !== 0) throw new Error(`mlx ${args.join(' ')} exited ${r.code}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
    return r;
  };

  it('installs what runs and nothing esbuild bundled; the addon is built only where scripts ran', () => {
    const packages = installedPackages(install);
    expect(packages).toContain('@napi-rs/blake-hash');
    expect(packages.filter((p) => BUNDLED.includes(p))).toEqual([]);
    expect(fs.readdirSync(install.packageDir).sort()).toEqual(['LICENSE', 'README.md', 'bin', 'dist', 'package.json', 'python', 'spec'].filter((f) => fs.existsSync(path.join(install.packageDir, f))));
    expect(fs.existsSync(path.join(install.packageDir, 'dist', 'cli', 'main.js'))).toBe(true);
    if (ignoreScripts) expect(addonBuilt).toBe(false);
  });

  it('runs add → push → clone → pull through a directory and an S3 remote, or says in one line that zstd is missing', () => {
    const origin = path.join(root, 'origin.git');
    git(root, 'init', '-q', '--bare', '--initial-branch=main', origin);
    const alice = path.join(root, 'alice');
    git(root, 'clone', '-q', origin, alice);
    git(alice, 'checkout', '-q', '-b', 'main');
    ok(alice, 'init');
    // Tables compress, so every push writes zstd frames.
    for (let i = 0; i < 30; i++) write(alice, `data/t${i}.csv`, Array.from({ length: 40 + i * 20 }, (_, r) => `${r},${(r * 7) % 13},label-${r % 5}\n`).join(''));
    write(alice, 'data/big.csv', Array.from({ length: 30_000 }, (_, r) => `${r},${(r * 31) % 1000},${r % 7}\n`).join(''));
    ok(alice, 'add', 'data');
    ok(alice, 'remote', 'add', '-d', 'storage', path.join(root, 'remote'));
    ok(alice, 'remote', 'add', 'cloud', `s3://${s3.bucket}/packed-${ignoreScripts}`, '-o', `endpoint=${s3.endpoint}`);
    commitAll(alice, 'data');
    git(alice, 'push', '-q', '-u', 'origin', 'main');

    const doctor = run(alice, 'doctor');
    expect(doctor.stdout).toMatch(/^hash: {8}blake3 \(native\)$/m);
    const zstdWorks = nodeHasZstd || addonBuilt;
    if (!zstdWorks) {
      // Node 20 without the addon built: the report says so, and so does every command that needs it.
      expect(doctor.stdout).toMatch(/^zstd: {8}missing$/m);
      expect(expectCleanError(doctor)).toMatch(/^mlx: error: zstd is missing: Node v\S+ has no zstd in node:zlib .* the optional zstd-napi addon does not load \(.*\) \(hint: use Node 22\.15 or later, or build the addon with `npm rebuild zstd-napi`/);
      expect(expectCleanError(run(alice, 'push'))).toMatch(/^mlx: error: zstd is missing: /);
      return;
    }
    expect(doctor.code).toBe(0);
    expect(doctor.stdout).toMatch(nodeHasZstd ? /^zstd: {8}node:zlib$/m : /^zstd: {8}zstd-napi \(native addon\)$/m);

    for (const remote of ['storage', 'cloud']) {
      const pushed = ok(alice, 'push', '-r', remote);
      // Nothing on stderr: no SDK NodeVersionSupportWarning, no other warning.
      expect(pushed.stderr).toBe('');
      const bob = path.join(root, `bob-${remote}`);
      git(root, 'clone', '-q', origin, bob);
      const pulled = ok(bob, 'pull', '-r', remote);
      expect(pulled.stderr).toBe('');
      expect(snapshot(path.join(bob, 'data'))).toEqual(snapshot(path.join(alice, 'data')));
    }
  });
});

describe('the packed tarball installed without optional dependencies', () => {
  let root: string;
  let install: PackedInstall;
  beforeAll(() => {
    root = tempDir('mlx-packed-');
    install = installPacked(path.join(root, 'prefix'), { ignoreScripts: true, omitOptional: true });
  }, 600_000);
  afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

  it('hashes with the portable BLAKE3 where the prebuilt binding was left out, and doctor says so', () => {
    expect(installedPackages(install).filter((p) => p.startsWith('@napi-rs/blake-hash-'))).toEqual([]);
    const repo = path.join(root, 'repo');
    git(root, 'init', '-q', '--initial-branch=main', repo);
    const run = (...args: string[]) => runInstalled(install, repo, args);
    expect(run('init').code).toBe(0);
    const table = Buffer.from('a,b\n1,2\n'.repeat(5000));
    write(repo, 'a.csv', table);
    expect(run('add', 'a.csv').stderr).toBe('');
    // The oid the native binding of this test process gives the same bytes.
    expect(fs.readFileSync(path.join(repo, 'a.csv.mlx'), 'utf8')).toContain(`oid: b3:${newHasher.hexOf!(table)}`);
    const later = new Date(Date.now() + 60_000);
    fs.utimesSync(path.join(repo, 'a.csv'), later, later);
    const status = JSON.parse(run('--json', 'status').stdout) as { paths: { state: string }[]; hashedFiles: number };
    expect([status.paths.map((p) => p.state), status.hashedFiles]).toEqual([['clean'], 1]);
    // The report is printed even where zstd is missing (Node 20: the optional addon was left out too).
    expect(run('doctor').stdout).toMatch(/^hash: {8}blake3 \(wasm\)$/m);
  });
});
