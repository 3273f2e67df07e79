/** `{a: 1, b: {c: 2}}` → `a=1`, `b.c=2`. */
export function flatten(v: unknown, prefix = ''): string[] {
  if (v && typeof v === 'object' && !Array.isArray(v)) return Object.entries(v).flatMap(([k, x]) => flatten(x, prefix ? `${prefix}.${k}` : k));
  return [`${prefix || 'value'}=${typeof v === 'number' ? +v.toPrecision(6) : JSON.stringify(v)}`];
}
