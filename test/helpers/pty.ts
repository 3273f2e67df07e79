import { spawnSync } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import fs from 'node:fs';
import { BIN } from './cli.js';

/** Runs a command in a pseudo-terminal (Python's pty module) and prints all it wrote, hex-encoded. */
const PTY_RUNNER = `
import os, pty, sys, binascii
cwd, args = sys.argv[1], sys.argv[2:]
pid, fd = pty.fork()
if pid == 0:
    os.chdir(cwd)
    os.execvp(args[0], args)
chunks = []
while True:
    try:
        data = os.read(fd, 65536)
    except OSError:
        break
    if not data:
        break
    chunks.append(data)
_, status = os.waitpid(pid, 0)
sys.stdout.write(str(os.waitstatus_to_exitcode(status)) + "\\n" + binascii.hexlify(b"".join(chunks)).decode())
`;

export interface PtyRun {
  code: number;
  /** Everything the command wrote to its terminal (stdout and stderr alike), as text. */
  output: string;
}

/** Runs the built CLI with `args` in `cwd` as if in a terminal. */
export function mlxInPty(cwd: string, args: string[], env: Record<string, string> = {}): PtyRun {
  const runner = path.join(os.tmpdir(), `mlx-pty-runner-${process.pid}.py`);
  fs.writeFileSync(runner, PTY_RUNNER);
  const r = spawnSync('python3', [runner, cwd, process.execPath, BIN, ...args], { encoding: 'utf8', env: { ...process.env, ...env }, maxBuffer: 1 << 28 });
  if (r.status !== 0) throw new Error(`pty runner failed: ${r.stderr}`);
  const [code, hex] = r.stdout.split('\n');
  return { code: Number(code), output: Buffer.from(hex ?? '', 'hex').toString('utf8') };
}

/** The progress frames in a terminal's output: what each carriage return began, escapes removed. */
export function progressFrames(output: string, label: string): string[] {
  return output
    .split('\r')
    .map((part) => part.replace(/\x1b\[[0-9;?]*[A-Za-z]/g, ''))
    .filter((frame) => frame.startsWith(`${label}: `));
}

export interface ParsedFrame {
  phase: string;
  percent?: number;
  files?: number;
  totalFiles?: number;
  bytes?: string;
  totalBytes?: string;
}

/** The parts of a frame a test checks (see src/cli/progress-frame.ts for the format). */
export function parseFrame(frame: string, label: string): ParsedFrame {
  const body = frame.slice(label.length + 2);
  const bar = /^(.*?) [█░]+ (\d+)% \| ([\d,]+)\/([\d,]+) files(?: \| ([\d.]+ [KMGT]?i?B) of ([\d.]+ [KMGT]?i?B))?/.exec(body);
  const count = (s: string) => Number(s.replace(/,/g, ''));
  if (bar) return { phase: bar[1]!, percent: Number(bar[2]), files: count(bar[3]!), totalFiles: count(bar[4]!), bytes: bar[5], totalBytes: bar[6] };
  const spin = /^(.*?) [⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏](?: ([\d,]+) files)?/.exec(body);
  if (!spin) throw new Error(`not a progress frame: ${JSON.stringify(frame)}`);
  return { phase: spin[1]!, files: spin[2] === undefined ? undefined : count(spin[2]) };
}
