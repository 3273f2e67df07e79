import path from 'node:path';
import { cat } from '../../commands/cat.js';
import { badUsage } from '../../util/errors.js';
import { formatBytes, type Output } from '../output.js';

export async function runCat(out: Output, file: string, flags: { rev?: string; out?: string }): Promise<void> {
  // Without -o the file's bytes are stdout: a JSON document cannot share it.
  if (out.opts.json && flags.out === undefined) throw badUsage('mlx --json cat needs -o <file>: without it, stdout holds the file itself');
  const res = await cat({ cwd: out.cwd, path: file, rev: flags.rev, out: flags.out, fd: process.stdout.fd });
  if (res.out === undefined) return;
  out.result(res, () => [`wrote ${path.relative(out.cwd, res.out!) || res.out} (${formatBytes(res.size)}): ${res.path} at ${res.rev}`]);
}
