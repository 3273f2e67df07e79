import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, expectCleanError, mlx, mlxJson, mlxOk, type RunResult } from '../helpers/cli.js';
import { Failpoints } from '../helpers/failpoints.js';
import { tempDir, write } from '../helpers/repo.js';
import { commitAll, git, makeTeam, type Team } from '../helpers/team.js';

/*
 * Partial checkouts: Alice tracks a directory of 300 files (and two single files) and pushes them; each
 * test starts from a fresh clone that pulls only part of it, as a teammate after one file would.
 */

const FILES = 300;
const name = (i: number) => `s${String(i).padStart(5, '0')}.txt`;
const content = (i: number, v = 'v1') => `${v} file ${i}\n`;

let store: string;
let team: Team;
let clones = 0;
beforeAll(() => {
  store = tempDir('mlx-partial-store-');
  team = makeTeam([store]);
  for (let i = 1; i <= FILES; i++) write(team.alice, `data/small/${name(i)}`, content(i));
  write(team.alice, 'a.csv', 'a,b\n1,2\n');
  write(team.alice, 'b.csv', 'c,d\n3,4\n');
  mlxOk(team.alice, 'add', 'data/small', 'a.csv', 'b.csv');
  mlxOk(team.alice, 'push');
  commitAll(team.alice, 'data v1');
  git(team.alice, 'push', '-q', 'origin', 'main');
});
afterAll(() => {
  team.cleanup();
  fs.rmSync(store, { recursive: true, force: true });
});

function freshClone(): string {
  return team.clone(`bob${++clones}`);
}

function small(dir: string): any {
  return mlxJson(dir, 'status').paths.find((p: any) => p.path === 'data/small');
}

function filesIn(dir: string): string[] {
  return fs.existsSync(dir) ? fs.readdirSync(dir).sort() : [];
}

function mlxWith(cwd: string, env: Record<string, string>, ...args: string[]): RunResult {
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd, encoding: 'utf8', env: { ...process.env, MLX_LOCK_TIMEOUT_MS: '30000', ...env } });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

const partialFile = (dir: string) => path.join(dir, '.mlx', 'state', 'partial.json');

describe('a one-file pull of a tracked directory', () => {
  it('is reported as partial, 1 of 300 files present, with nothing deleted (text and --json)', () => {
    const bob = freshClone();
    mlxOk(bob, 'pull', `data/small/${name(42)}`);
    expect(filesIn(path.join(bob, 'data/small'))).toEqual([name(42)]);

    const r = mlxOk(bob, 'status');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('partial:      data/small  (1 of 300 files present)\n');
    expect(r.stdout).not.toContain('deleted');
    const s = small(bob);
    expect(s.state).toBe('partial');
    expect(s.partial).toEqual({ present: 1, total: FILES, selected: [name(42)] });
    expect(s.changes).toBeUndefined();
    // Only the part asked for must be in the cache.
    expect(s.cache).toBe('ok');
    // Single files never pulled are missing (as in a fresh clone), never deleted.
    const st = mlxJson(bob, 'status');
    expect(st.paths.find((p: any) => p.path === 'b.csv').state).toBe('missing');
  });

  it('reports the checked-out file deleted or modified by the user, and only that file', () => {
    const bob = freshClone();
    mlxOk(bob, 'pull', `data/small/${name(42)}`, `data/small/${name(43)}`);
    fs.rmSync(path.join(bob, 'data/small', name(42)));
    fs.appendFileSync(path.join(bob, 'data/small', name(43)), 'edited\n');
    const s = small(bob);
    expect(s.state).toBe('modified');
    expect(s.changes).toEqual({ added: [], modified: [name(43)], deleted: [name(42)] });
    expect(s.partial).toEqual({ present: 1, total: FILES, selected: [name(42), name(43)] });
    const text = mlxOk(bob, 'status').stdout;
    expect(text).toContain('modified:     data/small  (partial: 1 of 300 files present)\n');
    expect(text.match(/deleted:/g)).toHaveLength(1);
  });

  it('is completed by mlx pull without paths, which clears the state', () => {
    const bob = freshClone();
    mlxOk(bob, 'pull', `data/small/${name(42)}`);
    expect(fs.existsSync(partialFile(bob))).toBe(true);
    mlxOk(bob, 'pull');
    expect(filesIn(path.join(bob, 'data/small'))).toHaveLength(FILES);
    expect(mlxOk(bob, 'status').stdout).toBe('everything is up to date\n');
    expect(fs.existsSync(partialFile(bob))).toBe(false);
  });

  it('is completed by mlx checkout once the objects are fetched', () => {
    const bob = freshClone();
    mlxOk(bob, 'pull', `data/small/${name(7)}`);
    expect(small(bob).state).toBe('partial');
    mlxOk(bob, 'fetch');
    mlxOk(bob, 'checkout');
    expect(small(bob).state).toBe('clean');
    expect(fs.existsSync(partialFile(bob))).toBe(false);
  });

  it('widens with a second pull of another file', () => {
    const bob = freshClone();
    mlxOk(bob, 'pull', `data/small/${name(1)}`);
    mlxOk(bob, 'pull', `data/small/${name(2)}`);
    expect(small(bob).partial).toEqual({ present: 2, total: FILES, selected: [name(1), name(2)] });
  });

  it('a path pulled inside a directory that is there whole leaves it whole', () => {
    const bob = freshClone();
    mlxOk(bob, 'pull');
    fs.rmSync(path.join(bob, 'data/small', name(9)));
    mlxOk(bob, 'checkout', `data/small/${name(9)}`);
    expect(fs.existsSync(partialFile(bob))).toBe(false);
    fs.rmSync(path.join(bob, 'data/small', name(10)));
    expect(small(bob).changes.deleted).toEqual([name(10)]);
  });
});

