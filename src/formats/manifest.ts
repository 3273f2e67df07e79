import * as z from 'zod';
import { isOid, type Oid } from '../hash/oid.js';
import { MlxError, badManifest, badPath } from '../util/errors.js';
import { compareUtf8, pathRefusal } from '../util/paths.js';
import { parseJsonWith } from './zod-error.js';

export const MANIFEST_VERSION = 1;

/** A regular file: path, oid, size, executable bit. */
export interface FileEntry { p: string; o: Oid; s: number; x: boolean }
/** A symbolic link, stored as its target text (never followed). */
export interface LinkEntry { p: string; t: 'l'; l: string }
/** An empty directory, so checkout recreates the tree's exact shape. */
export interface DirEntry { p: string; t: 'd' }
export type ManifestEntry = FileEntry | LinkEntry | DirEntry;

export interface Manifest { v: 1; entries: ManifestEntry[] }

const EntrySchema = z.union([
  z.strictObject({ p: z.string(), o: z.string().refine(isOid, 'expected an object id'), s: z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER), x: z.boolean() }),
  z.strictObject({ p: z.string(), t: z.literal('l'), l: z.string().min(1) }),
  z.strictObject({ p: z.string(), t: z.literal('d') }),
]);
const ManifestSchema = z.strictObject({ v: z.literal(MANIFEST_VERSION), entries: z.array(EntrySchema) });

export const isFileEntry = (e: ManifestEntry): e is FileEntry => !('t' in e);

/**
 * Canonical bytes of a manifest: entries sorted by UTF-8 path, fixed key order, no whitespace.
 * The directory's oid is the hash of exactly these bytes, so equal trees get equal oids.
 */
export function serializeManifest(entries: ManifestEntry[]): string {
  const sorted = [...entries].sort((a, b) => compareUtf8(a.p, b.p));
  const parts = sorted.map((e) => {
    if (isFileEntry(e)) return `{"p":${JSON.stringify(e.p)},"o":"${e.o}","s":${e.s},"x":${e.x}}`;
    if (e.t === 'l') return `{"p":${JSON.stringify(e.p)},"t":"l","l":${JSON.stringify(e.l)}}`;
    return `{"p":${JSON.stringify(e.p)},"t":"d"}`;
  });
  return `{"v":${MANIFEST_VERSION},"entries":[${parts.join(',')}]}`;
}

/**
 * Parses and checks a manifest. Beyond the shape: every path is relative and normalised, no path
 * repeats, and no entry lies beneath a link or a file — so a crafted manifest can never make
 * checkout write outside the tracked directory.
 */
export function parseManifest(text: string, source: string): Manifest {
  const entries = parseJsonWith(ManifestSchema, text, (why) => malformedManifest(source, why)).entries as ManifestEntry[];
  const kinds = new Map<string, 'f' | 'l' | 'd'>();
  for (const e of entries) {
    const why = pathRefusal(e.p, 'entry');
    if (why !== undefined) throw badPath(`refusing directory manifest ${source}: entry path ${JSON.stringify(e.p)} ${why}`, { manifest: source, path: e.p, rule: why });
    if (kinds.has(e.p)) throw malformedManifest(source, `path ${JSON.stringify(e.p)} appears twice`);
    kinds.set(e.p, isFileEntry(e) ? 'f' : e.t);
  }
  for (const e of entries) {
    let i = e.p.indexOf('/');
    while (i !== -1) {
      const parent = kinds.get(e.p.slice(0, i));
      if (parent !== undefined) throw malformedManifest(source, `entry ${JSON.stringify(e.p)} lies beneath a ${parent === 'l' ? 'link' : parent === 'f' ? 'file' : 'empty directory'}`);
      i = e.p.indexOf('/', i + 1);
    }
  }
  return { v: MANIFEST_VERSION, entries };
}

function malformedManifest(source: string, why: string): MlxError {
  return badManifest(`malformed directory manifest ${source}: ${why}`, { manifest: source });
}
