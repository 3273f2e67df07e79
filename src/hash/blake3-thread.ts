import { MessageChannel, receiveMessageOnPort, Worker, type MessagePort } from 'node:worker_threads';
import fs from 'node:fs';
import type { HasherFactory } from './blake3.js';
import { oidFromHex, type Oid } from './oid.js';

/*
 * A file written from ranges of other files and hashed on the way (a copy of a file into the cache, a
 * large file rebuilt from the pack files of a directory remote), with the work split over two
 * threads: a second thread reads a slot at a time of a ring in shared memory and hashes it, and this
 * thread writes each slot out. What is hashed is exactly what is written: the same bytes, in the same
 * memory, which neither thread changes between the two. Reading and hashing on one thread and
 * writing on the other balances the two: the write costs about what the read and the hash cost
 * together, where this thread used to both read and write while the other only hashed.
 *
 * Slots are small on purpose. A write from memory filled a moment ago costs about what the kernel's
 * own copy (`cp`) costs; from a buffer of 1 MiB or more, read long before, it cost three to four times
 * that in the kernel (2 GiB copied: 0.8 s against 3-3.6 s system time).
 *
 * The caller blocks until both threads are done (the store's API is synchronous): slots are handed
 * over through Atomics on shared memory and the answer comes back by a synchronous receive.
 */

/** Bytes per slot: read, hashed and written while they are still in the cores' caches. */
export const SLOT_SIZE = 128 * 1024;
/**
 * Slots in the ring: the reader runs at most half a MiB ahead of the writer. With 2 MiB of slots, a
 * loaded machine let it run far enough ahead that the write of 2 GiB cost twice the system time in
 * one run of two (1.2 s against 0.5 s); with four, none did.
 */
const SLOTS = 4;
/** Slot length values besides a byte count: the slot is free, the sources ended, or reading them failed. */
const FREE = 0;
const END = -1;
const FAILED = -2;
/** `state[SLOTS]` is set to 1 once the thread has answered. */
const ANSWERED = SLOTS;
/** `state[SLOTS + 1]` is set to 1 when this thread gives up (a write failed): the reader stops. */
const CANCELLED = SLOTS + 1;

/**
 * A range of a file, open (`fd`) or named (`file`, opened by the second thread while it reads the
 * range, so a file of many ranges in many files holds one open at a time): `length` bytes from
 * `position`, or, with `length` -1, everything from `position` to the file's end. A range that ends
 * early (other than one to the end) is an error.
 */
export type CopySource = ({ fd: number } | { file: string }) & { position: number; length: number };

const WORKER_SOURCE = `
const { workerData } = require('node:worker_threads');
const fs = require('node:fs');
const { Blake3Hasher } = require(workerData.native);
const { port, state, ring } = workerData;
const slots = [];
for (let s = 0; s < ${SLOTS}; s++) slots.push(Buffer.from(ring, s * ${SLOT_SIZE}, ${SLOT_SIZE}));

/** Waits until slot s is free; false when the writer gave up meanwhile. */
function free(s) {
  for (;;) {
    if (Atomics.load(state, ${CANCELLED}) !== 0) return false;
    const v = Atomics.load(state, s);
    if (v === ${FREE}) return true;
    Atomics.wait(state, s, v, 200);
  }
}

/** The named file open now, and its descriptor. */
let openFile;
let openFd;
function fdOf(source) {
  if (source.file === undefined) return source.fd;
  if (openFile !== source.file) {
    closeOpen();
    openFd = fs.openSync(source.file, 'r');
    openFile = source.file;
  }
  return openFd;
}
function closeOpen() {
  if (openFile !== undefined) fs.closeSync(openFd);
  openFile = undefined;
}

/** Fills slot s from the sources, from source at and its byte done on: [bytes, at, done]. */
function fill(buf, sources, at, done) {
  let n = 0;
  while (n < buf.length && at < sources.length) {
    const { position, length } = sources[at];
    const fd = fdOf(sources[at]);
    const want = length < 0 ? buf.length - n : Math.min(buf.length - n, length - done);
    const got = want === 0 ? 0 : fs.readSync(fd, buf, n, want, position + done);
    n += got;
    done += got;
    if (length < 0 ? got === 0 : done === length) {
      at++;
      done = 0;
    } else if (got === 0) {
      throw Object.assign(new Error('a source ends before the range to copy from it'), { code: 'ESHORT' });
    }
  }
  return [n, at, done];
}

port.on('message', ({ sources }) => {
  let reply;
  let s = 0;
  try {
    const h = new Blake3Hasher();
    let size = 0;
    for (let at = 0, done = 0; ; s = (s + 1) % ${SLOTS}) {
      if (!free(s)) {
        reply = { abandoned: true };
        break;
      }
      const [n, nextAt, nextDone] = fill(slots[s], sources, at, done);
      at = nextAt;
      done = nextDone;
      if (n === 0) {
        reply = { hex: h.digest('hex'), size };
        Atomics.store(state, s, ${END});
        break;
      }
      h.update(n === ${SLOT_SIZE} ? slots[s] : slots[s].subarray(0, n));
      size += n;
      Atomics.store(state, s, n);
      Atomics.notify(state, s);
    }
  } catch (err) {
    reply = { error: String((err && err.message) || err), code: err && err.code };
    if (free(s)) Atomics.store(state, s, ${FAILED});
  }
  try {
    closeOpen();
  } catch {
    // a close that fails loses nothing: the file was only read
  }
  Atomics.notify(state, s);
  port.postMessage(reply);
  Atomics.store(state, ${ANSWERED}, 1);
  Atomics.notify(state, ${ANSWERED});
});
`;

