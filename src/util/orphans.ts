import fs from 'node:fs';
import path from 'node:path';
import { isErrno } from './errors.js';

/** Whether a process with this pid exists on this machine. */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return !isErrno(err, 'ESRCH');
  }
}

/**
 * Removes temp files left by killed processes from `dir`. Temp names start with the writer's pid
 * (`<pid>-<random>`): a file whose process is gone is removed at once; any other is removed only when
 * older than `maxAgeMs` (its pid may have been reused), so a live writer's file is never touched.
 * `isTemp` picks the temp files among other entries (a fan-out folder of the store holds objects too).
 */
export function removeOrphanedTemps(dir: string, maxAgeMs = 60 * 60 * 1000, isTemp: (name: string) => boolean = () => true): number {
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch (err) {
    if (isErrno(err, 'ENOENT')) return 0;
    throw err;
  }
  let removed = 0;
  const cutoff = Date.now() - maxAgeMs;
  for (const name of names) {
    if (!isTemp(name)) continue;
    const file = path.join(dir, name);
    const pid = Number(/^(\d+)-/.exec(name)?.[1]);
    try {
      const orphan = (pid > 0 && pid !== process.pid && !processAlive(pid)) || fs.lstatSync(file).mtimeMs < cutoff;
      if (orphan) {
        fs.rmSync(file, { force: true, recursive: true });
        removed++;
      }
    } catch {
      // raced with its owner finishing: nothing to do
    }
  }
  return removed;
}
