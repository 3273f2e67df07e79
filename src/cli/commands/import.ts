import { importData } from '../../commands/import.js';
import { parseJobs } from '../flags.js';
import { formatBytes, type Output } from '../output.js';
import { withProgress } from '../progress.js';
import { importedFrom } from '../render/imports.js';
import { reused } from './fetch.js';

export interface ImportFlags {
  rev?: string;
  out?: string;
  jobs?: string;
}

export async function runImport(out: Output, repo: string, path: string, flags: ImportFlags): Promise<void> {
  const jobs = parseJobs(flags.jobs);
  const res = await withProgress(out, 'import', (progress) => importData({ cwd: out.cwd, repo, path, rev: flags.rev, out: flags.out, jobs, progress }));
  out.result(res, () => [
    `${res.path}${res.kind === 'dir' ? `/ (${res.files} files, ${formatBytes(res.size)})` : ` (${formatBytes(res.size)})`} ${importedFrom(res.source)}`,
    `fetched ${res.fetch.fetched} object(s), ${formatBytes(res.fetch.bytesReceived)} received${reused(res.fetch.bytesReused)} (${res.fetch.alreadyLocal} already in the cache)`,
    'To track it with git, run:',
    `  git add ${res.path}.mlx .gitignore`,
  ]);
}
