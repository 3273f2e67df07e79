import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { POINTER_SUFFIX } from '../formats/pointer.js';
import { RUN_LOCK_FILE, type Run } from '../formats/run-lock.js';
import { isErrno } from '../util/errors.js';
import { readFileIfExists } from '../util/fs.js';
import { gitignorePattern, ignoredByMlx } from '../workspace/gitignore.js';
import { MLX_DIR } from '../workspace/layout.js';
import { hasPointer } from '../workspace/pointers.js';
import type { Repo } from '../workspace/repo.js';

/*
 * The commit a run starts from, and whether the user's code differs from it. "Dirty" is about the
 * code, not about mlx's own bookkeeping: a second run in one commit must not be dirty only because the
 * first wrote mlx.lock, pointers and .gitignore entries. What counts is specified in spec/run.md.
 * The git CLI answers (git is always present where mlx runs): it reads any index version, linked
 * worktrees and sparse checkouts, and its stat cache keeps `status` fast.
 */

/** A line mlx writes to `.gitattributes` (install sets merge drivers for the files mlx writes). */
const MLX_ATTRIBUTE = /^\/?(\*\.mlx|mlx\.lock|\.gitignore)\s+merge=(mlx|union)\s*$/;

export async function gitState(repo: Repo, onWarning?: (w: string) => void): Promise<Run['git']> {
  let prefix: string;
  let commit: string;
  try {
    // --show-prefix: where the mlx root sits in the git work tree (status paths are from the git root).
    [prefix, commit] = (await git(repo.root, ['rev-parse', '--show-prefix', '--verify', '--quiet', 'HEAD^{commit}'])).split('\n') as [string, string];
  } catch (err) {
    if (isErrno(err, 'ENOENT')) onWarning?.('the git command is not installed: the run records no commit');
    return { commit: null, dirty: true }; // no commit yet: nothing to be clean against
  }
  let status: string;
  try {
    status = await git(repo.root, ['--no-optional-locks', 'status', '--porcelain=v1', '-z', '--untracked-files=no']);
  } catch (err) {
    onWarning?.(`git status failed (${firstLine(err)}): the run is recorded as dirty`);
    return { commit, dirty: true };
  }
  const changed: string[] = [];
  const fields = status.split('\0');
  for (let i = 0; i < fields.length; i++) {
    const f = fields[i]!;
    if (f.length < 4) continue;
    changed.push(f.slice(3));
    if (f[0] === 'R' || f[0] === 'C') i++; // the next field is where it came from
  }
  const oursOnly = await Promise.all(changed.map((p) => (p.startsWith(prefix) ? isBookkeeping(repo, p.slice(prefix.length), prefix) : false)));
  return { commit, dirty: oursOnly.some((ours) => !ours) };
}

function firstLine(err: unknown): string {
  const e = err as { stderr?: string; message?: string };
  return (e.stderr?.trim() || e.message || String(err)).split('\n')[0]!;
}

/** Whether a changed tracked file (root-relative) is mlx's bookkeeping rather than the user's code. */
export async function isBookkeeping(repo: Repo, rel: string, prefix = ''): Promise<boolean> {
  if (rel === RUN_LOCK_FILE || rel.startsWith(`${MLX_DIR}/`)) return true;
  if (rel.endsWith(POINTER_SUFFIX)) return isPointerFile(repo, rel);
  if (rel === '.gitignore') return onlyAddedLines(repo, rel, prefix, mlxIgnoreEntry(repo));
  if (rel === '.gitattributes') return onlyAddedLines(repo, rel, prefix, (l) => MLX_ATTRIBUTE.test(l));
  return false;
}

/** A pointer file, whoever edited it (the data it names is recorded by oid in the run). */
function isPointerFile(repo: Repo, rel: string): boolean {
  const data = rel.slice(0, -POINTER_SUFFIX.length);
  if (fs.existsSync(path.join(repo.root, rel))) return hasPointer(repo, data);
  return ignoredByMlx(repo.root)(data); // deleted: it was ours if mlx ignored its data
}

/** An entry `mlx add` writes: the anchored, escaped path of data that has a pointer. */
function mlxIgnoreEntry(repo: Repo): (line: string) => boolean {
  return (line) => {
    if (!line.startsWith('/')) return false;
    const rel = line.slice(1).replace(/\\(.)/g, '$1');
    return gitignorePattern(rel) === line && hasPointer(repo, rel);
  };
}

/**
 * Whether the file differs from HEAD only by added lines that `ours` accepts (blank lines aside):
 * any removed or other added line is the user's edit.
 */
async function onlyAddedLines(repo: Repo, rel: string, prefix: string, ours: (line: string) => boolean): Promise<boolean> {
  const lines = (text: string) => text.split('\n').map((l) => l.replace(/\r$/, '')).filter((l) => l.trim() !== '');
  const before = lines(await git(repo.root, ['cat-file', 'blob', `HEAD:${prefix}${rel}`]).catch(() => ''));
  const after = lines(readFileIfExists(path.join(repo.root, rel)) ?? '');
  const counts = new Map<string, number>();
  for (const l of before) counts.set(l, (counts.get(l) ?? 0) + 1);
  for (const l of after) {
    const n = counts.get(l) ?? 0;
    if (n > 0) counts.set(l, n - 1);
    else if (!ours(l)) return false;
  }
  return [...counts.values()].every((n) => n === 0);
}

function git(cwd: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile('git', args, { cwd, env: { ...process.env, GIT_TERMINAL_PROMPT: '0' }, maxBuffer: 256 * 1024 * 1024 }, (err, stdout, stderr) => (err ? reject(Object.assign(err, { stderr })) : resolve(stdout)));
  });
}
