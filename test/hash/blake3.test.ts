import { describe, expect, it } from 'vitest';
import { loadHasher, loadHasherOnFirstUse, resetHasherForTests, hashBackend } from '../../src/hash/blake3.js';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { hashBytes, hashFd, IO_BUFFER_SIZE } from '../../src/hash/hash-file.js';
import { assertOid, isOid, shortOid } from '../../src/hash/oid.js';
import { bytes } from '../helpers/repo.js';

describe('BLAKE3 oids', () => {
  it('matches the published BLAKE3 test vectors', async () => {
    const h = await loadHasher();
    expect(hashBytes(h, Buffer.alloc(0))).toBe('b3:af1349b9f5f9a1a6a0404dea36dcc9499bcb25c9adc112b7cc9a93cae41f3262');
    expect(hashBytes(h, Buffer.from('abc'))).toBe('b3:6437b3ac38465133ffb63b75273a8db548c558465d79db03fd359c6cd5bd9d85');
  });

  it('the native and the wasm backends give identical oids', async () => {
    resetHasherForTests();
    const native = await loadHasher(false);
    const nativeName = hashBackend;
    resetHasherForTests();
    const wasm = await loadHasher(true);
    expect(hashBackend).toBe('wasm');
    expect(nativeName).toBe('native');
    for (const size of [0, 1, 1023, 1024, 1025, 65_537, 1 << 20]) {
      const data = bytes(size, `v${size}`);
      expect(hashBytes(wasm, data)).toBe(hashBytes(native, data));
    }
    // Streaming in pieces gives the same digest as one update.
    const data = bytes(300_000, 'stream');
    const s = wasm();
    s.update(data.subarray(0, 1000));
    s.update(data.subarray(1000));
    expect(`b3:${s.digestHex()}`).toBe(hashBytes(native, data));
    resetHasherForTests();
  });

  it('a repository\'s hasher loads the native binding at its first hash, not before, and hashes the same', async () => {
    resetHasherForTests();
    const lazy = await loadHasherOnFirstUse();
    expect(hashBackend).toBe('unloaded');
    expect(lazy.nativeModule).toMatch(/blake/); // found, so worker threads can load the same file
    expect(hashBytes(lazy, Buffer.from('abc'))).toBe('b3:6437b3ac38465133ffb63b75273a8db548c558465d79db03fd359c6cd5bd9d85');
    expect(hashBackend).toBe('native');
    const s = lazy();
    s.update(Buffer.alloc(0));
    expect(`b3:${s.digestHex()}`).toBe('b3:af1349b9f5f9a1a6a0404dea36dcc9499bcb25c9adc112b7cc9a93cae41f3262');
    expect(await loadHasherOnFirstUse()).not.toBe(lazy); // once loaded, the loaded factory itself
    resetHasherForTests();
  });

  it("the native backend's one-shot digest equals its streaming digest", async () => {
    resetHasherForTests();
    const native = await loadHasher(false);
    expect(native.hexOf).toBeTypeOf('function');
    for (const size of [0, 4096, 65_537]) {
      const data = bytes(size, `once${size}`);
      const s = native();
      s.update(data);
      expect(native.hexOf!(data)).toBe(s.digestHex());
      // A Uint8Array view (not a Buffer) into the middle of a larger buffer hashes only its own bytes.
      const padded = Buffer.concat([Buffer.from('xx'), data, Buffer.from('yy')]);
      const view = new Uint8Array(padded.buffer, padded.byteOffset + 2, size);
      expect(native.hexOf!(view)).toBe(s.digestHex());
    }
    resetHasherForTests();
  });

  it('hashFd gives the oid, every byte to onChunk and the size to onProgress, small files and large alike', async () => {
    const h = await loadHasher();
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mlx-hashfd-'));
    try {
      for (const size of [0, 1, 4096, IO_BUFFER_SIZE - 1, IO_BUFFER_SIZE, IO_BUFFER_SIZE + 1, 3 * IO_BUFFER_SIZE + 7]) {
        const data = bytes(size, `fd${size}`);
        const file = path.join(dir, `f${size}`);
        fs.writeFileSync(file, data);
        const seen: Buffer[] = [];
        let progress = 0;
        const fd = fs.openSync(file, 'r');
        try {
          const res = hashFd(h, fd, (c) => seen.push(Buffer.from(c)), (n) => (progress += n));
          expect(res).toEqual({ oid: hashBytes(h, data), size });
        } finally {
          fs.closeSync(fd);
        }
        expect(Buffer.concat(seen).equals(data)).toBe(true);
        expect(progress).toBe(size);
      }
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('validates oid syntax', () => {
    expect(isOid(`b3:${'a'.repeat(64)}`)).toBe(true);
    expect(isOid(`b3:${'A'.repeat(64)}`)).toBe(false);
    expect(isOid(`sha256:${'a'.repeat(64)}`)).toBe(false);
    expect(isOid(`b3:${'0123456789abcdef'.repeat(4)}`)).toBe(true);
    // Each character next to the hex ranges, a non-ASCII one (its low byte is a digit's), at each end.
    for (const bad of ['/', ':', '`', 'g', 'F', '\u0130', '\u0161']) {
      expect(isOid(`b3:${bad}${'a'.repeat(63)}`)).toBe(false);
      expect(isOid(`b3:${'a'.repeat(63)}${bad}`)).toBe(false);
    }
    expect(isOid(`b3:${'a'.repeat(63)}`)).toBe(false);
    expect(isOid(`b3:${'a'.repeat(65)}`)).toBe(false);
    expect(isOid(`B3:${'a'.repeat(64)}`)).toBe(false);
    expect(isOid(67)).toBe(false);
    expect(() => assertOid('b3:123')).toThrow(/not a valid object id/);
    expect(shortOid(`b3:${'0123456789'.repeat(7).slice(0, 64)}`)).toBe('b3:01234567');
  });
});
