import { type Oid, oidFromHex, oidHex } from '../hash/oid.js';
import { badConfig } from '../util/errors.js';
import type { Remote } from './remote.js';

/**
 * The layout version this mlx writes (spec/remote.md). It also reads layout 1, which has no batched
 * members; the first push of this mlx to a layout-1 remote raises its marker to 2 before it publishes
 * anything, so that an older mlx stops there instead of missing the objects it cannot read.
 */
export const REMOTE_LAYOUT = 2;
const READABLE_LAYOUTS: readonly unknown[] = [1, 2];
export const MARKER_KEY = 'mlx-remote.json';
export const PACKS_PREFIX = 'packs/';

/** Consolidated indexes: copies of many pack indexes in one file each (spec/remote.md). */
export const CONSOLIDATED_PREFIX = 'index/';

export const packKey = (packOid: Oid) => `${PACKS_PREFIX}${oidHex(packOid)}.pack`;
export const indexKey = (packOid: Oid) => `${PACKS_PREFIX}${oidHex(packOid)}.idx`;
/** A consolidated index, named by the BLAKE3 (hex) of its bytes. */
export const consolidatedKey = (hex: string) => `${CONSOLIDATED_PREFIX}${hex}.midx`;

/** The consolidated indexes a listing of {@link CONSOLIDATED_PREFIX} names (their hex). */
export function consolidatedIndexes(keys: string[]): string[] {
  const out: string[] = [];
  for (const key of keys) {
    const m = /^index\/([0-9a-f]{64})\.midx$/.exec(key);
    if (m) out.push(m[1]!);
  }
  return out;
}

/**
 * Marks the copy of `oid` in pack `packOid` as damaged (an empty object). Written only once a good copy
 * is published in another pack; readers then take that one.
 */
export const damagedKey = (packOid: Oid, oid: Oid) => `${PACKS_PREFIX}${oidHex(packOid)}.${oidHex(oid)}.bad`;

/** The damaged copies a listing's `.bad` keys name: pack hex and object oid. */
export function damagedCopies(keys: string[]): { packHex: string; oid: Oid }[] {
  const out: { packHex: string; oid: Oid }[] = [];
  for (const key of keys) {
    const m = /^packs\/([0-9a-f]{64})\.([0-9a-f]{64})\.bad$/.exec(key);
    if (m) out.push({ packHex: m[1]!, oid: oidFromHex(m[2]!) });
  }
  return out;
}

/** Pack ids named by a listing's `.idx` keys: only packs whose index is published exist for readers. */
export function publishedPacks(keys: string[]): string[] {
  const out: string[] = [];
  for (const key of keys) {
    const m = /^packs\/([0-9a-f]{64})\.idx$/.exec(key);
    if (m) out.push(m[1]!);
  }
  return out;
}

/**
 * Checks (and on first push writes) the marker naming the layout version, so an older mlx never
 * misreads a remote written in a newer layout.
 */
export async function ensureLayout(remote: Remote, create: boolean): Promise<void> {
  const marker = Buffer.from(`${JSON.stringify({ mlx: 'remote', layout: REMOTE_LAYOUT })}\n`);
  const head = await remote.head(MARKER_KEY);
  if (!head) {
    if (create) await remote.put(MARKER_KEY, marker);
    return;
  }
  // A failed download is the network's (it keeps its own code), not an unreadable marker.
  const layout = markerLayout(await remote.get(MARKER_KEY));
  if (layout === undefined) {
    throw badConfig(`remote ${remote.url} has an unreadable ${MARKER_KEY}`, { hint: `restore it as {"mlx":"remote","layout":${REMOTE_LAYOUT}} if this is an mlx remote` });
  }
  if (typeof layout === 'number' && Number.isInteger(layout) && layout > REMOTE_LAYOUT) {
    throw badConfig(`remote ${remote.url} was written by a newer mlx (layout ${layout}; this mlx reads layout ${REMOTE_LAYOUT})`, {
      hint: 'upgrade mlx to use this remote',
    });
  }
  if (!READABLE_LAYOUTS.includes(layout)) {
    throw badConfig(`remote ${remote.url} uses layout ${JSON.stringify(layout)}; this mlx reads layout ${REMOTE_LAYOUT}`, {
      hint: 'upgrade mlx, or point this remote at another location',
    });
  }
  // A writer raises an older layout before it writes what only this layout's readers can read.
  if (create && layout !== REMOTE_LAYOUT) await remote.put(MARKER_KEY, marker);
}

/** The layout a marker names, or undefined when it is not JSON or not an object with a `layout`. */
function markerLayout(bytes: Buffer): unknown {
  let doc: unknown;
  try {
    doc = JSON.parse(bytes.toString('utf8'));
  } catch (err) {
    if (err instanceof SyntaxError) return undefined;
    throw err;
  }
  return typeof doc === 'object' && doc !== null ? (doc as { layout?: unknown }).layout : undefined;
}
