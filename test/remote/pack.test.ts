import { Readable } from 'node:stream';
import tar from 'tar-stream';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadHasher, type HasherFactory } from '../../src/hash/blake3.js';
import { hashBytes } from '../../src/hash/hash-file.js';
import { oidHex } from '../../src/hash/oid.js';
import { findPackEntry, parsePackIndex, serializePackIndex, type PackEntry } from '../../src/formats/pack-index.js';
import { parseRecipe, serializeRecipe } from '../../src/formats/recipe.js';
import { extractMember, PackWriter, readMember, verifyMember, verifyPack } from '../../src/remote/pack.js';
import { alignedSharedBuffer } from '../../src/util/aligned-memory.js';
import { E } from '../../src/util/errors.js';
import { prng } from '../helpers/repo.js';

let newHasher: HasherFactory;
beforeAll(async () => {
  newHasher = await loadHasher();
});

/** CSV-like rows: compresses about 3:1 with zstd, like real tabular data. */
function csv(rows: number, seed = 1): Buffer {
  let x = seed;
  const rnd = () => (x = (Math.imul(x, 1103515245) + 12345) >>> 0) / 2 ** 32;
  const lines = ['id,label,feature_a,feature_b,split'];
  for (let i = 0; i < rows; i++) {
    lines.push(`${i},${rnd() < 0.5 ? 'cat' : 'dog'},${rnd().toFixed(6)},${(rnd() * 1000).toFixed(2)},${rnd() < 0.8 ? 'train' : 'test'}`);
  }
  return Buffer.from(`${lines.join('\n')}\n`);
}

interface Obj { oid: string; bytes: Buffer }

/** A mix of tiny, compressible and incompressible objects, sizes crossing block boundaries. */
function sampleObjects(n: number): Obj[] {
  const out: Obj[] = [];
  for (let i = 0; i < n; i++) {
    const kind = i % 3;
    const size = [0, 1, 511, 512, 513, 4096, 10_000][i % 7]! + i;
    const bytes = kind === 0 ? prng(size, `obj${i}`) : kind === 1 ? csv(1 + (size >> 5), i + 1) : Buffer.from(`object ${i} `.repeat(1 + (size >> 4)));
    out.push({ oid: hashBytes(newHasher, bytes), bytes });
  }
  return out;
}

async function tarMembers(pack: Buffer): Promise<Array<{ name: string; size: number; data: Buffer }>> {
  const extract = tar.extract();
  const members: Array<{ name: string; size: number; data: Buffer }> = [];
  const done = (async () => {
    for await (const entry of extract) {
      const parts: Buffer[] = [];
      for await (const part of entry) parts.push(part as Buffer);
      members.push({ name: entry.header.name, size: entry.header.size ?? -1, data: Buffer.concat(parts) });
    }
  })();
  Readable.from([pack]).pipe(extract);
  await done;
  return members;
}

function packOf(objs: Obj[], opts = {}): { pack: Buffer; entries: PackEntry[]; writer: PackWriter; indexText: string } {
  const writer = new PackWriter(newHasher, opts);
  for (const o of objs) writer.add(o.oid, 'b', o.bytes);
  const sizeBefore = writer.size;
  const { pack, index } = writer.finish();
  // Exact but for a batch of small objects not yet written, counted at its uncompressed size.
  expect(pack.length).toBeLessThanOrEqual(sizeBefore);
  return { pack, entries: index.entries, writer, indexText: serializePackIndex(index) };
}

