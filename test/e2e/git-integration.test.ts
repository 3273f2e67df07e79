import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import git from 'isomorphic-git';
import { beforeEach, describe, expect, it } from 'vitest';
import { mlx, mlxJson, mlxOk } from '../helpers/cli.js';
import { gitCommitAll, tempDir, useTempRepo, write } from '../helpers/repo.js';

const repo = useTempRepo((d) => mlxOk(d, 'init'));
let dir: string;
beforeEach(() => {
  dir = repo();
});

const author = { name: 'Test', email: 'test@example.com' };

/**
 * Merges `theirs` into the current branch with isomorphic-git, letting it call mlx's merge driver the
 * way git does (`mlx merge-driver %O %A %B %P`, on three temporary files).
 */
async function mergeWithDriver(theirs: string): Promise<{ conflicted: boolean; stderr: string }> {
  let stderr = '';
  let conflicted = false;
  try {
    await git.merge({
      fs, dir, ours: 'main', theirs, author, message: `merge ${theirs}`, abortOnConflict: false,
      mergeDriver: ({ contents, path: filepath }) => {
        const tmp = tempDir('mlx-merge-');
        const [base, ours, other] = ['base', 'ours', 'theirs'].map((n, i) => {
          const f = path.join(tmp, n);
          fs.writeFileSync(f, contents[i] ?? '');
          return f;
        });
        const r = mlx(dir, 'merge-driver', base!, ours!, other!, filepath);
        stderr += r.stderr;
        const mergedText = fs.readFileSync(ours!, 'utf8');
        fs.rmSync(tmp, { recursive: true, force: true });
        return { cleanMerge: r.code === 0, mergedText };
      },
    });
    await git.checkout({ fs, dir, ref: 'main', force: true }); // isomorphic-git merges into the branch only
  } catch (err) {
    if ((err as { code?: string }).code !== 'MergeConflictError') throw err;
    conflicted = true;
  }
  return { conflicted, stderr };
}

async function branchWith(name: string, edit: () => void): Promise<void> {
  await git.branch({ fs, dir, ref: name, checkout: true });
  edit();
  mlxOk(dir, 'add', 'd');
  await gitCommitAll(dir, name);
  await git.checkout({ fs, dir, ref: 'main', force: true });
  mlxOk(dir, 'checkout', '--force');
}

describe('merge driver', () => {
  beforeEach(async () => {
    for (let i = 1; i <= 4; i++) write(dir, `d/f${i}.txt`, `base ${i}\n`);
    mlxOk(dir, 'add', 'd');
    await gitCommitAll(dir, 'base');
  });

  it('merges directory pointers file by file when the two sides changed different files', async () => {
    await branchWith('feat', () => write(dir, 'd/f1.txt', 'feat\n'));
    write(dir, 'd/f2.txt', 'main\n');
    write(dir, 'd/new.txt', 'added on main\n');
    mlxOk(dir, 'add', 'd');
    await gitCommitAll(dir, 'main');
    const res = await mergeWithDriver('feat');
    expect(res).toMatchObject({ conflicted: false });
    mlxOk(dir, 'checkout');
    expect(['f1', 'f2', 'f3', 'new'].map((f) => fs.readFileSync(path.join(dir, `d/${f}.txt`), 'utf8'))).toEqual(['feat\n', 'main\n', 'base 3\n', 'added on main\n']);
    expect(mlxJson(dir, 'status').paths[0].state).toBe('clean');
  });

  it('leaves a clear conflict when both sides changed the same file', async () => {
    await branchWith('feat', () => write(dir, 'd/f1.txt', 'feat\n'));
    write(dir, 'd/f1.txt', 'main\n');
    mlxOk(dir, 'add', 'd');
    await gitCommitAll(dir, 'main');
    const res = await mergeWithDriver('feat');
    expect(res.conflicted).toBe(true);
    expect(res.stderr).toMatch(/mlx: error: merge conflict in d\.mlx: d\/f1\.txt/);
    const text = fs.readFileSync(path.join(dir, 'd.mlx'), 'utf8');
    expect(text).toMatch(/^<<<<<<< ours\n[\s\S]*\n=======\n[\s\S]*\n>>>>>>> theirs\n$/);
    const st = mlx(dir, 'status');
    expect(st.code).not.toBe(0);
    expect(st.stderr).toMatch(/^mlx: error: pointer file d\.mlx has unresolved merge conflict markers/);
  });

  it('takes the side that made a file pointer executable, though the content is the same', () => {
    write(dir, 'run.sh', '#!/bin/sh\necho hi\n');
    mlxOk(dir, 'add', 'run.sh');
    const plain = fs.readFileSync(path.join(dir, 'run.sh.mlx'), 'utf8');
    fs.chmodSync(path.join(dir, 'run.sh'), 0o755);
    mlxOk(dir, 'add', 'run.sh');
    const executable = fs.readFileSync(path.join(dir, 'run.sh.mlx'), 'utf8');
    expect(executable).not.toBe(plain);
    const tmp = tempDir('mlx-merge-');
    try {
      const [base, ours, theirs] = ['base', 'ours', 'theirs'].map((n) => path.join(tmp, n));
      fs.writeFileSync(base!, plain);
      fs.writeFileSync(ours!, plain);
      fs.writeFileSync(theirs!, executable);
      mlxOk(dir, 'merge-driver', base!, ours!, theirs!, 'run.sh.mlx');
      expect(fs.readFileSync(ours!, 'utf8')).toBe(executable);
    } finally {
      fs.rmSync(tmp, { recursive: true, force: true });
    }
  });
});

