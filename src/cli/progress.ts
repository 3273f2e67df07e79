import type { Progress } from '../workspace/work-tree.js';
import { commonJsExports } from '../util/modules.js';
import { formatBytes, type Output } from './output.js';

export interface ProgressHandle {
  report: Progress | undefined;
  stop(): void;
}

/**
 * A progress bar on stderr (files, bytes, rate) when stderr is a terminal and output is not quiet or
 * JSON; otherwise nothing at all, so piped output stays clean.
 */
export async function startProgress(out: Output, label: string): Promise<ProgressHandle> {
  // MLX_PROGRESS=always draws the bar at once even off a terminal (for tests and CI logs).
  const forced = process.env.MLX_PROGRESS === 'always';
  if ((!process.stderr.isTTY && !forced) || out.opts.quiet || out.opts.json) return { report: undefined, stop() {} };
  // cli-progress is CommonJS (see commonJsExports).
  const { SingleBar } = commonJsExports(await import('cli-progress'));
  const started = Date.now();
  let files = 0;
  let totalFiles = 0;
  let bytes = 0;
  let totalBytes = 0;
  let shown = false;
  const bar = new SingleBar(
    {
      stream: process.stderr,
      format: `${label} {bar} {percentage}% | {files}/{totalFiles} files | {done} of {total} | {rate}/s`,
      hideCursor: true,
      clearOnComplete: true,
      fps: 10,
      noTTYOutput: forced,
      notTTYSchedule: 100,
    },
    { format: '', barCompleteChar: '█', barIncompleteChar: '░' },
  );
  const payload = () => {
    const secs = Math.max((Date.now() - started) / 1000, 0.001);
    return { files, totalFiles, done: formatBytes(bytes), total: formatBytes(totalBytes), rate: formatBytes(Math.round(bytes / secs)) };
  };
  const report: Progress = (d) => {
    if (d.totalFiles !== undefined) totalFiles += d.totalFiles;
    if (d.totalBytes !== undefined) totalBytes += d.totalBytes;
    files += d.files ?? 0;
    bytes += d.bytes ?? 0;
    // Only show a bar for work that takes a moment: short commands print nothing extra.
    if (!shown && (forced || Date.now() - started > 300)) {
      bar.start(Math.max(totalBytes, 1), bytes, payload());
      shown = true;
    } else if (shown) {
      bar.setTotal(Math.max(totalBytes, 1));
      bar.update(bytes, payload());
    }
  };
  return {
    report,
    stop: () => {
      if (shown) bar.stop();
    },
  };
}

/** Runs `run` with a progress bar that is always taken down, even when it fails. */
export async function withProgress<T>(out: Output, label: string, run: (report: Progress | undefined) => Promise<T>): Promise<T> {
  const progress = await startProgress(out, label);
  try {
    return await run(progress.report);
  } finally {
    progress.stop();
  }
}
