import fs from 'node:fs';
import path from 'node:path';
import git from 'isomorphic-git';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { expectCleanError, mlx, mlxJson, mlxOk } from '../helpers/cli.js';
import { bytes, gitCloneLocal, gitCommitAll, gitInit, snapshot, tempDir, useTempRepo, write } from '../helpers/repo.js';

const repo = useTempRepo((d) => mlxOk(d, 'init'));
let dir: string;
beforeEach(() => {
  dir = repo();
});

/** Three commits on main (tagged v1, v2, v3) and a branch `exp` off v2, each with its own data. */
async function recordHistory(root: string): Promise<Record<string, Record<string, string>>> {
  const states: Record<string, Record<string, string>> = {};
  const snap = () => ({ ...prefixed('data', snapshot(path.join(root, 'data'))), 'model.ckpt': fs.readFileSync(path.join(root, 'model.ckpt')).toString('hex').slice(0, 64) });
  for (let i = 0; i < 10; i++) write(root, `data/f${i}.bin`, bytes(1000, `v1-${i}`));
  write(root, 'model.ckpt', bytes(50_000, 'model-v1'));
  mlxOk(root, 'add', 'data', 'model.ckpt');
  await gitCommitAll(root, 'v1');
  await git.tag({ fs, dir: root, ref: 'v1' });
  states.v1 = snap();
  write(root, 'data/f3.bin', bytes(1500, 'v2-3'));
  fs.rmSync(path.join(root, 'data/f4.bin'));
  write(root, 'data/new.bin', bytes(700, 'v2-new'));
  mlxOk(root, 'add', 'data');
  await gitCommitAll(root, 'v2');
  await git.annotatedTag({ fs, dir: root, ref: 'v2', message: 'second', tagger: { name: 'T', email: 't@example.com' } });
  states.v2 = snap();
  await git.branch({ fs, dir: root, ref: 'exp' });
  write(root, 'model.ckpt', bytes(60_000, 'model-v3'));
  mlxOk(root, 'add', 'model.ckpt');
  await gitCommitAll(root, 'v3');
  await git.tag({ fs, dir: root, ref: 'v3' });
  states.v3 = snap();
  return states;
}

// The history costs a dozen CLI runs: it is recorded once, and each test that needs it works on its
// own copy (the cache lives in .mlx/, so the copy is complete).
let template: string;
let templateStates: Record<string, Record<string, string>>;
beforeAll(async () => {
  template = tempDir('mlx-history-');
  await gitInit(template);
  mlxOk(template, 'init');
  templateStates = await recordHistory(template);
}, 120_000);
afterAll(() => fs.rmSync(template, { recursive: true, force: true }));

/** The current test's repository becomes a copy of the recorded history; returns each tag's files. */
async function history(): Promise<Record<string, Record<string, string>>> {
  fs.rmSync(dir, { recursive: true, force: true });
  fs.cpSync(template, dir, { recursive: true });
  return structuredClone(templateStates);
}

function prefixed(prefix: string, o: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(o).map(([k, v]) => [`${prefix}/${k}`, v]));
}

