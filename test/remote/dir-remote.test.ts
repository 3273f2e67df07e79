import { rejectionCode } from '../helpers/errors.js';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import crypto from 'node:crypto';
import { pathToFileURL } from 'node:url';
import { describe, it, expect, beforeAll, afterAll, vi } from 'vitest';
import { DirRemote } from '../../src/remote/dir-remote.js';
import { alignedSharedBuffer } from '../../src/util/aligned-memory.js';
import { openRemote } from '../../src/remote/open-remote.js';
import { E } from '../../src/util/errors.js';

let tmp: string;
let root: string;
let remote: DirRemote;

/** Every file under `dir`, relative, for spotting leftovers such as temp files. */
function filesUnder(dir: string): string[] {
  return (fs.readdirSync(dir, { recursive: true }) as string[])
    .filter((p) => fs.statSync(path.join(dir, p)).isFile())
    .map((p) => p.split(path.sep).join('/'))
    .sort();
}

beforeAll(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'mlx-dir-remote-'));
  root = path.join(tmp, 'remote');
  fs.mkdirSync(root);
  remote = new DirRemote(root);
});

afterAll(() => {
  fs.rmSync(tmp, { recursive: true, force: true });
});

describe('DirRemote', () => {
  it('round-trips a Buffer and a file, leaving no temp files', async () => {
    await remote.put('a/b/hello.txt', Buffer.from('hello'));
    const bytes = crypto.randomBytes(3_000_000);
    const src = path.join(tmp, 'big.bin');
    fs.writeFileSync(src, bytes);
    await remote.put('packs/big.bin', { file: src });

    expect((await remote.get('a/b/hello.txt')).toString()).toBe('hello');
    expect((await remote.get('packs/big.bin')).equals(bytes)).toBe(true);
    expect(await remote.head('packs/big.bin')).toEqual({ key: 'packs/big.bin', size: 3_000_000 });
    const dest = path.join(tmp, 'big.out');
    expect(await remote.getToFile('packs/big.bin', dest)).toBe(3_000_000);
    expect(fs.readFileSync(dest).equals(bytes)).toBe(true);
    expect(await rejectionCode(remote.getToFile('packs/big.bin', dest))).toBe(E.BAD_STATE);
    expect(filesUnder(root)).toEqual(['a/b/hello.txt', 'packs/big.bin']);
  });

  it('writes a large body whole and exact, from memory aligned to pages or not, of a length in whole blocks or not', async () => {
    const own = new DirRemote(root);
    const aligned = alignedSharedBuffer(3 << 20);
    crypto.randomFillSync(aligned);
    const unaligned = Buffer.from(new SharedArrayBuffer((2 << 20) + 16), 16, 2 << 20);
    crypto.randomFillSync(unaligned);
    const odd = crypto.randomBytes((1 << 20) + 1);
    for (const [key, body] of [['direct/aligned', aligned], ['direct/unaligned', unaligned], ['direct/odd', odd], ['direct/aligned-again', aligned]] as const) {
      await own.put(key, body);
      expect((await own.get(key)).equals(body)).toBe(true);
    }
    expect(filesUnder(path.join(root, 'direct'))).toEqual(['aligned', 'aligned-again', 'odd', 'unaligned']);
  });

  it('writes pieces as they are once the file system has refused a body written past the page cache', async () => {
    const own = new DirRemote(root);
    expect(own.putsPiecesAsTheyAre).toBe(false); // not tried yet: a whole buffer may go past the page cache
    const refusing = vi.spyOn(fsp, 'open').mockImplementationOnce(async () => {
      throw Object.assign(new Error('EINVAL: invalid argument, open'), { code: 'EINVAL' });
    });
    try {
      const body = alignedSharedBuffer(1 << 20).fill(7);
      await own.put('refused/k', body);
      expect((await own.get('refused/k')).equals(body)).toBe(true);
    } finally {
      refusing.mockRestore();
    }
    expect(own.putsPiecesAsTheyAre).toBe(true);
  });

  it('replaces an existing key atomically: readers during the replacement see one whole version', async () => {
    const one = Buffer.alloc(1_000_000, 0x31);
    const two = Buffer.alloc(1_200_000, 0x32);
    await remote.put('replace/k', one);
    const reads = Array.from({ length: 6 }, () => remote.get('replace/k'));
    await remote.put('replace/k', two);
    for (const got of await Promise.all(reads)) expect(got.equals(one) || got.equals(two)).toBe(true);
    expect((await remote.get('replace/k')).equals(two)).toBe(true);
    expect(filesUnder(path.join(root, 'replace'))).toEqual(['k']);
  });

  it('lists recursively by key prefix and skips temp files', async () => {
    for (const k of ['l/x/1', 'l/x/2', 'l/y/3', 'l/xy/4', 'lz/5']) await remote.put(k, Buffer.from(k));
    fs.writeFileSync(path.join(root, 'l', 'x', '.1.123.abcdef.tmp'), 'half-written');
    const keys = async (p: string) => (await remote.list(p)).map((o) => o.key).sort();
    expect(await keys('l/')).toEqual(['l/x/1', 'l/x/2', 'l/xy/4', 'l/y/3']);
    expect(await keys('l/x')).toEqual(['l/x/1', 'l/x/2', 'l/xy/4']);
    expect(await keys('l/x/')).toEqual(['l/x/1', 'l/x/2']);
    expect(await keys('l')).toEqual(['l/x/1', 'l/x/2', 'l/xy/4', 'l/y/3', 'lz/5']);
    expect(await keys('nope/')).toEqual([]);
    expect((await remote.list('l/x/')).find((o) => o.key === 'l/x/2')?.size).toBe(5);
    expect((await keys('')).length).toBeGreaterThanOrEqual(5);
  });

  it('removes temp files of killed writers once they are old enough, and nothing else', async () => {
    await remote.put('sweep/kept.pack', Buffer.from('a real object'));
    const dir = path.join(root, 'sweep');
    const stale = path.join(dir, '.gone.pack.4242-deadbeef.tmp');
    const fresh = path.join(dir, '.writing.pack.4243-cafe.tmp');
    fs.writeFileSync(stale, 'half a pack');
    fs.writeFileSync(fresh, 'a pack being written');
    const twoHoursAgo = new Date(Date.now() - 2 * 3600_000);
    fs.utimesSync(stale, twoHoursAgo, twoHoursAgo);
    expect(await remote.removeStaleTemporaries(3600_000)).toBe(1);
    expect(fs.existsSync(stale)).toBe(false);
    expect(fs.existsSync(fresh)).toBe(true);
    expect((await remote.get('sweep/kept.pack')).toString()).toBe('a real object');
  });

  it('never creates a missing root, and says so clearly', async () => {
    const gone = new DirRemote(path.join(tmp, 'not-mounted'));
    expect(await rejectionCode(gone.check())).toBe(E.REMOTE_UNREACHABLE);
    expect(await rejectionCode(gone.put('k', Buffer.from('x')))).toBe(E.REMOTE_UNREACHABLE);
    expect(await rejectionCode(gone.get('k'))).toBe(E.REMOTE_UNREACHABLE);
    expect(await rejectionCode(gone.head('k'))).toBe(E.REMOTE_UNREACHABLE);
    expect(await rejectionCode(gone.list(''))).toBe(E.REMOTE_UNREACHABLE);
    expect(fs.existsSync(path.join(tmp, 'not-mounted'))).toBe(false);
    await expect(remote.check()).resolves.toBeUndefined();
  });

  it('reports a destination folder that is not there as E.PATH_NOT_FOUND, not as a missing object', async () => {
    await remote.put('present', Buffer.from('x'));
    expect(await rejectionCode(remote.getToFile('present', path.join(tmp, 'no-such-dir', 'x')))).toBe(E.PATH_NOT_FOUND);
  });

  it('reports an upload source that does not exist without touching the remote', async () => {
    expect(await rejectionCode(remote.put('src/missing', { file: path.join(tmp, 'nope.bin') }))).toBe(E.PATH_NOT_FOUND);
    expect(await remote.head('src/missing')).toBeUndefined();
    expect(fs.existsSync(path.join(root, 'src'))).toBe(false);
  });
});

