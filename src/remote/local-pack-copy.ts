import fs from 'node:fs';
import { canCopyHashed, copyHashed, type CopySource } from '../hash/blake3-thread.js';
import { oidFromHex, type Oid } from '../hash/oid.js';
import { MlxError } from '../util/errors.js';
import type { ChunkRead } from './fetch-plan.js';
import { packKey } from './layout.js';
import type { RebuildContext } from './fetch-rebuild.js';

/*
 * A large file rebuilt straight from the pack files of a remote that keeps them on this machine (a
 * directory): each chunk stored raw is copied from its pack into the temp file a slot at a time, read
 * and hashed on a second thread while this one writes (copyHashed). Read, written and hashed while they
 * are in the core's cache, they cost about half of what the general way costs (ranged reads into
 * buffers of up to 16 MiB, written from there on libuv's threads), whose writes from memory read long
 * before took most of a pull's time. The file enters the cache only if it hashes to its oid, as
 * every rebuilt file.
 */

/** Whether every chunk of a file can be copied this way: raw, whole members of packs the remote keeps as files. */
export function canCopyFromLocalPacks(ctx: RebuildContext, reads: readonly ChunkRead[]): boolean {
  if (ctx.remote.localFile === undefined || !canCopyHashed(ctx.newHasher)) return false;
  return reads.every((r) => !r.cachedIn && r.entry.c === 'none' && r.entry.at === undefined && r.entry.len === r.size && r.entry.raw === r.size);
}

/**
 * Copies the chunks `reads` (in file order, covering it) into the new file `tmp` and returns the oid
 * of what was written; undefined, with `tmp` removed, when a pack could not be read as the index
 * says (missing, shorter, unreadable): the general way then reads the file, and reports what is wrong
 * in the remote's own terms.
 */
export function copyFromLocalPacks(ctx: RebuildContext, reads: readonly ChunkRead[], tmp: string): Oid | undefined {
  const localFile = ctx.remote.localFile!.bind(ctx.remote);
  const sources: CopySource[] = reads.map((r) => ({ file: localFile(packKey(oidFromHex(r.source))), position: r.entry.off, length: r.size }));
  const output = fs.openSync(tmp, 'wx', 0o644);
  try {
    const { oid, size } = copyHashed(ctx.newHasher, sources, output, (bytes) => ctx.progress?.({ bytes }));
    ctx.summary.bytesReceived += size; // counted once the file is whole: a fallback reads it again
    return oid;
  } catch (err) {
    if (err instanceof MlxError) throw err;
    fs.rmSync(tmp, { force: true });
    return undefined; // a pack missing, short or unreadable: see above
  } finally {
    fs.closeSync(output);
  }
}
