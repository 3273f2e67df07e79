import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { readPointer } from '../../src/workspace/pointers.js';
import { openRepo } from '../../src/workspace/repo.js';
import { StatIndex } from '../../src/workspace/stat-index.js';
import { inspectWorkTree, status } from '../../src/workspace/status.js';
import { mlxOk } from '../helpers/cli.js';
import { gitCommitAll, useTempRepo, write } from '../helpers/repo.js';

const dir = useTempRepo((d) => mlxOk(d, 'init'));

/** status (which compares a directory with its manifest in place) against the reading diff uses (every entry made). */
async function bothReadings(root: string) {
  const repo = await openRepo(root);
  const lean = await status(repo, root, []);
  const full = (await inspectWorkTree(await openRepo(root), root, [])).result;
  return { lean: { paths: lean.paths, problems: lean.problems }, full: { paths: full.paths, problems: full.problems } };
}

describe('status of a directory compared with its manifest in place', () => {
  it('finds what reading every entry finds, through edits of every kind', async () => {
    const root = dir();
    write(root, 'data/a.txt', 'a\n');
    write(root, 'data/b.txt', 'b\n');
    write(root, 'data/sub/c.txt', 'c\n');
    write(root, 'data/run.sh', '#!/bin/sh\n');
    fs.chmodSync(path.join(root, 'data/run.sh'), 0o755);
    fs.symlinkSync('a.txt', path.join(root, 'data/link'));
    fs.mkdirSync(path.join(root, 'data/empty'));
    for (let i = 0; i < 50; i++) write(root, `data/many/f${String(i).padStart(2, '0')}.txt`, `file ${i}\n`);
    mlxOk(root, 'add', 'data');
    await gitCommitAll(root, 'v1');
    const repo = await openRepo(root);
    // The manifest add made is known: the in-place comparison applies.
    expect(StatIndex.load(repo.layout.statIndexFile).knownManifest(readPointer(repo, 'data')!.pointer.oid)).toBe(true);

    const edits: [string, () => void, Record<string, string[]> | undefined][] = [
      ['nothing', () => {}, undefined],
      ['touch without change', () => fs.utimesSync(path.join(root, 'data/b.txt'), new Date(), new Date(Date.now() - 5000)), undefined],
      ['edit, add, delete', () => {
        write(root, 'data/a.txt', 'a, edited\n');
        write(root, 'data/new.txt', 'new\n');
        fs.rmSync(path.join(root, 'data/many/f07.txt'));
      }, { added: ['new.txt'], modified: ['a.txt'], deleted: ['many/f07.txt'] }],
      ['executable bit, link target, empty folder, a file become a folder', () => {
        write(root, 'data/a.txt', 'a\n');
        fs.rmSync(path.join(root, 'data/new.txt'));
        write(root, 'data/many/f07.txt', 'file 7\n');
        fs.chmodSync(path.join(root, 'data/run.sh'), 0o644);
        fs.rmSync(path.join(root, 'data/link'));
        fs.symlinkSync('b.txt', path.join(root, 'data/link'));
        fs.rmdirSync(path.join(root, 'data/empty'));
        fs.rmSync(path.join(root, 'data/sub/c.txt'));
        write(root, 'data/sub/c.txt/inner', 'c\n');
      }, { added: ['sub/c.txt/inner'], modified: ['link', 'run.sh'], deleted: ['empty', 'sub/c.txt'] }],
    ];
    for (const [what, edit, changes] of edits) {
      edit();
      const { lean, full } = await bothReadings(root);
      expect(lean, what).toEqual(full);
      expect(lean.paths[0]!.changes, what).toEqual(changes);
      expect(lean.paths[0]!.state, what).toBe(changes ? 'modified' : 'clean');
    }
  });

  it('hashes every touched file once, finds a same-size edit with its mtime put back among them, and hashes none the next time', async () => {
    const root = dir();
    for (let i = 0; i < 30; i++) write(root, `data/s${i % 3}/f${String(i).padStart(2, '0')}.txt`, `file ${i}\n`);
    mlxOk(root, 'add', 'data');
    await gitCommitAll(root, 'v1');
    const edited = path.join(root, 'data/s1/f04.txt');
    const { mtime } = fs.statSync(edited);
    fs.writeFileSync(edited, 'FILE 4\n');
    fs.utimesSync(edited, mtime, mtime);
    // Every file's ctime moves (as after a copy or a chmod); an hour back, so the new records are trusted.
    const past = new Date(Date.now() - 3_600_000);
    for (const sub of ['s0', 's1', 's2']) {
      for (const name of fs.readdirSync(path.join(root, 'data', sub))) fs.utimesSync(path.join(root, 'data', sub, name), past, past);
    }
    fs.utimesSync(edited, mtime, mtime);
    const first = await status(await openRepo(root), root, []);
    expect(first.hashedFiles).toBe(30);
    expect(first.paths[0]).toMatchObject({ state: 'modified', changes: { added: [], modified: ['s1/f04.txt'], deleted: [] } });
    const second = await status(await openRepo(root), root, []);
    expect(second.hashedFiles).toBe(0);
    expect(second.paths[0]).toEqual(first.paths[0]);
    fs.writeFileSync(edited, 'file 4\n');
    fs.utimesSync(edited, past, past);
    const back = await status(await openRepo(root), root, []);
    expect(back).toMatchObject({ hashedFiles: 1, paths: [{ state: 'clean' }] });
    expect((await status(await openRepo(root), root, [])).hashedFiles).toBe(0);
  });

  it('still reports a directory whose manifest left the cache as unknown', async () => {
    const root = dir();
    write(root, 'data/a.txt', 'a\n');
    mlxOk(root, 'add', 'data');
    const repo = await openRepo(root);
    const oid = readPointer(repo, 'data')!.pointer.oid;
    write(root, 'data/a.txt', 'edited\n');
    fs.rmSync(repo.store.pathOf(oid), { force: true });
    const result = await status(repo, root, []);
    expect(result.paths[0]).toMatchObject({ path: 'data', state: 'unknown', cache: 'missing' });
  });
});
