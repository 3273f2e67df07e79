/** Axis ranges that end on round numbers, and tick labels in one fixed format. */

export interface Ticks {
  /** The axis runs from `min` to `max`, both multiples of `step`. */
  min: number;
  max: number;
  step: number;
  values: number[];
}

/** A step of 1, 2, 2.5 or 5 times a power of ten that cuts `span` into about `count` parts. */
function niceStep(span: number, count: number): number {
  const raw = span / count;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const norm = raw / mag;
  const factor = norm <= 1 ? 1 : norm <= 2 ? 2 : norm <= 2.5 ? 2.5 : norm <= 5 ? 5 : 10;
  return factor * mag;
}

/** The fewest decimals that write `step` exactly (0.25 → 2, 50 → 0), at most 12. */
export function decimalsOf(step: number): number {
  for (let d = 0; d < 12; d++) {
    const scaled = step * 10 ** d;
    if (Math.abs(scaled - Math.round(scaled)) < 1e-6 * Math.max(1, scaled)) return d;
  }
  return 12;
}

/**
 * About `count` ticks covering `lo`..`hi`. A flat range is widened so it still has an axis; with
 * `integer`, steps are whole numbers (training steps, epochs).
 */
export function niceTicks(lo: number, hi: number, count = 5, integer = false): Ticks {
  if (!Number.isFinite(lo) || !Number.isFinite(hi)) [lo, hi] = [0, 1];
  if (lo > hi) [lo, hi] = [hi, lo];
  if (lo === hi) {
    const pad = lo === 0 ? 1 : Math.abs(lo) * 0.1;
    [lo, hi] = [lo - pad, hi + pad];
  }
  let step = niceStep(hi - lo, count);
  if (integer) step = Math.max(1, Math.round(step));
  const decimals = decimalsOf(step);
  const round = (v: number) => +v.toFixed(decimals);
  const min = round(Math.floor(lo / step + 1e-9) * step);
  const max = round(Math.ceil(hi / step - 1e-9) * step);
  const values: number[] = [];
  for (let i = 0; ; i++) {
    const v = round(min + i * step);
    if (v > max + step / 2) break;
    values.push(v);
  }
  return { min, max, step, values };
}

/** A tick label: as many decimals as the step needs, exponent form for very large or small magnitudes. */
export function formatTick(v: number, step: number): string {
  if (v === 0) return '0';
  const big = Math.max(Math.abs(v), step);
  if (big >= 1e6 || step < 1e-4) return formatValue(v);
  return v.toFixed(decimalsOf(step));
}

/** A value as charts print it beside a bar or in a legend: up to 4 significant digits, fixed rules. */
export function formatValue(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  if (v === 0) return '0';
  const abs = Math.abs(v);
  if (abs >= 1e6 || abs < 1e-3) return v.toExponential(3).replace(/\.?0+e/, 'e').replace('e+', 'e');
  return String(+v.toPrecision(4));
}

/** A linear map from a data range onto a pixel range. */
export function scale(d0: number, d1: number, p0: number, p1: number): (v: number) => number {
  const k = d1 === d0 ? 0 : (p1 - p0) / (d1 - d0);
  return (v) => p0 + (v - d0) * k;
}

/** The smallest and largest of `vs` (without spreading a long array onto the stack), or 0..1 when empty. */
export function extent(vs: readonly number[]): [number, number] {
  let [lo, hi] = [Infinity, -Infinity];
  for (const v of vs) {
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  return lo > hi ? [0, 1] : [lo, hi];
}
