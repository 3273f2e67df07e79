import type { Progress, ProgressDelta } from '../util/progress.js';
import { formatFrame, type PhaseState } from './progress-frame.js';
import type { Output } from './output.js';

export interface ProgressHandle {
  report: Progress | undefined;
  stop(): void;
}

/** At most this many frames a second: drawing stays a negligible cost of the work it shows. */
const FRAME_MS = 100;
/** Work shorter than this draws nothing: short commands print nothing extra. */
const QUIET_START_MS = 300;

/**
 * A progress line on stderr (phase, bar, files, bytes, rate, time left) when stderr is a terminal and
 * output is not quiet or JSON; otherwise nothing at all, so piped output stays clean.
 * MLX_PROGRESS=always draws from the start, off a terminal too (tests and CI logs).
 */
export function startProgress(out: Output, label: string): ProgressHandle {
  const forced = process.env.MLX_PROGRESS === 'always';
  if ((!process.stderr.isTTY && !forced) || out.opts.quiet || out.opts.json) return { report: undefined, stop() {} };
  const line = new ProgressLine(label, (text) => process.stderr.write(text), forced ? { quietStartMs: 0, everyPhase: true } : { quietStartMs: QUIET_START_MS, everyPhase: false });
  const timer = setInterval(() => line.tick(Date.now()), FRAME_MS);
  timer.unref();
  return {
    report: (d) => line.report(d, Date.now()),
    stop: () => {
      clearInterval(timer);
      line.stop(Date.now());
    },
  };
}

export interface LineOptions {
  /** Nothing is drawn before the work has run this long. */
  quietStartMs: number;
  /**
   * Besides one frame per FRAME_MS at most, draw every phase's first frame, its first with a total
   * and its last (done equal to total): a log then shows every phase. On a terminal a thousand tiny
   * phases would be a thousand frames, so there only the command's last frame is drawn regardless.
   */
  everyPhase: boolean;
}

/** The state behind the line, and when to draw it. */
export class ProgressLine {
  private state: PhaseState;
  private readonly startedAt: number;
  private lastFrameAt = -Infinity;
  private frames = 0;
  /** Whether the newest frame drawn shows the state as it is. */
  private drawnCurrent = false;
  /** Something a frame must show at once: a new phase, a total now known. */
  private milestone = false;
  private shown = false;

  constructor(
    label: string,
    private readonly write: (text: string) => void,
    private readonly opts: LineOptions,
    now = Date.now(),
  ) {
    this.startedAt = now;
    this.state = { label, phase: 'starting', startedAt: now, files: 0, bytes: 0, totalFiles: undefined, totalBytes: 0 };
  }

  report(d: ProgressDelta, now: number): void {
    if (d.phase !== undefined) {
      this.finishPhase(now);
      this.state = { label: this.state.label, phase: d.phase, startedAt: now, files: 0, bytes: 0, totalFiles: undefined, totalBytes: 0 };
      this.milestone = true;
    }
    if (d.totalFiles !== undefined || d.totalBytes !== undefined) {
      if (this.state.totalFiles === undefined) this.milestone = true;
      this.state.totalFiles = (this.state.totalFiles ?? 0) + (d.totalFiles ?? 0);
      this.state.totalBytes += d.totalBytes ?? 0;
    }
    if (d.files !== undefined) this.state.files += d.files;
    if (d.bytes !== undefined) this.state.bytes += d.bytes;
    this.drawnCurrent = false;
    if ((this.milestone && this.opts.everyPhase) || now - this.lastFrameAt >= FRAME_MS) this.draw(now);
  }

  /** The timer's turn: the spinner and rate move on while nothing is reported (waiting on a network). */
  tick(now: number): void {
    if (now - this.lastFrameAt >= FRAME_MS) this.draw(now);
  }

  /** The last frame of the phase, then the line is cleared for what the command prints. */
  stop(now: number): void {
    if (this.shown && !this.drawnCurrent) this.draw(now, true);
    if (this.shown) this.write('\r\x1b[K');
  }

  /** A phase with a total ends on a frame that shows all of it done. */
  private finishPhase(now: number): void {
    if (this.opts.everyPhase && this.shown && !this.drawnCurrent && this.state.totalFiles !== undefined) this.draw(now, true);
  }

  private draw(now: number, force = false): void {
    if (!force && now - this.startedAt < this.opts.quietStartMs) return;
    this.shown = true;
    this.write(`\r${formatFrame(this.state, now, this.frames++)}\x1b[K`);
    this.lastFrameAt = now;
    this.drawnCurrent = true;
    this.milestone = false;
  }
}

/** Runs `run` with a progress line that is always taken down, even when it fails. */
export async function withProgress<T>(out: Output, label: string, run: (report: Progress | undefined) => Promise<T>): Promise<T> {
  const progress = startProgress(out, label);
  try {
    return await run(progress.report);
  } finally {
    progress.stop();
  }
}
