import { createRequire } from 'node:module';
import { badConfig, badState } from '../util/errors.js';

/*
 * The zstd that pack members are compressed and decoded with. Node has zstd in node:zlib from 22.15
 * on, so nothing needs compiling there; older Node uses the zstd-napi addon, an optional dependency
 * whose install builds C. Both write standard frames that declare their size, so each reads the other's
 * packs. MLX_ZSTD_BACKEND picks one by name (tests compare them; zstd-napi costs less per call, which
 * shows on many small members).
 */

/** The implementations mlx can use. */
export const ZSTD_BACKENDS = ['node:zlib', 'zstd-napi'] as const;
export type ZstdBackend = (typeof ZSTD_BACKENDS)[number];

export interface ZstdCodec {
  readonly backend: ZstdBackend;
  /**
   * Compresses `src` as one frame that declares its content size, written at the start of `dst`
   * (at least {@link zstdBound} of `src.length` long); returns the frame's length.
   */
  compressInto(dst: Buffer, src: Uint8Array, level: number): number;
  /** Decodes one whole frame whose content is `size` bytes; throws when it is broken or decodes to another size. */
  decompress(frame: Buffer, size: number): Buffer;
}

/** The most bytes a frame of `size` input bytes can take (ZSTD_COMPRESSBOUND of zstd.h). */
export function zstdBound(size: number): number {
  const small = 128 * 1024;
  return size + (size >>> 8) + (size < small ? (small - size) >>> 11 : 0);
}

/** Node's zstd functions, typed here because the Node types in use are those of the oldest Node mlx runs on. */
export interface NodeZstd {
  zstdCompressSync(src: Uint8Array, opts: { params: Record<number, number>; chunkSize?: number }): Buffer;
  zstdDecompressSync(src: Uint8Array, opts: { maxOutputLength?: number; chunkSize?: number }): Buffer;
  constants: { ZSTD_c_compressionLevel: number };
}

export type Napi = typeof import('zstd-napi/binding.js');

const require = createRequire(import.meta.url);

function nodeCodec(zlib: NodeZstd): ZstdCodec {
  const level = zlib.constants.ZSTD_c_compressionLevel;
  return {
    backend: 'node:zlib',
    compressInto(dst, src, lvl) {
      // One output chunk the size of the bound: the frame comes back whole instead of in 16 KiB pieces.
      const frame = zlib.zstdCompressSync(src, { params: { [level]: lvl }, chunkSize: Math.max(64, zstdBound(src.length)) });
      return frame.copy(dst);
    },
    decompress(frame, size) {
      // One byte of room past `size`, so a frame that decodes longer is caught rather than cut.
      const out = zlib.zstdDecompressSync(frame, { maxOutputLength: size + 1, chunkSize: Math.max(64, size + 1) });
      if (out.length !== size) throw new Error(`it decoded to ${out.length} bytes, not ${size}`);
      return out;
    },
  };
}

function napiCodec(napi: Napi): ZstdCodec {
  const cctx = new napi.CCtx();
  const dctx = new napi.DCtx();
  return {
    backend: 'zstd-napi',
    compressInto: (dst, src, lvl) => cctx.compress(dst, src, lvl),
    decompress(frame, size) {
      const out = Buffer.allocUnsafe(size);
      const n = dctx.decompress(out, frame);
      if (n !== size) throw new Error(`it decoded to ${n} bytes, not ${size}`);
      return out;
    },
  };
}

/** The backend to use, or the one line that says why none can be. */
export type ZstdChoice = { codec: ZstdCodec } | { backend: ZstdBackend; missing: string; hint: string };

/** Where the two backends come from: node:zlib (undefined where it has no zstd) and the addon (throws where it does not load). */
export interface ZstdSources {
  nodeZlib: () => NodeZstd | undefined;
  addon: () => Napi;
  nodeVersion: string;
}

const REAL_SOURCES: ZstdSources = {
  nodeZlib: () => {
    const zlib = require('node:zlib') as Partial<NodeZstd>;
    return typeof zlib.zstdCompressSync === 'function' ? (zlib as NodeZstd) : undefined;
  },
  addon: () => require('zstd-napi/binding.js') as Napi,
  nodeVersion: process.version,
};

/**
 * The backend `asked` for (MLX_ZSTD_BACKEND), else node:zlib where Node has zstd, else the addon. The
 * addon is loaded only when it is the one picked.
 */
export function pickZstd(asked: string | undefined, sources: ZstdSources): ZstdChoice {
  if (asked !== undefined && !(ZSTD_BACKENDS as readonly string[]).includes(asked)) {
    throw badConfig(`MLX_ZSTD_BACKEND is '${asked}'; it can be ${ZSTD_BACKENDS.join(' or ')}`, { option: 'MLX_ZSTD_BACKEND' });
  }
  const noneInNode = `Node ${sources.nodeVersion} has no zstd in node:zlib (22.15 and later have)`;
  const zlib = asked === 'zstd-napi' ? undefined : sources.nodeZlib();
  if (zlib) return { codec: nodeCodec(zlib) };
  if (asked === 'node:zlib') return { backend: 'node:zlib', missing: `zstd is missing: MLX_ZSTD_BACKEND asks for node:zlib, but ${noneInNode}`, hint: 'use Node 22.15 or later, or unset MLX_ZSTD_BACKEND' };
  try {
    return { codec: napiCodec(sources.addon()) };
  } catch (err) {
    const why = (err as Error).message.split('\n')[0];
    return {
      backend: 'zstd-napi',
      missing: `zstd is missing: ${asked ? 'MLX_ZSTD_BACKEND asks for the zstd-napi addon' : noneInNode}, and the optional zstd-napi addon does not load (${why})`,
      hint: 'use Node 22.15 or later, or build the addon with `npm rebuild zstd-napi` (needs python3, make and a C++ compiler)',
    };
  }
}

let choice: ZstdChoice | undefined;

/** The backend this process uses, picked once (see {@link pickZstd}). */
export function chooseZstd(): ZstdChoice {
  return (choice ??= pickZstd(process.env.MLX_ZSTD_BACKEND || undefined, REAL_SOURCES));
}

/** The codec, or `E.BAD_STATE` naming what is missing: called where a pack member is first compressed or decoded. */
export function loadZstd(): ZstdCodec {
  const c = chooseZstd();
  if ('codec' in c) return c.codec;
  throw badState(c.missing, { hint: c.hint });
}

/** Forgets the choice, so a test can pick another backend through MLX_ZSTD_BACKEND. */
export function resetZstdForTests(): void {
  choice = undefined;
}
