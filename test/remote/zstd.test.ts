import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { createRequire } from 'node:module';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { loadHasher, type HasherFactory } from '../../src/hash/blake3.js';
import { hashBytes } from '../../src/hash/hash-file.js';
import { parsePackIndex } from '../../src/formats/pack-index.js';
import { PackWriter, readMember } from '../../src/remote/pack.js';
import { chooseZstd, pickZstd, resetZstdForTests, ZSTD_BACKENDS, zstdBound, type Napi, type NodeZstd, type ZstdBackend } from '../../src/remote/zstd.js';
import { E } from '../../src/util/errors.js';

/** A pack node:zlib wrote (see fixtures/zstd-packs/README.md), for a Node that has only the addon to read. */
const FIXTURES = path.join(import.meta.dirname, '..', '..', 'fixtures', 'zstd-packs');

const nodeHasZstd = typeof (zlib as unknown as Partial<NodeZstd>).zstdCompressSync === 'function';
const addon = () => createRequire(import.meta.url)('zstd-napi/binding.js') as Napi;

let newHasher: HasherFactory;
beforeAll(async () => {
  newHasher = await loadHasher();
});

const saved = process.env.MLX_ZSTD_BACKEND;
afterEach(() => {
  if (saved === undefined) delete process.env.MLX_ZSTD_BACKEND;
  else process.env.MLX_ZSTD_BACKEND = saved;
  resetZstdForTests();
});

/** Makes `backend` the one pack.ts uses from now on. */
function use(backend: ZstdBackend | undefined): void {
  if (backend === undefined) delete process.env.MLX_ZSTD_BACKEND;
  else process.env.MLX_ZSTD_BACKEND = backend;
  resetZstdForTests();
}

/** The backends this process can load (the test installs have the addon built). */
function available(): ZstdBackend[] {
  return ZSTD_BACKENDS.filter((b) => {
    use(b);
    return 'codec' in chooseZstd();
  });
}

/** The objects of the fixture packs: small ones that share a batch, a table, and one past a zstd block (128 KiB). */
function fixtureObjects(): Buffer[] {
  const rows = (n: number, seed: number) => Buffer.from(Array.from({ length: n }, (_, i) => `${i},${((i * seed) % 997) / 7},run-${i % 13}\n`).join(''));
  return [rows(20, 3), rows(30, 5), rows(40, 7), rows(1000, 11), rows(6000, 13)];
}

describe('zstd backends', () => {
  it('uses node:zlib where Node has zstd, the addon elsewhere', () => {
    use(undefined);
    const c = chooseZstd();
    expect('codec' in c && c.codec.backend).toBe(nodeHasZstd ? 'node:zlib' : 'zstd-napi');
  });

  it('has both where Node has zstd, and the addon everywhere the test install built it', () => {
    expect(available()).toEqual(nodeHasZstd ? ['node:zlib', 'zstd-napi'] : ['zstd-napi']);
  });

  it('sizes the room for a frame as zstd itself does', () => {
    const { compressBound } = addon();
    for (const n of [0, 1, 255, 256, 4096, 128 * 1024 - 1, 128 * 1024, 128 * 1024 + 1, 4 << 20]) expect(zstdBound(n)).toBe(compressBound(n));
  });

  it('each backend reads the packs every available backend writes', () => {
    const objects = fixtureObjects();
    const backends = available();
    for (const writer of backends) {
      use(writer);
      const w = new PackWriter(newHasher);
      for (const bytes of objects) w.add(hashBytes(newHasher, bytes), 'b', bytes);
      const { pack, index } = w.finish();
      expect(index.entries.filter((e) => e.c === 'zstd').length).toBeGreaterThan(1);
      for (const reader of backends) {
        use(reader);
        const read = index.entries.map((e) => readMember(newHasher, pack, e));
        expect(read.map((b) => hashBytes(newHasher, b)).sort()).toEqual(objects.map((b) => hashBytes(newHasher, b)).sort());
      }
    }
  });

  it('each backend reads the pack node:zlib wrote on Node 24', () => {
    const pack = fs.readFileSync(path.join(FIXTURES, 'node-zlib.pack'));
    const index = parsePackIndex(fs.readFileSync(path.join(FIXTURES, 'node-zlib.idx'), 'utf8'), 'node-zlib.idx');
    expect(index.entries.filter((e) => e.c === 'zstd').length).toBeGreaterThan(1);
    for (const reader of available()) {
      use(reader);
      const read = index.entries.map((e) => hashBytes(newHasher, readMember(newHasher, pack, e)));
      expect(read.sort()).toEqual(fixtureObjects().map((b) => hashBytes(newHasher, b)).sort());
    }
  });
});

describe('picking a backend', () => {
  const fakeZlib = { zstdCompressSync: () => Buffer.alloc(0), zstdDecompressSync: () => Buffer.alloc(0), constants: { ZSTD_c_compressionLevel: 100 } } satisfies NodeZstd;
  const noAddon = (): Napi => {
    throw new Error("Cannot find module './build/Release/binding.node'\nRequire stack: ...");
  };

  it('takes node:zlib when Node has zstd, without loading the addon', () => {
    let loads = 0;
    const c = pickZstd(undefined, { nodeZlib: () => fakeZlib, addon: () => (loads++, addon()), nodeVersion: 'v24.1.0' });
    expect('codec' in c && c.codec.backend).toBe('node:zlib');
    expect(loads).toBe(0);
  });

  it('names, in one line, what is missing when Node has no zstd and the addon does not load', () => {
    const c = pickZstd(undefined, { nodeZlib: () => undefined, addon: noAddon, nodeVersion: 'v20.20.2' });
    expect(c).toEqual({
      backend: 'zstd-napi',
      missing: "zstd is missing: Node v20.20.2 has no zstd in node:zlib (22.15 and later have), and the optional zstd-napi addon does not load (Cannot find module './build/Release/binding.node')",
      hint: 'use Node 22.15 or later, or build the addon with `npm rebuild zstd-napi` (needs python3, make and a C++ compiler)',
    });
  });

  it('follows MLX_ZSTD_BACKEND, and says when the backend it names is not there', () => {
    const c = pickZstd('zstd-napi', { nodeZlib: () => fakeZlib, addon: noAddon, nodeVersion: 'v24.1.0' });
    expect('missing' in c && c.missing).toMatch(/^zstd is missing: MLX_ZSTD_BACKEND asks for the zstd-napi addon, and the optional zstd-napi addon does not load \(Cannot find module/);
    const z = pickZstd('node:zlib', { nodeZlib: () => undefined, addon, nodeVersion: 'v20.20.2' });
    expect('missing' in z && z.missing).toBe('zstd is missing: MLX_ZSTD_BACKEND asks for node:zlib, but Node v20.20.2 has no zstd in node:zlib (22.15 and later have)');
    expect(() => pickZstd('lz4', { nodeZlib: () => fakeZlib, addon, nodeVersion: 'v24.1.0' })).toThrow(expect.objectContaining({ code: E.BAD_CONFIG, message: "MLX_ZSTD_BACKEND is 'lz4'; it can be node:zlib or zstd-napi" }));
  });
});
