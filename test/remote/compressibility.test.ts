import crypto from 'node:crypto';
import zlib from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { looksIncompressible } from '../../src/remote/compressibility.js';

/** Deterministic pseudo-random bytes. */
function noise(n: number, seed: string): Buffer {
  const key = crypto.createHash('sha256').update(seed).digest().subarray(0, 16);
  return crypto.createCipheriv('aes-128-ctr', key, Buffer.alloc(16)).update(Buffer.alloc(n));
}

/** float32 weights around zero, as in a checkpoint: exponent bytes repeat, zstd saves a few percent. */
function weights(n: number): Buffer {
  const u = noise(n * 2, 'weights');
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const a = (u.readUInt32LE((4 * i) % (u.length - 8)) + 1) / 2 ** 32;
    const b = u.readUInt32LE((4 * i + 4) % (u.length - 8)) / 2 ** 32;
    out[i] = 0.02 * Math.sqrt(-2 * Math.log(a)) * Math.cos(2 * Math.PI * b);
  }
  return Buffer.from(out.buffer);
}

describe('looksIncompressible', () => {
  it('says so for noise and for already compressed bytes, at every size from the sample up', () => {
    for (const size of [1024, 4096, 100_000, 1 << 20]) expect(looksIncompressible(noise(size, `n${size}`))).toBe(true);
    // gzip of base64 text: deflate leaves about 8 bits of information per byte.
    const gz = zlib.gzipSync(noise(100_000, 'text').toString('base64'));
    expect(looksIncompressible(gz)).toBe(true);
  });

  it('leaves to zstd text, zeros, float weights and noise that repeats', () => {
    const text = Buffer.from(Array.from({ length: 4000 }, (_, i) => `${i},label_${i % 7},${(i * 0.37).toFixed(4)}\n`).join(''));
    expect(looksIncompressible(text)).toBe(false);
    expect(looksIncompressible(Buffer.alloc(1 << 20))).toBe(false);
    expect(looksIncompressible(weights(1 << 18))).toBe(false);
    const block = noise(512, 'block');
    expect(looksIncompressible(Buffer.concat(Array.from({ length: 8 }, () => block)))).toBe(false);
  });

  it('never guesses on inputs shorter than its sample', () => {
    expect(looksIncompressible(noise(1023, 'short'))).toBe(false);
    expect(looksIncompressible(Buffer.alloc(0))).toBe(false);
  });

  it('is a pure function of the bytes: no state left between calls', () => {
    const a = noise(4096, 'a');
    const t = Buffer.from('abc'.repeat(2000));
    expect([looksIncompressible(a), looksIncompressible(t), looksIncompressible(a), looksIncompressible(t)]).toEqual([true, false, true, false]);
  });
});
