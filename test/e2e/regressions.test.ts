import fs from 'node:fs';
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { expectCleanError, mlx, mlxJson, mlxOk } from '../helpers/cli.js';
import { bytes, gitCloneLocal, gitCommitAll, tempDir, useTempRepo, write } from '../helpers/repo.js';

const repo = useTempRepo((d) => mlxOk(d, 'init'));
let dir: string;
beforeEach(() => {
  dir = repo();
});


describe('cache safety across link types', () => {
  it('switching from hardlink back to copy replaces the links and leaves cache objects read-only', () => {
    write(dir, 'd/run.sh', '#!/bin/sh\necho hi\n');
    fs.chmodSync(path.join(dir, 'd/run.sh'), 0o755);
    write(dir, 'd/data.bin', bytes(1000, 'h'));
    mlxOk(dir, 'add', 'd');
    mlxOk(dir, 'config', 'cache.type', 'hardlink');
    fs.rmSync(path.join(dir, 'd'), { recursive: true });
    mlxOk(dir, 'checkout');
    mlxOk(dir, 'config', '--unset', 'cache.type');
    mlxOk(dir, 'checkout');
    for (const f of ['run.sh', 'data.bin']) {
      const ws = fs.statSync(path.join(dir, 'd', f));
      expect(ws.nlink).toBe(1);
    }
    for (const fan of fs.readdirSync(path.join(dir, '.mlx/cache/objects'))) {
      for (const o of fs.readdirSync(path.join(dir, '.mlx/cache/objects', fan))) {
        expect(fs.statSync(path.join(dir, '.mlx/cache/objects', fan, o)).mode & 0o777).toBe(0o444);
      }
    }
    expect(fs.statSync(path.join(dir, 'd/run.sh')).mode & 0o111).not.toBe(0);
    mlxOk(dir, 'verify');
  });

  it('a same-size edit with the mtime put back is still detected (ctime)', async () => {
    write(dir, 'f.bin', 'aaaaaaaaaa');
    mlxOk(dir, 'add', 'f.bin');
    const before = fs.statSync(path.join(dir, 'f.bin'));
    await new Promise((r) => setTimeout(r, 30));
    const fd = fs.openSync(path.join(dir, 'f.bin'), 'r+');
    fs.writeSync(fd, 'b', 3);
    fs.closeSync(fd);
    fs.utimesSync(path.join(dir, 'f.bin'), before.atime, before.mtime);
    expect(mlxJson(dir, 'status').paths[0].state).toBe('modified');
  });
});

describe('files that only look like mlx files', () => {
  it('a .mlx file that is not a pointer is data: checkout and push ignore it, add tracks it', () => {
    write(dir, 'notes/live.mlx', 'PK\u0003\u0004 a MATLAB live script');
    write(dir, 'ds/also.mlx', 'not a pointer either');
    write(dir, 'ds/x.bin', 'x');
    mlxOk(dir, 'checkout');
    const added = mlxJson(dir, 'add', 'ds', 'notes/live.mlx');
    expect(added.paths.map((p: any) => [p.path, p.kind])).toEqual([
      ['ds', 'dir'],
      ['notes/live.mlx', 'file'],
    ]);
    expect(fs.existsSync(path.join(dir, 'notes/live.mlx.mlx'))).toBe(true);
    expect(mlxJson(dir, 'status').paths.map((p: any) => p.state)).toEqual(['clean', 'clean']);
  });
});

