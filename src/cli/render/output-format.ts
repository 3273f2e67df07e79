import type { OutputFormat } from '../../formats/run-lock.js';
import { formatBytes } from '../output.js';

/** `1234` → `1234`, `1234567` → `1.23M`: parameter counts as papers write them. */
export function count(n: number): string {
  if (n < 10_000) return String(n);
  for (const [unit, scale] of [['T', 1e12], ['B', 1e9], ['M', 1e6], ['k', 1e3]] as const) if (n >= scale) return `${+(n / scale).toPrecision(3)}${unit}`;
  return String(n);
}

/** `safetensors, 2 tensors, 1.05M parameters (F32), 4.00 MiB`: what a checkpoint's header says, in one phrase. */
export function formatSummary(f: OutputFormat): string {
  const dtypes = Object.entries(f.dtypes ?? {});
  const parts = [
    f.version === undefined ? f.format : `${f.format} v${f.version}`,
    f.tensor_count === undefined ? '' : `${f.tensor_count} tensor${f.tensor_count === 1 ? '' : 's'}`,
    f.parameters === undefined ? '' : `${count(f.parameters)} parameters${dtypes.length === 1 ? ` (${dtypes[0]![0]})` : dtypes.length ? ` (${dtypes.map(([d, n]) => `${d} ${count(n)}`).join(', ')})` : ''}`,
    formatBytes(f.size),
  ];
  return parts.filter(Boolean).join(', ');
}

/** The lines `mlx show` prints under a checkpoint: its metadata, then its tensors (the first `limit`). */
export function formatDetails(f: OutputFormat, limit = 8): string[] {
  const lines = Object.entries(f.metadata ?? {}).map(([k, v]) => `metadata ${k}: ${typeof v === 'string' ? v : JSON.stringify(v)}`);
  const tensors = Object.entries(f.tensors ?? {});
  lines.push(...tensors.slice(0, limit).map(([name, t]) => `tensor ${name}: ${t}`));
  if (tensors.length > limit) lines.push(`... and ${tensors.length - limit} more tensors (--json lists them)`);
  return lines;
}
