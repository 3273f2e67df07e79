import { isOid, type Oid } from '../hash/oid.js';

export const TREE_CACHE_VERSION = 1;

/**
 * What `.mlx/state/trees.json` remembers per tracked directory: the fingerprint of every entry's
 * stat (see workspace/work-tree.ts) and the manifest oid those files had. Like the stat index it is
 * a cache of derivable facts: anything malformed is dropped.
 */
export interface TreeRecord {
  fp: string;
  oid: Oid;
}

/**
 * Beside the fingerprints: manifests whose every object was found in the cache, with the cache's
 * contents stamp at that time (ObjectStore.contentsStamp). Readers of version 1 ignore the key.
 */
export interface TreeCache {
  trees: Map<string, TreeRecord>;
  complete: Map<Oid, string>;
}

export function serializeTreeCache(cache: TreeCache): string {
  return JSON.stringify({
    v: TREE_CACHE_VERSION,
    trees: Object.fromEntries([...cache.trees].map(([p, t]) => [p, [t.fp, t.oid]])),
    complete: Object.fromEntries(cache.complete),
  });
}

export function parseTreeCache(text: string | undefined): TreeCache {
  const out: TreeCache = { trees: new Map(), complete: new Map() };
  if (!text) return out;
  try {
    const doc = JSON.parse(text) as { v?: unknown; trees?: Record<string, unknown>; complete?: Record<string, unknown> };
    if (doc.v !== TREE_CACHE_VERSION || typeof doc.trees !== 'object' || doc.trees === null) return out;
    for (const [p, row] of Object.entries(doc.trees)) {
      if (Array.isArray(row) && typeof row[0] === 'string' && isOid(row[1])) out.trees.set(p, { fp: row[0], oid: row[1] });
    }
    if (typeof doc.complete === 'object' && doc.complete !== null) {
      for (const [oid, stamp] of Object.entries(doc.complete)) if (isOid(oid) && typeof stamp === 'string') out.complete.set(oid, stamp);
    }
  } catch {
    // unreadable: start over
  }
  return out;
}
