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

export function serializeTreeCache(trees: Map<string, TreeRecord>): string {
  return JSON.stringify({ v: TREE_CACHE_VERSION, trees: Object.fromEntries([...trees].map(([p, t]) => [p, [t.fp, t.oid]])) });
}

export function parseTreeCache(text: string | undefined): Map<string, TreeRecord> {
  const out = new Map<string, TreeRecord>();
  if (!text) return out;
  try {
    const doc = JSON.parse(text) as { v?: unknown; trees?: Record<string, unknown> };
    if (doc.v !== TREE_CACHE_VERSION || typeof doc.trees !== 'object' || doc.trees === null) return out;
    for (const [p, row] of Object.entries(doc.trees)) {
      if (Array.isArray(row) && typeof row[0] === 'string' && isOid(row[1])) out.set(p, { fp: row[0], oid: row[1] });
    }
  } catch {
    // unreadable: start over
  }
  return out;
}
