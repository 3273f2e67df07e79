import path from 'node:path';
import { RUN_LOCK_FILE } from '../formats/run-lock.js';
import { gitConfigGet, gitConfigSet } from '../git/git-config.js';
import { isMlxError, E } from '../util/errors.js';
import { readFileIfExists, writeFileAtomicSync } from '../util/fs.js';

/*
 * What `mlx init` and `mlx install` set up in git: the merge driver (config, per clone) and the
 * attributes that route files to it (.gitattributes, committed). Both are idempotent, so running
 * `mlx install` in a repository set up by an older mlx adds only what is new.
 */

/**
 * Files the mlx merge driver merges: pointers (directories file by file), the run lockfile (run by
 * run) and `.gitignore` files, which mlx appends to on every branch (as sets of lines, so two branches
 * tracking different paths never conflict there).
 */
export const MERGE_ATTRIBUTES = ['*.mlx merge=mlx', `${RUN_LOCK_FILE} merge=mlx`, '.gitignore merge=mlx'];

/** Adds the missing `MERGE_ATTRIBUTES` lines to the root `.gitattributes`; whether it changed. */
export function ensureMergeAttributes(root: string): boolean {
  const file = path.join(root, '.gitattributes');
  const text = readFileIfExists(file) ?? '';
  const lines = new Set(text.split('\n').map((l) => l.replace(/\r$/, '').trim()));
  const missing = MERGE_ATTRIBUTES.filter((line) => !lines.has(line));
  if (missing.length === 0) return false;
  writeFileAtomicSync(file, `${text}${text === '' || text.endsWith('\n') ? '' : '\n'}${missing.join('\n')}\n`);
  return true;
}

/** Registers `[merge "mlx"]` in the repository's git config; returns the driver command line. */
export function registerMergeDriver(root: string, recorded: string[]): string {
  // One line in .git/config; git runs it with sh and the four temporary files as $1..$4.
  const script = `${findMlxScript(recorded, 'merge driver', 'the file is left in conflict; install mlx and merge again', 1, 'merge-driver')}exec "$@"`;
  const driver = `sh -c ${shellQuote(script.replace(/\n/g, '; '))} mlx-merge-driver %O %A %B %P`;
  gitConfigSet(root, 'merge.mlx.name', 'mlx pointer, lockfile and .gitignore merge');
  gitConfigSet(root, 'merge.mlx.driver', driver);
  return driver;
}

/**
 * Git config is never cloned, so a fresh clone of a repository whose committed .gitattributes route
 * files to the mlx driver merges them as plain text until someone registers it. `mlx pull`, the first
 * command run in a clone, registers it then; whether it did. Without git nothing is registered.
 */
export function ensureMergeDriverRegistered(root: string, recorded: string[]): boolean {
  const attributes = readFileIfExists(path.join(root, '.gitattributes')) ?? '';
  if (!/\smerge=mlx\b/.test(attributes)) return false;
  try {
    if (gitConfigGet(root, 'merge.mlx.driver') !== undefined) return false;
    registerMergeDriver(root, recorded);
    return true;
  } catch (err) {
    if (isMlxError(err, E.GIT_REMOTE)) return false;
    throw err;
  }
}

/**
 * Shell lines that find mlx when a hook or the merge driver runs, and prepend it to "$@": `mlx` on
 * PATH (as git-lfs and DVC hooks do), else the repository's `node_modules/.bin/mlx`, else the mlx that
 * installed them (`recorded`: node and the script; with any `node` on PATH when that node is gone, as
 * after a Node upgrade). Found nowhere: one line on stderr and exit `missingExit`.
 */
export function findMlxScript(recorded: string[], what: string, consequence: string, missingExit: number, args = ''): string {
  const [node, script] = recorded.length >= 2 ? [recorded[0]!, recorded[recorded.length - 1]!] : ['node', recorded[0] ?? 'mlx'];
  const a = args === '' ? '"$@"' : `${args} "$@"`;
  return [
    `top=$(git rev-parse --show-toplevel 2>/dev/null || pwd)`,
    `if command -v mlx >/dev/null 2>&1; then set -- mlx ${a}`,
    `elif [ -x "$top/node_modules/.bin/mlx" ]; then set -- "$top/node_modules/.bin/mlx" ${a}`,
    `elif [ -x ${dq(node)} ] && [ -f ${dq(script)} ]; then set -- ${dq(node)} ${dq(script)} ${a}`,
    `elif command -v node >/dev/null 2>&1 && [ -f ${dq(script)} ]; then set -- node ${dq(script)} ${a}`,
    `else echo ${dq(`mlx: ${what}: mlx not found (not on PATH, not in node_modules/.bin, not at ${script}): ${consequence}`)} >&2; exit ${missingExit}`,
    'fi',
    '',
  ].join('\n');
}

/** A double-quoted shell word (keeps working inside a single-quoted `sh -c` script). */
function dq(s: string): string {
  return `"${s.replace(/["\\$`]/g, (c) => `\\${c}`)}"`;
}

export function shellQuote(s: string): string {
  return /^[\w./@%+=:,-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}
