/** A run's seeds in one phrase: `42, data=7, init=3`; `-` when none. */
export function seedSummary(run: { seed: number | null; seeds?: Record<string, number> }): string {
  const all = [...(run.seed === null ? [] : [String(run.seed)]), ...Object.entries(run.seeds ?? {}).map(([k, v]) => `${k}=${v}`)];
  return all.length ? all.join(', ') : '-';
}

/** `{a: 1, b: {c: 2}}` → `a=1`, `b.c=2`. */
export function flatten(v: unknown, prefix = ''): string[] {
  if (v && typeof v === 'object' && !Array.isArray(v)) return Object.entries(v).flatMap(([k, x]) => flatten(x, prefix ? `${prefix}.${k}` : k));
  return [`${prefix || 'value'}=${typeof v === 'number' ? +v.toPrecision(6) : JSON.stringify(v)}`];
}

/** A recorded metrics history in one line: `logs/train.csv: loss, acc over 100 steps`. */
export function historyLine(file: string, h: { metrics: string[]; steps: number; step: string | null }): string {
  const metrics = h.metrics.length ? h.metrics.join(', ') : 'no metrics';
  return `${file}: ${metrics} over ${h.steps} ${h.step === null ? 'rows' : h.step === 'step' ? 'steps' : `rows (by ${h.step})`}`;
}
