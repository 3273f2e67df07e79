import type { LineSeries } from '../../src/plots/line-chart.js';

/** A repeatable pseudo-random sequence (Park–Miller), so generated histories are the same on every run. */
export function randoms(seed: number): () => number {
  let s = seed;
  return () => (s = (s * 16807) % 2147483647) / 2147483647;
}

/** `runs` decaying loss curves of `steps` steps each, with noise. */
export function lossHistories(runs: number, steps: number): LineSeries[] {
  const rnd = randoms(7);
  return Array.from({ length: runs }, (_, r) => ({
    name: `train lr=${(0.001 * (r + 1)).toFixed(3)}`,
    points: Array.from({ length: steps }, (_, i) => [i, 2 * Math.exp(-i / (steps / 4 + r * 5)) + 0.1 * rnd()] as const),
  }));
}