interface Reply {
  hex?: string;
  size?: number;
  abandoned?: boolean;
  error?: string;
  code?: string;
}

interface HashThread {
  worker: Worker;
  port: MessagePort;
  native: string;
  state: Int32Array;
  slots: Buffer[];
}

let thread: HashThread | undefined;

function startThread(native: string): HashThread {
  const { port1, port2 } = new MessageChannel();
  const state = new Int32Array(new SharedArrayBuffer(4 * (SLOTS + 2)));
  const ring = new SharedArrayBuffer(SLOTS * SLOT_SIZE);
  const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { native, port: port2, state, ring }, transferList: [port2] });
  worker.unref(); // it only ever works while the main thread waits for it
  // A thread that dies is replaced on the next call; a call waiting on it notices (see waitFor).
  worker.on('error', () => void (thread?.worker === worker && (thread = undefined)));
  worker.on('exit', () => void (thread?.worker === worker && (thread = undefined)));
  const slots = Array.from({ length: SLOTS }, (_, s) => Buffer.from(ring, s * SLOT_SIZE, SLOT_SIZE));
  return { worker, port: port1, native, state, slots };
}

/** Whether {@link copyHashed} can run with this hasher (its thread needs the native backend). */
export function canCopyHashed(newHasher: HasherFactory): boolean {
  return newHasher.nativeModule !== undefined;
}

/**
 * Writes into the open file `output`, from its start, the bytes of `sources` back to back, hashing
 * exactly the bytes written; returns their oid and number. A source that cannot be read (or ends
 * before its range) throws its error, with its code; a failed write throws its own. Either is
 * thrown once the second thread has let go of the ring.
 */
export function copyHashed(newHasher: HasherFactory, sources: readonly CopySource[], output: number, onProgress?: (bytes: number) => void): { oid: Oid; size: number } {
  const native = newHasher.nativeModule;
  if (native === undefined) throw new Error('internal: copyHashed needs the native BLAKE3 backend');
  if (thread?.native !== native) thread = startThread(native);
  const t = thread;
  t.state.fill(FREE);
  t.port.postMessage({ sources });
  let slot = 0;
  let size = 0;
  let failure: unknown;
  try {
    for (;;) {
      const n = waitFor(t, slot, (v) => v !== FREE);
      if (n < 0) break; // the end, or a failed read (the reply says which)
      writeAll(output, t.slots[slot]!.subarray(0, n), size);
      Atomics.store(t.state, slot, FREE);
      Atomics.notify(t.state, slot);
      size += n;
      onProgress?.(n);
      slot = (slot + 1) % SLOTS;
    }
  } catch (err) {
    failure = err;
    Atomics.store(t.state, CANCELLED, 1);
    for (let s = 0; s < SLOTS; s++) Atomics.notify(t.state, s); // the reader waits on the slot it fills next
  }
  waitFor(t, ANSWERED, (v) => v === 1);
  const reply = receiveMessageOnPort(t.port)?.message as Reply | undefined;
  if (failure !== undefined) throw failure;
  if (reply?.error !== undefined) throw Object.assign(new Error(reply.error), reply.code ? { code: reply.code } : {});
  if (reply?.hex === undefined) throw new Error('internal: BLAKE3 thread: no answer');
  if (reply.size !== size) throw new Error(`internal: BLAKE3 thread hashed ${reply.size} of ${size} bytes`);
  return { oid: oidFromHex(reply.hex), size };
}

/** Blocks until `state[at]` passes `ok`, and returns it; a thread that died (threadId -1) never changes it, so wait in slices. */
function waitFor(t: HashThread, at: number, ok: (value: number) => boolean): number {
  for (let v = Atomics.load(t.state, at); ; v = Atomics.load(t.state, at)) {
    if (ok(v)) return v;
    if (Atomics.wait(t.state, at, v, 200) === 'timed-out' && t.worker.threadId === -1) throw new Error('internal: the BLAKE3 thread stopped');
  }
}

/** The whole of the open file `fd`, from its start to its end, as the one source of {@link copyHashed}. */
export function wholeFile(fd: number): CopySource[] {
  return [{ fd, position: 0, length: -1 }];
}

function writeAll(fd: number, bytes: Buffer, position: number): void {
  for (let done = 0; done < bytes.length; ) done += fs.writeSync(fd, bytes, done, bytes.length - done, position + done);
}
