import fs from 'node:fs';

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
