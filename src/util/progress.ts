/**
 * A step of long work, as the CLI shows it. `phase` starts a named phase (hashing, uploading, ...):
 * its counts start at 0 and its total is unknown until the first `totalFiles`/`totalBytes` (later
 * ones add to it). `files` and `bytes` count work done.
 */
export interface ProgressDelta {
  phase?: string;
  files?: number;
  bytes?: number;
  totalFiles?: number;
  totalBytes?: number;
}

/** Progress of long work, in phases, files and bytes; the CLI renders it. */
export interface Progress {
  (delta: ProgressDelta): void;
}