describe('merges and partial work', () => {
  it('mlx add replaces a pointer left with conflict markers, and status explains them', () => {
    write(dir, 'model.ckpt', 'mine');
    mlxOk(dir, 'add', 'model.ckpt');
    const ours = fs.readFileSync(path.join(dir, 'model.ckpt.mlx'), 'utf8');
    fs.writeFileSync(path.join(dir, 'model.ckpt.mlx'), `<<<<<<< ours\n${ours}=======\n${ours.replace(/oid: .*/, `oid: b3:${'e'.repeat(64)}`)}>>>>>>> theirs\n`);
    const res = mlx(dir, 'status');
    expect(expectCleanError(res)).toMatch(/pointer file model\.ckpt\.mlx has unresolved merge conflict markers.*hint: keep one side/);
    expect(res.stdout).toMatch(/problem: +model\.ckpt\.mlx: pointer file model\.ckpt\.mlx has unresolved merge conflict markers/);
    mlxOk(dir, 'add', 'model.ckpt');
    expect(fs.readFileSync(path.join(dir, 'model.ckpt.mlx'), 'utf8')).toBe(ours);
  });

  it('adding one file after a partial pull keeps the rest of the directory', async () => {
    const store = tempDir('mlx-partial-');
    const fresh = tempDir('mlx-partial-fresh-');
    fs.rmSync(fresh, { recursive: true });
    try {
      for (let i = 0; i < 5; i++) write(dir, `d/f${i}.txt`, `file ${i}\n`);
      mlxOk(dir, 'add', 'd');
      mlxOk(dir, 'remote', 'add', '-d', 'storage', store);
      mlxOk(dir, 'push');
      await gitCommitAll(dir, 'v1');
      await gitCloneLocal(dir, fresh);
      mlxOk(fresh, 'pull', 'd/f1.txt');
      write(fresh, 'd/new.txt', 'new\n');
      const res = mlxJson(fresh, 'add', 'd/new.txt');
      expect(res.paths[0]).toMatchObject({ path: 'd', files: 6 });
      expect(expectCleanError(mlx(fresh, 'add', 'd/nonexistent.txt'))).toMatch(/d\/nonexistent\.txt: no such file or directory/);
      expect(expectCleanError(mlx(fresh, 'checkout', 'd/nonexistent.txt'))).toMatch(/is not part of d/);
      expect(expectCleanError(mlx(fresh, 'pull', 'd/nonexistent.txt'))).toMatch(/is not part of d/);
      // Pulling the rest now brings every original file plus the new one.
      mlxOk(fresh, 'pull');
      expect(fs.readdirSync(path.join(fresh, 'd')).sort()).toEqual(['f0.txt', 'f1.txt', 'f2.txt', 'f3.txt', 'f4.txt', 'new.txt']);
    } finally {
      fs.rmSync(store, { recursive: true, force: true });
      fs.rmSync(fresh, { recursive: true, force: true });
    }
  });

  it('data checked out where a pointer was moved stays out of git', () => {
    write(dir, 'model.ckpt', 'weights');
    mlxOk(dir, 'add', 'model.ckpt');
    fs.mkdirSync(path.join(dir, 'models'));
    fs.renameSync(path.join(dir, 'model.ckpt.mlx'), path.join(dir, 'models/model.ckpt.mlx'));
    mlxOk(dir, 'checkout');
    expect(fs.readFileSync(path.join(dir, 'models/model.ckpt'), 'utf8')).toBe('weights');
    expect(fs.readFileSync(path.join(dir, '.gitignore'), 'utf8').split('\n')).toContain('/models/model.ckpt');
  });
});

