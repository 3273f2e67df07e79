import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { remoteCorrupt } from '../util/errors.js';
import { writeFileAtomicSync } from '../util/fs.js';
import { INDEX_PREFIX } from './layout.js';
import type { Remote } from './remote.js';

/*
 * Removal records, `index/<ms>-<8 hex>.gone` (layout 3, spec/remote.md "Removal records"): written by
 * a `gc --remote` sweep before it deletes anything, they name the packs it removes. A reader subtracts
 * them from the packs its listing of `index/` publishes, so a pack that a consolidated index still
 * names (consolidated indexes are the authority in layout 3) is gone for readers from that moment on.
 */

export interface GoneRecord {
  v: 1;
  created: number;
  packs: string[];
}

/** A removal record has this long to be seen by a consolidation before it may be retired. */
export const GONE_RETIRE_MS = 60 * 60_000;

export function goneKey(now = Date.now()): string {
  return `${INDEX_PREFIX}${now}-${crypto.randomBytes(4).toString('hex')}.gone`;
}

function isGoneRecord(doc: unknown): doc is GoneRecord {
  const d = doc as GoneRecord;
  return typeof d === 'object' && d !== null && d.v === 1 && typeof d.created === 'number' && Array.isArray(d.packs) && d.packs.every((p) => typeof p === 'string' && /^[0-9a-f]{64}$/.test(p));
}

/** Writes a removal record naming `packs`; returns its key. */
export async function writeGoneRecord(remote: Remote, packs: Iterable<string>, now = Date.now()): Promise<string> {
  const key = goneKey(now);
  const record: GoneRecord = { v: 1, created: now, packs: [...new Set(packs)].sort() };
  await remote.put(key, Buffer.from(JSON.stringify(record)));
  return key;
}

/**
 * Reads one removal record, from the local folder when an earlier load kept it (records are never
 * rewritten: merging writes a new one). A record that does not parse is an error, not "nothing
 * removed": passing over it could bring removed packs back for this reader.
 */
export async function readGoneRecord(remote: Remote, dir: string, key: string): Promise<GoneRecord> {
  const local = path.join(dir, path.basename(key));
  let bytes: Buffer;
  try {
    bytes = fs.readFileSync(local);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    bytes = await remote.get(key);
    writeFileAtomicSync(local, bytes, { durable: false });
  }
  let doc: unknown;
  try {
    doc = JSON.parse(bytes.toString('utf8'));
  } catch (err) {
    if (!(err instanceof SyntaxError)) throw err;
  }
  if (!isGoneRecord(doc)) {
    fs.rmSync(local, { force: true });
    throw remoteCorrupt(`${remote.url}/${key} is not a removal record`, {
      key,
      hint: 'restore it from a backup; deleting it would bring back the packs it removed, which may be gone',
    });
  }
  return doc;
}
