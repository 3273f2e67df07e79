import fs from 'node:fs';
import path from 'node:path';
import crypto from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadHasher, type HasherFactory } from '../../src/hash/blake3.js';
import { hashBytes } from '../../src/hash/hash-file.js';
import { parsePackIndex } from '../../src/formats/pack-index.js';
import { DirRemote } from '../../src/remote/dir-remote.js';
import { fetchObjects } from '../../src/remote/fetch.js';
import { pushObjects, type PushOptions } from '../../src/remote/push.js';
import type { Oid } from '../../src/hash/oid.js';
import { OidList } from '../../src/remote/oid-list.js';
import { RemoteIndex } from '../../src/remote/remote-index.js';
import type { ByteRange, Remote } from '../../src/remote/remote.js';
import { chunkBuffer } from '../../src/store/chunker.js';
import { ObjectStore } from '../../src/store/object-store.js';
import { E, isMlxError, MlxError } from '../../src/util/errors.js';
import { rejectionCode } from '../helpers/errors.js';
import { bytes, tempDir } from '../helpers/repo.js';

let newHasher: HasherFactory;
beforeAll(async () => {
  newHasher = await loadHasher();
});

/**
 * A real directory remote whose ranged reads finish in the reverse order they were asked for (each
 * waits until every later one has finished), so a large file's chunks arrive out of order.
 */
function reversingRemote(inner: DirRemote, window: number): Remote {
  let started = 0;
  const done: Promise<void>[] = [];
  return Object.assign(Object.create(inner) as Remote, {
    // Its reads must go through `get`, not straight to the pack files.
    localFile: undefined,
    async get(key: string, range?: ByteRange, into?: Buffer): Promise<Buffer> {
      if (!range) return inner.get(key, range, into);
      const n = started++;
      let finish!: () => void;
      done[n] = new Promise<void>((resolve) => (finish = resolve));
      // Wait for the next request of this window to finish first (the last one of a window waits for none).
      const later = (n + 1) % window === 0 ? undefined : done[n + 1] ?? new Promise<void>((r) => setTimeout(r, 50));
      await later;
      try {
        return await inner.get(key, range, into);
      } finally {
        finish();
      }
    },
  });
}

function setUp() {
  const root = tempDir('mlx-transfer-');
  const remoteDir = path.join(root, 'remote');
  fs.mkdirSync(remoteDir);
  const source = new ObjectStore(path.join(root, 'source'), newHasher);
  source.init();
  const target = new ObjectStore(path.join(root, 'target'), newHasher);
  target.init();
  const remote = new DirRemote(remoteDir);
  /** Writes `data` to a file and adds it to the source store; returns its oid. */
  const addFile = (name: string, data: Buffer) => {
    fs.writeFileSync(path.join(root, name), data);
    return source.importFile(path.join(root, name)).oid;
  };
  /** Pushes `oids` from the source store through a fresh remote index. */
  const push = async (oids: Oid[], opts: PushOptions = {}, via: Remote = remote) =>
    pushObjects(source, newHasher, via, await RemoteIndex.load(remote, path.join(root, `idx-${crypto.randomBytes(4).toString('hex')}`)), oids, opts);
  return { root, remoteDir, source, target, remote, addFile, push };
}

