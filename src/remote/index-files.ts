import fs from 'node:fs';
import path from 'node:path';
import { loadHasher, type HasherFactory } from '../hash/blake3.js';
import { hashBytes } from '../hash/hash-file.js';
import { type Oid, oidFromHex, oidHex } from '../hash/oid.js';
import { consolidatedPackIndexes } from '../formats/consolidated-index.js';
import { parsePackIndex, type PackIndex } from '../formats/pack-index.js';
import { writeFileAtomicSync } from '../util/fs.js';
import { E, MlxError, badPackIndex, remoteCorrupt } from '../util/errors.js';
import { readGoneRecord, type GoneRecord } from './gone-records.js';
import { consolidatedIndexes, consolidatedKey, goneRecordKeys, indexedPacks, indexKey } from './layout.js';
import { PackTable } from './pack-table.js';
import type { Remote } from './remote.js';
import { forEachLimited } from '../util/pool.js';

/*
 * Reading the files that publish packs (pack indexes, consolidated indexes, removal records), each
 * downloaded once and kept in the local folder of the remote's indexes: they are never rewritten.
 */

/** Why a published index can be unusable while the remote itself answers: its bytes are bad, or it is gone. */
export const UNUSABLE_INDEX = new Set<string>([E.BAD_PACK_INDEX, E.REMOTE_CORRUPT, E.REMOTE_NOT_FOUND]);

export async function readIndex(remote: Remote, dir: string, hex: string, keyOf: (pack: Oid) => string): Promise<PackIndex> {
  const local = path.join(dir, `${hex}.idx`);
  const key = keyOf(oidFromHex(hex));
  const source = `${remote.url}/${key}`;
  try {
    return check(parsePackIndex(fs.readFileSync(local), local), hex);
  } catch (err) {
    if (!(err instanceof MlxError) && (err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    // Not cached yet (or the cached copy is damaged): fetch it again.
  }
  const bytes = await remote.get(key);
  const parsed = check(parsePackIndex(bytes, source), hex);
  writeFileAtomicSync(local, bytes, { durable: false });
  return parsed;
}

/**
 * The packs of a consolidated index, from the local folder or downloaded; its bytes must hash to its
 * name. Each pack index is made compact as soon as it is parsed: never are all of them objects at once.
 */
export async function readConsolidated(remote: Remote, dir: string, hex: string, newHasher: HasherFactory): Promise<PackTable[]> {
  const local = path.join(dir, `${hex}.midx`);
  const tablesOf = (bytes: Uint8Array, source: string) => remember(local, Array.from(consolidatedPackIndexes(bytes, source), (index) => PackTable.from(index)));
  const known = parsedConsolidated.get(local);
  if (known) return known;
  try {
    // Written here only after its hash was checked.
    return tablesOf(fs.readFileSync(local), local);
  } catch (err) {
    if (!(err instanceof MlxError) && (err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  const key = consolidatedKey(hex);
  const bytes = await remote.get(key);
  const actual = oidHex(hashBytes(newHasher, bytes));
  if (actual !== hex) throw remoteCorrupt(`${remote.url}/${key} is corrupt: its bytes hash to ${actual}`, { key });
  const parsed = tablesOf(bytes, `${remote.url}/${key}`);
  writeFileAtomicSync(local, bytes, { durable: false });
  return parsed;
}

/** What the files one listing of `index/` names hold. */
export interface ListedIndexes {
  /** Every pack a listed pack index or consolidated index holds (removed ones too). */
  tables: Map<string, PackTable>;
  consolidated: Map<string, string[]>;
  indexed: Set<string>;
  goneRecords: { key: string; record: GoneRecord }[];
  warnings: string[];
}

/**
 * Reads what a listing of `index/` names (from the local folder where it can). A file that is gone
 * (`E.REMOTE_NOT_FOUND`) ends the read: the listing is stale. A damaged one is passed over with a
 * warning: its objects count as absent, so the next push sends them again.
 */
export async function readListed(remote: Remote, dir: string, keys: string[], jobs: number): Promise<ListedIndexes> {
  const out: ListedIndexes = { tables: new Map(), consolidated: new Map(), indexed: new Set(), goneRecords: [], warnings: [] };
  const newHasher = await loadHasher();
  const damaged = (what: string, err: unknown) => {
    if (!(err instanceof MlxError) || !UNUSABLE_INDEX.has(err.code) || err.code === E.REMOTE_NOT_FOUND) throw err;
    out.warnings.push(`ignored ${what}: ${err.message}`);
  };
  // A removal record that cannot be read is not passed over: it would bring removed packs back.
  await forEachLimited(goneRecordKeys(keys), jobs, async (key) => {
    out.goneRecords.push({ key, record: await readGoneRecord(remote, dir, key) });
  });
  await forEachLimited(consolidatedIndexes(keys), jobs, async (hex) => {
    try {
      const tables = await readConsolidated(remote, dir, hex, newHasher);
      out.consolidated.set(hex, tables.map((t) => t.hex));
      for (const table of tables) if (!out.tables.has(table.hex)) out.tables.set(table.hex, table);
    } catch (err) {
      damaged(consolidatedKey(hex), err);
    }
  });
  const own = indexedPacks(keys);
  for (const hex of own) out.indexed.add(hex);
  await forEachLimited(own.filter((hex) => !out.tables.has(hex)), jobs, async (hex) => {
    try {
      out.tables.set(hex, PackTable.from(await readIndex(remote, dir, hex, indexKey)));
    } catch (err) {
      damaged(indexKey(oidFromHex(hex)), err);
    }
  });
  out.goneRecords.sort((a, b) => (a.key < b.key ? -1 : 1));
  return out;
}

/**
 * Consolidated indexes parsed by this process, by local path: they are immutable, and a process that
 * loads the index again (a push's consolidation, its recheck) would otherwise parse them again.
 */
const parsedConsolidated = new Map<string, PackTable[]>();
const PARSED_KEPT = 32;

function remember(local: string, tables: PackTable[]): PackTable[] {
  if (parsedConsolidated.size >= PARSED_KEPT) parsedConsolidated.delete(parsedConsolidated.keys().next().value!);
  parsedConsolidated.set(local, tables);
  return tables;
}

function check(index: PackIndex, hex: string): PackIndex {
  if (index.pack !== oidFromHex(hex)) throw badPackIndex(`pack index ${hex}.idx describes another pack (${index.pack})`);
  return index;
}
