import { oidFromHex } from '../hash/oid.js';
import { failpoint } from '../util/failpoint.js';
import { GONE_RETIRE_MS } from './gone-records.js';
import { legacyIndexKey, PACKS_PREFIX, publishedPacks, REMOTE_LAYOUT } from './layout.js';
import type { Remote } from './remote.js';
import { RemoteIndex } from './remote-index.js';

/*
 * What `gc --remote` tidies in `index/` and `packs/` after its final consolidation (spec/remote.md,
 * "Removal records"):
 *  - a removal record older than GONE_RETIRE_MS that no listed pack index or consolidated index still
 *    names a pack of. A consolidation that listed before the record was written published within its
 *    window (10 minutes) or never: an hour later, what it published is in the listing, so a record
 *    retired here can no longer be needed to hide anything;
 *  - a layout-2 `packs/<hex>.idx` whose pack a consolidated index holds (no reader of layout 3 reads it).
 */

export interface RetireResult {
  goneRecords: number;
  legacyIndexes: number;
}

export async function retireRemovals(remote: Remote, cacheRoot: string, now = Date.now()): Promise<RetireResult> {
  const result: RetireResult = { goneRecords: 0, legacyIndexes: 0 };
  const index = await RemoteIndex.load(remote, cacheRoot);
  if (index.layout !== REMOTE_LAYOUT) return result;
  await failpoint('gc.retire.after-list');
  const consolidated = new Set([...index.consolidated.values()].flat());
  const named = new Set([...index.indexed, ...consolidated]);
  for (const { key, record } of index.goneRecords) {
    if (now - record.created <= GONE_RETIRE_MS || record.packs.some((p) => named.has(p))) continue;
    await remote.delete(key);
    result.goneRecords++;
  }
  for (const hex of publishedPacks((await remote.list(PACKS_PREFIX)).map((o) => o.key))) {
    if (!consolidated.has(hex)) continue;
    await remote.delete(legacyIndexKey(oidFromHex(hex)));
    result.legacyIndexes++;
  }
  return result;
}
