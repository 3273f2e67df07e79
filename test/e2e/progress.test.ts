import fs from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mlx, mlxOk } from '../helpers/cli.js';
import { mlxInPty, parseFrame, progressFrames, type ParsedFrame } from '../helpers/pty.js';
import { bytes, gitCloneLocal, gitCommitAll, gitInit, tempDir, write } from '../helpers/repo.js';

let dir: string;
let clone: string;
let remote: string;
beforeEach(async () => {
  dir = tempDir();
  remote = tempDir('mlx-remote-');
  clone = tempDir('mlx-clone-');
  fs.rmSync(clone, { recursive: true });
  await gitInit(dir);
  mlxOk(dir, 'init');
  // 3 MiB in 48 files: totals in MiB, several frames' worth of files.
  for (let i = 0; i < 48; i++) write(dir, `data/d${i % 4}/f${i}.bin`, bytes(64 * 1024, `p${i}`));
});
afterEach(() => {
  for (const d of [dir, clone, remote]) fs.rmSync(d, { recursive: true, force: true });
});

/** MLX_PROGRESS=always: drawn from the start, and every phase's first and last frames. */
const ALWAYS = { MLX_PROGRESS: 'always' };

/** The frames of one phase, in order; fails when the phase never appeared. */
function phaseFrames(frames: ParsedFrame[], phase: string): ParsedFrame[] {
  const of = frames.filter((f) => f.phase === phase);
  expect(of.length, `phase "${phase}" among ${JSON.stringify([...new Set(frames.map((f) => f.phase))])}`).toBeGreaterThan(0);
  return of;
}

/** A phase's bar starts at 0, counts only grow, and its last frame shows all of its total done. */
function expectWholePhase(frames: ParsedFrame[], phase: string, totalFiles: number, totalBytes: string): void {
  const bars = phaseFrames(frames, phase).filter((f) => f.percent !== undefined);
  expect(bars.length).toBeGreaterThan(0);
  expect(bars[0]!.percent).toBe(0);
  expect(bars[0]!.files).toBe(0);
  for (let i = 1; i < bars.length; i++) {
    expect(bars[i]!.files!).toBeGreaterThanOrEqual(bars[i - 1]!.files!);
    expect(bars[i]!.percent!).toBeGreaterThanOrEqual(bars[i - 1]!.percent!);
  }
  for (const f of bars) expect(f).toMatchObject({ totalFiles, totalBytes });
  expect(bars.at(-1)).toMatchObject({ percent: 100, files: totalFiles, bytes: totalBytes });
}

function framesOf(args: string[], cwd: string): ParsedFrame[] {
  const run = mlxInPty(cwd, args, ALWAYS);
  expect(run.code, run.output).toBe(0);
  return progressFrames(run.output, args[0]!).map((f) => parseFrame(f, args[0]!));
}

describe('progress in a terminal, read frame by frame', () => {
  it('add, push and pull name each phase, count from 0 to formatted totals, and end with done equal to total', async () => {
    const add = framesOf(['add', 'data'], dir);
    phaseFrames(add, 'scanning data');
    expectWholePhase(add, 'hashing data', 48, '3.00 MiB');

    mlxOk(dir, 'remote', 'add', '-d', 'origin', remote);
    const push = framesOf(['push'], dir);
    phaseFrames(push, 'reading the remote index');
    // 48 files and the directory's manifest (its bytes are not a round number: not checked here).
    const uploading = phaseFrames(push, 'uploading').filter((f) => f.percent !== undefined);
    expect(uploading[0]!.percent).toBe(0);
    expect(uploading.at(-1)).toMatchObject({ percent: 100, files: 49, totalFiles: 49 });
    expect(uploading.at(-1)!.bytes).toBe(uploading.at(-1)!.totalBytes);
    expect(uploading.at(-1)!.totalBytes).toMatch(/^3\.0\d MiB$/);
    phaseFrames(push, 'finishing uploads');

    await gitCommitAll(dir, 'data');
    await gitCloneLocal(dir, clone);
    const pull = framesOf(['pull', '-r', 'origin'], clone);
    phaseFrames(pull, 'downloading');
    expectWholePhase(pull, 'downloading directories', 48, '3.00 MiB');
    phaseFrames(pull, 'comparing with the work tree');
    expectWholePhase(pull, 'checking out', 48, '3.00 MiB');
    expect(fs.readFileSync(path.join(clone, 'data/d1/f5.bin'))).toEqual(bytes(64 * 1024, 'p5'));
  });

  it('checkout names its phases: comparing, then writing with a bar', () => {
    mlxOk(dir, 'add', 'data');
    fs.rmSync(path.join(dir, 'data'), { recursive: true });
    const frames = framesOf(['checkout', 'data'], dir);
    phaseFrames(frames, 'comparing with the work tree');
    expectWholePhase(frames, 'checking out', 48, '3.00 MiB');
  });

  it('stays silent with -q in a terminal and whenever stderr is not a terminal', () => {
    const quiet = mlxInPty(dir, ['-q', 'add', 'data'], ALWAYS);
    expect(quiet.code).toBe(0);
    expect(progressFrames(quiet.output, 'add')).toEqual([]);
    fs.writeFileSync(path.join(dir, 'data/d0/f0.bin'), 'changed');
    const piped = mlx(dir, 'add', 'data');
    expect(piped.code).toBe(0);
    expect(piped.stderr).toBe('');
  });
});
