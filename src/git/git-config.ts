import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { gitRemoteFailed } from '../util/errors.js';

/*
 * Settings and paths as the git CLI sees them. Asking git (rather than reading `.git/config`) gets
 * linked worktrees, `core.hooksPath` and include files right.
 */

function runGit(cwd: string, args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync('git', args, { cwd, encoding: 'utf8', env: { ...process.env, GIT_TERMINAL_PROMPT: '0' } });
  if (r.error) throw gitRemoteFailed(`git ${args[0]}: ${(r.error as NodeJS.ErrnoException).code === 'ENOENT' ? 'the git command is not installed' : r.error.message}`, { args });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** A git config value as git resolves it, or undefined when unset. */
export function gitConfigGet(cwd: string, key: string): string | undefined {
  const r = runGit(cwd, ['config', '--get', key]);
  return r.status === 0 ? r.stdout.replace(/\n$/, '') : undefined;
}

/** Sets a key in the repository's own config (shared by its linked worktrees). */
export function gitConfigSet(cwd: string, key: string, value: string): void {
  const r = runGit(cwd, ['config', '--local', key, value]);
  if (r.status !== 0) throw gitRemoteFailed(`git config ${key}: ${r.stderr.trim().split('\n').pop() ?? 'failed'}`, { args: ['config', key] });
}

/** `git rev-parse --git-path <name>` as an absolute path: e.g. `hooks` honours core.hooksPath and worktrees. */
export function gitPath(cwd: string, name: string): string {
  const r = runGit(cwd, ['rev-parse', '--git-path', name]);
  if (r.status !== 0) throw gitRemoteFailed(`git rev-parse --git-path ${name}: ${r.stderr.trim().split('\n').pop() ?? 'failed'}`, { args: ['rev-parse', '--git-path', name] });
  return path.resolve(cwd, r.stdout.replace(/\n$/, ''));
}
