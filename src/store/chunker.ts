import fs from 'node:fs';
import { badConfig } from '../util/errors.js';

/**
 * Content-defined chunking, FastCDC style (Xia et al., "FastCDC: a Fast and Efficient Content-Defined
 * Chunking Approach for Data Deduplication", USENIX ATC 2016): a gear rolling hash, cut-point skipping
 * (no hashing before `min`), and normalized chunking with two masks — a stricter mask before the average
 * size and a looser one after it — which pulls chunk sizes towards the average.
 *
 * Invariant: boundaries depend only on the bytes and the options, never on how the bytes are read, the
 * machine or the mlx version. Chunk oids on every remote depend on that, so `GEAR`, the mask layout and
 * `findCut` must never change for a given set of options; the tests pin them with golden values.
 */

/** Chunk size limits in bytes. `avg` is rounded to a power of two (the mask width). */
export interface ChunkerOptions {
  /** No cut before this many bytes (default 256 KiB). */
  min?: number;
  /** Target average (default 1 MiB). */
  avg?: number;
  /** Forced cut at this many bytes (default 4 MiB). */
  max?: number;
  /** Normalization level: the two masks have log2(avg) ± this many bits (default 2, as in the paper). */
  normalization?: number;
}

export const DEFAULT_CHUNKER_OPTIONS = { min: 256 * 1024, avg: 1024 * 1024, max: 4 * 1024 * 1024, normalization: 2 } as const;

/** A chunk as a span of its file or buffer. */
export interface ChunkSpan {
  offset: number;
  length: number;
}

/** The resolved options: all {@link findCut} needs, so a worker thread can run it with a copy. */
export interface ChunkerParams {
  min: number;
  avg: number;
  max: number;
  /** Stricter mask (more bits), used while the chunk is shorter than `avg`. */
  maskS: number;
  /** Looser mask (fewer bits), used from `avg` on. */
  maskL: number;
  /** GEAR as signed int32, so the hot loop stays in V8's int32 arithmetic. */
  gear: Int32Array;
  /** The machine is little-endian: {@link findCut} may read four bytes per load, low byte first. */
  littleEndian: boolean;
}

/**
 * The gear table: 256 pseudo-random 32-bit values, fixed forever.
 * Algorithm: SplitMix64 (Steele, Lea, Flood 2014) seeded with 0x6d6c782d67656172 (ASCII "mlx-gear");
 * GEAR[i] is the high 32 bits of its (i+1)-th output. BigInt is used once at module load (256 steps).
 */
export const GEAR: Uint32Array = (() => {
  const M = (1n << 64n) - 1n;
  let state = 0x6d6c782d67656172n;
  const table = new Uint32Array(256);
  for (let i = 0; i < 256; i++) {
    state = (state + 0x9e3779b97f4a7c15n) & M;
    let z = state;
    z = ((z ^ (z >> 30n)) * 0xbf58476d1ce4e5b9n) & M;
    z = ((z ^ (z >> 27n)) * 0x94d049bb133111ebn) & M;
    z ^= z >> 31n;
    table[i] = Number(z >> 32n);
  }
  return table;
})();

const GEAR_I32 = new Int32Array(GEAR.buffer);
const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

/**
 * A mask of the top `bits` bits of the 32-bit hash. The hash is `(h << 1) + GEAR[byte]`, so bit k depends
 * on the last k+1 bytes only; the top bits see the widest window (32 bytes), which is why the masks sit
 * there rather than being spread as in the 64-bit original.
 */
function topBits(bits: number): number {
  return (~0 << (32 - bits)) | 0;
}

/** Checks chunker options and resolves their defaults and masks; bad options are E.BAD_CONFIG. */
export function resolveChunker(opts: ChunkerOptions = {}): ChunkerParams {
  const min = opts.min ?? DEFAULT_CHUNKER_OPTIONS.min;
  const avg = opts.avg ?? DEFAULT_CHUNKER_OPTIONS.avg;
  const max = opts.max ?? DEFAULT_CHUNKER_OPTIONS.max;
  const nc = opts.normalization ?? DEFAULT_CHUNKER_OPTIONS.normalization;
  const ints = [min, avg, max, nc].every((n) => Number.isSafeInteger(n));
  if (!ints || min < 64 || !(min <= avg && avg <= max) || max > 1 << 30 || nc < 0 || nc > 4) {
    throw badConfig(`invalid chunker options min=${min} avg=${avg} max=${max} normalization=${nc}`, {
      hint: 'need integers with 64 <= min <= avg <= max <= 1 GiB and 0 <= normalization <= 4',
    });
  }
  const bits = Math.round(Math.log2(avg));
  if (bits + nc > 31 || bits - nc < 1) {
    throw badConfig(`invalid chunker options: avg=${avg} with normalization=${nc} needs masks of 1-31 bits`);
  }
  return { min, avg, max, maskS: topBits(bits + nc), maskL: topBits(bits - nc), gear: GEAR_I32, littleEndian: LITTLE_ENDIAN };
}