describe('PackWriter and readers', () => {
  it('gives the same pack and index whether its id is hashed member by member, at the end, or on another thread', async () => {
    const objs = sampleObjects(30).concat([prng(300_000, 'raw-member')].map((bytes) => ({ oid: hashBytes(newHasher, bytes), bytes })));
    const build = (opts: { hashAtFinish?: boolean; buffer?: Buffer }) => {
      const writer = new PackWriter(newHasher, opts);
      for (const o of objs) writer.add(o.oid, 'b', o.bytes);
      return writer;
    };
    const { pack, index } = build({}).finish();
    const atFinish = build({ hashAtFinish: true }).finish();
    expect(atFinish.pack.equals(pack)).toBe(true);
    expect(atFinish.index).toEqual(index);
    // In shared memory the id is hashed on the BLAKE3 thread; the pieces are the pack.
    const apart = build({ hashAtFinish: true, buffer: alignedSharedBuffer(1 << 20) }).finishPiecesHashedApart();
    expect(apart.objects).toBe(index.entries.length);
    expect(Buffer.concat(apart.pieces).equals(pack)).toBe(true);
    expect(await apart.index).toEqual(index);
    expect(index.pack).toBe(hashBytes(newHasher, pack));
    // Without hashAtFinish the id hashed member by member is handed over as it is.
    expect(await build({}).finishPiecesHashedApart().index).toEqual(index);
  });

  it('sends members added by reference as the caller\'s own bytes, in a pack equal to the copied one', () => {
    // Raw (incompressible) and compressible members above the batch size, small batched ones, a
    // recipe; a starting buffer far too small, so it grows while pieces are sealed.
    const objs = [...sampleObjects(40), ...[100_000, 70_001, 4096].map((n, i) => prng(n, `by-ref-${i}`))].map((o) =>
      Buffer.isBuffer(o) ? { oid: hashBytes(newHasher, o), bytes: o } : o,
    );
    const build = (byReference: boolean) => {
      const writer = new PackWriter(newHasher, { buffer: Buffer.allocUnsafe(1024) });
      for (const o of objs) writer.add(o.oid, 'b', o.bytes, { byReference });
      writer.add(objs[0]!.oid.replace(/.$/, (c) => (c === '0' ? '1' : '0')), 'r', Buffer.from('{"v":1}'), { byReference });
      return writer.finishPieces();
    };
    const copied = build(false);
    const referenced = build(true);
    expect(copied.pieces).toHaveLength(1);
    const whole = Buffer.concat(referenced.pieces);
    expect(whole.equals(copied.pieces[0]!)).toBe(true);
    expect(referenced.index).toEqual(copied.index);
    expect(referenced.index.pack).toBe(hashBytes(newHasher, whole));
    expect(referenced.index.size).toBe(whole.length);
    // Every raw member of 1 KiB or more is one of the caller's own buffers; a compressed one is not.
    const raw = objs.filter((o) => {
      const e = referenced.index.entries.find((x) => x.o === o.oid)!;
      return e.c === 'none' && e.at === undefined && o.bytes.length >= 1024;
    });
    expect(raw.length).toBeGreaterThan(3);
    // Pieces: a range of the writer's buffer before each such member, the member, and the rest.
    expect(referenced.pieces).toHaveLength(2 * raw.length + 1);
    for (const o of raw) {
      const same = (p: Buffer) => p.buffer === o.bytes.buffer && p.byteOffset === o.bytes.byteOffset && p.length === o.bytes.length;
      expect(referenced.pieces.some(same)).toBe(true);
    }
    const writer = new PackWriter(newHasher);
    for (const o of objs) writer.add(o.oid, 'b', o.bytes, { byReference: true });
    expect(writer.finish().pack.equals(packOf(objs).pack)).toBe(true);
  });

  it('round-trips many small objects, whole pack and by ranged slice', () => {
    const objs = sampleObjects(600);
    const { pack, indexText } = packOf(objs);
    const index = parsePackIndex(indexText, 'test');
    expect(index.size).toBe(pack.length);
    expect(index.pack).toBe(hashBytes(newHasher, pack));
    expect(index.entries).toHaveLength(objs.length);
    verifyPack(newHasher, pack, index);
    for (const o of objs) {
      const e = findPackEntry(index, o.oid)!;
      expect(e.t).toBe('b');
      expect(e.raw).toBe(o.bytes.length);
      expect(extractMember(pack, e).equals(o.bytes)).toBe(true);
      // What a ranged GET of [off, off + len) returns:
      const range = Buffer.from(pack.subarray(e.off, e.off + e.len));
      expect(readMember(newHasher, range, e).equals(o.bytes)).toBe(true);
      // A wider range covering neighbours, as one coalesced GET would return:
      const start = Math.max(0, e.off - 1000);
      expect(extractMember(pack.subarray(start, e.off + e.len + 1000), e, start).equals(o.bytes)).toBe(true);
    }
  });

  it('writes a valid tar whose members are named by type and oid', async () => {
    const objs = sampleObjects(50);
    const [c1, c2] = [objs[4]!, objs[5]!];
    const recipeText = Buffer.from(serializeRecipe([[c1.oid, c1.bytes.length], [c2.oid, c2.bytes.length]]));
    const fileOid = hashBytes(newHasher, Buffer.concat([c1.bytes, c2.bytes]));
    const writer = new PackWriter(newHasher);
    for (const o of objs) writer.add(o.oid, 'b', o.bytes);
    writer.add(fileOid, 'r', recipeText);
    const { pack, index } = writer.finish();
    const members = await tarMembers(pack);
    // One member per object of 1 KiB or more; smaller ones share `s/` members (named by their first object).
    expect(members).toHaveLength(new Set(index.entries.map((e) => e.off)).size);
    expect(index.entries.filter((e) => e.at === undefined).every((e) => e.raw >= 1024)).toBe(true);
    expect(members.some((m) => m.name.startsWith('s/'))).toBe(true);
    for (const m of members) {
      const match = /^([brs])\/([0-9a-f]{64})(\.zst)?$/.exec(m.name);
      expect(match).not.toBeNull();
      const e = findPackEntry(index, `b3:${match![2]}`)!;
      expect(match![1]).toBe(e.at === undefined ? e.t : 's');
      expect(e.at ?? 0).toBe(0);
      expect(e.c).toBe(match![3] ? 'zstd' : 'none');
      expect(m.size).toBe(e.len);
      expect(m.data.equals(pack.subarray(e.off, e.off + e.len))).toBe(true);
    }
    const r = findPackEntry(index, fileOid)!;
    expect(r.t).toBe('r');
    expect(parseRecipe(readMember(newHasher, pack, r), 'test').size).toBe(c1.bytes.length + c2.bytes.length);
    // The recipe is small: batched with blobs, its type kept by the index.
    expect(r.at !== undefined || members.some((m) => m.name.startsWith(`r/${oidHex(fileOid)}`))).toBe(true);
  });

  it('stores incompressible data raw and compressible data with zstd', () => {
    const random = prng(100_000, 'incompressible');
    const table = csv(5000);
    const writer = new PackWriter(newHasher);
    const ro = hashBytes(newHasher, random);
    const to = hashBytes(newHasher, table);
    writer.add(ro, 'b', random);
    writer.add(to, 'b', table);
    const { pack, index } = writer.finish();
    const re = findPackEntry(index, ro)!;
    const te = findPackEntry(index, to)!;
    expect(re).toMatchObject({ c: 'none', len: random.length, raw: random.length });
    expect(te.c).toBe('zstd');
    expect(te.len).toBeLessThan(table.length * 0.6);
    expect(pack.subarray(re.off, re.off + re.len).equals(random)).toBe(true);
    expect(readMember(newHasher, pack, te).equals(table)).toBe(true);
  });

  it('still compresses float weights that zstd shrinks, however noisy their low bytes look', () => {
    const n = 1 << 16;
    const w = new Float32Array(n);
    for (let i = 0; i < n; i++) w[i] = 0.02 * Math.sin(i * 12.9898) * Math.cos(i * 78.233);
    const bytes = Buffer.from(w.buffer);
    const writer = new PackWriter(newHasher);
    const oid = hashBytes(newHasher, bytes);
    writer.add(oid, 'b', bytes);
    const { pack, index } = writer.finish();
    const e = findPackEntry(index, oid)!;
    expect(e.c).toBe('zstd');
    expect(e.len).toBeLessThan(bytes.length * 0.95);
    expect(readMember(newHasher, pack, e).equals(bytes)).toBe(true);
  });

  it('is deterministic, ignores duplicates and copies caller buffers', () => {
    const objs = sampleObjects(30);
    const a = packOf(objs);
    const writer = new PackWriter(newHasher);
    for (const o of objs) {
      const scratch = Buffer.from(o.bytes);
      writer.add(o.oid, 'b', scratch);
      writer.add(o.oid, 'b', o.bytes);
      scratch.fill(0x55); // as a reused read buffer would be
    }
    expect(writer.count).toBe(objs.length);
    const b = writer.finish();
    expect(b.pack.equals(a.pack)).toBe(true);
    expect(serializePackIndex(b.index)).toBe(a.indexText);
    expect(() => writer.add(objs[0]!.oid, 'b', objs[0]!.bytes)).toThrow(expect.objectContaining({ code: E.BAD_STATE }));
  });

  it('builds the same pack in a reused, dirty or outgrown buffer', () => {
    const objs = [...sampleObjects(40), { bytes: prng(300_000, 'big'), oid: '' }, { bytes: csv(4000), oid: '' }].map((o) => ({ ...o, oid: hashBytes(newHasher, o.bytes) }));
    const fresh = packOf(objs);
    // A tiny buffer that must grow several times, and a large one full of leftovers of an earlier pack.
    const tiny = packOf(objs, { buffer: Buffer.alloc(100, 0x77) });
    const dirty = Buffer.alloc(fresh.pack.length * 2, 0xee);
    const reused = packOf(objs, { buffer: dirty });
    expect(tiny.pack.equals(fresh.pack)).toBe(true);
    expect(reused.pack.equals(fresh.pack)).toBe(true);
    expect(reused.indexText).toBe(fresh.indexText);
    expect(reused.writer.storage).toBe(dirty); // built in place, not copied elsewhere
    expect(tiny.writer.storage.length).toBeGreaterThanOrEqual(fresh.pack.length);
  });

  it('refuses to pack a blob under the wrong oid', () => {
    const writer = new PackWriter(newHasher);
    const wrong = hashBytes(newHasher, Buffer.from('other'));
    expect(() => writer.add(wrong, 'b', Buffer.from('this'))).toThrow(expect.objectContaining({ code: E.OBJECT_CORRUPT }));
    expect(() => writer.add('b3:nope', 'b', Buffer.from('this'))).toThrow(expect.objectContaining({ code: E.BAD_OID }));
  });

  it('detects a corrupted byte in compressed and raw members', () => {
    const table = csv(2000);
    const random = prng(3000, 'raw');
    const objs = [table, random].map((bytes) => ({ oid: hashBytes(newHasher, bytes), bytes }));
    const { pack, entries } = packOf(objs);
    for (const e of entries) {
      for (const where of [0, 5, e.len >> 1, e.len - 1]) {
        const bad = Buffer.from(pack);
        bad[e.off + where]! ^= 0x01;
        expect(() => readMember(newHasher, bad, e)).toThrow(expect.objectContaining({ code: E.OBJECT_CORRUPT }));
      }
    }
    const bad = Buffer.from(pack);
    bad[pack.length - 2000]! ^= 0x80;
    expect(() => verifyPack(newHasher, bad, parsePackIndex(serializePackIndex({ pack: hashBytes(newHasher, pack), size: pack.length, entries }), 't')))
      .toThrow(expect.objectContaining({ code: E.OBJECT_CORRUPT }));
    expect(() => verifyMember(newHasher, objs[0]!.oid, random)).toThrow(expect.objectContaining({ code: E.OBJECT_CORRUPT }));
  });

  it('rejects short ranges and a frame that lies about its size', () => {
    const table = csv(2000);
    const { pack, entries } = packOf([{ oid: hashBytes(newHasher, table), bytes: table }]);
    const e = entries[0]!;
    expect(() => extractMember(pack.subarray(e.off, e.off + e.len - 1), e)).toThrow(expect.objectContaining({ code: E.OBJECT_CORRUPT }));
    expect(() => extractMember(pack.subarray(0, e.off + 10), e)).toThrow(expect.objectContaining({ code: E.OBJECT_CORRUPT }));
    expect(() => extractMember(pack, { ...e, raw: e.raw + 1 })).toThrow(expect.objectContaining({ code: E.OBJECT_CORRUPT }));
    expect(() => extractMember(pack, { ...e, raw: 1 << 30 })).toThrow(expect.objectContaining({ code: E.OBJECT_CORRUPT }));
  });
});
