import fs from 'node:fs';
import { performance } from 'node:perf_hooks';

/**
 * Reads whole small files into one reused buffer: no allocation and no separate stat per object,
 * which for tens of thousands of small objects costs more than reading them.
 */
export class SmallObjectReader {
  private buf: Buffer;

  /** @param limit files of at least this many bytes are not read (`read` returns undefined) */
  constructor(private readonly limit: number) {
    this.buf = Buffer.allocUnsafe(Math.min(limit, 64 * 1024) + 1);
  }

  /**
   * The file's bytes (a view, valid until the next call), or undefined when it has `limit` bytes or
   * more. With `expectedSize`, only that many bytes are asked for: one read call instead of two.
   */
  read(file: string, expectedSize?: number): Buffer | undefined {
    if (expectedSize !== undefined && expectedSize >= this.limit) return undefined;
    const fd = fs.openSync(file, 'r');
    try {
      if (expectedSize !== undefined) {
        if (this.buf.length < expectedSize) this.buf = Buffer.allocUnsafe(Math.min(Math.max(expectedSize, 2 * this.buf.length), this.limit + 1));
        let n = 0;
        for (let got = -1; n < expectedSize && got !== 0; n += got) got = fs.readSync(fd, this.buf, n, expectedSize - n, n);
        return this.buf.subarray(0, n); // a short file hashes wrong, and is reported as corrupt
      }
      let n = 0;
      for (;;) {
        if (n === this.buf.length) {
          if (n > this.limit) return undefined;
          // Bigger than the buffer: ask for the size once, and grow to it (or give up past the limit).
          const size = fs.fstatSync(fd).size;
          if (size >= this.limit) return undefined;
          const bigger = Buffer.allocUnsafe(Math.min(Math.max(size + 1, 2 * this.buf.length), this.limit + 1));
          this.buf.copy(bigger, 0, 0, n);
          this.buf = bigger;
        }
        const got = fs.readSync(fd, this.buf, n, this.buf.length - n, n);
        if (got === 0) return this.buf.subarray(0, n);
        n += got;
      }
    } finally {
      fs.closeSync(fd);
    }
  }
}

/** One file a {@link ReadAhead} may read: its recorded size, when known. */
export interface ReadAheadItem {
  file: string;
  size: number | undefined;
}

export interface ReadAheadOptions {
  /** Files of this size or more are not read ahead (the caller reads them its own way). */
  limit: number;
  /** Reads in flight or read and not yet taken, at most (default 64). */
  depth?: number;
  /** Bytes read ahead and not yet taken, at most (default 16 MiB). */
  maxBytes?: number;
}

/**
 * Reads small files ahead of the caller, several at once on the libuv pool, so the latency of one
 * file's open and read (a disk seek when it is not in the page cache) overlaps the others' and the
 * caller's packing. Only files with a recorded size under the limit are read ahead, exactly that
 * many bytes; the caller checks what it gets (it hashes it) and reads anything else itself, so a
 * wrong size or a failed read here only costs that second read. Memory is bounded by `maxBytes`.
 */
export class ReadAhead {
  private readonly pending = new Map<number, Promise<Buffer | undefined>>();
  private readonly sizes = new Map<number, number>();
  private next = 0;
  private bytes = 0;
  private readonly depth: number;
  private readonly maxBytes: number;

  /**
   * @param count how many items there are
   * @param itemAt item `i` (asked for once, shortly before it is needed: no list of every path is held)
   */
  constructor(private readonly count: number, private readonly itemAt: (i: number) => ReadAheadItem, private readonly opts: ReadAheadOptions) {
    this.depth = opts.depth ?? 64;
    this.maxBytes = opts.maxBytes ?? 16 * 1024 * 1024;
  }

  /** The bytes of item `i` when it was read ahead, else undefined. Items are taken in ascending order. */
  async take(i: number): Promise<Buffer | undefined> {
    this.schedule(i);
    const read = this.pending.get(i);
    if (read === undefined) return undefined;
    const bytes = await read;
    this.pending.delete(i);
    this.bytes -= this.sizes.get(i)!;
    this.sizes.delete(i);
    this.schedule(i + 1);
    return bytes;
  }

