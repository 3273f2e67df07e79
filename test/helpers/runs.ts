import type { Run, RunLock } from '../../src/formats/run-lock.js';
import type { ComparedRun } from '../../src/run/compare.js';

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

/** A sweep: three learning rates, a final metrics file and an eval file that also has a loss. */
export function sweep(): ComparedRun[] {
  const at = (n: number, lr: number, metrics: Record<string, unknown>): ComparedRun => ({
    name: `lr-${lr}`,
    commit: n === 3 ? null : `${n}`.repeat(40),
    run: sampleRun(n, { params: { 'params.yaml': { lr, model: { layers: 2 } } }, metrics }),
  });
  return [
    at(3, 0.2, { 'metrics.json': { loss: 0.5, accuracy: 0.81 }, 'eval.json': { loss: 0.7, bleu: 'n/a' } }),
    at(2, 0.05, { 'metrics.json': { loss: 0.25, accuracy: 0.93 }, 'eval.json': { loss: 0.4 } }),
    at(1, 0.01, { 'metrics.json': { loss: 0.25, accuracy: 0.9 } }),
  ];
}
