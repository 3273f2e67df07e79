import { describe, expect, it } from 'vitest';
import { StatColumns, type FileStat } from '../../src/workspace/scan.js';
import { forEachIndexLimited } from '../../src/util/pool.js';

const statOf = (i: number): FileStat => ({ size: i * 3, mtimeMs: 1_700_000_000_000 + i + 0.5, ctimeMs: 1_700_000_000_000 + i, ino: 2 ** 40 + i, mode: 0o100644, nlink: 1, dev: 66306 });

describe('StatColumns', () => {
  it('keeps every stat it is given, growing past its first capacity, in any order of writes', () => {
    const cols = new StatColumns();
    const n = 5000;
    for (let i = n - 1; i >= 0; i -= 2) cols.set(i, statOf(i));
    for (let i = 0; i < n; i += 2) cols.set(i, statOf(i));
    const out = {} as FileStat;
    for (let i = 0; i < n; i++) {
      expect(cols.statInto(i, out)).toEqual(statOf(i));
      expect(cols.mtimeAt(i)).toBe(statOf(i).mtimeMs);
      expect(cols.sizeAt(i)).toBe(i * 3);
    }
    expect(cols.bytes(n).byteLength).toBe(n * 7 * 8);
  });
});

describe('forEachIndexLimited', () => {
  it('runs every index once with at most `jobs` in flight, and throws the first failure after the rest settle', async () => {
    const seen: number[] = [];
    let inFlight = 0;
    let most = 0;
    await forEachIndexLimited(100, 3, async (i) => {
      inFlight++;
      most = Math.max(most, inFlight);
      await new Promise((r) => setImmediate(r));
      seen.push(i);
      inFlight--;
    });
    expect([...seen].sort((a, b) => a - b)).toEqual(Array.from({ length: 100 }, (_, i) => i));
    expect(most).toBe(3);
    let started = 0;
    await expect(
      forEachIndexLimited(50, 2, async (i) => {
        started++;
        await new Promise((r) => setImmediate(r));
        if (i === 4) throw new Error('four');
      }),
    ).rejects.toThrow('four');
    expect(started).toBeLessThan(50);
    expect(inFlight).toBe(0);
  });
});
