import { describe, expect, it } from 'vitest';
import { minMaxDownsample, type Point } from '../../src/plots/downsample.js';
import { randoms } from './fixtures.js';

describe('min/max downsampling', () => {
  const rnd = randoms(3);
  const noisy: Point[] = Array.from({ length: 10_000 }, (_, i) => [i, rnd()]);
  noisy[4321] = [4321, 50];
  noisy[777] = [777, -50];

  it('keeps at most two points per bucket plus the ends, in step order', () => {
    const out = minMaxDownsample(noisy, 100);
    expect(out.length).toBeLessThanOrEqual(202);
    expect(out.length).toBeGreaterThan(150);
    expect(out[0]).toEqual(noisy[0]);
    expect(out.at(-1)).toEqual(noisy.at(-1));
    expect(out.map((p) => p[0])).toEqual([...out.map((p) => p[0])].sort((a, b) => a - b));
  });

  it('keeps the spikes a picture must show', () => {
    const out = minMaxDownsample(noisy, 100);
    expect(out).toContainEqual([4321, 50]);
    expect(out).toContainEqual([777, -50]);
  });

  it('returns short series whole, without points that are not finite', () => {
    const short: Point[] = [[0, 1], [1, NaN], [2, 3], [Infinity, 4]];
    expect(minMaxDownsample(short, 10)).toEqual([[0, 1], [2, 3]]);
  });
});
