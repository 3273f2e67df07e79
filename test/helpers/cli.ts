import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const BIN = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../bin/mlx.js');

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the real, built CLI in `cwd`, as a user would. */
/** Extra environment for every CLI run of this test file (e.g. S3 credentials). */
export const cliEnv: Record<string, string> = {};

/**
 * Where every CLI run looks for the user-wide config unless a test sets XDG_CONFIG_HOME in `cliEnv`:
 * a folder that does not exist, so the machine's own ~/.config/mlx never changes what a test sees.
 */
const NO_USER_CONFIG = path.join(os.tmpdir(), `mlx-test-no-user-config-${process.pid}`);

export function mlx(cwd: string, ...args: string[]): RunResult {
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd, encoding: 'utf8', env: { ...process.env, XDG_CONFIG_HOME: NO_USER_CONFIG, MLX_LOCK_TIMEOUT_MS: '30000', ...cliEnv } });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

/** Like mlx(), but fails the test with the CLI's own output when the command does not succeed. */
export function mlxOk(cwd: string, ...args: string[]): RunResult {
  const r = mlx(cwd, ...args);
  if (r.code !== 0) throw new Error(`mlx ${args.join(' ')} exited ${r.code}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
  return r;
}

export function mlxJson<T = any>(cwd: string, ...args: string[]): T {
  return JSON.parse(mlxOk(cwd, '--json', ...args).stdout) as T;
}

/** Starts the CLI without waiting, for concurrency and kill tests. */
export function mlxSpawn(cwd: string, ...args: string[]): ChildProcess {
  return spawn(process.execPath, [BIN, ...args], { cwd, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, XDG_CONFIG_HOME: NO_USER_CONFIG, ...cliEnv } });
}

export function finished(child: ChildProcess): Promise<RunResult> {
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (d) => (stdout += d));
  child.stderr?.on('data', (d) => (stderr += d));
  return new Promise((resolve) => child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr })));
}

/** An error run: exactly one line on stderr, no stack trace, non-zero exit. */
export function expectCleanError(r: RunResult): string {
  const lines = r.stderr.trim().split('\n');
  if (r.code === 0) throw new Error(`expected failure, got exit 0: ${r.stdout}`);
  if (lines.length !== 1 || /\n\s+at /.test(r.stderr)) throw new Error(`expected one error line, got:\n${r.stderr}`);
  return lines[0]!;
}
