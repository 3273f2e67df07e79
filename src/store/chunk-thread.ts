import { MessageChannel, Worker, type MessagePort } from 'node:worker_threads';
import type { Hasher, HasherFactory } from '../hash/blake3.js';
import { hashBytes } from '../hash/hash-file.js';
import { oidFromHex, type Oid } from '../hash/oid.js';
import { alignedSharedBuffer, releaseAligned } from '../util/aligned-memory.js';
import { findCut, resolveChunker, type ChunkerOptions, type ChunkerParams } from './chunker.js';

/*
 * The chunks of a large file with their oids, read and cut on a worker thread while the caller packs
 * the chunks before them: reading and finding cut points take the largest part of a push's CPU, and
 * this moves them off the thread that packs and uploads.
 *
 * The worker reads the file into a ring of blocks in shared memory, cuts the chunks of a block, and
 * hands the block over. The caller hashes each chunk as it takes it: the bytes it names are the bytes
 * it packs. A third thread (where the native BLAKE3 backend is loaded) hashes the whole file from the
 * same blocks as they are read: on the caller's thread, that hash was a quarter of its work while the
 * second core waited on the chunker. A block goes back to the worker once the caller is past it and
 * has let go of every chunk it kept (a pack that is still uploading sends the chunk's bytes from the
 * block itself, without copying them), and the whole-file thread has hashed it; the ring bounds
 * memory whatever the file's size. The worker runs `findCut` from its source text (that function uses
 * only its arguments): there is one definition of the cut points.
 */

/**
 * Blocks in the ring: one the caller reads, one the worker fills, one spare so neither waits on the
 * other, and five that kept chunks may hold while their packs upload (by default four packs upload at
 * once while the next is built).
 */
const BLOCKS = 8;
/**
 * Blocks kept chunks may hold at once. The worker fills any free block: with three blocks never
 * held, one of them is free, or is freed as soon as the caller is past it, whatever a pack still
 * being built keeps. So the worker never waits for a pack that waits for the worker.
 */
const KEEPABLE = BLOCKS - 3;
/**
 * Block state in the shared `state` array: the worker's to fill (0), or taken: while it is filled, 1;
 * once filled, the number of threads yet to let go of it (the caller, and the whole-file thread if
 * any). The thread that lets go last hands it back (see `letGo` below).
 */
const FREE = 0;
const TAKEN = 1;
/** `state[BLOCKS]` is set when the caller gives up on the file: the worker stops at its next wait. */
const CANCELLED = BLOCKS;
/** `state[BLOCKS + 1]` counts the blocks handed back: the worker waits on it for a free block. */
const FREED = BLOCKS + 1;

/**
 * Lets go of block `b`; the last thread to do so hands it back to the worker (counting it in
 * `state[freed]`). It uses only its arguments: the whole-file thread runs its source.
 */
function letGo(state: Int32Array, b: number, freed: number): void {
  if (Atomics.sub(state, b, 1) !== 1) return;
  Atomics.add(state, freed, 1);
  Atomics.notify(state, freed);
}

