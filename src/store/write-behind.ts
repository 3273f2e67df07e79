import { MessageChannel, receiveMessageOnPort, Worker, type MessagePort } from 'node:worker_threads';

/*
 * Small objects written on a second thread. Storing a small file is two halves of about equal cost:
 * reading and hashing it, and creating, writing and renaming its object (the file system's inode and
 * folder updates). The store's API is synchronous, so the caller reads and hashes the next file while
 * this thread writes the last ones: both cores work. Objects go over in batches (one message and one
 * transferred buffer per batch, not per object), each written exactly as the store writes it itself:
 * a new temp file (`O_EXCL`, read-only) in the object's fan-out folder, renamed onto the object's name.
 */

const WORKER_SOURCE = `
const { workerData } = require('node:worker_threads');
const fs = require('node:fs');
const { port, done, mode } = workerData;
port.on('message', ({ buf, items }) => {
  let error;
  for (const [tmp, dest, start, end] of items) {
    try {
      fs.writeFileSync(tmp, new Uint8Array(buf, start, end - start), { flag: 'wx', mode });
      fs.renameSync(tmp, dest);
    } catch (err) {
      try { fs.rmSync(tmp, { force: true }); } catch {}
      error = { message: String((err && err.message) || err), code: err && err.code, syscall: err && err.syscall, path: err && err.path };
      break; // the caller throws it: nothing after a failure is written
    }
  }
  port.postMessage({ buf, error }, [buf]);
  Atomics.add(done, 0, 1);
  Atomics.notify(done, 0);
});
`;

/** Bytes of one batch: large enough that a message per batch costs nothing per object. */
const BATCH_BYTES = 1 << 20;
/** Objects in one batch, at most. */
const BATCH_ITEMS = 1024;
/** Batches handed over and not yet written, at most: bounds memory at a few MiB. */
const IN_FLIGHT = 4;

/** One object to write: temp path, object path, and where its bytes are in the batch buffer. */
type Item = [tmp: string, dest: string, start: number, end: number];

interface Reply {
  buf: ArrayBuffer;
  error?: { message: string; code?: string; syscall?: string; path?: string };
}

/** Writes handed over in batches to a second thread; `settle` waits for all of them. */
export class WriteBehind {
  private readonly worker: Worker;
  private readonly port: MessagePort;
  /** [0]: batches the thread has finished. */
  private readonly done = new Int32Array(new SharedArrayBuffer(4));
  private posted = 0;
  private buf = new ArrayBuffer(BATCH_BYTES);
  private used = 0;
  private items: Item[] = [];
  private readonly spare: ArrayBuffer[] = [];
  private failure: Error | undefined;

  constructor(mode: number) {
    const { port1, port2 } = new MessageChannel();
    this.worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { port: port2, done: this.done, mode }, transferList: [port2] });
    this.worker.unref(); // it only works on what the main thread hands over, which settles before it relies on it
    this.port = port1;
  }

  /** Whether `bytes` are small enough to be handed over (larger ones the caller writes itself). */
  static takes(bytes: Uint8Array): boolean {
    return bytes.length <= BATCH_BYTES;
  }

  /** Hands over one object: `bytes` are copied, so the caller may reuse its buffer at once. */
  write(tmp: string, dest: string, bytes: Uint8Array): void {
    if (this.used + bytes.length > BATCH_BYTES || this.items.length === BATCH_ITEMS) this.post();
    new Uint8Array(this.buf, this.used, bytes.length).set(bytes);
    this.items.push([tmp, dest, this.used, this.used + bytes.length]);
    this.used += bytes.length;
  }

  /** Waits until every object handed over is written; throws the first failure (an errno error as fs throws it). */
  settle(): void {
    this.post();
    this.waitUntilDone(this.posted);
    this.collectReplies();
    const failure = this.failure;
    this.failure = undefined;
    if (failure) throw failure;
  }

  /** Ends the thread (after `settle`). */
  close(): void {
    void this.worker.terminate();
  }

  private post(): void {
    if (this.items.length === 0) return;
    this.waitUntilDone(this.posted - IN_FLIGHT + 1);
    this.collectReplies();
    this.port.postMessage({ buf: this.buf, items: this.items }, [this.buf]);
    this.posted++;
    this.buf = this.spare.pop() ?? new ArrayBuffer(BATCH_BYTES);
    this.used = 0;
    this.items = [];
  }

  /** Blocks until the thread has finished `batches` batches; a thread that died is noticed within 200 ms. */
  private waitUntilDone(batches: number): void {
    for (let done = Atomics.load(this.done, 0); done < batches; done = Atomics.load(this.done, 0)) {
      if (Atomics.wait(this.done, 0, done, 200) === 'timed-out' && this.worker.threadId === -1) {
        throw new Error('internal: the thread writing small objects stopped');
      }
    }
  }

  /** Takes back the buffers of finished batches, and the first failure. */
  private collectReplies(): void {
    for (let m = receiveMessageOnPort(this.port); m !== undefined; m = receiveMessageOnPort(this.port)) {
      const reply = m.message as Reply;
      this.spare.push(reply.buf);
      if (reply.error && !this.failure) this.failure = Object.assign(new Error(reply.error.message), { code: reply.error.code, syscall: reply.error.syscall, path: reply.error.path });
    }
  }
}
