import { execFile } from 'node:child_process';
import { isErrno } from '../util/errors.js';

/** What one external program said when the environment was probed. */
export interface ProbeResult {
  /** Exited 0. */
  ok: boolean;
  /** The command is not installed. */
  missing: boolean;
  timedOut: boolean;
  stdout: string;
  stderr: string;
}

/** Runs a probe command with a time limit; never rejects. */
export type Run = (cmd: string, args: string[], timeoutMs: number) => Promise<ProbeResult>;

export function probe(cmd: string, args: string[], opts: { cwd: string; env: NodeJS.ProcessEnv; timeoutMs: number }): Promise<ProbeResult> {
  return new Promise((resolve) => {
    execFile(
      cmd,
      args,
      { cwd: opts.cwd, env: opts.env, timeout: opts.timeoutMs, killSignal: 'SIGKILL', maxBuffer: 64 << 20, windowsHide: true, encoding: 'utf8' },
      (err, stdout, stderr) => {
        const e = err as (NodeJS.ErrnoException & { killed?: boolean; signal?: string }) | null;
        resolve({
          ok: !e,
          missing: isErrno(e, 'ENOENT', 'EACCES'),
          timedOut: !!e && e.killed === true && e.signal === 'SIGKILL',
          stdout: String(stdout ?? ''),
          stderr: String(stderr ?? ''),
        });
      },
    );
  });
}

/** The warning for a probe that failed: its record field is left out. */
export function failure(what: string, r: ProbeResult, timeoutMs: number): string {
  if (r.timedOut) return `${what} did not finish within ${timeoutMs / 1000} s; the environment record lacks its output`;
  const detail = (r.stderr || r.stdout).trim().split('\n')[0] ?? '';
  return `${what} failed${detail ? ` (${detail})` : ''}; the environment record lacks its output`;
}
