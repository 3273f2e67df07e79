import fs from 'node:fs';
import path from 'node:path';
import { gitConfigGet, gitPath } from '../git/git-config.js';
import { readFileIfExists, writeFileAtomicSync } from '../util/fs.js';
import { openRepo } from '../workspace/repo.js';
import { ensureMergeAttributes, findMlxScript, registerMergeDriver } from './git-setup.js';

const MARKER = '# mlx hook: installed by `mlx install`';
export const HOOKS = ['post-checkout', 'post-merge', 'pre-push', 'pre-commit'] as const;
type HookName = (typeof HOOKS)[number];

export interface InstallResult {
  /** Where the hooks went: the folder git runs hooks from (`core.hooksPath` when set). */
  hooksDir: string;
  /** core.hooksPath as configured, when it is. */
  hooksPath?: string;
  hooks: { name: string; chained?: string }[];
  /** When the hooks folder belongs to another tool (which rewrites it), nothing is written there. */
  managedBy?: { tool: string; advice: string[] };
  mergeDriver: string;
  gitattributes: boolean;
}

/**
 * `mlx install`: git hooks that keep data in step with git (post-checkout and post-merge restore it,
 * pre-push pushes it first, pre-commit warns about pointers whose data is not in the cache) and the
 * merge driver for pointer files, the run lockfile and `.gitignore`. Hooks go where git runs them
 * (`git rev-parse --git-path hooks`: core.hooksPath, worktrees) and find mlx when they run;
 * `command` (the running mlx, by absolute paths) is only their last resort. A hook that was there
 * before is kept and run first.
 */
export interface InstallHooksOptions {
  cwd: string;
  /** How this mlx was started (node and the script): the fallback when mlx is not found otherwise. */
  command: string[];
}

export async function installHooks(opts: InstallHooksOptions): Promise<InstallResult> {
  const repo = await openRepo(opts.cwd);
  const hooksDir = gitPath(repo.root, 'hooks');
  const hooksPath = gitConfigGet(repo.root, 'core.hooksPath');
  const result: InstallResult = { hooksDir, hooksPath, hooks: [], mergeDriver: '', gitattributes: false };
  const manager = hooksManager(hooksDir);
  if (manager) {
    // The tool regenerates this folder (husky: on npm install): hooks written here would vanish.
    result.managedBy = { tool: manager.tool, advice: HOOKS.map((h) => `${path.relative(repo.root, manager.userHook(h))}: add the line  mlx hook ${h} "$@"`) };
  } else {
    fs.mkdirSync(hooksDir, { recursive: true });
    for (const name of HOOKS) result.hooks.push(writeHook(hooksDir, name, opts.command));
  }
  result.mergeDriver = registerMergeDriver(repo.root, opts.command);
  result.gitattributes = ensureMergeAttributes(repo.root);
  return result;
}

function writeHook(hooksDir: string, name: HookName, command: string[]): { name: string; chained?: string } {
  const file = path.join(hooksDir, name);
  const existing = readFileIfExists(file);
  let chained: string | undefined;
  if (existing !== undefined && !existing.includes(MARKER)) {
    chained = `${file}.pre-mlx`;
    fs.renameSync(file, chained);
  } else if (existing !== undefined && fs.existsSync(`${file}.pre-mlx`)) {
    chained = `${file}.pre-mlx`;
  }
  // The previous hook is found beside this one (the repository may move); pre-push reads the refs
  // git sends on stdin, so they are kept for both.
  const prev = `"$(dirname "$0")/${name}.pre-mlx"`;
  const previous = !chained ? '' : name === 'pre-push' ? `input=$(cat)\nprintf '%s\\n' "$input" | ${prev} "$@" || exit $?\n` : `${prev} "$@" || exit $?\n`;
  const restore = name === 'pre-push' && chained ? ` <<mlx_refs\n$input\nmlx_refs` : '';
  const body = `${findMlxScript(command, `${name} hook`, MISSING[name].consequence, MISSING[name].exit, `hook ${name}`)}exec "$@"${restore}\n`;
  writeFileAtomicSync(file, `#!/bin/sh\n${MARKER}\n${previous}${body}`, { mode: 0o777 });
  fs.chmodSync(file, 0o755);
  return { name, chained };
}

/**
 * Without mlx, pre-push stops `git push` (as git-lfs's hooks do): the commits would name data nobody
 * can pull. The others only restore data or warn, so they say so and let git go on.
 */
const MISSING: Record<HookName, { exit: number; consequence: string }> = {
  'pre-push': { exit: 1, consequence: 'the data was not pushed, so git push is stopped (install mlx, or git push --no-verify)' },
  'post-checkout': { exit: 0, consequence: 'tracked data not restored (mlx checkout once mlx is installed)' },
  'post-merge': { exit: 0, consequence: 'tracked data not restored (mlx checkout once mlx is installed)' },
  'pre-commit': { exit: 0, consequence: 'pointers not checked' },
};

/** A tool that owns the hooks folder, and where its users put their own hook lines. */
function hooksManager(dir: string): { tool: string; userHook: (h: string) => string } | undefined {
  // husky 9 points core.hooksPath at .husky/_ (regenerated on install, running .husky/<hook>); husky 4-8 at .husky.
  const husky = dir.split(path.sep).lastIndexOf('.husky');
  if (husky !== -1 || fs.existsSync(path.join(dir, 'husky.sh')) || fs.existsSync(path.join(dir, '_', 'husky.sh'))) {
    const root = husky !== -1 ? dir.split(path.sep).slice(0, husky + 1).join(path.sep) : dir;
    return { tool: 'husky', userHook: (h) => path.join(root, h) };
  }
  return undefined;
}