describe('time travel', () => {
  it('mlx checkout <rev> restores each tag, branch and commit byte for byte', async () => {
    const states = await history();
    const snapNow = () => ({ ...prefixed('data', snapshot(path.join(dir, 'data'))), 'model.ckpt': fs.readFileSync(path.join(dir, 'model.ckpt')).toString('hex').slice(0, 64) });
    for (const [rev, want] of [['v1', states.v1], ['v2', states.v2], ['v3', states.v3], ['HEAD~2', states.v1], ['exp', states.v2], ['main', states.v3]] as const) {
      const res = mlxJson(dir, 'checkout', rev);
      expect(res.commit).toMatch(/^[0-9a-f]{40}$/);
      expect(snapNow()).toEqual(want);
      expect(mlxJson(dir, 'status').paths.every((p: any) => p.state === 'clean')).toBe(true);
    }
    // A short commit id works too.
    const [, second] = (await git.log({ fs, dir })).map((c) => c.oid);
    mlxOk(dir, 'checkout', second!.slice(0, 8));
    expect(snapNow()).toEqual(states.v2);
  });

  it('checkout <rev> fetches what the cache lacks from the default remote', async () => {
    await history();
    mlxOk(dir, 'remote', 'add', '-d', 'storage', path.join(dir, '..', `${path.basename(dir)}-remote`));
    for (const rev of ['v1', 'v2', 'v3']) {
      mlxOk(dir, 'checkout', rev);
      mlxOk(dir, 'push');
    }
    await gitCommitAll(dir, 'remote');
    const fresh = tempDir('mlx-fresh-');
    fs.rmSync(fresh, { recursive: true });
    try {
      await gitCloneLocal(dir, fresh);
      const res = mlxJson(fresh, 'checkout', 'v1');
      expect(res.fetched).toBeGreaterThan(0);
      expect(fs.readFileSync(path.join(fresh, 'data/f4.bin'))).toEqual(bytes(1000, 'v1-4'));
    } finally {
      fs.rmSync(fresh, { recursive: true, force: true });
      fs.rmSync(path.join(dir, '..', `${path.basename(dir)}-remote`), { recursive: true, force: true });
    }
  });

  it('refuses to overwrite pointer changes that were never committed', async () => {
    await history();
    write(dir, 'model.ckpt', 'uncommitted weights');
    mlxOk(dir, 'add', 'model.ckpt');
    expect(expectCleanError(mlx(dir, 'checkout', 'v1'))).toMatch(/pointer\(s\) have changes that are not committed: model\.ckpt/);
    expect(fs.readFileSync(path.join(dir, 'model.ckpt'), 'utf8')).toBe('uncommitted weights');
    mlxOk(dir, 'checkout', 'v1', '--force');
    expect(fs.readFileSync(path.join(dir, 'model.ckpt'))).toEqual(bytes(50_000, 'model-v1'));
  });

  it('bad revisions: unknown names, past the first commit, and a repository with no commits', async () => {
    expect(expectCleanError(mlx(dir, 'diff'))).toMatch(/no commits yet/);
    expect(expectCleanError(mlx(dir, 'ls', 'HEAD'))).toMatch(/no commits yet/);
    await history();
    expect(expectCleanError(mlx(dir, 'checkout', 'nope'))).toMatch(/nope is not tracked by mlx/);
    expect(expectCleanError(mlx(dir, 'diff', 'nope'))).toMatch(/unknown revision "nope"/);
    expect(expectCleanError(mlx(dir, 'diff', 'HEAD~9'))).toMatch(/past the first commit/);
  });

  it('a shallow clone says where its history ends', async () => {
    await history();
    const [, second] = (await git.log({ fs, dir })).map((c) => c.oid);
    fs.writeFileSync(path.join(dir, '.git/shallow'), `${second}\n`); // cut as `git clone --depth 2` would
    expect(mlxJson(dir, 'diff', 'HEAD~1', 'HEAD').changes.map((c: any) => c.path)).toEqual(['model.ckpt']);
    expect(expectCleanError(mlx(dir, 'checkout', 'HEAD~2'))).toMatch(/past the start of this shallow clone/);
  });

  it('a revision whose data is on no remote fails before changing anything', async () => {
    await history();
    const emptyRemote = tempDir('mlx-empty-remote-');
    try {
      mlxOk(dir, 'remote', 'add', '-d', 'storage', emptyRemote);
      const oid = /oid: b3:([0-9a-f]{64})/.exec(fs.readFileSync(path.join(dir, 'model.ckpt.mlx'), 'utf8'))![1]!;
      mlxOk(dir, 'checkout', 'v1');
      const v1model = fs.readFileSync(path.join(dir, 'model.ckpt'));
      // Drop v3's model from the cache: checking v3 out now needs a remote that does not have it.
      fs.rmSync(path.join(dir, '.mlx/cache/objects', oid.slice(0, 2), oid.slice(2)));
      const pointer = fs.readFileSync(path.join(dir, 'model.ckpt.mlx'));
      expect(expectCleanError(mlx(dir, 'checkout', 'v3'))).toMatch(/not on remote storage.*never pushed/);
      expect(fs.readFileSync(path.join(dir, 'model.ckpt'))).toEqual(v1model);
      expect(fs.readFileSync(path.join(dir, 'model.ckpt.mlx'))).toEqual(pointer);
    } finally {
      fs.rmSync(emptyRemote, { recursive: true, force: true });
    }
  });

  it('works on a detached HEAD', async () => {
    const states = await history();
    const [, second] = (await git.log({ fs, dir })).map((c) => c.oid);
    await git.checkout({ fs, dir, ref: second!, force: true }); // detached, pointers of v2
    mlxOk(dir, 'checkout');
    expect(snapshot(path.join(dir, 'data'))).toEqual(Object.fromEntries(Object.entries(states.v2!).filter(([k]) => k.startsWith('data/')).map(([k, v]) => [k.slice(5), v])));
    expect(mlxJson(dir, 'diff', 'v1').changes.map((c: any) => c.path)).toEqual(['data']);
  });
});

