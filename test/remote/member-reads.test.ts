import fs from 'node:fs';
import path from 'node:path';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { loadHasher, type HasherFactory } from '../../src/hash/blake3.js';
import { hashBytes } from '../../src/hash/hash-file.js';
import type { PackEntry } from '../../src/formats/pack-index.js';
import { DirRemote } from '../../src/remote/dir-remote.js';
import { packKey } from '../../src/remote/layout.js';
import { addWant, packReader, readMembers, type RangeReader, type Want } from '../../src/remote/member-reads.js';
import { BATCH_OBJECT_MAX, PackWriter } from '../../src/remote/pack.js';
import type { ByteRange } from '../../src/remote/remote.js';
import { E, MlxError } from '../../src/util/errors.js';
import { prng, tempDir } from '../helpers/repo.js';

// Ranged reads of pack members: which reads are made (neighbours coalesced, far or huge ones apart),
// in which order, into which buffer, and what each member's `take` receives.

const MiB = 1 << 20;

let newHasher: HasherFactory;
beforeAll(async () => {
  newHasher = await loadHasher();
});

interface Packed {
  pack: Buffer;
  entries: PackEntry[];
  datas: Buffer[];
}

/** A pack of objects of `sizes` plus 1 KiB each: members of their own, in this order (smaller ones would be batched). */
function packOf(sizes: number[], seed: string): Packed {
  const writer = new PackWriter(newHasher);
  const datas = sizes.map((n, i) => prng(n + BATCH_OBJECT_MAX, `${seed}${i}`));
  for (const d of datas) writer.add(hashBytes(newHasher, d), 'b', d);
  const { pack, index } = writer.finish();
  // Entries in the order the objects were added.
  const entries = datas.map((d) => index.entries.find((e) => e.o === hashBytes(newHasher, d))!);
  return { pack, entries, datas };
}

/** A reader over in-memory packs that records every read it is asked for. */
function recordingReader(packs: Record<string, Buffer>) {
  const reads: Array<{ source: string; start: number; end: number; into: Buffer }> = [];
  const read: RangeReader = async (source, range, into) => {
    reads.push({ source, ...range, into });
    const bytes = packs[source]!.subarray(range.start, range.end);
    if (into.length >= bytes.length) {
      bytes.copy(into);
      return into.subarray(0, bytes.length);
    }
    return Buffer.from(bytes);
  };
  return { read, reads };
}

/** Wants that copy what they are given (the bytes are valid only during `take`). */
function collect(entries: PackEntry[], extra: Partial<Want>[] = []) {
  const got = new Map<string, Buffer>();
  const wants: Want[] = entries.map((entry, i) => ({ entry, take: (b) => void got.set(entry.o, Buffer.from(b)), ...extra[i] }));
  return { got, wants };
}

