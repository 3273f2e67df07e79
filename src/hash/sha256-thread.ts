import crypto from 'node:crypto';
import { Worker } from 'node:worker_threads';

/*
 * SHA-256 of large buffers on a second thread. S3 request signing hashes every uploaded body with
 * SHA-256 (~1.9 GB/s here); done on the main thread, that time is taken from packing the next upload.
 * A buffer on shared memory is hashed by one worker thread in place, with no copy; any other buffer
 * is hashed where it is. The worker is started on first use and never keeps the process alive.
 */

const WORKER_SOURCE = `
const { parentPort } = require('node:worker_threads');
const crypto = require('node:crypto');
parentPort.on('message', ({ id, memory, offset, length }) => {
  try {
    parentPort.postMessage({ id, hex: crypto.createHash('sha256').update(new Uint8Array(memory, offset, length)).digest('hex') });
  } catch (err) {
    parentPort.postMessage({ id, error: String(err && err.message || err) });
  }
});
`;

interface Reply {
  id: number;
  hex?: string;
  error?: string;
}

let worker: Worker | undefined;
let nextId = 0;
const waiting = new Map<number, { resolve: (hex: string) => void; reject: (err: Error) => void }>();

function startWorker(): Worker {
  const w = new Worker(WORKER_SOURCE, { eval: true });
  w.unref();
  w.on('message', ({ id, hex, error }: Reply) => {
    const job = waiting.get(id);
    waiting.delete(id);
    if (waiting.size === 0) w.unref();
    if (hex !== undefined) job?.resolve(hex);
    else job?.reject(new Error(`sha256 worker: ${error}`));
  });
  // A worker that dies fails what it had; the next call starts another.
  const fail = (err: Error) => {
    if (worker === w) worker = undefined;
    for (const job of waiting.values()) job.reject(err);
    waiting.clear();
  };
  w.on('error', fail);
  w.on('exit', (code) => fail(new Error(`sha256 worker exited with code ${code}`)));
  return w;
}

/** Hex SHA-256 of `bytes`: on the worker thread when they live in shared memory, else right here. */
export function sha256Hex(bytes: Uint8Array): Promise<string> {
  if (!(bytes.buffer instanceof SharedArrayBuffer)) return Promise.resolve(crypto.createHash('sha256').update(bytes).digest('hex'));
  worker ??= startWorker();
  const w = worker;
  const id = nextId++;
  return new Promise<string>((resolve, reject) => {
    waiting.set(id, { resolve, reject });
    w.ref(); // a hash in flight keeps the process alive until it is answered
    w.postMessage({ id, memory: bytes.buffer, offset: bytes.byteOffset, length: bytes.byteLength });
  });
}

/** A Buffer on shared memory: what {@link sha256Hex} hashes on its thread without a copy. */
export function sharedBuffer(size: number): Buffer {
  return Buffer.from(new SharedArrayBuffer(size));
}