describe('push and fetch of a large file', () => {
  it('a remote that writes pieces as they are is sent the chunks from where they were read; a directory remote whole packs; both pull back', async () => {
    const { root, target, remote, addFile, push } = setUp();
    try {
      const data = crypto.randomBytes(30 << 20);
      const oid = addFile('big.bin', data);
      const bodies = (via: Remote) => {
        const seen: unknown[] = [];
        const recording = Object.assign(Object.create(via) as Remote, {
          async put(key: string, body: Parameters<Remote['put']>[1]): Promise<void> {
            if (key.endsWith('.pack')) seen.push(body);
            await via.put(key, body);
          },
        });
        return { recording, seen };
      };
      /** The remote, saying it writes pieces as they are or not (a directory remote decides by its file system). */
      const withPieces = (value: boolean) => Object.create(remote, { putsPiecesAsTheyAre: { value } }) as Remote;
      const pieces = bodies(withPieces(true));
      await push([oid], {}, pieces.recording);
      // Pieces: headers and padding, then each chunk as a view of the chunk thread's shared blocks.
      expect(pieces.seen.length).toBeGreaterThan(1);
      for (const body of pieces.seen) {
        expect(Array.isArray(body)).toBe(true);
        expect((body as Buffer[]).some((piece) => piece.length > 100_000 && piece.buffer instanceof SharedArrayBuffer)).toBe(true);
      }
      const fetchIndex = await RemoteIndex.load(remote, path.join(root, 'idx-fetch'));
      await fetchObjects(target, newHasher, remote, fetchIndex, [oid], { jobs: 4 });
      expect(fs.readFileSync(target.pathOf(oid)).equals(data)).toBe(true);

      // A remote that would join the pieces, or write a whole buffer past the page cache, gets each pack as one buffer.
      for (const via of [withPieces(false), remote]) {
        fs.rmSync(path.join(root, 'remote'), { recursive: true });
        fs.mkdirSync(path.join(root, 'remote'));
        const whole = bodies(via);
        await push([oid], {}, whole.recording);
        expect(whole.seen.length).toBe(pieces.seen.length);
        expect(whole.seen.every((body) => Buffer.isBuffer(body) && body.buffer instanceof SharedArrayBuffer)).toBe(true);
        // A fresh store, as the next process opens it (a store trusts what it stored itself).
        fs.rmSync(target.pathOf(oid), { force: true });
        const again = new ObjectStore(target.root, newHasher);
        await fetchObjects(again, newHasher, remote, await RemoteIndex.load(remote, path.join(root, `idx-fetch-${crypto.randomBytes(4).toString('hex')}`)), [oid], { jobs: 4 });
        expect(fs.readFileSync(again.pathOf(oid)).equals(data)).toBe(true);
      }
    } finally {
      fs.rmSync(root, { recursive: true, force: true });
    }
  });

  it('refuses to push a large file changed in the cache (same size): it is quarantined and no recipe claims it', async () => {
    const { root, source, remote, addFile, push } = setUp();
    try {
      const data = crypto.randomBytes(12 << 20);
      const oid = addFile('big.bin', data);
      const file = source.pathOf(oid);
      fs.chmodSync(file, 0o644);
      const fd = fs.openSync(file, 'r+');
      fs.writeSync(fd, Buffer.from([data[9 << 20]! ^ 1]), 0, 1, 9 << 20); // one byte, deep in the file
      fs.closeSync(fd);
      expect(await rejectionCode(push([oid]))).toBe(E.OBJECT_CORRUPT);
      expect(fs.existsSync(file)).toBe(false);
      // Chunks may have gone up (each is named by its own bytes); the recipe, which claims the file, has not.
      const published = await RemoteIndex.load(remote, path.join(root, 'idx-after'));
      expect(published.has(oid)).toBe(false);
      // The file added again pushes whole, recipe and all.
      expect(addFile('big.bin', data)).toBe(oid);
      await push([oid]);
      expect((await RemoteIndex.load(remote, path.join(root, 'idx-again'))).has(oid)).toBe(true);
    } finally {
      fs.rmSync(root, { recursive: true, force: true });
    }
  });

  it('rebuilds a file whose chunks arrive out of order, hashing it exactly once in order', async () => {
    const { root, target, remote, addFile, push } = setUp();
    try {
      const data = crypto.randomBytes(9 << 20);
      const oid = addFile('big.bin', data);
      // Small packs so the chunks land in several packs and so several ranged reads.
      const pushed = await push([oid], { packTarget: 1 << 20 });
      expect(pushed.packs).toBeGreaterThan(3);

      const jobs = 4;
      const fetchIndex = await RemoteIndex.load(remote, path.join(root, 'idx-fetch'));
      const res = await fetchObjects(target, newHasher, reversingRemote(remote, jobs), fetchIndex, [oid], { jobs });
      expect(res).toMatchObject({ fetched: 1, missingOnRemote: [] });
      expect(fs.readFileSync(target.pathOf(oid)).equals(data)).toBe(true);
      expect(fs.readdirSync(target.tmpDir)).toEqual([]);
    } finally {
      fs.rmSync(root, { recursive: true, force: true });
    }
  });

  it('a failed read while later chunks wait for it ends the fetch with its error: no hang, nothing stored', async () => {
    const { root, target, remote, addFile, push } = setUp();
    try {
      const oid = addFile('big.bin', crypto.randomBytes(9 << 20));
      await push([oid], { packTarget: 1 << 20 });
      const jobs = 4;
      const reversing = reversingRemote(remote, jobs);
      let calls = 0;
      // The first read of chunks (the file's first bytes; read 0 fetched the recipe) finishes after
      // later ones, which wait in memory for it, and fails.
      const failing = Object.assign(Object.create(reversing) as Remote, {
        async get(key: string, range?: ByteRange, into?: Buffer): Promise<Buffer> {
          const first = range !== undefined && calls++ === 1;
          const bytes = await reversing.get(key, range, into);
          if (first) throw new MlxError(E.REMOTE_FAILED, 'connection lost');
          return bytes;
        },
      });
      const fetchIndex = await RemoteIndex.load(remote, path.join(root, 'idx-fetch'));
      expect(await rejectionCode(fetchObjects(target, newHasher, failing, fetchIndex, [oid], { jobs }))).toBe(E.REMOTE_FAILED);
      expect(target.has(oid)).toBe(false);
      expect(fs.readdirSync(target.tmpDir)).toEqual([]);
    } finally {
      fs.rmSync(root, { recursive: true, force: true });
    }
  });

  it('publishes pack indexes in pack order, whatever order the uploads finish in', async () => {
    const { root, remote, addFile, push } = setUp();
    try {
      const oid = addFile('big.bin', crypto.randomBytes(9 << 20));
      const started: string[] = [];
      const landed: string[] = [];
      const published: string[] = [];
      // The first pack upload is held until a later one has landed: uploads finish out of pack order.
      let laterPackLanded!: () => void;
      const aLaterPackIsUp = new Promise<void>((r) => (laterPackLanded = r));
      const firstHeld = Object.assign(Object.create(remote) as Remote, {
        async put(key: string, body: Parameters<Remote['put']>[1]): Promise<void> {
          if (key.endsWith('.pack')) {
            const name = key.slice(0, -'.pack'.length);
            started.push(name);
            if (started.length === 1) await aLaterPackIsUp;
            await remote.put(key, body);
            landed.push(name);
            if (started.length > 1 && name !== started[0]) laterPackLanded();
            return;
          }
          await remote.put(key, body);
          // index/<hex>.idx publishes packs/<hex>.pack
          if (key.endsWith('.idx')) published.push(key.slice(0, -'.idx'.length).replace(/^index\//, 'packs/'));
        },
      });
      const res = await push([oid], { packTarget: 1 << 20, jobs: 8 }, firstHeld);
      expect(res.packs).toBeGreaterThan(3);
      expect(landed[0]).not.toBe(started[0]);
      expect(published).toEqual(started);
    } finally {
      fs.rmSync(root, { recursive: true, force: true });
    }
  });

  it('a failed pack upload keeps every later index unpublished, so no recipe names missing chunks', async () => {
    const { root, remote, addFile, push } = setUp();
    try {
      const oid = addFile('big.bin', crypto.randomBytes(9 << 20));
      let packs = 0;
      let laterPackSent!: () => void;
      const aLaterPackIsUp = new Promise<void>((r) => (laterPackSent = r));
      const failFirst = Object.assign(Object.create(remote) as Remote, {
        async put(key: string, body: Parameters<Remote['put']>[1]): Promise<void> {
          if (key.endsWith('.pack') && packs++ === 0) {
            await aLaterPackIsUp; // a later pack finishes first
            throw new MlxError(E.REMOTE_FAILED, 'connection lost');
          }
          await remote.put(key, body);
          if (key.endsWith('.pack')) laterPackSent();
        },
      });
      expect(await rejectionCode(push([oid], { packTarget: 1 << 20, jobs: 8 }, failFirst))).toBe(E.REMOTE_FAILED);
      const after = await RemoteIndex.load(remote, path.join(root, 'idx-after'));
      expect(after.packs.size).toBe(0);
      expect(after.has(oid)).toBe(false);
      // The next push completes and sends only what is not there yet.
      const again = await push([oid], { packTarget: 1 << 20 });
      expect(again.uploadedObjects).toBeGreaterThan(1);
      expect((await RemoteIndex.load(remote, path.join(root, 'idx-final'))).has(oid)).toBe(true);
    } finally {
      fs.rmSync(root, { recursive: true, force: true });
    }
  });

  it('refuses a rebuilt file with one tampered chunk: nothing enters the cache, no temp file stays', async () => {
    const { root, remoteDir, target, remote, addFile, push } = setUp();
    try {
      const oid = addFile('big.bin', crypto.randomBytes(6 << 20));
      await push([oid]);
      // Flip one byte in the middle of a raw chunk (random data is stored uncompressed).
      const idxFile = fs.readdirSync(path.join(remoteDir, 'index')).find((f) => f.endsWith('.idx'))!;
      const packIndex = parsePackIndex(fs.readFileSync(path.join(remoteDir, 'index', idxFile)), idxFile);
      const chunk = packIndex.entries.find((e) => e.t === 'b' && e.c === 'none')!;
      const packFile = path.join(remoteDir, 'packs', idxFile.replace(/\.idx$/, '.pack'));
      const pack = fs.readFileSync(packFile);
      pack[chunk.off + (chunk.len >> 1)] ^= 0x20;
      fs.writeFileSync(packFile, pack);
      expect(hashBytes(newHasher, pack)).not.toBe(packIndex.pack);

      const fetchIndex = await RemoteIndex.load(remote, path.join(root, 'idx-fetch'));
      expect(await rejectionCode(fetchObjects(target, newHasher, remote, fetchIndex, [oid]))).toBe(E.OBJECT_CORRUPT);
      expect(target.has(oid)).toBe(false);
      expect(fs.readdirSync(target.tmpDir)).toEqual([]);
    } finally {
      fs.rmSync(root, { recursive: true, force: true });
    }
  });

  it('uploads a shared chunk once, even while the pack holding it is still uploading', async () => {
    const { root, remote, addFile, push } = setUp();
    try {
      // B starts with all of A: content-defined cuts are the same up to where A ends.
      const a = bytes(6 << 20, 'shared-a');
      const b = Buffer.concat([a, bytes(2 << 20, 'shared-b')]);
      // Every chunk of A but its last (cut by A's end) is also a chunk of B.
      const spans = chunkBuffer(a);
      const shared = a.length - spans[spans.length - 1]!.length;
      expect(shared).toBeGreaterThan(1 << 20);
      const oids = [addFile('a.bin', a), addFile('b.bin', b)];
      // Every pack upload is held until a pack holding B's own tail comes, and there is room for all
      // of them at once: A's packs are all in flight while B is chunked, so only the push's own
      // memory of what it packed can spare the resend.
      const tailProbe = b.subarray(a.length + 4096, a.length + 4160);
      let bIsChunked!: () => void;
      const held = new Promise<void>((r) => (bIsChunked = r));
      const slow = Object.assign(Object.create(remote) as Remote, {
        async put(key: string, body: Parameters<Remote['put']>[1]): Promise<void> {
          if (key.endsWith('.pack')) {
            // A pack may come in pieces (chunks sent from where they were read).
            if (Buffer.concat(Array.isArray(body) ? body : [body as Buffer]).includes(tailProbe)) bIsChunked();
            await held;
          }
          await remote.put(key, body);
        },
      });
      const res = await push(oids, { packTarget: 1 << 20, jobs: 32 }, slow);
      expect(res.bytesDeduplicated).toBe(shared);
      expect(res.bytesSent).toBeLessThan(a.length + b.length - shared + (1 << 20));
    } finally {
      fs.rmSync(root, { recursive: true, force: true });
    }
  });
});

describe('push of small objects', () => {
  it('reads by the recorded size, survives a wrongly recorded size, and refuses a corrupt object', async () => {
    const { root, source, target, remote } = setUp();
    try {
      const datas = Array.from({ length: 20 }, (_, i) => bytes(1000 + i * 37, `small${i}`));
      const oids = datas.map((d) => source.putBytes(d));
      const sizes = new Map(oids.map((o, i) => [o, datas[i]!.length] as const));
      sizes.set(oids[3]!, 10); // as a hand-edited pointer might say
      sizes.set(oids[4]!, 50 << 20); // "large": goes the chunking way, and is one chunk
      const index = await RemoteIndex.load(remote, path.join(root, 'idx'));
      const res = await pushObjects(source, newHasher, remote, index, oids, { sizes });
      expect(res.uploadedObjects).toBe(20);
      const fetchIndex = await RemoteIndex.load(remote, path.join(root, 'idx-fetch'));
      await fetchObjects(target, newHasher, remote, fetchIndex, oids);
      oids.forEach((o, i) => expect(fs.readFileSync(target.pathOf(o)).equals(datas[i]!)).toBe(true));

      const bad = source.putBytes(bytes(5000, 'to-corrupt'));
      fs.chmodSync(source.pathOf(bad), 0o644);
      fs.writeFileSync(source.pathOf(bad), bytes(5000, 'something else'));
      expect(await rejectionCode(pushObjects(source, newHasher, remote, index, [bad], { sizes: new Map([[bad, 5000]]) }))).toBe(E.OBJECT_CORRUPT);
      expect(source.has(bad)).toBe(false); // quarantined
      expect(fs.readdirSync(source.quarantineDir)).toHaveLength(1);
    } finally {
      fs.rmSync(root, { recursive: true, force: true });
    }
  });
});

describe('push of many small objects', () => {
  it('reads and hashes them on a second thread: wrong recorded sizes and large ones are read here, a corrupt one is refused', async () => {
    const { root, source, target, remote } = setUp();
    try {
      // Enough past the first objects read on this thread to hand the rest to the reading thread.
      const datas = Array.from({ length: 1500 }, (_, i) => bytes(1000 + ((i * 53) % 3000), `many${i}`));
      const oids = datas.map((d) => source.putBytes(d));
      const sizes = new Map(oids.map((o, i) => [o, datas[i]!.length] as const));
      sizes.set(oids[700]!, 10); // recorded too short
      sizes.set(oids[701]!, datas[701]!.length + 9); // recorded too long
      sizes.set(oids[702]!, 50 << 20); // "large": the chunking way
      sizes.delete(oids[703]!); // no recorded size
      const index = await RemoteIndex.load(remote, path.join(root, 'idx'));
      const res = await pushObjects(source, newHasher, remote, index, oids, { sizes });
      expect(res.uploadedObjects).toBe(1500);
      const fetchIndex = await RemoteIndex.load(remote, path.join(root, 'idx-fetch'));
      await fetchObjects(target, newHasher, remote, fetchIndex, oids);
      oids.forEach((o, i) => expect(fs.readFileSync(target.pathOf(o)).equals(datas[i]!), `object ${i}`).toBe(true));

      // A corrupt object among many: the thread's hash does not match, the object is read again, refused and quarantined.
      const more = Array.from({ length: 1200 }, (_, i) => source.putBytes(bytes(1500, `more${i}`)));
      const bad = more[900]!;
      fs.chmodSync(source.pathOf(bad), 0o644);
      fs.writeFileSync(source.pathOf(bad), bytes(1500, 'something else'));
      const moreSizes = new Map(more.map((o) => [o, 1500] as const));
      expect(await rejectionCode(pushObjects(source, newHasher, remote, index, more, { sizes: moreSizes }))).toBe(E.OBJECT_CORRUPT);
      expect(source.has(bad)).toBe(false);
    } finally {
      fs.rmSync(root, { recursive: true, force: true });
    }
  });
});

describe('push of objects the cache lacks', () => {
  it('does not look for objects vouched to be in the cache, and reports one gone by the time it is read as missing', async () => {
    const { root, remoteDir, source, addFile } = setUp();
    try {
      const present = Array.from({ length: 40 }, (_, i) => addFile(`v${i}`, Buffer.from(`vouched ${i}`)));
      const gone = `b3:${'c'.repeat(64)}`;
      const list = new OidList();
      for (const oid of [...present, gone]) list.add(oid, undefined, true);
      const remote = new DirRemote(remoteDir);
      const index = await RemoteIndex.load(remote, path.join(root, 'idx'));
      const err = await pushObjects(source, newHasher, remote, index, list).then(
        () => undefined,
        (e: unknown) => e,
      );
      if (!isMlxError(err, E.OBJECT_MISSING)) throw err;
      // Found when read, not by the look beforehand (which names the first of all those absent).
      expect(err.message).toContain(`object ${gone} to push left the local cache`);
      expect(err.data.oids).toEqual([gone]);
    } finally {
      fs.rmSync(root, { recursive: true, force: true });
    }
  });


  it('sends nothing and names every absent object, in the order given, however many are asked about', async () => {
    const { root, remoteDir, source, addFile, push } = setUp();
    try {
      // Enough objects that the cache folders are listed rather than each object looked up.
      const present = Array.from({ length: 2100 }, (_, i) => addFile(`f${i}`, Buffer.from(`object ${i}`)));
      const absent = [`b3:${'e'.repeat(64)}`, `b3:${'0'.repeat(64)}`, `b3:${'7'.repeat(64)}`];
      const oids = [...present.slice(0, 1000), absent[0]!, ...present.slice(1000), absent[1]!, absent[2]!];
      const err = await push(oids).then(
        () => undefined,
        (e: unknown) => e,
      );
      if (!isMlxError(err, E.OBJECT_MISSING)) throw err;
      expect(err.message).toContain(`first: ${absent[0]}`);
      expect(err.data.oids).toEqual(absent);
      expect(fs.readdirSync(remoteDir)).toEqual([]);
      expect(source.missing(oids)).toEqual(new Set(absent));
    } finally {
      fs.rmSync(root, { recursive: true, force: true });
    }
  });
});
