import { describe, expect, it } from 'vitest';
import { extent, formatTick, formatValue, niceTicks } from '../../src/plots/ticks.js';

describe('nice ticks', () => {
  it('end on round numbers that cover the range', () => {
    expect(niceTicks(0, 9.3)).toEqual({ min: 0, max: 10, step: 2, values: [0, 2, 4, 6, 8, 10] });
    expect(niceTicks(0.13, 0.87, 3).values).toEqual([0, 0.25, 0.5, 0.75, 1]);
    expect(niceTicks(-3, 7, 5).values).toEqual([-4, -2, 0, 2, 4, 6, 8]);
  });

  it('do not drift by floating-point error', () => {
    for (const v of niceTicks(0.1, 0.7, 6).values) expect(String(v).length).toBeLessThanOrEqual(4);
  });

  it('widen a flat range and keep whole steps for step counts', () => {
    expect(niceTicks(5, 5).values).toEqual([4.4, 4.6, 4.8, 5, 5.2, 5.4, 5.6]);
    expect(niceTicks(0, 0).min).toBeLessThan(0);
    expect(niceTicks(0, 3, 10, true).values).toEqual([0, 1, 2, 3]);
  });

  it('fall back to 0..1 for a range that is not finite', () => {
    expect(niceTicks(NaN, Infinity).values).toEqual([0, 0.2, 0.4, 0.6, 0.8, 1]);
    expect(extent([])).toEqual([0, 1]);
    expect(extent([3, -1, 2])).toEqual([-1, 3]);
  });
});

describe('number formats', () => {
  it('tick labels carry the decimals of the step', () => {
    expect([0, 0.25, 0.5].map((v) => formatTick(v, 0.25))).toEqual(['0', '0.25', '0.50']);
    expect(formatTick(2000, 500)).toBe('2000');
    expect(formatTick(3e7, 1e7)).toBe('3e7');
  });

  it('values keep four significant digits, exponents at the extremes', () => {
    expect([0.123456, 1234.5, 2.5e-5, 1.5e9, -0.5, 0].map(formatValue)).toEqual(['0.1235', '1235', '2.5e-5', '1.5e9', '-0.5', '0']);
  });
});
