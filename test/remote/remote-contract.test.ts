import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { DirRemote } from '../../src/remote/dir-remote.js';
import type { Remote } from '../../src/remote/remote.js';
import { S3Remote } from '../../src/remote/s3-remote.js';
import { E, MlxError } from '../../src/util/errors.js';
import { rejectionCode } from '../helpers/errors.js';
import { startS3Server, type S3TestServer } from '../helpers/s3-server.js';

// The invariants src/remote/remote.ts states for every `Remote`, checked against each backend with the
// same cases: what one backend does, the other must do too. Backend-only behaviour (temp files, paged
// listings, multipart uploads, credentials) stays in dir-remote.test.ts and s3-remote.test.ts.

let tmp: string;
let server: S3TestServer;
let fresh = 0;

beforeAll(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'mlx-remote-contract-'));
  server = await startS3Server();
});

afterAll(async () => {
  await server?.stop();
  fs.rmSync(tmp, { recursive: true, force: true });
});

/** Each backend, opened on an empty location of its own for every test. */
const backends: Array<{ name: string; open: () => Remote }> = [
  {
    name: 'directory',
    open: () => {
      const root = path.join(tmp, `dir-${++fresh}`);
      fs.mkdirSync(root);
      return new DirRemote(root);
    },
  },
  {
    name: 's3rver',
    open: () =>
      new S3Remote({
        bucket: server.bucket,
        prefix: `contract/${++fresh}`,
        endpoint: server.endpoint,
        accessKeyId: server.accessKeyId,
        secretAccessKey: server.secretAccessKey,
      }),
  },
];

/** The error `p` rejects with, checked to be a one-line MlxError. */
async function rejection(p: Promise<unknown>): Promise<MlxError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(MlxError);
  expect((err as MlxError).message).not.toContain('\n');
  return err as MlxError;
}

const keysOf = async (remote: Remote, prefix: string) => (await remote.list(prefix)).map((o) => o.key).sort();

