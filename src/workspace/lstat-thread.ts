import fs from 'node:fs';
import { Worker } from 'node:worker_threads';

/*
 * lstat of a directory's names on two threads at once. A status of a large tracked folder is one lstat
 * per file, and in Node each one is a system call plus a `Stats` object with four Dates: most of the
 * walk. git spreads the same calls over threads (core.preloadIndex); here a helper thread and the
 * calling thread take blocks of names from one shared counter until none are left, so the split
 * follows whichever thread is faster at the moment. The caller stays synchronous (the walk is): it
 * waits for the helper through shared memory, not the event loop.
 */

/** Numbers kept per name, in this order; a name that could not be stat'ed (gone, or an error) has mode -1. */
export const LSTAT_FIELDS = 7;
const F_MODE = 0;

/** Names taken per claim: large enough that the shared counter is touched rarely. */
const BLOCK = 256;

/** Below this many names a directory is stat'ed on the calling thread alone. */
export const PARALLEL_LSTAT_MIN = 2048;

const WORKER_SOURCE = `
const { parentPort } = require('node:worker_threads');
const fs = require('node:fs');
parentPort.on('message', ({ dir, names, out, ctl }) => {
  const list = names.split('\\0');
  const n = list.length;
  // ctl[0]: next unclaimed index; ctl[1]: blocks this thread is working on.
  for (;;) {
    Atomics.add(ctl, 1, 1);
    const from = Atomics.add(ctl, 0, ${BLOCK});
    if (from >= n) {
      Atomics.sub(ctl, 1, 1);
      Atomics.notify(ctl, 1);
      return;
    }
    const to = Math.min(n, from + ${BLOCK});
    for (let i = from; i < to; i++) {
      const at = i * ${LSTAT_FIELDS};
      let st;
      try { st = fs.lstatSync(dir + list[i], { throwIfNoEntry: false }); } catch { st = undefined; }
      if (st === undefined) { out[at] = -1; continue; } // the caller stats it again for the error
      out[at] = st.mode; out[at + 1] = st.size; out[at + 2] = st.mtimeMs; out[at + 3] = st.ctimeMs;
      out[at + 4] = st.ino; out[at + 5] = st.nlink; out[at + 6] = st.dev;
    }
    Atomics.sub(ctl, 1, 1);
    Atomics.notify(ctl, 1);
  }
});
`;

let helper: Worker | undefined;
let helperFailed = false;

/** Parallel jobs run so far in this process (tests check that the helper thread was used). */
export let parallelLstatJobs = 0;

function startHelper(): Worker | undefined {
  if (helper || helperFailed) return helper;
  try {
    const worker = new Worker(WORKER_SOURCE, { eval: true });
    worker.unref(); // it only works while the calling thread waits for it
    const forget = () => {
      if (helper === worker) helper = undefined;
      helperFailed = true;
    };
    worker.on('error', forget);
    worker.on('exit', forget);
    helper = worker;
  } catch {
    helperFailed = true; // no threads here: the caller stats alone
  }
  return helper;
}

/**
 * The lstat of every `names[i]` in `absDir` (which ends with a path separator), as
 * {@link LSTAT_FIELDS} numbers per name: mode, size, mtimeMs, ctimeMs, ino, nlink, dev. A name that no
 * longer exists has mode -1 (as has one the helper thread could not stat: the caller stats it again). Many names are shared with a helper thread; few are stat'ed here alone.
 * `helperOnly` leaves every name to the helper thread (tests use it to check the helper's numbers).
 */
export function lstatNames(absDir: string, names: readonly string[], parallelMin = PARALLEL_LSTAT_MIN, helperOnly = false): Float64Array {
  const n = names.length;
  const worker = n >= parallelMin ? startHelper() : undefined;
  if (!worker) {
    const out = new Float64Array(n * LSTAT_FIELDS);
    for (let i = 0; i < n; i++) statInto(out, i, absDir + names[i]!);
    return out;
  }
  parallelLstatJobs++;
  const out = new Float64Array(new SharedArrayBuffer(n * LSTAT_FIELDS * 8));
  const ctl = new Int32Array(new SharedArrayBuffer(8));
  worker.postMessage({ dir: absDir, names: names.join('\0'), out, ctl });
  while (!helperOnly) {
    const from = Atomics.add(ctl, 0, BLOCK);
    if (from >= n) break;
    const to = Math.min(n, from + BLOCK);
    for (let i = from; i < to; i++) statInto(out, i, absDir + names[i]!);
  }
  // Every block is claimed; wait for the ones the helper is still on. A helper that has not yet
  // read the message finds nothing left to claim when it does, so nothing waits on it.
  if (helperOnly) while (Atomics.load(ctl, 0) < n && worker.threadId !== -1) Atomics.wait(ctl, 1, 0, 5);
  for (let busy = Atomics.load(ctl, 1); busy !== 0; busy = Atomics.load(ctl, 1)) {
    if (Atomics.wait(ctl, 1, busy, 200) === 'timed-out' && worker.threadId === -1) {
      // The helper died part-way: redo its blocks here (a block is never left half-written as valid).
      for (let i = 0; i < n; i++) statInto(out, i, absDir + names[i]!);
      break;
    }
  }
  return out;
}

function statInto(out: Float64Array, i: number, abs: string): void {
  const at = i * LSTAT_FIELDS;
  const st = fs.lstatSync(abs, { throwIfNoEntry: false });
  if (st === undefined) {
    out[at + F_MODE] = -1;
    return;
  }
  out[at] = st.mode;
  out[at + 1] = st.size;
  out[at + 2] = st.mtimeMs;
  out[at + 3] = st.ctimeMs;
  out[at + 4] = st.ino;
  out[at + 5] = st.nlink;
  out[at + 6] = st.dev;
}
