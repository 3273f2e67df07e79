import { rejectionCode } from '../helpers/errors.js';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import crypto from 'node:crypto';
import { createRequire } from 'node:module';
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { hidesSdkNodeWarning, S3Remote, type S3RemoteOptions } from '../../src/remote/s3-remote.js';
import { openRemote } from '../../src/remote/open-remote.js';
import { E, MlxError } from '../../src/util/errors.js';
import { startS3Server, closedPort, type S3TestServer } from '../helpers/s3-server.js';

let server: S3TestServer;
let tmp: string;

function remoteFor(opts: Partial<S3RemoteOptions> = {}): S3Remote {
  return new S3Remote({
    bucket: server.bucket,
    prefix: 'repo/a',
    endpoint: server.endpoint,
    accessKeyId: server.accessKeyId,
    secretAccessKey: server.secretAccessKey,
    ...opts,
  });
}

function writeRandom(name: string, size: number): { file: string; bytes: Buffer } {
  const bytes = crypto.randomBytes(size);
  const file = path.join(tmp, name);
  fs.writeFileSync(file, bytes);
  return { file, bytes };
}

beforeAll(async () => {
  server = await startS3Server();
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'mlx-s3-test-'));
});

afterAll(async () => {
  await server?.stop();
  fs.rmSync(tmp, { recursive: true, force: true });
});