const WORKER_SOURCE = `
const { workerData } = require('node:worker_threads');
const fs = require('node:fs');
const findCut = ${findCut.toString()};
const { port, follower } = workerData;
const { state, blocks } = workerData;
/** Threads that read a filled block: the caller, and the whole-file thread if there is one. */
const readers = follower ? 2 : 1;
const views = blocks.map(([memory, offset, length]) => Buffer.from(memory, offset, length));

/** A free block, taken; -1 when the caller gave up on the file. */
function acquire() {
  for (;;) {
    if (Atomics.load(state, ${CANCELLED}) !== 0) return -1;
    const freed = Atomics.load(state, ${FREED});
    for (let b = 0; b < views.length; b++) {
      if (Atomics.load(state, b) === ${FREE}) {
        Atomics.store(state, b, ${TAKEN});
        return b;
      }
    }
    Atomics.wait(state, ${FREED}, freed, 100);
  }
}

function chunkFile(file, p) {
  const fd = fs.openSync(file, 'r');
  if (follower) follower.postMessage({ start: true });
  try {
    let filePos = 0;
    let readUpTo = 0; // the uncut tail of a block is read again into the next one: hash it once
    let eof = false;
    for (;;) {
      const b = acquire();
      if (b < 0) return;
      const buf = views[b];
      let end = 0;
      const blockPos = filePos;
      while (!eof && end < buf.length) {
        const n = fs.readSync(fd, buf, end, buf.length - end, filePos);
        if (n === 0) eof = true;
        end += n;
        filePos += n;
      }
      Atomics.store(state, b, readers);
      if (follower) follower.postMessage({ block: b, from: readUpTo - blockPos, to: end, last: eof });
      readUpTo = filePos;
      const chunks = [];
      let start = 0;
      while (start < end && (eof || end - start >= p.max)) {
        const length = findCut(buf, start, end, p);
        chunks.push([start, length]);
        start += length;
      }
      port.postMessage({ block: b, chunks, last: eof });
      if (eof) return;
      // The bytes not yet cut (fewer than max) start the next block. Read again from the page cache,
      // that costs less than copying them from this block (the page cache sits on large pages).
      filePos -= end - start;
    }
  } finally {
    fs.closeSync(fd);
  }
}

port.on('message', ({ file, params }) => {
  try {
    chunkFile(file, params);
  } catch (err) {
    port.postMessage({ error: String((err && err.message) || err), code: err && err.code });
  }
});
`;

/**
 * The whole-file thread: hashes the bytes of each block the worker read that no block before held,
 * then lets go of the block; after the last block it answers the file's oid (as hex).
 */
const FOLLOWER_SOURCE = `
const { workerData } = require('node:worker_threads');
const { Blake3Hasher } = require(workerData.native);
const { input, output, state, blocks } = workerData;
const views = blocks.map(([memory, offset, length]) => Buffer.from(memory, offset, length));
const letGo = ${letGo.toString()};
let h;
input.on('message', ({ start, block, from, to, last }) => {
  try {
    if (start) {
      h = new Blake3Hasher();
      return;
    }
    if (to > from) h.update(views[block].subarray(from, to));
    letGo(state, block, ${FREED});
    if (last) output.postMessage({ hex: h.digest('hex') });
  } catch (err) {
    output.postMessage({ error: String((err && err.message) || err) });
  }
});
`;

/** One chunk of a file: a view of its bytes (valid until the next chunk is asked for), where it starts, its oid. */
export interface HashedChunk {
  chunk: Buffer;
  offset: number;
  oid: Oid;
  /**
   * Keeps `chunk`'s bytes valid and unchanged past the next chunk, until the returned function is
   * called (once; later calls do nothing). Undefined when they cannot be kept: copy them instead.
   */
  keep(): (() => void) | undefined;
  /** On the last chunk only: the oid of the whole file, hashed from the very bytes the chunks were cut from. */
  fileOid?: Oid;
}

interface BlockMessage {
  block: number;
  chunks: [start: number, length: number][];
  last: boolean;
}

interface ErrorMessage {
  error: string;
  code?: string;
}

type Message = BlockMessage | ErrorMessage;

/** A worker with its ring of blocks, and the thread hashing the whole file if any; it chunks one file at a time. */
class ChunkThread {
  readonly worker: Worker;
  /** The whole-file thread: where the native BLAKE3 backend is loaded. */
  private readonly follower: Worker | undefined;
  readonly port: MessagePort;
  readonly state = new Int32Array(new SharedArrayBuffer(4 * (BLOCKS + 2)));
  private readonly ring: Buffer;
  readonly views: Buffer[];
  private readonly inbox: Message[] = [];
  /** The whole-file thread's answer for the file being chunked. */
  private whole: { hex?: string; error?: string } | undefined;
  private wake: (() => void) | undefined;
  private failure: Error | undefined;
  /** Per block: chunks of it kept, and whether the caller is past its chunks (only then may it be refilled). */
  private readonly held = new Array<number>(BLOCKS).fill(0);
  private readonly passed = new Array<boolean>(BLOCKS).fill(true);
  /** Per block: the caller has it and has not let go of it yet. */
  private readonly owned = new Array<boolean>(BLOCKS).fill(false);
  /** Called once no chunk is kept any more (the thread may then chunk the next file). */
  private whenUnheld: (() => void) | undefined;