describe('mlx add of a partial directory', () => {
  it('refuses to add it whole with one line, and the pointer stays as it was', () => {
    const bob = freshClone();
    mlxOk(bob, 'pull', `data/small/${name(42)}`);
    const before = fs.readFileSync(path.join(bob, 'data/small.mlx'), 'utf8');
    const r = mlx(bob, 'add', 'data/small');
    expect(expectCleanError(r)).toContain('data/small is a partial checkout (1 of 300 files present)');
    const j = mlx(bob, '--json', 'add', 'data/small');
    expect(JSON.parse(j.stdout).error).toMatchObject({ code: 'EPARTIAL', data: { path: 'data/small', present: 1, total: FILES } });
    expect(fs.readFileSync(path.join(bob, 'data/small.mlx'), 'utf8')).toBe(before);
  });

  it('adds a changed file by its path and keeps every other file recorded', () => {
    const bob = freshClone();
    mlxOk(bob, 'pull', `data/small/${name(42)}`);
    write(bob, `data/small/${name(42)}`, 'changed\n');
    write(bob, 'data/small/new.txt', 'new\n');
    const added = mlxJson(bob, 'add', `data/small/${name(42)}`, 'data/small/new.txt');
    expect(added.paths[0]).toMatchObject({ path: 'data/small', files: FILES + 1 });
    const s = small(bob);
    expect(s.state).toBe('partial');
    // What was added is in the work tree: it joined the selection, so deleting it is seen.
    expect(s.partial.selected).toEqual(['new.txt', name(42)]);
    fs.rmSync(path.join(bob, 'data/small/new.txt'));
    expect(small(bob).changes.deleted).toEqual(['new.txt']);
  });
});

describe('mlx add by path inside a partial directory with a hardlink cache', () => {
  it('links only what it added and needs none of the files never checked out', () => {
    const bob = freshClone();
    mlxOk(bob, 'config', '--local', 'cache.type', 'hardlink');
    mlxOk(bob, 'pull', `data/small/${name(42)}`);
    const file = path.join(bob, 'data/small', name(42));
    fs.rmSync(file);
    fs.writeFileSync(file, 'changed\n');
    mlxOk(bob, 'add', `data/small/${name(42)}`);
    expect(fs.statSync(file).nlink).toBe(2);
    expect(small(bob)).toMatchObject({ state: 'partial', partial: { present: 1, total: FILES } });
  });
});

