import fs from 'node:fs';
import type { HasherFactory } from './blake3.js';
import { oidFromHex, type Oid } from './oid.js';

/** 1 MiB: large enough to reach in-memory hash speed, small enough to stay in CPU cache. */
export const IO_BUFFER_SIZE = 1 << 20;
let sharedBuffer: Buffer | undefined;

/** One reused read buffer per thread: hashing never allocates per file. */
export function ioBuffer(): Buffer {
  sharedBuffer ??= Buffer.allocUnsafe(IO_BUFFER_SIZE);
  return sharedBuffer;
}

export function hashBytes(newHasher: HasherFactory, data: Uint8Array): Oid {
  if (newHasher.hexOf) return oidFromHex(newHasher.hexOf(data));
  const h = newHasher();
  h.update(data);
  return oidFromHex(h.digestHex());
}

/**
 * Hashes an open file from its start, calling `onChunk` with each block read (so a caller can copy
 * the very bytes that were hashed). Returns the oid and the number of bytes read.
 */
export function hashFd(
  newHasher: HasherFactory,
  fd: number,
  onChunk?: (chunk: Buffer) => void,
  onProgress?: (bytes: number) => void,
): { oid: Oid; size: number } {
  const buf = ioBuffer();
  let n = fs.readSync(fd, buf, 0, buf.length, 0);
  if (n < buf.length && newHasher.hexOf) {
    // Most likely the whole file: once the next read confirms the end, one call hashes it, without
    // a streaming hasher per file (a checkout of 20,000 small files makes 20,000 of them).
    const more = n === 0 ? 0 : fs.readSync(fd, buf, n, buf.length - n, n);
    if (more === 0) {
      const whole = buf.subarray(0, n);
      if (n > 0) {
        onChunk?.(whole);
        onProgress?.(n);
      }
      return { oid: oidFromHex(newHasher.hexOf(whole)), size: n };
    }
    n += more;
  }
  const h = newHasher();
  let size = 0;
  while (n > 0) {
    const chunk = n === buf.length ? buf : buf.subarray(0, n);
    h.update(chunk);
    onChunk?.(chunk);
    size += n;
    onProgress?.(n);
    n = fs.readSync(fd, buf, 0, buf.length, size);
  }
  return { oid: oidFromHex(h.digestHex()), size };
}

export function hashFileSync(newHasher: HasherFactory, file: string, onProgress?: (bytes: number) => void): { oid: Oid; size: number } {
  const fd = fs.openSync(file, 'r');
  try {
    return hashFd(newHasher, fd, undefined, onProgress);
  } finally {
    fs.closeSync(fd);
  }
}
