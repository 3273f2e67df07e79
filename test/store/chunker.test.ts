import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { chunkBuffer, chunksOfFd, DEFAULT_CHUNKER_OPTIONS, GEAR, type ChunkerOptions, type ChunkSpan } from '../../src/store/chunker.js';
import { E } from '../../src/util/errors.js';
import { prng } from '../helpers/repo.js';

const MiB = 1024 * 1024;

const sha = (b: Uint8Array) => crypto.createHash('sha256').update(b).digest('hex');
const chunkHashes = (buf: Buffer, spans: ChunkSpan[]) => spans.map((s) => sha(buf.subarray(s.offset, s.offset + s.length)));

function expectValidSpans(buf: Buffer, spans: ChunkSpan[], opts: Required<Omit<ChunkerOptions, 'normalization'>>): void {
  let pos = 0;
  spans.forEach((s, i) => {
    expect(s.offset).toBe(pos);
    expect(s.length).toBeLessThanOrEqual(opts.max);
    if (i < spans.length - 1) expect(s.length).toBeGreaterThanOrEqual(opts.min);
    else expect(s.length).toBeGreaterThan(0);
    pos += s.length;
  });
  expect(pos).toBe(buf.length);
}

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'mlx-chunker-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

describe('gear table and golden boundaries', () => {
  // These values are part of the remote format: if they change, every chunk oid on every remote changes.
  it('has the fixed SplitMix64 gear table', () => {
    expect([GEAR[0], GEAR[1], GEAR[255]]).toEqual([0xaf008ec6, 0xc1a12843, 0x8a8a3140]);
    expect(sha(new Uint8Array(GEAR.buffer))).toBe('9f49d0a06593f0be4c8061ddbaf95376bb6ca283d8a6ef69e17101ecb28092ac');
  });

  it('cuts a fixed input at the same places forever', () => {
    const buf = prng(16 * MiB, 'golden');
    expect(chunkBuffer(buf).map((s) => s.length)).toEqual([
      1566973, 1051177, 1083179, 1238801, 1216033, 1070157, 1061604, 1103457, 1449322, 1805371, 1446771, 1052000, 1133067, 499304,
    ]);
    expect(chunkBuffer(buf, { min: 2048, avg: 8192, max: 32768 }).slice(0, 12).map((s) => s.length)).toEqual([
      3768, 8477, 8244, 9409, 9017, 8316, 8651, 4275, 8335, 8379, 13761, 9667,
    ]);
  });
});

describe('chunkBuffer', () => {
  it('is deterministic and keeps every chunk within min/max', () => {
    const buf = prng(32 * MiB, 'bounds');
    const a = chunkBuffer(buf);
    expect(chunkBuffer(Buffer.from(buf))).toEqual(a);
    expectValidSpans(buf, a, DEFAULT_CHUNKER_OPTIONS);
    const small = { min: 4096, avg: 16384, max: 65536 };
    expectValidSpans(buf, chunkBuffer(buf, small), small);
  });

  it('cuts runs of one byte value at max', () => {
    const zeros = Buffer.alloc(10 * MiB);
    expect(chunkBuffer(zeros).map((s) => s.length)).toEqual([4 * MiB, 4 * MiB, 2 * MiB]);
  });

  it('handles empty and tiny inputs', () => {
    expect(chunkBuffer(Buffer.alloc(0))).toEqual([]);
    expect(chunkBuffer(Buffer.from('hello'))).toEqual([{ offset: 0, length: 5 }]);
  });

  it('rejects nonsensical options', () => {
    expect(() => chunkBuffer(Buffer.alloc(1), { min: 8192, avg: 4096 })).toThrow(expect.objectContaining({ code: E.BAD_CONFIG }));
    expect(() => chunkBuffer(Buffer.alloc(1), { min: 0 })).toThrow(expect.objectContaining({ code: E.BAD_CONFIG }));
  });

  it('an insert in the middle changes only the chunks around it', () => {
    const buf = prng(32 * MiB, 'insert');
    const before = chunkHashes(buf, chunkBuffer(buf));
    const mid = 16 * MiB + 12345;
    const edited = Buffer.concat([buf.subarray(0, mid), Buffer.from('a few new bytes'), buf.subarray(mid)]);
    const after = chunkHashes(edited, chunkBuffer(edited));
    const old = new Set(before);
    const changed = after.filter((h) => !old.has(h)).length;
    expect(changed).toBeGreaterThanOrEqual(1);
    expect(changed).toBeLessThanOrEqual(3);
    expect(after.length - changed).toBeGreaterThanOrEqual(before.length - 3);
  });

  it('an insert changes only nearby chunks with small chunks too', () => {
    const opts = { min: 2048, avg: 8192, max: 32768 };
    const buf = prng(8 * MiB, 'insert-small');
    const before = new Set(chunkHashes(buf, chunkBuffer(buf, opts)));
    for (const at of [1, 4 * MiB, 8 * MiB - 100]) {
      const edited = Buffer.concat([buf.subarray(0, at), Buffer.from([1, 2, 3]), buf.subarray(at)]);
      const changed = chunkHashes(edited, chunkBuffer(edited, opts)).filter((h) => !before.has(h)).length;
      expect(changed).toBeLessThanOrEqual(3);
    }
  });

  it('appending 1% changes only the last chunk or two', () => {
    const buf = prng(32 * MiB, 'append');
    const before = new Set(chunkHashes(buf, chunkBuffer(buf)));
    const grown = Buffer.concat([buf, prng(buf.length / 100, 'append-tail')]);
    const after = chunkHashes(grown, chunkBuffer(grown));
    const changed = after.filter((h) => !before.has(h)).length;
    expect(changed).toBeGreaterThanOrEqual(1);
    expect(changed).toBeLessThanOrEqual(2);
  });

});

