/**
 * Fewer points for a picture, never for the stored data: a line through 10,000 steps drawn a few
 * hundred pixels wide keeps, in each pixel-wide bucket of x, the lowest and the highest point (in step
 * order), so spikes and the envelope of a noisy curve survive while the SVG stays small.
 */

export type Point = readonly [x: number, y: number];

/**
 * At most `2 * buckets + 2` points of `points` (sorted by x): the first and last, and per bucket of
 * equal x width its minimum and maximum. Points with a non-finite coordinate are left out.
 */
export function minMaxDownsample(points: readonly Point[], buckets: number): Point[] {
  const finite = points.filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y));
  if (finite.length <= 2 * buckets + 2) return finite;
  const x0 = finite[0]![0];
  const span = finite[finite.length - 1]![0] - x0 || 1;
  const out: Point[] = [finite[0]!];
  let bucket = -1;
  let lo = -1;
  let hi = -1;
  const flush = () => {
    if (bucket < 0) return;
    const [a, b] = lo <= hi ? [lo, hi] : [hi, lo];
    out.push(finite[a]!);
    if (b !== a) out.push(finite[b]!);
  };
  for (let i = 1; i < finite.length - 1; i++) {
    const b = Math.min(buckets - 1, Math.floor(((finite[i]![0] - x0) / span) * buckets));
    if (b !== bucket) {
      flush();
      [bucket, lo, hi] = [b, i, i];
      continue;
    }
    if (finite[i]![1] < finite[lo]![1]) lo = i;
    if (finite[i]![1] > finite[hi]![1]) hi = i;
  }
  flush();
  out.push(finite[finite.length - 1]!);
  return out;
}
