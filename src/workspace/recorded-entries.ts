import type { ManifestEntry } from '../formats/manifest.js';
import { compareUtf8, inUtf8Order } from '../util/paths.js';

/**
 * Finds the entries of directory `dir`'s manifest by repo path (`<dir>/<entry path>`). A walk asks in
 * manifest order, often twice per file, so the entry last found and the one after it are tried first,
 * compared in place: a 100,000-file directory then costs no search and no path string per file. Other
 * questions are answered by binary search (through a map for a manifest out of order, which only a
 * crafted one is).
 */
export function recordedEntries<T extends ManifestEntry>(dir: string, entries: readonly T[]): (key: string) => T | undefined {
  const prefix = `${dir}/`;
  const isAt = (e: T | undefined, key: string): e is T => e !== undefined && key.length === prefix.length + e.p.length && key.endsWith(e.p);
  let byPath: Map<string, T> | undefined;
  let ordered: boolean | undefined;
  /** One past the entry last found. */
  let next = 0;
  return (key) => {
    if (!key.startsWith(prefix)) return undefined;
    const last = entries[next - 1];
    if (isAt(last, key)) return last;
    const hint = entries[next];
    if (isAt(hint, key)) {
      next++;
      return hint;
    }
    const p = key.slice(prefix.length);
    ordered ??= inUtf8Order(entries, (e) => e.p);
    if (!ordered) {
      byPath ??= new Map(entries.map((e) => [e.p, e]));
      return byPath.get(p);
    }
    let lo = 0;
    let hi = entries.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const c = compareUtf8(entries[mid]!.p, p);
      if (c === 0) {
        next = mid + 1;
        return entries[mid];
      }
      if (c < 0) lo = mid + 1;
      else hi = mid - 1;
    }
    return undefined;
  };
}
