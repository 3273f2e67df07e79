import crypto from 'node:crypto';
import { type Oid, oidFromHex } from '../hash/oid.js';
import { MlxError } from '../util/errors.js';
import { failpoint } from '../util/failpoint.js';
import { writeGoneRecord } from './gone-records.js';
import { indexKey, legacyIndexKey, packKey } from './layout.js';
import { readRemoteRecipe } from './recipe-check.js';
import type { Remote } from './remote.js';
import type { RemoteIndex } from './remote-index.js';
import { readSweepRecords, removeOldSweepRecords, SweepLease } from './sweep-records.js';

/*
 * Remote garbage collection in two phases, so that a push running at the same time cannot lose data
 * (the protocol and why it is safe: spec/lifecycle.md, "gc --remote and concurrent pushes"):
 *  - mark: packs none of whose objects a kept pointer needs are written into a plan `gc/<ms>-<rand>.json`;
 *  - sweep (a later run, once the plan is older than the grace period): each planned pack that is still
 *    unneeded and that no push has relied on since the plan was made is removed: a removal record
 *    (gone-records.ts) first, then its index and its pack file. The sweep first publishes a sweep record
 *    naming those packs (src/remote/sweep-records.ts).
 * A push treats objects in planned packs as absent (it uploads them again), records in
 * `keep/<ms>-<rand>.json` every pack its data lives in — which the sweep respects — and then checks,
 * against the sweep records, that none of them vanished meanwhile.
 */

export const GC_PREFIX = 'gc/';
export const KEEP_PREFIX = 'keep/';

interface Plan {
  v: 1;
  created: number;
  packs: string[];
}

async function readJsonRecords(remote: Remote, prefix: string): Promise<{ key: string; doc: Plan }[]> {
  const out: { key: string; doc: Plan }[] = [];
  for (const { key } of await remote.list(prefix)) {
    try {
      const doc = JSON.parse((await remote.get(key)).toString('utf8')) as Plan;
      if (doc.v === 1 && typeof doc.created === 'number' && Array.isArray(doc.packs)) out.push({ key, doc });
    } catch (err) {
      if (!(err instanceof MlxError) && !(err instanceof SyntaxError)) throw err;
    }
  }
  return out;
}

function recordKey(prefix: string): string {
  return `${prefix}${Date.now()}-${crypto.randomBytes(4).toString('hex')}.json`;
}

/** Packs that a pending gc plan names: a push must not rely on them. */
export async function doomedPacks(remote: Remote): Promise<Set<string>> {
  const out = new Set<string>();
  for (const { doc } of await readJsonRecords(remote, GC_PREFIX)) for (const p of doc.packs) out.add(p);
  return out;
}

/** Written by a push once its packs are published, before it reads the sweep records: every pack its data lives in. */
export async function recordKeep(remote: Remote, packs: Set<string>): Promise<void> {
  if (packs.size === 0) return;
  await remote.put(recordKey(KEEP_PREFIX), Buffer.from(JSON.stringify({ v: 1, created: Date.now(), packs: [...packs].sort() })));
}

/** Adds to `keep` the chunks of every kept file that the remote stores as a recipe. */
export async function addRecipeChunks(remote: Remote, index: RemoteIndex, keep: Set<Oid>): Promise<void> {
  for (const oid of [...keep]) {
    const loc = index.locate(oid);
    if (!loc || loc.entry.t !== 'r') continue;
    for (const [chunk] of (await readRemoteRecipe(remote, oid, loc)).chunks) keep.add(chunk);
  }
}

export interface RemoteGcResult {
  /** Packs newly planned for removal by this run's mark phase. */
  marked: number;
  /** Packs removed by this run's sweep of older plans. */
  removedPacks: number;
  removedBytes: number;
  /** Planned packs spared because they are needed again or a push relied on them. */
  spared: number;
  /** Plans still waiting for their grace period. */
  pending: number;
  /** Temp files of killed pushes removed (directory remotes; older than the grace period). */
  removedTemporaries: number;
  dryRun: boolean;
}

/**
 * Runs the sweep of plans older than `graceMs`, then marks the packs that nothing in `keep` needs.
 * With `dryRun` nothing is written or removed; the counts say what would happen.
 */