describe('mlx checkout <rev> of a partial directory', () => {
  it('keeps the partial selection, at the other revision, fetching only its part', () => {
    const bob = freshClone();
    mlxOk(bob, 'pull', `data/small/${name(42)}`);
    // Alice changes the file Bob has and another one.
    write(team.alice, `data/small/${name(42)}`, content(42, 'v2'));
    write(team.alice, `data/small/${name(100)}`, content(100, 'v2'));
    mlxOk(team.alice, 'add', 'data/small');
    mlxOk(team.alice, 'push');
    commitAll(team.alice, 'data v2');
    git(team.alice, 'push', '-q', 'origin', 'main');
    try {
      git(bob, 'fetch', '-q', 'origin');
      const res = mlxJson(bob, 'checkout', 'origin/main');
      // a.csv and b.csv (not partial: checked out whole, as before), the new manifest and the new
      // s00042.txt; none of the 299 files outside the selection.
      expect(res.fetched).toBe(4);
      expect(filesIn(path.join(bob, 'data/small'))).toEqual([name(42)]);
      expect(fs.readFileSync(path.join(bob, 'data/small', name(42)), 'utf8')).toBe(content(42, 'v2'));
      expect(small(bob)).toMatchObject({ state: 'partial', partial: { present: 1, total: FILES } });

      // So does the hook git runs after a pull or a branch switch (here: after a merge).
      const carol = freshClone();
      git(carol, 'reset', '-q', '--hard', 'HEAD~1');
      mlxOk(carol, 'pull', `data/small/${name(42)}`);
      git(carol, 'pull', '-q', '--ff-only', 'origin', 'main');
      mlxOk(carol, 'hook', 'post-merge', '0');
      expect(filesIn(path.join(carol, 'data/small'))).toEqual([name(42)]);
      expect(fs.readFileSync(path.join(carol, 'data/small', name(42)), 'utf8')).toBe(content(42, 'v2'));
      expect(small(carol)).toMatchObject({ state: 'partial', partial: { present: 1, total: FILES } });
    } finally {
      git(team.alice, 'reset', '-q', '--hard', 'HEAD~1');
      git(team.alice, 'push', '-q', '-f', 'origin', 'main');
      mlxOk(team.alice, 'checkout', '--force');
    }
  });
});

describe('the partial-checkout state survives a crash', () => {
  it('a pull killed after recording its part but before writing it never shows unasked files as deleted', () => {
    const bob = freshClone();
    const fp = new Failpoints();
    try {
      const r = mlxWith(bob, fp.env({ 'checkout.partial-recorded': 'exit' }), 'pull', `data/small/${name(42)}`);
      expect(r.code).toBe(86);
      const st = mlxOk(bob, 'status').stdout;
      expect(st).not.toMatch(/deleted: +data\/small\/s00001/);
      mlxOk(bob, 'pull', `data/small/${name(42)}`);
      expect(small(bob)).toMatchObject({ state: 'partial', partial: { present: 1, total: FILES } });
    } finally {
      fp.cleanup();
    }
  });

  it('a completing pull killed before it forgets the state leaves a clean status, and the next checkout forgets it', () => {
    const bob = freshClone();
    mlxOk(bob, 'pull', `data/small/${name(42)}`);
    const fp = new Failpoints();
    try {
      const r = mlxWith(bob, fp.env({ 'checkout.applied': 'exit' }), 'pull');
      expect(r.code).toBe(86);
      expect(fs.existsSync(partialFile(bob))).toBe(true);
      expect(small(bob).state).toBe('clean');
      mlxOk(bob, 'checkout');
      expect(fs.existsSync(partialFile(bob))).toBe(false);
    } finally {
      fp.cleanup();
    }
  });

  it('after such a crash, the directory (whole again) can be added, which forgets the stale record', () => {
    const bob = freshClone();
    mlxOk(bob, 'pull', `data/small/${name(42)}`);
    const fp = new Failpoints();
    try {
      expect(mlxWith(bob, fp.env({ 'checkout.applied': 'exit' }), 'pull').code).toBe(86);
    } finally {
      fp.cleanup();
    }
    write(bob, `data/small/${name(3)}`, 'edited\n');
    expect(mlxJson(bob, 'add', 'data/small').paths[0]).toMatchObject({ files: FILES, changed: true });
    expect(fs.existsSync(partialFile(bob))).toBe(false);
  });

  it('an unreadable state file is one clear error naming it', () => {
    const bob = freshClone();
    mlxOk(bob, 'pull', `data/small/${name(42)}`);
    fs.writeFileSync(partialFile(bob), '{"version":1,"dirs":{"data/small":[');
    expect(expectCleanError(mlx(bob, 'status'))).toContain('partial.json is unreadable');
  });
});

