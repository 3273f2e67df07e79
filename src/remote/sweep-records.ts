import crypto from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { MlxError, remoteFailed } from '../util/errors.js';
import { failpoint } from '../util/failpoint.js';
import type { Remote } from './remote.js';

/*
 * Sweep records, `sweeps/<ms>-<rand>.json`: the fence between a remote gc's sweep and concurrent pushes
 * (spec/lifecycle.md, "gc --remote and concurrent pushes").
 *  - A sweep writes its record, naming every pack it may remove, BEFORE it reads the keep records, and
 *    removes only those packs. It refreshes the record while it works (a lease) and stops removing once
 *    it could not refresh in time. When done it says so in the record, which stays as a trace for a while.
 *  - A push writes its keep record BEFORE it reads the sweep records. It waits for live sweeps that may
 *    remove one of its packs, then checks those packs still exist, and sends again what vanished.
 * Whatever the order, either the sweep read the push's keep record (and spares its packs), or the push
 * read the sweep's record (and checks, after the sweep, what the sweep may have removed).
 */

export const SWEEP_PREFIX = 'sweeps/';

/** A finished sweep's record is kept this long: a push that overlapped it checks the packs it names. */
export const SWEEP_TRACE_MS = 60 * 60_000;

/**
 * How long a sweep record may go unrefreshed before pushes stop waiting for it (its sweep was killed).
 * A sweep removes nothing later than half of this after its last refresh began. Tests shorten it.
 */
export function sweepLeaseMs(): number {
  const v = Number(process.env.MLX_GC_LEASE_MS);
  return Number.isFinite(v) && v > 0 ? v : 5 * 60_000;
}

export interface SweepRecord {
  v: 1;
  created: number;
  /** Changes at every refresh: a push that sees it unchanged for a whole lease knows the sweep is gone. */
  refreshed: number;
  /** Every pack this sweep may remove. */
  packs: string[];
  /** When the sweep finished; absent while it runs (or when it was killed). */
  done?: number;
}

function isSweepRecord(doc: unknown): doc is SweepRecord {
  const d = doc as SweepRecord;
  return typeof d === 'object' && d !== null && d.v === 1 && typeof d.created === 'number' && typeof d.refreshed === 'number' && Array.isArray(d.packs);
}

/** Every readable sweep record. One that vanishes while being read (cleaned up) is skipped. */
export async function readSweepRecords(remote: Remote): Promise<{ key: string; doc: SweepRecord }[]> {
  const out: { key: string; doc: SweepRecord }[] = [];
  for (const { key } of await remote.list(SWEEP_PREFIX)) {
    if (!key.endsWith('.json')) continue;
    try {
      const doc: unknown = JSON.parse((await remote.get(key)).toString('utf8'));
      if (isSweepRecord(doc)) out.push({ key, doc });
    } catch (err) {
      if (!(err instanceof MlxError) && !(err instanceof SyntaxError)) throw err;
    }
  }
  return out;
}

/** The sweeper's side: its record, kept fresh while it removes packs. */
export class SweepLease {
  private readonly record: SweepRecord;
  private lastStart = 0;
  /** Monotonic time after which this sweep must not remove anything. */
  private deadline = 0;

  private constructor(
    private readonly remote: Remote,
    private readonly key: string,
    packs: string[],
  ) {
    const now = Date.now();
    this.record = { v: 1, created: now, refreshed: now, packs: [...packs].sort() };
  }

  /** Publishes the record; only after this may the sweep read keep records and remove `packs`. */
  static async begin(remote: Remote, packs: string[]): Promise<SweepLease> {
    const lease = new SweepLease(remote, `${SWEEP_PREFIX}${Date.now()}-${crypto.randomBytes(4).toString('hex')}.json`, packs);
    await lease.write();
    return lease;
  }

  private async write(): Promise<void> {
    const start = performance.now();
    await this.remote.put(this.key, Buffer.from(JSON.stringify(this.record)));
    // A refresh that took so long that the previous lease ran out may not be seen in time by a push.
    if (this.deadline !== 0 && performance.now() >= this.deadline) throw this.expired();
    this.lastStart = start;
    this.deadline = start + sweepLeaseMs() / 2;
  }

  private expired(): MlxError {
    return remoteFailed(`gc --remote stopped before removing more packs from ${this.remote.url}: it could not renew its sweep record in time`, {
      hint: 'nothing needed was removed; run mlx gc --remote again',
    });
  }

  /** Called right before each removal: renews the record when due, and refuses once the lease ran out. */
  async beforeRemove(): Promise<void> {
    const lease = sweepLeaseMs();
    if (performance.now() >= this.deadline) throw this.expired();
    if (performance.now() - this.lastStart >= lease / 4) {
      this.record.refreshed = Math.max(Date.now(), this.record.refreshed + 1);
      await this.write();
    }
  }

  /** Marks the sweep finished; the record stays as a trace for {@link SWEEP_TRACE_MS}. */
  async finish(): Promise<void> {
    this.record.done = Date.now();
    this.record.refreshed = Math.max(Date.now(), this.record.refreshed + 1);
    await this.remote.put(this.key, Buffer.from(JSON.stringify(this.record)));
  }
}

/** Removes sweep records finished (or last refreshed) longer than {@link SWEEP_TRACE_MS} ago. */
export async function removeOldSweepRecords(remote: Remote, records: { key: string; doc: SweepRecord }[], now = Date.now()): Promise<void> {
  for (const { key, doc } of records) if (now - (doc.done ?? doc.refreshed) > SWEEP_TRACE_MS) await remote.delete(key);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * The pusher's side, called after its keep record is written: waits until no live sweep may remove one
 * of `ours`, then returns those of `ours` that some sweep (running, finished or killed) may have
 * removed: the caller checks they still exist. With `all` (a push longer than a trace is kept), every
 * one of `ours` is returned.
 */
export async function packsAtRisk(remote: Remote, ours: Set<string>, all: boolean): Promise<Set<string>> {
  /** Per live record: the `refreshed` value last seen, and since when (this process's clock). */
  const seen = new Map<string, { refreshed: number; since: number }>();
  let announced = false;
  for (let wait = 50; ; wait = Math.min(wait * 2, 1000)) {
    const records = await readSweepRecords(remote);
    const now = performance.now();
    const live = records.filter(({ key, doc }) => {
      if (doc.done !== undefined || !doc.packs.some((p) => ours.has(p))) return false;
      const last = seen.get(key);
      if (!last || last.refreshed !== doc.refreshed) {
        seen.set(key, { refreshed: doc.refreshed, since: now });
        return true;
      }
      // Unchanged for a whole lease by this clock: that sweep was killed and removes nothing any more.
      return now - last.since < sweepLeaseMs();
    });
    if (live.length === 0) {
      if (all) return new Set(ours);
      const named = new Set(records.flatMap((r) => r.doc.packs));
      return new Set([...ours].filter((p) => named.has(p)));
    }
    if (!announced) {
      announced = true;
      await failpoint('push.wait-sweep');
    }
    await sleep(wait);
  }
}