/**
 * Length of the chunk starting at `start`, given bytes up to `end`. The caller guarantees that either
 * `end - start >= max` or `end` is the end of the data, so the answer never depends on how data was read.
 *
 * The hash is computed exactly as `h = (h << 1) + GEAR[byte]` from `start + min` on, cutting after the
 * first byte whose hash has no bit of the mask set (`maskS` before `avg`, `maskL` from it). Several
 * bytes are hashed per step and tested together: V8 runs that about four times faster than one byte
 * per step (the loop-carried branch per byte is what costs). Where the buffer is 4-byte aligned on a
 * little-endian machine (the chunk thread's blocks, any Buffer of its own memory), a step takes sixteen
 * bytes as four 32-bit loads: a third less time than eight byte loads a step, each bounds-checked.
 * A step with a hit is redone byte by byte.
 *
 * It uses nothing but its arguments: chunk-thread.ts runs this very function's source on a worker.
 */
export function findCut(buf: Uint8Array, start: number, end: number, p: ChunkerParams): number {
  const n = end - start;
  if (n <= p.min) return n;
  const limit = start + (n < p.max ? n : p.max);
  const normal = start + (n < p.avg ? n : p.avg);
  const g = p.gear;
  const words = p.littleEndian && (buf.byteOffset & 3) === 0 ? new Int32Array(buf.buffer, buf.byteOffset, buf.length >> 2) : undefined;
  let h = 0;
  let i = start + p.min;
  let mask = p.maskS;
  for (let stop = normal; ; stop = limit, mask = p.maskL) {
    if (words !== undefined) {
      for (; (i & 3) !== 0 && i < stop; i++) {
        h = ((h << 1) + g[buf[i]!]!) | 0;
        if ((h & mask) === 0) return i + 1 - start;
      }
      for (const last = stop - 16; i <= last; i += 16) {
        const j = i >> 2;
        const w0 = words[j]!;
        const w1 = words[j + 1]!;
        const w2 = words[j + 2]!;
        const w3 = words[j + 3]!;
        const h1 = ((h << 1) + g[w0 & 255]!) | 0;
        const h2 = ((h1 << 1) + g[(w0 >>> 8) & 255]!) | 0;
        const h3 = ((h2 << 1) + g[(w0 >>> 16) & 255]!) | 0;
        const h4 = ((h3 << 1) + g[w0 >>> 24]!) | 0;
        const h5 = ((h4 << 1) + g[w1 & 255]!) | 0;
        const h6 = ((h5 << 1) + g[(w1 >>> 8) & 255]!) | 0;
        const h7 = ((h6 << 1) + g[(w1 >>> 16) & 255]!) | 0;
        const h8 = ((h7 << 1) + g[w1 >>> 24]!) | 0;
        const h9 = ((h8 << 1) + g[w2 & 255]!) | 0;
        const h10 = ((h9 << 1) + g[(w2 >>> 8) & 255]!) | 0;
        const h11 = ((h10 << 1) + g[(w2 >>> 16) & 255]!) | 0;
        const h12 = ((h11 << 1) + g[w2 >>> 24]!) | 0;
        const h13 = ((h12 << 1) + g[w3 & 255]!) | 0;
        const h14 = ((h13 << 1) + g[(w3 >>> 8) & 255]!) | 0;
        const h15 = ((h14 << 1) + g[(w3 >>> 16) & 255]!) | 0;
        const h16 = ((h15 << 1) + g[w3 >>> 24]!) | 0;
        if (
          (h1 & mask) === 0 || (h2 & mask) === 0 || (h3 & mask) === 0 || (h4 & mask) === 0 ||
          (h5 & mask) === 0 || (h6 & mask) === 0 || (h7 & mask) === 0 || (h8 & mask) === 0 ||
          (h9 & mask) === 0 || (h10 & mask) === 0 || (h11 & mask) === 0 || (h12 & mask) === 0 ||
          (h13 & mask) === 0 || (h14 & mask) === 0 || (h15 & mask) === 0 || (h16 & mask) === 0
        ) break;
        h = h16;
      }
    } else {
      for (const last = stop - 8; i <= last; i += 8) {
        const h1 = ((h << 1) + g[buf[i]!]!) | 0;
        const h2 = ((h1 << 1) + g[buf[i + 1]!]!) | 0;
        const h3 = ((h2 << 1) + g[buf[i + 2]!]!) | 0;
        const h4 = ((h3 << 1) + g[buf[i + 3]!]!) | 0;
        const h5 = ((h4 << 1) + g[buf[i + 4]!]!) | 0;
        const h6 = ((h5 << 1) + g[buf[i + 5]!]!) | 0;
        const h7 = ((h6 << 1) + g[buf[i + 6]!]!) | 0;
        const h8 = ((h7 << 1) + g[buf[i + 7]!]!) | 0;
        if ((h1 & mask) === 0 || (h2 & mask) === 0 || (h3 & mask) === 0 || (h4 & mask) === 0 || (h5 & mask) === 0 || (h6 & mask) === 0 || (h7 & mask) === 0 || (h8 & mask) === 0) break;
        h = h8;
      }
    }
    for (; i < stop; i++) {
      h = ((h << 1) + g[buf[i]!]!) | 0;
      if ((h & mask) === 0) return i + 1 - start;
    }
    if (stop === limit) return limit - start;
  }
}