describe('mlx diff without arguments', () => {
  it('shows data edited but not added, marked so, in text, --json and --md; nothing when clean', () => {
    const bob = freshClone();
    mlxOk(bob, 'pull');
    expect(mlxOk(bob, 'diff').stdout).toBe('no changes between HEAD and workspace\n');
    expect(mlxJson(bob, 'diff')).toMatchObject({ changes: [], notAdded: [] });

    write(bob, `data/small/${name(5)}`, 'edited file 5, longer\n');
    write(bob, 'a.csv', 'a,b\n1,2\n3,4\n');
    const text = mlxOk(bob, 'diff').stdout;
    expect(text).toContain('modified (not added) a.csv  8 B → 12 B (+4 B)\n');
    expect(text).toContain('modified (not added) data/small/');
    expect(text).toContain(`    modified  data/small/${name(5)}  10 B → 22 B (+12 B)\n`);

    const j = mlxJson(bob, 'diff');
    expect(j.changes).toEqual([]);
    expect(j.notAdded.map((c: any) => [c.path, c.change, c.notAdded])).toEqual([
      ['a.csv', 'modified', true],
      ['data/small', 'modified', true],
    ]);
    const dir = j.notAdded[1];
    expect(dir.files).toEqual([{ path: name(5), change: 'modified', oldSize: 10, newSize: 22 }]);
    expect(dir.newSize - dir.oldSize).toBe(12);
    // The new oids are those `mlx add` then records.
    mlxOk(bob, 'add', 'a.csv', 'data/small');
    const after = mlxJson(bob, 'diff');
    expect(after.notAdded).toEqual([]);
    expect(after.changes.map((c: any) => [c.path, c.newOid])).toEqual([
      ['a.csv', j.notAdded[0].newOid],
      ['data/small', dir.newOid],
    ]);
  });

  it('marks not-added changes in --md, and leaves explicit revision comparisons alone', () => {
    const bob = freshClone();
    mlxOk(bob, 'pull', 'a.csv');
    write(bob, 'a.csv', 'x\n');
    expect(mlxOk(bob, 'diff', '--md').stdout).toContain('| modified (not added) | `a.csv` |');
    expect(mlxOk(bob, 'diff', 'HEAD', 'HEAD').stdout).toBe('no changes between HEAD and HEAD\n');
    expect(mlxJson(bob, 'diff', 'HEAD', 'HEAD').notAdded).toBeUndefined();
  });

  it('calls nothing a change that was never checked out (a partial pull), only what was edited', () => {
    const bob = freshClone();
    mlxOk(bob, 'pull', `data/small/${name(42)}`);
    expect(mlxOk(bob, 'diff').stdout).toBe('no changes between HEAD and workspace\n');
    write(bob, `data/small/${name(42)}`, 'edited\n');
    const [dir] = mlxJson(bob, 'diff').notAdded;
    expect(dir.files).toEqual([{ path: name(42), change: 'modified', oldSize: 11, newSize: 7 }]);
    // Adding the edit by its path records exactly this size; the other files keep theirs.
    expect(dir.newOid).toBeUndefined();
    mlxOk(bob, 'add', `data/small/${name(42)}`);
    expect(mlxJson(bob, 'diff').changes[0].newSize).toBe(dir.newSize);
  });
});
