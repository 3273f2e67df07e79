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
 * Takes out of the root `.gitignore` the entries `ensureIgnored` wrote for `rels` (the exact lines,
 * every copy); other lines and their order stay. Returns whether the file changed.
 */
export function dropIgnored(root: string, rels: string[]): boolean {
  return editIgnoreLines(root, (line) => (rels.map(gitignorePattern).includes(line) ? [] : [line]));
}

/**
 * Replaces the entry `ensureIgnored` wrote for `from` with the one for `to`, where it stood (order can
 * matter to `!` rules after it); adds it at the end when `from` had none. Returns whether the file changed.
 */
export function renameIgnored(root: string, from: string, to: string): boolean {
  const [old, next] = [gitignorePattern(from), gitignorePattern(to)];
  let placed = false;
  const changed = editIgnoreLines(root, (line) => {
    if (line !== old && line !== next) return [line];
    if (placed) return [];
    placed = true;
    return [next];
  });
  return ensureIgnored(root, [to]) || changed;
}

/** Rewrites the root `.gitignore` line by line (line endings kept) when `edit` changes a line. */
function editIgnoreLines(root: string, edit: (line: string) => string[]): boolean {
  const file = path.join(root, '.gitignore');
  const text = readFileIfExists(file);
  if (text === undefined) return false;
  const lines = text.split('\n');
  const out: string[] = [];
  for (const raw of lines) {
    const cr = raw.endsWith('\r') ? '\r' : '';
    const line = cr ? raw.slice(0, -1) : raw;
    for (const l of edit(line)) out.push(l + cr);
  }
  const next = out.join('\n');
  if (next === text) return false;
  writeFileAtomicSync(file, next);
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

/**
 * Three-way merge of `.gitignore` texts as sets of lines, for the merge driver: a line either side
 * removed (present in the base, absent from that side) goes, a line either side added stays, and
 * nothing ever conflicts. Chosen over git's `merge=union` because union keeps both sides of a changed
 * region, so a line one branch removed next to a line the other added comes back. Ours keeps its
 * order; each line only theirs added goes after the line that precedes it in theirs (and after what
 * ours added there), since ignore rules such as `!negations` depend on order. Blank lines are layout, never removed.
 */
export function mergeIgnoreLines(base: string, ours: string, theirs: string): string {
  const split = (t: string) => (t === '' ? [] : t.replace(/\n$/, '').split('\n'));
  const [b, o, t] = [split(base), split(ours), split(theirs)];
  const [inBase, inOurs, inTheirs] = [new Set(b), new Set(o), new Set(t)];
  const result = o.filter((l) => l.trim() === '' || !inBase.has(l) || inTheirs.has(l));
  let cursor = -1;
  for (const line of t) {
    // A repeated line (blank, say) anchors to its next occurrence, never back to an earlier one.
    const ahead = result.indexOf(line, cursor + 1);
    const at = ahead !== -1 || line.trim() === '' ? ahead : result.indexOf(line);
    if (at !== -1) cursor = at;
    else if (inOurs.has(line)) continue;
    else if (!inBase.has(line)) {
      // After the lines ours appended there too: both branches' new entries read in merge order.
      while (cursor + 1 < result.length && !inBase.has(result[cursor + 1]!) && !inTheirs.has(result[cursor + 1]!)) cursor++;
      result.splice(++cursor, 0, line);
    }
  }
  return result.length === 0 ? '' : `${result.join('\n')}\n`;
}
