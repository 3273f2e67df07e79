import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import { FAILPOINT_EXIT_CODE } from '../../src/util/failpoint.js';
import { BIN, mlxJson, mlxOk } from '../helpers/cli.js';
import { Failpoints } from '../helpers/failpoints.js';
import { gitCommitAll, useTempRepo, write } from '../helpers/repo.js';

const repo = useTempRepo((d) => mlxOk(d, 'init'));
const fps: Failpoints[] = [];
afterEach(() => {
  for (const f of fps.splice(0)) f.cleanup();
});

function statusWith(cwd: string, env: Record<string, string>) {
  return spawnSync(process.execPath, [BIN, '--json', 'status'], { cwd, encoding: 'utf8', env: { ...process.env, ...env } });
}

/** Writes a file and dates it an hour back, so the status that hashes it can trust it at once (racy-clean guard). */
function writeSettled(dir: string, rel: string, data: string): void {
  write(dir, rel, data);
  const past = new Date(Date.now() - 3_600_000);
  fs.utimesSync(path.join(dir, rel), past, past);
}

/** A tracked directory of `n` files, added and committed, with its stat index written whole. */
async function trackedTree(dir: string, n: number): Promise<void> {
  for (let i = 0; i < n; i++) writeSettled(dir, `data/f${i}.txt`, `file ${i}\n`);
  mlxOk(dir, 'add', 'data');
  await gitCommitAll(dir, 'v1');
}

describe('stat index change log', () => {
  it('a status killed half-way through appending to the log leaves an index the next status reads, and reports every edit', async () => {
    const dir = repo();
    await trackedTree(dir, 20);
    const indexFile = path.join(dir, '.mlx', 'state', 'stat-index');
    const logFile = `${indexFile}.log`;
    // A first edit, learnt and logged whole.
    writeSettled(dir, 'data/f1.txt', 'edited once\n');
    expect(mlxJson(dir, 'status').paths[0].changes.modified).toEqual(['f1.txt']);
    expect(fs.existsSync(logFile)).toBe(true);
    const logged = fs.statSync(logFile).size;
    // A second edit; the status that learns it is killed with half its batch written.
    writeSettled(dir, 'data/f2.txt', 'edited too\n');
    const fp = new Failpoints();
    fps.push(fp);
    const killed = statusWith(dir, fp.env({ 'stat-index.log-half-written': 'exit' }));
    expect(killed.status).toBe(FAILPOINT_EXIT_CODE);
    expect(fs.statSync(logFile).size).toBeGreaterThan(logged);
    writeSettled(dir, 'data/f3.txt', 'and a third\n');
    fs.rmSync(path.join(dir, 'data', 'f4.txt'));
    writeSettled(dir, 'data/new.txt', 'added\n');
    const after = mlxJson(dir, 'status');
    expect(after.paths[0].changes).toEqual({ added: ['new.txt'], modified: ['f1.txt', 'f2.txt', 'f3.txt'], deleted: ['f4.txt'] });
    // The next status trusts what that one logged: nothing is hashed again.
    expect(mlxJson(dir, 'status').hashedFiles).toBe(0);
  });

  it('a status sees an edit of a file the log learnt that keeps its size and mtime (ctime tells)', async () => {
    const dir = repo();
    await trackedTree(dir, 5);
    writeSettled(dir, 'data/f0.txt', 'first edit\n');
    expect(mlxJson(dir, 'status').paths[0].changes.modified).toEqual(['f0.txt']);
    // Same size, mtime set back to the logged one: ctime still tells.
    const file = path.join(dir, 'data', 'f0.txt');
    const before = fs.statSync(file);
    fs.writeFileSync(file, 'other edit\n');
    fs.utimesSync(file, before.atime, before.mtime);
    const s = mlxJson(dir, 'status');
    expect(s.paths[0].changes.modified).toEqual(['f0.txt']);
    expect(s.hashedFiles).toBe(1);
    // Back to the committed content: clean again.
    fs.writeFileSync(file, 'file 0\n');
    expect(mlxJson(dir, 'status').paths[0].state).toBe('clean');
  });
});
