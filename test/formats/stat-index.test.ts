import { describe, expect, it } from 'vitest';
import { statIndexBytes, StatIndexWriter, StatTable, type StatEntry } from '../../src/formats/stat-index.js';

const oid = (c: string) => `b3:${c.repeat(64)}`;
const entry = (n: number, c = 'a'): StatEntry => ({ size: n, mtimeMs: n + 0.5, ctimeMs: n + 0.75, ino: 1000 + n, oid: oid(c), hashedAt: n + 10_000 });

const build = (rows: [string, StatEntry][]): Buffer => statIndexBytes(rows);

describe('stat index file (v3)', () => {
  const rows: [string, StatEntry][] = [['a', entry(1)], ['a.txt', entry(2, 'b')], ['a/b', entry(3, 'c')], ['é/x', entry(4, 'd')]];

  it('round-trips records and finds them by path, in and out of order', () => {
    const t = StatTable.parse(build(rows));
    expect(t.count).toBe(4);
    for (const i of [0, 1, 2, 3, 2, 0, 3]) {
      const [p, e] = rows[i]!;
      expect(t.find(p)).toBe(i);
      expect(t.entryAt(i)).toEqual(e);
      expect(t.pathAt(i)).toBe(p);
      expect(t.sameStat(i, e)).toBe(true);
      expect(t.sameStat(i, { ...e, ctimeMs: e.ctimeMs + 1 })).toBe(false);
    }
    expect(t.find('a/c')).toBe(-1);
    expect(t.find('')).toBe(-1);
    expect(t.lowerBound('a/')).toBe(2);
    expect(t.lowerBound('z')).toBe(3); // 'é' sorts after 'z' in UTF-8
    expect(t.lowerBound('\u{10000}')).toBe(4);
  });

  it('copies raw records into a new file unchanged, one at a time or as runs', () => {
    const t = StatTable.parse(build(rows));
    const parts: Buffer[] = [];
    const w = new StatIndexWriter((d) => parts.push(Buffer.from(d)));
    for (let i = 0; i < t.count; i++) w.addRaw(t.recordsBytes(i, i + 1));
    w.finish();
    expect(Buffer.concat(parts).equals(build(rows))).toBe(true);
    const runs: Buffer[] = [];
    const r = new StatIndexWriter((d) => runs.push(Buffer.from(d)));
    r.addRaw(t.recordsBytes(0, 2), 2);
    r.addRaw(t.recordsBytes(2, 2), 0);
    r.addRaw(t.recordsBytes(2, 4), 2);
    r.finish();
    expect(Buffer.concat(runs).equals(build(rows))).toBe(true);
  });

  it('finds the first record at or after a path from a given record on', () => {
    const t = StatTable.parse(build(rows));
    expect(t.lowerBound('a', 0)).toBe(0);
    expect(t.lowerBound('a', 1)).toBe(1);
    expect(t.lowerBound('a/b', 1)).toBe(2);
    expect(t.lowerBound('a/b', 3)).toBe(3);
  });

  it('writes runs longer than its block straight through', () => {
    // 20,000 records of about 120 bytes: well over the writer's 1 MiB block.
    const many: [string, StatEntry][] = Array.from({ length: 20_000 }, (_, i) => [`d/${String(i).padStart(6, '0')}-${'n'.repeat(60)}`, entry(i)]);
    const t = StatTable.parse(build(many));
    expect(t.count).toBe(many.length);
    const parts: Buffer[] = [];
    const w = new StatIndexWriter((d) => parts.push(Buffer.from(d)));
    w.addRaw(t.recordsBytes(0, 5), 5);
    w.add('d/000004-z', entry(7, 'f'));
    w.addRaw(t.recordsBytes(5, t.count), t.count - 5);
    w.finish();
    const merged = StatTable.parse(Buffer.concat(parts));
    expect(merged.count).toBe(many.length + 1);
    expect(merged.pathAt(5)).toBe('d/000004-z');
    expect(merged.entryAt(5)).toEqual(entry(7, 'f'));
    expect(merged.entryAt(many.length)).toEqual(many[many.length - 1]![1]);
  });

  it('reads anything damaged, foreign or unsorted as empty instead of trusting it', () => {
    const good = build(rows);
    const flipped = Buffer.from(good);
    flipped[40] ^= 1;
    expect(StatTable.parse(flipped).count).toBe(0);
    expect(StatTable.parse(good.subarray(0, good.length - 1)).count).toBe(0);
    const otherVersion = Buffer.from(good);
    otherVersion.writeUInt32LE(2, 8); // the version follows the 8-byte magic
    expect(StatTable.parse(otherVersion).count).toBe(0);
    expect(StatTable.parse(Buffer.from('{"v":2,"entries":{}}')).count).toBe(0);
    expect(StatTable.parse(undefined).count).toBe(0);
    // A writer given paths out of order makes a file with a valid checksum that is still refused.
    expect(StatTable.parse(build([rows[1]!, rows[0]!])).count).toBe(0);
    expect(StatTable.parse(build([rows[0]!, rows[0]!])).count).toBe(0);
  });

  it('says why a file that is there was refused: damage, but not another version or no file', () => {
    const good = build(rows);
    const flipped = Buffer.from(good);
    flipped[40] ^= 1;
    expect(StatTable.read(flipped).damage).toBe('checksum mismatch');
    expect(StatTable.read(Buffer.from('{"v":2,"entries":{}}')).damage).toBe('not a stat index');
    expect(StatTable.read(build([rows[1]!, rows[0]!])).damage).toBe('paths out of order');
    const otherVersion = Buffer.from(good);
    otherVersion.writeUInt32LE(2, 8);
    expect(StatTable.read(otherVersion)).toEqual({ table: StatTable.empty, damage: undefined });
    expect(StatTable.read(undefined).damage).toBeUndefined();
    expect(StatTable.read(good).damage).toBeUndefined();
    expect(StatTable.read(good).table.count).toBe(rows.length);
  });

  it('never returns a record whose oid bytes are not an oid', () => {
    const t = StatTable.parse(build([['x', { ...entry(1), oid: 'b3:nothex' }]]));
    expect(t.find('x')).toBe(0);
    expect(t.oidAt(0)).toBeUndefined();
    expect(t.entryAt(0)).toBeUndefined();
  });

  it('holds 200,000 records and answers in-order lookups', () => {
    const paths: string[] = [];
    for (let i = 0; i < 200_000; i++) paths.push(`d/${String(i).padStart(6, '0')}`);
    const t = StatTable.parse(build(paths.map((p) => [p, entry(1)])));
    expect(t.count).toBe(200_000);
    let found = 0;
    for (const p of paths) if (t.find(p) >= 0) found++;
    expect(found).toBe(200_000);
  });
});
