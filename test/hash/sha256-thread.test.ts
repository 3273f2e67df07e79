import crypto from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { sha256Hex, sharedBuffer } from '../../src/hash/sha256-thread.js';

const reference = (b: Uint8Array) => crypto.createHash('sha256').update(b).digest('hex');

describe('sha256Hex', () => {
  it('hashes shared memory on its thread and other buffers in place, with the same digests', async () => {
    const shared = sharedBuffer(3 << 20);
    crypto.randomFillSync(shared);
    const plain = Buffer.from(shared);
    expect(plain.buffer).not.toBeInstanceOf(SharedArrayBuffer);
    expect(await sha256Hex(shared)).toBe(reference(plain));
    expect(await sha256Hex(plain)).toBe(reference(plain));
    // A view into shared memory: only its bytes are hashed.
    expect(await sha256Hex(shared.subarray(12345, 2_000_000))).toBe(reference(plain.subarray(12345, 2_000_000)));
    expect(await sha256Hex(sharedBuffer(0))).toBe(reference(Buffer.alloc(0)));
  });

  it('answers many requests in flight, each with its own digest', async () => {
    const shared = sharedBuffer(64 * 1024);
    crypto.randomFillSync(shared);
    const views = Array.from({ length: 50 }, (_, i) => shared.subarray(i * 1000, i * 1000 + 5000 + i));
    expect(await Promise.all(views.map((v) => sha256Hex(v)))).toEqual(views.map(reference));
  });
});
