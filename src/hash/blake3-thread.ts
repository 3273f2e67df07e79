import { MessageChannel, receiveMessageOnPort, Worker, type MessagePort } from 'node:worker_threads';
import type { HasherFactory } from './blake3.js';
import { oidFromHex, type Oid } from './oid.js';

/*
 * BLAKE3 of a file while another call writes it, on a second thread. The object store copies a large
 * file into the cache with the kernel (copy_file_range, no bytes through JavaScript) while this thread
 * reads the copy as it grows and hashes it: an add then costs about what `cp` costs, and what is hashed
 * is exactly what was stored. The caller blocks until both are done (the store's API is synchronous),
 * so the answer comes back through shared memory and a synchronous receive, not the event loop.
 */

const WORKER_SOURCE = `
const { workerData } = require('node:worker_threads');
const fs = require('node:fs');
const { Blake3Hasher } = require(workerData.native);
const port = workerData.port;
const buf = Buffer.allocUnsafe(1 << 20);
port.on('message', ({ file, signal }) => {
  let reply;
  try {
    const fd = fs.openSync(file, 'r');
    try {
      const h = new Blake3Hasher();
      let pos = 0;
      for (;;) {
        // The writer's state is read before the size: once it says done, that size is final.
        const state = Atomics.load(signal, 0);
        if (state === 2) throw new Error('the write failed');
        const size = fs.fstatSync(fd).size;
        let n = 1;
        while (pos < size && n > 0) {
          n = fs.readSync(fd, buf, 0, Math.min(buf.length, size - pos), pos);
          h.update(n === buf.length ? buf : buf.subarray(0, n));
          pos += n;
        }
        if (state === 1) break;
        if (pos >= size) Atomics.wait(signal, 0, 0, 2);
      }
      reply = { hex: h.digest('hex'), size: pos };
    } finally {
      fs.closeSync(fd);
    }
  } catch (err) {
    reply = { error: String((err && err.message) || err) };
  }
  port.postMessage(reply);
  Atomics.store(signal, 1, 1);
  Atomics.notify(signal, 1);
});
`;

interface Reply {
  hex?: string;
  size?: number;
  error?: string;
}

let thread: { worker: Worker; port: MessagePort; native: string } | undefined;

function startThread(native: string): NonNullable<typeof thread> {
  const { port1, port2 } = new MessageChannel();
  const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { native, port: port2 }, transferList: [port2] });
  worker.unref(); // it only ever works while the main thread waits for it
  // A thread that dies is replaced on the next call; a call waiting on it sees its error below.
  worker.on('error', () => void (thread?.worker === worker && (thread = undefined)));
  worker.on('exit', () => void (thread?.worker === worker && (thread = undefined)));
  return { worker, port: port1, native };
}

/** Whether {@link hashFileAsWritten} runs on a second thread with this hasher (it needs the native backend). */
export function canHashAsWritten(newHasher: HasherFactory): boolean {
  return newHasher.nativeModule !== undefined;
}

/**
 * Runs `write`, which fills `file` (created empty by the caller, so the thread can open it at once),
 * while a second thread hashes `file` as it grows; returns the oid and size of what the file holds
 * once `write` returns. When `write` throws, its error is thrown once the thread has let go of the file.
 * Needs the native backend (see {@link canHashAsWritten}).
 */
export function hashFileAsWritten(newHasher: HasherFactory, file: string, write: () => void): { oid: Oid; size: number } {
  const native = newHasher.nativeModule;
  if (native === undefined) throw new Error('internal: hashFileAsWritten needs the native BLAKE3 backend');
  if (thread?.native !== native) thread = startThread(native);
  const { port } = thread;
  // [0]: 0 writing, 1 written, 2 failed; [1]: 1 once the thread has answered.
  const signal = new Int32Array(new SharedArrayBuffer(8));
  port.postMessage({ file, signal });
  let failure: unknown;
  try {
    write();
  } catch (err) {
    failure = err;
  }
  Atomics.store(signal, 0, failure === undefined ? 1 : 2);
  Atomics.notify(signal, 0);
  const { worker } = thread;
  // A thread that died (threadId -1) never answers: wait in slices so that is noticed.
  while (Atomics.wait(signal, 1, 0, 200) === 'timed-out') {
    if (worker.threadId === -1) throw failure ?? new Error('internal: the BLAKE3 thread stopped');
  }
  const reply = receiveMessageOnPort(port)?.message as Reply | undefined;
  if (failure !== undefined) throw failure;
  if (reply?.hex === undefined) throw new Error(`internal: BLAKE3 thread: ${reply?.error ?? 'no answer'}`);
  return { oid: oidFromHex(reply.hex), size: reply.size! };
}
