import fs from 'node:fs';
import path from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { loadHasher } from '../../src/hash/blake3.js';
import { hashBytes } from '../../src/hash/hash-file.js';
import { ObjectStore } from '../../src/store/object-store.js';
import { bytes, prng, useTempStore } from '../helpers/repo.js';
import { errorCode } from '../helpers/errors.js';

const temp = useTempStore();
let dir: string;
let store: ObjectStore;
beforeEach(() => {
  dir = temp.dir();
  store = temp.store();
});

describe('ObjectStore', () => {
  it('imports a file in one pass: oid of the content, read-only object, no temp left', async () => {
    const data = bytes(3 << 20, 'big');
    fs.writeFileSync(path.join(dir, 'src.bin'), data);
    let progressed = 0;
    const res = store.importFile(path.join(dir, 'src.bin'), (n) => (progressed += n));
    expect(res).toEqual({ oid: hashBytes(await loadHasher(), data), size: data.length });
    expect(progressed).toBe(data.length);
    expect(fs.readFileSync(store.pathOf(res.oid)).equals(data)).toBe(true);
    expect(fs.statSync(store.pathOf(res.oid)).mode & 0o777).toBe(0o444);
    expect(fs.readdirSync(store.tmpDir)).toEqual([]);
  });

  it('imports a large file by a kernel copy hashed on a second thread: same oid, same bytes, read-only, no temp left', async () => {
    // Past the size where the copy goes to the kernel; an odd size, so the last read is short.
    const data = prng(9 * (1 << 20) + 333, 'kernel-copy');
    fs.writeFileSync(path.join(dir, 'big.bin'), data);
    let progressed = 0;
    const res = store.importFile(path.join(dir, 'big.bin'), (n) => (progressed += n));
    expect(res).toEqual({ oid: hashBytes(await loadHasher(), data), size: data.length });
    expect(progressed).toBe(data.length);
    expect(fs.readFileSync(store.pathOf(res.oid)).equals(data)).toBe(true);
    expect(fs.statSync(store.pathOf(res.oid)).mode & 0o777).toBe(0o444);
    expect(fs.readdirSync(store.tmpDir)).toEqual([]);
    // A second import of other bytes reuses the thread and names them by their own hash.
    const other = Buffer.concat([data.subarray(1), Buffer.from('x')]);
    fs.writeFileSync(path.join(dir, 'big2.bin'), other);
    expect(store.importFile(path.join(dir, 'big2.bin')).oid).toBe(hashBytes(await loadHasher(), other));
  });

  it('stores equal content once and repairs a damaged copy on re-import', () => {
    const a = store.putBytes(Buffer.from('same'));
    expect(store.putBytes(Buffer.from('same'))).toBe(a);
    expect([...store.list()]).toEqual([a]);
    fs.chmodSync(store.pathOf(a), 0o644);
    fs.writeFileSync(store.pathOf(a), 'evil');
    expect(store.putBytes(Buffer.from('same'))).toBe(a);
    expect(fs.readFileSync(store.pathOf(a), 'utf8')).toBe('same');
  });

  it('verifies reads and quarantines corrupt objects', () => {
    const oid = store.putBytes(Buffer.from('manifest bytes'));
    expect(store.readBytes(oid).toString()).toBe('manifest bytes');
    fs.chmodSync(store.pathOf(oid), 0o644);
    fs.writeFileSync(store.pathOf(oid), 'manifest bytez');
    expect(errorCode(() => store.readBytes(oid))).toBe('EOBJECTCORRUPT');
    expect(store.has(oid)).toBe(false);
    expect(fs.readdirSync(store.quarantineDir)).toHaveLength(1);
    expect(errorCode(() => store.readBytes(oid))).toBe('EOBJECTMISSING');
  });

  it('copyOutVerified refuses to produce a file from a tampered object', () => {
    const oid = store.putBytes(bytes(10_000, 'c'));
    const out = path.join(dir, 'out.bin');
    store.copyOutVerified(oid, out, 0o644);
    expect(fs.readFileSync(out).equals(bytes(10_000, 'c'))).toBe(true);
    fs.chmodSync(store.pathOf(oid), 0o644);
    const damaged = fs.readFileSync(store.pathOf(oid));
    damaged[9_999] ^= 1;
    fs.writeFileSync(store.pathOf(oid), damaged);
    const out2 = path.join(dir, 'out2.bin');
    expect(errorCode(() => store.copyOutVerified(oid, out2, 0o644))).toBe('EOBJECTCORRUPT');
    expect(fs.existsSync(out2)).toBe(false);
  });

  it('answers presence for few and for many oids the same way', async () => {
    const present = Array.from({ length: 50 }, (_, i) => store.putBytes(Buffer.from(`obj${i}`)));
    const h = (s: string) => `b3:${Buffer.from(s).toString('hex').padEnd(64, '0').slice(0, 64)}`;
    const absent = Array.from({ length: 3000 }, (_, i) => h(`absent${i}`));
    expect(store.missing([...present, absent[0]!])).toEqual(new Set([absent[0]]));
    const many = store.missing([...present, ...absent]);
    expect(many.size).toBe(3000);
    for (const oid of present) expect(many.has(oid)).toBe(false);
    // Another process's view: nothing stored by it, so the many are answered by listing folders.
    const other = new ObjectStore(path.join(dir, 'cache'), await loadHasher());
    const listed = other.missing([...absent, ...present]);
    expect(listed).toEqual(new Set(absent));
    expect([...listed]).toEqual(absent); // in the order asked for
    // Not an oid's name (no hex folder): missing, whatever is listed.
    const notHex = `b3:zz${'0'.repeat(62)}`;
    expect([...other.missing([...present, notHex, ...absent])].slice(0, 2)).toEqual([notHex, absent[0]]);
    fs.chmodSync(path.dirname(other.pathOf(present[7]!)), 0o755);
    fs.rmSync(other.pathOf(present[7]!));
    expect(other.missing([...present, ...absent]).has(present[7]!)).toBe(true);
  });

  it('imports a small file through a temp file in its fan-out folder: no temp left in either place', async () => {
    const data = bytes(3000, 'small');
    fs.writeFileSync(path.join(dir, 'small.bin'), data);
    let progressed = 0;
    const res = store.importFile(path.join(dir, 'small.bin'), (n) => (progressed += n));
    expect(res).toEqual({ oid: hashBytes(await loadHasher(), data), size: data.length });
    expect(progressed).toBe(data.length);
    expect(fs.readFileSync(store.pathOf(res.oid)).equals(data)).toBe(true);
    expect(fs.statSync(store.pathOf(res.oid)).mode & 0o777).toBe(0o444);
    expect(fs.readdirSync(path.dirname(store.pathOf(res.oid)))).toEqual([path.basename(store.pathOf(res.oid))]);
    expect(fs.readdirSync(store.tmpDir)).toEqual([]);
    // An empty file is small too.
    fs.writeFileSync(path.join(dir, 'empty.bin'), '');
    expect(store.importFile(path.join(dir, 'empty.bin'))).toEqual({ oid: hashBytes(await loadHasher(), Buffer.alloc(0)), size: 0 });
  });

  it('imports what the file holds whatever size the caller expected: right, smaller, larger, or past the small-file limit', async () => {
    const newHasher = await loadHasher();
    const cases: [number, number][] = [[3000, 3000], [3000, 2000], [3000, 4000], [3000, 0], [0, 10], [2 << 20, 3000], [3000, 2 << 20]];
    for (const [actual, expected] of cases) {
      const data = bytes(actual, `sized ${actual}`);
      fs.writeFileSync(path.join(dir, 'sized.bin'), data);
      let progressed = 0;
      const res = store.importFile(path.join(dir, 'sized.bin'), (n) => (progressed += n), expected);
      expect(res, `${actual} bytes, ${expected} expected`).toEqual({ oid: hashBytes(newHasher, data), size: actual });
      expect(progressed).toBe(actual);
      expect(fs.readFileSync(store.pathOf(res.oid)).equals(data)).toBe(true);
    }
  });

  it('sweeps the temp files a killed writer left in the fan-out folders only when asked, and never an object', () => {
    const oid = store.putBytes(Buffer.from('an old object'));
    const fanout = path.dirname(store.pathOf(oid));
    const past = new Date(Date.now() - 2 * 3600_000);
    fs.utimesSync(store.pathOf(oid), past, past);
    const orphan = path.join(fanout, '999999999-0a1b2c-7'); // no such pid
    const old = path.join(fanout, `${process.pid}-0a1b2c-8`); // a live pid, but older than an hour
    const live = path.join(fanout, `${process.pid}-0a1b2c-9`);
    for (const f of [orphan, old, live]) fs.writeFileSync(f, 'partial');
    fs.utimesSync(old, past, past);
    expect(store.sweepTemp()).toBe(0);
    expect(store.sweepTemp(undefined, { fanout: true })).toBe(2);
    expect(fs.readdirSync(fanout).sort()).toEqual([path.basename(store.pathOf(oid)), path.basename(live)].sort());
    expect([...store.list()]).toEqual([oid]);
  });

  it('writes small objects behind on a second thread: each is there as soon as the store is asked, all when the stretch ends', async () => {
    const h = await loadHasher();
    const datas = Array.from({ length: 700 }, (_, i) => bytes(100 + ((i * 37) % 4000), `behind${i}`));
    datas.forEach((d, i) => fs.writeFileSync(path.join(dir, `s${i}`), d));
    const oids = store.writeBehindDuring(() =>
      datas.map((_, i) => {
        const { oid } = store.importFile(path.join(dir, `s${i}`));
        // Asked right away, the store answers for the object just put (its write is waited for).
        if (i % 100 === 99) expect(store.has(oid)).toBe(true);
        return oid;
      }),
    );
    expect(oids).toEqual(datas.map((d) => hashBytes(h, d)));
    for (const [i, oid] of oids.entries()) {
      expect(fs.readFileSync(store.pathOf(oid)).equals(datas[i]!)).toBe(true);
      expect(fs.statSync(store.pathOf(oid)).mode & 0o777).toBe(0o444);
    }
    // No temp file is left in any fan-out folder: only objects.
    expect([...store.list()].length).toBe(new Set(oids).size);
    const names = fs.readdirSync(store.objectsDir).flatMap((fan) => fs.readdirSync(path.join(store.objectsDir, fan)));
    expect(names.filter((n) => !/^[0-9a-f]{62}$/.test(n))).toEqual([]);
  });

  it('reports a write that failed on the second thread when the stretch ends, as the same errno error', async () => {
    const h = await loadHasher();
    const datas = Array.from({ length: 400 }, (_, i) => bytes(2000, `fails${i}`));
    datas.forEach((d, i) => fs.writeFileSync(path.join(dir, `f${i}`), d));
    // The last object's name is taken by a folder that is not empty: its rename fails.
    const blocked = store.pathOf(hashBytes(h, datas[399]!));
    fs.mkdirSync(blocked, { recursive: true });
    fs.writeFileSync(path.join(blocked, 'x'), 'x');
    let thrown: unknown;
    try {
      store.writeBehindDuring(() => datas.forEach((_, i) => store.importFile(path.join(dir, `f${i}`))));
    } catch (err) {
      thrown = err;
    }
    expect((thrown as NodeJS.ErrnoException | undefined)?.code).toMatch(/^(EISDIR|ENOTEMPTY|EEXIST)$/);
    // What came before it is stored, and no temp file is left beside the folder in the way.
    expect(store.has(hashBytes(h, datas[398]!))).toBe(true);
    expect(fs.readdirSync(path.dirname(blocked)).filter((n) => !/^[0-9a-f]{62}$/.test(n))).toEqual([]);
  });

  it('sweeps only old temp files', () => {
    const old = path.join(store.tmpDir, 'old');
    const fresh = path.join(store.tmpDir, 'fresh');
    fs.writeFileSync(old, 'x');
    fs.writeFileSync(fresh, 'y');
    const past = new Date(Date.now() - 2 * 3600_000);
    fs.utimesSync(old, past, past);
    expect(store.sweepTemp()).toBe(1);
    expect(fs.readdirSync(store.tmpDir)).toEqual(['fresh']);
  });
});
