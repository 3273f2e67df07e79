import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import crypto from 'node:crypto';
import S3rver from 's3rver';

/**
 * A real S3-compatible server (s3rver) running in this process on 127.0.0.1 with a free port and a
 * temporary directory, with one bucket created.
 *
 * s3rver knows one access key, `S3RVER` (secret `S3RVER`), and rejects any other key id with
 * InvalidAccessKeyId; it does not verify SigV4 signatures, so a wrong secret goes unnoticed.
 */
export interface S3TestServer {
  endpoint: string;
  bucket: string;
  /** Where s3rver keeps its files; objects are at `<dir>/<bucket>/<key>._S3rver_object`. */
  dir: string;
  accessKeyId: string;
  secretAccessKey: string;
  /** Every request the server received, as `METHOD /path?query`, in arrival order. */
  requests: string[];
  /** The headers of each of `requests`, same order (in-process server only: empty for a child process). */
  requestHeaders: import('node:http').IncomingHttpHeaders[];
  stop(): Promise<void>;
}

export const S3RVER_KEY = 'S3RVER';

/**
 * s3rver encrypts ListObjectsV2 continuation tokens with single DES, which OpenSSL 3 (Node >= 17) no
 * longer offers: every truncated ListObjectsV2 page fails with a 500 InternalError. Three-key DES with
 * three equal keys is single DES, so 'des' is served by 'des-ede3-cbc'. Only calls that would throw
 * anyway are changed.
 */
function patchDesForS3rver(): void {
  const c = crypto as unknown as Record<string, unknown> & { __mlxDesPatched?: boolean };
  if (c.__mlxDesPatched) return;
  for (const name of ['createCipheriv', 'createDecipheriv'] as const) {
    const original = crypto[name] as (alg: string, key: Buffer, iv: Buffer | null) => unknown;
    c[name] = (alg: string, key: Buffer, iv: Buffer | null, ...rest: unknown[]) =>
      alg === 'des' && key.length === 8
        ? original('des-ede3-cbc', Buffer.concat([key, key, key]), iv)
        : (original as (...a: unknown[]) => unknown)(alg, key, iv, ...rest);
  }
  c.__mlxDesPatched = true;
}

export async function startS3Server(opts: { bucket?: string } = {}): Promise<S3TestServer> {
  const bucket = opts.bucket ?? 'mlx-test';
  patchDesForS3rver();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mlx-s3rver-'));
  const server = new S3rver({
    address: '127.0.0.1',
    port: 0,
    silent: true,
    directory: dir,
    vhostBuckets: false,
    configureBuckets: [{ name: bucket, configs: [] }],
  });
  const address = await server.run();
  const requests: string[] = [];
  const requestHeaders: import('node:http').IncomingHttpHeaders[] = [];
  // s3rver keeps its http.Server on `httpServer` (not in its typings).
  (server as unknown as { httpServer: import('node:http').Server }).httpServer.on('request', (req: import('node:http').IncomingMessage) => {
    requests.push(`${req.method} ${req.url}`);
    requestHeaders.push(req.headers);
  });
  return {
    requests,
    requestHeaders,
    endpoint: `http://127.0.0.1:${address.port}`,
    bucket,
    dir,
    accessKeyId: S3RVER_KEY,
    secretAccessKey: S3RVER_KEY,
    async stop() {
      await server.close();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A TCP port on 127.0.0.1 nothing listens on (bound, then released). */
export async function closedPort(): Promise<number> {
  const net = await import('node:net');
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as import('node:net').AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

/**
 * The same server in a child process. Use this when the test drives the CLI with spawnSync, which
 * blocks this process's event loop and so would starve an in-process server.
 */
export async function startS3ServerProcess(opts: { bucket?: string } = {}): Promise<S3TestServer> {
  const { spawn } = await import('node:child_process');
  const bucket = opts.bucket ?? 'mlx-test';
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mlx-s3rver-'));
  const script = path.join(path.dirname(new URL(import.meta.url).pathname), 's3rver-process.mjs');
  const child = spawn(process.execPath, [script, dir, bucket], { stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise<number>((resolve, reject) => {
    let buf = '';
    child.stdout!.on('data', (d) => {
      buf += d;
      const line = buf.split('\n')[0];
      if (buf.includes('\n')) resolve((JSON.parse(line!) as { port: number }).port);
    });
    child.once('exit', (code) => reject(new Error(`s3rver exited with ${code}`)));
  });
  return {
    requests: [],
    requestHeaders: [],
    endpoint: `http://127.0.0.1:${port}`,
    bucket,
    dir,
    accessKeyId: S3RVER_KEY,
    secretAccessKey: S3RVER_KEY,
    async stop() {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
