import { Worker } from 'node:worker_threads';
import type { HasherFactory } from './blake3.js';
import { oidFromHex, type Oid } from './oid.js';

/*
 * The BLAKE3 oid of bytes that live in shared memory, hashed on a worker thread in place (no copy),
 * so the thread that asked can go on with other work meanwhile. A push names each pack by the hash of
 * its bytes: hashed on the main thread, that was a third of the main thread's work on a large file
 * (the chunks and the whole file are hashed there too), while the second core waited on the chunker.
 * Bytes not all in shared memory, or a hasher without the native backend, are hashed where they are.
 * The worker is started on first use and keeps the process alive only while it has work.
 */

const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const { Blake3Hasher } = require(workerData.native);
parentPort.on('message', ({ id, pieces }) => {
  try {
    const h = new Blake3Hasher();
    for (const [memory, offset, length] of pieces) h.update(Buffer.from(memory, offset, length));
    parentPort.postMessage({ id, hex: h.digest('hex') });
  } catch (err) {
    parentPort.postMessage({ id, error: String((err && err.message) || err) });
  }
});
`;

interface Reply {
  id: number;
  hex?: string;
  error?: string;
}

interface HashWorker {
  worker: Worker;
  native: string;
}

let current: HashWorker | undefined;
let nextId = 0;
const waiting = new Map<number, { resolve: (oid: Oid) => void; reject: (err: Error) => void }>();

function startWorker(native: string): HashWorker {
  const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { native } });
  worker.unref();
  const started: HashWorker = { worker, native };
  worker.on('message', ({ id, hex, error }: Reply) => {
    const job = waiting.get(id);
    waiting.delete(id);
    if (waiting.size === 0) worker.unref();
    if (hex !== undefined) job?.resolve(oidFromHex(hex));
    else job?.reject(new Error(`internal: BLAKE3 worker: ${error}`));
  });
  // A worker that dies fails what it had; the next call starts another.
  const fail = (err: Error) => {
    if (current === started) current = undefined;
    for (const job of waiting.values()) job.reject(err);
    waiting.clear();
  };
  worker.on('error', fail);
  worker.on('exit', (code) => fail(new Error(`internal: BLAKE3 worker exited with code ${code}`)));
  return started;
}

/**
 * The oid of `pieces` back to back: on the worker thread when every piece lives in shared memory and
 * the native backend is loaded, else right here. The caller keeps the pieces unchanged until the
 * promise settles.
 */
export function oidOfPieces(newHasher: HasherFactory, pieces: readonly Uint8Array[]): Promise<Oid> {
  const native = newHasher.nativeModule;
  if (native === undefined || !pieces.every((p) => p.buffer instanceof SharedArrayBuffer)) {
    const h = newHasher();
    for (const p of pieces) h.update(p);
    return Promise.resolve(oidFromHex(h.digestHex()));
  }
  if (current?.native !== native) current = startWorker(native);
  const { worker } = current;
  const id = nextId++;
  return new Promise<Oid>((resolve, reject) => {
    waiting.set(id, { resolve, reject });
    worker.ref(); // a hash in flight keeps the process alive until it is answered
    worker.postMessage({ id, pieces: pieces.map((p) => [p.buffer, p.byteOffset, p.byteLength]) });
  });
}
