import type { Progress } from '../util/progress.js';

/** Progress of a transfer: objects done of a total, their bytes, in named phases. */
export type TransferProgress = Progress;

/** Runs `task` for every item with at most `jobs` in flight; the first failure rejects after the rest settle. */
export async function runPool<T>(items: T[], jobs: number, task: (item: T) => Promise<void>): Promise<void> {
  const queue = [...items];
  const errors: unknown[] = [];
  const worker = async () => {
    for (let item = queue.shift(); item !== undefined; item = queue.shift()) {
      try {
        await task(item);
      } catch (err) {
        errors.push(err);
        queue.length = 0; // stop starting new work; let in-flight work finish
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(jobs, items.length)) }, worker));
  if (errors.length) throw errors[0];
}