describe('a checkout <rev> that fails changes no pointer', () => {
  /** The bytes of every pointer file, the run lockfile and the revision record: what must survive a failure. */
  const recorded = (root: string) =>
    Object.fromEntries(['model.ckpt.mlx', 'data.mlx', 'mlx.lock', '.mlx/state/revision'].map((f) => [f, fs.existsSync(path.join(root, f)) ? fs.readFileSync(path.join(root, f)).toString('hex') : 'absent']));

  /** A fresh clone of the history, its HEAD pulled from a directory remote that holds every version. */
  async function pulledClone(remoteDir: string, fresh: string): Promise<void> {
    await history();
    mlxOk(dir, 'remote', 'add', '-d', 'storage', remoteDir);
    for (const rev of ['v1', 'v2', 'v3']) {
      mlxOk(dir, 'checkout', rev);
      mlxOk(dir, 'push');
    }
    await gitCommitAll(dir, 'remote');
    fs.rmSync(fresh, { recursive: true });
    await gitCloneLocal(dir, fresh);
    mlxOk(fresh, 'pull');
  }

  let remoteDir: string;
  let fresh: string;
  beforeEach(() => {
    remoteDir = tempDir('mlx-remote-');
    fresh = tempDir('mlx-fresh-');
  });
  afterEach(() => {
    for (const d of [remoteDir, fresh]) fs.rmSync(d, { recursive: true, force: true });
  });

  it('refused for a local edit: pointers stay, and checkout HEAD needs no --force', async () => {
    await pulledClone(remoteDir, fresh);
    const headModel = fs.readFileSync(path.join(fresh, 'model.ckpt'));
    fs.appendFileSync(path.join(fresh, 'model.ckpt'), 'edit\n');
    const before = recorded(fresh);
    expect(expectCleanError(mlx(fresh, 'checkout', 'HEAD~3'))).toMatch(/checkout would overwrite 1 path\(s\) whose content is not in the cache: model\.ckpt/);
    expect(recorded(fresh)).toEqual(before);
    expect(mlxJson(fresh, 'diff').changes).toEqual([]);
    // Going back is refused only for the edit itself, never for pointers the failed checkout wrote.
    expect(expectCleanError(mlx(fresh, 'checkout', 'HEAD'))).toMatch(/checkout would overwrite 1 path\(s\) whose content is not in the cache: model\.ckpt/);
    fs.writeFileSync(path.join(fresh, 'model.ckpt'), headModel);
    mlxOk(fresh, 'checkout', 'HEAD');
    expect(mlxJson(fresh, 'status').paths.every((p: any) => p.state === 'clean')).toBe(true);
    mlxOk(fresh, 'checkout', 'HEAD~3');
    expect(fs.readFileSync(path.join(fresh, 'model.ckpt'))).toEqual(bytes(50_000, 'model-v1'));
  });

  it('failed for an unreachable remote: pointers stay, checkout HEAD and pull restore HEAD', async () => {
    await pulledClone(remoteDir, fresh);
    const gone = path.join(remoteDir, 'moved-away');
    mlxOk(fresh, 'remote', 'add', '-d', 'gone', gone);
    fs.rmSync(gone, { recursive: true }); // unmounted, or moved away
    const before = recorded(fresh);
    const line = expectCleanError(mlx(fresh, 'checkout', 'HEAD~3'));
    expect(line).toMatch(/remote directory .*moved-away.* does not exist/);
    expect(recorded(fresh)).toEqual(before);
    expect(fs.existsSync(path.join(fresh, '.mlx/state/revision'))).toBe(false);
    mlxOk(fresh, 'checkout', 'HEAD');
    mlxOk(fresh, 'remote', 'default', 'storage');
    fs.rmSync(path.join(fresh, 'model.ckpt'));
    mlxOk(fresh, 'pull', '-f');
    expect(fs.readFileSync(path.join(fresh, 'model.ckpt'))).toEqual(bytes(60_000, 'model-v3'));
    expect(mlxJson(fresh, 'status').paths.every((p: any) => p.state === 'clean')).toBe(true);
  });

  it('failed while writing data: the pointers it had written are put back', async () => {
    await history();
    mlxOk(dir, 'checkout', 'v1');
    const oldOid = /oid: b3:([0-9a-f]{64})/.exec(fs.readFileSync(path.join(dir, 'model.ckpt.mlx'), 'utf8'))![1]!;
    mlxOk(dir, 'checkout', 'v3');
    // The cache still has v1's model, but damaged: found only when checkout copies it out.
    const obj = path.join(dir, '.mlx/cache/objects', oldOid.slice(0, 2), oldOid.slice(2));
    fs.chmodSync(obj, 0o644);
    const damaged = fs.readFileSync(obj);
    damaged[10] ^= 0xff;
    fs.writeFileSync(obj, damaged);
    const before = recorded(dir);
    expect(expectCleanError(mlx(dir, 'checkout', 'v1'))).toMatch(/cache object b3:[0-9a-f]+ is corrupt/);
    expect(recorded(dir)).toEqual(before);
    mlxOk(dir, 'checkout', 'HEAD');
    expect(fs.readFileSync(path.join(dir, 'model.ckpt'))).toEqual(bytes(60_000, 'model-v3'));
  });
});

