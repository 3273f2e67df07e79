/*
 * Memory that starts on a page boundary. A file opened with O_DIRECT (written past the page cache)
 * takes writes only from memory aligned to the device's block size; a Buffer's memory usually sits 16
 * bytes past one. A WebAssembly memory is mapped whole by itself, so it starts on a page; made shared,
 * it is also a SharedArrayBuffer, which another thread can read in place.
 *
 * All such buffers are carved from one shared WebAssembly memory (the arena), so that a copy from one
 * to another runs as WebAssembly's `memory.copy`, a plain memmove: TypedArray.set between shared
 * buffers copies word by word (a large file's chunks copied into its packs: 4 GB/s against 11 GB/s
 * here, a third of the CPU of a push's main thread). Ranges given back are kept for the next buffer
 * of the same size; the arena never shrinks. Where the arena cannot be had (its address space is
 * reserved up front), each buffer is a memory of its own, as before.
 */

/** WebAssembly counts memory in pages of 64 KiB. */
const WASM_PAGE = 64 * 1024;
/** The arena's address space: reserved, not used, until it grows into it. */
const ARENA_MAX_PAGES = 65536;

interface Arena {
  memory: WebAssembly.Memory;
  /** `memory.copy(to, from, length)`, offsets in the arena. */
  copy: (to: number, from: number, length: number) => void;
  /** Every `memory.buffer` a buffer was made on (growing gives a new one, over the same memory). */
  buffers: Set<ArrayBufferLike>;
  /** Pages in use or given back, from page 0. */
  top: number;
  /** Ranges in use: first page to page count. */
  used: Map<number, number>;
  /** Ranges given back, by page count: their first pages. */
  spare: Map<number, number[]>;
}

/**
 * A module of one function, `copy(to, from, length)`, that runs `memory.copy` on the imported shared
 * memory `m.mem` (of at most {@link ARENA_MAX_PAGES} pages).
 */
const COPY_MODULE = new Uint8Array([
  0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, // magic, version 1
  0x01, 0x07, 0x01, 0x60, 0x03, 0x7f, 0x7f, 0x7f, 0x00, // types: (i32, i32, i32) -> ()
  0x02, 0x0d, 0x01, 0x01, 0x6d, 0x03, 0x6d, 0x65, 0x6d, 0x02, 0x03, 0x01, 0x80, 0x80, 0x04, // import m.mem: shared, 1..65536 pages
  0x03, 0x02, 0x01, 0x00, // one function of type 0
  0x07, 0x08, 0x01, 0x04, 0x63, 0x6f, 0x70, 0x79, 0x00, 0x00, // export "copy" = function 0
  0x0a, 0x0e, 0x01, 0x0c, 0x00, 0x20, 0x00, 0x20, 0x01, 0x20, 0x02, 0xfc, 0x0a, 0x00, 0x00, 0x0b, // local.get 0 1 2; memory.copy 0 0
]);

let arena: Arena | null | undefined;

/** The arena, made on first use; null where it cannot be made. */
function theArena(): Arena | null {
  if (arena !== undefined) return arena;
  try {
    const memory = new WebAssembly.Memory({ initial: 1, maximum: ARENA_MAX_PAGES, shared: true });
    const { exports } = new WebAssembly.Instance(new WebAssembly.Module(COPY_MODULE), { m: { mem: memory } });
    arena = { memory, copy: exports.copy as Arena['copy'], buffers: new Set(), top: 0, used: new Map(), spare: new Map() };
  } catch {
    arena = null; // no room for the reservation: a memory per buffer
  }
  return arena;
}

/** A zero-filled Buffer of `size` bytes on shared memory that starts on a page boundary. Give it back with {@link releaseAligned}. */
export function alignedSharedBuffer(size: number): Buffer {
  const pages = Math.max(1, Math.ceil(size / WASM_PAGE));
  const a = theArena();
  if (a === null || a.top + pages > ARENA_MAX_PAGES) return ownMemory(pages, size);
  let first = a.spare.get(pages)?.pop();
  const reused = first !== undefined;
  if (first === undefined) {
    first = a.top;
    const grow = a.top + pages - a.memory.buffer.byteLength / WASM_PAGE;
    if (grow > 0) {
      try {
        a.memory.grow(grow);
      } catch {
        return ownMemory(pages, size);
      }
    }
    a.top += pages;
  }
  a.used.set(first, pages);
  const memory = a.memory.buffer;
  a.buffers.add(memory);
  const buf = Buffer.from(memory, first * WASM_PAGE, size);
  if (reused) buf.fill(0);
  return buf;
}

function ownMemory(pages: number, size: number): Buffer {
  const memory = new WebAssembly.Memory({ initial: pages, maximum: pages, shared: true });
  return Buffer.from(memory.buffer, 0, size);
}

/**
 * Gives back a buffer {@link alignedSharedBuffer} made, for a later one of the same size: only once
 * nothing reads or writes it any more, on any thread. Anything else is ignored.
 */
export function releaseAligned(buf: Buffer): void {
  const a = arena;
  if (!a || !a.buffers.has(buf.buffer) || buf.byteOffset % WASM_PAGE !== 0) return;
  const first = buf.byteOffset / WASM_PAGE;
  const pages = a.used.get(first);
  if (pages === undefined) return;
  a.used.delete(first);
  const list = a.spare.get(pages);
  if (list) list.push(first);
  else a.spare.set(pages, [first]);
}

/** Copies `source` into `target` at `at`: a memmove where both lie in the arena, else TypedArray.set. */
export function copyInto(target: Buffer, at: number, source: Uint8Array): void {
  const a = arena;
  if (a && source.byteLength > 0 && a.buffers.has(target.buffer) && a.buffers.has(source.buffer)) {
    if (at < 0 || at + source.byteLength > target.byteLength) throw new RangeError(`copyInto: ${source.byteLength} bytes at ${at} do not fit in ${target.byteLength}`);
    a.copy(target.byteOffset + at, source.byteOffset, source.byteLength);
  } else {
    target.set(source, at);
  }
}
