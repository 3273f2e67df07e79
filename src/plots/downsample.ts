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
  const finite = (p: Point) => Number.isFinite(p[0]) && Number.isFinite(p[1]);
  let first = 0;
  let last = points.length - 1;
  while (first <= last && !finite(points[first]!)) first++;
  while (last >= first && !finite(points[last]!)) last--;
  if (last - first + 1 <= 2 * buckets + 2) return points.slice(first, last + 1).filter(finite);
  // Indexes into `points`, not copies: a 10,000-step history is walked once, without allocating.
  const x0 = points[first]![0];
  const span = points[last]![0] - x0 || 1;
  const out: Point[] = [points[first]!];
  let bucket = -1;
  let lo = -1;
  let hi = -1;
  const flush = () => {
    if (bucket < 0) return;
    const [a, b] = lo <= hi ? [lo, hi] : [hi, lo];
    out.push(points[a]!);
    if (b !== a) out.push(points[b]!);
  };
  for (let i = first + 1; i < last; i++) {
    const p = points[i]!;
    if (!finite(p)) continue;
    const b = Math.min(buckets - 1, Math.floor(((p[0] - x0) / span) * buckets));
    if (b !== bucket) {
      flush();
      [bucket, lo, hi] = [b, i, i];
      continue;
    }
    if (p[1] < points[lo]![1]) lo = i;
    if (p[1] > points[hi]![1]) hi = i;
  }
  flush();
  out.push(points[last]!);
  return out;
}
