import path from 'node:path';
import { E, MlxError } from './errors.js';

/**
 * Validates a relative, `/`-separated path as stored in pointers, manifests and the stat index.
 * Rejects absolute paths, `.`/`..`/empty segments and NUL, so a crafted file can never address
 * anything outside the directory it is resolved against.
 */
export function assertSafeRelPath(p: string, what = 'path'): string {
  if (typeof p !== 'string' || p.length === 0) throw badPath(p, what, 'is empty');
  if (p.includes('\0')) throw badPath(p, what, 'contains a NUL byte');
  if (p.startsWith('/') || /^[A-Za-z]:/.test(p)) throw badPath(p, what, 'is absolute');
  for (const seg of p.split('/')) {
    if (seg === '' ) throw badPath(p, what, 'has an empty segment');
    if (seg === '.' || seg === '..') throw badPath(p, what, `contains '${seg}'`);
  }
  return p;
}

function badPath(p: string, what: string, why: string): MlxError {
  return new MlxError(E.BAD_PATH, `${what} ${JSON.stringify(p)} ${why}`, { data: { path: p } });
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

/** Orders paths by their UTF-8 bytes, so every implementation sorts manifests the same way. */
export function compareUtf8(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const ca = a.charCodeAt(i);
    const cb = b.charCodeAt(i);
    if (ca === cb) continue;
    // UTF-16 order equals code point (and so UTF-8) order except surrogates versus U+E000..U+FFFF.
    if (ca >= 0xd800 && cb >= 0xd800) {
      const pa = a.codePointAt(i)!;
      const pb = b.codePointAt(i)!;
      return pa < pb ? -1 : 1;
    }
    return ca < cb ? -1 : 1;
  }
  return a.length - b.length;
}
