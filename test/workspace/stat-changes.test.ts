import { describe, expect, it } from 'vitest';
import { StatChanges } from '../../src/workspace/stat-changes.js';

const oid = (c: string) => `b3:${c.repeat(64)}`;
const stat = (n: number) => ({ size: n, mtimeMs: 1000 * n, ctimeMs: 1000 * n + 1, ino: n });
const entry = (n: number, c: string, hashedAt = 5000) => ({ ...stat(n), oid: oid(c), hashedAt });

describe('StatChanges', () => {
  it('finds changes made in path order, and answers undefined for a path never changed', () => {
    const c = new StatChanges();
    for (let i = 0; i < 2000; i++) c.set(`d/f${String(i).padStart(4, '0')}`, stat(i), oid('a'), 5000);
    c.forget('d/g');
    expect(c.size).toBe(2001);
    expect(c.get('d/f0000')).toEqual(entry(0, 'a'));
    expect(c.get('d/f1999')).toEqual(entry(1999, 'a'));
    expect(c.get('d/g')).toBeNull();
    expect(c.get('d/f2000')).toBeUndefined();
    expect(c.get('d')).toBeUndefined();
  });

  it('lets the last word on a path win once changes leave path order, and lists each path once in UTF-8 byte order', () => {
    const c = new StatChanges();
    c.set('d/b', stat(1), oid('a'), 5000);
    c.set('d/é', stat(2), oid('b'), 5000);
    c.set('d/a', stat(3), oid('c'), 5000); // out of order from here on
    c.set('d/b', stat(4), oid('d'), 6000);
    c.forget('d/é');
    c.set('d/\uffff', stat(5), oid('e'), 5000);
    c.set('d/\u{10000}', stat(6), oid('f'), 5000); // after U+FFFF in UTF-8, before it in UTF-16
    expect(c.get('d/b')).toEqual(entry(4, 'd', 6000));
    expect(c.get('d/é')).toBeNull();
    expect([...c.inPathOrder()]).toEqual([
      ['d/a', entry(3, 'c')],
      ['d/b', entry(4, 'd', 6000)],
      ['d/é', null],
      ['d/\uffff', entry(5, 'e')],
      ['d/\u{10000}', entry(6, 'f')],
    ]);
    expect([...c.livePaths()]).toEqual(['d/a', 'd/b', 'd/\uffff', 'd/\u{10000}']);
  });

  it('starts empty and in order again when cleared', () => {
    const c = new StatChanges();
    c.set('b', stat(1), oid('a'), 5000);
    c.set('a', stat(2), oid('b'), 5000);
    c.clear();
    expect(c.size).toBe(0);
    expect(c.get('a')).toBeUndefined();
    c.set('c', stat(3), oid('c'), 5000);
    expect([...c.inPathOrder()]).toEqual([['c', entry(3, 'c')]]);
  });
});