describe('S3Remote against s3rver', () => {
  it('round-trips a Buffer and reports it with head', async () => {
    const remote = remoteFor();
    const body = Buffer.from('hello, remote\n');
    await remote.put('small/hello.txt', body);
    expect(await remote.head('small/hello.txt')).toEqual({ key: 'small/hello.txt', size: body.length });
    expect((await remote.get('small/hello.txt')).equals(body)).toBe(true);
    // The remote's prefix is where the object really is.
    expect(fs.existsSync(path.join(server.dir, server.bucket, 'repo/a/small/hello.txt._S3rver_object'))).toBe(true);
  });

  it('round-trips a 3,000,000-byte file byte for byte (no aws-chunked framing stored)', async () => {
    const remote = remoteFor();
    const { file, bytes } = writeRandom('three-mb.bin', 3_000_000);
    await remote.put('big/three-mb.bin', { file });
    expect((await remote.head('big/three-mb.bin'))?.size).toBe(3_000_000);
    const got = await remote.get('big/three-mb.bin');
    expect(got.length).toBe(3_000_000);
    expect(got.equals(bytes)).toBe(true);
    const dest = path.join(tmp, 'three-mb.out');
    expect(await remote.getToFile('big/three-mb.bin', dest)).toBe(3_000_000);
    expect(fs.readFileSync(dest).equals(bytes)).toBe(true);
    // getToFile wants a new file.
    expect(await rejectionCode(remote.getToFile('big/three-mb.bin', dest))).toBe(E.BAD_STATE);
  });

  it('lists every key under a prefix across pages', async () => {
    const remote = remoteFor({ pageSize: 5 });
    const keys = Array.from({ length: 13 }, (_, i) => `listing/k${String(i).padStart(2, '0')}`);
    await Promise.all(keys.map((k, i) => remote.put(k, Buffer.alloc(i, 1))));
    // Not 'listing-other/': s3rver walks folders in path order, so across pages it drops keys that sort
    // before '/' ('-' does); real S3 lists in key order.
    await remote.put('listing2/x', Buffer.from('x'));
    // A neighbouring remote prefix must not leak into this remote's listing.
    await remoteFor({ prefix: 'repo/ab' }).put('listing/k00', Buffer.from('neighbour'));

    const listed = await remote.list('listing/');
    expect(listed.map((o) => o.key).sort()).toEqual(keys);
    expect(listed.find((o) => o.key === 'listing/k07')?.size).toBe(7);
    expect((await remote.list('listing')).length).toBe(14);
    expect((await remote.list('listing/k1')).map((o) => o.key).sort()).toEqual(['listing/k10', 'listing/k11', 'listing/k12']);
    expect(await remote.list('nothing-here/')).toEqual([]);
    const all = await remote.list('');
    expect(all.some((o) => o.key === 'small/hello.txt')).toBe(true);
    expect(all.every((o) => !o.key.startsWith('repo/'))).toBe(true);
  });

  it('uploads a file above the multipart threshold in parts, byte for byte', async () => {
    const remote = remoteFor({ multipartThreshold: 6 * 1024 * 1024, partSize: 5 * 1024 * 1024 });
    const { file, bytes } = writeRandom('multipart.bin', 12 * 1024 * 1024 + 12345);
    const before = server.requests.length;
    await remote.put('big/multipart.bin', { file });
    const sent = server.requests.slice(before);
    expect(sent.filter((r) => r.startsWith('PUT ') && r.includes('partNumber=')).length).toBe(3);
    expect(sent.filter((r) => r.startsWith('POST ') && r.includes('uploadId=')).length).toBe(1);
    expect((await remote.head('big/multipart.bin'))?.size).toBe(bytes.length);
    expect((await remote.get('big/multipart.bin')).equals(bytes)).toBe(true);
    // No upload left behind (s3rver keeps in-progress uploads in <bucket>/._S3rver_uploads/<id>).
    const uploads = path.join(server.dir, server.bucket, '._S3rver_uploads');
    expect(fs.existsSync(uploads) ? fs.readdirSync(uploads) : []).toEqual([]);
  });

  it('catches a server that stores aws-chunked framing (checksums=when_supported) as E.REMOTE_CORRUPT', async () => {
    const remote = remoteFor({ checksums: 'when_supported' });
    const { file } = writeRandom('chunked.bin', 300_000);
    // Buffers are sent plainly even then; only a streamed body gets aws-chunked.
    await remote.put('chunked/buffer.bin', fs.readFileSync(file));
    const err = await remote.put('chunked/stream.bin', { file }).catch((e: unknown) => e as MlxError);
    expect(err).toBeInstanceOf(MlxError);
    expect(err!.code).toBe(E.REMOTE_CORRUPT);
    expect(err!.message).toMatch(/stored 30\d{4} bytes, 300000 were sent/);
    // The wrong-sized object is not left behind under its name.
    expect(await remote.head('chunked/stream.bin')).toBeUndefined();
  });

  it('fails fast with E.REMOTE_UNREACHABLE when nothing listens', async () => {
    const port = await closedPort();
    const remote = remoteFor({ endpoint: `http://127.0.0.1:${port}` });
    expect(await rejectionCode(remote.check())).toBe(E.REMOTE_UNREACHABLE);
    expect(await rejectionCode(remote.put('x', Buffer.from('x')))).toBe(E.REMOTE_UNREACHABLE);
    expect(await rejectionCode(remote.head('x'))).toBe(E.REMOTE_UNREACHABLE);
  });

  it('gives up on a server that accepts connections but never answers', async () => {
    const net = await import('node:net');
    const sockets: import('node:net').Socket[] = [];
    const silent = net.createServer((s) => sockets.push(s));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const { port } = silent.address() as import('node:net').AddressInfo;
    try {
      const remote = remoteFor({ endpoint: `http://127.0.0.1:${port}`, socketTimeoutMs: 300, maxAttempts: 2 });
      const err = await remote.check().catch((e: unknown) => e as MlxError);
      expect(err).toBeInstanceOf(MlxError);
      expect(err!.code).toBe(E.REMOTE_UNREACHABLE);
      expect(err!.message).toContain('no answer in time');
      // Each attempt waited for its own socket's timeout, then the SDK gave up.
      expect(sockets.length).toBe(2);
    } finally {
      for (const s of sockets) s.destroy();
      await new Promise((resolve) => silent.close(resolve));
    }
  });

  it('rejects an unknown access key with E.REMOTE_AUTH', async () => {
    const remote = remoteFor({ accessKeyId: 'NOT-A-KEY', secretAccessKey: 'whatever' });
    expect(await rejectionCode(remote.check())).toBe(E.REMOTE_AUTH);
    expect(await rejectionCode(remote.put('auth/x', Buffer.from('x')))).toBe(E.REMOTE_AUTH);
    expect(await rejectionCode(remote.put('auth/y', { file: writeRandom('auth.bin', 3_000_000).file }))).toBe(E.REMOTE_AUTH);
    expect(await rejectionCode(remote.get('small/hello.txt'))).toBe(E.REMOTE_AUTH);
    expect(await rejectionCode(remote.head('small/hello.txt'))).toBe(E.REMOTE_AUTH);
    expect(await rejectionCode(remote.list(''))).toBe(E.REMOTE_AUTH);
  });

  it('an upload the server cuts off is explained by what the server says to a cheap request', async () => {
    // A server may refuse a PUT before reading its body and close the connection: the client, still
    // sending, sees a reset instead of the answer. This one always does, and answers a listing with 403.
    const net = await import('node:net');
    const denied = '<?xml version="1.0" encoding="UTF-8"?><Error><Code>InvalidAccessKeyId</Code><Message>no such key</Message></Error>';
    const refusing = net.createServer((socket) => {
      socket.once('data', (head) => {
        if (head.toString('latin1').startsWith('PUT ')) return void socket.resetAndDestroy();
        socket.end(`HTTP/1.1 403 Forbidden\r\nContent-Type: application/xml\r\nContent-Length: ${denied.length}\r\nConnection: close\r\n\r\n${denied}`);
      });
      socket.on('error', () => undefined);
    });
    await new Promise<void>((resolve) => refusing.listen(0, '127.0.0.1', resolve));
    const { port } = refusing.address() as import('node:net').AddressInfo;
    try {
      const remote = remoteFor({ endpoint: `http://127.0.0.1:${port}`, maxAttempts: 1 });
      expect(await rejectionCode(remote.put('auth/z', Buffer.alloc(64 * 1024)))).toBe(E.REMOTE_AUTH);
      expect(await rejectionCode(remote.put('auth/w', { file: writeRandom('reset.bin', 3_000_000).file }))).toBe(E.REMOTE_AUTH);
    } finally {
      await new Promise((resolve) => refusing.close(resolve));
    }
  });

  it('signs an upload from shared memory with the SHA-256 of exactly the bytes it sends', async () => {
    const http = await import('node:http');
    const seen: { hash?: string; body: Buffer }[] = [];
    let stored = 0;
    const recorder = http.createServer((req, res) => {
      const parts: Buffer[] = [];
      req.on('data', (d: Buffer) => parts.push(d));
      req.on('end', () => {
        if (req.method === 'PUT') {
          const body = Buffer.concat(parts);
          seen.push({ hash: req.headers['x-amz-content-sha256'] as string | undefined, body });
          stored = body.length;
        }
        res.writeHead(200, { 'Content-Length': req.method === 'HEAD' ? stored : 0 });
        res.end();
      });
    });
    await new Promise<void>((resolve) => recorder.listen(0, '127.0.0.1', resolve));
    const { port } = recorder.address() as import('node:net').AddressInfo;
    try {
      const { sharedBuffer } = await import('../../src/hash/sha256-thread.js');
      const memory = sharedBuffer(1 << 20);
      crypto.randomFillSync(memory);
      const remote = remoteFor({ endpoint: `http://127.0.0.1:${port}` });
      await remote.put('packs/a', memory.subarray(100, 300_100));
      await remote.put('packs/b', Buffer.from('not shared'));
      expect(seen.map((s) => s.body.length)).toEqual([300_000, 10]);
      for (const { hash, body } of seen) expect(hash).toBe(crypto.createHash('sha256').update(body).digest('hex'));
    } finally {
      await new Promise((resolve) => recorder.close(resolve));
    }
  });

  it('finds credentials through the SDK default chain: environment and profile', async () => {
    const names = ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_SHARED_CREDENTIALS_FILE', 'AWS_CONFIG_FILE', 'AWS_PROFILE'];
    const saved = Object.fromEntries(names.map((n) => [n, process.env[n]]));
    const credFile = path.join(tmp, 'aws-credentials');
    fs.writeFileSync(credFile, `[mlx-good]\naws_access_key_id = ${server.accessKeyId}\naws_secret_access_key = x\n[mlx-bad]\naws_access_key_id = NOT-A-KEY\naws_secret_access_key = x\n`);
    try {
      for (const n of names) delete process.env[n];
      process.env.AWS_SHARED_CREDENTIALS_FILE = credFile;
      process.env.AWS_CONFIG_FILE = path.join(tmp, 'aws-config-none');
      const noCreds = { accessKeyId: undefined, secretAccessKey: undefined };
      await expect(remoteFor({ ...noCreds, profile: 'mlx-good' }).check()).resolves.toBeUndefined();
      expect(await rejectionCode(remoteFor({ ...noCreds, profile: 'mlx-bad' }).check())).toBe(E.REMOTE_AUTH);
      process.env.AWS_ACCESS_KEY_ID = server.accessKeyId;
      process.env.AWS_SECRET_ACCESS_KEY = server.secretAccessKey;
      await expect(remoteFor(noCreds).check()).resolves.toBeUndefined();
    } finally {
      for (const n of names) {
        if (saved[n] === undefined) delete process.env[n];
        else process.env[n] = saved[n];
      }
    }
  });

  it('documents that s3rver does not verify SigV4 secrets', async () => {
    // If this starts failing, s3rver learnt to check signatures: test the wrong secret as E.REMOTE_AUTH then.
    const remote = remoteFor({ secretAccessKey: 'wrong-secret' });
    await expect(remote.check()).resolves.toBeUndefined();
  });

  it('reports a missing bucket as E.REMOTE_NO_BUCKET', async () => {
    const remote = remoteFor({ bucket: 'no-such-bucket' });
    expect(await rejectionCode(remote.check())).toBe(E.REMOTE_NO_BUCKET);
    expect(await rejectionCode(remote.put('x', Buffer.from('x')))).toBe(E.REMOTE_NO_BUCKET);
    const { file } = writeRandom('to-no-bucket.bin', 3_000_000);
    expect(await rejectionCode(remote.put('x', { file }))).toBe(E.REMOTE_NO_BUCKET);
    expect(await rejectionCode(remoteFor({ bucket: 'no-such-bucket', multipartThreshold: 1024 * 1024, partSize: 5 * 1024 * 1024 }).put('x', { file }))).toBe(E.REMOTE_NO_BUCKET);
    expect(await rejectionCode(remote.get('x'))).toBe(E.REMOTE_NO_BUCKET);
    expect(await rejectionCode(remote.getToFile('x', path.join(tmp, 'no-bucket.out')))).toBe(E.REMOTE_NO_BUCKET);
    expect(await remote.head('x')).toBeUndefined();
    expect(await rejectionCode(remote.list(''))).toBe(E.REMOTE_NO_BUCKET);
  });

  it('passes check() on a good remote', async () => {
    await expect(remoteFor().check()).resolves.toBeUndefined();
  });

  it('is what openRemote builds for s3:// urls, with options as a config file writes them', async () => {
    const remote = await openRemote(
      `s3://${server.bucket}/via/open/`,
      { endpoint: server.endpoint, access_key_id: server.accessKeyId, 'secret-access-key': server.secretAccessKey, page_size: '2', force_path_style: 'true' },
      tmp,
    );
    expect(remote).toBeInstanceOf(S3Remote);
    expect((remote as S3Remote).prefix).toBe('via/open');
    await remote.put('a', Buffer.from('A'));
    await remote.put('b', Buffer.from('B'));
    await remote.put('c', Buffer.from('C'));
    expect((await remote.list('')).map((o) => o.key).sort()).toEqual(['a', 'b', 'c']);
    expect(fs.existsSync(path.join(server.dir, server.bucket, 'via/open/a._S3rver_object'))).toBe(true);
  });

  it('switches the SDK\'s Node version warning off only on a Node older than the SDK supports', () => {
    expect(['v20.11.0', 'v20.20.2', 'v21.7.3', 'v22.0.0', 'v22.15.0', 'v24.22.3'].map((v) => hidesSdkNodeWarning(v))).toEqual([true, true, true, false, false, false]);
  });

  it('lets no NodeVersionSupportWarning through: hidden on Node 20, where the SDK gives it; not given on 22 and later', async () => {
    // The SDK warns once per process; reset its flag so this test does not depend on test order.
    const coreClient = createRequire(import.meta.url)('@aws-sdk/core/client') as { state: { warningEmitted: boolean } };
    const warnings: string[] = [];
    const onWarning = (w: Error) => warnings.push(`${w.name}: ${w.message}`);
    const saved = process.listeners('warning');
    process.removeAllListeners('warning');
    process.on('warning', onWarning);
    try {
      coreClient.state.warningEmitted = false;
      await remoteFor().head('small/hello.txt');
      await new Promise((resolve) => setImmediate(resolve));
      expect(warnings.filter((w) => w.includes('NodeVersionSupportWarning'))).toEqual([]);
      expect(process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED).toBeUndefined();
      // A bare client shows what there is to hide on this Node: the warning on Node 20, nothing on 22 and later.
      coreClient.state.warningEmitted = false;
      const { S3Client } = await import('@aws-sdk/client-s3');
      new S3Client({ region: 'us-east-1' }).destroy();
      await new Promise((resolve) => setImmediate(resolve));
      expect(warnings.some((w) => w.includes('NodeVersionSupportWarning'))).toBe(hidesSdkNodeWarning());
    } finally {
      process.removeListener('warning', onWarning);
      for (const l of saved) process.on('warning', l);
    }
  });
});
