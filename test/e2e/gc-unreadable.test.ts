import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeEach, describe, expect, it } from 'vitest';
import { expectCleanError, mlx, mlxJson, mlxOk } from '../helpers/cli.js';
import { gitCommitAll, tempDir, useTempRepo } from '../helpers/repo.js';

const FIXTURE = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../fixtures/tiny-experiment');
const repo = useTempRepo((d) => {
  fs.cpSync(FIXTURE, d, { recursive: true });
  mlxOk(d, 'init');
});
let dir: string;
beforeEach(() => {
  dir = repo();
});

const TRAIN = ['run', '-n', 'train', '-d', 'data/train', '-d', 'train.mjs', '-o', 'out/model.json', '--seed', '1', '--', 'node', 'train.mjs'];
const inCache = (oid: string) => fs.existsSync(path.join(dir, '.mlx/cache/objects', oid.slice(3, 5), oid.slice(5)));
const CONFLICTED = (text: string) => `<<<<<<< HEAD\n${text}=======\nruns: {}\n>>>>>>> other\n`;

/** A recorded run whose record, environment and input snapshot of train.mjs only mlx.lock keeps. */
function recordRun(): string[] {
  mlxOk(dir, 'add', 'data/train');
  const { run } = mlxJson(dir, ...TRAIN);
  return [run.record, run.env, run.deps['train.mjs'].oid];
}

describe('gc with an unreadable mlx.lock', () => {
  it('refuses (one line naming mlx.lock) when the work tree mlx.lock has merge-conflict markers, and removes nothing', () => {
    const kept = recordRun();
    fs.writeFileSync(path.join(dir, 'mlx.lock'), CONFLICTED(fs.readFileSync(path.join(dir, 'mlx.lock'), 'utf8')));
    for (const args of [['gc', '--keep-recent', '0'], ['gc', '--keep-recent', '0', '--force']]) {
      expect(expectCleanError(mlx(dir, ...args))).toMatch(/mlx\.lock .*merge conflict markers.*work tree/);
      for (const oid of kept) expect(inCache(oid)).toBe(true);
    }
  });

  it('refuses when a kept commit has a malformed mlx.lock, names the commit, and --force collects anyway', async () => {
    const kept = recordRun();
    const good = fs.readFileSync(path.join(dir, 'mlx.lock'), 'utf8');
    fs.writeFileSync(path.join(dir, 'mlx.lock'), 'runs: [not, a, map]\n');
    const commit = await gitCommitAll(dir, 'broken lockfile');
    fs.writeFileSync(path.join(dir, 'mlx.lock'), good); // the work tree is fine again; HEAD is not
    expect(expectCleanError(mlx(dir, 'gc', '--keep-recent', '0'))).toContain(`mlx.lock@${commit.slice(0, 8)}`);
    for (const oid of kept) expect(inCache(oid)).toBe(true);
    // The work tree's mlx.lock still protects its runs when the user forces past the broken commit.
    mlxOk(dir, 'gc', '--keep-recent', '0', '--force');
    for (const oid of kept) expect(inCache(oid)).toBe(true);
  });

  it('gc --remote refuses as well before touching the remote', () => {
    recordRun();
    const store = tempDir('mlx-gc-lock-remote-');
    try {
      mlxOk(dir, 'remote', 'add', '-d', 'storage', store);
      mlxOk(dir, 'push');
      fs.writeFileSync(path.join(dir, 'mlx.lock'), CONFLICTED(fs.readFileSync(path.join(dir, 'mlx.lock'), 'utf8')));
      expect(expectCleanError(mlx(dir, 'gc', '--remote', '--local-refs', '--grace', '0'))).toMatch(/mlx\.lock .*merge conflict markers/);
      expect(fs.existsSync(path.join(store, 'gc'))).toBe(false);
    } finally {
      fs.rmSync(store, { recursive: true, force: true });
    }
  });
});