describe('leftovers of killed processes', () => {
  it('temp files of dead processes and unreadable old locks are cleaned up by the next command', () => {
    fs.mkdirSync(path.join(dir, '.mlx/tmp'), { recursive: true });
    const orphan = path.join(dir, '.mlx/tmp/4194999-deadbeef');
    fs.writeFileSync(orphan, 'half a checkout');
    const lock = path.join(dir, '.mlx/state/lock');
    fs.writeFileSync(lock, '');
    const old = new Date(Date.now() - 60_000);
    fs.utimesSync(lock, old, old);
    write(dir, 'a.bin', 'a');
    mlxOk(dir, 'add', 'a.bin');
    expect(fs.existsSync(orphan)).toBe(false);
    expect(fs.existsSync(lock)).toBe(false);
  });

  it('a push repairs a remote whose pack was deleted', async () => {
    const store = tempDir('mlx-repair-');
    try {
      write(dir, 'a.bin', bytes(2000, 'a'));
      mlxOk(dir, 'add', 'a.bin');
      mlxOk(dir, 'remote', 'add', '-d', 'storage', store);
      mlxOk(dir, 'push');
      const pack = fs.readdirSync(path.join(store, 'packs')).find((f) => f.endsWith('.pack'))!;
      fs.rmSync(path.join(store, 'packs', pack));
      // Readers of layout 3 list index/ only: verify --remote (which lists packs/) finds the loss,
      // and push --repair sends the objects again.
      const verify = mlx(dir, 'verify', '--remote');
      expect(verify.code).toBe(1);
      expect(verify.stdout + verify.stderr).toMatch(/a\.bin/);
      const repair = mlx(dir, '--json', 'push', '--repair');
      expect(repair.code).toBe(0);
      const repaired = JSON.parse(repair.stdout);
      expect(repaired.uploadedObjects).toBe(1);
      expect(`${JSON.stringify(repaired.warnings ?? [])}${repair.stderr}`).toMatch(/pack [0-9a-f]+ is published but its pack file is missing: its objects are sent again/);
      mlxOk(dir, 'verify', '--remote');
    } finally {
      fs.rmSync(store, { recursive: true, force: true });
    }
  });
});

describe('the executable bit of a top-level tracked file', () => {
  const isExec = (root: string, rel: string) => (fs.statSync(path.join(root, rel)).mode & 0o111) !== 0;

  it('round-trips through add, commit, push, a fresh clone and pull, and through checkout after rm', async () => {
    const remoteDir = tempDir('mlx-remote-');
    const fresh = tempDir('mlx-fresh-');
    fs.rmSync(fresh, { recursive: true });
    try {
      fs.copyFileSync('/bin/ls', path.join(dir, 'tool.bin'));
      fs.chmodSync(path.join(dir, 'tool.bin'), 0o755);
      write(dir, 'plain.bin', bytes(2000, 'plain'));
      mlxOk(dir, 'add', 'tool.bin', 'plain.bin');
      expect(fs.readFileSync(path.join(dir, 'tool.bin.mlx'), 'utf8')).toMatch(/\nsize: \d+\nx: true\n$/);
      expect(fs.readFileSync(path.join(dir, 'plain.bin.mlx'), 'utf8')).not.toMatch(/\nx:/);
      mlxOk(dir, 'remote', 'add', '-d', 'storage', remoteDir);
      await gitCommitAll(dir, 'tool');
      mlxOk(dir, 'push');
      await gitCloneLocal(dir, fresh);
      mlxOk(fresh, 'pull');
      expect(fs.readFileSync(path.join(fresh, 'tool.bin')).equals(fs.readFileSync('/bin/ls'))).toBe(true);
      expect(isExec(fresh, 'tool.bin')).toBe(true);
      expect(isExec(fresh, 'plain.bin')).toBe(false);
      expect(mlxJson(fresh, 'status').paths.map((p: any) => p.state)).toEqual(['clean', 'clean']);
      fs.rmSync(path.join(fresh, 'tool.bin'));
      mlxOk(fresh, 'checkout');
      expect(isExec(fresh, 'tool.bin')).toBe(true);
      expect(mlxJson(fresh, 'add', 'tool.bin').paths[0].changed).toBe(false);
    } finally {
      for (const d of [remoteDir, fresh]) fs.rmSync(d, { recursive: true, force: true });
    }
  });

  it('status reports a changed bit, checkout puts the recorded one back, and revisions carry it', async () => {
    write(dir, 'run.sh', '#!/bin/sh\necho hi\n');
    mlxOk(dir, 'add', 'run.sh');
    await gitCommitAll(dir, 'not executable');
    fs.chmodSync(path.join(dir, 'run.sh'), 0o755);
    expect(mlxJson(dir, 'status').paths[0].state).toBe('modified');
    mlxOk(dir, 'checkout', 'run.sh');
    expect(isExec(dir, 'run.sh')).toBe(false);
    expect(mlxJson(dir, 'status').paths[0].state).toBe('clean');

    fs.chmodSync(path.join(dir, 'run.sh'), 0o755);
    expect(mlxJson(dir, 'add', 'run.sh').paths[0].changed).toBe(true);
    expect(mlxJson(dir, 'status').paths[0].state).toBe('clean');
    await gitCommitAll(dir, 'executable');
    fs.chmodSync(path.join(dir, 'run.sh'), 0o644);
    expect(mlxJson(dir, 'status').paths[0].state).toBe('modified');
    mlxOk(dir, 'checkout');
    expect(isExec(dir, 'run.sh')).toBe(true);

    // Only the bit differs between the two commits: checkout <rev> still rewrites pointer and mode.
    mlxOk(dir, 'checkout', 'HEAD~1');
    expect(fs.readFileSync(path.join(dir, 'run.sh.mlx'), 'utf8')).not.toMatch(/\nx:/);
    expect(isExec(dir, 'run.sh')).toBe(false);
    mlxOk(dir, 'checkout', 'main');
    expect(fs.readFileSync(path.join(dir, 'run.sh.mlx'), 'utf8')).toMatch(/\nx: true\n$/);
    expect(isExec(dir, 'run.sh')).toBe(true);
    expect(mlxJson(dir, 'status').paths[0].state).toBe('clean');
  });
});

