import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { mlxJson, mlxOk } from '../helpers/cli.js';
import { useTempRepo } from '../helpers/repo.js';

const FILES = 200_000;
const repo = useTempRepo((d) => mlxOk(d, 'init'));

/**
 * Empty files cost one create each and hash to one object, so a directory of 200,000 entries (past the
 * ~125,000 arguments at which a spread call overflows the stack) is made in seconds.
 */
function makeFiles(dir: string): void {
  fs.mkdirSync(dir, { recursive: true });
  for (let i = 0; i < FILES; i++) fs.closeSync(fs.openSync(path.join(dir, `f${String(i).padStart(6, '0')}`), 'w'));
}

describe('a directory of 200,000 entries', () => {
  // Seconds on a quiet machine (most of it is add's 200,000 imports); the limit only allows for a busy one.

  it('is added, reported clean, and a one-file edit in it is found', () => {
    const dir = repo();
    makeFiles(path.join(dir, 'many'));
    const added = mlxJson(dir, 'add', 'many');
    expect(added.paths[0]).toMatchObject({ path: 'many', kind: 'dir', files: FILES });
    const clean = mlxJson(dir, 'status');
    expect(clean.paths[0]).toMatchObject({ path: 'many', state: 'clean', cache: 'ok' });
    fs.writeFileSync(path.join(dir, 'many/f123456'), 'changed');
    fs.rmSync(path.join(dir, 'many/f000007'));
    const dirty = mlxJson(dir, 'status');
    expect(dirty.paths[0]).toMatchObject({ path: 'many', state: 'modified', changes: { added: [], modified: ['f123456'], deleted: ['f000007'] } });
    expect(dirty.hashedFiles).toBe(1);
  }, 600_000);
});
