import path from 'node:path';
import { readFileIfExists, writeFileAtomicSync } from '../util/fs.js';
import { assertSafeRelPath } from '../util/paths.js';

/** Escapes a path for a .gitignore line so it matches exactly this path and nothing else. */
export function gitignorePattern(rel: string): string {
  // git strips a line's trailing CR, and a newline ends the line: no pattern can match such a name.
  if (/[\r\n]/.test(rel)) assertSafeRelPath(rel, 'tracked path', 'tracked');
  let p = rel.replace(/[\\*?[\]!#]/g, (c) => `\\${c}`);
  p = p.replace(/ $/, '\\ ');
  return `/${p}`;
}

/**
 * Adds anchored entries for `rels` to the root `.gitignore`, keeping the user's lines and order and
 * never duplicating an entry. Returns whether the file changed.
 */
export function ensureIgnored(root: string, rels: string[]): boolean {
  const file = path.join(root, '.gitignore');
  const text = readFileIfExists(file) ?? '';
  const lines = new Set(text.split('\n').map((l) => l.replace(/\r$/, '')));
  const missing = rels.map(gitignorePattern).filter((p) => !lines.has(p));
  if (missing.length === 0) return false;
  const sep = text === '' || text.endsWith('\n') ? '' : '\n';
  writeFileAtomicSync(file, `${text}${sep}${[...new Set(missing)].join('\n')}\n`);
  return true;
}

/**
 * Whether mlx has git-ignored `rel`: the root `.gitignore` holds the exact entry `ensureIgnored` writes
 * for it. The file is read once, on the first question, however many paths are asked about.
 */
export function ignoredByMlx(root: string): (rel: string) => boolean {
  let lines: Set<string> | undefined;
  return (rel) => {
    lines ??= new Set((readFileIfExists(path.join(root, '.gitignore')) ?? '').split('\n').map((l) => l.replace(/\r$/, '')));
    return !/[\r\n]/.test(rel) && lines.has(gitignorePattern(rel));
  };
}