export async function collectRemote(remote: Remote, index: RemoteIndex, keep: Set<Oid>, opts: { graceMs: number; dryRun?: boolean }): Promise<RemoteGcResult> {
  const result: RemoteGcResult = { marked: 0, removedPacks: 0, removedBytes: 0, spared: 0, pending: 0, removedTemporaries: 0, dryRun: !!opts.dryRun };
  // A temp file older than the grace period belongs to no live push.
  if (!opts.dryRun && remote.removeStaleTemporaries) result.removedTemporaries = await remote.removeStaleTemporaries(opts.graceMs);
  const needed = (hex: string) => index.packs.get(hex)?.entries.some((e) => keep.has(e.o)) ?? false;
  const plans = await readJsonRecords(remote, GC_PREFIX);
  await failpoint('gc.sweep.after-read-plans');
  const now = Date.now();
  const planned = new Set<string>();
  const due = plans.filter(({ doc }) => now - doc.created >= opts.graceMs);
  for (const { doc } of plans) {
    if (due.some((d) => d.doc === doc)) continue;
    result.pending++;
    for (const p of doc.packs) planned.add(p);
  }
  // The sweep record goes up before the keep records are read: a push that publishes after this
  // read will see the record, wait for this sweep and check what it removed.
  const candidates = [...new Set(due.flatMap((d) => d.doc.packs))].filter((hex) => index.packs.has(hex) && !needed(hex));
  const lease = !opts.dryRun && candidates.length > 0 ? await SweepLease.begin(remote, candidates) : undefined;
  let keeps: { key: string; doc: Plan }[];
  try {
    keeps = await readJsonRecords(remote, KEEP_PREFIX);
    await failpoint('gc.sweep.after-read-keeps');
    const removing = new Set<string>();
    for (const { doc } of due) {
      const reliedOn = new Set(keeps.filter((k) => k.doc.created >= doc.created - opts.graceMs).flatMap((k) => k.doc.packs));
      for (const hex of doc.packs) {
        if (!index.packs.has(hex) || removing.has(hex)) continue; // already gone
        if (needed(hex) || reliedOn.has(hex)) {
          result.spared++;
          continue;
        }
        removing.add(hex);
        result.removedPacks++;
        result.removedBytes += index.packs.get(hex)!.size;
      }
    }
    if (!opts.dryRun && removing.size > 0) await removePacks(remote, index, lease!, removing);
    if (!opts.dryRun) for (const { key } of due) await remote.delete(key);
  } finally {
    // Also after a failure: this sweep removes nothing more, so pushes need not wait for it.
    if (lease) await lease.finish();
  }
  if (!opts.dryRun) {
    // A keep record matters to a plan created up to one grace period after it. Every plan read here
    // counts, the ones just swept too: a concurrent sweep may still be working through them.
    const oldest = Math.min(now, ...plans.map((p) => p.doc.created));
    for (const k of keeps) if (k.doc.created < oldest - opts.graceMs) await remote.delete(k.key);
    await removeOldSweepRecords(remote, await readSweepRecords(remote));
  }

  const unneeded = [...index.packs.keys()].filter((hex) => !needed(hex) && !planned.has(hex));
  result.marked = unneeded.length;
  if (unneeded.length > 0 && !opts.dryRun) {
    await remote.put(recordKey(GC_PREFIX), Buffer.from(JSON.stringify({ v: 1, created: now, packs: unneeded.sort() })));
  }
  return result;
}

/**
 * Removes packs: first a removal record naming them all, which hides them from every reader at once
 * (a consolidated index may still name them), then per pack its index (layout 3's, and a layout-2 one
 * left from before the upgrade) and its pack file. The lease is checked before each step.
 */
async function removePacks(remote: Remote, index: RemoteIndex, lease: SweepLease, packs: Set<string>): Promise<void> {
  await lease.beforeRemove();
  await writeGoneRecord(remote, packs);
  index.markGone(packs);
  for (const hex of packs) {
    await failpoint('gc.sweep.before-delete-index');
    await lease.beforeRemove();
    await remote.delete(indexKey(oidFromHex(hex)));
    await remote.delete(legacyIndexKey(oidFromHex(hex)));
    await failpoint('gc.sweep.before-delete-pack');
    await lease.beforeRemove();
    await remote.delete(packKey(oidFromHex(hex)));
  }
}
