import { formatBytes } from './output.js';

/** What a progress line shows: the work of one phase, counted since the phase began. */
export interface PhaseState {
  /** The command (`add`, `push`, ...). */
  label: string;
  phase: string;
  /** When the phase began (ms). */
  startedAt: number;
  files: number;
  bytes: number;
  /** Undefined until the phase's work is known. */
  totalFiles: number | undefined;
  totalBytes: number;
}

const SPINNER = '⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏';
const BAR_WIDTH = 20;

/** Shown only once a phase has run this long: earlier rates swing too much to predict from. */
const ETA_AFTER_MS = 1000;

/**
 * One line of progress: a bar once the phase's total is known (a spinner with counts before), the
 * counts and bytes formatted, the rate and, when it can be told, the time left.
 */
export function formatFrame(s: PhaseState, now: number, tick: number): string {
  const head = `${s.label}: ${s.phase}`;
  const secs = Math.max(now - s.startedAt, 1) / 1000;
  const rate = s.bytes > 0 ? `${formatBytes(Math.round(s.bytes / secs))}/s` : s.files > 0 ? `${formatCount(Math.round(s.files / secs))} files/s` : '';
  if (s.totalFiles === undefined) {
    const parts = [`${head} ${SPINNER[tick % SPINNER.length]}`];
    if (s.files > 0 || s.bytes > 0) parts.push(`${formatCount(s.files)} files`, formatBytes(s.bytes));
    if (rate) parts.push(rate);
    return parts.join(' | ').replace(' | ', ' ');
  }
  const bytes = Math.min(s.bytes, s.totalBytes);
  const fraction = fractionDone(s.files, s.totalFiles, bytes, s.totalBytes);
  const filled = Math.round(fraction * BAR_WIDTH);
  const parts = [
    `${head} ${'█'.repeat(filled)}${'░'.repeat(BAR_WIDTH - filled)} ${Math.floor(fraction * 100)}%`,
    `${formatCount(s.files)}/${formatCount(s.totalFiles)} files`,
  ];
  if (s.totalBytes > 0) parts.push(`${formatBytes(bytes)} of ${formatBytes(s.totalBytes)}`);
  if (rate) parts.push(rate);
  const eta = fraction < 1 && now - s.startedAt >= ETA_AFTER_MS && fraction > 0 ? ((now - s.startedAt) / 1000) * ((1 - fraction) / fraction) : undefined;
  if (eta !== undefined) parts.push(`ETA ${formatDuration(eta)}`);
  return parts.join(' | ');
}

/** Bytes say how far a phase is when it moves bytes; files otherwise. */
export function fractionDone(files: number, totalFiles: number, bytes: number, totalBytes: number): number {
  if (totalBytes > 0) return Math.min(bytes / totalBytes, files >= totalFiles ? 1 : 0.999);
  if (totalFiles > 0) return Math.min(files / totalFiles, 1);
  return 1;
}

/** `20,002`: by hand, as toLocaleString would load the locale data (megabytes) for it. */
export function formatCount(n: number): string {
  return String(n).replace(/\B(?=(\d{3})+$)/g, ',');
}

/** `42s`, `3m 05s`, `2h 07m`. */
export function formatDuration(secs: number): string {
  const s = Math.ceil(secs);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m ${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h ${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}