  constructor(readonly blockSize: number, readonly native: string | undefined) {
    // The ring lies in the arena of aligned buffers, as packs do: a chunk is copied into its pack as a memmove.
    this.ring = alignedSharedBuffer(BLOCKS * blockSize);
    this.views = Array.from({ length: BLOCKS }, (_, b) => this.ring.subarray(b * blockSize, (b + 1) * blockSize));
    const blocks = this.views.map((v) => [v.buffer, v.byteOffset, v.length]);
    const { port1, port2 } = new MessageChannel();
    this.port = port1;
    const fail = (err: Error) => {
      this.failure ??= err;
      this.wake?.();
    };
    let follow: MessagePort | undefined;
    if (native !== undefined) {
      const toFollower = new MessageChannel();
      const fromFollower = new MessageChannel();
      follow = toFollower.port1;
      const workerData = { native, input: toFollower.port2, output: fromFollower.port2, state: this.state, blocks };
      this.follower = new Worker(FOLLOWER_SOURCE, { eval: true, workerData, transferList: [toFollower.port2, fromFollower.port2] });
      this.follower.unref();
      this.follower.on('error', fail);
      this.follower.on('exit', (code) => fail(new Error(`whole-file hash thread exited with code ${code}`)));
      fromFollower.port1.on('message', (m: { hex?: string; error?: string }) => {
        // A failed hash may leave a block held that the worker waits for: fail at once, not at the end.
        if (m.hex === undefined) fail(new Error(`internal: whole-file hash thread: ${m.error}`));
        this.whole = m;
        this.wake?.();
      });
      fromFollower.port1.unref(); // after the listener, which refs the port; chunks() refs the worker's port while it waits
    }
    const workerData = { port: port2, follower: follow, state: this.state, blocks };
    this.worker = new Worker(WORKER_SOURCE, { eval: true, workerData, transferList: follow ? [port2, follow] : [port2] });
    this.worker.unref();
    this.port.unref();
    this.port.on('message', (m: Message) => {
      this.inbox.push(m);
      this.wake?.();
    });
    this.worker.on('error', fail);
    this.worker.on('exit', (code) => fail(new Error(`chunk thread exited with code ${code}`)));
  }

  /** Waits until `ready` says so (a message came) or a thread failed. */
  private async until(ready: () => boolean): Promise<void> {
    while (!ready()) {
      if (this.failure) throw this.failure;
      await new Promise<void>((resolve) => (this.wake = resolve));
      this.wake = undefined;
    }
  }

  /** The next message from the worker, in order. */
  private async receive(): Promise<Message> {
    await this.until(() => this.inbox.length > 0);
    return this.inbox.shift()!;
  }

  /** The oid of the whole file: from the whole-file thread, or `here` where there is none. */
  private async wholeFile(here: Hasher | undefined): Promise<Oid> {
    if (here) return oidFromHex(here.digestHex());
    await this.until(() => this.whole !== undefined);
    const { hex, error } = this.whole!;
    if (hex === undefined) throw new Error(`internal: whole-file hash thread: ${error}`);
    return oidFromHex(hex);
  }

