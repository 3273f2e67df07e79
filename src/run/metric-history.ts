import fs from 'node:fs';
import type { Oid } from '../hash/oid.js';
import { historyFormatOf, parseMetricHistory, type MetricSeries } from '../formats/metric-history.js';
import { parseRunRecord, type History, type Run } from '../formats/run-lock.js';
import { badRunLock, E, isErrno, isMlxError, reworded, runFailed } from '../util/errors.js';
import { absPath, type Repo } from '../workspace/repo.js';
import { idOfRecord } from './identity.js';

/*
 * Metric histories: per-step logs a run wrote (`-M train.csv`). At record time the log is parsed once
 * (a log that does not parse fails the run, as a bad metrics file does) and its bytes stored as an
 * object; the run names the object and summarises the log. Readers parse the stored bytes again.
 */

export type { MetricSeries } from '../formats/metric-history.js';

/** Stores the history `file` (repo-relative) the command wrote, and summarises it for the run. */
export function recordHistory(repo: Repo, file: string): History {
  const format = historyFormatOf(file)!;
  let bytes: Buffer;
  try {
    bytes = fs.readFileSync(absPath(repo, file));
  } catch (err) {
    if (!isErrno(err, 'ENOENT', 'ENOTDIR', 'EISDIR')) throw err;
    throw runFailed(`the command did not write the metrics history ${file}; nothing was recorded`, { path: file });
  }
  const parsed = parseMetricHistory(bytes.toString('utf8'), format, (why) => runFailed(`metrics history ${file} cannot be read: ${why}; nothing was recorded`, { path: file }));
  const oid = repo.store.putBytes(bytes);
  return { format, oid, size: bytes.length, step: parsed.step, steps: parsed.steps, metrics: Object.keys(parsed.metrics) };
}

/** A run's metric histories, read from the cache. */
export interface RunHistories {
  run: { name: string; id: string; record: Oid };
  /**
   * Metric → `[step, value]` pairs, as logged (not downsampled). A metric logged by more than one of
   * the run's history files is named `<file>:<metric>` for each, so no name hides another.
   */
  metrics: Record<string, MetricSeries>;
  /** Metric (as named in `metrics`) → the file it was read from and that file's step column (null: the row number). */
  sources: Record<string, { file: string; step: string | null }>;
}

/**
 * The metric histories of a recorded run (`{name, run}` as `mlx runs` lists them), every file's object
 * read from the cache and checked against its oid. A run without histories gives no metrics. An
 * object not in the cache is EOBJECTMISSING naming the run and the file.
 */
export function readRunHistories(repo: Repo, entry: { name: string; run: Run }): RunHistories {
  const { name, run } = entry;
  const files = Object.entries(run.histories ?? {});
  const seen = new Map<string, number>();
  for (const [, h] of files) for (const m of h.metrics) seen.set(m, (seen.get(m) ?? 0) + 1);
  const out: RunHistories = { run: { name, id: run.id, record: run.record }, metrics: {}, sources: {} };
  for (const [file, h] of files) {
    const parsed = parseMetricHistory(historyBytes(repo, name, run.id, file, h).toString('utf8'), h.format, (why) =>
      badRunLock(`metrics history ${file} of run ${name} (${run.id}, object ${h.oid}) is not a metrics history: ${why}`),
    );
    for (const [metric, series] of Object.entries(parsed.metrics)) {
      const key = (seen.get(metric) ?? 0) > 1 ? `${file}:${metric}` : metric;
      out.metrics[key] = series;
      out.sources[key] = { file, step: h.step };
    }
  }
  return out;
}

/** The metric histories of the run a run record object describes (its oid, as `record` in mlx.lock names it). */
export function readRecordHistories(repo: Repo, record: Oid): RunHistories {
  const { name, run } = parseRunRecord(repo.store.readBytes(record), record);
  return readRunHistories(repo, { name, run: { ...run, id: idOfRecord(record), record } });
}

function historyBytes(repo: Repo, name: string, id: string, file: string, h: History): Buffer {
  try {
    return repo.store.readBytes(h.oid);
  } catch (err) {
    if (!isMlxError(err, E.OBJECT_MISSING)) throw err;
    throw reworded(err, `metrics history ${file} of run ${name} (${id}) is not in the cache (${h.oid})`, {
      hint: 'fetch it from a remote: mlx pull (or mlx fetch) brings the objects of the runs mlx.lock records',
    });
  }
}
