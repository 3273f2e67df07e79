import fs from 'node:fs';
import { MessageChannel, receiveMessageOnPort, Worker, type MessagePort } from 'node:worker_threads';
import type { HasherFactory } from './blake3.js';
import { oidFromHex, type Oid } from './oid.js';

/*
 * A file written and hashed on a second thread as it is written (a copy of a file into the cache, a
 * large file rebuilt from the pack files of a directory remote). This thread fills a slot at a time
 * of a ring in shared memory (reads it from a file) and writes each slot out; the other thread hashes
 * the slots in order. What is hashed is exactly what was written: the same bytes, in the same memory.
 *
 * Slots are small on purpose. A write from memory the core has just filled costs about what the
 * kernel's own copy (`cp`) costs; from a buffer of 1 MiB or more, read a moment earlier, it cost three
 * to four times that in the kernel (2 GiB copied: 0.8 s against 3-3.6 s system time).
 *
 * The caller blocks until both threads are done (the store's API is synchronous): slots are handed
 * over through Atomics on shared memory and the digest comes back by a synchronous receive.
 */

/** Bytes per slot: read, written and hashed while they are still in the core's cache. */
export const SLOT_SIZE = 128 * 1024;
const SLOTS = 16;
/** Slot length values besides a byte count: the slot is free, the copy ended, or the copy was abandoned. */
const FREE = 0;
const END = -1;
const ABANDONED = -2;
/** `state[SLOTS]` is set to 1 once the thread has answered. */
const ANSWERED = SLOTS;

const WORKER_SOURCE = `
const { workerData } = require('node:worker_threads');
const { Blake3Hasher } = require(workerData.native);
const { port, state, ring } = workerData;
const slots = [];
for (let s = 0; s < ${SLOTS}; s++) slots.push(Buffer.from(ring, s * ${SLOT_SIZE}, ${SLOT_SIZE}));
port.on('message', () => {
  let reply;
  try {
    const h = new Blake3Hasher();
    let size = 0;
    for (let s = 0; ; s = (s + 1) % ${SLOTS}) {
      Atomics.wait(state, s, ${FREE});
      const n = Atomics.load(state, s);
      if (n < 0) {
        Atomics.store(state, s, ${FREE});
        reply = n === ${END} ? { hex: h.digest('hex'), size } : { abandoned: true };
        break;
      }
      h.update(n === ${SLOT_SIZE} ? slots[s] : slots[s].subarray(0, n));
      size += n;
      Atomics.store(state, s, ${FREE});
      Atomics.notify(state, s);
    }
  } catch (err) {
    reply = { error: String((err && err.message) || err) };
  }
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
  const state = new Int32Array(new SharedArrayBuffer(4 * (SLOTS + 1)));
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
 * Writes into the open file `output`, from its start, the bytes `fill` gives, hashing on a second
 * thread exactly the bytes written; returns their oid and number. `fill(slot, position)` puts the
 * bytes of the output from `position` into `slot` (as many as it likes, at least one) and returns how
 * many, or 0 at the end. When `fill` or a write fails, its error is thrown once the thread has let go
 * of the ring.
 */
export function copyHashed(newHasher: HasherFactory, fill: (slot: Buffer, position: number) => number, output: number, onProgress?: (bytes: number) => void): { oid: Oid; size: number } {
  const native = newHasher.nativeModule;
  if (native === undefined) throw new Error('internal: copyHashed needs the native BLAKE3 backend');
  if (thread?.native !== native) thread = startThread(native);
  const t = thread;
  t.state.fill(FREE);
  t.port.postMessage('go');
  let slot = 0;
  let size = 0;
  let failure: unknown;
  try {
    for (;;) {
      waitFor(t, slot, (n) => n === FREE);
      const buf = t.slots[slot]!;
      const n = fill(buf, size);
      if (n === 0) break;
      writeAll(output, buf.subarray(0, n), size);
      Atomics.store(t.state, slot, n);
      Atomics.notify(t.state, slot);
      size += n;
      onProgress?.(n);
      slot = (slot + 1) % SLOTS;
    }
  } catch (err) {
    failure = err;
  }
  // The thread takes slots in order: the end (or abandonment) goes in the next one once it is free.
  waitFor(t, slot, (n) => n === FREE);
  Atomics.store(t.state, slot, failure === undefined ? END : ABANDONED);
  Atomics.notify(t.state, slot);
  waitFor(t, ANSWERED, (n) => n === 1);
  const reply = receiveMessageOnPort(t.port)?.message as Reply | undefined;
  if (failure !== undefined) throw failure;
  if (reply?.hex === undefined) throw new Error(`internal: BLAKE3 thread: ${reply?.error ?? 'no answer'}`);
  if (reply.size !== size) throw new Error(`internal: BLAKE3 thread hashed ${reply.size} of ${size} bytes`);
  return { oid: oidFromHex(reply.hex), size };
}

/** Blocks until `state[at]` passes `ok`; a thread that died (threadId -1) never changes it, so wait in slices. */
function waitFor(t: HashThread, at: number, ok: (value: number) => boolean): void {
  for (let v = Atomics.load(t.state, at); !ok(v); v = Atomics.load(t.state, at)) {
    if (Atomics.wait(t.state, at, v, 200) === 'timed-out' && t.worker.threadId === -1) throw new Error('internal: the BLAKE3 thread stopped');
  }
}

/** A `fill` for {@link copyHashed} that copies the open file `input` from its start to its end. */
export function fileContents(input: number): (slot: Buffer, position: number) => number {
  return (slot, position) => readFull(input, slot, position);
}

/** Fills `buf` from `position` unless the file ends first; returns the bytes read (0 at the end). */
export function readFull(fd: number, buf: Buffer, position: number): number {
  let n = 0;
  for (let got = -1; n < buf.length && got !== 0; n += got) got = fs.readSync(fd, buf, n, buf.length - n, position + n);
  return n;
}

function writeAll(fd: number, bytes: Buffer, position: number): void {
  for (let done = 0; done < bytes.length; ) done += fs.writeSync(fd, bytes, done, bytes.length - done, position + done);
}