describe('openRemote for directories', () => {
  it('opens absolute paths, relative paths (from baseDir) and file:// urls', async () => {
    const abs = await openRemote(root, {}, '/somewhere/else');
    expect(abs).toBeInstanceOf(DirRemote);
    expect((abs as DirRemote).root).toBe(root);
    const rel = await openRemote('remote', {}, tmp);
    expect((rel as DirRemote).root).toBe(root);
    expect(rel.url).toBe('remote');
    const url = pathToFileURL(root).href;
    const viaUrl = await openRemote(url, {}, '/');
    expect((viaUrl as DirRemote).root).toBe(root);
    expect((await viaUrl.get('a/b/hello.txt')).toString()).toBe('hello');
  });

  it('rejects unknown schemes, bad file urls and unknown options with E.BAD_CONFIG', async () => {
    expect(await rejectionCode(openRemote('gs://bucket/x', {}, tmp))).toBe(E.BAD_CONFIG);
    expect(await rejectionCode(openRemote('https://example.com/x', {}, tmp))).toBe(E.BAD_CONFIG);
    expect(await rejectionCode(openRemote('', {}, tmp))).toBe(E.BAD_CONFIG);
    expect(await rejectionCode(openRemote('file://host/x', {}, tmp))).toBe(E.BAD_CONFIG);
    expect(await rejectionCode(openRemote(root, { endpoint: 'http://x' }, tmp))).toBe(E.BAD_CONFIG);
    expect(await rejectionCode(openRemote('s3://', {}, tmp))).toBe(E.BAD_CONFIG);
    expect(await rejectionCode(openRemote('s3://b/p', { endpiont: 'http://x' }, tmp))).toBe(E.BAD_CONFIG);
    expect(await rejectionCode(openRemote('s3://b/p', { max_attempts: 'many' }, tmp))).toBe(E.BAD_CONFIG);
    expect(await rejectionCode(openRemote('s3://b/p', { force_path_style: 'maybe' }, tmp))).toBe(E.BAD_CONFIG);
    expect(await rejectionCode(openRemote('s3://b/p', { checksums: 'always' }, tmp))).toBe(E.BAD_CONFIG);
    expect(await rejectionCode(openRemote('s3://b/../p', {}, tmp))).toBe(E.BAD_CONFIG);
  });
});

