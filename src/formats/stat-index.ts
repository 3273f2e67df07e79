import { isOid, type Oid } from '../hash/oid.js';

export const STAT_INDEX_VERSION = 2;

/**
 * What the stat index remembers of one work-tree file: the stat fields that change when the file
 * changes, the oid its content had, and when that content was hashed (see isTrusted for why).
 */
export interface StatEntry {
  size: number;
  mtimeMs: number;
  /** ctime changes on every write and cannot be set back by `touch`, unlike mtime. */
  ctimeMs: number;
  ino: number;
  oid: Oid;
  hashedAt: number;
}

type Row = [number, number, number, number, string, number];

export function serializeStatIndex(entries: Map<string, StatEntry>): string {
  const rows: Record<string, Row> = {};
  for (const [p, e] of entries) rows[p] = [e.size, e.mtimeMs, e.ctimeMs, e.ino, e.oid, e.hashedAt];
  return JSON.stringify({ v: STAT_INDEX_VERSION, entries: rows });
}

/**
 * The index is a cache of derivable facts: anything unreadable or malformed is dropped (and the
 * files re-hashed), never trusted.
 */
export function parseStatIndex(text: string | undefined): Map<string, StatEntry> {
  const out = new Map<string, StatEntry>();
  if (!text) return out;
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    return out; // a damaged index is only a cache: start empty and hash again
  }
  const doc = raw as { v?: unknown; entries?: unknown };
  if (doc?.v !== STAT_INDEX_VERSION || typeof doc.entries !== 'object' || doc.entries === null) return out;
  for (const [p, row] of Object.entries(doc.entries as Record<string, unknown>)) {
    if (!Array.isArray(row) || row.length !== 6) continue;
    const [size, mtimeMs, ctimeMs, ino, oid, hashedAt] = row as unknown[];
    if (typeof size !== 'number' || typeof mtimeMs !== 'number' || typeof ctimeMs !== 'number' || typeof ino !== 'number' || !isOid(oid) || typeof hashedAt !== 'number') continue;
    out.set(p, { size, mtimeMs, ctimeMs, ino, oid, hashedAt });
  }
  return out;
}
