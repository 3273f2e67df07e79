import path from 'node:path';
import { runHook } from '../../commands/hook.js';
import { install } from '../../commands/install-hooks.js';
import { mergePointerFiles, mergeTextFiles } from '../../commands/merge-driver.js';
import { openRepo } from '../../workspace/repo.js';
import { POINTER_SUFFIX } from '../../formats/pointer.js';
import { E, MlxError } from '../../util/errors.js';
import type { Output } from '../output.js';

/** How hooks and the merge driver start this very mlx: absolute paths, whatever the shell's PATH. */
function selfCommand(): string[] {
  return [process.execPath, path.resolve(process.argv[1] ?? 'mlx')];
}

export async function runInstall(out: Output): Promise<void> {
  const repo = await openRepo(out.cwd);
  const res = install(repo, selfCommand());
  out.result(res, () => [
    ...res.hooks.map((h) => `installed hook ${h.name}${h.chained ? ` (runs the previous hook, kept as ${path.basename(h.chained)}, first)` : ''}`),
    'registered the merge driver "mlx" for *.mlx and mlx.lock',
    ...(res.gitattributes ? ['updated .gitattributes: commit it so every clone merges pointers with mlx'] : []),
  ]);
}

export async function runHookCommand(out: Output, name: string, args: string[] = []): Promise<void> {
  const repo = await openRepo(out.cwd);
  // pre-push gets the refs being pushed on standard input.
  const stdin = name === 'pre-push' && !process.stdin.isTTY ? await readStdin() : '';
  const res = await runHook(repo, name, args, stdin);
  for (const m of res.messages) process.stderr.write(`${m}\n`);
  if (res.code !== 0) throw new MlxError(E.USAGE, `${name} hook stopped git: the data could not be pushed first`, { hint: 'fix the remote, or push with --no-verify to skip the hook' });
}

export async function runMergeDriver(out: Output, base: string, ours: string, theirs: string, name: string): Promise<void> {
  const repo = await openRepo(out.cwd);
  const res = name.endsWith(POINTER_SUFFIX) ? mergePointerFiles(repo, base, ours, theirs, name) : mergeTextFiles(base, ours, theirs);
  if (!res.merged) {
    throw new MlxError(E.MERGE_CONFLICT, `merge conflict in ${name}: ${res.conflicts.slice(0, 5).join(', ')}${res.conflicts.length > 5 ? ` and ${res.conflicts.length - 5} more` : ''}`, {
      hint: `edit ${name} to keep one side (or git checkout --ours/--theirs ${name}), then mlx checkout and git add it`,
    });
  }
  out.verbose(`mlx merge-driver: ${name} merged (${res.how})`);
}

async function readStdin(): Promise<string> {
  const parts: Buffer[] = [];
  for await (const chunk of process.stdin) parts.push(chunk as Buffer);
  return Buffer.concat(parts).toString('utf8');
}
