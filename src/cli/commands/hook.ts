import { runHook as runGitHook } from '../../commands/hook.js';
import { badUsage } from '../../util/errors.js';
import type { Output } from '../output.js';

export async function runHook(out: Output, name: string, args: string[] = []): Promise<void> {
  // pre-push gets the refs being pushed on standard input.
  const stdin = name === 'pre-push' && !process.stdin.isTTY ? await readStdin() : '';
  const res = await runGitHook({ cwd: out.cwd, name, args, stdin });
  for (const m of res.messages) process.stderr.write(`${m}\n`);
  if (res.code !== 0) throw badUsage(`${name} hook stopped git: the data could not be pushed first`, { hint: 'fix the remote, or push with --no-verify to skip the hook' });
}

async function readStdin(): Promise<string> {
  const parts: Buffer[] = [];
  for await (const chunk of process.stdin) parts.push(chunk as Buffer);
  return Buffer.concat(parts).toString('utf8');
}
