import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { RunResult } from './cli.js';

/*
 * The project as a user gets it: `npm pack`, then `npm install <tarball>` into an empty folder, run by
 * this process's Node (so CI's second Node installs and runs with that Node). Packing skips the
 * `prepare` build: dist/ must be built already (`npm test` builds first), and tests running beside this
 * one keep reading the same dist/.
 */

export const PROJECT_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** npm's own script, to run with this process's Node: npm then installs for that Node (engines, optional dependencies, addon builds). */
export function npmCli(): string {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    const candidate = path.join(dir, 'npm');
    if (fs.existsSync(candidate)) {
      const real = fs.realpathSync(candidate);
      // `npm` is a link to bin/npm-cli.js, or a shell script beside it.
      return real.endsWith('.js') ? real : path.join(path.dirname(real), 'npm-cli.js');
    }
  }
  throw new Error('npm is not on PATH');
}

/**
 * The environment npm runs with: this one, with the extra CA certificates vitest.config.ts keeps from
 * the CLI processes (npm may reach the registry through a proxy that needs them).
 */
export function npmEnv(env: Record<string, string> = {}): NodeJS.ProcessEnv {
  const ca = process.env.MLX_TEST_NPM_CA_CERTS;
  return { ...process.env, ...(ca ? { NODE_EXTRA_CA_CERTS: ca } : {}), ...env };
}

/*
 * The optional zstd-napi addon installs with `prebuild-install -r napi || node-gyp rebuild`: a prebuilt
 * binary from the package's GitHub releases, else a compile of zstd (about 30 s of CPU). Where GitHub
 * is out of reach every install with scripts compiles. The first addon an install builds is kept as
 * the prebuild that download would have given (its Node-API build runs on every Node that has
 * Node-API 8), and later installs, in this run or the next, find it in prebuild-install's
 * local-prebuilds folder, which a `.prebuild-installrc` in the install's folder names.
 */
const ADDON_PREBUILDS = path.join(PROJECT_ROOT, 'node_modules', '.cache', 'mlx-test-prebuilds');

/** Points prebuild-install, run by an install into `prefix`, at the kept prebuilds. */
export function useAddonPrebuilds(prefix: string): void {
  fs.writeFileSync(path.join(prefix, '.prebuild-installrc'), `local-prebuilds=${ADDON_PREBUILDS}\n`);
}

/** Keeps the zstd-napi addon an install under `prefix` built, as the prebuild later installs use. */
export function keepAddonPrebuild(prefix: string): void {
  const addon = path.join(prefix, 'node_modules', 'zstd-napi');
  if (!fs.existsSync(path.join(addon, 'build', 'Release', 'binding.node'))) return;
  const { version, binary } = JSON.parse(fs.readFileSync(path.join(addon, 'package.json'), 'utf8')) as { version: string; binary: { napi_versions: number[] } };
  const napi = Math.max(...binary.napi_versions.filter((v) => v <= Number(process.versions.napi)));
  // prebuild-install's name for it: {name}-v{version}-napi-v{napi}-{platform}-{arch}.tar.gz (glibc).
  const file = path.join(ADDON_PREBUILDS, `zstd-napi-v${version}-napi-v${napi}-${process.platform}-${process.arch}.tar.gz`);
  if (fs.existsSync(file)) return;
  fs.mkdirSync(ADDON_PREBUILDS, { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  const r = spawnSync('tar', ['-czf', tmp, '-C', addon, 'build/Release/binding.node'], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`tar of the zstd-napi addon failed: ${r.stderr}`);
  fs.renameSync(tmp, file);
}

/** Runs npm with this process's Node in `cwd`; throws with npm's output when it fails. */
export function npm(cwd: string, args: string[], env: Record<string, string> = {}): string {
  const r = spawnSync(process.execPath, [npmCli(), ...args], { cwd, encoding: 'utf8', env: npmEnv(env) });
  if (r.status !== 0) throw new Error(`npm ${args.join(' ')} exited ${r.status}\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

let packed: string | undefined;

/** The project's tarball, packed once per test process into a temporary folder. */
export function packProject(): string {
  if (packed && fs.existsSync(packed)) return packed;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mlx-pack-'));
  const [{ filename }] = JSON.parse(npm(PROJECT_ROOT, ['pack', '--ignore-scripts', '--json', '--pack-destination', dir])) as [{ filename: string }];
  packed = path.join(dir, filename);
  return packed;
}

export interface PackedInstall {
  /** The folder installed into: `<prefix>/node_modules/<name>`. */
  prefix: string;
  /** The installed package's folder. */
  packageDir: string;
  /** The `mlx` bin as npm linked it. */
  bin: string;
}

/**
 * `npm install <tarball>` into the empty folder `prefix`, with or without `--ignore-scripts` (and
 * `--omit=optional`, as some installs are made). Packages already in npm's cache are taken from there,
 * the zstd-napi addon from the kept prebuild (keepAddonPrebuild); an addon build runs on every core.
 */
export function installPacked(prefix: string, { ignoreScripts, omitOptional = false }: { ignoreScripts: boolean; omitOptional?: boolean }): PackedInstall {
  const tarball = packProject();
  const name = (JSON.parse(fs.readFileSync(path.join(PROJECT_ROOT, 'package.json'), 'utf8')) as { name: string }).name;
  fs.mkdirSync(prefix, { recursive: true });
  useAddonPrebuilds(prefix);
  const args = ['install', '--prefix', prefix, '--no-audit', '--no-fund', '--prefer-offline', '--no-save', ...(ignoreScripts ? ['--ignore-scripts'] : []), ...(omitOptional ? ['--omit=optional'] : []), tarball];
  npm(prefix, args, { JOBS: 'max' });
  if (!ignoreScripts) keepAddonPrebuild(prefix);
  return { prefix, packageDir: path.join(prefix, 'node_modules', name), bin: path.join(prefix, 'node_modules', '.bin', 'mlx') };
}

/** Runs the installed `mlx` with this process's Node in `cwd`, with no user-wide config. */
export function runInstalled(install: PackedInstall, cwd: string, args: string[], env: Record<string, string> = {}): RunResult {
  const r = spawnSync(process.execPath, [install.bin, ...args], {
    cwd,
    encoding: 'utf8',
    env: { ...process.env, XDG_CONFIG_HOME: path.join(install.prefix, 'no-user-config'), ...env },
  });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

/** Top-level package names in an install's node_modules (scoped ones as `@scope/name`). */
export function installedPackages(install: PackedInstall): string[] {
  const root = path.join(install.prefix, 'node_modules');
  return fs.readdirSync(root).filter((n) => !n.startsWith('.')).flatMap((n) => (n.startsWith('@') ? fs.readdirSync(path.join(root, n)).map((m) => `${n}/${m}`) : [n])).sort();
}
