import fs from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import type { HasherFactory } from '../hash/blake3.js';
import { oidFromHex } from '../hash/oid.js';
import { consolidatedIndexPieces } from '../formats/consolidated-index.js';
import type { PackIndex } from '../formats/pack-index.js';
import { failpoint } from '../util/failpoint.js';
import { tempPathFor } from '../util/fs.js';
import { consolidatedKey, indexKey, REMOTE_LAYOUT } from './layout.js';
import type { Remote } from './remote.js';
import { RemoteIndex } from './remote-index.js';

/*
 * Index consolidation (spec/remote.md, "Consolidated indexes"), tiered as in an LSM tree: once enough
 * packs are held by no consolidated index, one new consolidated index takes them in together with the
 * smaller consolidated indexes, which are then retired. A reader thus reads a handful of files however
 * many pushes there were, and each pack index is copied O(log pushes) times in all.
 *
 * In layout 3 a consolidated index publishes the packs it holds, so it retires (deletes) the pack
 * indexes it took in as well. Why that is safe whatever runs at the same time:
 *  - it works from its own fresh listing, and retires only files that listing named, after its own
 *    consolidated index, holding all of their packs, is published: a reader that finds a listed file
 *    gone lists again and finds that one;
 *  - it leaves out the packs a listed removal record names, and publishes only within
 *    CONSOLIDATION_WINDOW of its listing: a removal record written after the listing hides the
 *    pack from readers anyway, and is retired only long after the consolidation published
 *    (removal-retire.ts), when a listing shows what it published.
 */

/** CONSOLIDATION_WINDOW: a consolidation publishes only this soon after its listing; later, it gives up (see above). Tests shorten it. */
export function consolidationWindowMs(): number {
  const v = Number(process.env.MLX_CONSOLIDATION_WINDOW_MS || NaN);
  return Number.isFinite(v) && v >= 0 && v <= DEFAULT_WINDOW_MS ? v : DEFAULT_WINDOW_MS;
}
const DEFAULT_WINDOW_MS = 10 * 60_000;

export interface ConsolidationPolicy {
  /** Consolidate once at least this many published packs are in no consolidated index. */
  minUnconsolidated: number;
  /** Keep at most this many consolidated indexes: the smallest are merged into the new one. */
  maxConsolidated: number;
}

/** What a push does: a fresh clone then reads at most 15 unconsolidated indexes and 8 consolidated ones. */
export const PUSH_POLICY: ConsolidationPolicy = { minUnconsolidated: 8, maxConsolidated: 8 };
/** What `gc --remote` does: everything into one consolidated index. */
export const GC_POLICY: ConsolidationPolicy = { minUnconsolidated: 1, maxConsolidated: 1 };

/** A consolidated index is merged when it holds at most this many times the packs merged so far. */
const TIER_RATIO = 4;

export interface ConsolidationPlan {
  /** The packs the new consolidated index holds. */
  packs: string[];
  /** Consolidated indexes it replaces, retired once it is published. */
  retire: string[];
}

/**
 * Which packs to consolidate, and which consolidated indexes the new one replaces; undefined when
 * too few packs are unconsolidated and no more consolidated indexes exist than the policy keeps (two
 * consolidations at once can leave one too many). Pure: `loose` are the published packs no consolidated index
 * holds, `consolidated` the published packs each consolidated index holds (what it holds beyond
 * them counts for nothing and is dropped when it is merged).
 */
export function planConsolidation(loose: readonly string[], consolidated: ReadonlyMap<string, readonly string[]>, policy: ConsolidationPolicy): ConsolidationPlan | undefined {
  if (loose.length < policy.minUnconsolidated && consolidated.size <= policy.maxConsolidated) return undefined;
  const bySize = [...consolidated].sort((a, b) => a[1].length - b[1].length || (a[0] < b[0] ? -1 : 1));
  const packs = new Set(loose);
  const retire: string[] = [];
  // Smallest first: merge while the next one is not much larger than what is merged so far, and
  // while too many would remain beside the new one.
  for (let i = 0; i < bySize.length; i++) {
    const [hex, held] = bySize[i]!;
    if (held.length > TIER_RATIO * packs.size && bySize.length - i + 1 <= policy.maxConsolidated) break;
    for (const p of held) packs.add(p);
    retire.push(hex);
  }
  return { packs: [...packs].sort(), retire };
}

export interface ConsolidationResult {
  /** The consolidated index published, or undefined when there was nothing to do. */
  published?: string;
  packs: number;
  /** Consolidated indexes and pack indexes retired. */
  retired: number;
  /** Set when it gave up: its listing was older than {@link consolidationWindowMs()} by the time it could publish. */
  abandoned?: string;
}

