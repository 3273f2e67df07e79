import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { init } from '../../src/commands/init.js';
import { catalog } from '../../src/run/catalog.js';
import { runLockPath, writeRunLock } from '../../src/run/lockfile.js';
import { openRepo } from '../../src/workspace/repo.js';
import { gitCommitAll, useTempRepo } from '../helpers/repo.js';
import { lockWith, sampleRun } from '../helpers/runs.js';

const dir = useTempRepo((d) => init({ cwd: d }));

describe('catalog', () => {
  it('lists the runs of the work tree and of history, newest first, with the commit that introduced each', async () => {
    const repo = await openRepo(dir());
    writeRunLock(repo, lockWith(['train', sampleRun(1)]));
    const first = await gitCommitAll(repo.root, 'train');
    writeRunLock(repo, lockWith(['train', sampleRun(1)], ['eval', sampleRun(2)]));
    await gitCommitAll(repo.root, 'eval');
    writeRunLock(repo, lockWith(['train', sampleRun(1)], ['eval', sampleRun(2)], ['tune', sampleRun(3)]));
    const cat = await catalog(repo);
    expect(cat.warnings).toEqual([]);
    expect(cat.entries.map((e) => [e.name, e.commit === null ? null : e.commit.length, e.branches])).toEqual([
      ['tune', null, []],
      ['eval', 40, ['main']],
      ['train', 40, ['main']],
    ]);
    expect(cat.entries[2]!.commit).toBe(first);
  });

  it('names a commit whose lockfile does not parse once, and still lists the runs of the others', async () => {
    const repo = await openRepo(dir());
    writeRunLock(repo, lockWith(['train', sampleRun(1)]));
    await gitCommitAll(repo.root, 'train');
    fs.writeFileSync(runLockPath(repo), 'runs: [not, a, map]\n');
    const broken = await gitCommitAll(repo.root, 'broken');
    fs.appendFileSync(path.join(repo.root, 'mlx.lock'), '# still broken\n');
    await gitCommitAll(repo.root, 'still broken');
    writeRunLock(repo, lockWith(['train', sampleRun(1)]));
    const cat = await catalog(repo);
    expect(cat.entries.map((e) => e.name)).toEqual(['train']);
    expect(cat.warnings).toHaveLength(2); // the two broken commits differ in name, so each is named
    expect(cat.warnings[1]).toMatch(new RegExp(`^malformed run lockfile mlx\\.lock@${broken.slice(0, 8)}: `));
  });

  it('sees runs on remote-tracking branches and tags, and names every ref that holds each', async () => {
    const repo = await openRepo(dir());
    writeRunLock(repo, lockWith(['train', sampleRun(1)]));
    const base = await gitCommitAll(repo.root, 'train');
    writeRunLock(repo, lockWith(['train', sampleRun(1)], ['lr', sampleRun(2)]));
    const exp = await gitCommitAll(repo.root, 'lr on a teammate branch');
    // As a fresh clone has them: the teammate's work only on origin/exp-lr, a tag on main's commit.
    const ref = (name: string, oid: string) => {
      fs.mkdirSync(path.dirname(path.join(repo.root, '.git', name)), { recursive: true });
      fs.writeFileSync(path.join(repo.root, '.git', name), `${oid}\n`);
    };
    ref('refs/heads/main', base);
    ref('refs/remotes/origin/main', base);
    ref('refs/remotes/origin/exp-lr', exp);
    fs.writeFileSync(path.join(repo.root, '.git', 'refs', 'remotes', 'origin', 'HEAD'), 'ref: refs/remotes/origin/main\n');
    ref('refs/tags/v1', base);
    writeRunLock(repo, lockWith(['train', sampleRun(1)]));
    const cat = await catalog(repo);
    expect(cat.warnings).toEqual([]);
    expect(cat.entries.map((e) => [e.name, e.commit, e.branches, e.refs])).toEqual([
      ['lr', exp, [], ['origin/exp-lr']],
      ['train', base, ['main'], ['main', 'origin/exp-lr', 'origin/main', 'v1']],
    ]);
  });

  it('names a branch whose history cannot be read instead of skipping it silently', async () => {
    const repo = await openRepo(dir());
    writeRunLock(repo, lockWith(['train', sampleRun(1)]));
    await gitCommitAll(repo.root, 'train');
    // A branch pointing at a commit this repository does not have (a damaged or half-copied .git).
    fs.writeFileSync(path.join(repo.root, '.git', 'refs', 'heads', 'lost'), `${'0123456789'.repeat(4)}\n`);
    const cat = await catalog(repo);
    expect(cat.entries.map((e) => [e.name, e.branches])).toEqual([['train', ['main']]]);
    expect(cat.warnings).toEqual([expect.stringMatching(/^branch lost: its history could not be read \(.+\); its runs are not listed$/)]);
  });
});
