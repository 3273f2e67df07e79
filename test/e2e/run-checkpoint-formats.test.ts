import fs from 'node:fs';
import path from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { mlx, mlxJson, mlxOk } from '../helpers/cli.js';
import { safetensors } from '../helpers/checkpoints.js';
import { gitCommitAll, useTempRepo, write } from '../helpers/repo.js';

const repo = useTempRepo((d) => {
  mlxOk(d, 'init');
  write(d, 'README', 'x\n');
});
let dir: string;
beforeEach(() => {
  dir = repo();
});

// The "training" command copies prepared bytes into place and writes the step/epoch beside them.
const TRAIN = ['run', '-n', 'train', '-o', 'model.safetensors', '--', 'sh', '-c', 'cp weights.st model.safetensors && echo \'{"step": 300, "epoch": 3}\' > model.safetensors.meta.json'];

describe('checkpoint headers in run records', () => {
  it('records what a safetensors output says about itself beside its step/epoch, and shows it in show, runs and report', async () => {
    await gitCommitAll(dir, 'start');
    const bytes = safetensors({ 'fc.weight': ['F32', [16, 8]], 'fc.bias': ['F32', [16]] }, { framework: 'mlx-test' });
    write(dir, 'weights.st', bytes);
    const { run } = mlxJson(dir, ...TRAIN);
    expect(run.checkpoints).toEqual({ 'model.safetensors': { step: 300, epoch: 3 } });
    expect(run.formats).toEqual({
      'model.safetensors': {
        format: 'safetensors',
        size: bytes.length,
        parameters: 144,
        tensor_count: 2,
        dtypes: { F32: 144 },
        tensors: { 'fc.weight': 'F32 [16, 8]', 'fc.bias': 'F32 [16]' },
        metadata: { framework: 'mlx-test' },
      },
    });
    const lock = fs.readFileSync(path.join(dir, 'mlx.lock'), 'utf8');
    expect(lock).toContain(`    formats:\n      model.safetensors:\n        format: safetensors\n        size: ${bytes.length}\n        parameters: 144\n`);
    expect(lock).toContain('        tensors:\n          fc.weight: F32 [16, 8]\n          fc.bias: F32 [16]\n');

    const shown = mlxOk(dir, 'show', 'train').stdout;
    expect(shown).toContain('  checkpoint: model.safetensors: step=300, epoch=3');
    expect(shown).toContain(
      [
        `  format:    model.safetensors: safetensors, 2 tensors, 144 parameters (F32), ${bytes.length} B`,
        '             metadata framework: mlx-test',
        '             tensor fc.weight: F32 [16, 8]',
        '             tensor fc.bias: F32 [16]',
      ].join('\n'),
    );
    expect(mlxOk(dir, 'runs').stdout).toMatch(/  model\.safetensors:safetensors\(144\)\n$/);
    expect(mlxOk(dir, 'report', 'HEAD').stdout).toContain(`added    train  ${run.id}  (outputs: model.safetensors; model.safetensors: safetensors, 2 tensors, 144 parameters (F32), ${bytes.length} B)`);
    expect(mlxJson(dir, 'report', 'HEAD').runs[0].formats['model.safetensors'].parameters).toBe(144);
  });

  it('a malformed safetensors output is one warning; the run is recorded without its header', () => {
    const absurd = Buffer.alloc(64);
    absurd.writeBigUInt64LE(1n << 60n);
    write(dir, 'weights.st', absurd);
    const r = mlx(dir, ...TRAIN);
    expect(r.code).toBe(0);
    expect(r.stderr.trim().split('\n')).toEqual([
      `mlx: warning: model.safetensors: not a valid safetensors file (header length ${1n << 60n} is over the 100000000-byte limit); its header is not recorded`,
    ]);
    const lock = fs.readFileSync(path.join(dir, 'mlx.lock'), 'utf8');
    expect(lock).not.toContain('formats:');
    expect(lock).toContain('model.safetensors:\n        step: 300');
  });
});
