/**
 * SVG text building blocks. Everything here is deterministic: no random ids, no locale, and numbers
 * in one fixed format, so the same chart data always gives byte-identical SVG.
 */

/** Text or an attribute value made safe for XML (and HTML, where the SVG is inlined). */
export function escapeXml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
}

/** A coordinate: at most one decimal (a tenth of a pixel), no trailing zero, never `-0` or exponent notation. */
export function coord(n: number): string {
  const r = Math.round(n * 10) / 10;
  return r === 0 ? '0' : r.toFixed(1).replace(/\.0$/, '');
}

type Attr = string | number | undefined;

/** `<tag a="1" …>children</tag>`, or self-closed without children. Attributes keep the order given; undefined ones are left out. */
export function el(tag: string, attrs: Record<string, Attr>, ...children: string[]): string {
  const a = Object.entries(attrs)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => ` ${k}="${typeof v === 'number' ? coord(v) : escapeXml(v!)}"`)
    .join('');
  return children.length ? `<${tag}${a}>${children.join('')}</${tag}>` : `<${tag}${a}/>`;
}

/** A text element; `content` is escaped here. */
export function text(x: number, y: number, content: string, attrs: Record<string, Attr> = {}): string {
  return el('text', { x, y, ...attrs }, escapeXml(content));
}

/** `M x y L x y …` for a polyline through `points` (already in pixels). */
export function pathData(points: ReadonlyArray<readonly [number, number]>): string {
  return points.map(([x, y], i) => `${i ? 'L' : 'M'}${coord(x)} ${coord(y)}`).join('');
}

/** The outer `<svg>` element with a title for screen readers and tooltips. */
export function svgDocument(width: number, height: number, title: string, body: string[], attrs: Record<string, Attr> = {}): string {
  return `${el(
    'svg',
    { xmlns: 'http://www.w3.org/2000/svg', width, height, viewBox: `0 0 ${coord(width)} ${coord(height)}`, role: 'img', 'font-family': 'sans-serif', 'font-size': 11, ...attrs },
    el('title', {}, escapeXml(title)),
    ...body,
  )}\n`;
}