describe('mlx install', () => {
  it('writes hooks that restore data after a checkout and warn before committing pointers without data', async () => {
    write(dir, 'model.ckpt', 'v1 weights');
    mlxOk(dir, 'add', 'model.ckpt');
    await gitCommitAll(dir, 'v1');
    fs.mkdirSync(path.join(dir, '.git/hooks'), { recursive: true });
    fs.writeFileSync(path.join(dir, '.git/hooks/pre-commit'), '#!/bin/sh\necho previous hook ran >&2\n', { mode: 0o755 });
    const res = mlxJson(dir, 'install');
    expect(res.hooks.map((h: any) => h.name)).toEqual(['post-checkout', 'post-merge', 'pre-push', 'pre-commit']);
    expect(res.hooks.find((h: any) => h.name === 'pre-commit').chained).toMatch(/pre-commit\.pre-mlx$/);
    expect(fs.readFileSync(path.join(dir, '.gitattributes'), 'utf8')).toBe('*.mlx merge=mlx\nmlx.lock merge=mlx\n.gitignore merge=mlx\n');
    expect(fs.readFileSync(path.join(dir, '.git/config'), 'utf8')).toMatch(/\[merge "mlx"\][\s\S]*driver = ".*merge-driver %O %A %B %P"/);
    // Installing twice changes nothing and chains nothing twice.
    mlxOk(dir, 'install');
    expect(fs.readFileSync(path.join(dir, '.gitattributes'), 'utf8')).toBe('*.mlx merge=mlx\nmlx.lock merge=mlx\n.gitignore merge=mlx\n');

    // Run the hooks as git would.
    const hook = (name: string, ...args: string[]) => spawnSync(path.join(dir, '.git/hooks', name), args, { cwd: dir, encoding: 'utf8', input: '' });
    write(dir, 'model.ckpt', 'v2 weights');
    mlxOk(dir, 'add', 'model.ckpt');
    await gitCommitAll(dir, 'v2');
    const [v2, v1] = (await git.log({ fs, dir })).map((c) => c.oid);
    await git.checkout({ fs, dir, ref: v1!, force: true });
    const post = hook('post-checkout', v2!, v1!, '1');
    expect(post.status).toBe(0);
    expect(post.stderr).toContain('mlx: restored 1 tracked path(s)');
    expect(fs.readFileSync(path.join(dir, 'model.ckpt'), 'utf8')).toBe('v1 weights');

    const oid = /oid: b3:([0-9a-f]{64})/.exec(fs.readFileSync(path.join(dir, 'model.ckpt.mlx'), 'utf8'))![1]!;
    fs.rmSync(path.join(dir, '.mlx/cache/objects', oid.slice(0, 2), oid.slice(2)));
    const pre = hook('pre-commit');
    expect(pre.status).toBe(0);
    expect(pre.stderr).toContain('previous hook ran');
    expect(pre.stderr).toContain('mlx: warning: model.ckpt points at data that is not in the cache');
  });

  it('pre-push pushes the data first and stops git push when it cannot', async () => {
    write(dir, 'a.bin', 'data');
    mlxOk(dir, 'add', 'a.bin');
    mlxOk(dir, 'install');
    const hook = () => spawnSync(path.join(dir, '.git/hooks/pre-push'), ['origin', 'file:///x'], { cwd: dir, encoding: 'utf8', input: '' });
    expect(hook().stderr).toContain('no default remote, data not pushed');
    const store = tempDir('mlx-hook-remote-');
    try {
      mlxOk(dir, 'remote', 'add', '-d', 'storage', store);
      const ok = hook();
      expect(ok.status).toBe(0);
      expect(ok.stderr).toContain('mlx: pushed 1 object(s) to storage');
      expect(mlxOk(dir, 'status', '--remote').stdout).toContain('everything is on storage');
      fs.rmSync(store, { recursive: true });
      write(dir, 'b.bin', 'more');
      mlxOk(dir, 'add', 'b.bin');
      const stopped = hook();
      expect(stopped.status).not.toBe(0);
      expect(stopped.stderr).toMatch(/pre-push hook stopped git/);
    } finally {
      fs.rmSync(store, { recursive: true, force: true });
    }
  });

  it('pre-push sends the data of every commit being pushed, not only the work tree, and stops when some is nowhere', async () => {
    const store = tempDir('mlx-hook-remote-');
    try {
      write(dir, 'model.ckpt', 'weights v1');
      mlxOk(dir, 'add', 'model.ckpt');
      const c1 = await gitCommitAll(dir, 'v1');
      write(dir, 'model.ckpt', 'weights v2');
      mlxOk(dir, 'add', 'model.ckpt');
      const c2 = await gitCommitAll(dir, 'v2');
      mlxOk(dir, 'remote', 'add', '-d', 'storage', store);
      mlxOk(dir, 'install');
      // What git writes to the hook for `git push origin main` of a new branch.
      const zero = '0'.repeat(40);
      const prePush = (local: string, remote: string) =>
        spawnSync(path.join(dir, '.git/hooks/pre-push'), ['origin', 'file:///x'], { cwd: dir, encoding: 'utf8', input: `refs/heads/main ${local} refs/heads/main ${remote}\n` });

      const first = prePush(c2, zero);
      expect(first.status).toBe(0);
      expect(first.stderr).toContain('mlx: pushed 2 object(s) to storage (data of 2 new commit(s)');
      // v1's data is on the remote although the work tree holds v2.
      expect(mlx(dir, 'verify', '--remote', c1).code).toBe(0);

      // A push of a commit whose data was lost locally and never pushed is stopped, naming it.
      write(dir, 'model.ckpt', 'weights v3');
      mlxOk(dir, 'add', 'model.ckpt');
      const c3 = await gitCommitAll(dir, 'v3');
      const v3 = /oid: b3:([0-9a-f]{64})/.exec(fs.readFileSync(path.join(dir, 'model.ckpt.mlx'), 'utf8'))![1]!;
      write(dir, 'model.ckpt', 'weights v4');
      mlxOk(dir, 'add', 'model.ckpt');
      fs.rmSync(path.join(dir, '.mlx/cache/objects', v3.slice(0, 2), v3.slice(2)), { force: true });
      const stopped = prePush(c3, c2);
      expect(stopped.status).not.toBe(0);
      expect(stopped.stderr).toContain(`the data of model.ckpt at ${c3.slice(0, 12)} is neither in the cache nor on remote storage`);

      // Only commits the git remote lacks are walked: with c3 already there, nothing of it is asked for.
      const again = prePush(c3, c3);
      expect(again.status).toBe(0);

      // Pushing an annotated tag of c3 is pushing c3: its missing data stops the push too.
      await git.annotatedTag({ fs, dir, ref: 'v3', object: c3, message: 'v3', tagger: author });
      const tagOid = await git.resolveRef({ fs, dir, ref: 'refs/tags/v3' });
      expect(tagOid).not.toBe(c3);
      const tagPush = spawnSync(path.join(dir, '.git/hooks/pre-push'), ['origin', 'file:///x'], { cwd: dir, encoding: 'utf8', input: `refs/tags/v3 ${tagOid} refs/tags/v3 ${zero}\n` });
      expect(tagPush.status).not.toBe(0);
      expect(tagPush.stderr).toContain(`the data of model.ckpt at ${c3.slice(0, 12)}`);
    } finally {
      fs.rmSync(store, { recursive: true, force: true });
    }
  });
});
