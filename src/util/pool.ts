/**
 * Runs `task` for every item with at most `jobs` in flight, in order of the items. The first failure
 * stops new work from starting and is thrown once the tasks in flight have settled, so nothing is
 * left running behind the caller's back.
 */
export async function forEachLimited<T>(items: readonly T[], jobs: number, task: (item: T, index: number) => Promise<void>): Promise<void> {
  return forEachIndexLimited(items.length, jobs, (i) => task(items[i]!, i));
}

/** {@link forEachLimited} over the numbers 0 to `count` - 1, for work whose items are made one at a time. */
export async function forEachIndexLimited(count: number, jobs: number, task: (index: number) => Promise<void>): Promise<void> {
  let next = 0;
  let failure: { err: unknown } | undefined;
  const lane = async () => {
    while (failure === undefined && next < count) {
      const i = next++;
      try {
        await task(i);
      } catch (err) {
        failure ??= { err };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(jobs, count)) }, lane));
  if (failure) throw failure.err;
}

