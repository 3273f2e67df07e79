import type { HasherFactory } from '../hash/blake3.js';
import { oidFromHex } from '../hash/oid.js';
import { failpoint } from '../util/failpoint.js';
import { publishConsolidated } from './consolidate.js';
import { consolidatedIndexes, consolidatedKey, damagedKey, ensureLayout, INDEX_PREFIX, legacyIndexKey, readLayout, REMOTE_LAYOUT } from './layout.js';
import { forEachLimited } from '../util/pool.js';
import type { Remote } from './remote.js';
import { RemoteIndex } from './remote-index.js';
import { readSweepRecords } from './sweep-records.js';

/*
 * From layout 1 or 2 to layout 3 (spec/remote.md, "Layouts"). In layout 3 a reader lists only
 * `index/`, where consolidated indexes publish packs, so before the marker is raised every pack that
 * layout 2 publishes (its `packs/<hex>.idx` listed, its pack file of the size the index says) goes into
 * one consolidated index, and the damaged-copy markers are copied into `index/`. The consolidated
 * indexes layout 2 wrote were copies, which may still name packs a sweep removed: they are retired
 * (after the new one is published) so that they never publish anything in layout 3.
 */

/** Checks the marker and, with `create`, writes it, upgrading an older remote first. Returns the layout. */
export function prepareLayout(remote: Remote, cacheRoot: string, newHasher: HasherFactory, create: boolean): Promise<number> {
  return ensureLayout(remote, create, () => upgradeToLayout3(remote, cacheRoot, newHasher));
}

/** Upgrades a layout-1 or -2 remote to layout 3 (and raises its marker); nothing for a remote with no marker or already at 3. */
export async function upgradeRemote(remote: Remote, cacheRoot: string, newHasher: HasherFactory): Promise<void> {
  const layout = await readLayout(remote);
  if (layout !== undefined && layout < REMOTE_LAYOUT) await prepareLayout(remote, cacheRoot, newHasher, true);
}

/**
 * Everything before the marker's raise; returns the step after it. Packs a sweep that is not done may
 * be removing are left out: leaving a pack out only makes its objects be sent again by the next push
 * that needs them.
 */
export async function upgradeToLayout3(remote: Remote, cacheRoot: string, newHasher: HasherFactory): Promise<() => Promise<void>> {
  // Listed first: only what was there before this upgrade's own consolidated index is retired.
  const earlier = consolidatedIndexes((await remote.list(INDEX_PREFIX)).map((o) => o.key));
  const legacy = await RemoteIndex.load(remote, cacheRoot);
  const sweeping = new Set((await readSweepRecords(remote)).filter((r) => r.doc.done === undefined).flatMap((r) => r.doc.packs));
  const packs = [...legacy.packs.keys()].filter((hex) => !sweeping.has(hex)).sort();
  const published = packs.length > 0 ? await publishConsolidated(remote, legacy, packs, newHasher) : undefined;
  for (const bad of legacy.legacyDamaged) await remote.put(damagedKey(oidFromHex(bad.packHex), bad.oid), Buffer.alloc(0));
  await failpoint('layout-upgrade.before-retire');
  for (const old of earlier) if (old !== published) await remote.delete(consolidatedKey(old));
  // Once the marker says 3, the layout-2 indexes of the packs taken in go: an older mlx reads no marker
  // before its gc --remote, and would otherwise remove such a pack by its `packs/<hex>.idx` alone,
  // without the removal record that hides it from layout-3 readers.
  return async () => {
    await failpoint('layout-upgrade.after-raise');
    await forEachLimited(packs, 8, (hex) => remote.delete(legacyIndexKey(oidFromHex(hex))));
  };
}
