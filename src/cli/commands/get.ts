import path from 'node:path';
import { get } from '../../commands/get.js';
import { parseJobs } from '../flags.js';
import { formatBytes, type Output } from '../output.js';
import { withProgress } from '../progress.js';
import { sourceLabel } from '../render/imports.js';

export interface GetFlags {
  rev?: string;
  out?: string;
  jobs?: string;
}

export async function runGet(out: Output, repo: string, sourcePath: string, flags: GetFlags): Promise<void> {
  const jobs = parseJobs(flags.jobs);
  const res = await withProgress(out, 'get', (progress) => get({ cwd: out.cwd, repo, path: sourcePath, rev: flags.rev, out: flags.out, jobs, progress }));
  const shown = path.relative(out.cwd, res.out) || res.out;
  out.result(res, () => [
    `wrote ${shown}${res.kind === 'dir' ? `/ (${res.files} files, ${formatBytes(res.size)})` : ` (${formatBytes(res.size)})`}, not tracked; from ${sourceLabel(res.source)}`,
  ]);
}