  /** Starts reads from item `from` on, while depth and bytes allow. */
  private schedule(from: number): void {
    if (this.next < from) this.next = from;
    while (this.next < this.count && this.pending.size < this.depth) {
      const { file, size } = this.itemAt(this.next);
      if (size !== undefined && size < this.opts.limit) {
        // Always let one read start, however large, so a file near the limit cannot stall the window.
        if (this.bytes + size > this.maxBytes && this.pending.size > 0) return;
        this.pending.set(this.next, readExactly(file, size));
        this.sizes.set(this.next, size);
        this.bytes += size;
      }
      this.next++;
    }
  }
}

/** The first `size` bytes of `file` (fewer when it is shorter), or undefined when it cannot be read. */
function readExactly(file: string, size: number): Promise<Buffer | undefined> {
  return new Promise((resolve) => {
    fs.open(file, 'r', (err, fd) => {
      // The caller reads the file again itself, and reports a failure with its own error.
      if (err) return resolve(undefined);
      const buf = Buffer.allocUnsafe(size);
      let got = 0;
      // Closing a file only read from never waits on the disk: done here, it spares a trip to the pool.
      const finish = (ok: boolean) => {
        fs.closeSync(fd);
        resolve(ok ? buf.subarray(0, got) : undefined);
      };
      const step = (): void => {
        if (got === size) return finish(true);
        fs.read(fd, buf, got, size - got, got, (readErr, n) => {
          if (readErr) return finish(false);
          if (n === 0) return finish(true);
          got += n;
          step();
        });
      };
      step();
    });
  });
}

export interface SmallObjectFeedOptions extends ReadAheadOptions {
  /** A read that takes longer than this (ms) waited on the disk rather than the page cache (default 1). */
  diskReadMs?: number;
  /** After this many such reads in a row, the rest is read ahead (default 4). */
  diskReadsToSwitch?: number;
  /** Milliseconds from some fixed point (default performance.now): tests script it to make reads slow. */
  clock?: () => number;
}

/**
 * The small objects a push packs, in order. They are read on this thread while they come from the
 * page cache (reads that cost microseconds; handing them to the libuv pool would cost several times
 * that). Once reads are seen waiting on the disk, the rest is read ahead (ReadAhead), so those
 * waits overlap each other and the packing. Whichever way, the caller hashes what it gets.
 * Only slow reads in a row count: on a busy machine a read from the page cache is now and then slow
 * because the thread lost its core, and one such read among fast ones says nothing about the disk.
 */
export class SmallObjectFeed {
  private ahead: ReadAhead | undefined;
  /** Reads in a row that took longer than `diskReadMs`. */
  private slowInARow = 0;
  private readonly reader: SmallObjectReader;

  constructor(private readonly count: number, private readonly itemAt: (i: number) => ReadAheadItem, private readonly opts: SmallObjectFeedOptions) {
    this.reader = new SmallObjectReader(opts.limit);
  }

  /** Whether reads go ahead of the caller now. */
  get readingAhead(): boolean {
    return this.ahead !== undefined;
  }

  /**
   * The bytes of item `i` when it has a recorded size under the limit, else undefined; items are taken
   * in ascending order. A view that may be reused by the next call: copy or pack it before that.
   */
  async take(i: number): Promise<Buffer | undefined> {
    if (this.ahead) return this.ahead.take(i);
    const { file, size } = this.itemAt(i);
    if (size === undefined || size >= this.opts.limit) return undefined;
    const clock = this.opts.clock ?? (() => performance.now());
    const started = clock();
    let bytes: Buffer | undefined;
    try {
      bytes = this.reader.read(file, size);
    } catch {
      return undefined; // the caller reads the object again its own way and reports what is wrong
    }
    if (clock() - started <= (this.opts.diskReadMs ?? 1)) this.slowInARow = 0;
    else if (++this.slowInARow >= (this.opts.diskReadsToSwitch ?? 4)) this.ahead = new ReadAhead(this.count, this.itemAt, this.opts);
    return bytes;
  }
}
