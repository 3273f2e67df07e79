import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { add } from '../../src/commands/add.js';
import { init } from '../../src/commands/init.js';
import type { ProgressDelta } from '../../src/util/progress.js';
import { gitInit, tempDir } from '../helpers/repo.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

/** Bytes and files an add reports, per phase, as the progress line would count them. */
async function addCounting(cwd: string, paths: string[]) {
  const phases: { phase: string; files: number; bytes: number; totalFiles: number; totalBytes: number }[] = [];
  const progress = (d: ProgressDelta) => {
    if (d.phase !== undefined) phases.push({ phase: d.phase, files: 0, bytes: 0, totalFiles: 0, totalBytes: 0 });
    const p = phases.at(-1)!;
    p.files += d.files ?? 0;
    p.bytes += d.bytes ?? 0;
    p.totalFiles += d.totalFiles ?? 0;
    p.totalBytes += d.totalBytes ?? 0;
  };
  await add({ cwd, paths, progress });
  return phases.filter((p) => p.phase.startsWith('hashing'));
}

describe('add progress', () => {
  it('counts every byte once: a touched large file confirmed by hashing, and one whose bytes changed', async () => {
    const dir = tempDir('mlx-add-progress-');
    dirs.push(dir);
    await gitInit(dir);
    init({ cwd: dir });
    const data = path.join(dir, 'data');
    fs.mkdirSync(data);
    const big = path.join(data, 'big.bin');
    const small = path.join(data, 'small.txt');
    fs.writeFileSync(big, crypto.randomBytes(3 << 20));
    fs.writeFileSync(small, 'small\n');
    const size = (3 << 20) + 6;
    expect(await addCounting(dir, ['data'])).toEqual([{ phase: 'hashing data', files: 2, bytes: size, totalFiles: 2, totalBytes: size }]);
    // Touched, same bytes: confirmed by hashing against the object it was.
    const later = new Date(Date.now() + 5_000);
    fs.utimesSync(big, later, later);
    expect(await addCounting(dir, ['data'])).toEqual([{ phase: 'hashing data', files: 2, bytes: size, totalFiles: 2, totalBytes: size }]);
    // Same size, other bytes: hashed to compare, then stored; still counted once.
    const other = crypto.randomBytes(3 << 20);
    fs.writeFileSync(big, other);
    const laterStill = new Date(Date.now() + 10_000);
    fs.utimesSync(big, laterStill, laterStill);
    expect(await addCounting(dir, ['data'])).toEqual([{ phase: 'hashing data', files: 2, bytes: size, totalFiles: 2, totalBytes: size }]);
  });
});
