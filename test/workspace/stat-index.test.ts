import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { StatTable } from '../../src/formats/stat-index.js';
import { parseStatLog } from '../../src/formats/stat-index-log.js';
import { OTHER_OID, SAME_OID, StatIndex, UNKNOWN } from '../../src/workspace/stat-index.js';

const oid = (c: string) => `b3:${c.repeat(64)}`;
const stat = (n: number) => ({ size: n, mtimeMs: 1000 * n, ctimeMs: 1000 * n, ino: n });
const dirs: string[] = [];
function indexFile(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mlx-statidx-'));
  dirs.push(dir);
  return path.join(dir, 'stat-index');
}
afterEach(() => {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

/** The paths a fresh load knows: the index file's, with its change log applied. */
const savedPaths = (file: string) => {
  const t = StatTable.parse(fs.readFileSync(file));
  const paths = new Set(Array.from({ length: t.count }, (_, i) => t.pathAt(i)));
  const log = parseStatLog(fs.existsSync(`${file}.log`) ? fs.readFileSync(`${file}.log`) : undefined, t.identity);
  for (const [p, e] of log?.changes ?? []) {
    if (e) paths.add(p);
    else paths.delete(p);
  }
  return [...paths].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
};

describe('StatIndex', () => {
  it('answers from what it saved, and only for the same stat once past the racy tick', () => {
    const file = indexFile();
    const a = StatIndex.load(file);
    a.record('d/x', stat(1), oid('a'), 5000);
    a.record('d/racy', stat(2), oid('b'), 2005);
    a.save();
    const b = StatIndex.load(file);
    expect(b.lookup('d/x', stat(1))).toBe(oid('a'));
    expect(b.lookup('d/x', { ...stat(1), ino: 9 })).toBeUndefined();
    expect(b.lookup('d/racy', stat(2))).toBeUndefined();
    expect(b.candidate('d/racy')).toBe(oid('b'));
    expect(b.lookup('d/none', stat(1))).toBeUndefined();
  });

  it('answers with the expected oid when it is the one remembered, and with the remembered one otherwise', () => {
    const file = indexFile();
    const a = StatIndex.load(file);
    a.record('d/x', stat(1), oid('a'), 5000);
    a.save();
    const b = StatIndex.load(file);
    expect(b.lookup('d/x', stat(1), oid('a'))).toBe(oid('a'));
    expect(b.lookup('d/x', stat(1), oid('c'))).toBe(oid('a'));
    expect(b.lookup('d/x', stat(1), 'b3:short')).toBe(oid('a'));
    expect(b.lookup('d/x', { ...stat(1), size: 2 }, oid('a'))).toBeUndefined();
  });

  it('merges new, replaced and pruned entries into the saved file in path order, whatever order they came in', () => {
    const file = indexFile();
    const a = StatIndex.load(file);
    for (const p of ['d/a', 'd/c', 'd/e', 'd.bak', 'e/1']) a.record(p, stat(1), oid('a'), 5000);
    a.save();
    const b = StatIndex.load(file);
    b.record('d/d', stat(2), oid('b'), 5000);
    b.record('d/b', stat(2), oid('b'), 5000);
    b.record('d/c', stat(3), oid('c'), 5000);
    b.record('d/f', stat(2), oid('b'), 5000);
    // Only d/ is pruned: d.bak sorts between "d" and "d/..." and is another path.
    b.prune('d', (p) => p !== 'd/e' && p !== 'd/f');
    expect(b.lookup('d/e', stat(1))).toBeUndefined();
    b.save();
    expect(savedPaths(file)).toEqual(['d.bak', 'd/a', 'd/b', 'd/c', 'd/d', 'e/1']);
    const c = StatIndex.load(file);
    expect(c.lookup('d/c', stat(3))).toBe(oid('c'));
    expect(c.lookup('d.bak', stat(1))).toBe(oid('a'));
    expect(c.isDirty).toBe(false);
  });

  it('replaces the JSON index of earlier versions, which it reads as empty', () => {
    const file = indexFile();
    const old = path.join(path.dirname(file), 'index.json');
    fs.writeFileSync(old, JSON.stringify({ v: 2, entries: { 'd/x': [1, 1000, 1000, 1, oid('a'), 5000] } }));
    const a = StatIndex.load(file);
    expect(a.lookup('d/x', stat(1))).toBeUndefined();
    a.record('d/x', stat(1), oid('a'), 5000);
    a.save();
    expect(fs.existsSync(old)).toBe(false);
    expect(StatIndex.load(file).lookup('d/x', stat(1))).toBe(oid('a'));
  });

  it('appends a few changes to a log beside the index, which a fresh load reads over it', () => {
    const file = indexFile();
    const a = StatIndex.load(file);
    for (const p of ['d/a', 'd/b', 'd/c']) a.record(p, stat(1), oid('a'), 5000);
    a.save();
    expect(fs.existsSync(`${file}.log`)).toBe(false); // no index yet: written whole
    const written = fs.readFileSync(file);
    const b = StatIndex.load(file);
    b.record('d/b', stat(2), oid('b'), 5000);
    b.record('d/racy', stat(2), oid('b'), 2005);
    b.prune('d', (p) => p !== 'd/c');
    b.save();
    expect(fs.readFileSync(file).equals(written)).toBe(true);
    expect(fs.existsSync(`${file}.log`)).toBe(true);
    const c = StatIndex.load(file);
    expect(c.lookup('d/a', stat(1))).toBe(oid('a'));
    expect(c.lookup('d/b', stat(1))).toBeUndefined();
    expect(c.lookup('d/b', stat(2))).toBe(oid('b'));
    expect(c.lookup('d/c', stat(1))).toBeUndefined();
    expect(c.candidate('d/c')).toBeUndefined();
    // Hashed within a tick of its mtime: re-hashed, as from the index itself.
    expect(c.lookup('d/racy', stat(2))).toBeUndefined();
    expect(c.candidate('d/racy')).toBe(oid('b'));
    // A second batch goes after the first, and the last word on a path wins.
    c.record('d/c', stat(3), oid('c'), 5000);
    c.record('d/b', stat(4), oid('d'), 5000);
    c.record('d.bak', stat(5), oid('e'), 5000);
    c.record('d0', stat(5), oid('e'), 5000);
    c.save();
    const d = StatIndex.load(file);
    expect(d.lookup('d/b', stat(4))).toBe(oid('d'));
    expect(d.lookup('d/c', stat(3))).toBe(oid('c'));
    expect(savedPaths(file)).toEqual(['d.bak', 'd/a', 'd/b', 'd/c', 'd/racy', 'd0']);
    // Pruning sees what only the log holds, and only under the prefix ("d.bak" sorts inside it).
    d.prune('d', (p) => p === 'd/a');
    d.save();
    expect(savedPaths(file)).toEqual(['d.bak', 'd/a', 'd0']);
    expect(StatIndex.load(file).candidate('d/c')).toBeUndefined();
  });

  it('merges the log into a new index once it outgrows its share of the index', () => {
    const file = indexFile();
    const a = StatIndex.load(file);
    a.record('d/a', stat(1), oid('a'), 5000);
    a.save();
    const b = StatIndex.load(file);
    b.record('d/b', stat(1), oid('b'), 5000);
    b.save();
    expect(fs.existsSync(`${file}.log`)).toBe(true);
    const c = StatIndex.load(file);
    const many = Array.from({ length: 5000 }, (_, i) => `e/${String(i).padStart(5, '0')}`);
    for (const p of many) c.record(p, stat(2), oid('c'), 5000);
    c.save();
    expect(fs.existsSync(`${file}.log`)).toBe(false);
    const t = StatTable.parse(fs.readFileSync(file));
    expect(t.count).toBe(2 + many.length);
    expect(t.find('d/b')).toBe(1);
    expect(StatIndex.load(file).lookup('e/04999', stat(2))).toBe(oid('c'));
  });

  it('ignores a log that extends another index, and starts it again on the next save', () => {
    const file = indexFile();
    const a = StatIndex.load(file);
    a.record('d/a', stat(1), oid('a'), 5000);
    a.save();
    const b = StatIndex.load(file);
    b.record('d/b', stat(1), oid('b'), 5000);
    b.save();
    const staleLog = fs.readFileSync(`${file}.log`);
    // Another index in its place (as when a merge was written but its log not yet removed).
    fs.rmSync(`${file}.log`);
    const c = StatIndex.load(file);
    for (let i = 0; i < 5000; i++) c.record(`e/${i}`, stat(2), oid('c'), 5000);
    c.save();
    fs.writeFileSync(`${file}.log`, staleLog);
    const d = StatIndex.load(file);
    expect(d.lookup('d/b', stat(1))).toBeUndefined();
    d.record('d/x', stat(3), oid('d'), 5000);
    d.save();
    const e = StatIndex.load(file);
    expect(e.lookup('d/x', stat(3))).toBe(oid('d'));
    expect(e.lookup('d/b', stat(1))).toBeUndefined();
  });

  it('reads a log cut short in a batch up to the last whole batch, and writes the next batch over the rest', () => {
    const file = indexFile();
    const a = StatIndex.load(file);
    a.record('d/a', stat(1), oid('a'), 5000);
    a.save();
    const b = StatIndex.load(file);
    b.record('d/b', stat(1), oid('b'), 5000);
    b.save();
    const whole = fs.statSync(`${file}.log`).size;
    const c = StatIndex.load(file);
    c.record('d/c', stat(1), oid('c'), 5000);
    c.save();
    // A process killed while writing the second batch leaves part of it.
    fs.truncateSync(`${file}.log`, whole + 20);
    const d = StatIndex.load(file);
    expect(d.lookup('d/b', stat(1))).toBe(oid('b'));
    expect(d.lookup('d/c', stat(1))).toBeUndefined();
    d.record('d/d', stat(1), oid('d'), 5000);
    d.save();
    const e = StatIndex.load(file);
    expect(e.lookup('d/b', stat(1))).toBe(oid('b'));
    expect(e.lookup('d/d', stat(1))).toBe(oid('d'));
    expect(savedPaths(file)).toEqual(['d/a', 'd/b', 'd/d']);
  });

  it('merges instead of appending when another command rewrote the index since this one read it', () => {
    const file = indexFile();
    const a = StatIndex.load(file);
    a.record('d/a', stat(1), oid('a'), 5000);
    a.save();
    const slow = StatIndex.load(file);
    expect(slow.lookup('d/a', stat(1))).toBe(oid('a'));
    const other = StatIndex.load(file);
    for (let i = 0; i < 5000; i++) other.record(`e/${i}`, stat(2), oid('c'), 5000);
    other.save();
    slow.record('d/b', stat(1), oid('b'), 5000);
    slow.save();
    expect(fs.existsSync(`${file}.log`)).toBe(false);
    expect(StatIndex.load(file).lookup('d/b', stat(1))).toBe(oid('b'));
  });

  it('knows a manifest as checked before once a directory record or a complete record names it', () => {
    const file = indexFile();
    const a = StatIndex.load(file);
    expect(a.knownManifest(oid('a'))).toBe(false);
    a.recordTree('data', 'fp', oid('a'));
    a.recordComplete(oid('b'), 'stamp');
    a.save();
    const b = StatIndex.load(file);
    expect(b.knownManifest(oid('a'))).toBe(true);
    expect(b.knownManifest(oid('b'))).toBe(true);
    expect(b.knownManifest(oid('c'))).toBe(false);
  });

  it('says whether a path holds an oid given as bytes, as lookup would answer it, from the index, the log and this process', () => {
    const file = indexFile();
    const a = StatIndex.load(file);
    a.record('d/table', stat(1), oid('a'), 5000);
    a.record('d/racy', stat(1), oid('a'), 1005);
    a.save();
    const b = StatIndex.load(file);
    b.record('d/logged', stat(2), oid('b'), 5000);
    b.save();
    const c = StatIndex.load(file);
    c.record('d/new', stat(3), oid('c'), 5000);
    const holds = (p: string, st: ReturnType<typeof stat>, o: string) => c.holds(p, st, Buffer.from(`xx${o}yy`), 2, 2 + o.length);
    expect(holds('d/table', stat(1), oid('a'))).toBe(true);
    expect(holds('d/table', stat(1), oid('b'))).toBe(false);
    expect(holds('d/table', stat(2), oid('a'))).toBe(false);
    expect(holds('d/table', stat(1), oid('a').slice(0, -1))).toBe(false);
    expect(holds('d/racy', stat(1), oid('a'))).toBe(false);
    expect(holds('d/logged', stat(2), oid('b'))).toBe(true);
    expect(holds('d/logged', stat(2), oid('a'))).toBe(false);
    expect(holds('d/new', stat(3), oid('c'))).toBe(true);
    expect(holds('d/new', { ...stat(3), ino: 1 }, oid('c'))).toBe(false);
    expect(holds('d/none', stat(1), oid('a'))).toBe(false);
    c.prune('d', (p) => p !== 'd/table');
    expect(holds('d/table', stat(1), oid('a'))).toBe(false);
  });

  it('answers in-order look-ups under a folder through a cursor exactly as holds does, without a path string', () => {
    const file = indexFile();
    const a = StatIndex.load(file);
    // Neighbours that sort around the folder's paths ("d.bak", "d0", "c/x") are never its entries.
    for (const p of ['c/x', 'd.bak', 'd/a', 'd/b', 'd/c', 'd/é', 'd/sub/x', 'd0']) a.record(p, stat(1), oid('a'), 5000);
    a.record('d/racy', stat(1), oid('a'), 1005);
    a.save();
    const b = StatIndex.load(file);
    b.record('d/b', stat(2), oid('b'), 5000); // in the log, over the table
    b.record('d/logged', stat(2), oid('b'), 5000);
    b.save();
    const c = StatIndex.load(file);
    c.record('d/new', stat(3), oid('c'), 5000);
    c.record('d/racy', stat(3), oid('c'), 3005); // this process's word wins, and it is racy
    c.prune('d', (p) => p !== 'd/c');
    const asked: [string, ReturnType<typeof stat>, string][] = [
      ['a', stat(1), oid('a')],
      ['b', stat(1), oid('a')],
      ['c', stat(1), oid('a')],
      ['logged', stat(2), oid('b')],
      ['missing', stat(1), oid('a')],
      ['new', stat(3), oid('c')],
      ['racy', stat(3), oid('c')],
      ['sub/x', stat(1), oid('a')],
      ['sub/y', stat(1), oid('a')],
      ['é', stat(1), oid('a')],
      ['é', stat(1), oid('a')], // asked twice: not found again past it
    ];
    const names = Buffer.from(asked.map(([p]) => p).join(''), 'utf8');
    const cursor = c.cursor('d');
    let at = 0;
    const answers = asked.map(([p, st, o]) => {
      const end = at + Buffer.byteLength(p);
      const got = cursor.holds(names, at, end, st, Buffer.from(o), 0, o.length);
      at = end;
      return got;
    });
    expect(answers).toEqual([true, false, false, true, false, true, false, true, false, true, false]);
    const single = asked.slice(0, -1).map(([p, st, o]) => c.holds(`d/${p}`, st, Buffer.from(o), 0, o.length));
    expect(single).toEqual(answers.slice(0, -1));
  });

  it('tells a trusted entry of another oid (and names it) from none, through the table, the log and this process', () => {
    const file = indexFile();
    const a = StatIndex.load(file);
    a.record('d/a', stat(1), oid('a'), 5000);
    a.record('d/racy', stat(1), oid('a'), 1005);
    a.save();
    const b = StatIndex.load(file);
    b.record('d/logged', stat(2), oid('b'), 5000);
    b.save();
    const c = StatIndex.load(file);
    c.record('d/new', stat(3), oid('c'), 5000);
    const asked: [string, ReturnType<typeof stat>][] = [['a', stat(1)], ['a2', stat(1)], ['logged', stat(2)], ['new', stat(4)], ['racy', stat(1)]];
    const names = Buffer.from(asked.map(([p]) => p).join(''), 'utf8');
    const cursor = c.cursor('d');
    const wanted = Buffer.from(oid('f'));
    let at = 0;
    const answers = asked.map(([p, st]) => {
      const end = at + Buffer.byteLength(p);
      const got = cursor.match(names, at, end, st, wanted, 0, wanted.length);
      at = end;
      return got === OTHER_OID ? cursor.otherOid() : got;
    });
    // Another oid where the stat matches and the entry is trusted; nothing for a stat that changed or a racy entry.
    expect(answers).toEqual([oid('a'), UNKNOWN, oid('b'), UNKNOWN, UNKNOWN]);
    const again = c.cursor('d');
    const own = Buffer.from(oid('a'));
    expect(again.match(names, 0, 1, stat(1), own, 0, own.length)).toBe(SAME_OID);
  });
});