describe('readMembers', () => {
  it('reads neighbours with one ranged read and hands every member its own bytes', async () => {
    const p = packOf([1000, 0, 70_000, 5, 3000], 'n');
    const { read, reads } = recordingReader({ a: p.pack });
    const { got, wants } = collect(p.entries);
    const groups = new Map<string, Want[]>();
    // Asked for out of order: they are read in pack order all the same.
    for (const w of [...wants].reverse()) addWant(groups, 'a', w);
    await readMembers(read, groups, 2);
    expect(reads.map(({ source, start, end }) => ({ source, start, end }))).toEqual([
      { source: 'a', start: p.entries[0]!.off, end: p.entries[4]!.off + p.entries[4]!.len },
    ]);
    p.entries.forEach((e, i) => expect(got.get(e.o)!.equals(p.datas[i]!)).toBe(true));
  });

  it('reads members more than 1 MiB apart, and any read that would pass 16 MiB, separately', async () => {
    // 0 and 2 are separated by member 1 (1.5 MiB, not wanted); 3 and 4 together would pass 16 MiB.
    const p = packOf([100, 1.5 * MiB, 200, 10 * MiB, 7 * MiB], 'gap');
    const { read, reads } = recordingReader({ a: p.pack });
    const { got, wants } = collect(p.entries);
    const groups = new Map<string, Want[]>();
    for (const i of [0, 2, 3, 4]) addWant(groups, 'a', wants[i]!);
    await readMembers(read, groups, 1);
    const span = (i: number) => ({ start: p.entries[i]!.off, end: p.entries[i]!.off + p.entries[i]!.len });
    expect(reads.map(({ start, end }) => ({ start, end }))).toEqual([span(0), { start: span(2).start, end: span(3).end }, span(4)]);
    for (const i of [0, 2, 3, 4]) expect(got.get(p.entries[i]!.o)!.equals(p.datas[i]!)).toBe(true);
    expect(got.has(p.entries[1]!.o)).toBe(false);
  });

  it('reads the ranges of a file\'s chunks in file order, across packs', async () => {
    const a = packOf([300, 2 * MiB, 400], 'fa');
    const b = packOf([500], 'fb');
    const { read, reads } = recordingReader({ a: a.pack, b: b.pack });
    const groups = new Map<string, Want[]>();
    // The file is: a[2] at 0, b[0] at 400, a[0] at 900.
    addWant(groups, 'a', { entry: a.entries[0]!, fileOffset: 900, take: () => undefined });
    addWant(groups, 'a', { entry: a.entries[2]!, fileOffset: 0, take: () => undefined });
    addWant(groups, 'b', { entry: b.entries[0]!, fileOffset: 400, take: () => undefined });
    await readMembers(read, groups, 1);
    expect(reads.map((r) => [r.source, r.start])).toEqual([['a', a.entries[2]!.off], ['b', b.entries[0]!.off], ['a', a.entries[0]!.off]]);
  });

  it('reuses one buffer per worker, sized for the longest read, and waits for writes before reusing it', async () => {
    const p = packOf([4000, 4000, 4000], 'buf');
    const far = packOf([6000], 'far');
    const { read, reads } = recordingReader({ a: p.pack, b: far.pack });
    const groups = new Map<string, Want[]>();
    const seen: string[] = [];
    let release!: () => void;
    const slowWrite = new Promise<void>((r) => (release = r));
    addWant(groups, 'a', {
      entry: p.entries[0]!,
      take: (bytes) => {
        // The bytes must still be intact once the write finishes, though the next read is due.
        const copy = Buffer.from(bytes);
        return (async () => {
          setImmediate(release);
          await slowWrite;
          seen.push(bytes.equals(copy) ? 'intact' : 'clobbered');
        })();
      },
    });
    addWant(groups, 'b', { entry: far.entries[0]!, take: () => void seen.push('b') });
    await readMembers(read, groups, 1);
    expect(seen).toEqual(['intact', 'b']);
    expect(reads[0]!.into).toBe(reads[1]!.into);
    expect(reads[0]!.into.length).toBe(Math.max(p.entries[0]!.len, far.entries[0]!.len));
  });

  it('hands an undecodable member to its refuse, and fails the read without one', async () => {
    const p = packOf([2000, 3000], 'bad');
    const damaged = Buffer.from(p.pack);
    // A raw member with a wrong length recorded cannot be extracted.
    const lying: PackEntry = { ...p.entries[0]!, raw: p.entries[0]!.raw + 1 };
    const { read } = recordingReader({ a: damaged });
    const refused: MlxError[] = [];
    const { got, wants } = collect([lying, p.entries[1]!], [{ refuse: (e) => void refused.push(e) }]);
    const groups = new Map<string, Want[]>();
    for (const w of wants) addWant(groups, 'a', w);
    await readMembers(read, groups, 1);
    expect(refused.map((e) => e.code)).toEqual([E.OBJECT_CORRUPT]);
    expect([...got.keys()]).toEqual([p.entries[1]!.o]);

    const strict = new Map<string, Want[]>();
    addWant(strict, 'a', { entry: lying, take: () => undefined });
    const failures: unknown[] = [];
    await expect(readMembers(read, strict, 1, (err) => failures.push(err))).rejects.toMatchObject({ code: E.OBJECT_CORRUPT });
    expect(failures).toHaveLength(1);
  });

  it('fails with the first failed read or write, and tells onFailure', async () => {
    const p = packOf([100, 100], 'fail');
    const groups = new Map<string, Want[]>();
    addWant(groups, 'a', { entry: p.entries[0]!, take: () => Promise.reject(new MlxError(E.BAD_STATE, 'disk full')) });
    const failures: unknown[] = [];
    await expect(readMembers(recordingReader({ a: p.pack }).read, groups, 1, (err) => failures.push(err))).rejects.toThrow('disk full');
    expect(failures).toHaveLength(1);
    const broken: RangeReader = async () => {
      throw new MlxError(E.REMOTE_UNREACHABLE, 'gone');
    };
    await expect(readMembers(broken, groups, 1)).rejects.toMatchObject({ code: E.REMOTE_UNREACHABLE });
  });
});

describe('packReader', () => {
  let root: string;
  beforeEach(() => {
    root = tempDir('mlx-member-reads-');
  });
  afterEach(() => fs.rmSync(root, { recursive: true, force: true }));

  it('reads ranges of a remote pack by its hex and counts the bytes received', async () => {
    const p = packOf([1000, 2000], 'remote');
    const remote = new DirRemote(root);
    const hex = 'ab'.repeat(32);
    await remote.put(packKey(`b3:${hex}`), p.pack);
    const received = { bytesReceived: 0 };
    const read = packReader(remote, received);
    const range: ByteRange = { start: p.entries[1]!.off, end: p.entries[1]!.off + p.entries[1]!.len };
    const bytes = await read(hex, range, Buffer.alloc(4096));
    expect(bytes.equals(p.pack.subarray(range.start, range.end))).toBe(true);
    expect(received.bytesReceived).toBe(range.end - range.start);
    const groups = new Map<string, Want[]>();
    const got: Buffer[] = [];
    for (const e of p.entries) addWant(groups, hex, { entry: e, take: (b) => void got.push(Buffer.from(b)) });
    await readMembers(read, groups, 2);
    expect(got.map((b) => b.length)).toEqual([1000 + BATCH_OBJECT_MAX, 2000 + BATCH_OBJECT_MAX]);
    expect(fs.existsSync(path.join(root, packKey(`b3:${hex}`)))).toBe(true);
  });
});
