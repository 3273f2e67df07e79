import { formatBytes } from '../output.js';

/** `1.00 KiB → 2.00 KiB (+1.00 KiB)`, or one size when only one side has it or nothing changed. */
export function sizeChange(c: { oldSize?: number; newSize?: number }): string {
  if (c.oldSize === undefined) return formatBytes(c.newSize ?? 0);
  if (c.newSize === undefined) return formatBytes(c.oldSize);
  if (c.oldSize === c.newSize) return formatBytes(c.newSize);
  const d = c.newSize - c.oldSize;
  return `${formatBytes(c.oldSize)} → ${formatBytes(c.newSize)} (${d > 0 ? '+' : '−'}${formatBytes(Math.abs(d))})`;
}
