import * as z from 'zod/mini';
import { MlxError, badPackIndex } from '../util/errors.js';
import { packIndexFromJson, serializePackIndex, type PackIndex } from './pack-index.js';
import { describeZodError } from './zod-error.js';

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
  return [...consolidatedIndexPieces(indexes)].join('');
}

/** The canonical text of {@link serializeConsolidatedIndex} in pieces, one pack index each, made as they are taken. */
export function* consolidatedIndexPieces(indexes: Iterable<PackIndex>): Generator<string> {
  const sorted = [...indexes].sort((a, b) => (a.pack < b.pack ? -1 : a.pack > b.pack ? 1 : 0));
  yield `{"v":${CONSOLIDATED_INDEX_VERSION},"indexes":[`;
  for (const [i, index] of sorted.entries()) yield `${i === 0 ? '' : ','}${serializePackIndex(index)}`;
  yield ']}';
}

/**
 * Parses and checks a consolidated index: every pack index in it passes the checks of a plain pack
 * index, and they are strictly sorted by pack oid (no pack twice).
 */
export function parseConsolidatedIndex(text: string | Uint8Array, source: string): ConsolidatedIndex {
  return { v: CONSOLIDATED_INDEX_VERSION, indexes: [...consolidatedPackIndexes(typeof text === 'string' ? Buffer.from(text) : text, source)] };
}

/**
 * The pack indexes of a consolidated index, parsed and checked one at a time as they are taken (as
 * {@link parseConsolidatedIndex} checks them): a reader keeps one pack's entries as objects at a time,
 * not a million. The document around them is checked before the first is returned; a pack index
 * that fails its checks throws when it is reached.
 */
export function* consolidatedPackIndexes(bytes: Uint8Array, source: string): Generator<PackIndex> {
  const spans = indexSpans(bytes, source);
  let previous: PackIndex | undefined;
  for (const [i, [start, end]] of spans.entries()) {
    const index = packIndexFromJson(parseJson(bytes.subarray(start, end), source), `${source} (index ${i})`);
    if (previous && !(previous.pack < index.pack)) throw bad(source, `packs not strictly sorted at ${index.pack}`);
    previous = index;
    yield index;
  }
}

/**
 * Where each element of the document's `indexes` array lies, once the rest of the document is checked
 * against the schema. Only the top level is walked here; each element is parsed on its own later.
 */
function indexSpans(bytes: Uint8Array, source: string): [number, number][] {
  const rest: Record<string, unknown> = {};
  let spans: [number, number][] | undefined;
  let i = skipSpace(bytes, 0);
  if (bytes[i++] !== OPEN_OBJECT) throw bad(source, 'not valid JSON');
  i = skipSpace(bytes, i);
  if (bytes[i] === CLOSE_OBJECT) i++;
  else {
    for (;;) {
      const keyEnd = valueEnd(bytes, i, source);
      const key = parseJson(bytes.subarray(i, keyEnd), source);
      if (typeof key !== 'string') throw bad(source, 'not valid JSON');
      i = skipSpace(bytes, keyEnd);
      if (bytes[i++] !== COLON) throw bad(source, 'not valid JSON');
      i = skipSpace(bytes, i);
      const end = valueEnd(bytes, i, source);
      if (key === 'indexes' && bytes[i] === OPEN_ARRAY) {
        if (spans) throw bad(source, 'indexes appears twice');
        spans = elementSpans(bytes, i, end, source);
        rest[key] = [];
      } else {
        rest[key] = parseJson(bytes.subarray(i, end), source);
      }
      i = skipSpace(bytes, end);
      const sep = bytes[i++];
      if (sep === CLOSE_OBJECT) break;
      if (sep !== COMMA) throw bad(source, 'not valid JSON');
      i = skipSpace(bytes, i);
    }
  }
  if (skipSpace(bytes, i) !== bytes.length) throw bad(source, 'not valid JSON');
  const checked = z.safeParse(ConsolidatedIndexSchema, rest);
  if (!checked.success) throw bad(source, describeZodError(checked.error));
  return spans ?? [];
}

/** The elements of the array `bytes[start, end)`. */
function elementSpans(bytes: Uint8Array, start: number, end: number, source: string): [number, number][] {
  const spans: [number, number][] = [];
  let i = skipSpace(bytes, start + 1);
  if (bytes[i] === CLOSE_ARRAY) return spans;
  for (;;) {
    const e = valueEnd(bytes, i, source);
    spans.push([i, e]);
    i = skipSpace(bytes, e);
    const sep = bytes[i++];
    if (sep === CLOSE_ARRAY && i === end) return spans;
    if (sep !== COMMA) throw bad(source, 'not valid JSON');
    i = skipSpace(bytes, i);
  }
}

const [OPEN_OBJECT, CLOSE_OBJECT, OPEN_ARRAY, CLOSE_ARRAY, COMMA, COLON, QUOTE, BACKSLASH] = [0x7b, 0x7d, 0x5b, 0x5d, 0x2c, 0x3a, 0x22, 0x5c];

function skipSpace(bytes: Uint8Array, i: number): number {
  while (bytes[i] === 0x20 || bytes[i] === 0x0a || bytes[i] === 0x0d || bytes[i] === 0x09) i++;
  return i;
}

/**
 * Where the JSON value starting at `i` ends: past its closing bracket or quote, or (a number or
 * literal) at the next delimiter. It only finds the end; parsing the value checks it.
 */
function valueEnd(bytes: Uint8Array, i: number, source: string): number {
  let depth = 0;
  for (; i < bytes.length; i++) {
    const c = bytes[i]!;
    if (c === QUOTE) {
      for (i++; i < bytes.length && bytes[i] !== QUOTE; i++) if (bytes[i] === BACKSLASH) i++;
      if (depth === 0) return i + 1;
    } else if (c === OPEN_OBJECT || c === OPEN_ARRAY) depth++;
    else if (c === CLOSE_OBJECT || c === CLOSE_ARRAY) {
      if (depth === 0) return i;
      if (--depth === 0) return i + 1;
    } else if (depth === 0 && (c === COMMA || c === COLON || c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09)) return i;
  }
  if (depth !== 0) throw bad(source, 'not valid JSON');
  return i;
}

function parseJson(bytes: Uint8Array, source: string): unknown {
  try {
    return JSON.parse(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8'));
  } catch {
    throw bad(source, 'not valid JSON');
  }
}

function bad(source: string, why: string): MlxError {
  return badPackIndex(`malformed consolidated index ${source}: ${why}`, { index: source });
}
