import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { StatTable } from '../../src/formats/stat-index.js';
import { StatIndex } from '../../src/workspace/stat-index.js';

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

const savedPaths = (file: string) => {
  const t = StatTable.parse(fs.readFileSync(file));
  return Array.from({ length: t.count }, (_, i) => t.pathAt(i));
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
});
