import type { PackEntry } from '../formats/pack-index.js';
import { packKey } from './layout.js';
import { extractMember } from './pack.js';
import type { ByteRange, Remote } from './remote.js';
import { E, MlxError } from '../util/errors.js';
import { runPool } from './transfer-progress.js';
import { oidFromHex } from '../hash/oid.js';

/*
 * Ranged reads of pack members (or of any source laid out the same way, such as a cached file whose
 * chunks are wanted): the wanted members of each source are sorted by offset, neighbours are coalesced
 * into one read, and each member's decoded bytes are handed to its `take`.
 */

/** Neighbouring members closer than this are fetched with one ranged GET. */
const MAX_GAP = 1 << 20;
/** ... as long as one GET stays below this (a single larger member gets a GET, and a buffer, of its own). */
const MAX_RANGE = 16 << 20;

export interface Want {
  entry: PackEntry;
  /** For a chunk: where it goes in its file. Ranges are fetched in file order, so hashing rarely waits. */
  fileOffset?: number;
  /**
   * Called with the member's decoded bytes, which stay valid until the promise it may return settles
   * (the buffer they live in is reused afterwards). `range` identifies the ranged read (and so the
   * buffer) the bytes came in.
   */
  take: (bytes: Buffer, range: object) => void | Promise<void>;
  /** Called instead of `take` when the member is corrupt (`E.OBJECT_CORRUPT`); without it, that fails the read. */
  refuse?: (err: MlxError) => void;
}

export function addWant(groups: Map<string, Want[]>, hex: string, want: Want): void {
  let list = groups.get(hex);
  if (!list) groups.set(hex, (list = []));
  list.push(want);
}

/**
 * Reads `range` of the source a group of wants is keyed by, into `into` when it fits there (as
 * {@link Remote.get} does).
 */
export type RangeReader = (source: string, range: ByteRange, into: Buffer) => Promise<Buffer>;

/** Ranged reads of the packs of `remote`, groups keyed by pack hex; counts what is received. */
export function packReader(remote: Remote, received: { bytesReceived: number }): RangeReader {
  return async (hex, range, into) => {
    const bytes = await remote.get(packKey(oidFromHex(hex)), range, into);
    received.bytesReceived += bytes.length;
    return bytes;
  };
}

/**
 * Reads every wanted member, source by source (a pack, usually), coalescing neighbours into one
 * ranged read. `onFailure` hears of the first failed read at once (the pool itself waits for the
 * reads still in flight).
 */
export async function readMembers(read: RangeReader, groups: Map<string, Want[]>, jobs: number, onFailure?: (err: unknown) => void): Promise<void> {
  const ranges: { hex: string; start: number; end: number; wants: Want[] }[] = [];
  for (const [hex, wants] of groups) {
    wants.sort((a, b) => a.entry.off - b.entry.off);
    let cur: (typeof ranges)[number] | undefined;
    for (const w of wants) {
      const end = w.entry.off + w.entry.len;
      if (cur && w.entry.off - cur.end <= MAX_GAP && end - cur.start <= MAX_RANGE) {
        cur.end = Math.max(cur.end, end);
        cur.wants.push(w);
      } else {
        cur = { hex, start: w.entry.off, end, wants: [w] };
        ranges.push(cur);
      }
    }
  }
  // Chunks of a large file: fetch the ranges in the order of the file, so it is hashed as it is written.
  const firstOffset = (r: (typeof ranges)[number]) => r.wants.reduce((min, w) => Math.min(min, w.fileOffset ?? Infinity), Infinity);
  if (ranges.some((r) => r.wants[0]!.fileOffset !== undefined)) ranges.sort((a, b) => firstOffset(a) - firstOffset(b));
  // Each of the `jobs` workers reads into its own reused buffer (see Remote.get).
  const buffers: Buffer[] = [];
  const longest = ranges.reduce((max, r) => Math.max(max, r.end - r.start), 0);
  await runPool(ranges, jobs, async (r) => {
    const scratch = buffers.pop() ?? Buffer.allocUnsafe(Math.min(MAX_RANGE, longest));
    const fail = (err: unknown) => {
      onFailure?.(err);
      return err;
    };
    try {
      let bytes: Buffer;
      try {
        bytes = await read(r.hex, { start: r.start, end: r.end }, scratch);
      } catch (err) {
        throw fail(err);
      }
      const writing: Promise<void>[] = [];
      let failure: { err: unknown } | undefined;
      try {
        for (const w of r.wants) {
          let member: Buffer;
          try {
            member = extractMember(bytes, w.entry, r.start);
          } catch (err) {
            // Only damage is the member's own fault: a missing zstd, say, fails the whole read.
            if (!w.refuse || !(err instanceof MlxError) || err.code !== E.OBJECT_CORRUPT) throw err;
            w.refuse(err);
            continue;
          }
          const done = w.take(member, r);
          if (done) writing.push(done);
        }
      } catch (err) {
        // Told at once, so that writes of this range's earlier members waiting their turn give up.
        failure = { err: fail(err) };
      }
      // Every write must be over before the buffer is reused, even when one of them failed (and
      // none may be left behind unawaited: its failure would go unheard).
      const failed = (await Promise.allSettled(writing)).find((r) => r.status === 'rejected');
      if (failure) throw failure.err;
      if (failed) throw fail((failed as PromiseRejectedResult).reason);
    } finally {
      buffers.push(scratch);
    }
  });
}