  /** Chunks `file`; a caller that stops early leaves the thread unusable (it is stopped, see below). */
  async *chunks(newHasher: HasherFactory, file: string, params: ChunkerParams): AsyncGenerator<HashedChunk> {
    this.state.fill(FREE);
    this.passed.fill(true);
    this.owned.fill(false);
    this.whole = undefined;
    // Without a whole-file thread, the file is hashed here, chunk by chunk.
    const here = this.follower ? undefined : newHasher();
    this.port.ref(); // awaiting the worker's messages must keep the process alive
    this.port.postMessage({ file, params });
    let offset = 0;
    try {
      for (;;) {
        const m = await this.receive();
        if ('error' in m) throw Object.assign(new Error(m.error), m.code ? { code: m.code } : {});
        const b = m.block;
        const view = this.views[b]!;
        this.passed[b] = false;
        this.owned[b] = true;
        const keep = () => this.keep(b);
        // The whole-file thread is done with the file before its last chunk is handed out (and
        // before the thread takes another file, even an empty one).
        let fileOid: Oid | undefined;
        if (m.last) {
          for (const [start, length] of m.chunks) here?.update(view.subarray(start, start + length));
          fileOid = await this.wholeFile(here);
        }
        for (let i = 0; i < m.chunks.length; i++) {
          const [start, length] = m.chunks[i]!;
          const chunk = view.subarray(start, start + length);
          if (!m.last) here?.update(chunk);
          const last = m.last && i === m.chunks.length - 1;
          yield { chunk, offset, oid: hashBytes(newHasher, chunk), keep, ...(last ? { fileOid } : {}) };
          offset += length;
        }
        this.passed[b] = true;
        this.freeIfDone(b);
        if (m.last) return;
      }
    } finally {
      this.port.unref();
    }
  }

  /** Holds block `b` for a kept chunk; undefined when that would leave the worker too few blocks. */
  private keep(b: number): (() => void) | undefined {
    if (this.held[b] === 0 && this.held.filter((n) => n > 0).length >= KEEPABLE) return undefined;
    this.held[b]!++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.held[b]!--;
      this.freeIfDone(b);
      if (this.whenUnheld && this.held.every((n) => n === 0)) {
        const go = this.whenUnheld;
        this.whenUnheld = undefined;
        go();
      }
    };
  }

  /** Hands block `b` back to the worker once the caller is past it and no kept chunk holds it. */
  private freeIfDone(b: number): void {
    if (!this.owned[b] || !this.passed[b] || this.held[b] !== 0) return;
    this.owned[b] = false;
    letGo(this.state, b, FREED);
  }

  /** Runs `go` once no chunk of the last file is kept (at once when none is). */
  onceUnheld(go: () => void): void {
    if (this.held.every((n) => n === 0)) go();
    else this.whenUnheld = go;
  }

  stop(): void {
    Atomics.store(this.state, CANCELLED, 1);
    Atomics.notify(this.state, FREED);
    // The ring is given back only once neither thread can touch it and no upload still sends a kept chunk from it.
    const stopped = Promise.all([this.worker.terminate(), this.follower?.terminate()]);
    this.onceUnheld(() => void stopped.then(() => releaseAligned(this.ring)));
  }
}

/** Threads not chunking a file right now, kept for the next one (starting one costs ~30 ms). */
const idle: ChunkThread[] = [];

/**
 * The chunks of `file` (boundaries as {@link chunksOfFd} cuts them) with their oids, in order. The file
 * is read and cut on a worker thread, overlapping whatever the caller does with each chunk. A chunk's
 * bytes are valid until the next chunk is asked for (or, kept, until released).
 */
export async function* hashedChunksOfFile(newHasher: HasherFactory, file: string, opts?: ChunkerOptions): AsyncGenerator<HashedChunk> {
  const params = resolveChunker(opts);
  const blockSize = 4 * params.max;
  const native = newHasher.nativeModule;
  const at = idle.findIndex((t) => t.blockSize === blockSize && t.native === native);
  const thread = at >= 0 ? idle.splice(at, 1)[0]! : new ChunkThread(blockSize, native);
  let finished = false;
  try {
    yield* thread.chunks(newHasher, file, params);
    finished = true;
  } finally {
    // A file left half-way (an error, or the caller stopped) may still have the worker reading it.
    // A finished one may still have chunks kept by uploads: the thread waits for them before the next file.
    if (finished) thread.onceUnheld(() => idle.push(thread));
    else thread.stop();
  }
}
