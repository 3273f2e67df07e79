import * as z from 'zod/mini';
import { MlxError, badPackIndex } from '../util/errors.js';
import { packIndexFromJson, serializePackIndex, type PackIndex } from './pack-index.js';
import { parseJsonWith } from './zod-error.js';

/*
 * A consolidated index (spec/remote.md, "Consolidated indexes"): the pack indexes of many packs in one
 * file, so that a reader makes one request where it would make hundreds. It is a copy, never the
 * authority: a pack is published by its own pack index, and a consolidated index only spares the
 * download of that index. Named by the BLAKE3 of its bytes, written once, never changed.
 */

export const CONSOLIDATED_INDEX_VERSION = 1;

export interface ConsolidatedIndex {
  v: typeof CONSOLIDATED_INDEX_VERSION;
  /** The pack indexes it holds, sorted by pack oid, each exactly as its pack's own index says. */
  indexes: PackIndex[];
}

const ConsolidatedIndexSchema = z.strictObject({
  v: z.literal(CONSOLIDATED_INDEX_VERSION),
  indexes: z.array(z.unknown()),
});

/**
 * Canonical bytes: the pack indexes sorted by pack oid, each in its own canonical form, no
 * whitespace. The same set of packs always gives byte-identical text, and so the same name.
 */
export function serializeConsolidatedIndex(indexes: Iterable<PackIndex>): string {
  const sorted = [...indexes].sort((a, b) => (a.pack < b.pack ? -1 : a.pack > b.pack ? 1 : 0));
  return `{"v":${CONSOLIDATED_INDEX_VERSION},"indexes":[${sorted.map((i) => serializePackIndex(i)).join(',')}]}`;
}

/**
 * Parses and checks a consolidated index: every pack index in it passes the checks of a plain pack
 * index, and they are strictly sorted by pack oid (no pack twice).
 */
export function parseConsolidatedIndex(text: string | Uint8Array, source: string): ConsolidatedIndex {
  const doc = parseJsonWith(ConsolidatedIndexSchema, text, (why) => bad(source, why));
  const indexes = doc.indexes.map((raw, i) => packIndexFromJson(raw, `${source} (index ${i})`));
  for (let i = 1; i < indexes.length; i++) {
    if (!(indexes[i - 1]!.pack < indexes[i]!.pack)) throw bad(source, `packs not strictly sorted at ${indexes[i]!.pack}`);
  }
  return { v: CONSOLIDATED_INDEX_VERSION, indexes };
}

function bad(source: string, why: string): MlxError {
  return badPackIndex(`malformed consolidated index ${source}: ${why}`, { index: source });
}
