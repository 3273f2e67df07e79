import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { mlxOk } from '../helpers/cli.js';
import { gitCommitAll, gitInit, write } from '../helpers/repo.js';

/** Writes model.bin and metrics.json from the files of data/. */
const TRAIN = `import fs from 'node:fs';
const rows = fs.readdirSync('data').length;
fs.writeFileSync('model.bin', 'weights ' + rows + '\\n');
fs.writeFileSync('metrics.json', JSON.stringify({ acc: 0.5 + rows / 10 }) + '\\n');
`;

/**
 * What test/api/fixtures/use-library.mjs expects in `dir`: data/ tracked, a run `train` recorded and
 * committed, a directory remote as the default, and extra/ written but not tracked.
 */
export async function prepareLibraryRepo(dir: string, remote: string): Promise<void> {
  await gitInit(dir);
  mlxOk(dir, 'init');
  mlxOk(dir, 'remote', 'add', '-d', 'store', remote);
  write(dir, 'data/a.txt', 'alpha\n');
  write(dir, 'data/b.txt', 'beta\n');
  write(dir, 'train.mjs', TRAIN);
  mlxOk(dir, 'add', 'data');
  mlxOk(dir, 'run', '-n', 'train', '-d', 'data', '-o', 'model.bin', '-M', 'metrics.json', '--', 'node', 'train.mjs');
  await gitCommitAll(dir, 'train');
  write(dir, 'extra/c.txt', 'gamma\n');
}

/** `git clone` of `from` into `to` (the pointers and mlx.lock, without the data). */
export function gitClone(from: string, to: string): void {
  const r = spawnSync('git', ['clone', '-q', from, to], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`git clone failed: ${r.stderr}`);
}

/** Runs the library user's program with `node` from `cwd`; returns what it printed. */
export function useLibrary(script: string, name: string, args: string[], env: NodeJS.ProcessEnv = {}): Record<string, any> {
  const r = spawnSync(process.execPath, [script, name, ...args], { cwd: path.dirname(script), encoding: 'utf8', env: { ...process.env, ...env } });
  if (r.status !== 0) throw new Error(`${path.basename(script)} exited ${r.status}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
  return JSON.parse(r.stdout) as Record<string, any>;
}
