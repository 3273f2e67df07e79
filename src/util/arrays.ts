/**
 * Appends every item of `items` to `target`. `target.push(...items)` passes one argument per item and
 * overflows the call stack past about 120,000 of them (a directory of many files), so large lists are
 * appended with a loop.
 */
export function appendAll<T>(target: T[], items: Iterable<T>): T[] {
  for (const item of items) target.push(item);
  return target;
}
