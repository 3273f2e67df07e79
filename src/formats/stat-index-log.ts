import crypto from 'node:crypto';
import { isOid } from '../hash/oid.js';
import { MAX_PATH, readRecord, recordLength, writeRecord, type StatEntry } from './stat-index.js';

export const STAT_LOG_VERSION = 1;

// Layout (spec/workspace.md): "MLXSLOG\0", u32 version, the 32-byte checksum of the index file it
// extends; then batches, one per command that saved: u32 record count, u32 byte length of the records,
// the records (as in the index; a removal has no oid), SHA-256 of the batch so far (32 bytes). A batch
// is appended whole; one cut short (a process killed while writing it) ends the log.
const MAGIC = Buffer.from('MLXSLOG\0', 'latin1');
const ID = 32;
export const STAT_LOG_HEADER = MAGIC.length + 4 + ID;
const BATCH_HEAD = 8;
const CHECKSUM = 32;

/** What a change log holds: changes in the order written (the last word on a path wins). */
export interface StatLog {
  changes: [string, StatEntry | null][];
  /** Bytes up to the end of the last whole batch: where the next batch goes. */
  validLength: number;
}

/** The header of a log that extends the index file with checksum `base`. */
export function statLogHeader(base: Buffer): Buffer {
  const h = Buffer.alloc(STAT_LOG_HEADER);
  MAGIC.copy(h);
  h.writeUInt32LE(STAT_LOG_VERSION, MAGIC.length);
  base.copy(h, MAGIC.length + 4);
  return h;
}

/**
 * The changes in a log over the index file with checksum `base`. A log of another index (left by a
 * process killed between writing a merged index and removing the log), of another version or damaged
 * in its header is undefined: nothing in it is used. A damaged or short batch ends the log there.
 */
export function parseStatLog(bytes: Buffer | undefined, base: Buffer | undefined): StatLog | undefined {
  if (!bytes || !base || bytes.length < STAT_LOG_HEADER || !bytes.subarray(0, MAGIC.length).equals(MAGIC)) return undefined;
  if (bytes.readUInt32LE(MAGIC.length) !== STAT_LOG_VERSION || !bytes.subarray(MAGIC.length + 4, STAT_LOG_HEADER).equals(base)) return undefined;
  const changes: StatLog['changes'] = [];
  let at = STAT_LOG_HEADER;
  while (at + BATCH_HEAD <= bytes.length) {
    const count = bytes.readUInt32LE(at);
    const end = at + BATCH_HEAD + bytes.readUInt32LE(at + 4);
    if (end + CHECKSUM > bytes.length) break;
    const sum = crypto.createHash('sha256').update(bytes.subarray(at, end)).digest();
    if (!sum.equals(bytes.subarray(end, end + CHECKSUM))) break;
    const batch: StatLog['changes'] = [];
    let r = at + BATCH_HEAD;
    for (let i = 0; i < count; i++) {
      const rec = readRecord(bytes, r, end);
      if (!rec) break;
      // An entry whose oid bytes are not an oid is never trusted: the path is read as forgotten.
      batch.push([rec.path, rec.entry && !isOid(rec.entry.oid) ? null : rec.entry]);
      r = rec.next;
    }
    if (batch.length !== count || r !== end) break;
    for (const c of batch) changes.push(c);
    at = end + CHECKSUM;
  }
  return { changes, validLength: at };
}

/** One batch of changes, ready to append. Paths too long to store are left out (those files are simply hashed again). */
export function statLogBatch(changes: Iterable<[string, StatEntry | null]>): Buffer {
  const rows: [string, number, StatEntry | null][] = [];
  let length = 0;
  for (const [p, e] of changes) {
    const plen = Buffer.byteLength(p, 'utf8');
    if (plen > MAX_PATH) continue;
    rows.push([p, plen, e]);
    length += recordLength(plen, e?.oid.length ?? 0);
  }
  const b = Buffer.alloc(BATCH_HEAD + length + CHECKSUM);
  b.writeUInt32LE(rows.length, 0);
  b.writeUInt32LE(length, 4);
  let at = BATCH_HEAD;
  for (const [p, plen, e] of rows) at = writeRecord(b, at, p, plen, e);
  crypto.createHash('sha256').update(b.subarray(0, at)).digest().copy(b, at);
  return b;
}
