import crypto from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { alignedSharedBuffer, copyInto, releaseAligned } from '../../src/util/aligned-memory.js';

const PAGE = 64 * 1024;

describe('aligned shared buffers', () => {
  it('start on a page, are shared and zero-filled, and share one arena', () => {
    const a = alignedSharedBuffer(3 * PAGE + 5);
    const b = alignedSharedBuffer(100);
    for (const buf of [a, b]) {
      expect(buf.buffer).toBeInstanceOf(SharedArrayBuffer);
      expect(buf.byteOffset % PAGE).toBe(0);
      expect(buf.every((byte) => byte === 0)).toBe(true);
    }
    expect(a.length).toBe(3 * PAGE + 5);
    // b lies after a's four pages in the same memory, not at the start of a memory of its own.
    expect(b.byteOffset).toBeGreaterThanOrEqual(a.byteOffset + 4 * PAGE);
    releaseAligned(a);
    releaseAligned(b);
  });

  it('hands a range given back to the next buffer of its size, zero-filled again, and ignores a second give-back', () => {
    const a = alignedSharedBuffer(2 * PAGE);
    a.fill(7);
    const offset = a.byteOffset;
    releaseAligned(a);
    releaseAligned(a); // ignored: the range is given back once
    const b = alignedSharedBuffer(2 * PAGE - 10);
    const c = alignedSharedBuffer(2 * PAGE);
    expect(b.byteOffset).toBe(offset);
    expect(c.byteOffset).not.toBe(offset);
    expect(b.every((byte) => byte === 0)).toBe(true);
    releaseAligned(Buffer.alloc(10)); // not one of them: ignored
    releaseAligned(b);
    releaseAligned(c);
  });

  it('copies between buffers of the arena, and between any others, byte for byte', () => {
    const src = alignedSharedBuffer(PAGE);
    const dst = alignedSharedBuffer(2 * PAGE);
    crypto.randomFillSync(src);
    copyInto(dst, 513, src.subarray(7, 60_007));
    expect(dst.subarray(513, 60_513).equals(src.subarray(7, 60_007))).toBe(true);
    expect(dst[512]).toBe(0);
    expect(dst[60_513]).toBe(0);
    expect(() => copyInto(dst, 2 * PAGE - 10, src.subarray(0, 11))).toThrow(RangeError);
    const plain = Buffer.alloc(100);
    copyInto(plain, 10, src.subarray(0, 50));
    expect(plain.subarray(10, 60).equals(src.subarray(0, 50))).toBe(true);
    copyInto(dst, 0, plain);
    expect(dst.subarray(0, 100).equals(plain)).toBe(true);
    releaseAligned(src);
    releaseAligned(dst);
  });
});
