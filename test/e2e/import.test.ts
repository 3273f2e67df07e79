import fs from 'node:fs';
import path from 'node:path';
import git from 'isomorphic-git';
import YAML from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serializeManifest } from '../../src/formats/manifest.js';
import { serializePointer } from '../../src/formats/pointer.js';
import { loadHasher } from '../../src/hash/blake3.js';
import { DirRemote } from '../../src/remote/dir-remote.js';
import { pushObjects } from '../../src/remote/push.js';
import { RemoteIndex } from '../../src/remote/remote-index.js';
import { ObjectStore } from '../../src/store/object-store.js';
import { cliEnv, expectCleanError, finished, mlx, mlxJson, mlxOk, mlxSpawn } from '../helpers/cli.js';
import { Failpoints } from '../helpers/failpoints.js';
import { gitCloneLocal, gitCommitAll, gitInit, snapshot, tempDir, write } from '../helpers/repo.js';

/*
 * Two real repositories, each with its own directory remote: `lab` records a prep run that cleans raw
 * data, tags it v1, then cleans more data in a later commit; `importer` (two folders deeper, so a path
 * resolved against the wrong repository finds nothing) imports lab's cleaned data and trains on it.
 */

let root: string;
let lab: string;
let importer: string;
let v1: string;
let v2: string;
/** lab's run id of prep at v1, as its mlx.lock records it. */
let prepAtV1: string;

const PREP = `import fs from 'node:fs';
fs.mkdirSync('data/clean', { recursive: true });
for (const f of fs.readdirSync('data/raw').sort()) fs.writeFileSync('data/clean/' + f, fs.readFileSync('data/raw/' + f, 'utf8').toUpperCase());
`;
const TRAIN = `import fs from 'node:fs';
const rows = fs.readdirSync('inputs/clean').sort().map((f) => fs.readFileSync('inputs/clean/' + f, 'utf8'));
fs.writeFileSync('model.txt', rows.join(''));
`;

const pointerOf = (dir: string, rel: string) => YAML.parse(fs.readFileSync(path.join(dir, `${rel}.mlx`), 'utf8'));
const filesOf = (dir: string) => Object.fromEntries(fs.readdirSync(dir).sort().map((f) => [f, fs.readFileSync(path.join(dir, f), 'utf8')]));
/** Everything in a repository folder but git's own files: what "nothing written" compares. */
const workTree = (dir: string) => Object.fromEntries(Object.entries(snapshot(dir)).filter(([p]) => !p.startsWith('.git/')));

beforeAll(async () => {
  root = fs.realpathSync(tempDir('mlx-import-'));
  lab = path.join(root, 'lab');
  importer = path.join(root, 'work', 'team', 'importer');
  for (const dir of [lab, importer]) {
    fs.mkdirSync(dir, { recursive: true });
    await gitInit(dir);
    mlxOk(dir, 'init');
  }
  // Relative remote urls: each resolves against its own repository only.
  mlxOk(lab, 'remote', 'add', '-d', 'store', '../lab-remote');
  mlxOk(importer, 'remote', 'add', '-d', 'store', '../importer-remote');
  write(lab, 'data/raw/a.txt', 'alpha\n');
  write(lab, 'data/raw/b.txt', 'beta\n');
  write(lab, 'prep.mjs', PREP);
  mlxOk(lab, 'add', 'data/raw');
  mlxOk(lab, 'run', '-n', 'prep', '-d', 'data/raw', '-d', 'prep.mjs', '-o', 'data/clean', '--', 'node', 'prep.mjs');
  v1 = await gitCommitAll(lab, 'clean v1');
  await git.tag({ fs, dir: lab, ref: 'v1' });
  prepAtV1 = YAML.parse(fs.readFileSync(path.join(lab, 'mlx.lock'), 'utf8')).runs.prep.id;
  mlxOk(lab, 'push');
  write(lab, 'data/raw/c.txt', 'gamma\n');
  mlxOk(lab, 'add', 'data/raw');
  mlxOk(lab, 'run', '-n', 'prep', '-d', 'data/raw', '-d', 'prep.mjs', '-o', 'data/clean', '--', 'node', 'prep.mjs');
  v2 = await gitCommitAll(lab, 'clean v2');
  mlxOk(lab, 'push');
  await gitCommitAll(importer, 'set up');
}, 120_000);

afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

