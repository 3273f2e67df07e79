import path from 'node:path';
import { badPath } from './errors.js';

/**
 * What a path names, for the one rule that decides whether mlx may write it (spec/paths.md):
 * `entry` is a path inside a tracked directory (a manifest entry), relative to that directory;
 * `tracked` is a repository-relative tracked path, which mlx also writes to the root `.gitignore`.
 */
export type PathScope = 'entry' | 'tracked';

/** Code points HFS+ ignores when it compares names, so `.g\u200cit` is `.git` there (as git checks). */
const HFS_IGNORABLE = /[\u200c-\u200f\u202a-\u202e\u206a-\u206f\ufeff]/g;

/**
 * The name a file system with case folding, NTFS or HFS+ semantics may treat `seg` as: HFS+ ignorable
 * code points removed, ASCII letters lowered, an NTFS stream suffix (`name:stream`) and trailing dots
 * and spaces dropped. Only what is needed to recognise `.git` and `.mlx` in disguise.
 */
function foldedName(seg: string): string {
  let s = seg;
  if (/[^\x00-\x7f]/.test(s)) s = s.replace(HFS_IGNORABLE, '');
  s = s.toLowerCase();
  const colon = s.indexOf(':');
  if (colon !== -1) s = s.slice(0, colon);
  return s.replace(/[. ]+$/, '');
}

/**
 * Whether a file system may take `seg` (one path component) for `.<name>`: `.git`, `.GIT`, `.git.`,
 * `.git ` and `.git::$INDEX_ALLOCATION` (NTFS), `git~1` (the NTFS short name), `.g\u200cit` (HFS+).
 * Backslashes separate names on NTFS, so each backslash-separated part counts too.
 */
export function isDotName(seg: string, name: 'git' | 'mlx'): boolean {
  const c = seg.charCodeAt(0);
  // Fast path: a disguised `.git` starts with '.', 'g'/'G' (the short name), or an ignorable code point.
  if (c !== 0x2e && c !== 0x67 && c !== 0x47 && c !== 0x6d && c !== 0x4d && c < 0x200c && !seg.includes('\\')) return false;
  for (const part of seg.split('\\')) {
    const f = foldedName(part);
    if (f === `.${name}` || f === `${name}~1`) return true;
  }
  return false;
}

/**
 * Why mlx may not write the `/`-separated relative path `p`, or undefined when it may. The one rule for
 * every path a pointer, manifest or user names (spec/paths.md): not empty, no NUL, not absolute, no
 * empty, `.` or `..` components, no component any file system may take for `.git`; for a tracked path
 * also not inside `.mlx` (in any disguise) and no line break, which no `.gitignore` line can match.
 */
export function pathRefusal(p: string, scope: PathScope = 'entry'): string | undefined {
  if (typeof p !== 'string' || p.length === 0) return 'is empty';
  if (p.includes('\0')) return 'contains a NUL byte';
  if (p.startsWith('/') || /^[A-Za-z]:/.test(p)) return 'is absolute';
  if (process.platform === 'win32' && /[\\:]/.test(p)) return 'contains a backslash or colon, which Windows reads as a separator or stream';
  const segs = p.split('/');
  for (const seg of segs) {
    const why = segmentRefusal(seg);
    if (why !== undefined) return why;
  }
  if (scope === 'tracked') {
    if (isDotName(segs[0]!, 'mlx')) return `lies inside ${JSON.stringify(segs[0])}, mlx's own directory`;
    if (/[\r\n]/.test(p)) return 'contains a line break, which no .gitignore entry can match';
  }
  return undefined;
}

/**
 * The part of {@link pathRefusal} that looks at one component: for callers that checked a path's folder
 * already and add a name to it. Also refuses what the whole-path rule refuses anywhere in a path.
 */
export function segmentRefusal(seg: string): string | undefined {
  if (seg === '') return 'has an empty component';
  if (seg === '.' || seg === '..') return `contains '${seg}'`;
  if (isDotName(seg, 'git')) return `has the component ${JSON.stringify(seg)}, which git treats as .git: mlx never writes into a git directory`;
  if (seg.includes('\0')) return 'contains a NUL byte';
  if (process.platform === 'win32' && /[\\:]/.test(seg)) return 'contains a backslash or colon, which Windows reads as a separator or stream';
  return undefined;
}

/**
 * Throws `E.BAD_PATH` (naming the path and the rule it breaks) unless `pathRefusal` accepts `p`.
 * No option overrides this: a crafted pointer or manifest can never make mlx write into `.git`,
 * `.mlx` or outside the directory a path is resolved against.
 */
export function assertSafeRelPath(p: string, what = 'path', scope: PathScope = 'entry'): string {
  const why = pathRefusal(p, scope);
  if (why !== undefined) throw badPath(`${what} ${JSON.stringify(p)} ${why}`, { path: p, rule: why });
  return p;
}

/** A name as it can be shown on one line: quoted as JSON when it holds control characters (a newline). */
export function printable(name: string): string {
  return /[\x00-\x1f\x7f]/.test(name) ? JSON.stringify(name) : name;
}

/** Converts a platform path to the `/`-separated form used in every file mlx writes. */
export function toPosix(p: string): string {
  return path.sep === '/' ? p : p.split(path.sep).join('/');
}

/** True when `child` (absolute) is `parent` or lies inside it. */
export function isInside(parent: string, child: string): boolean {
  const rel = path.relative(parent, child);
  return rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel));
}

/** Whether `items` are strictly increasing in {@link compareUtf8} order of `pathOf` (manifest order). */
export function inUtf8Order<T>(items: readonly T[], pathOf: (item: T) => string): boolean {
  for (let i = 1; i < items.length; i++) if (compareUtf8(pathOf(items[i - 1]!), pathOf(items[i]!)) >= 0) return false;
  return true;
}

/** A code unit at or above U+D800: where UTF-16 order and UTF-8 order can part. */
const HIGH_UNIT = /[\uD800-\uFFFF]/;

/** Orders paths by their UTF-8 bytes, so every implementation sorts manifests the same way. */
export function compareUtf8(a: string, b: string): number {
  if (a === b) return 0;
  // UTF-16 order equals code point (and so UTF-8) order except surrogates versus U+E000..U+FFFF, which
  // needs both strings to hold such units: otherwise the engine's own comparison answers.
  if (!HIGH_UNIT.test(a) || !HIGH_UNIT.test(b)) return a < b ? -1 : 1;
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const ca = a.charCodeAt(i);
    const cb = b.charCodeAt(i);
    if (ca === cb) continue;
    if (ca >= 0xd800 && cb >= 0xd800) {
      const pa = a.codePointAt(i)!;
      const pb = b.codePointAt(i)!;
      return pa < pb ? -1 : 1;
    }
    return ca < cb ? -1 : 1;
  }
  return a.length - b.length;
}
