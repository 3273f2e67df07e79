import { MessageChannel, receiveMessageOnPort, Worker, type MessagePort } from 'node:worker_threads';
import { oidFromHex, type Oid } from '../hash/oid.js';
import type { ReadAheadItem } from './small-object-reader.js';

/*
 * Small objects read and hashed on a second thread, ahead of a push that packs them. Reading a small
 * object (open, read, close) and hashing it cost about what packing it does; on this thread the two
 * halves overlap, so both cores work. Objects go over in batches: one message and one transferred
 * buffer per batch, which the push takes back for a later batch.
 */

const WORKER_SOURCE = `
const { workerData } = require('node:worker_threads');
const fs = require('node:fs');
const { blake3 } = require(workerData.native);
const { port, done } = workerData;
port.on('message', ({ buf, items }) => {
  const view = Buffer.from(buf);
  const out = [];
  let at = 0;
  for (const [file, size] of items) {
    if (size < 0) {
      out.push(null); // an item the push reads itself
      continue;
    }
    // One read of one byte more than the recorded size: a file of another size is not handed over.
    let got = -1;
    try {
      const fd = fs.openSync(file, 'r');
      try {
        got = fs.readSync(fd, view, at, size + 1, 0);
      } finally {
        fs.closeSync(fd);
      }
    } catch {
      // the push reads it again itself and reports what is wrong
    }
    if (got !== size) {
      out.push(null);
      continue;
    }
    out.push([at, blake3(view.subarray(at, at + size)).toString('hex')]);
    at += size;
  }
  port.postMessage({ buf, out }, [buf]);
  Atomics.add(done, 0, 1);
  Atomics.notify(done, 0);
});
`;

/** Bytes of one batch (objects up to this size are read on the thread). */
const BATCH_BYTES = 1 << 20;
/** Objects in one batch, at most. */
const BATCH_ITEMS = 512;
/** Batches handed over and not yet taken, at most. */
const IN_FLIGHT = 3;

/** One small object, read and hashed on the thread: a view valid until the next `take`. */
export interface HashedBytes {
  bytes: Buffer;
  oid: Oid;
}

interface Batch {
  first: number;
  count: number;
}

interface Reply {
  buf: ArrayBuffer;
  out: ([start: number, hex: string] | null)[];
}

/**
 * Reads items `from..count-1` in order on a second thread, each with a recorded size under `limit`, and
 * hashes them there with the native BLAKE3 binding. `take(i)` returns item i's bytes and oid, or
 * undefined (no recorded size, too large, unreadable, or of another size: the caller reads it itself).
 */
export class ThreadedReadAhead {
  private readonly worker: Worker;
  private readonly port: MessagePort;
  private readonly done = new Int32Array(new SharedArrayBuffer(4));
  private readonly batches: Batch[] = [];
  private next: number;
  private current: { batch: Batch; reply: Reply; view: Buffer } | undefined;
  private readonly spare: ArrayBuffer[] = [];

  /** @param from the first item to read (those before it the caller read itself) */
  constructor(private readonly count: number, private readonly itemAt: (i: number) => ReadAheadItem, private readonly limit: number, native: string, from = 0) {
    this.next = from;
    const { port1, port2 } = new MessageChannel();
    this.worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { port: port2, done: this.done, native }, transferList: [port2] });
    this.worker.unref();
    this.port = port1;
    while (this.batches.length < IN_FLIGHT && this.next < count) this.post();
  }

  /** Items are taken in ascending order, each once. */
  take(i: number): HashedBytes | undefined {
    while (!this.current || i >= this.current.batch.first + this.current.batch.count) {
      if (this.current) this.spare.push(this.current.reply.buf);
      this.current = undefined;
      if (this.batches.length === 0) return undefined;
      this.current = this.receive();
      this.post();
    }
    const { batch, reply, view } = this.current;
    if (i < batch.first) return undefined;
    const got = reply.out[i - batch.first];
    if (!got) return undefined;
    const size = this.itemAt(i).size!;
    return { bytes: view.subarray(got[0], got[0] + size), oid: oidFromHex(got[1]) };
  }

  /** Ends the thread. */
  close(): void {
    void this.worker.terminate();
  }

  /** Hands over the next batch of items (none when all are handed over). */
  private post(): void {
    if (this.next >= this.count) return;
    const first = this.next;
    const items: [string, number][] = [];
    let bytes = 0;
    for (; this.next < this.count && items.length < BATCH_ITEMS; this.next++) {
      const { file, size } = this.itemAt(this.next);
      const small = size !== undefined && size < this.limit && size < BATCH_BYTES;
      if (small && bytes + size + 1 > BATCH_BYTES) break;
      // A large or unsized item holds a place that comes back empty.
      items.push(small ? [file, size] : ['', -2]);
      if (small) bytes += size;
    }
    const buf = this.spare.pop() ?? new ArrayBuffer(BATCH_BYTES + 1);
    this.port.postMessage({ buf, items }, [buf]);
    this.batches.push({ first, count: items.length });
  }

  /** Waits for the oldest batch handed over; a thread that died is noticed within 200 ms. */
  private receive(): { batch: Batch; reply: Reply; view: Buffer } {
    const batch = this.batches.shift()!;
    for (;;) {
      // Counted before looking: a batch finished after the look changes the count, so the wait returns.
      const done = Atomics.load(this.done, 0);
      const m = receiveMessageOnPort(this.port);
      if (m) {
        const reply = m.message as Reply;
        return { batch, reply, view: Buffer.from(reply.buf) };
      }
      if (Atomics.wait(this.done, 0, done, 200) === 'timed-out' && this.worker.threadId === -1) {
        throw new Error('internal: the thread reading small objects stopped');
      }
    }
  }
}