/** Chunk spans of an in-memory buffer, in order, covering it exactly (none for an empty buffer). */
export function chunkBuffer(buf: Uint8Array, opts?: ChunkerOptions): ChunkSpan[] {
  const p = resolveChunker(opts);
  const spans: ChunkSpan[] = [];
  for (let offset = 0; offset < buf.length; ) {
    const length = findCut(buf, offset, buf.length, p);
    spans.push({ offset, length });
    offset += length;
  }
  return spans;
}

let sharedBuffer: Buffer | undefined;
let sharedBusy = false;

/**
 * The chunks of an open file (read from position 0 to its end with `fs.readSync` into one reused
 * buffer of 4 × max bytes), in order, as a generator so an async caller can await between chunks.
 * The boundaries equal `chunkBuffer` of the same bytes. Each `chunk` is a view into the read buffer,
 * valid until the next iteration: hash it, write it or copy it then. Chunks are consecutive and cover
 * the file, so the caller can also feed a whole-file hasher in the same pass. An empty file yields none.
 */
export function* chunksOfFd(fd: number, opts?: ChunkerOptions): Generator<{ chunk: Buffer; offset: number }> {
  const p = resolveChunker(opts);
  // Each refill first moves the unchunked tail (< max) to the front: 4 × max keeps that move to a
  // third of the bytes read, where 2 × max moved about as much as it read.
  const want = 4 * p.max;
  // A caller that chunks another file meanwhile must not clobber this one's buffer.
  const reuse = !sharedBusy;
  let buf: Buffer;
  if (reuse) {
    if (!sharedBuffer || sharedBuffer.length < want) sharedBuffer = Buffer.allocUnsafe(want);
    buf = sharedBuffer;
    sharedBusy = true;
  } else {
    buf = Buffer.allocUnsafe(want);
  }
  try {
    let start = 0; // first unconsumed byte in buf
    let end = 0; // one past the last byte read into buf
    let filePos = 0; // file position of buf[end]
    let eof = false;
    for (;;) {
      if (!eof && end - start < p.max) {
        if (start > 0) {
          buf.copyWithin(0, start, end);
          end -= start;
          start = 0;
        }
        while (!eof && end < want) {
          const n = fs.readSync(fd, buf, end, want - end, filePos);
          if (n === 0) eof = true;
          end += n;
          filePos += n;
        }
      }
      if (start === end) return;
      const length = findCut(buf, start, end, p);
      yield { chunk: buf.subarray(start, start + length), offset: filePos - (end - start) };
      start += length;
    }
  } finally {
    if (reuse) sharedBusy = false;
  }
}
