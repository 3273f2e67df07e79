import fs from 'node:fs';
import path from 'node:path';
import type { HasherFactory } from '../hash/blake3.js';
import { consolidatedIndexPieces } from '../formats/consolidated-index.js';
import type { PackIndex } from '../formats/pack-index.js';
import { failpoint } from '../util/failpoint.js';
import { tempPathFor } from '../util/fs.js';
import { consolidatedKey } from './layout.js';
import type { Remote } from './remote.js';
import type { RemoteIndex } from './remote-index.js';

/*
 * Index consolidation (spec/remote.md, "Consolidated indexes"), tiered as in an LSM tree: once enough
 * packs are held by no consolidated index, one new consolidated index takes them in together with the
 * smaller consolidated indexes, which are then retired. A reader thus reads a handful of files however
 * many pushes there were, and each pack index is copied O(log pushes) times in all.
 *
 * Consolidated indexes are copies, never the authority (a pack is published by its own `.idx`), so
 * every step is safe whatever runs at the same time: one that misses a pack a concurrent push
 * published leaves that pack to be read from its own index; one that names a pack a sweep removed
 * names nothing a reader uses; retiring one only makes a reader that listed it read its packs' own
 * indexes. Nothing anyone needs can become unreachable by a consolidation, or by killing one.
 */

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
  retired: number;
}

/**
 * Publishes a consolidated index of what `index` holds when `policy` calls for one, then retires the
 * consolidated indexes it replaces (never before it is published). `index` learns of both.
 */
export async function consolidateIndexes(remote: Remote, index: RemoteIndex, newHasher: HasherFactory, policy: ConsolidationPolicy): Promise<ConsolidationResult> {
  const held = new Map([...index.consolidated].map(([hex, packs]) => [hex, packs.filter((p) => index.packs.has(p))]));
  const plan = planConsolidation(index.unconsolidatedPacks(), held, policy);
  if (!plan) return { packs: 0, retired: 0 };
  const staged = stageConsolidated(index.cacheDir, plan.packs.map((hex) => index.packs.get(hex)!), newHasher);
  const hex = staged.hex;
  try {
    await failpoint('consolidate.before-publish');
    await remote.put(consolidatedKey(hex), { file: staged.file });
    // Hashed as it was written, it is the copy a later load would download and check; only a cache.
    keepLocalCopy(staged.file, path.join(index.cacheDir, `${hex}.midx`));
  } finally {
    fs.rmSync(staged.file, { force: true });
  }
  await failpoint('consolidate.after-publish');
  const retired = plan.retire.filter((old) => old !== hex);
  for (const old of retired) await remote.delete(consolidatedKey(old));
  index.recordConsolidation(hex, plan.packs, retired);
  return { published: hex, packs: plan.packs.length, retired: retired.length };
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
