import type { DiffResult, PathChange } from '../../commands/diff.js';
import { importedFrom, sourceLabel } from './imports.js';
import { sizeChange } from './sizes.js';

/** `mlx diff` as text, one line per changed path and per changed file inside a directory. */
export function diffText(res: DiffResult): string[] {
  const all = allChanges(res);
  if (all.length === 0) return [`no changes between ${res.from.rev} and ${res.to.rev}`];
  const lines: string[] = [];
  for (const c of all) {
    const name = c.change === 'renamed' ? `${c.from} → ${c.path}` : c.path;
    lines.push(`${label(c).padEnd(9)} ${name}${c.kind === 'dir' ? '/' : ''}  ${sizeChange(c)}${importNote(c)}`);
    for (const f of c.files ?? []) lines.push(`    ${f.change.padEnd(9)} ${c.path}/${f.path}  ${sizeChange(f)}`);
    if (c.filesUnknown) lines.push('    (file list unknown: a manifest is not in the cache; mlx fetch it)');
  }
  return lines;
}

/** `mlx diff --md`: a table for a pull request comment, with the changed files of each directory folded. */
export function diffMarkdown(res: DiffResult): string[] {
  const lines = [`### Data changes: \`${res.from.rev}\` → \`${res.to.rev}\``, ''];
  const all = allChanges(res);
  if (all.length === 0) return [...lines, 'No tracked data changed.'];
  lines.push('| change | path | size | files |', '| --- | --- | --- | --- |');
  for (const c of all) {
    const files = c.files ? `${c.files.filter((f) => f.change === 'added').length} added, ${c.files.filter((f) => f.change === 'modified').length} modified, ${c.files.filter((f) => f.change === 'deleted').length} deleted` : c.filesUnknown ? 'unknown' : '';
    const name = c.change === 'renamed' ? `\`${c.from}\` → \`${c.path}\`` : `\`${c.path}\``;
    lines.push(`| ${label(c)} | ${name}${importNote(c) ? `<br/>${importNote(c).trim().replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/\|/g, '\\|')}` : ''} | ${sizeChange(c)} | ${files} |`);
  }
  const detailed = all.filter((c) => c.files?.length);
  for (const c of detailed) {
    lines.push('', `<details><summary><code>${c.path}</code>: ${c.files!.length} file(s) changed${c.notAdded ? ' (not added)' : ''}</summary>`, '');
    for (const f of c.files!.slice(0, 200)) lines.push(`- ${f.change} \`${f.path}\` ${sizeChange(f)}`);
    if (c.files!.length > 200) lines.push(`- … and ${c.files!.length - 200} more`);
    lines.push('', '</details>');
  }
  return lines;
}

/** Recorded changes first, then the work tree's changes not yet added. */
function allChanges(res: DiffResult): PathChange[] {
  return [...res.changes, ...(res.notAdded ?? [])];
}

/** `  imported from <repo>@<commit>`, or `  import moved: <repo>@<old> -> @<new>`; empty for data of this repository. */
export function importNote(c: PathChange): string {
  if (!c.imported) return '';
  if (c.importedBefore) return `  import moved: ${c.importedBefore.repo}@${c.importedBefore.commit.slice(0, 12)} -> ${sourceLabel(c.imported, c.path)}`;
  return `  ${importedFrom(c.imported, c.path)}`;
}

function label(c: PathChange): string {
  return c.notAdded ? `${c.change} (not added)` : c.change;
}
