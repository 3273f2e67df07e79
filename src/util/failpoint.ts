import fs from 'node:fs';
import path from 'node:path';

/*
 * Failpoints: named steps where a test can pause or stop a running mlx process, so that races between
 * processes are forced into each interleaving instead of being left to timing.
 *
 *   MLX_FAILPOINTS="push.after-publish=pause,gc.sweep.before-delete=exit"
 *   MLX_FAILPOINT_DIR=/tmp/fp
 *
 * `pause`: the process writes `<dir>/<name>.reached` and waits until the test creates `<dir>/<name>.go`.
 * `exit`: the process exits at once with code 86, as if killed at that step.
 * `error`: the step throws, as if the operation had failed there.
 * Without MLX_FAILPOINTS every failpoint is a single map lookup that returns at once.
 */

export type FailpointAction = 'pause' | 'exit' | 'error';

/** Exit code of a process stopped by an `exit` failpoint. */
export const FAILPOINT_EXIT_CODE = 86;

let configured: Map<string, FailpointAction> | undefined;

function actions(): Map<string, FailpointAction> {
  if (configured) return configured;
  configured = new Map();
  for (const item of (process.env.MLX_FAILPOINTS ?? '').split(',')) {
    const [name, action = 'pause'] = item.trim().split('=');
    if (name && (action === 'pause' || action === 'exit' || action === 'error')) configured.set(name, action);
  }
  return configured;
}

/**
 * Acts on a configured failpoint: exits or throws as configured, or, for `pause`, says it was reached
 * and returns the file whose appearance lets it go on. Undefined when nothing is configured for `name`.
 */
function reach(name: string): string | undefined {
  const action = actions().get(name);
  if (action === undefined) return undefined;
  if (action === 'exit') process.exit(FAILPOINT_EXIT_CODE);
  if (action === 'error') throw new Error(`failpoint ${name}`);
  const dir = process.env.MLX_FAILPOINT_DIR;
  if (!dir) throw new Error(`failpoint ${name}: MLX_FAILPOINT_DIR is not set`);
  fs.writeFileSync(path.join(dir, `${name}.reached`), String(process.pid));
  return path.join(dir, `${name}.go`);
}

/** Marks a named step. A no-op unless a test configured this name through MLX_FAILPOINTS. */
export async function failpoint(name: string): Promise<void> {
  const go = reach(name);
  if (go === undefined) return;
  // Polling a file keeps this usable across processes without a server; it only waits, it never decides.
  while (!fs.existsSync(go)) await new Promise((r) => setTimeout(r, 5));
}

/**
 * {@link failpoint} for steps inside synchronous code: `pause` waits by sleeping the thread between
 * looks at the `.go` file.
 */
export function failpointSync(name: string): void {
  const go = reach(name);
  if (go === undefined) return;
  const nap = new Int32Array(new SharedArrayBuffer(4));
  while (!fs.existsSync(go)) Atomics.wait(nap, 0, 0, 5);
}

/** For tests in this process: forget the parsed configuration so a changed MLX_FAILPOINTS takes effect. */
export function resetFailpoints(): void {
  configured = undefined;
}
