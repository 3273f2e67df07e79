import { lsCommand } from '../../commands/ls.js';
import { shortOid } from '../../hash/oid.js';
import { formatBytes, type Output } from '../output.js';
import { importedFrom } from '../render/imports.js';

export async function runLs(out: Output, args: string[], flags: { rev?: string }): Promise<void> {
  const res = await lsCommand(out.cwd, args, flags.rev);
  out.result(res, () => [
    ...res.rows.map((r) => `${shortOid(r.oid)}  ${formatBytes(r.size).padStart(10)}  ${r.path}${r.kind === 'dir' ? `/  (${r.files} files)` : ''}${r.imported ? `  ${importedFrom(r.imported, r.path)}` : ''}`),
    ...res.incomplete.map((p) => `(the files of ${p} are not listed: its manifest is neither in the cache nor on a remote)`),
    ...(res.repo !== undefined && res.rows.length === 0 ? [`repository ${res.repo} tracks nothing at ${res.rev}`] : []),
  ]);
}
