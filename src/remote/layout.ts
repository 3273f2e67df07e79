import { type Oid, oidFromHex, oidHex } from '../hash/oid.js';
import { badConfig, E, MlxError } from '../util/errors.js';
import type { Remote } from './remote.js';

/**
 * The layout version this mlx writes (spec/remote.md). It also reads layouts 1 and 2; its first push
 * (or `gc --remote`) to such a remote upgrades it (layout-upgrade.ts) before it raises the marker to 3,
 * so that an older mlx stops there instead of missing what it cannot find.
 */
export const REMOTE_LAYOUT = 3;
const READABLE_LAYOUTS: readonly unknown[] = [1, 2, 3];
export const MARKER_KEY = 'mlx-remote.json';
export const PACKS_PREFIX = 'packs/';

/**
 * What a layout-3 reader lists: pack indexes, consolidated indexes, removal records and damaged-copy
 * markers. (In layouts 1 and 2 only consolidated indexes, which are copies there.)
 */
export const INDEX_PREFIX = 'index/';

export const packKey = (packOid: Oid) => `${PACKS_PREFIX}${oidHex(packOid)}.pack`;
/** Where a layout-3 push publishes a pack's index. */
export const indexKey = (packOid: Oid) => `${INDEX_PREFIX}${oidHex(packOid)}.idx`;
/** Where layouts 1 and 2 publish a pack's index (still read, and removed by gc --remote, in layout 3). */
export const legacyIndexKey = (packOid: Oid) => `${PACKS_PREFIX}${oidHex(packOid)}.idx`;
/** A consolidated index, named by the BLAKE3 (hex) of its bytes. */
export const consolidatedKey = (hex: string) => `${INDEX_PREFIX}${hex}.midx`;

/** The consolidated indexes a listing of {@link INDEX_PREFIX} names (their hex). */
export function consolidatedIndexes(keys: string[]): string[] {
  return matches(keys, /^index\/([0-9a-f]{64})\.midx$/);
}

/** Packs whose index a listing of {@link INDEX_PREFIX} shows published at `index/<hex>.idx`. */
export function indexedPacks(keys: string[]): string[] {
  return matches(keys, /^index\/([0-9a-f]{64})\.idx$/);
}

/** Removal records (`index/<ms>-<8 hex>.gone`) a listing names. */
export function goneRecordKeys(keys: string[]): string[] {
  return keys.filter((key) => /^index\/[0-9]+-[0-9a-f]{8}\.gone$/.test(key));
}

/**
 * Marks the copy of `oid` in pack `packOid` as damaged (an empty object). Written only once a good copy
 * is published in another pack; readers then take that one.
 */
export const damagedKey = (packOid: Oid, oid: Oid) => `${INDEX_PREFIX}${oidHex(packOid)}.${oidHex(oid)}.bad`;
/** Where layouts 1 and 2 put those markers. */
export const legacyDamagedKey = (packOid: Oid, oid: Oid) => `${PACKS_PREFIX}${oidHex(packOid)}.${oidHex(oid)}.bad`;

/** The damaged copies a listing's `.bad` keys name (in `packs/` or `index/`): pack hex and object oid. */
export function damagedCopies(keys: string[]): { packHex: string; oid: Oid }[] {
  const out: { packHex: string; oid: Oid }[] = [];
  for (const key of keys) {
    const m = /^(?:packs|index)\/([0-9a-f]{64})\.([0-9a-f]{64})\.bad$/.exec(key);
    if (m) out.push({ packHex: m[1]!, oid: oidFromHex(m[2]!) });
  }
  return out;
}

/** Pack ids named by a listing's `packs/<hex>.idx` keys: how layouts 1 and 2 publish a pack. */
export function publishedPacks(keys: string[]): string[] {
  return matches(keys, /^packs\/([0-9a-f]{64})\.idx$/);
}

function matches(keys: string[], re: RegExp): string[] {
  const out: string[] = [];
  for (const key of keys) {
    const m = re.exec(key);
    if (m) out.push(m[1]!);
  }
  return out;
}

/**
 * The layout of a remote as its marker says (undefined when there is none yet), refusing one this
 * mlx cannot read: a newer one says to upgrade mlx.
 */
export async function readLayout(remote: Remote): Promise<number | undefined> {
  let bytes: Buffer;
  try {
    bytes = await remote.get(MARKER_KEY);
  } catch (err) {
    // A failed download is the network's (it keeps its own code), not an unreadable marker.
    if (err instanceof MlxError && err.code === E.REMOTE_NOT_FOUND) return undefined;
    throw err;
  }
  const layout = markerLayout(bytes);
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
  return layout as number;
}

/**
 * Checks (and, with `create`, writes) the marker naming the layout version, so an older mlx never
 * misreads a remote written in a newer layout. A writer raises an older layout only after `upgrade`
 * (given by writers) made the remote readable in this one.
 */
export async function ensureLayout(remote: Remote, create: boolean, upgrade?: (from: number) => Promise<void | (() => Promise<void>)>): Promise<number> {
  const layout = await readLayout(remote);
  if (!create || layout === REMOTE_LAYOUT) return layout ?? REMOTE_LAYOUT;
  let afterRaise: void | (() => Promise<void>) = undefined;
  if (layout !== undefined) {
    if (!upgrade) throw new Error(`internal: raising ${remote.url} from layout ${layout} needs an upgrade step`);
    afterRaise = await upgrade(layout);
  }
  await remote.put(MARKER_KEY, Buffer.from(`${JSON.stringify({ mlx: 'remote', layout: REMOTE_LAYOUT })}\n`));
  if (afterRaise) await afterRaise();
  return REMOTE_LAYOUT;
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