describe('DirRemote on a share in trouble', () => {
  const flaky = (code: string) => Object.assign(new Error(`${code}: share in trouble`), { code });

  it('retries an errno of a share in trouble and then succeeds, for reads and writes', async () => {
    process.env.MLX_RETRY_BASE_MS = '1';
    try {
      await remote.put('flaky/x', Buffer.from('bytes of x'));
      for (const code of ['EIO', 'ETIMEDOUT', 'ESTALE', 'ENOTCONN']) {
        const open = vi.spyOn(fsp, 'open').mockRejectedValueOnce(flaky(code)).mockRejectedValueOnce(flaky(code));
        try {
          expect((await remote.get('flaky/x')).toString()).toBe('bytes of x');
          expect(open.mock.calls.length).toBe(3);
        } finally {
          open.mockRestore();
        }
      }
      const write = vi.spyOn(fsp, 'writeFile').mockRejectedValueOnce(flaky('EIO'));
      try {
        await remote.put('flaky/y', Buffer.from('y'));
      } finally {
        write.mockRestore();
      }
      expect((await remote.get('flaky/y')).toString()).toBe('y');
      expect(filesUnder(path.join(root, 'flaky'))).toEqual(['x', 'y']);
    } finally {
      delete process.env.MLX_RETRY_BASE_MS;
    }
  });

  it('reports a share that keeps failing as E.REMOTE_UNREACHABLE after a bounded number of tries, never as missing or damaged', async () => {
    process.env.MLX_RETRY_BASE_MS = '1';
    const open = vi.spyOn(fsp, 'open').mockRejectedValue(flaky('EIO'));
    try {
      const err = (await remote.get('flaky/x').then(() => ({ code: 'none', message: '' }), (e: unknown) => e)) as { code: string; message: string };
      expect(err.code).toBe(E.REMOTE_UNREACHABLE);
      expect(err.message).toMatch(/did not answer \(EIO\) after 4 attempts/);
      expect(open.mock.calls.length).toBe(4);
      // A missing object is still a missing object, at once.
      open.mockRestore();
      const stat = vi.spyOn(fsp, 'stat');
      expect(await remote.head('flaky/nothing')).toBeUndefined();
      expect(stat.mock.calls.length).toBe(1);
      stat.mockRestore();
    } finally {
      open.mockRestore();
      delete process.env.MLX_RETRY_BASE_MS;
    }
  });
});
