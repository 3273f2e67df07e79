import fs from 'node:fs';
import path from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { mlxJson, mlxOk } from '../helpers/cli.js';
import { bytes, snapshot, useTempRepo, write } from '../helpers/repo.js';

const repo = useTempRepo((d) => mlxOk(d, 'init'));
let dir: string;
beforeEach(() => {
  dir = repo();
});

const name = (i: number) => `d/f${String(i).padStart(2, '0')}.bin`;
const isExec = (rel: string) => (fs.statSync(path.join(dir, rel)).mode & 0o111) !== 0;

/*
 * Unchanged files of a tracked directory take their entries (and oid strings) from the manifest they
 * are compared with. Every kind of small edit among many unchanged files must still be seen, and what
 * add records from such a read must be exactly the work tree.
 */
describe('a few edits in a tracked directory', () => {
  it('status lists exactly the edits, add records them, and checkout gives the same tree back', () => {
    for (let i = 0; i < 30; i++) write(dir, name(i), bytes(100 + i, `v0-${i}`));
    mlxOk(dir, 'add', 'd');
    mlxOk(dir, 'status'); // files just written are hashed again once (racy-clean), then trusted
    expect(mlxJson(dir, 'status').paths[0].state).toBe('clean');

    fs.chmodSync(path.join(dir, name(3)), 0o755); // the bit alone
    write(dir, name(7), bytes(300, 'v1-7')); // new bytes, new size
    const same = fs.readFileSync(path.join(dir, name(11)));
    same[0] ^= 1;
    fs.rmSync(path.join(dir, name(11)));
    fs.writeFileSync(path.join(dir, name(11)), same); // new bytes, same size, new inode
    fs.rmSync(path.join(dir, name(15)));
    write(dir, 'd/f99.bin', bytes(50, 'new'));
    const again = fs.readFileSync(path.join(dir, name(20)));
    fs.rmSync(path.join(dir, name(20)));
    fs.writeFileSync(path.join(dir, name(20)), again); // the same bytes again: no change

    const st = mlxJson(dir, 'status').paths[0];
    expect(st.state).toBe('modified');
    expect(st.changes).toEqual({ added: ['f99.bin'], modified: ['f03.bin', 'f07.bin', 'f11.bin'], deleted: ['f15.bin'] });

    const before = snapshot(path.join(dir, 'd'));
    mlxOk(dir, 'add', 'd');
    expect(mlxJson(dir, 'status').paths[0].state).toBe('clean');
    fs.rmSync(path.join(dir, 'd'), { recursive: true });
    mlxOk(dir, 'checkout', 'd');
    expect(snapshot(path.join(dir, 'd'))).toEqual(before);
    expect(isExec(name(3))).toBe(true);
    expect(isExec(name(4))).toBe(false);
  });
});
