import { describe, expect, it } from 'vitest';
import { findPackEntry, parsePackIndex, serializePackIndex, type PackEntry, type PackIndex } from '../../src/formats/pack-index.js';
import { E } from '../../src/util/errors.js';

const oid = (c: string) => `b3:${c.repeat(64)}`;
const PACK = oid('f');

/** Three members laid out as PackWriter would: header block, data, padding. */
function sample(): Omit<PackIndex, 'v'> {
  const entries: PackEntry[] = [
    { o: oid('c'), t: 'b', off: 512, len: 100, raw: 300, c: 'zstd' },
    { o: oid('a'), t: 'b', off: 1536, len: 512, raw: 512, c: 'none' },
    { o: oid('b'), t: 'r', off: 2560, len: 0, raw: 0, c: 'none' },
  ];
  return { pack: PACK, size: 2560 + 1024, entries };
}

function expectBad(text: string, fragment?: string): void {
  let err: unknown;
  try {
    parsePackIndex(text, 'packs/x.idx');
  } catch (e) {
    err = e;
  }
  expect(err).toMatchObject({ code: E.BAD_PACK_INDEX });
  expect((err as Error).message).toContain('packs/x.idx');
  if (fragment) expect((err as Error).message).toContain(fragment);
}

function mutate(fn: (raw: any) => void): string {
  const raw = JSON.parse(serializePackIndex(sample()));
  fn(raw);
  return JSON.stringify(raw);
}

describe('pack index', () => {
  it('serializes canonically, entries sorted by oid', () => {
    const text = serializePackIndex(sample());
    expect(text).toBe(
      `{"v":1,"pack":"${PACK}","size":3584,"entries":[` +
        `{"o":"${oid('a')}","t":"b","off":1536,"len":512,"raw":512,"c":"none"},` +
        `{"o":"${oid('b')}","t":"r","off":2560,"len":0,"raw":0,"c":"none"},` +
        `{"o":"${oid('c')}","t":"b","off":512,"len":100,"raw":300,"c":"zstd"}]}`,
    );
    const reversed = { ...sample(), entries: [...sample().entries].reverse() };
    expect(serializePackIndex(reversed)).toBe(text);
  });

  it('round-trips through parse, from text or bytes', () => {
    const text = serializePackIndex(sample());
    const index = parsePackIndex(text, 'x');
    expect(serializePackIndex(index)).toBe(text);
    expect(parsePackIndex(Buffer.from(text), 'x')).toEqual(index);
    expect(findPackEntry(index, oid('b'))).toMatchObject({ t: 'r', off: 2560 });
    expect(findPackEntry(index, oid('d'))).toBeUndefined();
    expect(parsePackIndex(serializePackIndex({ pack: PACK, size: 1024, entries: [] }), 'x').entries).toEqual([]);
  });

  it('finds every entry by bisection in a large index', () => {
    const entries: PackEntry[] = [];
    for (let i = 0; i < 1000; i++) entries.push({ o: `b3:${i.toString(16).padStart(64, '0')}`, t: 'b', off: 512 + i * 1024, len: 10, raw: 10, c: 'none' });
    const index = parsePackIndex(serializePackIndex({ pack: PACK, size: 512 + 1000 * 1024 + 1024, entries }), 'x');
    for (const e of entries) expect(findPackEntry(index, e.o)).toEqual(e);
  });

  it('rejects malformed input with EBADPACKINDEX', () => {
    expectBad('', 'not valid JSON');
    expectBad('{"v":1', 'not valid JSON');
    expectBad('[]');
    expectBad(mutate((r) => (r.v = 2)));
    expectBad(mutate((r) => (r.pack = 'sha256:abc')), 'pack');
    expectBad(mutate((r) => (r.extra = true)));
    expectBad(mutate((r) => (r.entries[0].o = 'b3:XYZ')), 'entries.0.o');
    expectBad(mutate((r) => (r.entries[0].t = 'x')));
    expectBad(mutate((r) => (r.entries[0].c = 'gzip')));
    expectBad(mutate((r) => (r.entries[0].off = -512)));
    expectBad(mutate((r) => (r.entries[0].len = 1.5)));
    expectBad(mutate((r) => delete r.entries[0].raw));
    expectBad(mutate((r) => (r.entries[0].more = 1)));
  });

  it('rejects unsorted or repeated oids', () => {
    expectBad(mutate((r) => r.entries.reverse()), 'sorted');
    expectBad(mutate((r) => (r.entries[1].o = r.entries[0].o)), 'sorted');
  });

  it('rejects offsets and lengths outside the pack', () => {
    expectBad(mutate((r) => (r.size = 3000)), 'whole tar');
    expectBad(mutate((r) => (r.size = 512)), 'whole tar');
    // entries[2] is oid c at 512 (len 100); entries[0] is oid a at 1536 (len 512).
    expectBad(mutate((r) => (r.entries[2].off = 0)), 'outside');
    expectBad(mutate((r) => (r.entries[2].off = 1000)), 'outside');
    expectBad(mutate((r) => (r.entries[0].off = 1e15)), 'outside');
    expectBad(mutate((r) => (r.entries[0].len = r.entries[0].raw = 1100)), 'outside'); // runs into the trailer
    expectBad(mutate((r) => (r.entries[0].len = r.entries[0].raw = 1024)), 'overlap'); // runs over the next header
    expectBad(mutate((r) => (r.entries[2].off = 1536)), 'overlap');
    expectBad(mutate((r) => (r.entries[2].len = 600)), 'overlap');
    expectBad(mutate((r) => (r.entries[0].len = 500)), 'stored raw');
  });
});
