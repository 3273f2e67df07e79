import fs from 'node:fs';
import path from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { expectCleanError, mlx, mlxOk } from '../helpers/cli.js';
import { gitCommitAll, useTempRepo, write } from '../helpers/repo.js';

const repo = useTempRepo((d) => mlxOk(d, 'init'));
let dir: string;
beforeEach(() => {
  dir = repo();
});

describe('what mlx says', () => {
  it('refuses data that git already tracks, and the repository root', async () => {
    write(dir, 'in-git.bin', 'committed to git');
    await gitCommitAll(dir, 'data in git');
    expect(expectCleanError(mlx(dir, 'add', 'in-git.bin'))).toMatch(/in-git\.bin is tracked by git .*git rm -r --cached in-git\.bin/);
    expect(expectCleanError(mlx(dir, 'add', '.'))).toMatch(/cannot track the repository root itself/);
    expect(expectCleanError(mlx(dir, '-C', path.join(dir, 'nope'), 'status'))).toMatch(/no such directory/);
  });

  it('suggests git add paths relative to where the command ran, .gitignore only when it changed', () => {
    write(dir, 'data/sub/a.bin', 'a');
    const first = mlxOk(path.join(dir, 'data'), 'add', 'sub').stdout;
    expect(first).toContain('git add sub.mlx ../.gitignore');
    write(dir, 'data/sub/b.bin', 'b');
    const second = mlxOk(path.join(dir, 'data'), 'add', 'sub').stdout;
    expect(second).toContain('git add sub.mlx');
    expect(second).not.toContain('.gitignore');
  });

  it('with --json, a command that fails after printing its result leaves one JSON document on stdout', () => {
    write(dir, 'a.bin', 'some data');
    mlxOk(dir, 'add', 'a.bin');
    const oid = /oid: (\S+)/.exec(fs.readFileSync(path.join(dir, 'a.bin.mlx'), 'utf8'))![1]!;
    fs.rmSync(path.join(dir, '.mlx', 'cache', 'objects', oid.slice(3, 5), oid.slice(5)), { force: true });
    const r = mlx(dir, '--json', 'verify');
    expect(expectCleanError(r)).toMatch(/verify found 1 problem/);
    const doc = JSON.parse(r.stdout); // throws on a second document
    expect(doc.problems).toEqual([expect.objectContaining({ oid, problem: 'missing' })]);
  });

  it('system errors carry a hint and a JSON error document', () => {
    const long = 'a'.repeat(252);
    write(dir, long, 'x'); // the pointer name <long>.mlx exceeds the 255-byte limit
    const r = mlx(dir, '--json', 'add', long);
    expect(expectCleanError(r)).toMatch(/ENAMETOOLONG.*\(hint: the name is too long for this filesystem/);
    expect(JSON.parse(r.stdout).error.code).toBe('ENAMETOOLONG');
    expect(fs.existsSync(path.join(dir, `${long}.mlx`))).toBe(false);
  });
});