/** Calls `onChunk` for each chunk of `file` (via chunksOfFd); returns the size and the chunk count. */
function chunkFile(file: string, opts: ChunkerOptions | undefined, onChunk: (chunk: Buffer, offset: number) => void): { size: number; chunks: number } {
  const fd = fs.openSync(file, 'r');
  try {
    let size = 0;
    let chunks = 0;
    for (const { chunk, offset } of chunksOfFd(fd, opts)) {
      onChunk(chunk, offset);
      size = offset + chunk.length;
      chunks++;
    }
    return { size, chunks };
  } finally {
    fs.closeSync(fd);
  }
}

describe('chunksOfFd', () => {
  it('gives the same boundaries as chunkBuffer of the same bytes, with chunk views and offsets', () => {
    const buf = prng(32 * MiB + 777, 'file');
    const file = path.join(tmp, 'big.bin');
    fs.writeFileSync(file, buf);
    for (const opts of [undefined, { min: 4096, avg: 16384, max: 65536 }]) {
      const seen: ChunkSpan[] = [];
      const whole = crypto.createHash('sha256');
      const result = chunkFile(file, opts, (chunk, offset) => {
        expect(chunk.equals(buf.subarray(offset, offset + chunk.length))).toBe(true);
        whole.update(chunk);
        seen.push({ offset, length: chunk.length });
      });
      expect(seen).toEqual(chunkBuffer(buf, opts));
      expect(result).toEqual({ size: buf.length, chunks: seen.length });
      expect(whole.digest('hex')).toBe(sha(buf));
    }
  });

  it('handles empty and small files', () => {
    const empty = path.join(tmp, 'empty');
    fs.writeFileSync(empty, '');
    const calls: number[] = [];
    expect(chunkFile(empty, undefined, (c) => calls.push(c.length))).toEqual({ size: 0, chunks: 0 });
    expect(calls).toEqual([]);
    const small = path.join(tmp, 'small');
    fs.writeFileSync(small, 'tiny');
    expect(chunkFile(small, undefined, (c) => calls.push(c.length))).toEqual({ size: 4, chunks: 1 });
    expect(calls).toEqual([4]);
  });

  it('survives chunking another file between two chunks (no shared-buffer clobbering)', () => {
    const a = prng(9 * MiB, 'nested-a');
    const b = prng(5 * MiB, 'nested-b');
    const fa = path.join(tmp, 'a.bin');
    const fb = path.join(tmp, 'b.bin');
    fs.writeFileSync(fa, a);
    fs.writeFileSync(fb, b);
    const hashes: string[] = [];
    chunkFile(fa, undefined, (chunk) => {
      const before = sha(chunk);
      chunkFile(fb, undefined, () => undefined);
      expect(sha(chunk)).toBe(before);
      hashes.push(before);
    });
    expect(hashes).toEqual(chunkHashes(a, chunkBuffer(a)));
  });
});

