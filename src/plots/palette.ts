/**
 * Series colours: ten hues that stay apart for common colour-vision deficiencies and on white. Past
 * ten series the hues repeat with a dash pattern, so 50 runs remain distinguishable in the legend.
 */
const COLORS = ['#0072b2', '#e69f00', '#009e73', '#d55e00', '#cc79a7', '#56b4e9', '#5b5b5b', '#b8a200', '#882255', '#44aa99'];
const DASHES = [undefined, '6 3', '2 2', '8 3 2 3', '1 3'];

export interface SeriesStyle {
  color: string;
  /** An SVG stroke-dasharray, or undefined for a solid line. */
  dash?: string;
}

export function seriesStyle(i: number): SeriesStyle {
  const dash = DASHES[Math.floor(i / COLORS.length) % DASHES.length];
  return { color: COLORS[i % COLORS.length]!, ...(dash ? { dash } : {}) };
}