describe('diff and ls', () => {
  it('diff reports modified directories down to files, added, deleted and renamed paths, with sizes', async () => {
    await history();
    fs.renameSync(path.join(dir, 'model.ckpt.mlx'), path.join(dir, 'weights.ckpt.mlx'));
    write(dir, 'extra.bin', 'extra');
    mlxOk(dir, 'add', 'extra.bin');
    const d = mlxJson(dir, 'diff', 'v1');
    expect(d.from.rev).toBe('v1');
    expect(d.to.rev).toBe('workspace');
    const byPath = Object.fromEntries(d.changes.map((c: any) => [c.path, c]));
    expect(byPath.data.change).toBe('modified');
    expect(byPath.data.files).toEqual([
      { path: 'f3.bin', change: 'modified', oldSize: 1000, newSize: 1500 },
      { path: 'f4.bin', change: 'deleted', oldSize: 1000 },
      { path: 'new.bin', change: 'added', newSize: 700 },
    ]);
    expect(byPath['extra.bin']).toMatchObject({ change: 'added', newSize: 5 });
    expect(byPath['weights.ckpt']).toMatchObject({ change: 'added' }); // content changed since v1: not a rename
    expect(byPath['model.ckpt']).toMatchObject({ change: 'deleted', oldSize: 50_000 });
    const renamed = mlxJson(dir, 'diff', 'HEAD');
    expect(renamed.changes.find((c: any) => c.change === 'renamed')).toMatchObject({ from: 'model.ckpt', path: 'weights.ckpt' });
    const md = mlxOk(dir, 'diff', 'v1', 'v2', '--md').stdout;
    expect(md).toContain('| modified | `data` | 9.77 KiB → 9.96 KiB (+200 B) | 1 added, 1 modified, 1 deleted |');
    expect(mlxOk(dir, 'diff', 'v3', 'v3').stdout).toContain('no changes between v3 and v3');
    // The executable bit alone is a change, for a tracked file and for a file inside a directory.
    await gitCommitAll(dir, 'extra');
    fs.chmodSync(path.join(dir, 'extra.bin'), 0o755);
    fs.chmodSync(path.join(dir, 'data', 'f1.bin'), 0o755);
    mlxOk(dir, 'add', 'extra.bin', 'data');
    await gitCommitAll(dir, 'modes');
    const modes = Object.fromEntries(mlxJson(dir, 'diff', 'HEAD~1', 'HEAD').changes.map((c: any) => [c.path, c]));
    expect(modes['extra.bin']).toMatchObject({ change: 'modified', oldSize: 5, newSize: 5 });
    expect(modes.data.files).toEqual([{ path: 'f1.bin', change: 'modified', oldSize: 1000, newSize: 1000 }]);
  });

  it('ls lists tracked paths and the files of a directory at any revision without fetching data', async () => {
    await history();
    const top = mlxJson(dir, 'ls', 'v1');
    expect(top.rows.map((r: any) => [r.path, r.kind, r.size])).toEqual([
      ['data', 'dir', 10_000],
      ['model.ckpt', 'file', 50_000],
    ]);
    const files = mlxJson(dir, 'ls', 'v2', 'data');
    expect(files.rows.map((r: any) => r.path)).toContain('data/new.bin');
    expect(files.rows).toHaveLength(10);
    expect(mlxJson(dir, 'ls', 'data/f3.bin').rows).toEqual([expect.objectContaining({ path: 'data/f3.bin', size: 1500 })]);
    expect(expectCleanError(mlx(dir, 'ls', 'v1', 'nothing/here'))).toMatch(/not tracked at v1/);
  });
});