/**
 * Publishes a consolidated index of what the remote publishes now when `policy` calls for one, then
 * retires the consolidated indexes and pack indexes it replaces (never before it is published). Works
 * from a fresh load of the remote's index (files already in the local folder are not downloaded
 * again), never from a caller's index, which may have forgotten packs (those a gc plans to remove):
 * leaving out a published pack would remove it without a removal record.
 */
export async function consolidateIndexes(remote: Remote, cacheRoot: string, newHasher: HasherFactory, policy: ConsolidationPolicy): Promise<ConsolidationResult> {
  const index = await RemoteIndex.load(remote, cacheRoot);
  if (index.layout !== REMOTE_LAYOUT) return { packs: 0, retired: 0 };
  await failpoint('consolidate.after-list');
  const held = new Map([...index.consolidated].map(([hex, packs]) => [hex, packs.filter((p) => index.packs.has(p))]));
  const plan = planConsolidation(index.unconsolidatedPacks(), held, policy);
  if (!plan) return { packs: 0, retired: 0 };
  const hex = await publishConsolidated(remote, index, plan.packs, newHasher, () => {
    const age = performance.now() - index.listedAt;
    return age > consolidationWindowMs() ? `its listing of ${remote.url} was ${Math.round(age / 1000)} s old when it was ready to publish` : undefined;
  });
  if (typeof hex !== 'string') return { packs: 0, retired: 0, abandoned: hex.abandoned };
  await failpoint('consolidate.after-publish');
  const retired = plan.retire.filter((old) => old !== hex);
  for (const old of retired) await remote.delete(consolidatedKey(old));
  // Every listed pack index whose pack a consolidated index still listed holds (the new one or one it
  // kept): the ones it took in, and those a killed consolidation left behind.
  const covered = new Set(plan.packs);
  for (const [old, packs] of held) if (!retired.includes(old)) for (const p of packs) covered.add(p);
  const indexes = [...index.indexed].filter((p) => covered.has(p));
  for (const p of indexes) await remote.delete(indexKey(oidFromHex(p)));
  return { published: hex, packs: plan.packs.length, retired: retired.length + indexes.length };
}
/**
 * Writes the consolidated index of `packs` (all in `index`) and publishes it, unless `tooLate` (asked
 * right before the upload) gives a reason not to. Returns its hex.
 */
export async function publishConsolidated(remote: Remote, index: RemoteIndex, packs: string[], newHasher: HasherFactory): Promise<string>;
export async function publishConsolidated(remote: Remote, index: RemoteIndex, packs: string[], newHasher: HasherFactory, tooLate: () => string | undefined): Promise<string | { abandoned: string }>;
export async function publishConsolidated(remote: Remote, index: RemoteIndex, packs: string[], newHasher: HasherFactory, tooLate?: () => string | undefined): Promise<string | { abandoned: string }> {
  const staged = stageConsolidated(index.cacheDir, packs.map((hex) => index.packs.get(hex)!), newHasher);
  try {
    await failpoint('consolidate.before-publish');
    const abandoned = tooLate?.();
    if (abandoned !== undefined) return { abandoned };
    await remote.put(consolidatedKey(staged.hex), { file: staged.file });
    // Hashed as it was written, it is the copy a later load would download and check; only a cache.
    keepLocalCopy(staged.file, path.join(index.cacheDir, `${staged.hex}.midx`));
  } finally {
    fs.rmSync(staged.file, { force: true });
  }
  return staged.hex;
}

/**
 * Writes the consolidated index of `indexes` to a temp file beside the local copies of the remote's
 * indexes, hashing it as it goes: one pack's text at a time is in memory, not the whole index.
 */
function stageConsolidated(dir: string, indexes: PackIndex[], newHasher: HasherFactory): { file: string; hex: string } {
  const file = tempPathFor(path.join(dir, 'consolidated.midx'));
  const hasher = newHasher();
  try {
    const fd = fs.openSync(file, 'wx');
    try {
      for (const piece of consolidatedIndexPieces(indexes)) {
        const bytes = Buffer.from(piece);
        hasher.update(bytes);
        for (let done = 0; done < bytes.length; ) done += fs.writeSync(fd, bytes, done, bytes.length - done);
      }
    } finally {
      fs.closeSync(fd);
    }
  } catch (err) {
    fs.rmSync(file, { force: true });
    throw err;
  }
  return { file, hex: hasher.digestHex() };
}

function keepLocalCopy(file: string, copy: string): void {
  try {
    fs.renameSync(file, copy);
  } catch {
    // a later load downloads it instead
  }
}
