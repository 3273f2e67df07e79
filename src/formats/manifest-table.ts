import type { Oid } from '../hash/oid.js';
import { compareByteRanges } from '../util/bytes.js';
import type { ManifestEntry } from './manifest.js';

const FILE = 0;
const OTHER = 1;

const QUOTE = 0x22;
const BACKSLASH = 0x5c;

const ENTRY = Buffer.from('{"p":"');
const OID = Buffer.from('","o":"');
const SIZE = Buffer.from('","s":');
const EXEC = Buffer.from(',"x":true}');
const NOT_EXEC = Buffer.from(',"x":false}');
const LINK = Buffer.from('","t":"l","l":"');
const LINK_END = Buffer.from('"}');
const DIR = Buffer.from('","t":"d"}');
const END = Buffer.from(']}');

/** Where `marker` ends if it stands at `at` in `bytes`, else -1 (also for `at` -1). */
function skip(bytes: Buffer, at: number, marker: Uint8Array): number {
  if (at < 0) return -1;
  for (let k = 0; k < marker.length; k++) if (bytes[at + k] !== marker[k]) return -1;
  return at + marker.length;
}

/** The closing quote of the JSON string whose content starts at `at`; -1 if it never closes, or holds an escape when `plain`. */
function stringEnd(bytes: Buffer, at: number, plain: boolean): number {
  for (; at < bytes.length; at++) {
    const c = bytes[at];
    if (c === QUOTE) return at;
    if (c === BACKSLASH) {
      if (plain) return -1;
      at++;
    }
  }
  return -1;
}

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
    if (bytes[at] === 0x5d) return bytes.length === at + 2 && bytes[at + 1] === 0x7d ? new ManifestTable(bytes, spans, kinds, sizes, execs, 0) : undefined;
    // Positions are passed to the helpers and back (-1: not the layout), not kept in a closure: a
    // variable closures share is read through their context on every byte.
    for (;;) {
      if (n === room) grow();
      const s = n * 6;
      spans[s] = at;
      at = skip(bytes, at, ENTRY);
      if (at < 0) return undefined;
      spans[s + 2] = at;
      at = stringEnd(bytes, at, true);
      if (at < 0) return undefined;
      spans[s + 3] = at;
      const oid = skip(bytes, at, OID);
      if (oid >= 0) {
        spans[s + 4] = oid;
        at = stringEnd(bytes, oid, true);
        if (at < 0) return undefined;
        spans[s + 5] = at;
        at = skip(bytes, at, SIZE);
        if (at < 0) return undefined;
        let size = 0;
        const digits = at;
        while (bytes[at]! >= 0x30 && bytes[at]! <= 0x39) size = size * 10 + (bytes[at++]! - 0x30);
        if (at === digits) return undefined;
        sizes[n] = size;
        const exec = skip(bytes, at, EXEC);
        at = exec >= 0 ? exec : skip(bytes, at, NOT_EXEC);
        if (at < 0) return undefined;
        execs[n] = exec >= 0 ? 1 : 0;
        kinds[n] = FILE;
      } else {
        const link = skip(bytes, at, LINK);
        at = link >= 0 ? skip(bytes, stringEnd(bytes, link, false), LINK_END) : skip(bytes, at, DIR);
        if (at < 0) return undefined;
        kinds[n] = OTHER;
      }
      spans[s + 1] = at;
      n++;
      if (bytes[at] === 0x2c) {
        at++;
        continue;
      }
      if (skip(bytes, at, END) !== bytes.length) return undefined;
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
