import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { STAT_INDEX_VERSION } from '../../src/formats/stat-index.js';
import { mlx, mlxJson, mlxOk } from '../helpers/cli.js';
import { gitCommitAll, useTempRepo, write } from '../helpers/repo.js';

const repo = useTempRepo((d) => mlxOk(d, 'init'));

/** Writes a file dated an hour back, so the status that hashes it trusts it at once (racy-clean guard). */
function writeSettled(dir: string, rel: string, data: string): void {
  write(dir, rel, data);
  const past = new Date(Date.now() - 3_600_000);
  fs.utimesSync(path.join(dir, rel), past, past);
}

async function trackedTree(dir: string): Promise<string> {
  for (let i = 0; i < 12; i++) writeSettled(dir, `data/s${i % 3}/f${i}.txt`, `file ${i}\n`);
  mlxOk(dir, 'add', 'data');
  await gitCommitAll(dir, 'v1');
  mlxOk(dir, 'status');
  return path.join(dir, '.mlx', 'state', 'stat-index');
}

/** One edit of each kind: new bytes of the same size (mtime put back), a new file, a deleted one. */
function editTree(dir: string): void {
  const same = path.join(dir, 'data/s1/f4.txt');
  const { mtime } = fs.statSync(same);
  fs.writeFileSync(same, 'FILE 4\n');
  fs.utimesSync(same, mtime, mtime);
  writeSettled(dir, 'data/s2/new.txt', 'new\n');
  fs.rmSync(path.join(dir, 'data/s0/f0.txt'));
}

const edits = { added: ['s2/new.txt'], modified: ['s1/f4.txt'], deleted: ['s0/f0.txt'] };

describe('status over a damaged or older stat index', () => {
  it('says so in one warning line, hashes every file again, reports exactly the edits and rebuilds the index', async () => {
    const dir = repo();
    const file = await trackedTree(dir);
    editTree(dir);
    const bytes = fs.readFileSync(file);
    bytes[bytes.length - 40] ^= 0xff; // a record's byte: the checksum no longer matches
    fs.writeFileSync(file, bytes);

    const r = mlx(dir, '--json', 'status');
    expect(r.code).toBe(0);
    expect(r.stderr.trim().split('\n')).toEqual(['mlx: warning: the stat index was damaged (checksum mismatch): files were hashed again and the index rebuilt']);
    const res = JSON.parse(r.stdout);
    expect(res.hashedFiles).toBe(12);
    expect(res.paths[0]).toMatchObject({ state: 'modified', changes: edits });

    const again = mlx(dir, '--json', 'status');
    expect(again.stderr).toBe('');
    expect(JSON.parse(again.stdout)).toMatchObject({ hashedFiles: 0, paths: [{ state: 'modified', changes: edits }] });
  });

  it('reads an index of another version as empty and replaces it quietly, with the same answers', async () => {
    const dir = repo();
    const file = await trackedTree(dir);
    editTree(dir);
    const bytes = fs.readFileSync(file);
    bytes.writeUInt32LE(STAT_INDEX_VERSION - 1, 8); // the version follows the 8-byte magic
    fs.writeFileSync(file, bytes);

    const r = mlx(dir, '--json', 'status');
    expect(r.stderr).toBe('');
    expect(JSON.parse(r.stdout)).toMatchObject({ hashedFiles: 12, paths: [{ state: 'modified', changes: edits }] });
    expect(fs.readFileSync(file).readUInt32LE(8)).toBe(STAT_INDEX_VERSION);
    expect(mlxJson(dir, 'status')).toMatchObject({ hashedFiles: 0, paths: [{ state: 'modified', changes: edits }] });
  });

  it('a garbage index is damage too, and never makes an edited file clean', async () => {
    const dir = repo();
    const file = await trackedTree(dir);
    editTree(dir);
    fs.writeFileSync(file, 'not an index at all');
    const r = mlx(dir, '--json', 'status');
    expect(r.stderr).toContain('the stat index was damaged (not a stat index)');
    expect(JSON.parse(r.stdout).paths[0].changes).toEqual(edits);
  });
});