describe.each(backends)('Remote contract: $name', ({ open }) => {
  let remote: Remote;
  let scratch: string;
  beforeEach(() => {
    remote = open();
    scratch = fs.mkdtempSync(path.join(tmp, 'scratch-'));
  });

  it('starts empty and passes check()', async () => {
    await expect(remote.check()).resolves.toBeUndefined();
    expect(await remote.list('')).toEqual([]);
  });

  it('round-trips a Buffer, a file and an empty object through get, head, list and getToFile', async () => {
    const big = crypto.randomBytes(1_500_000);
    const src = path.join(scratch, 'big.bin');
    fs.writeFileSync(src, big);
    await remote.put('a/b/hello.txt', Buffer.from('hello'));
    await remote.put('packs/big.bin', { file: src });
    await remote.put('empty', Buffer.alloc(0));

    expect((await remote.get('a/b/hello.txt')).toString()).toBe('hello');
    expect((await remote.get('packs/big.bin')).equals(big)).toBe(true);
    expect((await remote.get('empty')).length).toBe(0);
    expect(await remote.head('packs/big.bin')).toEqual({ key: 'packs/big.bin', size: big.length });
    expect(await remote.head('empty')).toEqual({ key: 'empty', size: 0 });
    expect((await remote.list('')).sort((x, y) => x.key.localeCompare(y.key))).toEqual([
      { key: 'a/b/hello.txt', size: 5 },
      { key: 'empty', size: 0 },
      { key: 'packs/big.bin', size: big.length },
    ]);

    const dest = path.join(scratch, 'big.out');
    expect(await remote.getToFile('packs/big.bin', dest)).toBe(big.length);
    expect(fs.readFileSync(dest).equals(big)).toBe(true);
    // getToFile never overwrites: the destination must be new.
    expect(await rejectionCode(remote.getToFile('a/b/hello.txt', dest))).toBe(E.BAD_STATE);
    expect(fs.readFileSync(dest).equals(big)).toBe(true);
  });

  it('stores bytes given in pieces as those pieces back to back (empty ones, and more than one vectored write takes)', async () => {
    const pieces = Array.from({ length: 600 }, (_, i) => crypto.randomBytes(i % 7 === 0 ? 0 : (i * 37) % 3000));
    pieces.push(crypto.randomBytes(300_000));
    const whole = Buffer.concat(pieces);
    await remote.put('packs/pieces.pack', pieces);
    expect(await remote.head('packs/pieces.pack')).toEqual({ key: 'packs/pieces.pack', size: whole.length });
    expect((await remote.get('packs/pieces.pack')).equals(whole)).toBe(true);
    await remote.put('packs/none.pack', []);
    expect((await remote.get('packs/none.pack')).length).toBe(0);
  });

  it('reads into a caller buffer that fits, and into fresh memory when it does not', async () => {
    await remote.put('k', Buffer.from('0123456789'));
    const into = Buffer.alloc(16, 0x2e);
    const got = await remote.get('k', { start: 2, end: 6 }, into);
    expect(got.toString()).toBe('2345');
    expect(got.buffer).toBe(into.buffer);
    const small = Buffer.alloc(2);
    const whole = await remote.get('k', undefined, small);
    expect(whole.toString()).toBe('0123456789');
    expect(small.equals(Buffer.alloc(2))).toBe(true);
  });

  it('serves byte ranges, end exclusive, clipped to the object like HTTP', async () => {
    await remote.put('r', Buffer.from('0123456789'));
    expect((await remote.get('r', { start: 2, end: 5 })).toString()).toBe('234');
    expect((await remote.get('r', { start: 0, end: 1 })).toString()).toBe('0');
    expect((await remote.get('r', { start: 8, end: 20 })).toString()).toBe('89');
    expect((await remote.get('r', { start: 4, end: 4 })).length).toBe(0);
    expect((await remote.get('r', { start: 30, end: 40 })).length).toBe(0);
    for (const bad of [{ start: 3, end: 2 }, { start: -1, end: 2 }, { start: 0.5, end: 2 }]) {
      expect(await rejectionCode(remote.get('r', bad))).toBe(E.BAD_PATH);
    }
  });

  it('lists by string prefix, not by folder, with sizes', async () => {
    for (const k of ['l/x/1', 'l/x/2', 'l/y/3', 'l/xy/4', 'lz/5']) await remote.put(k, Buffer.from(k));
    expect(await keysOf(remote, 'l/')).toEqual(['l/x/1', 'l/x/2', 'l/xy/4', 'l/y/3']);
    expect(await keysOf(remote, 'l/x')).toEqual(['l/x/1', 'l/x/2', 'l/xy/4']);
    expect(await keysOf(remote, 'l/x/')).toEqual(['l/x/1', 'l/x/2']);
    expect(await keysOf(remote, 'l')).toEqual(['l/x/1', 'l/x/2', 'l/xy/4', 'l/y/3', 'lz/5']);
    expect(await keysOf(remote, 'nope/')).toEqual([]);
    expect((await remote.list('l/x/')).find((o) => o.key === 'l/x/2')?.size).toBe(5);
  });

  it('replaces an existing key with the new bytes and size', async () => {
    await remote.put('k', Buffer.alloc(1000, 0x31));
    await remote.put('k', Buffer.alloc(1200, 0x32));
    expect((await remote.get('k')).equals(Buffer.alloc(1200, 0x32))).toBe(true);
    expect(await remote.head('k')).toEqual({ key: 'k', size: 1200 });
    expect(await keysOf(remote, '')).toEqual(['k']);
    // Readers racing a replacement see one whole version: for a directory that is mlx's own
    // temp-file-and-rename (dir-remote.test.ts); for S3 it is the service's promise, which s3rver does
    // not keep (it sends the old length, then the new file's bytes).
  });

  it('deletes, and deleting a missing key is not an error', async () => {
    await remote.put('del/k', Buffer.from('x'));
    await remote.put('del/kept', Buffer.from('y'));
    await remote.delete('del/k');
    expect(await remote.head('del/k')).toBeUndefined();
    expect(await keysOf(remote, 'del/')).toEqual(['del/kept']);
    await expect(remote.delete('del/k')).resolves.toBeUndefined();
    await expect(remote.delete('never/there')).resolves.toBeUndefined();
  });

  it('reports a missing key as E.REMOTE_NOT_FOUND naming the key, and head as undefined', async () => {
    expect(await remote.head('missing/k')).toBeUndefined();
    for (const range of [undefined, { start: 0, end: 1 }]) {
      const err = await rejection(remote.get('missing/k', range));
      expect(err.code).toBe(E.REMOTE_NOT_FOUND);
      expect(err.message).toContain('missing/k');
    }
    const dest = path.join(scratch, 'missing.out');
    expect((await rejection(remote.getToFile('missing/k', dest))).code).toBe(E.REMOTE_NOT_FOUND);
    expect(fs.existsSync(dest)).toBe(false);
  });

  it('rejects keys and prefixes that would escape or alias another key, on every operation', async () => {
    for (const key of ['', '/abs', '../escape', 'a/../../b', 'a//b', 'a/./b', './a', 'a/', 'a\\b', 'a\nb']) {
      expect(await rejectionCode(remote.put(key, Buffer.from('x')))).toBe(E.BAD_PATH);
      expect(await rejectionCode(remote.get(key))).toBe(E.BAD_PATH);
      expect(await rejectionCode(remote.head(key))).toBe(E.BAD_PATH);
      expect(await rejectionCode(remote.delete(key))).toBe(E.BAD_PATH);
    }
    for (const prefix of ['/abs', '../x', 'a//', 'a/./']) expect(await rejectionCode(remote.list(prefix))).toBe(E.BAD_PATH);
    expect(await remote.list('')).toEqual([]);
    expect(fs.existsSync(path.join(tmp, 'escape'))).toBe(false);
  });

  it('reports an upload source that does not exist as E.PATH_NOT_FOUND and stores nothing', async () => {
    expect(await rejectionCode(remote.put('src/missing', { file: path.join(scratch, 'nope.bin') }))).toBe(E.PATH_NOT_FOUND);
    expect(await remote.head('src/missing')).toBeUndefined();
    expect(await remote.list('')).toEqual([]);
  });
});
