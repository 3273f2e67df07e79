import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { badState } from '../util/errors.js';
import { commonJsExports } from '../util/modules.js';

/** A streaming hash: feed bytes, then read the hex digest once. */
export interface Hasher {
  update(data: Uint8Array): void;
  digestHex(): string;
}

/** Makes a fresh streaming hasher; may also offer a one-shot digest of a whole buffer. */
export interface HasherFactory {
  (): Hasher;
  /** Hex digest of `data` in one call: for small inputs, 3x cheaper than creating a streaming hasher. */
  hexOf?: (data: Uint8Array) => string;
  /** Where the native binding was loaded from, so a worker thread can load the same one (native backend only). */
  nativeModule?: string;
}

/** The bytes of a Uint8Array as a Buffer, without copying: the native binding takes Buffers only. */
function asBuffer(data: Uint8Array): Buffer {
  return Buffer.isBuffer(data) ? data : Buffer.from(data.buffer, data.byteOffset, data.byteLength);
}

/** Which implementation is in use; `mlx doctor` reports it. */
export let hashBackend: 'native' | 'wasm' | 'unloaded' = 'unloaded';

let factory: HasherFactory | undefined;

/**
 * Loads BLAKE3 once. The native binding (SIMD, ~4.7 GB/s per core here) ships as a prebuilt
 * platform package; where it is missing, hash-wasm gives the same digests at ~0.7 GB/s.
 */
export async function loadHasher(forceWasm = process.env.MLX_HASH_BACKEND === 'wasm'): Promise<HasherFactory> {
  if (factory) return factory;
  if (!forceWasm) {
    try {
      factory = nativeFactory(requireNativeBlake());
      hashBackend = 'native';
      return factory;
    } catch {
      // fall through to the portable implementation
    }
  }
  // hash-wasm is CommonJS (UMD): bundled, its import() holds the exports as `default` only.
  const { createBLAKE3 } = commonJsExports(await import('hash-wasm'));
  // hash-wasm instances hold state, so keep a small pool; our hashing never nests deeper than this.
  const pool = await Promise.all([createBLAKE3(), createBLAKE3(), createBLAKE3(), createBLAKE3()]);
  factory = () => {
    const h = pool.pop();
    if (!h) throw new Error('internal: too many concurrent BLAKE3 hashers');
    h.init();
    return {
      update: (data) => void h.update(data),
      digestHex: () => {
        const hex = h.digest('hex');
        pool.push(h);
        return hex;
      },
    };
  };
  hashBackend = 'wasm';
  return factory;
}

/**
 * BLAKE3 for a command that may hash nothing: where the native binding is installed it is found now
 * but loaded on the first hash, since loading it costs ~25 ms and many commands never hash (config,
 * remote, ls, runs, lineage; a status with nothing tracked). Elsewhere the portable backend loads now
 * (it loads asynchronously, so it cannot wait for the first hash).
 */
export async function loadHasherOnFirstUse(): Promise<HasherFactory> {
  if (factory) return factory;
  const nativeModule = process.env.MLX_HASH_BACKEND === 'wasm' ? undefined : findNativeBlake();
  if (nativeModule === undefined) return loadHasher();
  let loaded: HasherFactory | undefined;
  const load = (): HasherFactory => {
    if (loaded) return loaded;
    try {
      loaded = factory ?? nativeFactory({ native: createRequire(import.meta.url)(nativeModule) as NativeBlake, nativeModule });
    } catch (err) {
      throw badState(`the native BLAKE3 binding ${nativeModule} does not load: ${(err as Error).message.split('\n')[0]}`, {
        hint: 'reinstall mlx, or set MLX_HASH_BACKEND=wasm to use the portable implementation',
      });
    }
    factory = loaded;
    hashBackend = 'native';
    return loaded;
  };
  const make: HasherFactory = () => load()();
  make.hexOf = (data) => load().hexOf!(data);
  make.nativeModule = nativeModule;
  return make;
}

function nativeFactory({ native, nativeModule }: { native: NativeBlake; nativeModule: string }): HasherFactory {
  const make: HasherFactory = () => {
    const h = new native.Blake3Hasher();
    return {
      update: (data) => void h.update(asBuffer(data)),
      digestHex: () => h.digest('hex'),
    };
  };
  // The digest as a string, not as the Buffer `blake3` returns: that Buffer's native memory is freed
  // only once the event loop turns, so a synchronous walk hashing a million files held ~330 MB of them.
  make.hexOf = (data) => Buffer.from(native.blake3UrlSafeBase64(asBuffer(data)), 'base64url').toString('hex');
  make.nativeModule = nativeModule;
  return make;
}

type NativeBlake = typeof import('@napi-rs/blake-hash');

/**
 * The native binding. Its package entry tells glibc from musl with `process.report.getReport()`, which
 * costs ~10 ms of every command's start-up; on Linux without musl's loader the glibc build is taken
 * directly. Anything unusual (musl, another platform, the glibc build missing) goes through the entry.
 */
function requireNativeBlake(): { native: NativeBlake; nativeModule: string } {
  const nativeModule = findNativeBlake() ?? createRequire(import.meta.url).resolve('@napi-rs/blake-hash');
  return { native: createRequire(import.meta.url)(nativeModule) as NativeBlake, nativeModule };
}

/**
 * The file of the native binding, without loading it; undefined where it is not installed. The
 * resolved file is also what worker threads load (blake3-thread, chunk-thread).
 */
function findNativeBlake(): string | undefined {
  const require = createRequire(import.meta.url);
  if (process.platform === 'linux' && (process.arch === 'x64' || process.arch === 'arm64')) {
    const muslLoader = `/lib/ld-musl-${process.arch === 'x64' ? 'x86_64' : 'aarch64'}.so.1`;
    if (!fs.existsSync(muslLoader)) {
      try {
        return require.resolve(`@napi-rs/blake-hash-linux-${process.arch}-gnu`);
      } catch {
        // not installed as its platform package: the entry can still load a binary kept beside it
      }
      // Nothing else would load here: without either (an install that left out optional dependencies) the portable backend is used.
      let entry: string;
      try {
        entry = require.resolve('@napi-rs/blake-hash');
      } catch {
        return undefined;
      }
      return fs.existsSync(path.join(path.dirname(entry), `blake.linux-${process.arch}-gnu.node`)) ? entry : undefined;
    }
  }
  try {
    return require.resolve('@napi-rs/blake-hash');
  } catch {
    return undefined;
  }
}

/** Resets the loaded backend; tests use it to compare implementations. */
export function resetHasherForTests(): void {
  factory = undefined;
  hashBackend = 'unloaded';
}