describe('mlx import, update, get and ls across two repositories', () => {
  it('imports a path at a tag: the data comes from the source remote, and the pointer records where from', () => {
    const r = mlxOk(importer, 'import', '../../../lab', 'data/clean', '--rev', 'v1', '-o', 'inputs/clean');
    expect(r.stdout.split('\n')[0]).toBe(`inputs/clean/ (2 files, 11 B) imported from ../../../lab@${v1.slice(0, 12)} (data/clean, rev v1)`);
    expect(filesOf(path.join(importer, 'inputs/clean'))).toEqual({ 'a.txt': 'ALPHA\n', 'b.txt': 'BETA\n' });
    const pointer = pointerOf(importer, 'inputs/clean');
    expect(pointer.source).toEqual({ repo: '../../../lab', rev: 'v1', commit: v1, path: 'data/clean', run: 'prep', run_id: prepAtV1 });
    expect(pointer.oid).toBe(mlxJson(lab, 'ls', 'v1').rows.find((x: { path: string }) => x.path === 'data/clean').oid);
    expect(fs.readFileSync(path.join(importer, '.gitignore'), 'utf8')).toContain('/inputs/clean');
    const status = mlxOk(importer, 'status').stdout;
    expect(status).toBe(`imported:     inputs/clean  from ../../../lab@${v1.slice(0, 12)} (data/clean, rev v1)\neverything is up to date\n`);
    // Again, once the directory's manifest is known and status compares it in place.
    expect(mlxOk(importer, 'status').stdout).toBe(status);
    expect(mlxOk(importer, 'diff').stdout).toContain(`added     inputs/clean/  11 B  imported from ../../../lab@${v1.slice(0, 12)} (data/clean, rev v1)`);
  });

  it('lists what the other repository tracks, at its HEAD or at a revision; a lone local argument is still a revision or path', () => {
    const head = mlxJson(importer, 'ls', '../../../lab');
    expect(head.commit).toBe(v2);
    expect(head.rows.map((r: { path: string; files: number }) => `${r.path}:${r.files}`)).toEqual(['data/clean:3', 'data/raw:3']);
    const atTag = mlxJson(importer, 'ls', '../../../lab', '--rev', 'v1');
    expect(atTag.rows.map((r: { path: string; files: number }) => `${r.path}:${r.files}`)).toEqual(['data/clean:2', 'data/raw:2']);
    expect(mlxJson(importer, 'ls', '../../../lab', 'data/raw', '--rev', 'v1').rows.map((r: { path: string }) => r.path)).toEqual(['data/raw']);
    expect(mlxJson(importer, 'ls').rows.map((r: { path: string }) => r.path)).toEqual(['inputs/clean']);
    expect(mlxJson(importer, 'ls', 'inputs/clean').rows.map((r: { path: string }) => r.path)).toEqual(['inputs/clean/a.txt', 'inputs/clean/b.txt']);
    expect(mlxOk(importer, 'ls').stdout).toMatch(new RegExp(`^b3:[0-9a-f]{8} +11 B  inputs/clean/  \\(2 files\\)  imported from \\.\\./\\.\\./\\.\\./lab@${v1.slice(0, 12)} \\(data/clean, rev v1\\)\n$`));
    expect(mlxJson(importer, 'ls', '--rev', 'HEAD').rows).toEqual([]);
  });

  it('records lineage across the two repositories: the source commit and the run that wrote the data there', async () => {
    write(importer, 'train.mjs', TRAIN);
    mlxOk(importer, 'run', '-n', 'train', '-d', 'inputs/clean', '-d', 'train.mjs', '-o', 'model.txt', '--', 'node', 'train.mjs');
    expect(fs.readFileSync(path.join(importer, 'model.txt'), 'utf8')).toBe('ALPHA\nBETA\n');
    await gitCommitAll(importer, 'import v1 and train');
    const graph = mlxJson(importer, 'lineage', 'model.txt');
    const input = graph.nodes.find((n: { path?: string }) => n.path === 'inputs/clean');
    expect(input.imported).toEqual({ repo: '../../../lab', rev: 'v1', commit: v1, path: 'data/clean', run: 'prep', run_id: prepAtV1 });
    const text = mlxOk(importer, 'lineage', 'model.txt').stdout;
    expect(text).toContain(`inputs/clean/  ${input.oid.slice(0, 11)}  (imported from ../../../lab@${v1.slice(0, 12)} (data/clean, rev v1), written there by run prep (${prepAtV1}))`);
  });

  it('moves the pin to a newer commit and says what changed; diff and report show the moved import', async () => {
    const before = pointerOf(importer, 'inputs/clean');
    const r = mlxOk(importer, 'update', 'inputs/clean', '--rev', 'main');
    expect(r.stdout.split('\n')[0]).toBe(`inputs/clean  ../../../lab@${v1.slice(0, 12)} -> @${v2.slice(0, 12)} (rev main): data changed, 2 -> 3 files, 11 B -> 17 B (mlx diff lists the files)`);
    expect(filesOf(path.join(importer, 'inputs/clean'))).toEqual({ 'a.txt': 'ALPHA\n', 'b.txt': 'BETA\n', 'c.txt': 'GAMMA\n' });
    const after = pointerOf(importer, 'inputs/clean');
    expect(after.source).toMatchObject({ rev: 'main', commit: v2, path: 'data/clean', run: 'prep' });
    expect(after.oid).not.toBe(before.oid);
    expect(mlxOk(importer, 'update').stdout.split('\n')[0]).toBe(`inputs/clean  up to date at ../../../lab@${v2.slice(0, 12)} (rev main)`);
    const diff = mlxOk(importer, 'diff').stdout.split('\n');
    expect(diff[0]).toBe(`modified  inputs/clean/  11 B → 17 B (+6 B)  import moved: ../../../lab@${v1.slice(0, 12)} -> ../../../lab@${v2.slice(0, 12)} (data/clean, rev main)`);
    expect(diff[1]).toBe('    added     inputs/clean/c.txt  6 B');
    await gitCommitAll(importer, 'update the import');
    expect(mlxOk(importer, 'report', 'HEAD~1', 'HEAD').stdout).toContain(`modified  inputs/clean/  11 B → 17 B (+6 B)  import moved: ../../../lab@${v1.slice(0, 12)}`);
  });

  it('gets a path as plain files, without tracking it, inside an mlx repository or outside any', () => {
    const before = mlxJson(importer, 'status');
    mlxOk(importer, 'get', '../../../lab', 'data/clean', '--rev', 'v1', '-o', 'scratch/clean-v1');
    expect(filesOf(path.join(importer, 'scratch/clean-v1'))).toEqual({ 'a.txt': 'ALPHA\n', 'b.txt': 'BETA\n' });
    expect(fs.existsSync(path.join(importer, 'scratch/clean-v1.mlx'))).toBe(false);
    expect(mlxJson(importer, 'status').paths).toEqual(before.paths);
    const elsewhere = path.join(root, 'plain');
    fs.mkdirSync(elsewhere);
    const r = mlxOk(elsewhere, 'get', path.join(root, 'lab'), 'data/raw');
    expect(r.stdout).toBe(`wrote raw/ (3 files, 17 B), not tracked; from ${path.join(root, 'lab')}@${v2.slice(0, 12)} (data/raw)\n`);
    expect(filesOf(path.join(elsewhere, 'raw'))).toEqual({ 'a.txt': 'alpha\n', 'b.txt': 'beta\n', 'c.txt': 'gamma\n' });
    expect(fs.readdirSync(elsewhere)).toEqual(['raw']);
    fs.rmSync(path.join(importer, 'scratch'), { recursive: true });
  });

  it('a clone of the importing repository restores the imported data from its own remote, with the source repository and its remote gone', async () => {
    mlxOk(importer, 'push');
    const clone = path.join(root, 'work', 'team', 'clone');
    await gitCloneLocal(importer, clone);
    const moved = [lab, path.join(root, 'lab-remote')];
    for (const dir of moved) fs.renameSync(dir, `${dir}.away`);
    try {
      mlxOk(clone, 'pull');
      expect(filesOf(path.join(clone, 'inputs/clean'))).toEqual({ 'a.txt': 'ALPHA\n', 'b.txt': 'BETA\n', 'c.txt': 'GAMMA\n' });
      expect(mlxOk(clone, 'status').stdout).toBe(`imported:     inputs/clean  from ../../../lab@${v2.slice(0, 12)} (data/clean, rev main)\neverything is up to date\n`);
      // With the source gone, the record still tells where the data came from and what made it.
      expect(mlxOk(clone, 'lineage', 'inputs/clean').stdout).toContain(`imported from ../../../lab@${v2.slice(0, 12)} (data/clean, rev main), written there by run prep`);
      // Moving the pin needs the source: one line, nothing changed.
      const tree = workTree(clone);
      expect(expectCleanError(mlx(clone, 'update'))).toBe(`mlx: error: repository ../../../lab not found: ${lab} does not exist (hint: give a git url or the path of a local repository)`);
      expect(workTree(clone)).toEqual(tree);
    } finally {
      for (const dir of moved) fs.renameSync(`${dir}.away`, dir);
    }
  });

  it('adding imported data unchanged keeps its source; changed, it becomes this repository\'s own', () => {
    mlxOk(importer, 'add', 'inputs/clean');
    expect(pointerOf(importer, 'inputs/clean').source).toMatchObject({ commit: v2 });
    fs.chmodSync(path.join(importer, 'inputs/clean'), 0o755);
    const file = path.join(importer, 'inputs/clean/a.txt');
    fs.rmSync(file);
    fs.writeFileSync(file, 'edited\n');
    expect(mlxOk(importer, 'status').stdout).toContain(`modified:     inputs/clean  (imported from ../../../lab@${v2.slice(0, 12)} (data/clean, rev main))`);
    mlxOk(importer, 'add', 'inputs/clean');
    expect(pointerOf(importer, 'inputs/clean').source).toBeUndefined();
    expect(expectCleanError(mlx(importer, 'update', 'inputs/clean'))).toBe(
      'mlx: error: inputs/clean is not imported (its pointer records no source): nothing to update (hint: mlx import brings a path of another repository)',
    );
    mlxOk(importer, 'remove', '--outs', 'inputs/clean');
  });
});

