import fs from 'node:fs';
import path from 'node:path';
import { gitDir } from '../git/git-repo.js';
import { readFileIfExists, writeFileAtomicSync } from '../util/fs.js';
import { openRepo } from '../workspace/repo.js';

const MARKER = '# mlx hook: installed by `mlx install`';
export const HOOKS = ['post-checkout', 'post-merge', 'pre-push', 'pre-commit'] as const;
const ATTRIBUTES = ['*.mlx merge=mlx', 'mlx.lock merge=mlx'];

export interface InstallResult {
  hooks: { name: string; chained?: string }[];
  mergeDriver: string;
  gitattributes: boolean;
}

/**
 * `mlx install`: git hooks that keep data in step with git (post-checkout and post-merge restore it, pre-push pushes
 * it first, pre-commit warns about pointers whose data is not in the cache) and the merge driver for
 * pointer files and the run lockfile. `command` is how the hooks start this mlx (absolute paths, so
 * they work from any shell). A hook that was there before is kept and run first.
 */
export interface InstallHooksOptions {
  cwd: string;
  /** How the hooks and the merge driver start this mlx: absolute paths, whatever the shell's PATH. */
  command: string[];
}

export async function installHooks(opts: InstallHooksOptions): Promise<InstallResult> {
  const repo = await openRepo(opts.cwd);
  const command = opts.command;
  const git = gitDir(repo.root);
  const hooksDir = path.join(git, 'hooks');
  fs.mkdirSync(hooksDir, { recursive: true });
  const quoted = command.map(shellQuote).join(' ');
  const result: InstallResult = { hooks: [], mergeDriver: '', gitattributes: false };
  for (const name of HOOKS) {
    const file = path.join(hooksDir, name);
    const existing = readFileIfExists(file);
    let chained: string | undefined;
    if (existing !== undefined && !existing.includes(MARKER)) {
      chained = `${file}.pre-mlx`;
      fs.renameSync(file, chained);
    } else if (existing !== undefined && fs.existsSync(`${file}.pre-mlx`)) {
      chained = `${file}.pre-mlx`;
    }
    const previous = chained ? `"${chained}" "$@" || exit $?\n` : '';
    // pre-push reads the refs git sends on stdin; keep them for a chained hook.
    const body = name === 'pre-push' && chained
      ? `input=$(cat)\nprintf '%s\\n' "$input" | "${chained}" "$@" || exit $?\nexec ${quoted} hook ${name} "$@"\n`
      : `${previous}exec ${quoted} hook ${name} "$@"\n`;
    writeFileAtomicSync(file, `#!/bin/sh\n${MARKER}\n${body}`, { mode: 0o777 });
    fs.chmodSync(file, 0o755);
    result.hooks.push({ name, chained });
  }
  result.mergeDriver = `${quoted} merge-driver %O %A %B %P`;
  setGitConfig(path.join(git, 'config'), 'merge "mlx"', { name: 'mlx pointer and lockfile merge', driver: result.mergeDriver });
  const attrFile = path.join(repo.root, '.gitattributes');
  const attrs = readFileIfExists(attrFile) ?? '';
  const missing = ATTRIBUTES.filter((line) => !attrs.split('\n').includes(line));
  if (missing.length > 0) {
    writeFileAtomicSync(attrFile, `${attrs}${attrs === '' || attrs.endsWith('\n') ? '' : '\n'}${missing.join('\n')}\n`);
    result.gitattributes = true;
  }
  return result;
}

/** Sets keys of one section in a git config file, keeping everything else as it is. */
function setGitConfig(file: string, section: string, values: Record<string, string>): void {
  const lines = (readFileIfExists(file) ?? '').split('\n');
  const header = `[${section}]`;
  let start = lines.findIndex((l) => l.trim() === header);
  if (start === -1) {
    if (lines.length && lines[lines.length - 1] === '') lines.pop();
    lines.push(header);
    start = lines.length - 1;
  }
  let end = start + 1;
  while (end < lines.length && !lines[end]!.trim().startsWith('[')) end++;
  const body = lines.slice(start + 1, end).filter((l) => !Object.keys(values).includes(l.trim().split(/\s*=/)[0]!));
  for (const [k, v] of Object.entries(values)) body.push(`\t${k} = ${gitConfigValue(v)}`);
  lines.splice(start + 1, end - start - 1, ...body);
  writeFileAtomicSync(file, `${lines.join('\n').replace(/\n*$/, '')}\n`);
}

function gitConfigValue(v: string): string {
  return `"${v.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

function shellQuote(s: string): string {
  return /^[\w./@%+=:,-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}
