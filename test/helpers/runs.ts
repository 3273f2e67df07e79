import type { Run, RunLock } from '../../src/formats/run-lock.js';

/** A run as `mlx run` records it; `n` (1 to 9) varies its id, key, record and start time. */
export function sampleRun(n: number, over: Partial<Run> = {}): Run {
  const hex = (c: string) => `b3:${c.repeat(64)}`;
  return {
    id: `r-${String(n).padStart(16, '0')}`,
    key: `k-${String(n).padStart(16, 'e')}`,
    cmd: ['python', 'train.py'],
    seed: n,
    params: { 'params.yaml': { lr: 0.1 } },
    deps: { 'data/train': { kind: 'dir', oid: hex('a'), size: 10 } },
    outs: { 'model.bin': { kind: 'file', oid: hex('b'), size: 20 } },
    metrics: {},
    env: hex('c'),
    record: `b3:${String(n).padStart(64, 'd')}`,
    started: `2026-01-0${n}T00:00:00.000Z`,
    duration_s: 1,
    git: { commit: null, dirty: true },
    ...over,
  };
}

/** A lockfile holding `runs` (name, run). */
export const lockWith = (...runs: [string, Run][]): RunLock => ({ version: 1, runs: Object.fromEntries(runs) });
