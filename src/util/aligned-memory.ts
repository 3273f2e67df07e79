/*
 * Memory that starts on a page boundary. A file opened with O_DIRECT (written past the page cache)
 * takes writes only from memory aligned to the device's block size; a Buffer's memory usually sits 16
 * bytes past one. A WebAssembly memory is mapped whole by itself, so it starts on a page; made shared,
 * it is also a SharedArrayBuffer, which another thread can read in place.
 */

/** WebAssembly counts memory in pages of 64 KiB. */
const WASM_PAGE = 64 * 1024;

/** A zero-filled Buffer of `size` bytes on shared memory that starts on a page boundary. */
export function alignedSharedBuffer(size: number): Buffer {
  const pages = Math.max(1, Math.ceil(size / WASM_PAGE));
  const memory = new WebAssembly.Memory({ initial: pages, maximum: pages, shared: true });
  return Buffer.from(memory.buffer, 0, size);
}
