import { status, type PathStatus } from '../../commands/status.js';
import { E, problemError } from '../../util/errors.js';
import type { Output } from '../output.js';
import { importedFrom, sourceLabel } from '../render/imports.js';

const MAX_LISTED = 20;

export async function runStatus(out: Output, paths: string[]): Promise<void> {
  const res = await status({ cwd: out.cwd, paths });
  for (const w of res.warnings ?? []) out.warn(w);
  out.result(res, () => {
    const lines: string[] = [];
    for (const p of res.paths) for (const line of describe(p)) lines.push(line);
    for (const p of res.problems) lines.push(`problem:      ${p.pointer}: ${p.message}`);
    if (res.paths.length === 0 && res.problems.length === 0) lines.push('no tracked paths');
    else if (res.paths.every((p) => p.state === 'clean' && p.cache === 'ok') && res.problems.length === 0) lines.push('everything is up to date');
    return lines;
  });
  out.verbose(`hashed ${res.hashedFiles} file(s)`);
  const broken = res.problems.filter((p) => p.code === E.BAD_POINTER || p.code === E.BAD_PATH || p.code === E.SIZE_MISMATCH);
  if (broken.length > 0) {
    if (broken.length === 1) throw problemError(broken[0]!);
    throw problemError(broken[0]!, {
      message: `${broken.length} broken pointer files: ${broken.slice(0, 3).map((p) => p.pointer).join(', ')}${broken.length > 3 ? ', ...' : ''}`,
      hint: 'restore them from git (git checkout -- <file>.mlx) or re-add the data',
    });
  }
}

function describe(p: PathStatus): string[] {
  const from = p.imported ? `  (${importedFrom(p.imported, p.path)})` : '';
  if (p.state === 'clean' && p.cache === 'ok') return p.imported ? [`${'imported:'.padEnd(14)}${p.path}  from ${sourceLabel(p.imported, p.path)}`] : [];
  const cache = p.cache === 'ok' ? '' : p.cache === 'partial' ? '  [some objects not in cache]' : '  [not in cache]';
  const present = p.partial ? `${p.partial.present} of ${p.partial.total} files present` : '';
  const partial = !p.partial ? '' : p.state === 'partial' ? `  (${present})` : `  (partial: ${present})`;
  const lines = [`${(p.state === 'unknown' ? 'not in cache' : p.state) + ':'}`.padEnd(14) + p.path + partial + cache + from];
  if (p.changes) {
    const rows = [
      ...p.changes.modified.map((f) => `    modified: ${p.path}/${f}`),
      ...p.changes.added.map((f) => `    added:    ${p.path}/${f}`),
      ...p.changes.deleted.map((f) => `    deleted:  ${p.path}/${f}`),
    ];
    lines.push(...rows.slice(0, MAX_LISTED));
    if (rows.length > MAX_LISTED) lines.push(`    ... and ${rows.length - MAX_LISTED} more (use --json for all)`);
  }
  return lines;
}