describe('git states the redesign must keep working in', () => {
  const git = (cwd: string, ...args: string[]) =>
    execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@example.com', ...args], { cwd, encoding: 'utf8' });

  it('add works with index version 4 (feature.manyFiles), and still refuses a path git tracks', () => {
    git(dir, 'config', 'index.version', '4');
    write(dir, 'code.py', 'print(1)\n');
    git(dir, 'add', '-A');
    git(dir, 'commit', '-qm', 'code');
    expect(fs.readFileSync(path.join(dir, '.git/index')).readUInt32BE(4)).toBe(4);
    write(dir, 'data/a.txt', 'a');
    expect(mlxOk(dir, 'add', 'data').stdout).toMatch(/^added {2}data {2}\(1 files, 1 B\)/);
    const err = expectCleanError(mlx(dir, 'add', 'code.py'));
    expect(err).toMatch(/code\.py/);
    expect(err).toMatch(/git/);
  });

  it('gc and run work in a detached linked git worktree', () => {
    write(dir, 'm.bin', 'model');
    mlxOk(dir, 'add', 'm.bin');
    git(dir, 'add', '-A');
    git(dir, 'commit', '-qm', 'one');
    const wt = `${dir}-wt`;
    git(dir, 'worktree', 'add', '-q', '--detach', wt, 'HEAD');
    try {
      expect(mlxOk(wt, 'gc').stdout).toMatch(/^removed 0 object/);
      expect(mlxOk(wt, 'run', '-n', 't', '-o', 'o.txt', '--', 'sh', '-c', 'echo hi > o.txt').stdout).toMatch(/recorded run t /);
    } finally {
      fs.rmSync(wt, { recursive: true, force: true });
    }
  });

  it('a metrics file under a path that is a file is "not written", one clean line', () => {
    write(dir, 'notadir', 'x');
    const r = mlx(dir, '--json', 'run', '-n', 't', '-o', 'o.txt', '-M', 'notadir/m.json', '--', 'sh', '-c', 'echo > o.txt');
    expect(r.code).not.toBe(0);
    expect(JSON.parse(r.stdout).error.code).toBe('ERUNFAILED');
  });

  it('--json add reports what it added, not a git command line', () => {
    write(dir, 'f.txt', 'f');
    expect(Object.keys(mlxJson(dir, 'add', 'f.txt')).sort()).not.toContain('toGitAdd');
  });
});