describe('findCut against a one-byte-at-a-time reference', () => {
  /** The gear loop as first written (one byte per step), kept as the definition the fast loop must match. */
  function referenceSpans(buf: Uint8Array, min: number, avg: number, max: number, nc = 2): number[] {
    const bits = Math.round(Math.log2(avg));
    const maskS = (~0 << (32 - (bits + nc))) | 0;
    const maskL = (~0 << (32 - (bits - nc))) | 0;
    const gear = new Int32Array(GEAR.buffer);
    const out: number[] = [];
    for (let start = 0; start < buf.length; ) {
      const n = buf.length - start;
      let len = n;
      if (n > min) {
        const limit = start + Math.min(n, max);
        const normal = start + Math.min(n, avg);
        let h = 0;
        len = limit - start;
        for (let i = start + min; i < limit; i++) {
          h = ((h << 1) + gear[buf[i]!]!) | 0;
          if ((h & (i < normal ? maskS : maskL)) === 0) {
            len = i + 1 - start;
            break;
          }
        }
      }
      out.push(len);
      start += len;
    }
    return out;
  }

  it('cuts at the same places for many inputs and sizes, cuts at every offset within an 8-byte step', () => {
    // Small chunks give thousands of cuts, so hits land at every position of the unrolled step.
    const buf = prng(6 * MiB + 5, 'reference');
    for (const [min, avg, max] of [[64, 256, 1024], [100, 512, 700], [2048, 8192, 32768], [256 * 1024, MiB, 4 * MiB]] as const) {
      const spans = chunkBuffer(buf, { min, avg, max }).map((s) => s.length);
      expect(spans).toEqual(referenceSpans(buf, min, avg, max));
      if (min === 64) expect(new Set(spans.map((l) => l % 8)).size).toBe(8);
    }
    // Lengths that end mid-step, and a run of zeros that is cut at max.
    for (const n of [63, 64, 65, 71, 72, 73, 1000, 4099]) {
      expect(chunkBuffer(buf.subarray(0, n), { min: 64, avg: 256, max: 1024 }).map((s) => s.length)).toEqual(referenceSpans(buf.subarray(0, n), 64, 256, 1024));
    }
    const zeros = Buffer.concat([prng(5000, 'z'), Buffer.alloc(5000)]);
    expect(chunkBuffer(zeros, { min: 64, avg: 256, max: 1000 }).map((s) => s.length)).toEqual(referenceSpans(zeros, 64, 256, 1000));
  });

  it('cuts the same whether the bytes sit 4-byte aligned (read a word at a time) or not (a byte at a time)', () => {
    const data = prng(2 * MiB + 3, 'alignment');
    const expected = referenceSpans(data, 64, 256, 1024);
    // Hits land at every position of the 16-byte word step.
    expect(new Set(expected.map((l) => l % 16)).size).toBe(16);
    const memory = Buffer.alloc(data.length + 8);
    for (const shift of [0, 1, 2, 3, 4]) {
      const view = memory.subarray(shift, shift + data.length);
      data.copy(view);
      expect(view.byteOffset % 4).toBe(shift % 4);
      expect(chunkBuffer(view, { min: 64, avg: 256, max: 1024 }).map((s) => s.length)).toEqual(expected);
      expect(chunkBuffer(view.subarray(0, 70_001)).map((s) => s.length)).toEqual(referenceSpans(data.subarray(0, 70_001), 256 * 1024, MiB, 4 * MiB));
    }
    // The default sizes, where the chunk thread's blocks use the word loop.
    const big = prng(12 * MiB, 'alignment-default');
    const defaults = referenceSpans(big, 256 * 1024, MiB, 4 * MiB);
    expect(defaults.length).toBeGreaterThan(5);
    const unaligned = Buffer.alloc(big.length + 1).subarray(1);
    big.copy(unaligned);
    for (const view of [Buffer.from(big), unaligned]) expect(chunkBuffer(view).map((s) => s.length)).toEqual(defaults);
  });
});