describe('verify', () => {
  it('catches a flipped byte in the cache and a missing object on the remote, exiting non-zero', async () => {
    await history();
    expect(mlxOk(dir, 'verify').stdout).toMatch(/^ok: checked 12 object\(s\) of workspace in the cache/m);
    mlxOk(dir, 'verify', 'v1');
    const oid = /oid: b3:([0-9a-f]{64})/.exec(fs.readFileSync(path.join(dir, 'model.ckpt.mlx'), 'utf8'))![1]!;
    const obj = path.join(dir, '.mlx/cache/objects', oid.slice(0, 2), oid.slice(2));
    fs.chmodSync(obj, 0o644);
    const b = fs.readFileSync(obj);
    b[10] ^= 1;
    fs.writeFileSync(obj, b);
    const bad = mlx(dir, 'verify');
    expect(expectCleanError(bad)).toMatch(/verify found 1 problem\(s\) in the cache/);
    expect(bad.stdout).toMatch(/corrupt +b3:[0-9a-f]+ {2}needed by model\.ckpt/);

    const remoteDir = tempDir('mlx-verify-remote-');
    try {
      mlxOk(dir, 'remote', 'add', '-d', 'storage', remoteDir);
      expect(expectCleanError(mlx(dir, 'verify', '--remote'))).toMatch(/verify found 12 problem\(s\) in remote storage/);
      mlxOk(dir, 'checkout', '--force'); // the corrupt model was quarantined; v3's data is pushed below
      write(dir, 'model.ckpt', bytes(60_000, 'model-v3'));
      mlxOk(dir, 'add', 'model.ckpt');
      mlxOk(dir, 'push');
      expect(mlxOk(dir, 'verify', '--remote').stdout).toMatch(/ok: checked 12 object\(s\) of workspace in remote storage/);
      expect(expectCleanError(mlx(dir, 'verify', '--remote', 'v1'))).toMatch(/problem\(s\) in remote storage/);
    } finally {
      fs.rmSync(remoteDir, { recursive: true, force: true });
    }
  });
});
