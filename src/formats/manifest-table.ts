import type { Oid } from '../hash/oid.js';
import { compareByteRanges } from '../util/bytes.js';
import type { ManifestEntry } from './manifest.js';

const FILE = 0;
const OTHER = 1;

const QUOTE = 0x22;
const BACKSLASH = 0x5c;

function grown<T extends Uint32Array | Uint8Array | Float64Array>(from: T, to: T): T {
  to.set(from);
  return to;
}

/**
 * A manifest in its canonical bytes (what serializeManifest writes), read in place: where each entry,
 * its path and its oid lie, with its size and executable bit, in a few typed arrays. Comparing a
 * 100,000-entry manifest with the work tree this way makes no object per entry; JSON.parse would make
 * three, which then cost more in garbage collection than the parse itself. Entries are made one at a
 * time, only for what differs. Only for manifests known to have passed the manifest checks: the table
 * checks the canonical layout, not the rules on paths.
 */
export class ManifestTable {
  private constructor(
    private readonly bytes: Buffer,
    /** Per entry: start and end of the entry's JSON object, of its path, of its oid (files). */
    private readonly spans: Uint32Array,
    private readonly kinds: Uint8Array,
    private readonly sizes: Float64Array,
    private readonly execs: Uint8Array,
    readonly count: number,
  ) {}

  /**
   * The table of `bytes`, or undefined when they are not in the canonical layout this reader knows, or
   * a path holds an escape (then its bytes are not the path's): the caller parses the JSON instead.
   */
  static scan(bytes: Buffer): ManifestTable | undefined {
    const head = '{"v":1,"entries":[';
    if (bytes.toString('latin1', 0, head.length) !== head) return undefined;
    // A file entry takes about 100 bytes: room for that many, grown if they are shorter.
    let room = Math.ceil(bytes.length / 96) + 16;
    let spans = new Uint32Array(room * 6);
    let kinds = new Uint8Array(room);
    let sizes = new Float64Array(room);
    let execs = new Uint8Array(room);
    const grow = () => {
      room *= 2;
      spans = grown(spans, new Uint32Array(room * 6));
      kinds = grown(kinds, new Uint8Array(room));
      sizes = grown(sizes, new Float64Array(room));
      execs = grown(execs, new Uint8Array(room));
    };
    let n = 0;
    let at = head.length;
    const expect = (text: string): boolean => {
      for (let k = 0; k < text.length; k++) if (bytes[at + k] !== text.charCodeAt(k)) return false;
      at += text.length;
      return true;
    };
    /** Moves past a JSON string's content to its closing quote; false if it holds an escape (when `plain`) or never closes. */
    const stringEnd = (plain: boolean): boolean => {
      for (; at < bytes.length; at++) {
        const c = bytes[at];
        if (c === QUOTE) return true;
        if (c === BACKSLASH) {
          if (plain) return false;
          at++;
        }
      }
      return false;
    };
    if (bytes[at] === 0x5d) return bytes.length === at + 2 && bytes[at + 1] === 0x7d ? new ManifestTable(bytes, spans, kinds, sizes, execs, 0) : undefined;
    for (;;) {
      if (n === room) grow();
      const s = n * 6;
      spans[s] = at;
      if (!expect('{"p":"')) return undefined;
      spans[s + 2] = at;
      if (!stringEnd(true)) return undefined;
      spans[s + 3] = at;
      if (expect('","o":"')) {
        spans[s + 4] = at;
        if (!stringEnd(true)) return undefined;
        spans[s + 5] = at;
        if (!expect('","s":')) return undefined;
        let size = 0;
        const digits = at;
        while (bytes[at]! >= 0x30 && bytes[at]! <= 0x39) size = size * 10 + (bytes[at++]! - 0x30);
        if (at === digits) return undefined;
        sizes[n] = size;
        if (expect(',"x":true}')) execs[n] = 1;
        else if (!expect(',"x":false}')) return undefined;
        kinds[n] = FILE;
      } else if (expect('","t":"l","l":"')) {
        if (!stringEnd(false) || !expect('"}')) return undefined;
        kinds[n] = OTHER;
      } else if (expect('","t":"d"}')) {
        kinds[n] = OTHER;
      } else return undefined;
      spans[s + 1] = at;
      n++;
      if (bytes[at] === 0x2c) {
        at++;
        continue;
      }
      if (!expect(']}') || at !== bytes.length) return undefined;
      return new ManifestTable(bytes, spans, kinds, sizes, execs, n);
    }
  }

  isFile(m: number): boolean {
    return this.kinds[m] === FILE;
  }

  /** Entry `m`'s path against bytes `start`..`end` of `other` (UTF-8 byte order, as manifests sort). */
  comparePath(m: number, other: Uint8Array, start: number, end: number): number {
    const s = m * 6;
    return compareByteRanges(this.bytes, this.spans[s + 2]!, this.spans[s + 3]!, other, start, end);
  }

  /** The bytes the table reads: entry m's oid is bytes oidStart(m) to oidEnd(m). */
  get source(): Buffer {
    return this.bytes;
  }

  oidStart(m: number): number {
    return this.spans[m * 6 + 4]!;
  }

  oidEnd(m: number): number {
    return this.spans[m * 6 + 5]!;
  }

  oidAt(m: number): Oid {
    const s = m * 6;
    return this.bytes.toString('latin1', this.spans[s + 4]!, this.spans[s + 5]!);
  }

  sizeAt(m: number): number {
    return this.sizes[m]!;
  }

  isExecutable(m: number): boolean {
    return this.execs[m] === 1;
  }

  /** Entry `m` as the object parseManifest gives. */
  entryAt(m: number): ManifestEntry {
    const s = m * 6;
    return JSON.parse(this.bytes.toString('utf8', this.spans[s]!, this.spans[s + 1]!)) as ManifestEntry;
  }

  /** Every file entry's oid. */
  *oids(): Iterable<Oid> {
    for (let m = 0; m < this.count; m++) if (this.isFile(m)) yield this.oidAt(m);
  }
}