describe('bad inputs to mlx import: one line each, nothing written', () => {
  /** Runs a failing import and checks the work tree, config and cache are as they were. */
  const refused = (args: string[], opts: { cacheMayGrow?: boolean } = {}): string => {
    const tree = opts.cacheMayGrow ? () => Object.fromEntries(Object.entries(workTree(importer)).filter(([p]) => !p.startsWith('.mlx/cache/'))) : () => workTree(importer);
    const before = tree();
    const line = expectCleanError(mlx(importer, 'import', ...args));
    expect(tree()).toEqual(before);
    return line;
  };

  it('an unknown repository', () => {
    expect(refused(['../../../nowhere', 'data/clean', '-o', 'x'])).toBe(`mlx: error: repository ../../../nowhere not found: ${path.join(root, 'nowhere')} does not exist (hint: give a git url or the path of a local repository)`);
    expect(refused([`file://${root}/nowhere.git`, 'data/clean', '-o', 'x'])).toBe(`mlx: error: cannot read repository file://${root}/nowhere.git: '${root}/nowhere.git' does not appear to be a git repository`);
    fs.mkdirSync(path.join(root, 'not-a-repo'), { recursive: true });
    expect(refused(['../../../not-a-repo', 'data/clean', '-o', 'x'])).toBe(
      `mlx: error: ../../../not-a-repo is not a git repository (${path.join(root, 'not-a-repo')} holds no .git) (hint: give the top folder of the source repository, or its git url)`,
    );
  });

  it('a path it does not track, or one inside a tracked directory', () => {
    expect(refused(['../../../lab', 'data/nothing', '-o', 'x'])).toBe(`mlx: error: repository ../../../lab does not track data/nothing at ${v2.slice(0, 12)} (hint: mlx ls ../../../lab lists what it tracks)`);
    expect(refused(['../../../lab', 'data/clean/a.txt', '--rev', 'v1', '-o', 'x'])).toBe(
      'mlx: error: data/clean/a.txt lies inside data/clean, which repository ../../../lab tracks as a whole at v1 (hint: import data/clean instead)',
    );
  });

  it('a revision it lacks', () => {
    expect(refused(['../../../lab', 'data/clean', '--rev', 'v9', '-o', 'x'])).toBe(
      'mlx: error: repository ../../../lab has no revision v9 (hint: mlx ls ../../../lab --rev <branch, tag or commit> lists what a revision tracks)',
    );
  });

  it('a source whose remote is unreachable', async () => {
    const orphan = path.join(root, 'orphan');
    fs.mkdirSync(orphan);
    await gitInit(orphan);
    mlxOk(orphan, 'init');
    mlxOk(orphan, 'remote', 'add', '-d', 'store', '../orphan-remote');
    write(orphan, 'weights.bin', 'w');
    mlxOk(orphan, 'add', 'weights.bin');
    await gitCommitAll(orphan, 'weights, never pushed, remote gone');
    fs.rmSync(path.join(root, 'orphan-remote'), { recursive: true });
    expect(refused(['../../../orphan', 'weights.bin'])).toMatch(
      new RegExp(`^mlx: error: cannot fetch weights\\.bin from the remote of repository \\.\\./\\.\\./\\.\\./orphan: remote directory .*orphan-remote does not exist \\(hint: that remote is named in the source's committed \\.mlx/config\\.yaml`),
    );
  });

  it('paths that would leave the repository, or land on something there', () => {
    expect(refused(['../../../lab', '../../etc/passwd'])).toBe(`mlx: error: refusing source path "../../etc/passwd": it contains '..'`);
    expect(refused(['../../../lab', '.git/config'])).toMatch(/^mlx: error: refusing source path "\.git\/config": it /);
    expect(refused(['../../../lab', 'data/clean', '-o', '../outside'])).toBe(`mlx: error: path "../outside" is outside the repository ${importer}`);
    expect(refused(['../../../lab', 'data/clean', '-o', 'train.mjs'])).toBe('mlx: error: cannot import to train.mjs: train.mjs exists (hint: choose another place with -o, or move it away first)');
    expect(refused(['../../../lab', 'data/clean', '-o', '.mlx/x'])).toBe('mlx: error: path ".mlx/x" is inside .mlx/, which mlx does not track');
  });

  it('a hostile source: a manifest on its remote naming a path outside the directory is refused before anything is written', async () => {
    const evil = path.join(root, 'evil');
    fs.mkdirSync(evil);
    await gitInit(evil);
    mlxOk(evil, 'init');
    mlxOk(evil, 'remote', 'add', '-d', 'store', '../evil-remote');
    // What no mlx would write: a manifest whose entry climbs out of the tracked directory, pushed as is.
    const store = new ObjectStore(path.join(evil, '.mlx/cache'), await loadHasher());
    const payload = store.putBytes(Buffer.from('pwned\n'));
    const manifest = store.putBytes(Buffer.from(serializeManifest([{ p: '../../escape.txt', o: payload, s: 6, x: false }])));
    const remote = new DirRemote(path.join(root, 'evil-remote'));
    await pushObjects(store, await loadHasher(), remote, await RemoteIndex.load(remote, path.join(root, 'evil-index')), [manifest, payload]);
    write(evil, 'data.mlx', serializePointer({ version: 1, path: 'data', kind: 'dir', oid: manifest, size: 6, files: 1 }));
    await gitCommitAll(evil, 'a trap');
    // The manifest is refused once it has arrived, verified by its oid: the cache keeps it (gc's to remove), nothing else changes.
    expect(refused(['../../../evil', 'data'], { cacheMayGrow: true })).toMatch(/^mlx: error: refusing directory manifest .*: entry path "\.\.\/\.\.\/escape\.txt" contains '\.\.'$/);
    expect(fs.existsSync(path.join(importer, 'escape.txt')) || fs.existsSync(path.join(root, 'work', 'escape.txt'))).toBe(false);
    const elsewhere = path.join(root, 'evil-get');
    fs.mkdirSync(elsewhere);
    expect(expectCleanError(mlx(elsewhere, 'get', '../evil', 'data'))).toMatch(/^mlx: error: refusing directory manifest /);
    expect(fs.readdirSync(elsewhere)).toEqual([]);
    expect(fs.existsSync(path.join(root, 'escape.txt'))).toBe(false);
  });

  it('an import stopped by a signal while it holds the source clone leaves neither the clone nor anything else behind', async () => {
    const fp = new Failpoints();
    const tmp = path.join(root, 'tmp-of-import');
    fs.mkdirSync(tmp);
    // Node 22+ keeps the CLI's compiled code in TMPDIR unless told where (bin/mlx.js): Node's cache, not the import's leftovers.
    const env = { ...fp.env({ 'import.after-clone': 'pause' }), TMPDIR: tmp, NODE_COMPILE_CACHE: path.join(root, 'node-compile-cache') };
    Object.assign(cliEnv, env);
    try {
      const before = workTree(importer);
      const child = mlxSpawn(importer, 'import', '../../../lab', 'data/clean', '-o', 'stopped');
      const done = finished(child);
      await fp.reached('import.after-clone');
      expect(fs.readdirSync(tmp).filter((n) => n.startsWith('mlx-source-'))).toHaveLength(1);
      child.kill('SIGTERM');
      expect((await done).code).toBe(143);
      expect(fs.readdirSync(tmp)).toEqual([]);
      expect(workTree(importer)).toEqual(before);
    } finally {
      for (const k of Object.keys(env)) delete cliEnv[k];
      fp.cleanup();
    }
  });

  it('get refuses an existing output and writes nothing', () => {
    const before = workTree(importer);
    expect(expectCleanError(mlx(importer, 'get', '../../../lab', 'data/clean', '-o', 'train.mjs'))).toBe(
      `mlx: error: cannot write train.mjs: ${path.join(importer, 'train.mjs')} exists (hint: choose another place with -o, or move it away first)`,
    );
    expect(expectCleanError(mlx(importer, 'get', '../../../lab', 'data/nothing'))).toMatch(/^mlx: error: repository \.\.\/\.\.\/\.\.\/lab does not track data\/nothing/);
    expect(workTree(importer)).toEqual(before);
  });
});
