import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mlx, mlxJson, mlxOk } from '../helpers/cli.js';
import { bytes, gitCommitAll, tempDir, useTempRepo, write } from '../helpers/repo.js';
import { loadHasher } from '../../src/hash/blake3.js';
import { hashBytes } from '../../src/hash/hash-file.js';

/*
 * cache.type hardlink / symlink: the work-tree file is the cache object. An in-place edit (which the
 * read-only mode does not stop for root, as in containers and CI) must never silently change the cache.
 */

const repo = useTempRepo((d) => mlxOk(d, 'init'));
let dir: string;
let store: string;
beforeEach(() => {
  dir = repo();
  store = tempDir('mlx-linked-remote-');
  mlxOk(dir, 'remote', 'add', '-d', 'storage', store);
});
afterEach(() => fs.rmSync(store, { recursive: true, force: true }));

const oidOf = (pointer: string) => /oid: (b3:[0-9a-f]{64})/.exec(fs.readFileSync(path.join(dir, pointer), 'utf8'))![1]!;
const objectFile = (oid: string) => path.join(dir, '.mlx/cache/objects', oid.slice(3, 5), oid.slice(5));
const sha = (b: Buffer) => crypto.createHash('sha256').update(b).digest('hex');

/** Overwrites the first bytes of a file where it is (through a symlink, into its target), as root can. */
function editInPlace(rel: string, text: string): void {
  const fd = fs.openSync(path.join(dir, rel), 'r+');
  try {
    fs.writeSync(fd, Buffer.from(text), 0, text.length, 0);
  } finally {
    fs.closeSync(fd);
  }
}

function edited(original: Buffer, text: string): Buffer {
  const b = Buffer.from(original);
  b.write(text, 0);
  return b;
}

for (const type of ['hardlink', 'symlink'] as const) {
  describe(`cache.type ${type}: an in-place edit of a work-tree file`, () => {
    beforeEach(() => mlxOk(dir, 'config', 'cache.type', type));

    it('is named by the next status, the damaged object is quarantined, and a fetch brings the original back', () => {
      const original = bytes(5000, 'v1');
      write(dir, 'model.bin', original);
      mlxOk(dir, 'add', 'model.bin');
      mlxOk(dir, 'push');
      const oid = oidOf('model.bin.mlx');
      editInPlace('model.bin', 'EDITED');
      // The edit went into the cache object (this is what the read-only mode did not prevent).
      expect(sha(fs.readFileSync(objectFile(oid)))).toBe(sha(edited(original, 'EDITED')));

      // Named by the next status, in one line.
      const human = mlxOk(dir, 'status').stdout.split('\n').filter((l) => l.includes(oid));
      expect(human).toEqual([expect.stringMatching(new RegExp(`^problem: +model\\.bin\\.mlx: cache object ${oid} was changed by an in-place edit of model\\.bin`))]);
      // Not trusted any more: out of the store, and the edit is still in the work tree.
      expect(fs.existsSync(objectFile(oid))).toBe(false);
      expect(fs.readdirSync(path.join(dir, '.mlx/cache/quarantine')).some((f) => f.startsWith(oid.slice(3)))).toBe(true);
      expect(fs.readFileSync(path.join(dir, 'model.bin'))).toEqual(edited(original, 'EDITED'));
      const res = mlxJson(dir, 'status');
      expect(res.paths).toEqual([expect.objectContaining({ path: 'model.bin', state: 'modified', cache: 'missing' })]);

      mlxOk(dir, 'fetch');
      expect(fs.readFileSync(objectFile(oid))).toEqual(original);
      mlxOk(dir, 'checkout', '--force', 'model.bin');
      expect(fs.readFileSync(path.join(dir, 'model.bin'))).toEqual(original);
      mlxOk(dir, 'verify');
    });

    it('is caught by add too: the new version is stored and the damaged old one is not kept as that version', async () => {
      for (let i = 0; i < 3; i++) write(dir, `data/f${i}.bin`, bytes(3000, `f${i}`));
      mlxOk(dir, 'add', 'data');
      mlxOk(dir, 'push');
      await gitCommitAll(dir, 'v1');
      const oldOid = hashBytes(await loadHasher(), bytes(3000, 'f1'));
      editInPlace('data/f1.bin', 'CHANGED');

      const r = mlx(dir, 'add', 'data');
      expect(r.code).toBe(0);
      expect(r.stderr).toMatch(/^mlx: warning: cache object b3:[0-9a-f]{64} was changed by an in-place edit of data\/f1\.bin/m);
      const damaged = /cache object (b3:[0-9a-f]{64})/.exec(r.stderr)![1]!;
      expect(damaged).toBe(oldOid);
      expect(fs.existsSync(objectFile(damaged))).toBe(false);
      expect(fs.readFileSync(path.join(dir, 'data/f1.bin'))).toEqual(edited(bytes(3000, 'f1'), 'CHANGED'));
      expect(mlxJson(dir, 'status').problems).toEqual([]);
      mlxOk(dir, 'verify');

      // The committed version still checks out: its object comes back from the remote, intact.
      mlxOk(dir, 'checkout', 'HEAD', '--force');
      expect(fs.readFileSync(path.join(dir, 'data/f1.bin'))).toEqual(bytes(3000, 'f1'));
      expect(fs.readFileSync(objectFile(damaged))).toEqual(bytes(3000, 'f1'));
    });
  });
}

describe('cache.type hardlink: a directory file made writable and edited in place', () => {
  beforeEach(() => mlxOk(dir, 'config', 'cache.type', 'hardlink'));

  it('is named by status comparing the directory with its manifest in place, and the damaged object is quarantined', async () => {
    for (let i = 0; i < 3; i++) write(dir, `data/f${i}.bin`, bytes(3000, `f${i}`));
    mlxOk(dir, 'add', 'data');
    await gitCommitAll(dir, 'v1');
    mlxOk(dir, 'status');
    const oldOid = hashBytes(await loadHasher(), bytes(3000, 'f1'));
    // Writable, its size and bit unchanged: what status hashes on the spot rather than listing for a read.
    fs.chmodSync(path.join(dir, 'data/f1.bin'), 0o644);
    fs.chmodSync(path.join(dir, 'data/f2.bin'), 0o644);
    expect(fs.statSync(path.join(dir, 'data/f1.bin')).nlink).toBeGreaterThan(1);
    editInPlace('data/f1.bin', 'CHANGED');

    const res = mlxJson(dir, 'status');
    expect(res.problems).toEqual([expect.objectContaining({ pointer: 'data.mlx', code: 'EOBJECTCORRUPT', message: expect.stringContaining(`cache object ${oldOid} was changed by an in-place edit of data/f1.bin`) })]);
    expect(res.paths).toEqual([expect.objectContaining({ path: 'data', state: 'modified', changes: { added: [], modified: ['f1.bin'], deleted: [] } })]);
    expect(fs.existsSync(objectFile(oldOid))).toBe(false);
    expect(fs.readFileSync(path.join(dir, 'data/f1.bin'))).toEqual(edited(bytes(3000, 'f1'), 'CHANGED'));
  });
});
