import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { mlxOk } from './cli.js';
import { tempDir } from './repo.js';

const GIT_ENV = {
  GIT_AUTHOR_NAME: 'Test',
  GIT_AUTHOR_EMAIL: 'test@example.com',
  GIT_COMMITTER_NAME: 'Test',
  GIT_COMMITTER_EMAIL: 'test@example.com',
  GIT_CONFIG_NOSYSTEM: '1',
  GIT_CONFIG_GLOBAL: '/dev/null',
};

/** Runs the real git CLI; fails the test with git's output when it does not succeed. */
export function git(cwd: string, ...args: string[]): string {
  const r = spawnSync('git', args, { cwd, encoding: 'utf8', env: { ...process.env, ...GIT_ENV } });
  if (r.status !== 0) throw new Error(`git ${args.join(' ')} exited ${r.status}\n${r.stderr}`);
  return r.stdout;
}

/** Stages everything and commits. */
export function commitAll(cwd: string, message: string): void {
  git(cwd, 'add', '-A');
  git(cwd, 'commit', '-q', '--allow-empty', '-m', message);
}

/**
 * A team: a bare git origin and one mlx remote shared by clones of it. The first clone (`alice`)
 * initialises mlx, adds the mlx remote as default and pushes `main`; `clone(name)` makes another.
 */
export interface Team {
  root: string;
  origin: string;
  alice: string;
  clone(name: string): string;
  cleanup(): void;
}

export function makeTeam(remoteAddArgs: string[]): Team {
  const root = tempDir('mlx-team-');
  const origin = path.join(root, 'origin.git');
  git(root, 'init', '-q', '--bare', '--initial-branch=main', origin);
  const clone = (name: string) => {
    const dir = path.join(root, name);
    git(root, 'clone', '-q', origin, dir);
    return dir;
  };
  const alice = clone('alice');
  git(alice, 'checkout', '-q', '-b', 'main');
  mlxOk(alice, 'init');
  mlxOk(alice, 'remote', 'add', '-d', 'storage', ...remoteAddArgs);
  commitAll(alice, 'mlx init');
  git(alice, 'push', '-q', '-u', 'origin', 'main');
  return { root, origin, alice, clone, cleanup: () => fs.rmSync(root, { recursive: true, force: true }) };
}
